//! URLs given in variables (the OTLP endpoints, `DOWNSTREAM_URL`): an `http://` or `https://` URL
//! with a host, and the same URL with any user name and password masked, for messages and logs.

use url::Url;

/// An `http://` or `https://` URL with a host, or why not.
pub(super) fn parse_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|err| err.to_string())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("the scheme must be http:// or https://".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_owned());
    }
    Ok(url)
}

/// `url` with a user name or password replaced by `***`.
pub(super) fn without_credentials(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut masked = url.clone();
    let _ = masked.set_username("***");
    let _ = masked.set_password(None);
    masked.to_string()
}

/// The same for text that may not even parse as a URL: anything between `://` and an `@` goes.
pub(super) fn mask_credentials(value: &str) -> String {
    match (value.find("://"), value.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end + 3 => {
            format!("{}***{}", &value[..scheme_end + 3], &value[at..])
        }
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_taken() {
        assert!(parse_http_url(" http://backend:5000/ ").is_ok());
        assert!(parse_http_url("https://collector/").is_ok());
        assert_eq!(
            parse_http_url("ftp://x/").unwrap_err(),
            "the scheme must be http:// or https://"
        );
        assert!(parse_http_url("backend:5000").is_err());
    }

    #[test]
    fn credentials_are_masked() {
        let url = Url::parse("http://admin:s3cr3t@collector:4318/x").unwrap();
        assert_eq!(without_credentials(&url), "http://***@collector:4318/x");
        let plain = Url::parse("http://collector:4318/").unwrap();
        assert_eq!(without_credentials(&plain), "http://collector:4318/");
        assert_eq!(mask_credentials("http://admin:s3cr3t@/x"), "http://***@/x");
        assert_eq!(mask_credentials("not a url"), "not a url");
    }
}
