//! The batch span processor's settings (`OTEL_BSP_*`), the longest attribute value a request can
//! put on a span (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`),
//! and the check that ties the two: one export must stay under what a collector takes.

use std::time::Duration;

use super::lookup::Lookup;
use super::variables::{
    Variable, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
};
use super::ConfigError;

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

/// The batch span processor's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    pub max_queue_size: usize,
    pub scheduled_delay: Duration,
    pub max_export_batch_size: usize,
}

/// `OTEL_BSP_*`. The SDK reads the same variables, ignores a value it cannot parse and accepts
/// values that stall it (a delay of 0 spins a core; a queue of 0 drops every span): the service
/// checks them and hands the SDK its own values.
pub(super) fn batch_config(env: &Lookup) -> Result<BatchConfig, ConfigError> {
    let max_queue_size = spans(env, &OTEL_BSP_MAX_QUEUE_SIZE, DEFAULT_MAX_QUEUE_SIZE)?;
    let scheduled_delay = Duration::from_millis(env.number(
        &[&OTEL_BSP_SCHEDULE_DELAY],
        10..=600_000,
        "milliseconds",
        DEFAULT_SCHEDULE_DELAY.as_millis() as u64,
    )?);
    let max_export_batch_size = match env.first(&[&OTEL_BSP_MAX_EXPORT_BATCH_SIZE])? {
        // Unset: the default, but never more than the queue holds.
        None => DEFAULT_MAX_EXPORT_BATCH_SIZE.min(max_queue_size),
        Some(_) => {
            let batch = spans(
                env,
                &OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                DEFAULT_MAX_EXPORT_BATCH_SIZE,
            )?;
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

/// A number of spans from 1 to 100,000 (the queue, a batch), or `default`.
fn spans(env: &Lookup, variable: &'static Variable, default: usize) -> Result<usize, ConfigError> {
    Ok(env.number(&[variable], 1..=100_000, "spans", default as u64)? as usize)
}

/// The span-specific variable wins over the generic one.
pub(super) fn attribute_value_limit(env: &Lookup) -> Result<usize, ConfigError> {
    Ok(env.number(
        &[
            &OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            &OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        ],
        16..=65_536,
        "bytes",
        DEFAULT_ATTRIBUTE_VALUE_LIMIT as u64,
    )? as usize)
}

/// One export must stay under what a collector takes, whatever the requests put on the spans.
pub(super) fn check_batch_weight(batch: usize, limit: usize) -> Result<(), ConfigError> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::BatchConfig;
    use crate::config::tests::{assert_rejected, config};
    use crate::config::variables::{
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE,
        OTEL_BSP_SCHEDULE_DELAY, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    };

    #[test]
    fn batch_settings_and_limits_have_the_specifications_defaults_but_a_larger_queue() {
        let defaults = config(&[]).unwrap();
        assert_eq!(
            defaults.telemetry.batch,
            BatchConfig {
                max_queue_size: 8192,
                scheduled_delay: Duration::from_secs(5),
                max_export_batch_size: 512
            }
        );
        assert_eq!(defaults.telemetry.attribute_value_limit, 1024);
        let small_queue = config(&[(OTEL_BSP_MAX_QUEUE_SIZE.name, "100")]).unwrap();
        assert_eq!(small_queue.telemetry.batch.max_export_batch_size, 100);
        let specific = config(&[
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.name, "4096"),
            (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT.name, "256"),
        ])
        .unwrap();
        assert_eq!(specific.telemetry.attribute_value_limit, 256);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        assert_rejected(&[
            (
                &[(OTEL_BSP_MAX_QUEUE_SIZE.name, "0")],
                "OTEL_BSP_MAX_QUEUE_SIZE=\"0\" is not a valid value: expected a whole number of spans from 1 to 100000",
            ),
            (&[(OTEL_BSP_MAX_QUEUE_SIZE.name, "100000000")], "OTEL_BSP_MAX_QUEUE_SIZE=\"100000000\" is not a valid value"),
            (&[(OTEL_BSP_MAX_QUEUE_SIZE.name, "-1")], "OTEL_BSP_MAX_QUEUE_SIZE=\"-1\" is not a valid value"),
            (&[(OTEL_BSP_MAX_QUEUE_SIZE.name, "abc")], "OTEL_BSP_MAX_QUEUE_SIZE=\"abc\" is not a valid value"),
            (
                &[(OTEL_BSP_SCHEDULE_DELAY.name, "0")],
                "OTEL_BSP_SCHEDULE_DELAY=\"0\" is not a valid value: expected a whole number of milliseconds from 10 to 600000",
            ),
            (
                &[(OTEL_BSP_MAX_EXPORT_BATCH_SIZE.name, "99999999999999999999999")],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"99999999999999999999999\" is not a valid value",
            ),
            (
                &[(OTEL_BSP_MAX_QUEUE_SIZE.name, "100"), (OTEL_BSP_MAX_EXPORT_BATCH_SIZE.name, "200")],
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=200 is larger than OTEL_BSP_MAX_QUEUE_SIZE=100",
            ),
            (
                &[(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.name, "8")],
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"8\" is not a valid value: expected a whole number of bytes from 16 to 65536",
            ),
            (
                &[(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.name, "65536")],
                "a batch of 512 spans with attribute values of up to 65536 bytes could weigh 161 MiB, above the 4 MiB a collector takes",
            ),
        ]);
    }
}
