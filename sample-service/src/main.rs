//! `sample-service`: serves `GET /` with tracing, until SIGTERM or SIGINT.
//! `sample-service --healthcheck`: asks a running one for `/healthz` (for container health checks).
//!
//! Configuration comes from the environment (see `config.rs` and the README); every error ends
//! here, as one line on stderr and a non-zero exit code.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sample_service::config::{Config, ConfigError};
use sample_service::healthcheck::{self, HealthError};
use sample_service::server::{HttpServer, ServerError, StopOutcome};
use sample_service::signals::StopSignals;
use sample_service::telemetry::{Telemetry, TelemetryError};

/// How long in-flight requests get to finish after a stop signal.
const GRACE_PERIOD: Duration = Duration::from_secs(10);
/// How long queued spans get to reach the collector after the server stopped.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The lab's instrumented web service. Configured by environment variables: PORT, HOST,
/// OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
/// OTEL_TRACES_SAMPLER(_ARG), OTEL_SDK_DISABLED, DOWNSTREAM_URL, DOWNSTREAM_TIMEOUT_MS (see the
/// README).
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = if args.healthcheck {
        check_health()
    } else {
        run()
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
    let mut signals = StopSignals::install().map_err(Error::Signals)?;
    let telemetry = Telemetry::init(&config.telemetry)?;
    let server = HttpServer::bind(
        config.listen,
        telemetry.tracer(),
        config.downstream.as_ref(),
    )?;
    eprintln!(
        "sample-service: {} listening on http://{}/ ({}; {})",
        telemetry.service_name(),
        server.local_addr(),
        describe_exporters(&config),
        match &config.downstream {
            Some(downstream) => format!("/chain calls {}", downstream.url),
            None => "/chain has no DOWNSTREAM_URL to call".to_owned(),
        }
    );
    let running = server.spawn()?;

    let signal = signals.wait();
    eprintln!("sample-service: {signal} received: finishing in-flight requests");
    if running.stop(GRACE_PERIOD) == StopOutcome::GraceExpired {
        eprintln!(
            "sample-service: requests still running after {}s; flushing the spans that ended",
            GRACE_PERIOD.as_secs()
        );
    }
    let delivery = telemetry.shutdown(FLUSH_TIMEOUT)?;
    match delivery {
        Some(summary) => eprintln!("sample-service: stopped; OTLP: {summary}"),
        None => eprintln!("sample-service: stopped"),
    }
    Ok(())
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
        return "tracing disabled by OTEL_SDK_DISABLED".to_owned();
    }
    let mut targets = Vec::new();
    if telemetry.console {
        targets.push("STDOUT".to_owned());
    }
    if let Some(otlp) = &telemetry.otlp {
        targets.push(format!(
            "OTLP {} at {}",
            otlp.protocol.as_str(),
            otlp.endpoint
        ));
    }
    if targets.is_empty() {
        "spans are not exported: OTEL_TRACES_EXPORTER=none".to_owned()
    } else {
        format!("spans to {}", targets.join(" and "))
    }
}
