//! The unit tests of the tracing layer, against the SDK's in-memory exporter: span names, kinds,
//! parent links, attributes, status, propagation and `traceresponse`.

use super::*;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_ROUTE,
    NETWORK_PEER_PORT, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_QUERY,
    URL_SCHEME, USER_AGENT_ORIGINAL,
};

const LOCAL: &str = "127.0.0.1:5000";
const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

struct Harness {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    tracing: HttpTracing,
}

fn harness() -> Harness {
    let (tracer, exporter, provider) = crate::telemetry::in_memory_tracer();
    let tracing = HttpTracing::new(
        Some(tracer),
        Arc::new(Propagation::new()),
        LOCAL.parse().unwrap(),
        1024,
    );
    Harness {
        exporter,
        provider,
        tracing,
    }
}

impl Harness {
    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter.get_finished_spans().unwrap()
    }

    fn only_span(&self) -> SpanData {
        let spans = self.spans();
        assert_eq!(spans.len(), 1, "{spans:#?}");
        spans.into_iter().next().unwrap()
    }
}

fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Request {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Request::fake_http_from(
        "10.1.2.3:40000".parse().unwrap(),
        method,
        url,
        headers,
        Vec::new(),
    )
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn ok() -> Response {
    Response::text("fine")
}

#[test]
fn names_the_span_after_method_and_route_with_the_conventions_attributes() {
    let h = harness();
    let request = request(
        "GET",
        "/?lang=pt",
        &[("Host", "lab.example:8081"), ("User-Agent", "curl/8.5.0")],
    );
    let response = h
        .tracing
        .trace(&request, Some(crate::matched_route!("/")), ok);
    assert_eq!(response.status_code, 200);

    let span = h.only_span();
    assert_eq!(span.name, "GET /");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.status, Status::Unset);
    let expect: &[(&str, Value)] = &[
        (HTTP_REQUEST_METHOD, "GET".into()),
        (URL_PATH, "/".into()),
        (URL_QUERY, "lang=pt".into()),
        (URL_SCHEME, "http".into()),
        (HTTP_ROUTE, "/".into()),
        (HTTP_RESPONSE_STATUS_CODE, 200_i64.into()),
        (SERVER_ADDRESS, "lab.example".into()),
        (SERVER_PORT, 8081_i64.into()),
        (CLIENT_ADDRESS, "10.1.2.3".into()),
        (NETWORK_PEER_PORT, 40000_i64.into()),
        (USER_AGENT_ORIGINAL, "curl/8.5.0".into()),
        (NETWORK_PROTOCOL_VERSION, "1.1".into()),
    ];
    for (key, value) in expect {
        assert_eq!(
            attribute(&span, key).as_ref(),
            Some(value),
            "attribute {key}"
        );
    }
    assert_eq!(attribute(&span, ERROR_TYPE), None);
}

#[test]
fn server_address_falls_back_to_the_listening_socket_and_the_default_port() {
    let h = harness();
    h.tracing.trace(
        &request("GET", "/", &[]),
        Some(crate::matched_route!("/")),
        ok,
    );
    h.tracing.trace(
        &request("GET", "/", &[("Host", "lab.example")]),
        Some(crate::matched_route!("/")),
        ok,
    );
    let spans = h.spans();
    assert_eq!(
        attribute(&spans[0], SERVER_ADDRESS),
        Some("127.0.0.1".into())
    );
    assert_eq!(attribute(&spans[0], SERVER_PORT), Some(5000_i64.into()));
    assert_eq!(attribute(&spans[1], SERVER_PORT), Some(80_i64.into()));
}

#[test]
fn a_request_without_a_route_is_named_after_its_method_only() {
    let h = harness();
    let response = h.tracing.trace(&request("GET", "/nope", &[]), None, || {
        Response::empty_404()
    });
    assert_eq!(response.status_code, 404);
    let span = h.only_span();
    assert_eq!(span.name, "GET");
    assert_eq!(attribute(&span, HTTP_ROUTE), None);
    assert_eq!(span.status, Status::Unset, "a 4xx is not a server error");
}

#[test]
fn an_unknown_method_is_other_and_named_http() {
    let h = harness();
    h.tracing.trace(
        &request("BREW", "/", &[]),
        Some(crate::matched_route!("/")),
        ok,
    );
    let span = h.only_span();
    assert_eq!(span.name, "HTTP /");
    assert_eq!(attribute(&span, HTTP_REQUEST_METHOD), Some("_OTHER".into()));
    assert_eq!(
        attribute(&span, HTTP_REQUEST_METHOD_ORIGINAL),
        Some("BREW".into())
    );
}

#[test]
fn a_5xx_sets_error_status_and_error_type() {
    let h = harness();
    h.tracing.trace(
        &request("GET", "/", &[]),
        Some(crate::matched_route!("/")),
        || Response::text("down").with_status_code(503),
    );
    let span = h.only_span();
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(attribute(&span, ERROR_TYPE), Some("503".into()));
    assert_eq!(
        attribute(&span, HTTP_RESPONSE_STATUS_CODE),
        Some(503_i64.into())
    );
}

#[test]
fn a_panic_answers_500_and_is_recorded_on_the_span() {
    let h = harness();
    let response = h.tracing.trace(
        &request("GET", "/", &[]),
        Some(crate::matched_route!("/")),
        || panic!("the database is on fire"),
    );
    assert_eq!(response.status_code, 500);
    let span = h.only_span();
    assert_eq!(
        span.status,
        Status::error("handler panicked: the database is on fire")
    );
    assert_eq!(attribute(&span, ERROR_TYPE), Some("500".into()));
    let event = span.events.iter().next().expect("an exception event");
    assert_eq!(event.name, "exception");
    assert!(event
        .attributes
        .contains(&KeyValue::new(EXCEPTION_MESSAGE, "the database is on fire")));
}

#[test]
fn the_handler_runs_inside_the_server_span() {
    let h = harness();
    h.tracing.trace(
        &request("GET", "/", &[]),
        Some(crate::matched_route!("/")),
        || {
            let tracer = h.provider.tracer("handler");
            tracer.in_span("test_span", |_| ok())
        },
    );
    let spans = h.spans();
    let child = spans.iter().find(|s| s.name == "test_span").unwrap();
    let server = spans.iter().find(|s| s.name == "GET /").unwrap();
    assert_eq!(
        child.span_context.trace_id(),
        server.span_context.trace_id()
    );
    assert_eq!(child.parent_span_id, server.span_context.span_id());
    assert_eq!(server.parent_span_id, SpanId::INVALID, "a root span");
}

#[test]
fn a_valid_traceparent_continues_the_callers_trace() {
    let h = harness();
    let traceparent = format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01");
    let request = request(
        "GET",
        "/",
        &[("traceparent", &traceparent), ("tracestate", "lab=1")],
    );
    let response = h
        .tracing
        .trace(&request, Some(crate::matched_route!("/")), ok);
    let span = h.only_span();
    assert_eq!(
        span.span_context.trace_id(),
        TraceId::from_hex(PARENT_TRACE).unwrap()
    );
    assert_eq!(span.parent_span_id, SpanId::from_hex(PARENT_SPAN).unwrap());
    assert!(span.parent_span_is_remote);
    assert_eq!(span.span_context.trace_state().header(), "lab=1");
    assert_eq!(
        response_header(&response, TRACE_RESPONSE_HEADER),
        Some(format!(
            "00-{PARENT_TRACE}-{}-01",
            span.span_context.span_id()
        ))
    );
}

#[test]
fn a_missing_or_malformed_traceparent_starts_a_fresh_trace() {
    let malformed = [
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",    // no flags
        "00-1-1-01",                                               // short ids
        "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // a sign
        "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // 3-digit version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // trailing dash
    ];
    for value in malformed {
        let h = harness();
        let headers: Vec<(&str, &str)> = if value.is_empty() {
            vec![]
        } else {
            vec![("traceparent", value)]
        };
        let response = h.tracing.trace(
            &request("GET", "/", &headers),
            Some(crate::matched_route!("/")),
            ok,
        );
        assert_eq!(
            response.status_code, 200,
            "{value:?} must not fail the request"
        );
        let span = h.only_span();
        assert_eq!(
            span.parent_span_id,
            SpanId::INVALID,
            "{value:?}: a root span"
        );
        assert_ne!(
            span.span_context.trace_id(),
            TraceId::from_hex(PARENT_TRACE).unwrap(),
            "{value:?}"
        );
        let header = response_header(&response, TRACE_RESPONSE_HEADER).unwrap();
        assert_eq!(
            header,
            format!(
                "00-{}-{}-01",
                span.span_context.trace_id(),
                span.span_context.span_id()
            ),
            "{value:?}"
        );
    }
}

#[test]
fn two_traceparent_headers_start_a_fresh_trace() {
    let h = harness();
    let valid = format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01");
    let other = "00-12345678901234567890123456789012-1234567890123456-01";
    h.tracing.trace(
        &request(
            "GET",
            "/",
            &[("traceparent", &valid), ("traceparent", other)],
        ),
        Some(crate::matched_route!("/")),
        ok,
    );
    let span = h.only_span();
    assert_eq!(span.parent_span_id, SpanId::INVALID);
}

fn response_header(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.to_string())
}

#[test]
fn with_the_sdk_disabled_no_span_and_no_traceresponse_but_the_callers_context_passes_on() {
    let tracing = HttpTracing::new(
        None,
        Arc::new(Propagation::new()),
        LOCAL.parse().unwrap(),
        1024,
    );
    let response = tracing.trace(
        &request("GET", "/", &[]),
        Some(crate::matched_route!("/")),
        ok,
    );
    assert_eq!(response.status_code, 200);
    assert_eq!(response_header(&response, TRACE_RESPONSE_HEADER), None);

    let traceparent = format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01");
    let seen = std::cell::Cell::new(None);
    let response = tracing.trace(
        &request("GET", "/chain", &[("traceparent", &traceparent)]),
        Some(crate::matched_route!("/chain")),
        || {
            let cx = Context::current();
            let span = cx.span();
            seen.set(Some((span.span_context().trace_id(), span.is_recording())));
            ok()
        },
    );
    assert_eq!(response_header(&response, TRACE_RESPONSE_HEADER), None);
    assert_eq!(
        seen.get(),
        Some((TraceId::from_hex(PARENT_TRACE).unwrap(), false)),
        "the handler runs in the caller's context, with no span of its own"
    );
}

/// A rouille request to `/` with `headers`, in order.
fn request_with(headers: &[(&str, &str)]) -> Request {
    let headers = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Request::fake_http("GET", "/", headers, Vec::new())
}

#[test]
fn several_tracestate_headers_are_read_as_one_list_and_one_is_read_in_place() {
    let request = request_with(&[
        ("tracestate", "foo=1,bar=2"),
        ("TraceState", ""),
        ("x-other", "1"),
        ("TRACESTATE", "rojo=1,congo=2"),
        ("tracestate", " \t"),
        ("tracestate", "baz=3"),
    ]);
    let headers = RequestHeaders::new(&request);
    assert_eq!(
        headers.get("tracestate"),
        Some("foo=1,bar=2,rojo=1,congo=2,baz=3")
    );
    let request = request_with(&[("tracestate", ""), ("tracestate", "foo=1")]);
    let headers = RequestHeaders::new(&request);
    let value = headers.get("TraceState");
    assert_eq!(value, Some("foo=1"));
    // One non-empty header is handed over as rouille holds it, not copied.
    let held = request.headers().nth(1).map(|(_, value)| value);
    assert!(std::ptr::eq(value.unwrap(), held.unwrap()));
    let request = request_with(&[("tracestate", "")]);
    assert_eq!(RequestHeaders::new(&request).get("tracestate"), None);
}

#[test]
fn a_repeated_traceparent_is_read_as_none() {
    let one = format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01");
    let request = request_with(&[("TraceParent", &one)]);
    assert_eq!(
        RequestHeaders::new(&request).get("traceparent"),
        Some(one.as_str())
    );
    let request = request_with(&[("traceparent", &one), ("TRACEPARENT", &one)]);
    assert_eq!(RequestHeaders::new(&request).get("traceparent"), None);
}
