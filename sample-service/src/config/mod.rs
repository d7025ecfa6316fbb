//! The service's configuration: every environment variable it reads, parsed and checked once.
//!
//! The variables are the ones OpenTelemetry users already know (`OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, `OTEL_TRACES_*`, `OTEL_SDK_DISABLED`) plus `HOST`, `PORT`
//! and the `DOWNSTREAM_*` of `GET /chain`; [`variables`] lists them all, and the parser reads each
//! one through its entry there. A bad value is a [`ConfigError`] whose message names the variable,
//! the value and what would have been accepted, so `main` can print it as one line and exit.
//! Values that could be secrets (the export headers, credentials in an endpoint URL) are never
//! repeated.
//!
//! This module holds [`Config`] and [`Config::from_lookup`], which reads the variables one concern
//! at a time, each concern in its own module: `listen` (`HOST`, `PORT`), `resource`, `exporters`
//! (`OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`), `otlp`, `batch` (with the attribute value
//! limit), `sampler` and `downstream`; `lookup` reads one variable, `http_url` parses and masks
//! URLs, `error` holds [`ConfigError`].

mod batch;
mod downstream;
mod error;
mod exporters;
mod http_url;
mod listen;
mod lookup;
mod otlp;
mod resource;
mod sampler;
pub mod variables;

use std::ffi::OsString;
use std::net::SocketAddr;

pub use batch::{
    BatchConfig, CLIENT_ATTRIBUTES_PER_SPAN, DEFAULT_ATTRIBUTE_VALUE_LIMIT,
    DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULE_DELAY,
    MAX_EXPORT_BYTES,
};
pub use downstream::{DownstreamConfig, DEFAULT_DOWNSTREAM_TIMEOUT};
pub use error::ConfigError;
pub use listen::{DEFAULT_HOST, DEFAULT_PORT};
pub use otlp::{OtlpConfig, OtlpProtocol, DEFAULT_EXPORT_TIMEOUT};
pub use resource::DEFAULT_SERVICE_NAME;
pub use sampler::SamplerConfig;

use batch::{attribute_value_limit, batch_config, check_batch_weight};
use downstream::downstream_config;
use exporters::{sdk_disabled, traces_exporters};
use listen::listen_address;
use lookup::Lookup;
use otlp::otlp_config;
use resource::check_resource;
use sampler::sampler_config;

/// The worker threads that answer requests: a fixed pool (rouille's default spawns a thread
/// per request; a pool served about 3.5 times as many requests per second on these machines).
pub fn worker_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (cores * 4).max(8)
}

/// Everything the service needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens (`HOST`, `PORT`).
    pub listen: SocketAddr,
    /// How spans leave the process.
    pub telemetry: TelemetryConfig,
    /// The service `GET /chain` calls (`DOWNSTREAM_URL`), if any.
    pub downstream: Option<DownstreamConfig>,
    /// The threads that answer requests ([`worker_threads`]).
    pub worker_threads: usize,
}

/// How the tracer provider is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `OTEL_SDK_DISABLED=true`: no SDK at all, a no-op tracer (the "tracing off" baseline).
    pub sdk_disabled: bool,
    /// Print finished spans to STDOUT (`console` in `OTEL_TRACES_EXPORTER`).
    pub console: bool,
    /// Send finished spans over OTLP (`otlp` in `OTEL_TRACES_EXPORTER`).
    pub otlp: Option<OtlpConfig>,
    /// Used when neither `OTEL_SERVICE_NAME` nor `service.name` in `OTEL_RESOURCE_ATTRIBUTES` is set.
    pub default_service_name: &'static str,
    /// Which traces are recorded (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
    pub sampler: SamplerConfig,
    /// The batch span processors (`OTEL_BSP_*`).
    pub batch: BatchConfig,
    /// The longest attribute value a request can put on a span, in bytes
    /// (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    pub attribute_value_limit: usize,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the configuration through `lookup`, which answers a variable's value by name.
    /// Tests pass a map here instead of changing the process environment.
    ///
    /// The steps run in this order, and the first bad value stops them: it is the one reported.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
        let env = Lookup(&lookup);
        let listen = listen_address(&env)?;
        check_resource(&env)?;
        let sdk_disabled = sdk_disabled(&env)?;
        let exporters = traces_exporters(&env)?;
        let otlp = if exporters.otlp {
            Some(otlp_config(&env)?)
        } else {
            None
        };
        let batch = batch_config(&env)?;
        let attribute_value_limit = attribute_value_limit(&env)?;
        check_batch_weight(batch.max_export_batch_size, attribute_value_limit)?;
        let sampler = sampler_config(&env)?;
        let worker_threads = worker_threads();
        let downstream = downstream_config(&env, worker_threads)?;

        Ok(Config {
            listen,
            downstream,
            worker_threads,
            telemetry: TelemetryConfig {
                sdk_disabled,
                console: exporters.console,
                otlp,
                default_service_name: DEFAULT_SERVICE_NAME,
                sampler,
                batch,
                attribute_value_limit,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The configuration read from `vars` alone. The other modules' tests use it too.
    pub(super) fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    /// Each of `cases` (the variables, a part of the message) is refused with a one-line message
    /// that contains that part.
    pub(super) fn assert_rejected(cases: &[(&[(&str, &str)], &str)]) {
        for (vars, expected) in cases {
            let err = config(vars).expect_err(&format!("{vars:?} must be rejected"));
            let message = err.to_string();
            assert!(
                message.contains(expected),
                "{vars:?}: {message:?} should contain {expected:?}"
            );
            assert!(!message.contains('\n'), "one line only: {message:?}");
        }
    }

    #[test]
    fn defaults_match_the_original_lab() {
        let config = config(&[]).unwrap();
        assert_eq!(config.listen, "0.0.0.0:5000".parse().unwrap());
        assert!(config.telemetry.console, "spans go to STDOUT by default");
        let otlp = config.telemetry.otlp.expect("and to OTLP at the same time");
        assert_eq!(otlp.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(otlp.endpoint.as_str(), "http://localhost:4318/v1/traces");
        assert!(!config.telemetry.sdk_disabled);
        assert_eq!(config.telemetry.default_service_name, "service_example");
    }
}
