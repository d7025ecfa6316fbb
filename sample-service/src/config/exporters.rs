//! Whether there is tracing at all and where spans go: `OTEL_SDK_DISABLED` and
//! `OTEL_TRACES_EXPORTER`.

use super::lookup::Lookup;
use super::variables::{OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER};
use super::ConfigError;

/// The exporters `OTEL_TRACES_EXPORTER` names.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Exporters {
    pub(super) otlp: bool,
    pub(super) console: bool,
}

/// `OTEL_SDK_DISABLED`: `true` means no SDK at all, a no-op tracer.
pub(super) fn sdk_disabled(env: &Lookup) -> Result<bool, ConfigError> {
    match env.get(&OTEL_SDK_DISABLED)? {
        None => Ok(false),
        Some(value) => parse_bool(&value).ok_or(ConfigError::SdkDisabled { value }),
    }
}

/// `OTEL_TRACES_EXPORTER`.
pub(super) fn traces_exporters(env: &Lookup) -> Result<Exporters, ConfigError> {
    match env.get(&OTEL_TRACES_EXPORTER)? {
        // Like the original lab: spans go to STDOUT and to the collector at once.
        None => Ok(Exporters {
            otlp: true,
            console: true,
        }),
        Some(value) => parse_exporters(&value),
    }
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

#[cfg(test)]
mod tests {
    use crate::config::tests::{assert_rejected, config};
    use crate::config::variables::{
        OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER,
    };

    #[test]
    fn exporter_lists() {
        let only_console = config(&[(OTEL_TRACES_EXPORTER.name, "console")]).unwrap();
        assert!(only_console.telemetry.console && only_console.telemetry.otlp.is_none());
        let both = config(&[(OTEL_TRACES_EXPORTER.name, " otlp , console ")]).unwrap();
        assert!(both.telemetry.console && both.telemetry.otlp.is_some());
        let none = config(&[(OTEL_TRACES_EXPORTER.name, "none")]).unwrap();
        assert!(!none.telemetry.console && none.telemetry.otlp.is_none());
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        assert_rejected(&[
            (
                &[(OTEL_TRACES_EXPORTER.name, "otlp,jaeger")],
                "unknown exporter \"jaeger\"",
            ),
            (
                &[(OTEL_TRACES_EXPORTER.name, "none,console")],
                "unknown exporter \"none\"",
            ),
            (
                &[(OTEL_SDK_DISABLED.name, "yes")],
                "OTEL_SDK_DISABLED=\"yes\"",
            ),
        ]);
    }

    #[test]
    fn a_bad_endpoint_is_ignored_when_otlp_is_off() {
        let config = config(&[
            (OTEL_TRACES_EXPORTER.name, "console"),
            (OTEL_EXPORTER_OTLP_ENDPOINT.name, "nonsense"),
        ]);
        assert!(config.is_ok());
    }
}
