//! Fetches one trace back from Jaeger's HTTP query API v3 (on port 16686, beside its UI) and turns
//! it into the drawing model, so a notebook can draw what Jaeger stored the same way it draws
//! spans captured in memory; and asks which services Jaeger knows.
//!
//! `GET {base}/api/v3/traces/{trace_id}` answers `{"result": <TracesData>}`, where `TracesData`
//! is OTLP JSON (hex ids, times in nanoseconds as decimal strings, kinds and status codes as
//! numbers), and `404` with `{"error": {"httpCode": 404, "message": "No traces found"}}` while
//! the trace is not there (yet). The API's definition allows several `{"result": ...}` objects
//! one after another in future releases; they are all read. The OTLP JSON is parsed with
//! `opentelemetry-proto`'s own serde types.
//!
//! Asking for the trace id the notebook just exported, and retrying for a few seconds while
//! Jaeger ingests it, shows exactly that trace: never the previous run's, never "no trace yet"
//! by bad luck.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::trace::v1::TracesData;
use serde::Deserialize;

use crate::model::TraceSpan;
use crate::tr;

/// Where Jaeger's UI and query API listen when started as the lab describes.
pub const DEFAULT_QUERY_URL: &str = "http://localhost:16686";

/// The Jaeger image the lab runs (`docker/compose.yaml` uses the same one; a test checks it).
/// 2.21.0 is the newest 2.x release this client was written against: its
/// `/api/v3/traces/{trace_id}` answer has kept the same shape since 2.0, while the older
/// `/api/traces?service=` search is gone from releases after 2.20.
pub const JAEGER_IMAGE: &str = "jaegertracing/jaeger:2.21.0";

/// How often [`Jaeger::wait_for_trace`] asks again while the trace is not there.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// Jaeger could not answer with the trace; each message says what to do.
#[derive(Debug)]
pub enum JaegerError {
    Unreachable {
        url: String,
        reason: String,
    },
    NotFound {
        trace_id: String,
        waited: f64,
    },
    Status {
        url: String,
        status: u16,
        body: String,
    },
    BadAnswer {
        url: String,
        reason: String,
    },
}

impl fmt::Display for JaegerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = format!(
            "docker run --rm --name jaeger -d -p 16686:16686 -p 4317:4317 -p 4318:4318 {JAEGER_IMAGE}"
        );
        f.write_str(&match self {
            JaegerError::Unreachable { url, reason } => tr!(
                en: format!(
                    "Jaeger is not reachable at {url} ({reason}). Start it with\n  {run}\n(or set \
                     JAEGER_QUERY_URL to where it runs), then send the spans again and run this \
                     cell again."
                ),
                pt: format!(
                    "o Jaeger não está acessível em {url} ({reason}). Suba-o com\n  {run}\n(ou \
                     defina JAEGER_QUERY_URL com o endereço onde ele roda), depois envie os spans \
                     de novo e execute esta célula de novo."
                ),
            ),
            JaegerError::NotFound { trace_id, waited } => tr!(
                en: format!(
                    "Jaeger has no trace {trace_id} (asked for {waited:.1} s). Spans reach it only \
                     once exported, to this Jaeger: in a notebook, did the flush cell say \
                     `delivered`? (Then run the cells from the export cell down again.) The \
                     sample service sends its spans every few seconds: run the cell again."
                ),
                pt: format!(
                    "o Jaeger não tem o trace {trace_id} (perguntado por {waited:.1} s). Os spans \
                     só chegam a ele depois de exportados, para este Jaeger: no notebook, a célula \
                     do flush disse `entregues`? (Então execute de novo as células a partir da \
                     célula de exportação.) O serviço de exemplo envia seus spans a cada poucos \
                     segundos: execute a célula de novo."
                ),
            ),
            JaegerError::Status { url, status, body } => tr!(
                en: format!("Jaeger at {url} answered HTTP {status}: {body}"),
                pt: format!("o Jaeger em {url} respondeu HTTP {status}: {body}"),
            ),
            JaegerError::BadAnswer { url, reason } => tr!(
                en: format!("Jaeger at {url} answered something that is not OTLP JSON: {reason}"),
                pt: format!("o Jaeger em {url} respondeu algo que não é OTLP JSON: {reason}"),
            ),
        })
    }
}

impl std::error::Error for JaegerError {}

/// A client of one Jaeger query endpoint.
#[derive(Debug, Clone)]
pub struct Jaeger {
    base: String,
    /// Where a browser opens Jaeger's UI: the query API's address unless told otherwise (inside
    /// the Docker stack the notebook reaches `jaeger:16686`, the student's browser `localhost:16686`).
    ui: String,
    agent: ureq::Agent,
}

impl Jaeger {
    /// A client for the query API at `base` (for example `http://localhost:16686`).
    pub fn new(base: impl Into<String>) -> Jaeger {
        let base = base.into().trim_end_matches('/').to_owned();
        Jaeger {
            ui: base.clone(),
            base,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(5))
                .build(),
        }
    }

    /// The client for `JAEGER_QUERY_URL` when it is set (the lab's Docker stack sets it), or
    /// [`DEFAULT_QUERY_URL`]; its page links lead to `JAEGER_UI_URL` when that is set.
    pub fn from_env() -> Jaeger {
        let jaeger = Jaeger::new(
            std::env::var("JAEGER_QUERY_URL").unwrap_or_else(|_| DEFAULT_QUERY_URL.to_owned()),
        );
        match std::env::var("JAEGER_UI_URL") {
            Ok(ui) if !ui.trim().is_empty() => jaeger.with_ui(ui),
            _ => jaeger,
        }
    }

    /// The same client, with its page links leading to the UI at `ui` (for example
    /// `http://localhost:16686`, where the lab's Docker stack publishes it for the student's browser).
    pub fn with_ui(mut self, ui: impl Into<String>) -> Jaeger {
        self.ui = ui.into().trim_end_matches('/').to_owned();
        self
    }

    /// The page of Jaeger's UI that shows the trace.
    pub fn trace_page(&self, trace_id: impl std::fmt::Display) -> String {
        format!("{}/trace/{trace_id}", self.ui)
    }

    /// The spans of the trace `trace_id` (32 hex digits; an SDK `TraceId` prints that way).
    /// Asks once: [`JaegerError::NotFound`] if Jaeger does not have it.
    pub fn trace(&self, trace_id: impl std::fmt::Display) -> Result<Vec<TraceSpan>, JaegerError> {
        let trace_id = trace_id.to_string();
        let url = format!("{}/api/v3/traces/{trace_id}", self.base);
        let body = match self.get(&url) {
            Err(JaegerError::Status { status: 404, .. }) => {
                return Err(JaegerError::NotFound {
                    trace_id,
                    waited: 0.0,
                })
            }
            other => other?,
        };
        let spans = parse_answer(&body).map_err(|reason| JaegerError::BadAnswer {
            url: url.clone(),
            reason,
        })?;
        if spans.is_empty() {
            return Err(JaegerError::NotFound {
                trace_id,
                waited: 0.0,
            });
        }
        Ok(spans)
    }

    /// The names of the services Jaeger has spans of (`GET /api/v3/services`), as its UI's
    /// Service list shows them.
    pub fn services(&self) -> Result<Vec<String>, JaegerError> {
        /// The answer: `{"services": [...]}`, the field left out when there are none.
        #[derive(Deserialize)]
        struct Services {
            #[serde(default)]
            services: Vec<String>,
        }
        let url = format!("{}/api/v3/services", self.base);
        let body = self.get(&url)?;
        serde_json::from_str::<Services>(&body)
            .map(|answer| answer.services)
            .map_err(|err| JaegerError::BadAnswer {
                url,
                reason: err.to_string(),
            })
    }

    /// The body of `GET url`; a status other than 200 is an error that carries it.
    fn get(&self, url: &str) -> Result<String, JaegerError> {
        match self.agent.get(url).call() {
            Ok(response) => response
                .into_string()
                .map_err(|err| JaegerError::BadAnswer {
                    url: url.to_owned(),
                    reason: err.to_string(),
                }),
            Err(ureq::Error::Status(status, response)) => Err(JaegerError::Status {
                url: url.to_owned(),
                status,
                body: response.into_string().unwrap_or_default(),
            }),
            Err(ureq::Error::Transport(transport)) => {
                // The transport error's own text repeats the URL: keep what went wrong.
                let reason = match transport.message() {
                    Some(message) => format!("{}: {message}", transport.kind()),
                    None => transport.kind().to_string(),
                };
                Err(JaegerError::Unreachable {
                    url: url.to_owned(),
                    reason,
                })
            }
        }
    }

    /// Like [`Jaeger::trace`], but asks again every quarter second for up to `within` while
    /// Jaeger does not have the trace yet: a backend stores spans a moment after it accepts them.
    pub fn wait_for_trace(
        &self,
        trace_id: impl std::fmt::Display,
        within: Duration,
    ) -> Result<Vec<TraceSpan>, JaegerError> {
        let started = Instant::now();
        loop {
            match self.trace(&trace_id) {
                Err(JaegerError::NotFound { trace_id, .. }) => {
                    if started.elapsed() >= within {
                        return Err(JaegerError::NotFound {
                            trace_id,
                            waited: started.elapsed().as_secs_f64(),
                        });
                    }
                    thread::sleep(RETRY_EVERY);
                }
                other => return other,
            }
        }
    }
}

/// One `{"result": ...}` object of the answer.
#[derive(Deserialize)]
struct Envelope {
    result: TracesData,
}

/// Reads every `{"result": TracesData}` object in `body` into the drawing model.
fn parse_answer(body: &str) -> Result<Vec<TraceSpan>, String> {
    let mut spans = Vec::new();
    for value in serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>() {
        let mut value = value.map_err(|err| err.to_string())?;
        accept_what_the_collector_writes(&mut value);
        let envelope: Envelope = serde_json::from_value(value).map_err(|err| err.to_string())?;
        spans.extend(TraceSpan::all_from_otlp(envelope.result));
    }
    Ok(spans)
}

/// Jaeger writes OTLP JSON with the OpenTelemetry Collector's encoder, which leaves out empty
/// fields that `opentelemetry-proto`'s serde types require, and writes non-finite doubles as
/// strings: an empty array or map attribute (`"arrayValue": {}`), an attribute with an empty key,
/// `"doubleValue": "NaN"`. One such attribute would make the whole trace unreadable, so they are
/// put in the form those types accept before parsing. (No maintained crate reads the Collector's
/// OTLP JSON leniently; this is the part written here.)
fn accept_what_the_collector_writes(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(object) => {
            for key in ["arrayValue", "kvlistValue"] {
                if let Some(Value::Object(inner)) = object.get_mut(key) {
                    inner
                        .entry("values")
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
            }
            if let Some(Value::String(text)) = object.get("doubleValue") {
                let text = text.clone();
                object.remove("doubleValue");
                object.insert("stringValue".to_owned(), Value::String(text));
            }
            for key in ["attributes", "values"] {
                if let Some(Value::Array(items)) = object.get_mut(key) {
                    for item in items.iter_mut() {
                        if let Value::Object(pair) = item {
                            if pair.contains_key("value") {
                                pair.entry("key")
                                    .or_insert_with(|| Value::String(String::new()));
                            }
                        }
                    }
                }
            }
            for inner in object.values_mut() {
                accept_what_the_collector_writes(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(accept_what_the_collector_writes),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use opentelemetry::trace::{Span as _, SpanKind as ApiKind, Status, Tracer, TracerProvider};
    use opentelemetry::KeyValue as ApiKeyValue;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    #[test]
    fn every_error_is_written_in_english_and_in_portuguese() {
        let url = "http://localhost:16686/api/v3/traces/x".to_owned();
        let errors = [
            JaegerError::Unreachable {
                url: url.clone(),
                reason: "refused".into(),
            },
            JaegerError::NotFound {
                trace_id: "4bf9".into(),
                waited: 10.0,
            },
            JaegerError::Status {
                url: url.clone(),
                status: 500,
                body: "oops".into(),
            },
            JaegerError::BadAnswer {
                url,
                reason: "eof".into(),
            },
        ];
        let render = || errors.iter().map(ToString::to_string).collect::<Vec<_>>();
        crate::lang::assert_translated(render, &[" the ", " is ", " not ", " again"]);
    }
    use opentelemetry_sdk::Resource;

    /// Jaeger's own recorded answer to `GET /api/v3/traces/1` (its
    /// `apiv3/snapshots/GetTrace.json`, v2.20.0): a span with no times, no parent, no attributes.
    const RECORDED: &str = r#"{"result":{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},
        "spans":[{"kind":2,"name":"foobar","spanId":"0000000000000002","status":{"code":2},
        "traceId":"00000000000000000000000000000001"}]}]}]}}"#;

    /// What Jaeger answers for a trace a lab notebook exports: OTLP JSON written by
    /// `opentelemetry-proto`'s serde types from spans the SDK made, in Jaeger's envelope.
    fn answer_for_spans_of(service: &str) -> (String, String) {
        let memory = InMemorySpanExporter::default();
        let resource = Resource::builder()
            .with_service_name(service.to_owned())
            .build();
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_simple_exporter(memory.clone())
            .build();
        let tracer = provider.tracer("example_exporter");
        tracer.in_span("test_span_01", |_cx| {
            tracer
                .span_builder("test_span_02")
                .with_kind(ApiKind::Client)
                .with_attributes([
                    ApiKeyValue::new("http.response.status_code", 503_i64),
                    ApiKeyValue::new("retry", true),
                ])
                .start(&tracer)
                .set_status(Status::error("downstream failed"));
        });
        let spans = memory.get_finished_spans().unwrap();
        let trace_id = spans[0].span_context.trace_id().to_string();
        let resource_spans = group_spans_by_resource_and_scope(
            spans,
            &ResourceAttributesWithSchema::from(&resource),
        );
        let data = TracesData { resource_spans };
        let answer = format!(r#"{{"result":{}}}"#, serde_json::to_string(&data).unwrap());
        (trace_id, answer)
    }

    #[test]
    fn jaegers_recorded_answer_becomes_the_drawing_model() {
        let spans = parse_answer(RECORDED).unwrap();
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        assert_eq!(span.trace_id, "00000000000000000000000000000001");
        assert_eq!(span.span_id, "0000000000000002");
        assert_eq!(span.parent_id, None);
        assert_eq!(span.kind, "server");
        assert_eq!(span.error.as_deref(), Some(""));
        assert_eq!(span.service, "unknown_service");
    }

    #[test]
    fn otlp_json_of_sdk_spans_keeps_tree_service_scope_kind_status_and_attributes() {
        let (trace_id, answer) = answer_for_spans_of("shop_of_ada");
        let spans = parse_answer(&answer).unwrap();
        assert_eq!(spans.len(), 2);
        let outer = spans.iter().find(|s| s.name == "test_span_01").unwrap();
        let inner = spans.iter().find(|s| s.name == "test_span_02").unwrap();
        assert_eq!(outer.trace_id, trace_id);
        assert_eq!(inner.trace_id, trace_id);
        assert_eq!(outer.parent_id, None);
        assert_eq!(inner.parent_id.as_deref(), Some(outer.span_id.as_str()));
        assert_eq!(outer.service, "shop_of_ada");
        assert_eq!(outer.scope, "example_exporter");
        assert_eq!(inner.kind, "client");
        assert_eq!(inner.error.as_deref(), Some("downstream failed"));
        assert_eq!(outer.error, None);
        assert!(inner
            .attributes
            .contains(&("http.response.status_code".into(), "503".into())));
        assert!(inner.attributes.contains(&("retry".into(), "true".into())));
        assert!(outer.start_ns <= inner.start_ns && inner.end_ns <= outer.end_ns);
        assert!(outer.duration_ns() > 0);
    }

    #[test]
    fn what_the_collectors_encoder_leaves_out_does_not_make_the_trace_unreadable() {
        // As Jaeger writes them: an empty array attribute, an empty map, an attribute with an
        // empty key (left out), a NaN double, times as decimal strings, several envelopes.
        let answer = r#"{"result":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
            "scopeSpans":[{"scope":{"name":"lib"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "parentSpanId":"eee19b7ec3c1b173","name":"GET /","kind":2,"startTimeUnixNano":"1544712660000000000",
            "endTimeUnixNano":"1544712661000000000","attributes":[{"key":"tags","value":{"arrayValue":{}}},
            {"key":"labels","value":{"kvlistValue":{}}},{"value":{"stringValue":"no key"}},
            {"key":"ratio","value":{"doubleValue":"NaN"}},{"key":"http.response.status_code","value":{"intValue":"200"}}],
            "events":[{"timeUnixNano":"1544712660500000000","name":"cache miss","attributes":[{"key":"cache.key","value":{"stringValue":"cart:1"}}]}],
            "status":{}}]}]}]}}
            {"result":{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
            "spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"db","status":{}}]}]}]}}"#;
        let spans = parse_answer(answer).unwrap();
        assert_eq!(spans.len(), 2, "both envelopes are read");
        let server = &spans[0];
        assert_eq!(server.service, "frontend");
        assert_eq!(server.duration_ns(), 1_000_000_000);
        assert!(server.attributes.contains(&("tags".into(), "[]".into())));
        assert!(server.attributes.contains(&("ratio".into(), "NaN".into())));
        assert!(server.attributes.contains(&("".into(), "no key".into())));
        assert_eq!(
            server.events,
            vec!["cache miss (cache.key = cart:1)".to_owned()]
        );
        assert_eq!(server.error, None);
        assert_eq!(spans[1].parent_id.as_deref(), Some("eee19b7ec3c1b174"));
    }

    #[test]
    fn an_answer_that_is_not_otlp_json_says_so() {
        assert!(parse_answer("<html>").is_err());
        assert!(parse_answer(r#"{"data": []}"#)
            .unwrap_err()
            .contains("missing field `result`"));
    }

    /// Serves canned HTTP answers on loopback, one per connection, and returns the base URL and
    /// the request lines it saw.
    fn serve(answers: Vec<(&'static str, String)>) -> (String, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = [0u8; 2048];
                let read = stream.read(&mut request).unwrap();
                let head = String::from_utf8_lossy(&request[..read]).to_string();
                seen.push(head.lines().next().unwrap_or_default().to_owned());
                write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
            seen
        });
        (base, handle)
    }

    const NOT_FOUND: &str = r#"{"error":{"httpCode":404,"message":"No traces found"}}"#;

    #[test]
    fn asks_for_the_trace_id_and_waits_while_jaeger_ingests_it() {
        let (trace_id, answer) = answer_for_spans_of("example_exporter");
        let (base, server) = serve(vec![
            ("404 Not Found", NOT_FOUND.to_owned()),
            ("404 Not Found", NOT_FOUND.to_owned()),
            ("200 OK", answer),
        ]);
        let spans = Jaeger::new(base)
            .wait_for_trace(&trace_id, Duration::from_secs(5))
            .unwrap();
        assert_eq!(spans.len(), 2);
        let requests = server.join().unwrap();
        assert_eq!(requests.len(), 3, "it asked until the trace was there");
        for request in requests {
            assert_eq!(request, format!("GET /api/v3/traces/{trace_id} HTTP/1.1"));
        }
    }

    #[test]
    fn a_trace_that_never_arrives_is_reported_after_the_wait() {
        let answers = (0..20)
            .map(|_| ("404 Not Found", NOT_FOUND.to_owned()))
            .collect();
        let (base, _server) = serve(answers);
        let started = Instant::now();
        let err = Jaeger::new(base)
            .wait_for_trace(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                Duration::from_millis(600),
            )
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        let message = err.to_string();
        assert!(
            message
                .starts_with("Jaeger has no trace 4bf92f3577b34da6a3ce929d0e0e4736 (asked for 0."),
            "{message}"
        );
        assert!(
            message.contains("did the flush cell say `delivered`"),
            "{message}"
        );
    }

    #[test]
    fn http_errors_say_what_jaeger_answered() {
        let (base, _server) = serve(vec![(
            "400 Bad Request",
            r#"{"error":{"httpCode":400,"message":"malformed parameter trace_id"}}"#.to_owned(),
        )]);
        let err = Jaeger::new(base).trace("zz").unwrap_err();
        assert!(err.to_string().contains("answered HTTP 400"), "{err}");
        assert!(
            err.to_string().contains("malformed parameter trace_id"),
            "{err}"
        );
    }

    #[test]
    fn an_unreachable_jaeger_says_how_to_start_it() {
        // Bind then drop: nothing listens on this port any more.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Jaeger::new(format!("http://127.0.0.1:{port}"))
            .wait_for_trace("4bf92f3577b34da6a3ce929d0e0e4736", Duration::from_secs(5))
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("Jaeger is not reachable at http://127.0.0.1:{port}/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736 (Connection Failed: ")),
            "{message}"
        );
        assert!(
            message.contains(&format!("docker run --rm --name jaeger -d -p 16686:16686 -p 4317:4317 -p 4318:4318 {JAEGER_IMAGE}")),
            "{message}"
        );
    }

    #[test]
    fn the_trace_page_is_the_uis() {
        assert_eq!(
            Jaeger::new("http://localhost:16686/").trace_page("4bf9"),
            "http://localhost:16686/trace/4bf9"
        );
        assert_eq!(
            Jaeger::new("http://jaeger:16686")
                .with_ui("http://localhost:16686/")
                .trace_page("4bf9"),
            "http://localhost:16686/trace/4bf9",
            "inside the Docker stack the link leads where the browser finds the UI"
        );
    }
}
