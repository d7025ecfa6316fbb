//! Sends one request to a traced web service and reads which trace it went into, so that a
//! notebook can ask Jaeger for exactly that trace.
//!
//! The lab's sample service answers every traced request with a `traceresponse` header (W3C
//! Trace Context Level 2): the same `version-traceid-spanid-flags` form as `traceparent`, naming
//! the server span it made. It is read with OpenTelemetry's own `traceparent` parser.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::tr;

/// Where the sample service answers when the lab's Docker stack runs on this machine (its proxy
/// on port 80). Inside the stack, the lab container sets `SAMPLE_SERVICE_URL` instead.
pub const DEFAULT_SAMPLE_SERVICE_URL: &str = "http://localhost";

/// The base address of the sample service: `SAMPLE_SERVICE_URL`, or
/// [`DEFAULT_SAMPLE_SERVICE_URL`].
pub fn sample_service_url() -> String {
    std::env::var("SAMPLE_SERVICE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SAMPLE_SERVICE_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// How a traced request went.
#[derive(Debug, Clone)]
pub struct TracedAnswer {
    /// The HTTP status the service answered.
    pub status: u16,
    /// The trace the request went into, 32 hex digits.
    pub trace_id: String,
    /// From sending the request to the end of the answer's body.
    pub took: Duration,
}

/// The request did not lead to a trace; each message says what to do.
#[derive(Debug)]
pub enum RequestError {
    Unreachable { url: String, reason: String },
    NoTraceResponse { url: String, status: u16 },
    BadTraceResponse { url: String, value: String },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const START: &str = "docker compose -f docker/compose.yaml up --build -d";
        f.write_str(&match self {
            RequestError::Unreachable { url, reason } => tr!(
                en: format!(
                    "nothing answers at {url} ({reason}). Start the lab's Docker stack (`{START}` \
                     in the lab's folder), or set SAMPLE_SERVICE_URL to where the sample service \
                     runs, then run this cell again."
                ),
                pt: format!(
                    "nada responde em {url} ({reason}). Suba a stack Docker do lab (`{START}` na \
                     pasta do lab), ou defina SAMPLE_SERVICE_URL com o endereço onde o serviço de \
                     exemplo roda, e execute esta célula de novo."
                ),
            ),
            RequestError::NoTraceResponse { url, status } => tr!(
                en: format!(
                    "{url} answered HTTP {status} without a traceresponse header: is it the lab's \
                     sample service, with tracing on (OTEL_SDK_DISABLED not set to true)?"
                ),
                pt: format!(
                    "{url} respondeu HTTP {status} sem o cabeçalho traceresponse: é o serviço de \
                     exemplo do lab, com o rastreamento ligado (OTEL_SDK_DISABLED diferente de \
                     true)?"
                ),
            ),
            RequestError::BadTraceResponse { url, value } => tr!(
                en: format!(
                    "{url} answered a traceresponse header that is not W3C Trace Context: \
                     {value:?} (expected 00-<32 hex digits>-<16 hex digits>-<2 hex digits>)"
                ),
                pt: format!(
                    "{url} respondeu um cabeçalho traceresponse que não é W3C Trace Context: \
                     {value:?} (esperado: 00-<32 dígitos hex>-<16 dígitos hex>-<2 dígitos hex>)"
                ),
            ),
        })
    }
}

impl std::error::Error for RequestError {}

/// Sends `GET url` and returns its status, the trace id of its `traceresponse` header and how
/// long it took. An error status (a 503 when the service is busy, say) is an answer, not an
/// error: its trace shows why.
pub fn traced_get(url: &str) -> Result<TracedAnswer, RequestError> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let started = Instant::now();
    let response = match agent.get(url).call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(transport)) => {
            // The transport error's own text repeats the URL: keep what went wrong.
            let reason = match transport.message() {
                Some(message) => format!("{}: {message}", transport.kind()),
                None => transport.kind().to_string(),
            };
            return Err(RequestError::Unreachable {
                url: url.to_owned(),
                reason,
            });
        }
    };
    let status = response.status();
    let header = response.header("traceresponse").map(str::to_owned);
    // The body is read to its end, so that `took` is the whole request, as a browser sees it.
    let _ = response.into_string();
    let took = started.elapsed();
    let value = header.ok_or_else(|| RequestError::NoTraceResponse {
        url: url.to_owned(),
        status,
    })?;
    let trace_id = trace_id_of(&value).ok_or_else(|| RequestError::BadTraceResponse {
        url: url.to_owned(),
        value: value.clone(),
    })?;
    Ok(TracedAnswer {
        status,
        trace_id,
        took,
    })
}

/// The trace id of a `traceresponse` value, if the value is valid W3C Trace Context.
///
/// OpenTelemetry's parser is lenient (it takes `00-1-1-01` as trace 1), so the form is checked
/// here first: four lowercase hex fields of 2, 32, 16 and 2 digits. The parser then rejects the
/// values the specification forbids (version `ff`, all-zero ids).
fn trace_id_of(value: &str) -> Option<String> {
    let fields: Vec<&str> = value.split('-').collect();
    let well_formed = fields.len() == 4
        && fields.iter().zip([2, 32, 16, 2]).all(|(field, digits)| {
            field.len() == digits
                && field
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        });
    if !well_formed {
        return None;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), value.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    let span_context = cx.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn every_error_is_written_in_english_and_in_portuguese() {
        let url = "http://127.0.0.1:1/order".to_owned();
        let errors = [
            RequestError::Unreachable {
                url: url.clone(),
                reason: "refused".into(),
            },
            RequestError::NoTraceResponse {
                url: url.clone(),
                status: 200,
            },
            RequestError::BadTraceResponse {
                url,
                value: "00-1-1-01".into(),
            },
        ];
        let render = || errors.iter().map(ToString::to_string).collect::<Vec<_>>();
        crate::lang::assert_translated(render, &[" the ", " is ", " not ", " again"]);
    }

    /// Answers one connection on loopback with `answer` and returns the URL to ask.
    fn answer_once(answer: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/order", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            stream.write_all(answer.as_bytes()).unwrap();
        });
        url
    }

    #[test]
    fn reads_the_trace_id_of_the_traceresponse() {
        let url = answer_once(
            "HTTP/1.1 200 OK\r\ntraceresponse: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\nok",
        );
        let answer = traced_get(&url).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn an_error_status_is_an_answer_with_its_trace() {
        let url = answer_once(
            "HTTP/1.1 503 Service Unavailable\r\ntraceresponse: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(traced_get(&url).unwrap().status, 503);
    }

    #[test]
    fn says_what_is_missing_or_wrong() {
        let url = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let message = traced_get(&url).unwrap_err().to_string();
        assert!(
            message.contains("HTTP 200 without a traceresponse header"),
            "{message}"
        );

        let url = answer_once(
            "HTTP/1.1 200 OK\r\ntraceresponse: 00-1-1-01\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let message = traced_get(&url).unwrap_err().to_string();
        assert!(
            message.contains("\"00-1-1-01\""),
            "the bad value is named: {message}"
        );
    }

    #[test]
    fn nothing_listening_says_how_to_start_the_service() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let message = traced_get(&format!("http://127.0.0.1:{port}/order"))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("nothing answers at http://127.0.0.1:{port}/order")),
            "{message}"
        );
        assert!(
            message.contains("docker compose -f docker/compose.yaml up --build -d"),
            "{message}"
        );
    }
}
