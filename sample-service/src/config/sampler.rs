//! Which traces are recorded: `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.

use super::lookup::Lookup;
use super::variables::{OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG};
use super::ConfigError;

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

/// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, both read before either is checked.
pub(super) fn sampler_config(env: &Lookup) -> Result<SamplerConfig, ConfigError> {
    parse_sampler(
        env.get(&OTEL_TRACES_SAMPLER)?,
        env.get(&OTEL_TRACES_SAMPLER_ARG)?,
    )
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

#[cfg(test)]
mod tests {
    use super::SamplerConfig;
    use crate::config::tests::config;
    use crate::config::variables::{OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG};

    #[test]
    fn samplers_follow_the_specification() {
        assert_eq!(
            config(&[]).unwrap().telemetry.sampler,
            SamplerConfig::ParentBasedAlwaysOn
        );
        let ratio = config(&[
            (OTEL_TRACES_SAMPLER.name, "parentbased_traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG.name, "0.25"),
        ])
        .unwrap();
        assert_eq!(
            ratio.telemetry.sampler,
            SamplerConfig::ParentBasedTraceIdRatio(0.25)
        );
        let default_arg = config(&[(OTEL_TRACES_SAMPLER.name, "traceidratio")]).unwrap();
        assert_eq!(
            default_arg.telemetry.sampler,
            SamplerConfig::TraceIdRatio(1.0)
        );
        let off = config(&[(OTEL_TRACES_SAMPLER.name, "always_off")]).unwrap();
        assert_eq!(off.telemetry.sampler, SamplerConfig::AlwaysOff);
    }

    #[test]
    fn bad_sampler_values_are_refused() {
        let name = config(&[(OTEL_TRACES_SAMPLER.name, "sometimes")]).unwrap_err();
        assert!(name
            .to_string()
            .starts_with("OTEL_TRACES_SAMPLER=\"sometimes\" is not a supported sampler"));
        let arg = config(&[
            (OTEL_TRACES_SAMPLER.name, "traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG.name, "25%"),
        ])
        .unwrap_err();
        assert!(arg
            .to_string()
            .starts_with("OTEL_TRACES_SAMPLER_ARG=\"25%\" is not a sampling ratio"));
        let too_big = config(&[
            (OTEL_TRACES_SAMPLER.name, "parentbased_traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG.name, "1.5"),
        ]);
        assert!(too_big.is_err());
    }
}
