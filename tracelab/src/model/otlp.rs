//! The conversion from OTLP's `TracesData`, what Jaeger's query API v3 answers, into
//! [`TraceSpan`]s (feature "jaeger").

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as OtlpSpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::TracesData;

use super::{event_text, Kind, TraceSpan};

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

impl TraceSpan {
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
