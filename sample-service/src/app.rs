//! The service's request path, wired in one place: every request goes through the tracing layer
//! ([`crate::http_tracing`]) to its route ([`crate::routes`]); `GET /chain` calls the downstream
//! service ([`crate::downstream`]) with the propagator the tracing layer extracts with
//! ([`crate::propagation`]); `GET /order` does its steps ([`crate::order`]). Once the service is
//! stopping, every request is answered 503 at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rouille::{Request, Response};

use crate::config::Config;
use crate::downstream::Downstream;
use crate::http_tracing::HttpTracing;
use crate::order::Orders;
use crate::propagation::Propagation;
use crate::routes::{Route, Routes};
use crate::telemetry::SharedTracer;

/// Answers requests.
pub struct App {
    tracing: HttpTracing,
    routes: Routes,
    stopping: Arc<AtomicBool>,
}

impl App {
    /// The app for `config`, making its spans with `tracer`, for a server listening on `local`.
    pub fn new(config: &Config, tracer: SharedTracer, local: SocketAddr) -> App {
        let propagation = Arc::new(Propagation::new());
        let downstream = config
            .downstream
            .as_ref()
            .map(|downstream| Downstream::new(downstream, tracer.clone(), propagation.clone()));
        App {
            // Without a Host header, `server.address` falls back to the address the server
            // listens on (HTTP/1.1 clients always send Host, so this is rare).
            tracing: HttpTracing::new(
                (!config.telemetry.sdk_disabled).then(|| tracer.clone()),
                propagation,
                local,
                config.telemetry.attribute_value_limit,
            ),
            routes: Routes::new(
                tracer.clone(),
                downstream,
                Orders::new(tracer, config.worker_threads / 2),
            ),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The switch that makes the app answer 503 to every request: set when the service stops.
    pub fn stopping(&self) -> Arc<AtomicBool> {
        self.stopping.clone()
    }

    /// Answers `request`, inside its SERVER span.
    pub fn handle(&self, request: &Request) -> Response {
        let route = Route::find(request);
        self.tracing.trace(request, route.map(Route::matched), || {
            if self.stopping.load(Ordering::Acquire) {
                return Response::text("the service is stopping\n")
                    .with_status_code(503)
                    .with_unique_header("Connection", "close");
            }
            self.routes.respond(route, request)
        })
    }
}
