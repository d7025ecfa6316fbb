//! The building blocks of the lessons' checks: one check each (a span by name, a child, a parent,
//! an attribute...), whose failure says what is wrong *in the trace*, and the [`Checklist`] that
//! collects them into a report. The checks of each lesson are put together in that lesson's
//! module (`lesson04`...), so that a check cell is one line.
//!
//! A checklist records each check, and [`Checklist::finish`] shows one ✔ or ✘ line per check.
//! What a failure does depends on the kind of checklist:
//!
//! - [`Checklist::new`], a notebook's closing check of the code it provides: a failure panics,
//!   like `assert!`, so that "Run All" stops there and the CI run of the notebook fails.
//! - [`Checklist::exercise`], the check of a "your turn" exercise the student writes: a failure
//!   shows the exercise's next hint in red ([`crate::exercise`]) and does not panic, so the notebook's variables and running
//!   servers live on: under evcxr's `:preserve_vars_on_panic 0` (which the notebooks set so that
//!   a real bug stops "Run All") a panic would drop them all, and every later cell would fail too.
//!
//! Either way the cell's value carries its score for nbgrader (see [`Checklist::finish`]): not a
//! line on standard error, which nbgrader would also count as a failure, because evcxr forwards
//! standard error on a thread of its own and a line can reach the next cell or none.

use std::fmt::Write as _;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};

use crate::exercise::{Exercise, HINTS};
use crate::model::TraceSpan;
use crate::tr;

/// One check that did not hold, in words a student can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckFailed(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, CheckFailed> {
    Err(CheckFailed(message.into()))
}

/// The span named `name`; there must be exactly one.
pub fn find<'a>(spans: &'a [TraceSpan], name: &str) -> Result<&'a TraceSpan, CheckFailed> {
    let found: Vec<&TraceSpan> = spans.iter().filter(|span| span.name == name).collect();
    match found.as_slice() {
        [span] => Ok(span),
        [] => fail(no_span_named(spans, name)),
        many => fail(tr!(
            en: format!(
                "{} spans are named {name:?}, one was expected. Re-running a cell creates its \
                 spans again: run the notebook from the top (Kernel > Restart Kernel and Run All \
                 Cells).",
                many.len()
            ),
            pt: format!(
                "{} spans se chamam {name:?}, e era esperado um só. Executar uma célula de novo \
                 cria os spans dela de novo: execute o notebook desde o início (Kernel > \
                 Reiniciar o kernel e executar tudo…).",
                many.len()
            ),
        )),
    }
}

/// The span named `name` that started last: what a cell made the last time it ran (a cell run
/// twice makes its spans twice).
pub fn latest<'a>(spans: &'a [TraceSpan], name: &str) -> Result<&'a TraceSpan, CheckFailed> {
    spans
        .iter()
        .filter(|span| span.name == name)
        .max_by_key(|span| span.start_ns)
        .ok_or_else(|| CheckFailed(no_span_named(spans, name)))
}

fn no_span_named(spans: &[TraceSpan], name: &str) -> String {
    tr!(
        en: format!(
            "no span named {name:?} was captured (captured: {}). Did the cell that creates it \
             run, and does its name match exactly?",
            names(spans)
        ),
        pt: format!(
            "nenhum span chamado {name:?} foi capturado (capturados: {}). A célula que o cria foi \
             executada, e o nome confere exatamente?",
            names(spans)
        ),
    )
}

/// The latest span named `name` whose parent is `parent`.
pub fn child<'a>(
    spans: &'a [TraceSpan],
    parent: &TraceSpan,
    name: &str,
) -> Result<&'a TraceSpan, CheckFailed> {
    let is_child = |span: &&TraceSpan| {
        span.name == name
            && span.trace_id == parent.trace_id
            && span.parent_id.as_deref() == Some(parent.span_id.as_str())
    };
    if let Some(found) = spans
        .iter()
        .filter(is_child)
        .max_by_key(|span| span.start_ns)
    {
        return Ok(found);
    }
    let elsewhere = latest(spans, name)?;
    let parent_name = elsewhere
        .parent_id
        .as_deref()
        .and_then(|id| spans.iter().find(|span| span.span_id == id))
        .map(|span| format!("{:?}", span.name));
    let parent_text = format!("{:?}", parent.name);
    fail(match (elsewhere.parent_id.as_deref(), parent_name) {
        (None, _) => root_span(name, &parent_text),
        (Some(id), Some(other)) if other == parent_text => tr!(
            en: format!(
                "{name:?} is inside another {other} span (span id {id}), not the latest one \
                 ({}): run the cells again from the one that makes {other}.",
                parent.span_id
            ),
            pt: format!(
                "{name:?} está dentro de outro span {other} (span id {id}), não do mais recente \
                 ({}): execute as células de novo a partir da que cria {other}.",
                parent.span_id
            ),
        ),
        (Some(_), Some(other)) => tr!(
            en: format!(
                "{name:?} is inside {other}, not directly inside {parent_text}: a grandchild of \
                 {parent_text}, not its child."
            ),
            pt: format!(
                "{name:?} está dentro de {other}, não diretamente dentro de {parent_text}: é \
                 neto de {parent_text}, não filho."
            ),
        ),
        (Some(id), None) => tr!(
            en: format!(
                "{name:?} has the parent span id {id}, which is none of the spans captured, \
                 not {parent_text}'s id {}.",
                parent.span_id
            ),
            pt: format!(
                "{name:?} tem o span id de pai {id}, que não é de nenhum span capturado, não o \
                 id {} de {parent_text}.",
                parent.span_id
            ),
        ),
    })
}

/// `name` is a root span, not inside `parent` (its name as `{:?}` writes it).
fn root_span(name: &str, parent: &str) -> String {
    tr!(
        en: format!(
            "{name:?} is a root span: it has no parent, so it is not inside {parent}: it \
             started a trace of its own."
        ),
        pt: format!(
            "{name:?} é um span raiz: não tem pai, então não está dentro de {parent}: ele \
             começou um trace próprio."
        ),
    )
}

/// Exactly `expected` spans.
pub fn count(spans: &[TraceSpan], expected: usize) -> Result<(), CheckFailed> {
    if spans.len() == expected {
        Ok(())
    } else {
        let (captured, names) = (spans.len(), names(spans));
        fail(if spans.len() < expected {
            tr!(
                en: format!(
                    "{captured} spans were captured, {expected} were expected (captured: \
                     {names}). A span is only exported once it has ended: did every span end \
                     before this check?"
                ),
                pt: format!(
                    "{captured} spans foram capturados, eram esperados {expected} (capturados: \
                     {names}). Um span só é exportado depois de terminar: todos os spans \
                     terminaram antes desta verificação?"
                ),
            )
        } else {
            tr!(
                en: format!(
                    "{captured} spans were captured, {expected} were expected (captured: \
                     {names}). Re-running a cell creates its spans again: run the notebook from \
                     the top."
                ),
                pt: format!(
                    "{captured} spans foram capturados, eram esperados {expected} (capturados: \
                     {names}). Executar uma célula de novo cria os spans dela de novo: execute o \
                     notebook desde o início."
                ),
            )
        })
    }
}

/// `child`'s parent is `parent`, in the same trace.
pub fn parent(child: &TraceSpan, parent: &TraceSpan) -> Result<(), CheckFailed> {
    same_trace(child, parent)?;
    match child.parent_id.as_deref() {
        Some(id) if id == parent.span_id => Ok(()),
        Some(id) => fail(tr!(
            en: format!(
                "{:?} has the parent span id {id}, not {:?}'s id {}: it hangs under another span.",
                child.name, parent.name, parent.span_id
            ),
            pt: format!(
                "{:?} tem o span id de pai {id}, não o id {} de {:?}: ele está pendurado em \
                 outro span.",
                child.name, parent.span_id, parent.name
            ),
        )),
        None => fail(root_span(&child.name, &format!("{:?}", parent.name))),
    }
}

/// `a` and `b` belong to the same trace.
pub fn same_trace(a: &TraceSpan, b: &TraceSpan) -> Result<(), CheckFailed> {
    if a.trace_id == b.trace_id {
        Ok(())
    } else {
        fail(tr!(
            en: format!(
                "{:?} is in trace {} but {:?} is in trace {}: they should share one trace id. A \
                 span joins its parent's trace only when it starts inside the parent's context.",
                a.name, a.trace_id, b.name, b.trace_id
            ),
            pt: format!(
                "{:?} está no trace {}, mas {:?} está no trace {}: deveriam ter o mesmo trace id. \
                 Um span só entra no trace do pai quando começa dentro do contexto do pai.",
                a.name, a.trace_id, b.name, b.trace_id
            ),
        ))
    }
}

/// `spans` form exactly `expected` separate traces.
pub fn trace_count(spans: &[TraceSpan], expected: usize) -> Result<(), CheckFailed> {
    let mut ids: Vec<&str> = spans.iter().map(|span| span.trace_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == expected {
        Ok(())
    } else {
        let (found, ids) = (ids.len(), ids.join(", "));
        fail(tr!(
            en: format!("the spans form {found} trace(s), {expected} expected (trace ids: {ids})."),
            pt: format!("os spans formam {found} trace(s), eram esperados {expected} (trace ids: {ids})."),
        ))
    }
}

/// `span` has the attribute `key` with the value `value` (compared as text).
pub fn attribute(span: &TraceSpan, key: &str, value: &str) -> Result<(), CheckFailed> {
    match span.attributes.iter().find(|(k, _)| k == key) {
        Some((_, found)) if found == value => Ok(()),
        Some((_, found)) => fail(tr!(
            en: format!("{:?} has {key} = {found:?}, expected {value:?}.", span.name),
            pt: format!("{:?} tem {key} = {found:?}, era esperado {value:?}.", span.name),
        )),
        None => {
            let keys = span.attributes.iter().map(|(k, _)| k.as_str());
            let keys = keys.collect::<Vec<_>>().join(", ");
            fail(tr!(
                en: format!("{:?} has no attribute {key:?} (it has: {keys}).", span.name),
                pt: format!("{:?} não tem o atributo {key:?} (tem: {keys}).", span.name),
            ))
        }
    }
}

/// The distinct names among `spans`, in the order they were captured: at most ten of them.
fn names(spans: &[TraceSpan]) -> String {
    const SHOWN: usize = 10;
    let mut distinct: Vec<&str> = Vec::new();
    for span in spans {
        if !distinct.contains(&span.name.as_str()) {
            distinct.push(&span.name);
        }
    }
    if distinct.is_empty() {
        return tr!(en: "none", pt: "nenhum").to_owned();
    }
    let mut text = distinct
        .iter()
        .take(SHOWN)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if distinct.len() > SHOWN {
        let more = distinct.len() - SHOWN;
        text.push_str(&tr!(en: format!(" and {more} more"), pt: format!(" e mais {more}")));
    }
    text
}

/// `sampler` follows a remote parent's sampled flag (it is parent-based): a span whose caller
/// sampled the trace is recorded, one whose caller did not is dropped, whatever its trace id.
/// Asked of 64 trace ids, some of which a ratio sampler alone would decide the other way.
pub fn follows_parent(sampler: &impl ShouldSample) -> Result<(), CheckFailed> {
    for (flags, expected) in [
        (TraceFlags::SAMPLED, SamplingDecision::RecordAndSample),
        (TraceFlags::default(), SamplingDecision::Drop),
    ] {
        for n in 1..=64u128 {
            // Spread over the whole id space: a ratio sampler keeps only some of these.
            let trace_id = TraceId::from(n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            let caller = SpanContext::new(
                trace_id,
                SpanId::from(1),
                flags,
                true,
                TraceState::default(),
            );
            let parent = Context::new().with_remote_span_context(caller);
            let result = sampler.should_sample(
                Some(&parent),
                trace_id,
                "probe",
                &SpanKind::Server,
                &[],
                &[],
            );
            if result.decision != expected {
                let (sampled, decision) = (flags.is_sampled(), result.decision);
                return fail(tr!(
                    en: format!(
                        "for a caller whose traceparent says sampled={sampled}, the sampler \
                         decided {decision:?} (trace {trace_id}): it decides on its own instead \
                         of following the caller."
                    ),
                    pt: format!(
                        "para quem chama com um traceparent que diz sampled={sampled}, o sampler \
                         decidiu {decision:?} (trace {trace_id}): ele decide sozinho em vez de \
                         seguir quem chama."
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Runs `code`, the student's, and gives back what it returned; a panic becomes a failed check
/// that says where `what` panicked and why, instead of a panic of the check cell (which, under
/// `:preserve_vars_on_panic 0`, would drop every variable of the notebook). The panic's message
/// is not printed to standard error, where nbgrader would count it against the cell.
pub fn calling<T>(what: &str, code: impl FnOnce() -> T) -> Result<T, CheckFailed> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(code));
    std::panic::set_hook(hook);
    outcome.map_err(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        CheckFailed(tr!(
            en: format!("{what} panicked: {why}"),
            pt: format!("{what} entrou em pânico (panic): {why}"),
        ))
    })
}

/// `condition` holds; otherwise the check fails with `message`.
pub fn that(condition: bool, message: impl Into<String>) -> Result<(), CheckFailed> {
    if condition {
        Ok(())
    } else {
        fail(message)
    }
}

/// `actual` (what `what` came out as) equals `expected`.
pub fn equal<T: PartialEq + std::fmt::Debug>(
    what: &str,
    actual: T,
    expected: T,
) -> Result<(), CheckFailed> {
    if actual == expected {
        Ok(())
    } else {
        fail(tr!(
            en: format!("{what} is {actual:?}, expected {expected:?}."),
            pt: format!("{what} é {actual:?}, era esperado {expected:?}."),
        ))
    }
}

/// The checks of a lesson's own code, or of one exercise.
#[derive(Debug)]
pub struct Checklist {
    title: String,
    lines: Vec<String>,
    failures: Vec<String>,
    /// How many checks ran (passed or failed): `lines` also holds the ones that did not run.
    checked: usize,
    /// The exercise these are the checks of; `None` for a lesson's own code.
    exercise: Option<Exercise>,
    /// What the cell is worth in nbgrader (its `points`), given when every check passes.
    points: u32,
}

impl Checklist {
    /// The checks of the code a notebook provides, in a test cell worth `points` in nbgrader: a
    /// failure stops the notebook (see the module documentation).
    pub fn new(title: impl Into<String>, points: u32) -> Checklist {
        Checklist {
            title: title.into(),
            lines: Vec::new(),
            failures: Vec::new(),
            checked: 0,
            exercise: None,
            points,
        }
    }

    /// The checks of an exercise the student writes, worth the exercise's points in nbgrader. A
    /// failure shows the exercise's next hint and leaves the notebook running (see the module
    /// documentation and [`crate::exercise`]).
    pub fn exercise(exercise: &Exercise) -> Checklist {
        Checklist {
            exercise: Some(*exercise),
            ..Checklist::new(exercise.title.get(), exercise.points)
        }
    }

    /// Records the outcome of the check described by `what`, and passes its value on.
    pub fn check<T>(&mut self, what: &str, outcome: Result<T, CheckFailed>) -> Option<T> {
        self.checked += 1;
        match outcome {
            Ok(value) => {
                self.lines.push(format!("✔ {what}"));
                Some(value)
            }
            Err(CheckFailed(why)) => {
                self.lines.push(format!("✘ {what}: {why}"));
                self.failures.push(format!("{what}: {why}"));
                None
            }
        }
    }

    /// Records a check that could not run because an earlier one failed.
    pub fn skipped(&mut self, what: &str) {
        self.lines.push(tr!(
            en: format!("– {what}: not checked, an earlier check failed"),
            pt: format!("– {what}: não verificado, uma verificação anterior falhou"),
        ));
    }

    /// Records a check that cannot run here, and why (for example: no Jaeger to ask).
    pub fn skip(&mut self, what: &str, why: &str) {
        self.lines.push(tr!(
            en: format!("– {what}: not checked, {why}"),
            pt: format!("– {what}: não verificado, {why}"),
        ));
    }

    /// The title line, one line per check, and the verdict: what the report shows above the
    /// hint.
    fn summary(&self) -> String {
        let mut text = format!("{}\n", self.title);
        for line in &self.lines {
            let _ = writeln!(text, "  {line}");
        }
        let (all, failed) = (self.checked, self.failures.len());
        if self.failures.is_empty() {
            text.push_str(&match all {
                1 => tr!(en: "The check passed.", pt: "A verificação passou.").to_owned(),
                _ => tr!(
                    en: format!("All {all} checks passed."),
                    pt: format!("As {all} verificações passaram."),
                ),
            });
            if self.exercise.is_some() {
                text.push_str(tr!(en: " Well done!", pt: " Muito bem!"));
            }
        } else {
            text.push_str(&match all {
                1 => tr!(en: "The check failed.", pt: "A verificação falhou.").to_owned(),
                _ => tr!(
                    en: format!("{failed} of {all} checks failed."),
                    pt: format!("{failed} de {all} verificações falharam."),
                ),
            });
        }
        text
    }

    /// What the checklist shows if it fails now: its summary and, for an exercise, the hint the
    /// next failed run earns (see [`crate::exercise`]).
    pub fn report(&self) -> String {
        let step = self
            .exercise
            .map_or(0, |exercise| exercise.failed_runs() + 1);
        self.report_at(step)
    }

    fn hint_step(&self, step: u32) -> Option<(Exercise, u32)> {
        match self.exercise {
            Some(exercise) if !self.passed() => Some((exercise, step.clamp(1, HINTS))),
            _ => None,
        }
    }

    fn report_at(&self, step: u32) -> String {
        let mut text = self.summary();
        if let Some((exercise, step)) = self.hint_step(step) {
            let _ = write!(text, "\n{}", exercise.hint(step));
        }
        text
    }

    fn report_html_at(&self, step: u32) -> String {
        let mut html = crate::html::escape(&self.summary());
        if let Some((exercise, step)) = self.hint_step(step) {
            let _ = write!(html, "\n{}", exercise.hint_html(step));
        }
        html
    }

    /// Whether every recorded check passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The score nbgrader gives the cell: its points when every check passed, otherwise 0.
    pub fn score(&self) -> u32 {
        if self.passed() {
            self.points
        } else {
            0
        }
    }

    /// Shows the report, then, if a check failed, stops the notebook unless this is an exercise.
    /// An exercise's failed run is counted, so that the next one gives the next hint; a passing
    /// run starts the count over.
    ///
    /// The cell's value has two forms: the report as HTML, green or red, which JupyterLab shows,
    /// and [`Checklist::score`] as plain text, which nbgrader reads: it takes a test cell's plain
    /// text value, when it is a number, as the points the cell earned.
    pub fn finish(self) {
        let step = match self.exercise {
            Some(exercise) if self.passed() => {
                exercise.record_success();
                0
            }
            Some(exercise) => exercise.record_failure(),
            None => 0,
        };
        let (background, border) = if self.passed() {
            ("#eef8ee", "#2e7d32")
        } else {
            ("#fdecea", "#c62828")
        };
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n<pre class=\"tracelab-check {}\" style=\"background:{background};border-left:4px solid {border};padding:6px 10px;white-space:pre-wrap\">{}</pre>\nEVCXR_END_CONTENT",
            if self.passed() { "passed" } else { "failed" },
            self.report_html_at(step)
        );
        println!(
            "EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT",
            self.score()
        );
        if !self.passed() && self.exercise.is_none() {
            let (title, failed, why) =
                (&self.title, self.failures.len(), self.failures.join(" | "));
            panic!(
                "{}",
                tr!(
                    en: format!("{title}: {failed} check(s) failed. {why}"),
                    pt: format!("{title}: {failed} verificação(ões) falharam. {why}"),
                )
            );
        }
    }
}

#[cfg(test)]
mod tests;
