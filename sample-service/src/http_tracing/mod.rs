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
mod tests;
