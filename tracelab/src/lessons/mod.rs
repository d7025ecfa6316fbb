//! The checks of each lesson, one module a lesson (`tracelab::lesson04`...), so that a check cell
//! is one line that names what it checks, while the logic, the messages in both languages and
//! their tests live here.
//!
//! Each exercise is an [`Exercise`] constant beside the function that checks it; [`EXERCISES`]
//! lists them all, and a test ties each to its notebook (the cell, the check cell's points, the
//! section its first hint links to) in every language.

pub mod lesson00;
pub mod lesson01;
#[cfg(feature = "jaeger")]
pub mod lesson02;
#[cfg(feature = "serve")]
pub mod lesson03;
pub mod lesson04;
pub mod lesson05;
pub mod lesson06;
#[cfg(feature = "logs")]
pub mod lesson07;
#[cfg(feature = "serve")]
pub mod lesson08;

use opentelemetry_sdk::trace::InMemorySpanExporter;

use crate::exercise::Exercise;
use crate::model::TraceSpan;

/// Every exercise of the course (of the lessons whose features are on: all of them with
/// `--all-features`, as the tests run).
pub const EXERCISES: &[&Exercise] = &[
    &lesson00::WORKERS,
    &lesson00::PORT_FROM,
    &lesson00::RETRIES,
    &lesson00::GUARD,
    &lesson00::SLOWEST,
    &lesson01::THIRD_SPAN,
    &lesson01::SIBLINGS,
    &lesson01::READ_THE_IDS,
    #[cfg(feature = "jaeger")]
    &lesson02::PIPELINE,
    #[cfg(feature = "jaeger")]
    &lesson02::DOWNLOADS,
    #[cfg(feature = "serve")]
    &lesson03::USER_AGENT,
    #[cfg(feature = "serve")]
    &lesson03::TEAM_ROUTE,
    &lesson04::PROPAGATION,
    &lesson04::BAGGAGE,
    &lesson05::ERRORS,
    &lesson05::BATCH,
    &lesson05::SAMPLER,
    &lesson06::HOLDS_UP,
    &lesson06::STAIRCASE,
    &lesson06::PREDICTED_WAIT,
    &lesson06::QUOTES_TOGETHER,
    &lesson06::LOCK,
    #[cfg(feature = "logs")]
    &lesson07::INSTRUMENTED,
    #[cfg(feature = "logs")]
    &lesson07::QUEUE,
    #[cfg(feature = "logs")]
    &lesson07::RECEIVING,
    #[cfg(feature = "serve")]
    &lesson08::FINDINGS,
    #[cfg(feature = "serve")]
    &lesson08::REPAIRS,
];

/// The spans `memory` holds, made by the service `service`.
pub(crate) fn finished(memory: &InMemorySpanExporter, service: &str) -> Vec<TraceSpan> {
    TraceSpan::all_from_sdk(&memory.get_finished_spans().unwrap_or_default(), service)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exercise::heading_anchor;
    use crate::lang::Lang;
    use std::path::PathBuf;

    fn notebook(lang: Lang, lesson: &str) -> serde_json::Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../notebooks/solved")
            .join(lang.tag())
            .join(format!("{lesson}.ipynb"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    fn source(cell: &serde_json::Value) -> String {
        match &cell["source"] {
            serde_json::Value::Array(lines) => {
                lines.iter().filter_map(|line| line.as_str()).collect()
            }
            other => other.as_str().unwrap_or_default().to_owned(),
        }
    }

    #[test]
    fn every_exercise_is_in_its_notebook_in_every_language_with_its_points_and_section() {
        for exercise in EXERCISES {
            for lang in Lang::ALL {
                let notebook = notebook(lang, exercise.lesson);
                let cells = notebook["cells"].as_array().unwrap();
                let grade_id = |cell: &serde_json::Value| {
                    cell["metadata"]["nbgrader"]["grade_id"]
                        .as_str()
                        .map(str::to_owned)
                };
                let where_ = format!("{} ({}) {}", exercise.lesson, lang.tag(), exercise.id);
                assert!(
                    cells
                        .iter()
                        .any(|cell| grade_id(cell).as_deref() == Some(exercise.id)),
                    "{where_}: no exercise cell"
                );
                let check = cells
                    .iter()
                    .find(|cell| {
                        grade_id(cell).as_deref() == Some(&format!("{}-check", exercise.id))
                    })
                    .unwrap_or_else(|| panic!("{where_}: no check cell"));
                assert_eq!(
                    check["metadata"]["nbgrader"]["points"].as_u64(),
                    Some(u64::from(exercise.points)),
                    "{where_}: the check cell's points"
                );
                let headings: Vec<String> = cells
                    .iter()
                    .filter(|cell| cell["cell_type"] == "markdown")
                    .flat_map(|cell| {
                        source(cell)
                            .lines()
                            .filter(|line| line.starts_with('#'))
                            .filter_map(|line| line.trim_start_matches('#').strip_prefix(' '))
                            .map(heading_anchor)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let anchor = heading_anchor(exercise.section.in_language(lang));
                assert!(
                    headings.contains(&anchor),
                    "{where_}: the hint links to the section {anchor:?}, which is not a heading of the lesson"
                );
            }
        }
    }
}
