//! Fetches traces back from Jaeger's HTTP query API (the one its UI uses, on port 16686) and turns
//! them into the drawing model, so a notebook can draw what Jaeger stored the same way it draws
//! spans captured in memory.
//!
//! `GET {base}/api/traces?service=NAME&limit=N&lookback=1h` answers
//! `{"data": [{"traceID", "spans": [...], "processes": {...}}]}`; times are in microseconds.
//! Jaeger 2.20 serves this search; later releases removed it (only `/api/v3/traces` remains),
//! which is why the lab pins the `jaegertracing/jaeger:2.20.0` image.

use std::time::Duration;

use serde::Deserialize;

use crate::model::TraceSpan;

/// Where Jaeger's UI and query API listen when started as the lab describes.
pub const DEFAULT_QUERY_URL: &str = "http://localhost:16686";

/// Jaeger could not answer; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum JaegerError {
    #[error(
        "Jaeger is not reachable at {url} ({reason}). Start it with\n  \
         docker run --rm --name jaeger -d -p 16686:16686 -p 4317:4317 -p 4318:4318 jaegertracing/jaeger:2.20.0\n\
         then run the export cell again and this one."
    )]
    Unreachable { url: String, reason: String },
    #[error("Jaeger at {url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Jaeger at {url} answered something that is not a trace list: {reason}")]
    BadAnswer { url: String, reason: String },
    #[error(
        "Jaeger has no trace of the service {service:?} yet. Spans reach it in batches: wait a \
         few seconds (or flush/shut down the provider) and run this cell again; check that the \
         service name matches what the exporting cell set."
    )]
    NoTraces { service: String },
}

/// A client of one Jaeger query endpoint.
#[derive(Debug, Clone)]
pub struct Jaeger {
    base: String,
    agent: ureq::Agent,
}

impl Jaeger {
    /// A client for the query API at `base` (for example `http://localhost:16686`).
    pub fn new(base: impl Into<String>) -> Jaeger {
        Jaeger {
            base: base.into().trim_end_matches('/').to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(5))
                .build(),
        }
    }

    /// The spans of the `limit` most recent traces of `service` from the last hour.
    pub fn recent_traces(
        &self,
        service: &str,
        limit: usize,
    ) -> Result<Vec<TraceSpan>, JaegerError> {
        let url = format!("{}/api/traces", self.base);
        let limit = limit.to_string();
        let response = self
            .agent
            .get(&url)
            .query("service", service)
            .query("limit", &limit)
            .query("lookback", "1h")
            .call();
        let response = match response {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                return Err(JaegerError::Status {
                    url,
                    status,
                    body: response.into_string().unwrap_or_default(),
                })
            }
            Err(err) => {
                return Err(JaegerError::Unreachable {
                    url,
                    reason: err.to_string(),
                })
            }
        };
        let answer: Answer = response.into_json().map_err(|err| JaegerError::BadAnswer {
            url: url.clone(),
            reason: err.to_string(),
        })?;
        let spans = answer.into_spans();
        if spans.is_empty() {
            return Err(JaegerError::NoTraces {
                service: service.to_owned(),
            });
        }
        Ok(spans)
    }
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<JaegerTrace>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerTrace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: std::collections::HashMap<String, Process>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Process {
    service_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    operation_name: String,
    #[serde(default)]
    references: Vec<Reference>,
    /// Microseconds since the Unix epoch.
    start_time: u64,
    /// Microseconds.
    duration: u64,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(rename = "processID")]
    process_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    ref_type: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Debug, Deserialize)]
struct Tag {
    key: String,
    value: serde_json::Value,
}

impl Answer {
    fn into_spans(self) -> Vec<TraceSpan> {
        let mut spans = Vec::new();
        for trace in self.data {
            for span in trace.spans {
                let service = trace
                    .processes
                    .get(&span.process_id)
                    .map_or_else(|| span.process_id.clone(), |p| p.service_name.clone());
                spans.push(span.into_model(service));
            }
        }
        spans
    }
}

impl JaegerSpan {
    fn into_model(self, service: String) -> TraceSpan {
        let tag = |key: &str| {
            self.tags
                .iter()
                .find(|tag| tag.key == key)
                .map(|tag| text(&tag.value))
        };
        let error = if tag("otel.status_code").as_deref() == Some("ERROR")
            || tag("error").as_deref() == Some("true")
        {
            Some(tag("otel.status_description").unwrap_or_default())
        } else {
            None
        };
        let kind = tag("span.kind").unwrap_or_else(|| "internal".to_owned());
        let parent_id = self
            .references
            .iter()
            .find(|reference| reference.ref_type == "CHILD_OF")
            .map(|reference| reference.span_id.clone());
        let start_ns = u128::from(self.start_time) * 1_000;
        TraceSpan {
            trace_id: pad_id(&self.trace_id, 32),
            span_id: pad_id(&self.span_id, 16),
            parent_id: parent_id.map(|id| pad_id(&id, 16)),
            name: self.operation_name.clone(),
            service,
            kind,
            start_ns,
            end_ns: start_ns + u128::from(self.duration) * 1_000,
            error,
            attributes: self
                .tags
                .iter()
                .map(|tag| (tag.key.clone(), text(&tag.value)))
                .collect(),
            events: Vec::new(),
        }
    }
}

/// Jaeger drops leading zeros from ids; the SDK prints them at full width.
fn pad_id(id: &str, width: usize) -> String {
    format!("{id:0>width$}")
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    /// An answer in the shape Jaeger's query API gives (taken from its UI's requests).
    const ANSWER: &str = r#"{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[
        {"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"561ab3cdece1faed","operationName":"GET /",
         "references":[],"startTime":1700000000000000,"duration":250,"processID":"p1",
         "tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"http.response.status_code","type":"int64","value":200}]},
        {"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"31b6ef56d444d95a","operationName":"test_span",
         "references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"561ab3cdece1faed"}],
         "startTime":1700000000000010,"duration":20,"processID":"p1",
         "tags":[{"key":"otel.status_code","type":"string","value":"ERROR"},{"key":"otel.status_description","type":"string","value":"boom"}]}],
        "processes":{"p1":{"serviceName":"service_example","tags":[]}},"warnings":null}],
        "total":0,"limit":0,"offset":0,"errors":null}"#;

    #[test]
    fn a_jaeger_answer_becomes_the_drawing_model() {
        let answer: Answer = serde_json::from_str(ANSWER).unwrap();
        let spans = answer.into_spans();
        assert_eq!(spans.len(), 2);
        let server = &spans[0];
        assert_eq!(server.service, "service_example");
        assert_eq!(server.kind, "server");
        assert_eq!(server.parent_id, None);
        assert_eq!(server.duration_ns(), 250_000);
        assert!(server
            .attributes
            .contains(&("http.response.status_code".into(), "200".into())));
        let child = &spans[1];
        assert_eq!(child.parent_id.as_deref(), Some("561ab3cdece1faed"));
        assert_eq!(child.error.as_deref(), Some("boom"));
        assert_eq!(child.start_ns - server.start_ns, 10_000);
    }

    #[test]
    fn short_ids_are_padded_to_full_width() {
        assert_eq!(pad_id("1a", 16), "000000000000001a");
    }

    /// Serves one canned HTTP answer on loopback and returns the base URL and the request line.
    fn serve_once(
        status: &'static str,
        body: &'static str,
    ) -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 2048];
            let read = stream.read(&mut request).unwrap();
            let head = String::from_utf8_lossy(&request[..read]).to_string();
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            head.lines().next().unwrap_or_default().to_owned()
        });
        (base, handle)
    }

    #[test]
    fn asks_for_the_service_and_parses_the_answer() {
        let (base, server) = serve_once("200 OK", ANSWER);
        let spans = Jaeger::new(base)
            .recent_traces("service_example", 5)
            .unwrap();
        assert_eq!(spans.len(), 2);
        let request_line = server.join().unwrap();
        assert!(
            request_line
                .starts_with("GET /api/traces?service=service_example&limit=5&lookback=1h "),
            "{request_line}"
        );
    }

    #[test]
    fn no_traces_and_http_errors_say_so() {
        let (base, _server) = serve_once("200 OK", r#"{"data":[],"errors":null}"#);
        let err = Jaeger::new(base).recent_traces("nobody", 5).unwrap_err();
        assert!(
            err.to_string()
                .contains("no trace of the service \"nobody\""),
            "{err}"
        );
        let (base, _server) = serve_once("500 Internal Server Error", r#"{"errors":["boom"]}"#);
        let err = Jaeger::new(base).recent_traces("x", 5).unwrap_err();
        assert!(err.to_string().contains("answered HTTP 500"), "{err}");
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
            .recent_traces("x", 1)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("Jaeger is not reachable"), "{message}");
        assert!(
            message.contains("docker run --rm --name jaeger"),
            "{message}"
        );
    }
}
