//! OpenTelemetry HTTP server instrumentation for rouille: one SERVER span around each request.
//!
//! No maintained crate instruments rouille (there are layers for axum, actix, tide and poem, none
//! for rouille or tiny_http), so this thin layer is written here, once, and every route goes
//! through it, in three steps:
//!
//! - **start**: the caller's context is extracted (a W3C `traceparent` that follows the
//!   specification continues the caller's trace, any other starts a fresh one; see
//!   [`crate::propagation`]), and the span starts, named `{method} {route}` (`GET /`) or just
//!   `{method}` when no route matched, with the attributes of [`attributes`];
//! - **run**: the handler runs with the span active; a panic is recorded as an `exception` event
//!   and answered with a 500;
//! - **respond**: the status code is recorded, a 5xx sets the status to Error with `error.type`,
//!   and the response carries the span's context in a `traceresponse` header (W3C Trace Context
//!   level 2), so whoever sent the request can look its trace up in Jaeger.

pub mod attributes;

use std::any::Any;
use std::cell::OnceCell;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE, HTTP_RESPONSE_STATUS_CODE,
};
use rouille::{Request, Response};

use crate::matched_route::MatchedRoute;
use crate::propagation::{traceparent, Propagation, TRACEPARENT, TRACESTATE};
use crate::telemetry::SharedTracer;
use attributes::{request_attributes, span_name, Method};

/// The response header that carries the server span's context back to the caller.
pub const TRACE_RESPONSE_HEADER: &str = "traceresponse";

/// Wraps request handlers in SERVER spans.
pub struct HttpTracing {
    /// `None` when the SDK is disabled: then no span would record, and none is made.
    tracer: Option<SharedTracer>,
    propagation: Arc<Propagation>,
    /// Where the server listens: `server.address`/`server.port` when the request has no `Host`.
    local_addr: SocketAddr,
    /// The longest attribute value a request can put on its span, in bytes.
    attribute_value_limit: usize,
}

impl HttpTracing {
    pub fn new(
        tracer: Option<SharedTracer>,
        propagation: Arc<Propagation>,
        local_addr: SocketAddr,
        attribute_value_limit: usize,
    ) -> HttpTracing {
        HttpTracing {
            tracer,
            propagation,
            local_addr,
            attribute_value_limit,
        }
    }

    /// Runs `handler` inside a SERVER span for `request`. `route` is the route that matched, or
    /// `None` when none did.
    pub fn trace(
        &self,
        request: &Request,
        route: Option<MatchedRoute>,
        handler: impl FnOnce() -> Response,
    ) -> Response {
        let parent = self.propagation.extract(&RequestHeaders::new(request));
        let Some(tracer) = &self.tracer else {
            // The SDK is disabled: a span would record nothing, so none is made, no attribute
            // is built and no `traceresponse` is sent. The caller's context is still made
            // current, so that `/chain` passes the caller's trace on.
            return run(&parent, handler);
        };
        let cx = self.start(tracer, parent, request, route);
        let response = run(&cx, handler);
        self.respond(&cx, response)
    }

    /// The span of `request`, started with `tracer` in the caller's context `parent`, as a
    /// context of its own.
    fn start(
        &self,
        tracer: &SharedTracer,
        parent: Context,
        request: &Request,
        route: Option<MatchedRoute>,
    ) -> Context {
        let method = Method::of(request.method());
        let attributes = request_attributes(
            request,
            method,
            route,
            self.local_addr,
            self.attribute_value_limit,
        );
        let span = tracer
            .span_builder(span_name(method, route))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&**tracer, &parent);
        parent.with_span(span)
    }

    /// Records the response on the span, ends it, and returns the response with its
    /// `traceresponse` header.
    fn respond(&self, cx: &Context, response: Response) -> Response {
        let span = cx.span();
        let status = response.status_code;
        span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
        if status >= 500 {
            // The conventions: a server span is an error for 5xx only; 4xx is the client's.
            span.set_attribute(KeyValue::new(ERROR_TYPE, status.to_string()));
            span.set_status(Status::error(""));
        }
        let response = match traceparent(cx) {
            Some(value) => response.with_unique_header(TRACE_RESPONSE_HEADER, value),
            None => response,
        };
        span.end();
        response
    }
}

/// Runs `handler` with the span of `cx` active; a panic becomes an `exception` event and a 500.
fn run(cx: &Context, handler: impl FnOnce() -> Response) -> Response {
    let outcome = {
        let _active = cx.clone().attach();
        panic::catch_unwind(AssertUnwindSafe(handler))
    };
    match outcome {
        Ok(response) => response,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            let span = cx.span();
            span.add_event(
                "exception",
                vec![
                    KeyValue::new(EXCEPTION_TYPE, "panic"),
                    KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
                ],
            );
            span.set_status(Status::error(format!("handler panicked: {message}")));
            Response::text("Internal Server Error\n").with_status_code(500)
        }
    }
}

/// Reads a rouille request's headers for a propagator. `opentelemetry-http` carries
/// `http::HeaderMap`s, which rouille does not use; copying every request's headers into one
/// cost more CPU than the rest of the span, so this adapter reads rouille's own headers.
///
/// A header may come several times, which rouille's `Request::header` does not show (it returns
/// the first), so the two headers of W3C Trace Context are read through `Request::headers`:
/// several `tracestate` are one list, joined in order with `,`, an empty one adding nothing;
/// several `traceparent` are invalid, and read as none, so that the request starts a new trace
/// (<https://www.w3.org/TR/trace-context-2/#tracestate-header-field-values>,
/// <https://www.w3.org/TR/trace-context-2/#traceparent-header>).
struct RequestHeaders<'a> {
    request: &'a Request,
    /// The joined `tracestate`, made only when the request has more than one non-empty.
    joined_tracestate: OnceCell<String>,
}

impl<'a> RequestHeaders<'a> {
    /// The headers of `request`, nothing read or copied yet.
    fn new(request: &'a Request) -> RequestHeaders<'a> {
        RequestHeaders {
            request,
            joined_tracestate: OnceCell::new(),
        }
    }

    /// The values of every header named `name` (case-insensitively), in order.
    fn all(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.request
            .headers()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The value of the one header named `name`; none when it is missing or repeated.
    fn only(&self, name: &'a str) -> Option<&'a str> {
        let mut values = self.all(name);
        let first = values.next()?;
        values.next().is_none().then_some(first)
    }

    /// The `tracestate` headers that are not empty, in order.
    fn tracestates(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.all(TRACESTATE).filter(|value| !is_blank(value))
    }

    /// Every `tracestate` header that is not empty, joined in order with `,`; the only one as it
    /// is, without allocating, when there is one.
    fn tracestate(&self) -> Option<&str> {
        let mut values = self.tracestates();
        let first = values.next()?;
        if values.next().is_none() {
            return Some(first);
        }
        let joined = self.joined_tracestate.get_or_init(|| {
            let mut joined = String::new();
            for value in self.tracestates() {
                if !joined.is_empty() {
                    joined.push(',');
                }
                joined.push_str(value);
            }
            joined
        });
        Some(joined)
    }
}

/// Whether a header value holds nothing but HTTP's spaces and tabs.
fn is_blank(value: &str) -> bool {
    value.trim_matches([' ', '\t']).is_empty()
}

impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key.eq_ignore_ascii_case(TRACEPARENT) {
            self.only(TRACEPARENT)
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            self.tracestate()
        } else {
            self.request.header(key) // rouille compares header names case-insensitively
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.request.headers().map(|(name, _)| name).collect()
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::global::BoxedTracer;
    use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
    use opentelemetry::Value;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use opentelemetry_semantic_conventions::attribute::{
        CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_ROUTE,
        NETWORK_PEER_PORT, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_PATH,
        URL_QUERY, URL_SCHEME, USER_AGENT_ORIGINAL,
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
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer: SharedTracer = Arc::new(BoxedTracer::new(Box::new(provider.tracer("test"))));
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
}
