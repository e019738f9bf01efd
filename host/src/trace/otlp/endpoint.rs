//! Where spans go: `AI_PROXY_OTLP_ENDPOINT`, an `http://` or `https://`
//! URL of an OTLP/HTTP collector. As with the OpenTelemetry SDKs' base
//! endpoint, `/v1/traces` is appended unless the path already ends with it.

/// The signal path of trace exports.
const TRACES_PATH: &str = "/v1/traces";

/// A parsed collector URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// `host[:port]` as written, for the `Host` header.
    pub authority: String,
    pub path: String,
}

/// Why an endpoint cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("must be an http:// or https:// URL with a host")]
    NotHttpUrl,
    #[error("must not carry credentials or a query")]
    Credentials,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let uri: http::Uri = url.trim().parse().map_err(|_| EndpointError::NotHttpUrl)?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(EndpointError::NotHttpUrl),
        };
        let authority = uri.authority().ok_or(EndpointError::NotHttpUrl)?;
        // Userinfo would be a secret in every log line that names the endpoint.
        if authority.as_str().contains('@') || uri.query().is_some() {
            return Err(EndpointError::Credentials);
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(EndpointError::NotHttpUrl);
        }
        let base = uri.path().trim_end_matches('/');
        let path = if base.ends_with(TRACES_PATH) {
            base.to_owned()
        } else {
            format!("{base}{TRACES_PATH}")
        };
        Ok(Endpoint {
            tls,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            authority: authority.as_str().to_owned(),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_appended_once() {
        let e = Endpoint::parse("http://127.0.0.1:4318").expect("ok");
        assert_eq!(
            (e.tls, e.port, e.path.as_str()),
            (false, 4318, "/v1/traces")
        );
        let e = Endpoint::parse("https://otel.example/base/").expect("ok");
        assert_eq!(
            (e.tls, e.port, e.path.as_str()),
            (true, 443, "/base/v1/traces")
        );
        let e = Endpoint::parse("http://[::1]:4318/v1/traces").expect("ok");
        assert_eq!((e.host.as_str(), e.path.as_str()), ("::1", "/v1/traces"));
        assert_eq!(e.authority, "[::1]:4318");
    }

    #[test]
    fn other_schemes_credentials_and_queries_are_refused() {
        assert_eq!(
            Endpoint::parse("grpc://c:4317"),
            Err(EndpointError::NotHttpUrl)
        );
        assert_eq!(Endpoint::parse("c:4318"), Err(EndpointError::NotHttpUrl));
        assert_eq!(
            Endpoint::parse("http://u:p@c:4318"),
            Err(EndpointError::Credentials)
        );
        assert_eq!(
            Endpoint::parse("http://c:4318/?key=1"),
            Err(EndpointError::Credentials)
        );
    }
}
