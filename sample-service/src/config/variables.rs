//! Every environment variable the service reads, in one table: `--help` prints it, a test checks
//! that the README's configuration table says the same, and the parser reads each variable through
//! its constant here (`variables::PORT`, ...). So a variable's name is written once, and nothing
//! is read under a name the table does not list.

/// Who acts on a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    /// The service reads it and passes the checked value on.
    Service,
    /// The OpenTelemetry SDK or exporter reads it by itself; the service checks it first, so that
    /// a bad value stops the start instead of being ignored by the SDK.
    CheckedThenSdk,
}

/// One environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    /// The value when the variable is unset or empty, as the README shows it.
    pub default: &'static str,
    pub meaning: &'static str,
    pub read_by: ReadBy,
}

const fn service(name: &'static str, default: &'static str, meaning: &'static str) -> Variable {
    Variable {
        name,
        default,
        meaning,
        read_by: ReadBy::Service,
    }
}

const fn sdk(name: &'static str, default: &'static str, meaning: &'static str) -> Variable {
    Variable {
        name,
        default,
        meaning,
        read_by: ReadBy::CheckedThenSdk,
    }
}

pub const PORT: Variable = service("PORT", "5000", "port to listen on, 1-65535");
pub const HOST: Variable = service("HOST", "0.0.0.0", "address to listen on");
pub const OTEL_SERVICE_NAME: Variable = sdk(
    "OTEL_SERVICE_NAME",
    "service_example",
    "service.name of every span; service.name in OTEL_RESOURCE_ATTRIBUTES works too",
);
pub const OTEL_RESOURCE_ATTRIBUTES: Variable = sdk(
    "OTEL_RESOURCE_ATTRIBUTES",
    "unset",
    "more resource attributes, key=value,key=value",
);
pub const OTEL_TRACES_EXPORTER: Variable = service(
    "OTEL_TRACES_EXPORTER",
    "otlp,console",
    "where spans go: otlp, console (STDOUT), both, or none",
);
pub const OTEL_EXPORTER_OTLP_PROTOCOL: Variable = service(
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "http/protobuf",
    "grpc (port 4317) or http/protobuf (port 4318)",
);
pub const OTEL_EXPORTER_OTLP_ENDPOINT: Variable = service(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "http://localhost:4318",
    "the collector or Jaeger, http:// only; for http/protobuf, /v1/traces is appended (:4317 for grpc)",
);
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: Variable = service(
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "unset",
    "the trace-specific form of OTEL_EXPORTER_OTLP_PROTOCOL; wins over it",
);
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Variable = service(
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "unset",
    "the trace-specific form of OTEL_EXPORTER_OTLP_ENDPOINT, used as is; wins over it",
);
pub const OTEL_EXPORTER_OTLP_TIMEOUT: Variable = service(
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "10000",
    "milliseconds one export may take, 1-600000",
);
pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: Variable = service(
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "unset",
    "the trace-specific form of OTEL_EXPORTER_OTLP_TIMEOUT; wins over it",
);
pub const OTEL_EXPORTER_OTLP_HEADERS: Variable = sdk(
    "OTEL_EXPORTER_OTLP_HEADERS",
    "unset",
    "headers sent with every export, key=value,key=value with values URL-encoded; values are never printed",
);
pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: Variable = sdk(
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "unset",
    "the trace-specific form of OTEL_EXPORTER_OTLP_HEADERS; wins over it",
);
pub const OTEL_BSP_MAX_QUEUE_SIZE: Variable = service(
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "8192",
    "spans waiting for export at most, 1-100000; more are dropped and counted",
);
pub const OTEL_BSP_SCHEDULE_DELAY: Variable = service(
    "OTEL_BSP_SCHEDULE_DELAY",
    "5000",
    "milliseconds between two exports, 10-600000",
);
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: Variable = service(
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "512",
    "spans per export at most, 1 to the queue size",
);
pub const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: Variable = service(
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "1024",
    "longest attribute value a request can put on a span, in bytes, 16-65536; a longer one is cut",
);
pub const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: Variable = service(
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "unset",
    "the span-specific form of OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT; wins over it",
);
pub const OTEL_SDK_DISABLED: Variable = service(
    "OTEL_SDK_DISABLED",
    "false",
    "true turns tracing off entirely (a no-op tracer)",
);
pub const OTEL_TRACES_SAMPLER: Variable = service(
    "OTEL_TRACES_SAMPLER",
    "parentbased_always_on",
    "which traces are recorded: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
);
pub const OTEL_TRACES_SAMPLER_ARG: Variable = service(
    "OTEL_TRACES_SAMPLER_ARG",
    "1",
    "the ratio of the ratio samplers, 0-1",
);
pub const DOWNSTREAM_URL: Variable = service(
    "DOWNSTREAM_URL",
    "unset",
    "the URL GET /chain calls, for example http://backend:5000/",
);
pub const DOWNSTREAM_TIMEOUT_MS: Variable = service(
    "DOWNSTREAM_TIMEOUT_MS",
    "5000",
    "how long GET /chain waits for it, 1-600000",
);
pub const DOWNSTREAM_MAX_CONCURRENT: Variable = service(
    "DOWNSTREAM_MAX_CONCURRENT",
    "half the worker threads",
    "GET /chain calls in progress at most, 1 to the worker threads minus 2; one more is answered 503 at once",
);

/// The variables, in the order the README lists them.
pub const VARIABLES: &[Variable] = &[
    PORT,
    HOST,
    OTEL_SERVICE_NAME,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_TRACES_EXPORTER,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_SDK_DISABLED,
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
    DOWNSTREAM_URL,
    DOWNSTREAM_TIMEOUT_MS,
    DOWNSTREAM_MAX_CONCURRENT,
];

/// The table as `--help` prints it.
pub fn help_text() -> String {
    let mut text =
        String::from("Configuration, from the environment (an empty variable counts as unset):\n");
    for variable in VARIABLES {
        let sdk = match variable.read_by {
            ReadBy::Service => "",
            ReadBy::CheckedThenSdk => " [read by the OpenTelemetry SDK itself, checked first]",
        };
        text.push_str(&format!(
            "  {} (default: {})\n      {}{sdk}\n",
            variable.name, variable.default, variable.meaning
        ));
    }
    text
}

/// The variable named `name`, if the service reads it.
pub fn find(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|variable| variable.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_listed_once_and_found() {
        for variable in VARIABLES {
            let same_name = VARIABLES
                .iter()
                .filter(|other| other.name == variable.name)
                .count();
            assert_eq!(
                same_name, 1,
                "{} is listed {same_name} times",
                variable.name
            );
            assert_eq!(find(variable.name).unwrap().name, variable.name);
        }
        assert!(find("OTEL_UNKNOWN").is_none());
    }
}
