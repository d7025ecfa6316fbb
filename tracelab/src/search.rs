//! Many traces at a glance, as Jaeger's search page lists them (one line a trace: its root, how
//! long it took, how many spans and errors it holds), and two traces side by side, as Jaeger's
//! trace comparison shows them: the first steps of finding what is wrong from traces.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{human_duration, TraceSpan};
use crate::tr;

/// One trace, summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's name and service (`GET /checkout (frontend)`), or `?` when the trace has
    /// no root among the spans.
    pub root: String,
    /// From the first span's start to the last span's end.
    pub duration_ns: u128,
    pub start_ns: u128,
    pub spans: usize,
    /// Spans whose status is Error.
    pub errors: usize,
    pub services: Vec<String>,
}

/// The traces among some spans, in the order they started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceList {
    pub traces: Vec<TraceSummary>,
}

impl TraceList {
    /// Every trace that `spans` belong to.
    pub fn of(spans: &[TraceSpan]) -> TraceList {
        let mut by_trace: BTreeMap<&str, Vec<&TraceSpan>> = BTreeMap::new();
        for span in spans {
            by_trace.entry(&span.trace_id).or_default().push(span);
        }
        let mut traces: Vec<TraceSummary> = by_trace
            .into_iter()
            .map(|(trace_id, spans)| {
                let ids: Vec<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
                let root = spans
                    .iter()
                    .filter(|span| {
                        span.parent_id
                            .as_deref()
                            .is_none_or(|id| !ids.contains(&id))
                    })
                    .min_by_key(|span| span.start_ns)
                    .map_or_else(
                        || "?".to_owned(),
                        |span| format!("{} ({})", span.name, span.service),
                    );
                let start_ns = spans.iter().map(|span| span.start_ns).min().unwrap_or(0);
                let end_ns = spans.iter().map(|span| span.end_ns).max().unwrap_or(0);
                let mut services: Vec<String> =
                    spans.iter().map(|span| span.service.clone()).collect();
                services.sort();
                services.dedup();
                TraceSummary {
                    trace_id: trace_id.to_owned(),
                    root,
                    duration_ns: end_ns.saturating_sub(start_ns),
                    start_ns,
                    spans: spans.len(),
                    errors: spans.iter().filter(|span| span.error.is_some()).count(),
                    services,
                }
            })
            .collect();
        traces.sort_by_key(|trace| trace.start_ns);
        TraceList { traces }
    }

    /// The same traces, longest first (Jaeger's "Longest First").
    pub fn longest_first(mut self) -> TraceList {
        self.traces
            .sort_by_key(|trace| std::cmp::Reverse(trace.duration_ns));
        self
    }

    /// Only the traces with at least one span in error.
    pub fn with_errors(self) -> TraceList {
        TraceList {
            traces: self
                .traces
                .into_iter()
                .filter(|trace| trace.errors > 0)
                .collect(),
        }
    }

    /// Only the traces whose root is named `name` (the span name alone, without its service).
    pub fn rooted_at(self, name: &str) -> TraceList {
        let prefix = format!("{name} (");
        TraceList {
            traces: self
                .traces
                .into_iter()
                .filter(|trace| trace.root.starts_with(&prefix))
                .collect(),
        }
    }

    /// The trace id of the longest trace, if any.
    pub fn longest(&self) -> Option<String> {
        self.traces
            .iter()
            .max_by_key(|trace| trace.duration_ns)
            .map(|trace| trace.trace_id.clone())
    }
}

impl fmt::Display for TraceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}",
            tr!(
                en: format!("{} trace(s)", self.traces.len()),
                pt: format!("{} trace(s)", self.traces.len()),
            )
        )?;
        writeln!(
            f,
            "{:<32}  {:>10}  {:>5}  {:>6}  {}",
            "trace id",
            tr!(en: "duration", pt: "duração"),
            "spans",
            tr!(en: "errors", pt: "erros"),
            tr!(en: "root", pt: "raiz"),
        )?;
        for trace in &self.traces {
            writeln!(
                f,
                "{:<32}  {:>10}  {:>5}  {:>6}  {}",
                trace.trace_id,
                human_duration(trace.duration_ns),
                trace.spans,
                trace.errors,
                trace.root
            )?;
        }
        Ok(())
    }
}

/// How many spans of one kind a trace has, and how long they lasted in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: usize,
    pub total_ns: u128,
}

/// A kind of span: its service and its name.
pub type SpanKey = (String, String);

/// Two traces side by side: for each kind of span, the tally of each trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub good: String,
    pub bad: String,
    /// `(service, name) -> (tally in good, tally in bad)`.
    pub rows: BTreeMap<SpanKey, (Tally, Tally)>,
}

/// Compares the trace `good` with the trace `bad`, both among `spans`.
pub fn compare(spans: &[TraceSpan], good: &str, bad: &str) -> Comparison {
    let mut rows: BTreeMap<SpanKey, (Tally, Tally)> = BTreeMap::new();
    for span in spans {
        let key = (span.service.clone(), span.name.clone());
        let first = if span.trace_id == good {
            true
        } else if span.trace_id == bad {
            false
        } else {
            continue;
        };
        let row = rows.entry(key).or_default();
        let tally = if first { &mut row.0 } else { &mut row.1 };
        tally.count += 1;
        tally.total_ns += span.duration_ns();
    }
    Comparison {
        good: good.to_owned(),
        bad: bad.to_owned(),
        rows,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}",
            tr!(
                en: format!("A = {} (good), B = {} (bad)", self.good, self.bad),
                pt: format!("A = {} (bom), B = {} (ruim)", self.good, self.bad),
            )
        )?;
        writeln!(
            f,
            "{:<40}  {:>3} {:>11}  {:>3} {:>11}",
            tr!(en: "span (service)", pt: "span (serviço)"),
            "A",
            tr!(en: "time A", pt: "tempo A"),
            "B",
            tr!(en: "time B", pt: "tempo B"),
        )?;
        for ((service, name), (good, bad)) in &self.rows {
            let marker = if good.count != bad.count
                || bad.total_ns > good.total_ns.saturating_mul(2) + 5_000_000
            {
                "  <<"
            } else {
                ""
            };
            writeln!(
                f,
                "{:<40}  {:>3} {:>11}  {:>3} {:>11}{marker}",
                format!("{name} ({service})"),
                good.count,
                human_duration(good.total_ns),
                bad.count,
                human_duration(bad.total_ns),
            )?;
        }
        write!(
            f,
            "{}",
            tr!(
                en: "<< : a different number of spans, or B took more than twice as long.",
                pt: "<< : um número diferente de spans, ou B levou mais que o dobro do tempo.",
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_span;

    fn spans() -> Vec<TraceSpan> {
        let mut a_root = test_span("a1", None, "GET /checkout", 0, 100_000_000);
        a_root.trace_id = "a".into();
        let mut a_call = test_span("a2", Some("a1"), "GET", 10_000_000, 20_000_000);
        a_call.trace_id = "a".into();
        let mut b_root = test_span("b1", None, "GET /checkout", 200_000_000, 900_000_000);
        b_root.trace_id = "b".into();
        b_root.error = Some("timeout".into());
        let mut b_calls: Vec<TraceSpan> = (0..3)
            .map(|n| {
                let mut call = test_span(&format!("b{}", n + 2), Some("b1"), "GET", 0, 0);
                call.trace_id = "b".into();
                call.start_ns = 210_000_000 + n * 100_000_000;
                call.end_ns = call.start_ns + 90_000_000;
                call
            })
            .collect();
        let mut all = vec![a_root, a_call, b_root];
        all.append(&mut b_calls);
        all
    }

    #[test]
    fn a_trace_list_sums_up_each_trace_and_sorts_and_filters_them() {
        let list = TraceList::of(&spans());
        assert_eq!(list.traces.len(), 2);
        assert_eq!(list.traces[0].trace_id, "a");
        assert_eq!(list.traces[0].root, "GET /checkout (frontend)");
        assert_eq!(list.traces[1].spans, 4);
        assert_eq!(list.traces[1].errors, 1);
        assert_eq!(list.longest().as_deref(), Some("b"));
        assert_eq!(list.clone().longest_first().traces[0].trace_id, "b");
        assert_eq!(list.clone().with_errors().traces.len(), 1);
        assert_eq!(list.clone().rooted_at("GET").traces.len(), 0);
        assert_eq!(list.rooted_at("GET /checkout").traces.len(), 2);
        let text = TraceList::of(&spans()).to_string();
        assert!(text.contains("700.000 ms"), "{text}");
    }

    #[test]
    fn a_comparison_marks_what_differs() {
        let comparison = compare(&spans(), "a", "b");
        let text = comparison.to_string();
        let calls = text
            .lines()
            .find(|line| line.starts_with("GET (frontend)"))
            .unwrap();
        assert!(calls.ends_with("<<"), "{text}");
        let calls = comparison.rows[&("frontend".into(), "GET".into())];
        assert_eq!(
            calls.0,
            Tally {
                count: 1,
                total_ns: 10_000_000
            }
        );
        assert_eq!(
            calls.1,
            Tally {
                count: 3,
                total_ns: 270_000_000
            }
        );
    }

    #[test]
    fn every_message_is_written_in_english_and_in_portuguese() {
        crate::lang::assert_translated(
            || {
                vec![
                    TraceList::of(&spans()).to_string(),
                    compare(&spans(), "a", "b").to_string(),
                ]
            },
            &["duration", "errors", "took more"],
        );
    }
}
