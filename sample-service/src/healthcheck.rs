//! `sample-service --healthcheck`: asks the running service for `/healthz` and reports healthy or
//! not, so that a container's `HEALTHCHECK` needs neither curl nor a shell (the runtime image has
//! neither). It reads the same `HOST`/`PORT` the service does, so the container passes it nothing
//! extra.

use std::net::SocketAddr;
use std::time::Duration;

use crate::probe::probe_addr;

/// How long the probe waits for an answer; Docker's own health-check timeout should be longer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The service did not answer `/healthz` with 200.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("unhealthy: {url} did not answer ({reason})")]
    Unreachable { url: String, reason: String },
    #[error("unhealthy: {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
}

/// The URL that reaches a service listening on `listen` from the same host.
pub fn probe_url(listen: SocketAddr) -> String {
    format!("http://{}/healthz", probe_addr(listen))
}

/// Asks the service listening on `listen` whether it is healthy; returns the URL asked.
pub fn probe(listen: SocketAddr, timeout: Duration) -> Result<String, HealthError> {
    let url = probe_url(listen);
    let agent = ureq::AgentBuilder::new().timeout(timeout).build();
    match agent
        .get(&url)
        .set("User-Agent", "sample-service-healthcheck")
        .call()
    {
        Ok(response) if response.status() == 200 => Ok(url),
        Ok(response) => Err(HealthError::Status {
            url,
            status: response.status(),
        }),
        Err(ureq::Error::Status(status, _)) => Err(HealthError::Status { url, status }),
        Err(err) => Err(HealthError::Unreachable {
            url,
            reason: err.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_probed_on_loopback() {
        assert_eq!(
            probe_url("0.0.0.0:80".parse().unwrap()),
            "http://127.0.0.1:80/healthz"
        );
        assert_eq!(
            probe_url("[::]:8080".parse().unwrap()),
            "http://[::1]:8080/healthz"
        );
        assert_eq!(
            probe_url("10.0.0.5:5000".parse().unwrap()),
            "http://10.0.0.5:5000/healthz"
        );
    }
}
