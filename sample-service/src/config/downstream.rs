//! The service `GET /chain` calls: `DOWNSTREAM_URL`, and only when it is set,
//! `DOWNSTREAM_TIMEOUT_MS` and `DOWNSTREAM_MAX_CONCURRENT`.

use std::time::Duration;

use url::Url;

use super::http_url::parse_http_url;
use super::lookup::Lookup;
use super::variables::{DOWNSTREAM_MAX_CONCURRENT, DOWNSTREAM_TIMEOUT_MS, DOWNSTREAM_URL};
use super::ConfigError;

/// How long `GET /chain` waits for the downstream service by default.
pub const DEFAULT_DOWNSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

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

/// `None` without `DOWNSTREAM_URL`; at most `worker_threads` minus two calls in progress.
pub(super) fn downstream_config(
    env: &Lookup,
    worker_threads: usize,
) -> Result<Option<DownstreamConfig>, ConfigError> {
    let Some(value) = env.get(&DOWNSTREAM_URL)? else {
        return Ok(None);
    };
    Ok(Some(DownstreamConfig {
        url: parse_http_url(&value).map_err(|reason| ConfigError::DownstreamUrl {
            value: value.clone(),
            reason,
        })?,
        timeout: Duration::from_millis(env.number(
            &[&DOWNSTREAM_TIMEOUT_MS],
            1..=600_000,
            "milliseconds",
            DEFAULT_DOWNSTREAM_TIMEOUT.as_millis() as u64,
        )?),
        max_concurrent: env.number(
            &[&DOWNSTREAM_MAX_CONCURRENT],
            1..=(worker_threads as u64 - 2),
            "calls (the service has this many worker threads, minus two kept for the other routes)",
            (worker_threads / 2) as u64,
        )? as usize,
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::DEFAULT_DOWNSTREAM_TIMEOUT;
    use crate::config::tests::{assert_rejected, config};
    use crate::config::variables::{
        DOWNSTREAM_MAX_CONCURRENT, DOWNSTREAM_TIMEOUT_MS, DOWNSTREAM_URL,
    };
    use crate::config::worker_threads;

    #[test]
    fn downstream_is_optional_with_a_default_timeout() {
        assert_eq!(config(&[]).unwrap().downstream, None);
        let chained = config(&[(DOWNSTREAM_URL.name, "http://backend:5000/")]).unwrap();
        let downstream = chained.downstream.unwrap();
        assert_eq!(downstream.url.as_str(), "http://backend:5000/");
        assert_eq!(downstream.timeout, DEFAULT_DOWNSTREAM_TIMEOUT);
        let quick = config(&[
            (DOWNSTREAM_URL.name, "http://backend:5000/"),
            (DOWNSTREAM_TIMEOUT_MS.name, "250"),
        ])
        .unwrap();
        assert_eq!(
            quick.downstream.unwrap().timeout,
            Duration::from_millis(250)
        );
    }

    #[test]
    fn bad_downstream_values_name_the_variable() {
        let url = config(&[(DOWNSTREAM_URL.name, "backend:5000")]).unwrap_err();
        assert!(
            url.to_string()
                .starts_with("DOWNSTREAM_URL=\"backend:5000\" is not a URL"),
            "{url}"
        );
        let timeout = config(&[
            (DOWNSTREAM_URL.name, "http://backend/"),
            (DOWNSTREAM_TIMEOUT_MS.name, "0"),
        ])
        .unwrap_err();
        assert!(
            timeout
                .to_string()
                .starts_with("DOWNSTREAM_TIMEOUT_MS=\"0\""),
            "{timeout}"
        );
        assert_rejected(&[(
            &[
                (DOWNSTREAM_URL.name, "http://backend/"),
                (DOWNSTREAM_MAX_CONCURRENT.name, "0"),
            ],
            "DOWNSTREAM_MAX_CONCURRENT=\"0\" is not a valid value",
        )]);
    }

    #[test]
    fn the_chain_keeps_two_workers_for_the_other_routes() {
        let workers = worker_threads();
        let chained = config(&[(DOWNSTREAM_URL.name, "http://backend/")]).unwrap();
        assert_eq!(chained.downstream.unwrap().max_concurrent, workers / 2);
        let too_many = workers - 1;
        let err = config(&[
            (DOWNSTREAM_URL.name, "http://backend/"),
            (DOWNSTREAM_MAX_CONCURRENT.name, &too_many.to_string()),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("from 1 to {}", workers - 2)),
            "{err}"
        );
    }
}
