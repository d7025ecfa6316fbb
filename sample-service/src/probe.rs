//! Where this host reaches a socket that listens on a given address: the server's watchdog and
//! `sample-service --healthcheck` both knock on the service's own socket this way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address that reaches a socket listening on `listen` from this host: an unspecified
/// address (`0.0.0.0`, `::`) is reached on loopback.
pub fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_address_is_probed_on_loopback() {
        assert_eq!(
            probe_addr("0.0.0.0:5000".parse().unwrap()),
            "127.0.0.1:5000".parse().unwrap()
        );
        assert_eq!(
            probe_addr("[::]:80".parse().unwrap()),
            "[::1]:80".parse().unwrap()
        );
        assert_eq!(
            probe_addr("10.0.0.7:5000".parse().unwrap()),
            "10.0.0.7:5000".parse().unwrap()
        );
    }
}
