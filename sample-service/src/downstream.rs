//! The service's one outgoing call: `GET /chain` asks another service (`DOWNSTREAM_URL`), inside a
//! CLIENT span that carries the W3C trace context and baggage in the request's headers, so the
//! downstream service's SERVER span joins the same trace and reads the same baggage. The span
//! follows the HTTP client semantic conventions; a failure sets its status to Error with
//! `error.type`.
//!
//! A call holds a worker thread until the downstream service answers or the timeout passes, so at
//! most `DOWNSTREAM_MAX_CONCURRENT` calls run at once: one more is refused at once
//! ([`CallError::Busy`]), and a slow downstream service can never take every worker thread.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::HeaderInjector;
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, SERVER_ADDRESS, SERVER_PORT,
    URL_FULL,
};
use url::Url;

use crate::config::DownstreamConfig;
use crate::limit::Limit;
use crate::propagation::Propagation;
use crate::telemetry::SharedTracer;

/// The most of a downstream answer the service reads and passes on.
const MAX_BODY_BYTES: u64 = 64 * 1024;

/// A downstream call that did not give a 2xx answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    #[error("the downstream service at {url} did not answer within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128 },
    #[error("the downstream service at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the downstream service at {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{max} calls to the downstream service are already in progress, the most DOWNSTREAM_MAX_CONCURRENT allows; try again shortly")]
    Busy { max: usize },
}

/// A traced HTTP client for the downstream service.
pub struct Downstream {
    url: Url,
    timeout: Duration,
    agent: ureq::Agent,
    tracer: SharedTracer,
    propagation: Arc<Propagation>,
    in_progress: Limit,
}

impl Downstream {
    pub fn new(
        config: &DownstreamConfig,
        tracer: SharedTracer,
        propagation: Arc<Propagation>,
    ) -> Downstream {
        Downstream {
            url: config.url.clone(),
            timeout: config.timeout,
            agent: ureq::AgentBuilder::new().timeout(config.timeout).build(),
            tracer,
            propagation,
            in_progress: Limit::new(config.max_concurrent),
        }
    }

    /// `GET` the downstream URL as a child of the active span; returns its body. Refused at once,
    /// without a span, when `DOWNSTREAM_MAX_CONCURRENT` calls are in progress.
    pub fn call(&self) -> Result<String, CallError> {
        let Some(_permit) = self.in_progress.try_acquire() else {
            return Err(CallError::Busy {
                max: self.in_progress.max(),
            });
        };
        let parent = Context::current();
        let mut attributes = vec![
            KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
            KeyValue::new(URL_FULL, self.url.to_string()),
        ];
        if let Some(host) = self.url.host_str() {
            attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
        }
        if let Some(port) = self.url.port_or_known_default() {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        // The conventions name a client span after its method alone.
        let span = self
            .tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&*self.tracer, &parent);
        let cx = parent.with_span(span);

        let mut headers = HeaderMap::new();
        self.propagation
            .inject(&cx, &mut HeaderInjector(&mut headers));
        let mut request = self.agent.request_url("GET", &self.url);
        for (name, value) in &headers {
            if let Ok(value) = value.to_str() {
                request = request.set(name.as_str(), value);
            }
        }

        let outcome = self.answer(request.call());
        let span = cx.span();
        match &outcome {
            Ok((status, _)) => {
                span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(*status)))
            }
            Err(error) => {
                let error_type = match error {
                    CallError::Status { status, .. } => {
                        span.set_attribute(KeyValue::new(
                            HTTP_RESPONSE_STATUS_CODE,
                            i64::from(*status),
                        ));
                        status.to_string()
                    }
                    CallError::Timeout { .. } => "timeout".to_owned(),
                    CallError::Unreachable { .. } => "unreachable".to_owned(),
                    CallError::Busy { .. } => "busy".to_owned(),
                };
                span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
                span.set_status(Status::error(error.to_string()));
            }
        }
        span.end();
        outcome.map(|(_, body)| body)
    }

    fn answer(
        &self,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<(u16, String), CallError> {
        let url = self.url.to_string();
        match result {
            Ok(response) => {
                let status = response.status();
                let mut body = String::new();
                response
                    .into_reader()
                    .take(MAX_BODY_BYTES)
                    .read_to_string(&mut body)
                    .map_err(|err| self.transport_error(url, &err))?;
                Ok((status, body))
            }
            // The conventions: for a client, 4xx and 5xx are both errors.
            Err(ureq::Error::Status(status, _)) => Err(CallError::Status { url, status }),
            Err(ureq::Error::Transport(transport)) => Err(self.transport_error(url, &transport)),
        }
    }

    fn transport_error(&self, url: String, error: &(dyn std::error::Error + 'static)) -> CallError {
        if is_timeout(error) {
            CallError::Timeout {
                url,
                timeout_ms: self.timeout.as_millis(),
            }
        } else {
            CallError::Unreachable {
                url,
                reason: error.to_string(),
            }
        }
    }
}

/// Whether `error`, or one of its sources, is an I/O timeout.
fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        current = error.source();
    }
    false
}
