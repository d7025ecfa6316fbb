//! The OTLP exporter's settings, resolved the way the OTLP exporter specification describes:
//! protocol, endpoint, timeout and headers, each from the trace-specific variable
//! (`OTEL_EXPORTER_OTLP_TRACES_*`) before the generic one (`OTEL_EXPORTER_OTLP_*`). Only a generic
//! HTTP endpoint gets `/v1/traces` appended; credentials in an endpoint and header values are
//! never repeated.

use std::time::Duration;

use url::Url;

use super::http_url::{mask_credentials, parse_http_url, without_credentials};
use super::lookup::Lookup;
use super::variables::{
    OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
};
use super::ConfigError;

const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";
/// The path the OTLP/HTTP specification appends to a generic `OTEL_EXPORTER_OTLP_ENDPOINT`.
const HTTP_TRACES_PATH: &str = "v1/traces";
/// How long one export may take by default (the OTLP exporter specification's 10 s).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Protocol, endpoint, timeout and headers, in that order.
pub(super) fn otlp_config(env: &Lookup) -> Result<OtlpConfig, ConfigError> {
    let protocol = protocol(env)?;
    let endpoint = endpoint(env, protocol)?;
    let timeout = Duration::from_millis(env.number(
        &[
            &OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
            &OTEL_EXPORTER_OTLP_TIMEOUT,
        ],
        1..=600_000,
        "milliseconds",
        DEFAULT_EXPORT_TIMEOUT.as_millis() as u64,
    )?);
    // The exporter reads the headers itself, and skips an entry it cannot use without a word:
    // check them all here.
    for variable in [
        &OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        &OTEL_EXPORTER_OTLP_HEADERS,
    ] {
        if let Some(value) = env.get(variable)? {
            check_headers(variable.name, &value)?;
        }
    }
    Ok(OtlpConfig {
        protocol,
        endpoint,
        timeout,
    })
}

fn protocol(env: &Lookup) -> Result<OtlpProtocol, ConfigError> {
    Ok(
        match env.first(&[
            &OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
            &OTEL_EXPORTER_OTLP_PROTOCOL,
        ])? {
            None => OtlpProtocol::HttpProtobuf,
            Some((var, value)) => match value.trim() {
                "grpc" => OtlpProtocol::Grpc,
                "http/protobuf" => OtlpProtocol::HttpProtobuf,
                _ => return Err(ConfigError::Protocol { var, value }),
            },
        },
    )
}

/// The trace-specific endpoint as is, or the generic one (by default the protocol's port on
/// localhost) with `/v1/traces` appended for HTTP.
fn endpoint(env: &Lookup, protocol: OtlpProtocol) -> Result<Url, ConfigError> {
    if let Some(value) = env.get(&OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)? {
        return parse_endpoint(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.name, &value);
    }
    let value = env.get(&OTEL_EXPORTER_OTLP_ENDPOINT)?.unwrap_or_else(|| {
        match protocol {
            OtlpProtocol::Grpc => DEFAULT_GRPC_ENDPOINT,
            OtlpProtocol::HttpProtobuf => DEFAULT_HTTP_ENDPOINT,
        }
        .to_owned()
    });
    let base = parse_endpoint(OTEL_EXPORTER_OTLP_ENDPOINT.name, &value)?;
    Ok(match protocol {
        OtlpProtocol::Grpc => base,
        OtlpProtocol::HttpProtobuf => with_traces_path(base),
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

/// `http://host:4318` becomes `http://host:4318/v1/traces`; a base path is kept
/// (`http://gw/otlp/` becomes `http://gw/otlp/v1/traces`).
fn with_traces_path(mut base: Url) -> Url {
    let path = base.path().trim_end_matches('/').to_owned();
    base.set_path(&format!("{path}/{HTTP_TRACES_PATH}"));
    base
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::OtlpProtocol;
    use crate::config::tests::{assert_rejected, config};
    use crate::config::variables::{
        OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
        OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    };

    #[test]
    fn grpc_uses_the_endpoint_as_given() {
        let config = config(&[
            (OTEL_EXPORTER_OTLP_PROTOCOL.name, "grpc"),
            (OTEL_EXPORTER_OTLP_ENDPOINT.name, "http://jaeger:4317"),
        ])
        .unwrap();
        let otlp = config.telemetry.otlp.unwrap();
        assert_eq!(otlp.protocol, OtlpProtocol::Grpc);
        assert_eq!(otlp.endpoint.as_str(), "http://jaeger:4317/");
    }

    #[test]
    fn grpc_default_endpoint_is_port_4317() {
        let config = config(&[(OTEL_EXPORTER_OTLP_PROTOCOL.name, "grpc")]).unwrap();
        assert_eq!(
            config.telemetry.otlp.unwrap().endpoint.as_str(),
            "http://localhost:4317/"
        );
    }

    #[test]
    fn http_appends_the_traces_path_to_the_generic_endpoint_only() {
        let generic =
            config(&[(OTEL_EXPORTER_OTLP_ENDPOINT.name, "http://gw:4318/otlp/")]).unwrap();
        assert_eq!(
            generic.telemetry.otlp.unwrap().endpoint.as_str(),
            "http://gw:4318/otlp/v1/traces"
        );
        let specific = config(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT.name, "http://ignored:1"),
            (
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.name,
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
            (OTEL_EXPORTER_OTLP_PROTOCOL.name, "http/protobuf"),
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.name, "grpc"),
        ])
        .unwrap();
        assert_eq!(config.telemetry.otlp.unwrap().protocol, OtlpProtocol::Grpc);
    }

    #[test]
    fn the_timeout_has_the_specifications_default_and_the_specific_one_wins() {
        assert_eq!(
            config(&[]).unwrap().telemetry.otlp.unwrap().timeout,
            Duration::from_secs(10)
        );
        let specific = config(&[
            (OTEL_EXPORTER_OTLP_TIMEOUT.name, "3000"),
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT.name, "2000"),
            (
                OTEL_EXPORTER_OTLP_HEADERS.name,
                "api-key=abc%20def, x-tenant = lab",
            ),
        ])
        .unwrap();
        assert_eq!(
            specific.telemetry.otlp.unwrap().timeout,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        assert_rejected(&[
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT.name, "localhost:4317")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4317\" is not an OTLP endpoint URL",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT.name, "not a url")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"not a url\"",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.name, "ftp://x/")],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"ftp://x/\"",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_PROTOCOL.name, "http/json")],
                "OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\" is not a supported OTLP protocol: expected grpc or http/protobuf",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TIMEOUT.name, "0")],
                "OTEL_EXPORTER_OTLP_TIMEOUT=\"0\" is not a valid value: expected a whole number of milliseconds from 1 to 600000",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT.name, "-1"), (OTEL_EXPORTER_OTLP_TIMEOUT.name, "100")],
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=\"-1\"",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT.name, "https://collector.example:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT=\"https://collector.example:4318/\" is an https:// endpoint, but this build has no TLS",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_HEADERS.name, "api-key=secret,broken")],
                "OTEL_EXPORTER_OTLP_HEADERS: the header \"broken\" has no '='",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TRACES_HEADERS.name, "bad key=secret")],
                "the header \"bad key\" is not a valid header name",
            ),
            (
                &[(OTEL_EXPORTER_OTLP_HEADERS.name, "x-token=line%0Abreak")],
                "the header \"x-token\" has a value that is not a valid header value",
            ),
        ]);
    }

    #[test]
    fn secrets_are_not_repeated() {
        let header = config(&[(OTEL_EXPORTER_OTLP_HEADERS.name, "api-key=s3cr3t%ZZ")])
            .unwrap_err()
            .to_string();
        assert!(header.contains("\"api-key\""), "{header}");
        assert!(!header.contains("s3cr3t"), "{header}");
        let endpoint = config(&[(
            OTEL_EXPORTER_OTLP_ENDPOINT.name,
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
        let unparsable = config(&[(OTEL_EXPORTER_OTLP_ENDPOINT.name, "http://admin:s3cr3t@/x")])
            .unwrap_err()
            .to_string();
        assert!(!unparsable.contains("s3cr3t"), "{unparsable}");
        let logged = config(&[(
            OTEL_EXPORTER_OTLP_ENDPOINT.name,
            "http://admin:s3cr3t@collector:4318",
        )])
        .unwrap()
        .telemetry
        .otlp
        .unwrap()
        .endpoint_for_logs();
        assert_eq!(logged, "http://***@collector:4318/v1/traces");
    }
}
