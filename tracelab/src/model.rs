//! One span as the waterfall draws it, whether it came from the SDK's in-memory exporter or from
//! Jaeger (OTLP JSON): the one conversion from each source is here.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as OtlpSpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use opentelemetry_sdk::trace::SpanData;

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

/// OTLP's kind; `UNSPECIFIED` (or a number OTLP does not define) is read as internal, the
/// kind OpenTelemetry gives a span nobody gave one.
impl From<i32> for Kind {
    fn from(kind: i32) -> Kind {
        match OtlpSpanKind::try_from(kind) {
            Ok(OtlpSpanKind::Server) => Kind::Server,
            Ok(OtlpSpanKind::Client) => Kind::Client,
            Ok(OtlpSpanKind::Producer) => Kind::Producer,
            Ok(OtlpSpanKind::Consumer) => Kind::Consumer,
            Ok(OtlpSpanKind::Internal | OtlpSpanKind::Unspecified) | Err(_) => Kind::Internal,
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

    /// Every span of OTLP's `TracesData` (what Jaeger's query API answers), each with its resource's
    /// `service.name`.
    pub fn all_from_otlp(traces: TracesData) -> Vec<TraceSpan> {
        let mut spans = Vec::new();
        for resource_spans in traces.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|resource| attribute(&resource.attributes, "service.name"))
                .unwrap_or_else(|| "unknown_service".to_owned());
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans
                    .scope
                    .map(|scope| scope.name)
                    .unwrap_or_default();
                for span in scope_spans.spans {
                    let status = span.status.unwrap_or_default();
                    spans.push(TraceSpan {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_id: (!span.parent_span_id.is_empty())
                            .then(|| hex(&span.parent_span_id)),
                        name: span.name,
                        service: service.clone(),
                        scope: scope.clone(),
                        kind: Kind::from(span.kind),
                        start_ns: u128::from(span.start_time_unix_nano),
                        end_ns: u128::from(span.end_time_unix_nano),
                        error: (status.code == StatusCode::Error as i32).then_some(status.message),
                        attributes: span
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.clone(), value_text(kv.value.as_ref())))
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
                                        .map(|kv| (kv.key.clone(), value_text(kv.value.as_ref()))),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
        spans
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

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| value_text(kv.value.as_ref()))
}

/// An attribute value as the SDK's `Value` prints it: text bare, numbers and booleans as
/// written, arrays in brackets.
fn value_text(value: Option<&AnyValue>) -> String {
    use any_value::Value;
    match value.and_then(|value| value.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => number.to_string(),
        Some(Value::ArrayValue(array)) => format!(
            "[{}]",
            array
                .values
                .iter()
                .map(|item| value_text(Some(item)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Value::KvlistValue(list)) => format!(
            "{{{}}}",
            list.values
                .iter()
                .map(|kv| format!("{}: {}", kv.key, value_text(kv.value.as_ref())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Value::BytesValue(bytes)) => format!("{} bytes", bytes.len()),
        Some(other) => format!("{other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
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
