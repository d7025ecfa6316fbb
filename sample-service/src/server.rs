//! The HTTP server: rouille's worker threads answering through the [`App`], a watchdog on the
//! listening socket, and a stop that closes the socket first and then waits, for a bounded time,
//! for the requests in progress.
//!
//! rouille has no "stop" call: the accept loop is a `poll_timeout` loop that checks a flag, on a
//! thread of its own. Dropping rouille's server closes the listening socket and lets the worker
//! threads finish the requests they hold; the last one to finish drops the handler, which tells
//! [`RunningServer::stop`] that every request is answered. `poll_timeout` only returns after a
//! pause in the traffic, so under a steady stream of requests the socket stays open until the
//! stop's time is up; the app answers those requests 503 meanwhile.
//!
//! When `accept` fails (out of file descriptors, for one), tiny_http, rouille's HTTP layer, ends
//! its accept thread and closes the socket without a word, leaving a process that runs but can
//! never be reached. A watchdog connects to the socket every second and reports a refusal, so the
//! service can exit and be restarted by its supervisor.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use rouille::{Request, Response, Server};

use crate::app::App;
use crate::probe::probe_addr;

/// How long the accept loop waits for a request before it looks at the stop flag again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often the watchdog checks that the listening socket still accepts connections.
const WATCHDOG_INTERVAL: Duration = Duration::from_secs(1);

type Handler = Box<dyn Fn(&Request) -> Response + Send + Sync + 'static>;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "could not listen on {addr}: {reason} (is another program using the port? set {port} to choose another)",
        port = crate::config::variables::PORT.name
    )]
    Bind { addr: SocketAddr, reason: String },
    #[error("could not start the server's threads: {0}")]
    Thread(#[source] std::io::Error),
}

/// A bound server, not yet accepting requests.
pub struct HttpServer {
    server: Server<Handler>,
    stopping: Arc<AtomicBool>,
    answered_all: mpsc::Receiver<()>,
}

/// Sends once when dropped: the handler holds one, and is dropped after the last request.
struct OnDrop(mpsc::Sender<()>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl HttpServer {
    /// Binds `addr`; `workers` threads answer requests through `app`, which must be the app
    /// [`App::new`] made for this address.
    pub fn bind(addr: SocketAddr, app: App, workers: usize) -> Result<HttpServer, ServerError> {
        let stopping = app.stopping();
        let (answered, answered_all) = mpsc::channel();
        let last_request = OnDrop(answered);
        let handler: Handler = Box::new(move |request: &Request| {
            let _held_until_the_last_request = &last_request;
            app.handle(request)
        });
        let server = Server::new(addr, handler)
            .map_err(|err| ServerError::Bind {
                addr,
                reason: err.to_string(),
            })?
            .pool_size(workers);
        Ok(HttpServer {
            server,
            stopping,
            answered_all,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.server_addr()
    }

    /// Starts accepting requests on a thread of its own. `on_listener_closed` is called, once,
    /// if the listening socket closes while the server is not stopping.
    pub fn spawn(
        self,
        on_listener_closed: impl FnOnce() + Send + 'static,
    ) -> Result<RunningServer, ServerError> {
        let stop = Arc::new(AtomicBool::new(false));
        let probe = probe_addr(self.local_addr());
        let server = self.server;
        let flag = Arc::clone(&stop);
        thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    server.poll_timeout(POLL_INTERVAL);
                }
                // Hand what is already queued to the workers, then close the socket; the
                // workers finish their requests on their own.
                server.poll();
                drop(server);
            })
            .map_err(ServerError::Thread)?;
        let flag = Arc::clone(&stop);
        thread::Builder::new()
            .name("http-watchdog".into())
            .spawn(move || watch(probe, &flag, on_listener_closed))
            .map_err(ServerError::Thread)?;
        Ok(RunningServer {
            stop,
            stopping: self.stopping,
            answered_all: self.answered_all,
        })
    }
}

/// Connects to `probe` every [`WATCHDOG_INTERVAL`] until `stop` is set; a refused connection
/// means nothing listens any more.
fn watch(probe: SocketAddr, stop: &AtomicBool, on_listener_closed: impl FnOnce()) {
    while !stop.load(Ordering::Acquire) {
        thread::sleep(WATCHDOG_INTERVAL);
        let refused = matches!(
            TcpStream::connect_timeout(&probe, WATCHDOG_INTERVAL),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused
        );
        if refused && !stop.load(Ordering::Acquire) {
            on_listener_closed();
            return;
        }
    }
}

/// A server accepting requests.
pub struct RunningServer {
    stop: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
    answered_all: mpsc::Receiver<()>,
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// Every accepted request was answered and the socket is closed.
    Drained,
    /// Requests kept coming or kept running past the time given.
    GraceExpired,
}

impl RunningServer {
    /// Closes the socket (once the traffic pauses), answers new requests 503 meanwhile, and waits
    /// at most `grace` for the requests in progress.
    pub fn stop(self, grace: Duration) -> StopOutcome {
        self.stopping.store(true, Ordering::Release);
        self.stop.store(true, Ordering::Release);
        match self.answered_all.recv_timeout(grace) {
            Ok(()) => StopOutcome::Drained,
            Err(_) => StopOutcome::GraceExpired,
        }
    }
}
