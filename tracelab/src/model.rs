//! One span as the waterfall draws it, whether it came from the SDK's in-memory exporter or from
//! Jaeger (OTLP JSON): the one conversion from each source is here.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

// The conversion from OTLP, which only the Jaeger client reads (feature "jaeger").
#[cfg(feature = "jaeger")]
mod otlp;

/// What a span stands for in its trace: OpenTelemetry's span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    /// `internal`, `server`, `client`, `producer` or `consumer`, as the waterfall writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `span.kind == "client"` reads as the waterfall writes it (the notebooks compare that way).
impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&SpanKind> for Kind {
    fn from(kind: &SpanKind) -> Kind {
        match kind {
            SpanKind::Internal => Kind::Internal,
            SpanKind::Server => Kind::Server,
            SpanKind::Client => Kind::Client,
            SpanKind::Producer => Kind::Producer,
            SpanKind::Consumer => Kind::Consumer,
        }
    }
}

/// A finished span, reduced to what a waterfall shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpan {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root span.
    pub parent_id: Option<String>,
    pub name: String,
    /// `service.name` of the process that made the span (its resource).
    pub service: String,
    /// The name of the tracer that made it (the instrumentation scope), which is not the service.
    pub scope: String,
    pub kind: Kind,
    /// Nanoseconds since the Unix epoch.
    pub start_ns: u128,
    pub end_ns: u128,
    /// The span's status was Error; the description, possibly empty.
    pub error: Option<String>,
    /// Attributes as `key = value` text, for the tooltip.
    pub attributes: Vec<(String, String)>,
    /// Events as `name (key = value, ...)` text, for the tooltip.
    pub events: Vec<String>,
}

impl TraceSpan {
    /// The span from the SDK's `SpanData`, made by a process whose `service.name` is `service`.
    pub fn from_sdk(span: &SpanData, service: &str) -> TraceSpan {
        TraceSpan {
            trace_id: span.span_context.trace_id().to_string(),
            span_id: span.span_context.span_id().to_string(),
            parent_id: (span.parent_span_id != SpanId::INVALID)
                .then(|| span.parent_span_id.to_string()),
            name: span.name.to_string(),
            service: service.to_owned(),
            scope: span.instrumentation_scope.name().to_owned(),
            kind: Kind::from(&span.span_kind),
            start_ns: unix_ns(span.start_time),
            end_ns: unix_ns(span.end_time),
            error: match &span.status {
                Status::Error { description } => Some(description.to_string()),
                _ => None,
            },
            attributes: span
                .attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect(),
            events: span
                .events
                .iter()
                .map(|event| {
                    event_text(
                        &event.name,
                        event
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.to_string(), kv.value.to_string())),
                    )
                })
                .collect(),
        }
    }

    /// All of `spans`, made by the service `service`.
    pub fn all_from_sdk(spans: &[SpanData], service: &str) -> Vec<TraceSpan> {
        spans
            .iter()
            .map(|span| TraceSpan::from_sdk(span, service))
            .collect()
    }

    pub fn duration_ns(&self) -> u128 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// An event as the tooltip lists it: `name (key = value, ...)`.
fn event_text(name: &str, attributes: impl Iterator<Item = (String, String)>) -> String {
    let attributes: Vec<String> = attributes
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{name} ({})", attributes.join(", "))
}

fn unix_ns(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

/// `1.234 ms`, `56 µs`, `2.50 s`: a duration as a person reads it.
pub fn human_duration(ns: u128) -> String {
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=999_999 => format!("{:.0} µs", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.3} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// A span of the trace `4bf92f3577b34da6a3ce929d0e0e4736` from the service `frontend`, for the
/// unit tests of what draws and measures spans.
#[cfg(test)]
pub(crate) fn test_span(
    id: &str,
    parent: Option<&str>,
    name: &str,
    start: u128,
    end: u128,
) -> TraceSpan {
    TraceSpan {
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        span_id: id.into(),
        parent_id: parent.map(str::to_owned),
        name: name.into(),
        service: "frontend".into(),
        scope: "frontend".into(),
        kind: Kind::Internal,
        start_ns: start,
        end_ns: end,
        error: None,
        attributes: vec![],
        events: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human_duration(850), "850 ns");
        assert_eq!(human_duration(56_400), "56 µs");
        assert_eq!(human_duration(1_234_567), "1.235 ms");
        assert_eq!(human_duration(2_500_000_000), "2.50 s");
    }
}
