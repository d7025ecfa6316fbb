//! What a SERVER span says about its request: its name and the stable HTTP semantic-convention
//! attributes (<https://opentelemetry.io/docs/specs/semconv/http/http-spans/>), with keys from
//! `opentelemetry-semantic-conventions`.
//!
//! Every value a client chooses (path, query, user agent, an unknown method, the `Host` header)
//! is cut to the configured length (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, 1024 bytes by default),
//! so that a span's size, the export queue's memory and one export's size have a bound whatever
//! the requests carry. The SDK (0.33) does not apply that variable itself.

use std::net::SocketAddr;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_ROUTE,
    NETWORK_PEER_ADDRESS, NETWORK_PEER_PORT, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT,
    URL_PATH, URL_QUERY, URL_SCHEME, USER_AGENT_ORIGINAL,
};
use rouille::Request;

/// A request method as the conventions see it: one of the registered methods, or `_OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Known(&'static str),
    Other,
}

impl Method {
    /// The conventions' list of methods (RFC 9110 and RFC 5789), compared case-sensitively.
    const KNOWN: [&'static str; 9] = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];

    pub fn of(method: &str) -> Method {
        Method::KNOWN
            .into_iter()
            .find(|known| *known == method)
            .map_or(Method::Other, Method::Known)
    }

    fn semconv_value(self) -> &'static str {
        match self {
            Method::Known(name) => name,
            Method::Other => "_OTHER",
        }
    }

    /// Unknown methods are named `HTTP` in span names, so that a client cannot flood the
    /// backend with made-up span names.
    fn span_name_part(self) -> &'static str {
        match self {
            Method::Known(name) => name,
            Method::Other => "HTTP",
        }
    }
}

/// `GET /` when a route matched, just `GET` when none did (the conventions' naming).
pub fn span_name(method: Method, route: Option<&str>) -> String {
    match route {
        Some(route) => format!("{} {route}", method.span_name_part()),
        None => method.span_name_part().to_owned(),
    }
}

/// The attributes of `request`'s SERVER span, known when it starts. `local` is where the server
/// listens (`server.address` when the request has no `Host`); `limit` bounds the client's values.
pub fn request_attributes(
    request: &Request,
    method: Method,
    route: Option<&'static str>,
    local: SocketAddr,
    limit: usize,
) -> Vec<KeyValue> {
    let from_client = |value: &str| truncate(value, limit).to_owned();
    let (path, query) = split_target(request.raw_url());
    let scheme = if request.is_secure() { "https" } else { "http" };
    let client = request.remote_addr().ip().to_string();
    let mut attributes = vec![
        KeyValue::new(HTTP_REQUEST_METHOD, method.semconv_value()),
        KeyValue::new(URL_PATH, from_client(path)),
        KeyValue::new(URL_SCHEME, scheme),
        // rouille hands handlers no HTTP version; its server, tiny_http, speaks HTTP/1.x only
        // and every client in this lab (curl, browsers, wrk, Docker's health check) uses 1.1.
        KeyValue::new(NETWORK_PROTOCOL_VERSION, "1.1"),
        KeyValue::new(CLIENT_ADDRESS, client.clone()),
        KeyValue::new(NETWORK_PEER_ADDRESS, client),
        KeyValue::new(NETWORK_PEER_PORT, i64::from(request.remote_addr().port())),
    ];
    if let Method::Other = method {
        attributes.push(KeyValue::new(
            HTTP_REQUEST_METHOD_ORIGINAL,
            from_client(request.method()),
        ));
    }
    if let Some(query) = query {
        attributes.push(KeyValue::new(URL_QUERY, from_client(query)));
    }
    if let Some(route) = route {
        attributes.push(KeyValue::new(HTTP_ROUTE, route));
    }
    let (address, port) = server_address(request, scheme, local);
    attributes.push(KeyValue::new(SERVER_ADDRESS, from_client(&address)));
    attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
    if let Some(agent) = request.header("User-Agent") {
        attributes.push(KeyValue::new(USER_AGENT_ORIGINAL, from_client(agent)));
    }
    attributes
}

/// `value` cut to at most `limit` bytes, on a character boundary.
pub fn truncate(value: &str, limit: usize) -> &str {
    if value.len() <= limit {
        return value;
    }
    let mut end = limit;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// `/a/b?x=1` is path `/a/b` and query `x=1`.
fn split_target(raw_url: &str) -> (&str, Option<&str>) {
    match raw_url.split_once('?') {
        Some((path, query)) => (path, Some(query).filter(|query| !query.is_empty())),
        None => (raw_url, None),
    }
}

/// The server's name and port as the client addressed it (the `Host` header), else the socket
/// the server listens on.
fn server_address(request: &Request, scheme: &str, local: SocketAddr) -> (String, u16) {
    let from_host = request
        .header("Host")
        .and_then(|host| host.parse::<http::uri::Authority>().ok())
        .map(|authority| {
            let default_port = if scheme == "https" { 443 } else { 80 };
            (
                authority.host().to_owned(),
                authority.port_u16().unwrap_or(default_port),
            )
        });
    from_host.unwrap_or_else(|| (local.ip().to_string(), local.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        assert_eq!(split_target("/a/b?x=1&y"), ("/a/b", Some("x=1&y")));
        assert_eq!(split_target("/a?"), ("/a", None));
        assert_eq!(split_target("/"), ("/", None));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("abcdef", 4), "abcd");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("aé", 2), "a", "é is two bytes: it does not fit");
    }

    #[test]
    fn every_value_from_the_client_is_cut_to_the_limit() {
        let long = "x".repeat(100_000);
        let request = Request::fake_http_from(
            "10.1.2.3:40000".parse().unwrap(),
            long.clone(),
            format!("/{long}?{long}"),
            vec![
                ("User-Agent".into(), long.clone()),
                ("Host".into(), format!("{}.example", "h".repeat(1000))),
            ],
            Vec::new(),
        );
        let attributes = request_attributes(
            &request,
            Method::of(request.method()),
            None,
            "127.0.0.1:5000".parse().unwrap(),
            64,
        );
        for kv in &attributes {
            assert!(
                kv.value.as_str().len() <= 64,
                "{} is {} bytes",
                kv.key,
                kv.value.as_str().len()
            );
        }
        for key in [
            URL_PATH,
            URL_QUERY,
            USER_AGENT_ORIGINAL,
            HTTP_REQUEST_METHOD_ORIGINAL,
            SERVER_ADDRESS,
        ] {
            let value = attributes.iter().find(|kv| kv.key.as_str() == key).unwrap();
            assert_eq!(value.value.as_str().len(), 64, "{key} is cut, not dropped");
        }
    }
}
