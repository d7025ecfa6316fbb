//! [`Lookup`]: reading one variable of the [`variables`](super::variables) table, the way every
//! variable is read. An unset or empty variable is `None` (the OpenTelemetry specification counts
//! an empty variable as unset), a value that is not UTF-8 is an error, and a whole number is
//! checked against its range.

use std::ffi::OsString;
use std::ops::RangeInclusive;

use super::variables::{self, Variable};
use super::ConfigError;

/// Answers a variable's value by name: the process environment, or a map in tests.
pub(super) struct Lookup<'a>(pub(super) &'a dyn Fn(&str) -> Option<OsString>);

impl Lookup<'_> {
    /// `variable`'s value: `None` when it is unset or empty, an error when it is not UTF-8.
    pub(super) fn get(&self, variable: &'static Variable) -> Result<Option<String>, ConfigError> {
        let var = variable.name;
        debug_assert!(
            variables::find(var).is_some(),
            "{var} is read but not in the variables table"
        );
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

    /// The first of `variables` that is set, with its name: the signal-specific variable goes
    /// first, so that it wins over the generic one.
    pub(super) fn first(
        &self,
        variables: &[&'static Variable],
    ) -> Result<Option<(&'static str, String)>, ConfigError> {
        for &variable in variables {
            if let Some(value) = self.get(variable)? {
                return Ok(Some((variable.name, value)));
            }
        }
        Ok(None)
    }

    /// A whole number in `range` from the first of `variables` that is set, or `default`.
    pub(super) fn number(
        &self,
        variables: &[&'static Variable],
        range: RangeInclusive<u64>,
        unit: &str,
        default: u64,
    ) -> Result<u64, ConfigError> {
        let Some((var, value)) = self.first(variables)? else {
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

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use crate::config::tests::config;
    use crate::config::variables::{OTEL_TRACES_EXPORTER, PORT};
    use crate::config::{Config, DEFAULT_PORT};

    #[test]
    fn empty_values_count_as_unset() {
        let config = config(&[(PORT.name, ""), (OTEL_TRACES_EXPORTER.name, " ")]).unwrap();
        assert_eq!(config.listen.port(), DEFAULT_PORT);
        assert!(config.telemetry.console);
    }

    #[test]
    fn a_value_that_is_not_utf8_is_named() {
        use std::os::unix::ffi::OsStringExt;
        let err = Config::from_lookup(|name| {
            (name == PORT.name).then(|| OsString::from_vec(vec![0x35, 0xff, 0x30]))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORT is not valid UTF-8 (\"5\u{fffd}0\"): expected text"
        );
    }
}
