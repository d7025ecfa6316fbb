//! The service's configuration: every environment variable it reads, parsed and checked once.
//!
//! The variables are the ones OpenTelemetry users already know (`OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, `OTEL_TRACES_*`, `OTEL_SDK_DISABLED`) plus `HOST`, `PORT`
//! and the `DOWNSTREAM_*` of `GET /chain`; [`variables`] lists them all. A bad value is a
//! [`ConfigError`] whose message names the variable, the value and what would have been accepted,
//! so `main` can print it as one line and exit. Values that could be secrets (the export headers,
//! credentials in an endpoint URL) are never repeated.

pub mod variables;

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::Url;

/// The port the original Flask lab listened on.
pub const DEFAULT_PORT: u16 = 5000;
/// The service name the original Flask lab gave its resource.
pub const DEFAULT_SERVICE_NAME: &str = "service_example";
/// Listen on every interface by default, as the original did (a container needs it).
pub const DEFAULT_HOST: &str = "0.0.0.0";

const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";
/// How long `GET /chain` waits for the downstream service by default.
pub const DEFAULT_DOWNSTREAM_TIMEOUT: Duration = Duration::from_secs(5);
/// The path the OTLP/HTTP specification appends to a generic `OTEL_EXPORTER_OTLP_ENDPOINT`.
const HTTP_TRACES_PATH: &str = "v1/traces";
/// How long one export may take by default (the OTLP exporter specification's 10 s).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The batch span processor's defaults: the OpenTelemetry specification's, except the queue.
/// With the specification's 2,048 the traced service dropped 1-1.5% of its spans at full load on
/// 2 cores (`sample-service/bench/bench.py`); 8,192 drops none. Full (collector down), it took
/// peak RSS from 12.9 MB to 17.0 MB, about 0.7 kB a span.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 8192;
pub const DEFAULT_SCHEDULE_DELAY: Duration = Duration::from_millis(5000);
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// The longest attribute value a request can put on a span by default, in bytes.
pub const DEFAULT_ATTRIBUTE_VALUE_LIMIT: usize = 1024;
/// How many attribute values of one server span come from the client and so can be that long:
/// path, query, user agent, method, host.
pub const CLIENT_ATTRIBUTES_PER_SPAN: usize = 5;
/// What a span weighs besides those values, at most (names, ids, times, the other attributes).
const SPAN_OVERHEAD_BYTES: usize = 1024;
/// The largest export a collector takes: 4 MiB is the default receive limit of the
/// OpenTelemetry Collector's and Jaeger's OTLP receivers.
pub const MAX_EXPORT_BYTES: usize = 4 * 1024 * 1024;
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

/// The downstream service of `GET /chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownstreamConfig {
    /// The URL called, as given (`DOWNSTREAM_URL`).
    pub url: Url,
    /// How long to wait for its answer (`DOWNSTREAM_TIMEOUT_MS`).
    pub timeout: Duration,
    /// Calls in progress at most (`DOWNSTREAM_MAX_CONCURRENT`): a slow downstream service can
    /// hold that many worker threads, never all of them.
    pub max_concurrent: usize,
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

/// The batch span processor's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    pub max_queue_size: usize,
    pub scheduled_delay: Duration,
    pub max_export_batch_size: usize,
}

/// The samplers of the OpenTelemetry specification's `OTEL_TRACES_SAMPLER`. The SDK reads the same
/// variables but falls back to sampling everything on a bad value, with only an internal log; the
/// service refuses a bad value instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerConfig {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    /// The specification's default.
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

// The ratios are checked to lie in 0..=1 when parsed, so they are never NaN.
impl Eq for SamplerConfig {}

/// Where and how OTLP export goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    pub protocol: OtlpProtocol,
    /// The full URL spans are sent to (for HTTP it already ends in `/v1/traces`).
    pub endpoint: Url,
    /// How long one export may take.
    pub timeout: Duration,
}

impl OtlpConfig {
    /// The endpoint as log lines show it: with any user name and password in it masked.
    pub fn endpoint_for_logs(&self) -> String {
        without_credentials(&self.endpoint)
    }
}

/// The OTLP transports this service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (Jaeger and collectors listen on 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318); the specification's default.
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The value this protocol has in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// A configuration value that cannot be used. Each message is one line for a human.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not valid UTF-8 ({value:?}): expected text")]
    NotUnicode { var: &'static str, value: String },
    #[error("PORT={value:?} is not a port: expected a whole number from 1 to 65535")]
    Port { value: String },
    #[error("HOST={value:?} is not an IP address: expected for example 0.0.0.0, 127.0.0.1 or ::")]
    Host { value: String },
    #[error("{var}={value:?} is not an OTLP endpoint URL: {reason}; expected for example http://localhost:4317")]
    Endpoint {
        var: &'static str,
        value: String,
        reason: String,
    },
    #[error("{var}={value:?} is an https:// endpoint, but this build has no TLS: the lab's collector runs on the same host or network, so use http:// (for example http://jaeger:4318)")]
    Https { var: &'static str, value: String },
    #[error("{var}={value:?} is not a supported OTLP protocol: expected grpc or http/protobuf")]
    Protocol { var: &'static str, value: String },
    #[error("{var}: the header {key:?} {reason}; expected key=value pairs separated by commas, values URL-encoded (the value is not shown: it may be a secret)")]
    Header {
        var: &'static str,
        key: String,
        reason: &'static str,
    },
    #[error("OTEL_RESOURCE_ATTRIBUTES={value:?} has the entry {entry:?}, which is not key=value: expected for example deployment.environment.name=lab,service.version=1.2")]
    ResourceAttributes { value: String, entry: String },
    #[error("OTEL_TRACES_EXPORTER={value:?} names an unknown exporter {name:?}: expected otlp, console, both as otlp,console, or none")]
    Exporter { value: String, name: String },
    #[error("OTEL_SDK_DISABLED={value:?} is not a boolean: expected true or false")]
    SdkDisabled { value: String },
    #[error("OTEL_TRACES_SAMPLER={value:?} is not a supported sampler: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")]
    Sampler { value: String },
    #[error("OTEL_TRACES_SAMPLER_ARG={value:?} is not a sampling ratio: expected a number from 0 to 1, such as 0.25")]
    SamplerArg { value: String },
    #[error("{var}={value:?} is not a valid value: expected {expected}")]
    Number {
        var: &'static str,
        value: String,
        expected: String,
    },
    #[error("OTEL_BSP_MAX_EXPORT_BATCH_SIZE={batch} is larger than OTEL_BSP_MAX_QUEUE_SIZE={queue}: a batch is taken from the queue, so expected at most {queue}")]
    BatchAboveQueue { batch: usize, queue: usize },
    #[error("a batch of {batch} spans with attribute values of up to {limit} bytes could weigh {bytes} MiB, above the {max} MiB a collector takes: lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE or OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")]
    BatchTooHeavy {
        batch: usize,
        limit: usize,
        bytes: usize,
        max: usize,
    },
    #[error("DOWNSTREAM_URL={value:?} is not a URL: {reason}; expected for example http://backend:5000/")]
    DownstreamUrl { value: String, reason: String },
}

/// Reads one variable: `None` when it is unset or empty (the OpenTelemetry specification counts
/// an empty variable as unset), an error when it is not UTF-8.
struct Lookup<F>(F);

impl<F: Fn(&str) -> Option<OsString>> Lookup<F> {
    fn get(&self, var: &'static str) -> Result<Option<String>, ConfigError> {
        match (self.0)(var) {
            None => Ok(None),
            Some(raw) => match raw.into_string() {
                Ok(text) if text.trim().is_empty() => Ok(None),
                Ok(text) => Ok(Some(text)),
                Err(raw) => Err(ConfigError::NotUnicode {
                    var,
                    value: raw.to_string_lossy().into_owned(),
                }),
            },
        }
    }

    /// The first of `vars` that is set, with its name.
    fn first(&self, vars: &[&'static str]) -> Result<Option<(&'static str, String)>, ConfigError> {
        for &var in vars {
            if let Some(value) = self.get(var)? {
                return Ok(Some((var, value)));
            }
        }
        Ok(None)
    }

    /// A whole number in `range` from the first of `vars` that is set, or `default`.
    fn number(
        &self,
        vars: &[&'static str],
        range: std::ops::RangeInclusive<u64>,
        unit: &str,
        default: u64,
    ) -> Result<u64, ConfigError> {
        let Some((var, value)) = self.first(vars)? else {
            return Ok(default);
        };
        match value.trim().parse::<u64>() {
            Ok(number) if range.contains(&number) => Ok(number),
            _ => Err(ConfigError::Number {
                var,
                value,
                expected: format!(
                    "a whole number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ),
            }),
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the configuration through `lookup`, which answers a variable's value by name.
    /// Tests pass a map here instead of changing the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
        let env = Lookup(lookup);

        let port = match env.get("PORT")? {
            None => DEFAULT_PORT,
            Some(value) => parse_port(&value)?,
        };
        let host: IpAddr = match env.get("HOST")? {
            None => DEFAULT_HOST.parse().map_err(|_| ConfigError::Host {
                value: DEFAULT_HOST.to_owned(),
            })?,
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| ConfigError::Host { value })?,
        };

        // The SDK reads these two itself; a value it cannot use must stop the start here.
        env.get("OTEL_SERVICE_NAME")?;
        if let Some(value) = env.get("OTEL_RESOURCE_ATTRIBUTES")? {
            check_resource_attributes(&value)?;
        }

        let sdk_disabled = match env.get("OTEL_SDK_DISABLED")? {
            None => false,
            Some(value) => parse_bool(&value).ok_or(ConfigError::SdkDisabled { value })?,
        };
        let exporters = match env.get("OTEL_TRACES_EXPORTER")? {
            // Like the original lab: spans go to STDOUT and to the collector at once.
            None => Exporters {
                otlp: true,
                console: true,
            },
            Some(value) => parse_exporters(&value)?,
        };
        let otlp = if exporters.otlp {
            Some(otlp_config(&env)?)
        } else {
            None
        };
        let batch = batch_config(&env)?;
        let attribute_value_limit = env.number(
            &[
                "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            ],
            16..=65_536,
            "bytes",
            DEFAULT_ATTRIBUTE_VALUE_LIMIT as u64,
        )? as usize;
        check_batch_weight(batch.max_export_batch_size, attribute_value_limit)?;

        let sampler = parse_sampler(
            env.get("OTEL_TRACES_SAMPLER")?,
            env.get("OTEL_TRACES_SAMPLER_ARG")?,
        )?;
        let worker_threads = worker_threads();
        let downstream = match env.get("DOWNSTREAM_URL")? {
            None => None,
            Some(value) => Some(DownstreamConfig {
                url: parse_http_url(&value).map_err(|reason| ConfigError::DownstreamUrl {
                    value: value.clone(),
                    reason,
                })?,
                timeout: Duration::from_millis(env.number(
                    &["DOWNSTREAM_TIMEOUT_MS"],
                    1..=600_000,
                    "milliseconds",
                    DEFAULT_DOWNSTREAM_TIMEOUT.as_millis() as u64,
                )?),
                max_concurrent: env.number(
                    &["DOWNSTREAM_MAX_CONCURRENT"],
                    1..=(worker_threads as u64 - 2),
                    "calls (the service has this many worker threads, minus two kept for the other routes)",
                    (worker_threads / 2) as u64,
                )? as usize,
            }),
        };

        Ok(Config {
            listen: SocketAddr::new(host, port),
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

#[derive(Debug, Default, PartialEq, Eq)]
struct Exporters {
    otlp: bool,
    console: bool,
}

fn parse_port(value: &str) -> Result<u16, ConfigError> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ConfigError::Port {
            value: value.to_owned(),
        }),
    }
}

/// `OTEL_BSP_*`. The SDK reads the same variables, ignores a value it cannot parse and accepts
/// values that stall it (a delay of 0 spins a core; a queue of 0 drops every span): the service
/// checks them and hands the SDK its own values.
fn batch_config<F: Fn(&str) -> Option<OsString>>(
    env: &Lookup<F>,
) -> Result<BatchConfig, ConfigError> {
    let max_queue_size = env.number(
        &["OTEL_BSP_MAX_QUEUE_SIZE"],
        1..=100_000,
        "spans",
        DEFAULT_MAX_QUEUE_SIZE as u64,
    )? as usize;
    let scheduled_delay = Duration::from_millis(env.number(
        &["OTEL_BSP_SCHEDULE_DELAY"],
        10..=600_000,
        "milliseconds",
        DEFAULT_SCHEDULE_DELAY.as_millis() as u64,
    )?);
    let max_export_batch_size = match env.first(&["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"])? {
        // Unset: the default, but never more than the queue holds.
        None => DEFAULT_MAX_EXPORT_BATCH_SIZE.min(max_queue_size),
        Some(_) => {
            let batch = env.number(
                &["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
                1..=100_000,
                "spans",
                DEFAULT_MAX_EXPORT_BATCH_SIZE as u64,
            )? as usize;
            if batch > max_queue_size {
                return Err(ConfigError::BatchAboveQueue {
                    batch,
                    queue: max_queue_size,
                });
            }
            batch
        }
    };
    Ok(BatchConfig {
        max_queue_size,
        scheduled_delay,
        max_export_batch_size,
    })
}

/// One export must stay under what a collector takes, whatever the requests put on the spans.
fn check_batch_weight(batch: usize, limit: usize) -> Result<(), ConfigError> {
    let bytes = batch * (CLIENT_ATTRIBUTES_PER_SPAN * limit + SPAN_OVERHEAD_BYTES);
    if bytes > MAX_EXPORT_BYTES {
        return Err(ConfigError::BatchTooHeavy {
            batch,
            limit,
            bytes: bytes.div_ceil(1024 * 1024),
            max: MAX_EXPORT_BYTES / (1024 * 1024),
        });
    }
    Ok(())
}

/// `OTEL_TRACES_SAMPLER` and its argument, which only the ratio samplers read (1.0 when unset).
fn parse_sampler(name: Option<String>, arg: Option<String>) -> Result<SamplerConfig, ConfigError> {
    let ratio = || match &arg {
        None => Ok(1.0),
        Some(value) => match value.trim().parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
            _ => Err(ConfigError::SamplerArg {
                value: value.clone(),
            }),
        },
    };
    let Some(name) = name else {
        return Ok(SamplerConfig::ParentBasedAlwaysOn);
    };
    Ok(match name.trim() {
        "always_on" => SamplerConfig::AlwaysOn,
        "always_off" => SamplerConfig::AlwaysOff,
        "traceidratio" => SamplerConfig::TraceIdRatio(ratio()?),
        "parentbased_always_on" => SamplerConfig::ParentBasedAlwaysOn,
        "parentbased_always_off" => SamplerConfig::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => SamplerConfig::ParentBasedTraceIdRatio(ratio()?),
        _ => return Err(ConfigError::Sampler { value: name }),
    })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `OTEL_TRACES_EXPORTER` is a comma-separated list (the specification's format).
fn parse_exporters(value: &str) -> Result<Exporters, ConfigError> {
    let mut exporters = Exporters::default();
    let mut saw_none = false;
    for name in value.split(',').map(str::trim) {
        match name.to_ascii_lowercase().as_str() {
            "otlp" => exporters.otlp = true,
            "console" => exporters.console = true,
            "none" => saw_none = true,
            _ => {
                return Err(ConfigError::Exporter {
                    value: value.to_owned(),
                    name: name.to_owned(),
                })
            }
        }
    }
    if saw_none && (exporters.otlp || exporters.console) {
        // "none" together with a real exporter is a contradiction, not a choice.
        return Err(ConfigError::Exporter {
            value: value.to_owned(),
            name: "none".to_owned(),
        });
    }
    Ok(exporters)
}

/// Resolves protocol, endpoint, timeout and headers the way the OTLP exporter specification
/// describes: the signal-specific variable wins over the generic one, and only a generic HTTP
/// endpoint gets `/v1/traces` appended.
fn otlp_config<F: Fn(&str) -> Option<OsString>>(
    env: &Lookup<F>,
) -> Result<OtlpConfig, ConfigError> {
    let protocol = match env.first(&[
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ])? {
        None => OtlpProtocol::HttpProtobuf,
        Some((var, value)) => match value.trim() {
            "grpc" => OtlpProtocol::Grpc,
            "http/protobuf" => OtlpProtocol::HttpProtobuf,
            _ => return Err(ConfigError::Protocol { var, value }),
        },
    };

    let endpoint = if let Some(value) = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")? {
        parse_endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &value)?
    } else {
        let value = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")?.unwrap_or_else(|| {
            match protocol {
                OtlpProtocol::Grpc => DEFAULT_GRPC_ENDPOINT,
                OtlpProtocol::HttpProtobuf => DEFAULT_HTTP_ENDPOINT,
            }
            .to_owned()
        });
        let base = parse_endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", &value)?;
        match protocol {
            OtlpProtocol::Grpc => base,
            OtlpProtocol::HttpProtobuf => with_traces_path(base),
        }
    };
    let timeout = Duration::from_millis(env.number(
        &[
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ],
        1..=600_000,
        "milliseconds",
        DEFAULT_EXPORT_TIMEOUT.as_millis() as u64,
    )?);
    // The exporter reads the headers itself, and skips an entry it cannot use without a word:
    // check them all here.
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ] {
        if let Some(value) = env.get(var)? {
            check_headers(var, &value)?;
        }
    }
    Ok(OtlpConfig {
        protocol,
        endpoint,
        timeout,
    })
}

/// `key=value,key=value`, values percent-encoded, as the OTLP exporter specification says; each
/// key a valid HTTP header name and each decoded value a valid header value (checked with the
/// `http` crate's own types).
fn check_headers(var: &'static str, value: &str) -> Result<(), ConfigError> {
    for entry in value.split_terminator(',').map(str::trim) {
        let header = |key: &str, reason| ConfigError::Header {
            var,
            key: key.to_owned(),
            reason,
        };
        let Some((key, encoded)) = entry.split_once('=') else {
            return Err(header(
                entry.split(':').next().unwrap_or_default(),
                "has no '='",
            ));
        };
        let key = key.trim();
        if http::HeaderName::from_bytes(key.as_bytes()).is_err() {
            return Err(header(key, "is not a valid header name"));
        }
        // The exporter drops an entry whose `%` is not followed by two hex digits; say so here.
        let bytes = encoded.as_bytes();
        let bad_escape = bytes.iter().enumerate().any(|(at, byte)| {
            *byte == b'%'
                && !bytes
                    .get(at + 1..at + 3)
                    .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        });
        if bad_escape {
            return Err(header(key, "has a '%' not followed by two hex digits"));
        }
        let decoded = percent_encoding::percent_decode_str(encoded.trim())
            .decode_utf8()
            .map_err(|_| header(key, "has a value that is not valid UTF-8 once URL-decoded"))?;
        if http::HeaderValue::from_str(&decoded).is_err() {
            return Err(header(key, "has a value that is not a valid header value"));
        }
    }
    Ok(())
}

/// `key=value,key=value`, each key non-empty (the resource SDK specification's format; the SDK
/// skips an entry it cannot read without a word).
fn check_resource_attributes(value: &str) -> Result<(), ConfigError> {
    for entry in value.split_terminator(',') {
        let readable = entry
            .split_once('=')
            .is_some_and(|(key, _)| !key.trim().is_empty());
        if !readable {
            return Err(ConfigError::ResourceAttributes {
                value: value.to_owned(),
                entry: entry.to_owned(),
            });
        }
    }
    Ok(())
}

fn parse_endpoint(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = parse_http_url(value).map_err(|reason| ConfigError::Endpoint {
        var,
        value: mask_credentials(value),
        reason,
    })?;
    if url.scheme() == "https" {
        return Err(ConfigError::Https {
            var,
            value: without_credentials(&url),
        });
    }
    Ok(url)
}

/// An `http://` or `https://` URL with a host, or why not.
fn parse_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|err| err.to_string())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("the scheme must be http:// or https://".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_owned());
    }
    Ok(url)
}

/// `url` with a user name or password replaced by `***`.
fn without_credentials(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut masked = url.clone();
    let _ = masked.set_username("***");
    let _ = masked.set_password(None);
    masked.to_string()
}

/// The same for text that may not even parse as a URL: anything between `://` and an `@` goes.
fn mask_credentials(value: &str) -> String {
    match (value.find("://"), value.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end + 3 => {
            format!("{}***{}", &value[..scheme_end + 3], &value[at..])
        }
        _ => value.to_owned(),
    }
}

/// `http://host:4318` becomes `http://host:4318/v1/traces`; a base path is kept
/// (`http://gw/otlp/` becomes `http://gw/otlp/v1/traces`).
fn with_traces_path(mut base: Url) -> Url {
    let path = base.path().trim_end_matches('/').to_owned();
    base.set_path(&format!("{path}/{HTTP_TRACES_PATH}"));
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
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

    #[test]
    fn grpc_uses_the_endpoint_as_given() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317"),
        ])
        .unwrap();
        let otlp = config.telemetry.otlp.unwrap();
        assert_eq!(otlp.protocol, OtlpProtocol::Grpc);
        assert_eq!(otlp.endpoint.as_str(), "http://jaeger:4317/");
    }

    #[test]
    fn grpc_default_endpoint_is_port_4317() {
        let config = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap();
        assert_eq!(
            config.telemetry.otlp.unwrap().endpoint.as_str(),
            "http://localhost:4317/"
        );
    }

    #[test]
    fn http_appends_the_traces_path_to_the_generic_endpoint_only() {
        let generic = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://gw:4318/otlp/")]).unwrap();
        assert_eq!(
            generic.telemetry.otlp.unwrap().endpoint.as_str(),
            "http://gw:4318/otlp/v1/traces"
        );
        let specific = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://gw:4318/custom",
            ),
        ])
        .unwrap();
        assert_eq!(
            specific.telemetry.otlp.unwrap().endpoint.as_str(),
            "http://gw:4318/custom"
        );
    }

    #[test]
    fn signal_specific_protocol_wins() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(config.telemetry.otlp.unwrap().protocol, OtlpProtocol::Grpc);
    }

    #[test]
    fn exporter_lists() {
        let only_console = config(&[("OTEL_TRACES_EXPORTER", "console")]).unwrap();
        assert!(only_console.telemetry.console && only_console.telemetry.otlp.is_none());
        let both = config(&[("OTEL_TRACES_EXPORTER", " otlp , console ")]).unwrap();
        assert!(both.telemetry.console && both.telemetry.otlp.is_some());
        let none = config(&[("OTEL_TRACES_EXPORTER", "none")]).unwrap();
        assert!(!none.telemetry.console && none.telemetry.otlp.is_none());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config(&[("PORT", ""), ("OTEL_TRACES_EXPORTER", " ")]).unwrap();
        assert_eq!(config.listen.port(), DEFAULT_PORT);
        assert!(config.telemetry.console);
    }

    #[test]
    fn host_and_port() {
        let config = config(&[("HOST", "127.0.0.1"), ("PORT", "8080")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("PORT", "http")], "PORT=\"http\" is not a port"),
            (&[("PORT", "0")], "PORT=\"0\""),
            (&[("PORT", "70000")], "PORT=\"70000\""),
            (&[("HOST", "localhost:1")], "HOST=\"localhost:1\""),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4317\" is not an OTLP endpoint URL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"not a url\"",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x/")],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"ftp://x/\"",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
                "OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\" is not a supported OTLP protocol: expected grpc or http/protobuf",
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "otlp,jaeger")],
                "unknown exporter \"jaeger\"",
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "none,console")],
                "unknown exporter \"none\"",
            ),
            (&[("OTEL_SDK_DISABLED", "yes")], "OTEL_SDK_DISABLED=\"yes\""),
            (
                &[("OTEL_BSP_MAX_QUEUE_SIZE", "0")],
                "OTEL_BSP_MAX_QUEUE_SIZE=\"0\" is not a valid value: expected a whole number of spans from 1 to 100000",
            ),
            (&[("OTEL_BSP_MAX_QUEUE_SIZE", "100000000")], "OTEL_BSP_MAX_QUEUE_SIZE=\"100000000\" is not a valid value"),
            (&[("OTEL_BSP_MAX_QUEUE_SIZE", "-1")], "OTEL_BSP_MAX_QUEUE_SIZE=\"-1\" is not a valid value"),
            (&[("OTEL_BSP_MAX_QUEUE_SIZE", "abc")], "OTEL_BSP_MAX_QUEUE_SIZE=\"abc\" is not a valid value"),
            (
                &[("OTEL_BSP_SCHEDULE_DELAY", "0")],
                "OTEL_BSP_SCHEDULE_DELAY=\"0\" is not a valid value: expected a whole number of milliseconds from 10 to 600000",
            ),
            (
                &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "99999999999999999999999")],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"99999999999999999999999\" is not a valid value",
            ),
            (
                &[("OTEL_BSP_MAX_QUEUE_SIZE", "100"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200")],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=200 is larger than OTEL_BSP_MAX_QUEUE_SIZE=100",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")],
                "OTEL_EXPORTER_OTLP_TIMEOUT=\"0\" is not a valid value: expected a whole number of milliseconds from 1 to 600000",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "100")],
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=\"-1\"",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"https://collector.example:4318/\" is an https:// endpoint, but this build has no TLS",
            ),
            (
                &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8")],
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"8\" is not a valid value: expected a whole number of bytes from 16 to 65536",
            ),
            (
                &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "65536")],
                "a batch of 512 spans with attribute values of up to 65536 bytes could weigh 161 MiB, above the 4 MiB a collector takes",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret,broken")],
                "OTEL_EXPORTER_OTLP_HEADERS: the header \"broken\" has no '='",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad key=secret")],
                "the header \"bad key\" is not a valid header name",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "x-token=line%0Abreak")],
                "the header \"x-token\" has a value that is not a valid header value",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.2,lab")],
                "OTEL_RESOURCE_ATTRIBUTES=\"service.version=1.2,lab\" has the entry \"lab\", which is not key=value",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "=orphan")],
                "has the entry \"=orphan\"",
            ),
            (
                &[("DOWNSTREAM_URL", "http://backend/"), ("DOWNSTREAM_MAX_CONCURRENT", "0")],
                "DOWNSTREAM_MAX_CONCURRENT=\"0\" is not a valid value",
            ),
        ];
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
    fn samplers_follow_the_specification() {
        assert_eq!(
            config(&[]).unwrap().telemetry.sampler,
            SamplerConfig::ParentBasedAlwaysOn
        );
        let ratio = config(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ])
        .unwrap();
        assert_eq!(
            ratio.telemetry.sampler,
            SamplerConfig::ParentBasedTraceIdRatio(0.25)
        );
        let default_arg = config(&[("OTEL_TRACES_SAMPLER", "traceidratio")]).unwrap();
        assert_eq!(
            default_arg.telemetry.sampler,
            SamplerConfig::TraceIdRatio(1.0)
        );
        let off = config(&[("OTEL_TRACES_SAMPLER", "always_off")]).unwrap();
        assert_eq!(off.telemetry.sampler, SamplerConfig::AlwaysOff);
    }

    #[test]
    fn bad_sampler_values_are_refused() {
        let name = config(&[("OTEL_TRACES_SAMPLER", "sometimes")]).unwrap_err();
        assert!(name
            .to_string()
            .starts_with("OTEL_TRACES_SAMPLER=\"sometimes\" is not a supported sampler"));
        let arg = config(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "25%"),
        ])
        .unwrap_err();
        assert!(arg
            .to_string()
            .starts_with("OTEL_TRACES_SAMPLER_ARG=\"25%\" is not a sampling ratio"));
        let too_big = config(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ]);
        assert!(too_big.is_err());
    }

    #[test]
    fn downstream_is_optional_with_a_default_timeout() {
        assert_eq!(config(&[]).unwrap().downstream, None);
        let chained = config(&[("DOWNSTREAM_URL", "http://backend:5000/")]).unwrap();
        let downstream = chained.downstream.unwrap();
        assert_eq!(downstream.url.as_str(), "http://backend:5000/");
        assert_eq!(downstream.timeout, DEFAULT_DOWNSTREAM_TIMEOUT);
        let quick = config(&[
            ("DOWNSTREAM_URL", "http://backend:5000/"),
            ("DOWNSTREAM_TIMEOUT_MS", "250"),
        ])
        .unwrap();
        assert_eq!(
            quick.downstream.unwrap().timeout,
            Duration::from_millis(250)
        );
    }

    #[test]
    fn bad_downstream_values_name_the_variable() {
        let url = config(&[("DOWNSTREAM_URL", "backend:5000")]).unwrap_err();
        assert!(
            url.to_string()
                .starts_with("DOWNSTREAM_URL=\"backend:5000\" is not a URL"),
            "{url}"
        );
        let timeout = config(&[
            ("DOWNSTREAM_URL", "http://backend/"),
            ("DOWNSTREAM_TIMEOUT_MS", "0"),
        ])
        .unwrap_err();
        assert!(
            timeout
                .to_string()
                .starts_with("DOWNSTREAM_TIMEOUT_MS=\"0\""),
            "{timeout}"
        );
    }

    #[test]
    fn secrets_are_not_repeated() {
        let header = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t%ZZ")])
            .unwrap_err()
            .to_string();
        assert!(header.contains("\"api-key\""), "{header}");
        assert!(!header.contains("s3cr3t"), "{header}");
        let endpoint = config(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://admin:s3cr3t@collector:4318",
        )])
        .unwrap_err()
        .to_string();
        assert!(
            !endpoint.contains("s3cr3t") && !endpoint.contains("admin"),
            "{endpoint}"
        );
        assert!(
            endpoint.contains("https://***@collector:4318/"),
            "{endpoint}"
        );
        let unparsable = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://admin:s3cr3t@/x")])
            .unwrap_err()
            .to_string();
        assert!(!unparsable.contains("s3cr3t"), "{unparsable}");
        let logged = config(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://admin:s3cr3t@collector:4318",
        )])
        .unwrap()
        .telemetry
        .otlp
        .unwrap()
        .endpoint_for_logs();
        assert_eq!(logged, "http://***@collector:4318/v1/traces");
    }

    #[test]
    fn batch_settings_and_limits_have_the_specifications_defaults_but_a_larger_queue() {
        let config = config(&[]).unwrap();
        assert_eq!(
            config.telemetry.batch,
            BatchConfig {
                max_queue_size: 8192,
                scheduled_delay: Duration::from_secs(5),
                max_export_batch_size: 512
            }
        );
        assert_eq!(config.telemetry.attribute_value_limit, 1024);
        assert_eq!(
            config.telemetry.otlp.unwrap().timeout,
            Duration::from_secs(10)
        );
        let small_queue = super::tests::config(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")]).unwrap();
        assert_eq!(small_queue.telemetry.batch.max_export_batch_size, 100);
        let specific = super::tests::config(&[
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4096"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "256"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=abc%20def, x-tenant = lab",
            ),
        ])
        .unwrap();
        assert_eq!(specific.telemetry.attribute_value_limit, 256);
        assert_eq!(
            specific.telemetry.otlp.unwrap().timeout,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn a_value_that_is_not_utf8_is_named() {
        use std::os::unix::ffi::OsStringExt;
        let err = Config::from_lookup(|name| {
            (name == "PORT").then(|| OsString::from_vec(vec![0x35, 0xff, 0x30]))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORT is not valid UTF-8 (\"5\u{fffd}0\"): expected text"
        );
    }

    #[test]
    fn the_chain_keeps_two_workers_for_the_other_routes() {
        let workers = worker_threads();
        let chained = config(&[("DOWNSTREAM_URL", "http://backend/")]).unwrap();
        assert_eq!(chained.downstream.unwrap().max_concurrent, workers / 2);
        let too_many = workers - 1;
        let err = config(&[
            ("DOWNSTREAM_URL", "http://backend/"),
            ("DOWNSTREAM_MAX_CONCURRENT", &too_many.to_string()),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("from 1 to {}", workers - 2)),
            "{err}"
        );
    }

    #[test]
    fn a_bad_endpoint_is_ignored_when_otlp_is_off() {
        let config = config(&[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "nonsense"),
        ]);
        assert!(config.is_ok());
    }
}
