//! The HTTP server: rouille's thread pool, every request through the tracing layer, and a
//! graceful stop.
//!
//! rouille has no "stop" call: the documented way is a `poll_timeout` loop that checks a flag,
//! then `join()` for the requests already in the pool. `poll_timeout` only returns after a pause
//! in the traffic, so the loop runs on its own thread and [`RunningServer::stop`] waits for it
//! for a bounded time: a stop never hangs, even under a steady stream of requests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use rouille::{Request, Response, Server};

use crate::config::DownstreamConfig;
use crate::downstream::Downstream;
use crate::http_tracing::HttpTracing;
use crate::routes::{Route, Routes};
use crate::telemetry::SharedTracer;

/// How long the accept loop waits for a request before it looks at the stop flag again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

type Handler = Box<dyn Fn(&Request) -> Response + Send + Sync + 'static>;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not listen on {addr}: {reason} (is another program using the port? set PORT to choose another)")]
    Bind { addr: SocketAddr, reason: String },
    #[error("could not start the server thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A bound server, not yet accepting requests.
pub struct HttpServer {
    server: Server<Handler>,
}

impl HttpServer {
    /// Binds `addr` and routes every request through the tracing layer; `GET /chain` calls
    /// `downstream`, if given.
    pub fn bind(
        addr: SocketAddr,
        tracer: SharedTracer,
        downstream: Option<&DownstreamConfig>,
    ) -> Result<HttpServer, ServerError> {
        // Without a Host header, `server.address` falls back to the address we were asked to
        // bind (HTTP/1.1 clients always send Host, so this is rare).
        let tracing = HttpTracing::new(tracer.clone(), addr);
        let downstream = downstream.map(|config| Downstream::new(config, tracer.clone()));
        let routes = Routes::new(tracer, downstream);
        let handler: Handler = Box::new(move |request: &Request| {
            let route = Route::find(request);
            tracing.trace(request, route.map(Route::template), || {
                routes.respond(route, request)
            })
        });
        let server = Server::new(addr, handler)
            .map_err(|err| ServerError::Bind {
                addr,
                reason: err.to_string(),
            })?
            .pool_size(pool_size());
        Ok(HttpServer { server })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.server_addr()
    }

    /// Starts accepting requests on a thread of its own.
    pub fn spawn(self) -> Result<RunningServer, ServerError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = mpsc::channel();
        let flag = Arc::clone(&stop);
        let server = self.server;
        thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    server.poll_timeout(POLL_INTERVAL);
                }
                // Take what is already queued, then wait for the pool to finish it all.
                server.poll();
                server.join();
                drop(server); // closes the listening socket
                let _ = done_tx.send(());
            })
            .map_err(ServerError::Thread)?;
        Ok(RunningServer {
            stop,
            done: done_rx,
        })
    }
}

/// A server accepting requests.
pub struct RunningServer {
    stop: Arc<AtomicBool>,
    done: mpsc::Receiver<()>,
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// Every accepted request was answered and the socket is closed.
    Drained,
    /// Requests kept coming or kept running past the grace period.
    GraceExpired,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits at most `grace` for both.
    pub fn stop(self, grace: Duration) -> StopOutcome {
        self.stop.store(true, Ordering::Release);
        match self.done.recv_timeout(grace) {
            Ok(()) => StopOutcome::Drained,
            Err(_) => StopOutcome::GraceExpired,
        }
    }
}

/// rouille's default spawns a thread per request; a fixed pool served about 3.5 times as many
/// requests per second on these machines (see FACTS.md). Handlers here never block long, so a
/// few threads per core keep the cores busy.
fn pool_size() -> usize {
    let cores = thread::available_parallelism().map_or(2, usize::from);
    (cores * 4).max(4)
}
