//! The "your turn" exercises, and the hints a failing check gives, one step at a time.
//!
//! Each exercise is an [`Exercise`]: where it is (the lesson's file and the nbgrader id of its
//! cell), what it is worth, and three hints that go from the trace to the code without ever
//! writing the code:
//!
//! 1. on the first failed run, the check's ✘ lines say what is wrong *in the student's own
//!    trace* ("GET /work is in a trace of its own: its parent is missing"), and the hint links to
//!    the section of the lesson that explains the idea;
//! 2. on the second, the hint names the API to use ([`Exercise::api`]);
//! 3. from the third on, it describes the change in words ([`Exercise::change`]), and links to the
//!    solved version of the lesson, one click away.
//!
//! The failed runs of each exercise are counted inside the kernel, in the process's environment
//! (evcxr links each cell against its own copy of a crate's statics, while the kernel process and
//! its environment are one): they start from zero with the kernel, and a passing run starts them
//! over.

use crate::lang::{self, Lang};
use crate::tr;

/// A text in each language of the lab. Both are required, so that no message is left in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub en: &'static str,
    pub pt: &'static str,
}

impl Text {
    /// The text in the current language.
    pub fn get(&self) -> &'static str {
        self.in_language(lang::current())
    }

    pub fn in_language(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::PtBr => self.pt,
        }
    }
}

/// One exercise of a lesson, and its hints.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// The lesson's notebook, without `.ipynb`: `04-a-trace-across-services`.
    pub lesson: &'static str,
    /// The nbgrader id of the exercise's cell: `your-turn-1` (its check is `your-turn-1-check`).
    pub id: &'static str,
    /// What the exercise's check cell is worth in nbgrader.
    pub points: u32,
    /// The exercise's title, as the check's report opens with it.
    pub title: Text,
    /// The heading, word for word, of the section of the lesson that explains the idea.
    pub section: Text,
    /// The second hint: the API that does it, named but not written out.
    pub api: Text,
    /// The third hint: the change to make, in words, never in code.
    pub change: Text,
}

/// How many hints an exercise gives before it points at the solved version.
pub const HINTS: u32 = 3;

impl Exercise {
    /// The link to the section that explains the idea, relative to the lesson's notebook: what
    /// JupyterLab makes of a heading (its text with spaces as dashes, without `*` and backquotes).
    pub fn section_link(&self) -> String {
        format!(
            "{}.ipynb#{}",
            self.lesson,
            heading_anchor(self.section.get())
        )
    }

    /// The link to the solved twin of the lesson, from the student's version
    /// (`student/<language>/` beside `solved/<language>/`).
    pub fn solved_link(&self) -> String {
        format!(
            "../../solved/{}/{}.ipynb",
            lang::current().tag(),
            self.lesson
        )
    }

    /// The environment variable that counts this exercise's failed runs.
    fn counter(&self) -> String {
        let name = format!("{COUNTER_PREFIX}{}_{}", self.lesson, self.id);
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// How many runs of this exercise's check have failed in this kernel so far.
    pub fn failed_runs(&self) -> u32 {
        std::env::var(self.counter())
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0)
    }

    /// Counts one more failed run, and returns the hint it earns (1, 2 or 3).
    pub(crate) fn record_failure(&self) -> u32 {
        let runs = self.failed_runs().saturating_add(1);
        std::env::set_var(self.counter(), runs.to_string());
        runs.min(HINTS)
    }

    /// A passing run: the next failure starts again from the first hint.
    pub(crate) fn record_success(&self) {
        std::env::remove_var(self.counter());
    }

    /// The hint of step `step` (1 to 3), as text, with its links written out.
    pub fn hint(&self, step: u32) -> String {
        self.hint_parts(step)
            .into_iter()
            .map(|part| match part {
                HintPart::Text(text) => text,
                HintPart::Link { text, target } => format!("«{text}» ({target})"),
            })
            .collect()
    }

    /// The hint of step `step` as HTML, its links clickable.
    pub fn hint_html(&self, step: u32) -> String {
        self.hint_parts(step)
            .into_iter()
            .map(|part| match part {
                HintPart::Text(text) => crate::html::escape(&text),
                HintPart::Link { text, target } => format!(
                    "<a href=\"{}\">«{}»</a>",
                    crate::html::escape(&target),
                    crate::html::escape(&text)
                ),
            })
            .collect()
    }

    fn hint_parts(&self, step: u32) -> Vec<HintPart> {
        let step = step.clamp(1, HINTS);
        let prefix = tr!(
            en: format!("Hint {step} of {HINTS}: "),
            pt: format!("Dica {step} de {HINTS}: "),
        );
        let mut parts = vec![HintPart::Text(prefix)];
        match step {
            1 => {
                parts.push(HintPart::Text(
                    tr!(
                        en: "start from the first ✘ above: it is what your code produced. The \
                             idea behind it is in ",
                        pt: "comece pelo primeiro ✘ acima: é o que o seu código produziu. A ideia \
                             por trás dele está em ",
                    )
                    .to_owned(),
                ));
                parts.push(HintPart::Link {
                    text: self.section.get().to_owned(),
                    target: self.section_link(),
                });
                parts.push(HintPart::Text(
                    tr!(
                        en: ". Run this check again for the next hint.",
                        pt: ". Execute esta verificação de novo para a próxima dica.",
                    )
                    .to_owned(),
                ));
            }
            2 => {
                parts.push(HintPart::Text(self.api.get().to_owned()));
                parts.push(HintPart::Text(
                    tr!(
                        en: " Run this check again for the last hint.",
                        pt: " Execute esta verificação de novo para a última dica.",
                    )
                    .to_owned(),
                ));
            }
            _ => {
                parts.push(HintPart::Text(self.change.get().to_owned()));
                parts.push(HintPart::Text(
                    tr!(
                        en: " Still stuck? Compare with ",
                        pt: " Ainda travado? Compare com ",
                    )
                    .to_owned(),
                ));
                parts.push(HintPart::Link {
                    text: tr!(en: "the solved version", pt: "a versão resolvida").to_owned(),
                    target: self.solved_link(),
                });
                parts.push(HintPart::Text(".".to_owned()));
            }
        }
        parts
    }
}

enum HintPart {
    Text(String),
    Link { text: String, target: String },
}

const COUNTER_PREFIX: &str = "TRACELAB_FAILED_RUNS_";

/// Forgets every exercise's failed runs, as a kernel restart does: the next failure of each
/// gives its first hint again.
pub fn forget_failed_runs() {
    forget_counters_starting_with(COUNTER_PREFIX);
}

fn forget_counters_starting_with(prefix: &str) {
    let counters: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with(prefix))
        .collect();
    for name in counters {
        std::env::remove_var(name);
    }
}

/// The id JupyterLab gives a heading: its text without `*` and backquotes, spaces as dashes.
pub fn heading_anchor(heading: &str) -> String {
    heading
        .chars()
        .filter(|c| *c != '`' && *c != '*')
        .collect::<String>()
        .trim()
        .replace(' ', "-")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const EXAMPLE: Exercise = Exercise {
        lesson: "99-an-example",
        id: "your-turn-1",
        points: 2,
        title: Text {
            en: "Your turn 1: an example",
            pt: "Sua vez 1: um exemplo",
        },
        section: Text {
            en: "The way out: a `CLIENT` span",
            pt: "A saída: um span `CLIENT`",
        },
        api: Text {
            en: "The API to use.",
            pt: "A API a usar.",
        },
        change: Text {
            en: "The change, in words.",
            pt: "A mudança, em palavras.",
        },
    };

    #[test]
    fn anchors_are_what_jupyterlab_makes_of_a_heading() {
        assert_eq!(
            heading_anchor("The way out: a `CLIENT` span, and **the** context"),
            "The-way-out:-a-CLIENT-span,-and-the-context"
        );
        assert_eq!(
            EXAMPLE.section_link(),
            "99-an-example.ipynb#The-way-out:-a-CLIENT-span"
        );
    }

    #[test]
    fn hints_go_from_the_idea_to_the_api_to_the_change_and_stop_at_the_third() {
        let texts: Vec<String> = (1..=4).map(|step| EXAMPLE.hint(step)).collect();
        assert!(
            texts[0].starts_with("Hint 1 of 3: start from the first ✘ above"),
            "{}",
            texts[0]
        );
        assert!(
            texts[0].contains(
                "«The way out: a `CLIENT` span» (99-an-example.ipynb#The-way-out:-a-CLIENT-span)"
            ),
            "{}",
            texts[0]
        );
        assert_eq!(
            texts[1],
            "Hint 2 of 3: The API to use. Run this check again for the last hint."
        );
        assert!(texts[2].starts_with("Hint 3 of 3: The change, in words. Still stuck?"));
        assert!(texts[2].contains("(../../solved/en/99-an-example.ipynb)"));
        assert_eq!(texts[3], texts[2]);
        let html = EXAMPLE.hint_html(1);
        assert!(
            html.contains("<a href=\"99-an-example.ipynb#The-way-out:-a-CLIENT-span\">«The way out: a `CLIENT` span»</a>"),
            "{html}"
        );
    }

    #[test]
    fn failed_runs_are_counted_per_exercise_and_a_pass_or_a_forget_starts_them_over() {
        let other = Exercise {
            id: "your-turn-2",
            ..EXAMPLE
        };
        let example = Exercise {
            lesson: "98-counted",
            ..EXAMPLE
        };
        let other = Exercise {
            lesson: "98-counted",
            ..other
        };
        assert_eq!(example.failed_runs(), 0);
        assert_eq!(example.record_failure(), 1);
        assert_eq!(example.record_failure(), 2);
        assert_eq!(other.record_failure(), 1, "each exercise counts its own");
        assert_eq!(example.record_failure(), 3);
        assert_eq!(example.record_failure(), 3, "the third hint stays");
        assert_eq!(example.failed_runs(), 4);
        example.record_success();
        assert_eq!(example.record_failure(), 1);
        // What forget_failed_runs does, kept to this test's lesson: tests run side by side.
        forget_counters_starting_with("TRACELAB_FAILED_RUNS_98_COUNTED");
        assert_eq!(example.failed_runs(), 0);
        assert_eq!(other.failed_runs(), 0);
    }

    #[test]
    fn every_hint_is_written_in_english_and_in_portuguese() {
        let portuguese = crate::lang::assert_translated(
            || (1..=3).map(|step| EXAMPLE.hint(step)).collect(),
            &["Hint", "Run this", "Still stuck", "solved version"],
        );
        assert!(
            portuguese[0].starts_with("Dica 1 de 3: "),
            "{}",
            portuguese[0]
        );
        assert!(portuguese[2].contains("(../../solved/pt-BR/99-an-example.ipynb)"));
    }
}
