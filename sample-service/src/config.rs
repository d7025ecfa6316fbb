//! The service's configuration: every environment variable it reads, parsed and checked once.
//!
//! The variables are the ones OpenTelemetry users already know (`OTEL_SERVICE_NAME`,
//! `OTEL_EXPORTER_OTLP_*`, `OTEL_TRACES_EXPORTER`, `OTEL_SDK_DISABLED`) plus `HOST` and `PORT`.
//! A bad value is a [`ConfigError`] whose message names the variable, the value and what would
//! have been accepted, so `main` can print it as one line and exit.

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

/// Everything the service needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens (`HOST`, `PORT`).
    pub listen: SocketAddr,
    /// How spans leave the process.
    pub telemetry: TelemetryConfig,
    /// The service `GET /chain` calls (`DOWNSTREAM_URL`), if any.
    pub downstream: Option<DownstreamConfig>,
}

/// The downstream service of `GET /chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownstreamConfig {
    /// The URL called, as given (`DOWNSTREAM_URL`).
    pub url: Url,
    /// How long to wait for its answer (`DOWNSTREAM_TIMEOUT_MS`).
    pub timeout: Duration,
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
    #[error("{var}={value:?} is not a supported OTLP protocol: expected grpc or http/protobuf")]
    Protocol { var: &'static str, value: String },
    #[error("OTEL_TRACES_EXPORTER={value:?} names an unknown exporter {name:?}: expected otlp, console, both as otlp,console, or none")]
    Exporter { value: String, name: String },
    #[error("OTEL_SDK_DISABLED={value:?} is not a boolean: expected true or false")]
    SdkDisabled { value: String },
    #[error("OTEL_TRACES_SAMPLER={value:?} is not a supported sampler: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")]
    Sampler { value: String },
    #[error("OTEL_TRACES_SAMPLER_ARG={value:?} is not a sampling ratio: expected a number from 0 to 1, such as 0.25")]
    SamplerArg { value: String },
    #[error("DOWNSTREAM_URL={value:?} is not a URL: {reason}; expected for example http://backend:5000/")]
    DownstreamUrl { value: String, reason: String },
    #[error(
        "DOWNSTREAM_TIMEOUT_MS={value:?} is not a timeout: expected milliseconds from 1 to 600000"
    )]
    DownstreamTimeout { value: String },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which answers a variable's value by name.
    /// Tests pass a map here instead of changing the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        // An empty variable counts as unset, as the OpenTelemetry specification asks.
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let port = match get("PORT") {
            None => DEFAULT_PORT,
            Some(value) => parse_port(&value)?,
        };
        let host: IpAddr = match get("HOST") {
            None => DEFAULT_HOST.parse().map_err(|_| ConfigError::Host {
                value: DEFAULT_HOST.to_owned(),
            })?,
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| ConfigError::Host { value })?,
        };

        let sdk_disabled = match get("OTEL_SDK_DISABLED") {
            None => false,
            Some(value) => parse_bool(&value).ok_or(ConfigError::SdkDisabled { value })?,
        };
        let exporters = match get("OTEL_TRACES_EXPORTER") {
            // Like the original lab: spans go to STDOUT and to the collector at once.
            None => Exporters {
                otlp: true,
                console: true,
            },
            Some(value) => parse_exporters(&value)?,
        };
        let otlp = if exporters.otlp {
            Some(otlp_config(&get)?)
        } else {
            None
        };

        let sampler = parse_sampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG"))?;
        let downstream = match get("DOWNSTREAM_URL") {
            None => None,
            Some(value) => Some(DownstreamConfig {
                url: parse_http_url(&value).map_err(|reason| ConfigError::DownstreamUrl {
                    value: value.clone(),
                    reason,
                })?,
                timeout: match get("DOWNSTREAM_TIMEOUT_MS") {
                    None => DEFAULT_DOWNSTREAM_TIMEOUT,
                    Some(value) => {
                        parse_timeout_ms(&value).ok_or(ConfigError::DownstreamTimeout { value })?
                    }
                },
            }),
        };

        Ok(Config {
            listen: SocketAddr::new(host, port),
            downstream,
            telemetry: TelemetryConfig {
                sdk_disabled,
                console: exporters.console,
                otlp,
                default_service_name: DEFAULT_SERVICE_NAME,
                sampler,
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

/// Resolves protocol and endpoint the way the OTLP exporter specification describes:
/// the signal-specific variable wins over the generic one, and only a generic HTTP endpoint
/// gets `/v1/traces` appended.
fn otlp_config(get: &impl Fn(&str) -> Option<String>) -> Result<OtlpConfig, ConfigError> {
    let protocol = match first_set(
        get,
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ) {
        None => OtlpProtocol::HttpProtobuf,
        Some((var, value)) => match value.trim() {
            "grpc" => OtlpProtocol::Grpc,
            "http/protobuf" => OtlpProtocol::HttpProtobuf,
            _ => return Err(ConfigError::Protocol { var, value }),
        },
    };

    let endpoint = if let Some(value) = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        parse_endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &value)?
    } else {
        let (var, value) = match get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            Some(value) => ("OTEL_EXPORTER_OTLP_ENDPOINT", value),
            None => (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                match protocol {
                    OtlpProtocol::Grpc => DEFAULT_GRPC_ENDPOINT.to_owned(),
                    OtlpProtocol::HttpProtobuf => DEFAULT_HTTP_ENDPOINT.to_owned(),
                },
            ),
        };
        let base = parse_endpoint(var, &value)?;
        match protocol {
            OtlpProtocol::Grpc => base,
            OtlpProtocol::HttpProtobuf => with_traces_path(base),
        }
    };
    Ok(OtlpConfig { protocol, endpoint })
}

fn first_set(
    get: &impl Fn(&str) -> Option<String>,
    specific: &'static str,
    generic: &'static str,
) -> Option<(&'static str, String)> {
    get(specific)
        .map(|value| (specific, value))
        .or_else(|| get(generic).map(|value| (generic, value)))
}

fn parse_endpoint(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    parse_http_url(value).map_err(|reason| ConfigError::Endpoint {
        var,
        value: value.to_owned(),
        reason,
    })
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

fn parse_timeout_ms(value: &str) -> Option<Duration> {
    match value.trim().parse::<u64>() {
        Ok(ms @ 1..=600_000) => Some(Duration::from_millis(ms)),
        _ => None,
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
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
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
    fn a_bad_endpoint_is_ignored_when_otlp_is_off() {
        let config = config(&[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "nonsense"),
        ]);
        assert!(config.is_ok());
    }
}
