//! [`ConfigError`]: why a configuration value cannot be used, as one line for a human. A message
//! names the variable (its name taken from [`variables`](super::variables)), the value and what
//! would have been accepted; a value that could be a secret is never repeated.

use super::variables::{
    DOWNSTREAM_URL, HOST, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER,
    OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, PORT,
};

/// A configuration value that cannot be used. Each message is one line for a human.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not valid UTF-8 ({value:?}): expected text")]
    NotUnicode { var: &'static str, value: String },
    #[error("{var}={value:?} is not a port: expected a whole number from 1 to 65535", var = PORT.name)]
    Port { value: String },
    #[error("{var}={value:?} is not an IP address: expected for example 0.0.0.0, 127.0.0.1 or ::", var = HOST.name)]
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
    #[error("{var}={value:?} has the entry {entry:?}, which is not key=value: expected for example deployment.environment.name=lab,service.version=1.2", var = OTEL_RESOURCE_ATTRIBUTES.name)]
    ResourceAttributes { value: String, entry: String },
    #[error("{var}={value:?} names an unknown exporter {name:?}: expected otlp, console, both as otlp,console, or none", var = OTEL_TRACES_EXPORTER.name)]
    Exporter { value: String, name: String },
    #[error("{var}={value:?} is not a boolean: expected true or false", var = OTEL_SDK_DISABLED.name)]
    SdkDisabled { value: String },
    #[error("{var}={value:?} is not a supported sampler: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", var = OTEL_TRACES_SAMPLER.name)]
    Sampler { value: String },
    #[error("{var}={value:?} is not a sampling ratio: expected a number from 0 to 1, such as 0.25", var = OTEL_TRACES_SAMPLER_ARG.name)]
    SamplerArg { value: String },
    #[error("{var}={value:?} is not a valid value: expected {expected}")]
    Number {
        var: &'static str,
        value: String,
        expected: String,
    },
    #[error("{batch_var}={batch} is larger than {queue_var}={queue}: a batch is taken from the queue, so expected at most {queue}", batch_var = OTEL_BSP_MAX_EXPORT_BATCH_SIZE.name, queue_var = OTEL_BSP_MAX_QUEUE_SIZE.name)]
    BatchAboveQueue { batch: usize, queue: usize },
    #[error("a batch of {batch} spans with attribute values of up to {limit} bytes could weigh {bytes} MiB, above the {max} MiB a collector takes: lower {batch_var} or {limit_var}", batch_var = OTEL_BSP_MAX_EXPORT_BATCH_SIZE.name, limit_var = OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.name)]
    BatchTooHeavy {
        batch: usize,
        limit: usize,
        bytes: usize,
        max: usize,
    },
    #[error("{var}={value:?} is not a URL: {reason}; expected for example http://backend:5000/", var = DOWNSTREAM_URL.name)]
    DownstreamUrl { value: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages as they read before the names came from the table, to the byte.
    #[test]
    fn messages_that_name_a_fixed_variable_are_unchanged() {
        let value = || "x".to_owned();
        let cases = [
            (
                ConfigError::Port { value: value() },
                "PORT=\"x\" is not a port: expected a whole number from 1 to 65535",
            ),
            (
                ConfigError::Host { value: value() },
                "HOST=\"x\" is not an IP address: expected for example 0.0.0.0, 127.0.0.1 or ::",
            ),
            (
                ConfigError::ResourceAttributes {
                    value: value(),
                    entry: "e".to_owned(),
                },
                "OTEL_RESOURCE_ATTRIBUTES=\"x\" has the entry \"e\", which is not key=value: expected for example deployment.environment.name=lab,service.version=1.2",
            ),
            (
                ConfigError::Exporter {
                    value: value(),
                    name: "n".to_owned(),
                },
                "OTEL_TRACES_EXPORTER=\"x\" names an unknown exporter \"n\": expected otlp, console, both as otlp,console, or none",
            ),
            (
                ConfigError::SdkDisabled { value: value() },
                "OTEL_SDK_DISABLED=\"x\" is not a boolean: expected true or false",
            ),
            (
                ConfigError::Sampler { value: value() },
                "OTEL_TRACES_SAMPLER=\"x\" is not a supported sampler: expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
            ),
            (
                ConfigError::SamplerArg { value: value() },
                "OTEL_TRACES_SAMPLER_ARG=\"x\" is not a sampling ratio: expected a number from 0 to 1, such as 0.25",
            ),
            (
                ConfigError::BatchAboveQueue { batch: 2, queue: 1 },
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2 is larger than OTEL_BSP_MAX_QUEUE_SIZE=1: a batch is taken from the queue, so expected at most 1",
            ),
            (
                ConfigError::BatchTooHeavy {
                    batch: 1,
                    limit: 2,
                    bytes: 3,
                    max: 4,
                },
                "a batch of 1 spans with attribute values of up to 2 bytes could weigh 3 MiB, above the 4 MiB a collector takes: lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE or OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            ),
            (
                ConfigError::DownstreamUrl {
                    value: value(),
                    reason: "r".to_owned(),
                },
                "DOWNSTREAM_URL=\"x\" is not a URL: r; expected for example http://backend:5000/",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
