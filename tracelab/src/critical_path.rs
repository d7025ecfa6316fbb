//! The critical path of a trace: the chain of work that decided how long the request took. Make
//! a step on it shorter and the request is shorter; make a step off it shorter and nothing
//! changes. Jaeger's trace view draws the same path (the darker parts of the bars).
//!
//! Walked the way Jaeger's UI does: from the end of the root span backwards, the child that
//! finished last before that moment is on the path, from its own end back to its start (and its
//! children in turn); the time in between, when no child ran, is the parent's own.

use std::collections::HashMap;

use crate::model::TraceSpan;

/// A stretch of time one span spent on the critical path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub span_id: String,
    pub name: String,
    pub start_ns: u128,
    pub end_ns: u128,
}

/// The critical path of one trace, as segments in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriticalPath {
    pub segments: Vec<Segment>,
}

impl CriticalPath {
    /// The critical path of the trace `trace_id` among `spans`, from its root span (the span of
    /// that trace with no parent among them). Empty when the trace has no root.
    pub fn of_trace(spans: &[TraceSpan], trace_id: &str) -> CriticalPath {
        let trace: Vec<&TraceSpan> = spans
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .collect();
        let ids: Vec<&str> = trace.iter().map(|span| span.span_id.as_str()).collect();
        let mut children: HashMap<&str, Vec<&TraceSpan>> = HashMap::new();
        for span in &trace {
            if let Some(parent) = span.parent_id.as_deref().filter(|id| ids.contains(id)) {
                children.entry(parent).or_default().push(span);
            }
        }
        let mut segments = Vec::new();
        let root = trace.iter().find(|span| {
            span.parent_id
                .as_deref()
                .is_none_or(|parent| !ids.contains(&parent))
        });
        if let Some(root) = root {
            walk(root, root.end_ns, &children, &mut segments);
        }
        segments.sort_by_key(|segment| segment.start_ns);
        CriticalPath { segments }
    }

    /// The critical path of the trace whose root span started last among `spans`.
    pub fn of_latest(spans: &[TraceSpan]) -> CriticalPath {
        spans
            .iter()
            .filter(|span| span.parent_id.is_none())
            .max_by_key(|span| span.start_ns)
            .map(|root| CriticalPath::of_trace(spans, &root.trace_id))
            .unwrap_or_default()
    }

    /// Time on the critical path by span name, most first.
    pub fn time_by_name(&self) -> Vec<(String, u128)> {
        let mut totals: Vec<(String, u128)> = Vec::new();
        for segment in &self.segments {
            let time = segment.end_ns - segment.start_ns;
            match totals.iter_mut().find(|(name, _)| *name == segment.name) {
                Some((_, total)) => *total += time,
                None => totals.push((segment.name.clone(), time)),
            }
        }
        totals.sort_by_key(|(_, time)| std::cmp::Reverse(*time));
        totals
    }

    /// Whether the span `span_id` has any time on the critical path.
    pub fn contains(&self, span_id: &str) -> bool {
        self.segments
            .iter()
            .any(|segment| segment.span_id == span_id)
    }
}

/// Adds the critical path of `span`, up to the moment `until`, to `segments`.
fn walk<'a>(
    span: &'a TraceSpan,
    until: u128,
    children: &HashMap<&str, Vec<&'a TraceSpan>>,
    segments: &mut Vec<Segment>,
) {
    let own = |start_ns: u128, end_ns: u128, segments: &mut Vec<Segment>| {
        if start_ns < end_ns {
            segments.push(Segment {
                span_id: span.span_id.clone(),
                name: span.name.clone(),
                start_ns,
                end_ns,
            });
        }
    };
    let mut cursor = span.end_ns.min(until);
    let kids = children
        .get(span.span_id.as_str())
        .cloned()
        .unwrap_or_default();
    // Each time, the child that finished last among those that started before the cursor.
    while let Some(last) = kids
        .iter()
        .filter(|kid| kid.start_ns < cursor)
        .max_by_key(|kid| kid.end_ns)
    {
        let last_end = last.end_ns.min(cursor);
        own(last_end, cursor, segments);
        walk(last, last_end, children, segments);
        cursor = last.start_ns.max(span.start_ns);
    }
    own(span.start_ns, cursor, segments);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::test_span as span;

    #[test]
    fn sequential_children_are_all_on_the_path_and_the_gaps_are_the_parents() {
        let spans = [
            span("r", None, "GET /order", 0, 100),
            span("a", Some("r"), "quote_item", 10, 30),
            span("b", Some("r"), "quote_item", 30, 50),
            span("c", Some("r"), "quote_item", 50, 70),
        ];
        let path = CriticalPath::of_trace(&spans, "4bf92f3577b34da6a3ce929d0e0e4736");
        let total: u128 = path.segments.iter().map(|s| s.end_ns - s.start_ns).sum();
        assert_eq!(total, 100, "the path covers the whole request: {path:?}");
        assert_eq!(
            path.time_by_name(),
            vec![("quote_item".to_owned(), 60), ("GET /order".to_owned(), 40)]
        );
    }

    #[test]
    fn of_concurrent_children_only_the_last_to_finish_is_on_the_path() {
        let spans = [
            span("r", None, "GET /order", 0, 60),
            span("a", Some("r"), "quote fast", 10, 30),
            span("b", Some("r"), "quote slow", 10, 50),
            span("c", Some("b"), "inside slow", 20, 40),
        ];
        let path = CriticalPath::of_trace(&spans, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(
            !path.contains("a"),
            "the fast call did not hold the request up: {path:?}"
        );
        assert!(path.contains("b") && path.contains("c"));
        let names: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "GET /order",
                "quote slow",
                "inside slow",
                "quote slow",
                "GET /order"
            ]
        );
    }

    #[test]
    fn the_latest_trace_is_the_one_whose_root_started_last() {
        let mut old = span("o", None, "old", 0, 10);
        old.trace_id = "old".into();
        let spans = [old, span("r", None, "new", 20, 30)];
        assert_eq!(CriticalPath::of_latest(&spans).segments[0].name, "new");
        assert!(CriticalPath::of_latest(&[]).segments.is_empty());
    }
}
