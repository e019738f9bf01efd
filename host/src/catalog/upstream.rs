//! A provider's base URL, parsed once.

/// Where a provider is: scheme, host, port and a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBase {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (`""` or `/openai`).
    pub path_prefix: String,
    /// The `host` header value.
    pub authority: String,
}

/// A base URL the gateway cannot use.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum UpstreamBaseError {
    #[error("base URL is not an absolute http(s) URL")]
    NotAbsolute,
    #[error("base URL scheme must be http or https")]
    Scheme,
    #[error("base URL must not contain credentials, a query or a fragment")]
    Extras,
}

impl UpstreamBase {
    pub fn parse(url: &str) -> Result<UpstreamBase, UpstreamBaseError> {
        if url.contains('@') || url.contains('#') {
            return Err(UpstreamBaseError::Extras);
        }
        let uri: http::Uri = url
            .trim()
            .parse()
            .map_err(|_| UpstreamBaseError::NotAbsolute)?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            Some(_) => return Err(UpstreamBaseError::Scheme),
            None => return Err(UpstreamBaseError::NotAbsolute),
        };
        if uri.query().is_some() {
            return Err(UpstreamBaseError::Extras);
        }
        let authority = uri.authority().ok_or(UpstreamBaseError::NotAbsolute)?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(UpstreamBaseError::NotAbsolute);
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(UpstreamBase {
            tls,
            host,
            port,
            path_prefix: uri.path().trim_end_matches('/').to_owned(),
            authority: authority.as_str().to_owned(),
        })
    }

    /// The upstream path for a plugin-returned path.
    pub fn join(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.path_prefix)
        } else {
            format!("{}/{path}", self.path_prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_default_port_and_prefix() {
        let b = UpstreamBase::parse("https://api.example.com/openai/").expect("parse");
        assert!(b.tls);
        assert_eq!((b.host.as_str(), b.port), ("api.example.com", 443));
        assert_eq!(b.join("/v1/chat"), "/openai/v1/chat");
        assert_eq!(b.authority, "api.example.com");
    }

    #[test]
    fn plain_http_with_port() {
        let b = UpstreamBase::parse("http://127.0.0.1:8081").expect("parse");
        assert!(!b.tls);
        assert_eq!(b.port, 8081);
        assert_eq!(b.join("/v1/x?a=b"), "/v1/x?a=b");
    }

    #[test]
    fn bad_urls_are_refused() {
        assert_eq!(
            UpstreamBase::parse("ftp://x"),
            Err(UpstreamBaseError::Scheme)
        );
        assert_eq!(
            UpstreamBase::parse("api.openai.com"),
            Err(UpstreamBaseError::NotAbsolute)
        );
        assert_eq!(
            UpstreamBase::parse("https://u:p@x.com"),
            Err(UpstreamBaseError::Extras)
        );
        assert_eq!(
            UpstreamBase::parse("https://x.com/?q=1"),
            Err(UpstreamBaseError::Extras)
        );
    }
}
