//! Where the HTTP server listens: `HOST` and `PORT`.

use std::net::{IpAddr, SocketAddr};

use super::lookup::Lookup;
use super::variables::{HOST, PORT};
use super::ConfigError;

/// The port the original Flask lab listened on.
pub const DEFAULT_PORT: u16 = 5000;
/// Listen on every interface by default, as the original did (a container needs it).
pub const DEFAULT_HOST: &str = "0.0.0.0";

/// `HOST` and `PORT`, the port read first.
pub(super) fn listen_address(env: &Lookup) -> Result<SocketAddr, ConfigError> {
    let port = match env.get(&PORT)? {
        None => DEFAULT_PORT,
        Some(value) => parse_port(&value)?,
    };
    let host: IpAddr = match env.get(&HOST)? {
        None => DEFAULT_HOST.parse().map_err(|_| ConfigError::Host {
            value: DEFAULT_HOST.to_owned(),
        })?,
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::Host { value })?,
    };
    Ok(SocketAddr::new(host, port))
}

fn parse_port(value: &str) -> Result<u16, ConfigError> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ConfigError::Port {
            value: value.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{assert_rejected, config};
    use crate::config::variables::{HOST, PORT};

    #[test]
    fn host_and_port() {
        let config = config(&[(HOST.name, "127.0.0.1"), (PORT.name, "8080")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        assert_rejected(&[
            (&[(PORT.name, "http")], "PORT=\"http\" is not a port"),
            (&[(PORT.name, "0")], "PORT=\"0\""),
            (&[(PORT.name, "70000")], "PORT=\"70000\""),
            (&[(HOST.name, "localhost:1")], "HOST=\"localhost:1\""),
        ]);
    }
}
