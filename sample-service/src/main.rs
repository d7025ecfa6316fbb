//! `sample-service`: serves `GET /` with tracing, until SIGTERM or SIGINT.
//!
//! Configuration comes from the environment (see `config.rs` and the README); every error ends
//! here, as one line on stderr and a non-zero exit code.

use std::process::ExitCode;
use std::time::Duration;

use sample_service::config::{Config, ConfigError};
use sample_service::server::{HttpServer, ServerError, StopOutcome};
use sample_service::signals::StopSignals;
use sample_service::telemetry::{Telemetry, TelemetryError};

/// How long in-flight requests get to finish after a stop signal.
const GRACE_PERIOD: Duration = Duration::from_secs(10);
/// How long queued spans get to reach the collector after the server stopped.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

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
}

fn main() -> ExitCode {
    match run() {
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
    let server = HttpServer::bind(config.listen, telemetry.tracer())?;
    eprintln!(
        "sample-service: {} listening on http://{}/ ({})",
        telemetry.service_name(),
        server.local_addr(),
        describe_exporters(&config)
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
