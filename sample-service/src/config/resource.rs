//! The service's resource: `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. The SDK reads both
//! itself; the service only checks them first, so that a value the SDK cannot use stops the start.

use super::lookup::Lookup;
use super::variables::{OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME};
use super::ConfigError;

/// The service name the original Flask lab gave its resource.
pub const DEFAULT_SERVICE_NAME: &str = "service_example";

/// Checks the two variables the SDK builds the resource from.
pub(super) fn check_resource(env: &Lookup) -> Result<(), ConfigError> {
    env.get(&OTEL_SERVICE_NAME)?;
    if let Some(value) = env.get(&OTEL_RESOURCE_ATTRIBUTES)? {
        check_resource_attributes(&value)?;
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

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_rejected;
    use crate::config::variables::OTEL_RESOURCE_ATTRIBUTES;

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        assert_rejected(&[
            (
                &[(OTEL_RESOURCE_ATTRIBUTES.name, "service.version=1.2,lab")],
                "OTEL_RESOURCE_ATTRIBUTES=\"service.version=1.2,lab\" has the entry \"lab\", which is not key=value",
            ),
            (
                &[(OTEL_RESOURCE_ATTRIBUTES.name, "=orphan")],
                "has the entry \"=orphan\"",
            ),
        ]);
    }
}
