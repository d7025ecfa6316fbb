//! `sample-service`: serves its routes (`GET /`, `/healthz`, `/chain`, `/order`: see `routes.rs`)
//! with tracing, until SIGTERM or SIGINT.
//! `sample-service --healthcheck`: asks a running one for `/healthz` (for container health checks).
//!
//! Configuration comes from the environment (`--help` lists every variable); every error ends
//! here, as one line on stderr and a non-zero exit code.

use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser};
use sample_service::app::App;
use sample_service::config::{variables, Config, ConfigError};
use sample_service::healthcheck::{self, HealthError};
use sample_service::server::{HttpServer, ServerError, StopOutcome};
use sample_service::signals::StopSignals;
use sample_service::telemetry::{ShutdownReport, Telemetry, TelemetryError};

/// mimalloc instead of the C library's malloc: a traced request allocates and frees a few hundred
/// small blocks (strings, attribute lists, the protobuf structs of its spans), and with mimalloc
/// it executes about a fifth fewer instructions (`sample-service/bench/instructions.py`).
/// Built without transparent huge pages (`no_thp`): with them the idle service's peak RSS was
/// 31 MB instead of 8 MB, for no change in instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long a stop may take, from the signal to the exit, whatever the clients and the collector
/// do. It stays below the 15 s `stop_grace_period` of docker/compose.yaml, after which Docker
/// kills the process.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// The part of it the requests in progress may take; the rest is for sending the queued spans.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The lab's instrumented web service.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Ask the service running on HOST:PORT for /healthz and exit 0 if it answers 200, 1 if not
    /// (for container health checks, which then need no curl).
    #[arg(long)]
    healthcheck: bool,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("bad configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("could not install the SIGTERM/SIGINT handlers: {0}")]
    Signals(#[source] std::io::Error),
    #[error(transparent)]
    Health(#[from] HealthError),
    #[error("the server stopped accepting connections: nothing listens on {addr} any more (most likely the process ran out of file descriptors; the limit is {fd_limit}); exiting so that a supervisor starts it again")]
    ListenerClosed { addr: String, fd_limit: String },
}

/// What ends the service.
enum Event {
    Signal(&'static str),
    ListenerClosed,
}

fn main() -> ExitCode {
    let help = variables::help_text();
    let matches = Args::command().after_help(help).get_matches();
    let outcome = match Args::from_arg_matches(&matches) {
        Ok(args) if args.healthcheck => check_health(),
        Ok(_) => run(),
        Err(err) => err.exit(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sample-service: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let config = Config::from_env()?;
    let fd_limit = raise_file_limit();
    let mut signals = StopSignals::install().map_err(Error::Signals)?;
    let telemetry = Telemetry::init(&config.telemetry)?;
    let app = App::new(&config, telemetry.tracer(), config.listen);
    let server = HttpServer::bind(config.listen, app, config.worker_threads)?;
    let addr = server.local_addr();
    eprintln!(
        "sample-service: {} listening on http://{addr}/ ({}; {})",
        telemetry.service_name(),
        describe_exporters(&config),
        match &config.downstream {
            Some(downstream) => format!("/chain calls {}", downstream.url),
            None => format!("/chain has no {} to call", variables::DOWNSTREAM_URL.name),
        }
    );

    let (events, event) = mpsc::channel();
    let listener_gone = events.clone();
    let running = server.spawn(move || {
        let _ = listener_gone.send(Event::ListenerClosed);
    })?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let _ = events.send(Event::Signal(signals.wait()));
        })
        .map_err(|err| Error::Server(ServerError::Thread(err)))?;

    let cause = event.recv().unwrap_or(Event::Signal("a stop signal"));
    let deadline = Instant::now() + STOP_DEADLINE;
    match cause {
        Event::Signal(signal) => {
            eprintln!("sample-service: {signal} received: finishing the requests in progress")
        }
        Event::ListenerClosed => {
            eprintln!("sample-service: nothing listens on {addr} any more: stopping")
        }
    }
    if running.stop(DRAIN_TIME) == StopOutcome::GraceExpired {
        eprintln!(
            "sample-service: requests still running after {} s; sending the spans that ended",
            DRAIN_TIME.as_secs()
        );
    }
    let ShutdownReport { summary, outcome } =
        telemetry.shutdown(deadline.saturating_duration_since(Instant::now()));
    match summary {
        Some(summary) => eprintln!("sample-service: stopped; OTLP: {summary}"),
        None => eprintln!("sample-service: stopped"),
    }
    outcome?;
    match cause {
        Event::ListenerClosed => Err(Error::ListenerClosed {
            addr: addr.to_string(),
            fd_limit,
        }),
        Event::Signal(_) => Ok(()),
    }
}

/// Lets the process open as many files and sockets as its hard limit allows: every connection
/// holds one, and the soft limit is often 1024. Returns the limit, for messages.
fn raise_file_limit() -> String {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit.to_string(),
        Err(err) => format!("unknown ({err})"),
    }
}

fn check_health() -> Result<(), Error> {
    let config = Config::from_env()?;
    let url = healthcheck::probe(config.listen, healthcheck::PROBE_TIMEOUT)?;
    println!("healthy: {url} answered 200");
    Ok(())
}

fn describe_exporters(config: &Config) -> String {
    let telemetry = &config.telemetry;
    if telemetry.sdk_disabled {
        return format!("tracing disabled by {}", variables::OTEL_SDK_DISABLED.name);
    }
    let mut targets = Vec::new();
    if telemetry.console {
        targets.push("STDOUT".to_owned());
    }
    if let Some(otlp) = &telemetry.otlp {
        targets.push(format!(
            "OTLP {} at {}",
            otlp.protocol.as_str(),
            otlp.endpoint_for_logs()
        ));
    }
    if targets.is_empty() {
        format!(
            "spans are not exported: {}=none",
            variables::OTEL_TRACES_EXPORTER.name
        )
    } else {
        format!("spans to {}", targets.join(" and "))
    }
}
