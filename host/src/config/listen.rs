//! Where the two ports listen, whether they speak HTTPS, and which reverse
//! proxies in front of the admin port are believed.

use std::net::SocketAddr;

use crate::egress::Cidr;
use crate::tls::TlsFiles;

use super::env::{ConfigError, Env, Problem};

/// Default address of the proxy port (SDK clients).
pub const DEFAULT_PROXY_ADDR: &str = "0.0.0.0:8080";
/// Default address of the admin port (API and console).
pub const DEFAULT_ADMIN_ADDR: &str = "0.0.0.0:9090";

const ADDRESS: &str = "an address such as 0.0.0.0:8080";
const CIDR_LIST: &str = "a comma-separated list of CIDR blocks";

/// The listeners' settings.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// `AI_PROXY_PROXY_ADDR`.
    pub proxy_addr: SocketAddr,
    /// `AI_PROXY_ADMIN_ADDR`.
    pub admin_addr: SocketAddr,
    /// Certificate chain and key (PEM) for HTTPS on both ports
    /// (`AI_PROXY_TLS_CERT`, `AI_PROXY_TLS_KEY`: both or neither).
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-For` the
    /// admin port believes (`AI_PROXY_TRUSTED_PROXIES`, comma-separated CIDRs).
    pub trusted_proxies: Vec<Cidr>,
}

impl ListenConfig {
    pub(crate) fn read(env: &Env) -> Result<ListenConfig, ConfigError> {
        Ok(ListenConfig {
            proxy_addr: address(env, "AI_PROXY_PROXY_ADDR", DEFAULT_PROXY_ADDR)?,
            admin_addr: address(env, "AI_PROXY_ADMIN_ADDR", DEFAULT_ADMIN_ADDR)?,
            tls: tls_files(env)?,
            trusted_proxies: env.list("AI_PROXY_TRUSTED_PROXIES", CIDR_LIST)?,
        })
    }
}

fn address(env: &Env, name: &'static str, default: &str) -> Result<SocketAddr, ConfigError> {
    let given = env.parsed(name, ADDRESS, |v| v.parse().ok())?;
    match given {
        Some(addr) => Ok(addr),
        None => default
            .parse()
            .map_err(|_| ConfigError::new(name, default, Problem::Form(ADDRESS.into()))),
    }
}

/// Both TLS files, or neither.
fn tls_files(env: &Env) -> Result<Option<TlsFiles>, ConfigError> {
    const CERT: &str = "AI_PROXY_TLS_CERT";
    const KEY: &str = "AI_PROXY_TLS_KEY";
    match (env.path(CERT), env.path(KEY)) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(KEY, "", Problem::Unpaired { other: CERT })),
        (None, Some(_)) => Err(ConfigError::new(CERT, "", Problem::Unpaired { other: KEY })),
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;
    use std::path::PathBuf;

    fn read(vars: &[(&str, &str)]) -> Result<ListenConfig, ConfigError> {
        ListenConfig::read(&pairs(vars))
    }

    #[test]
    fn ports_default_to_8080_and_9090_and_garbage_is_refused() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.proxy_addr.port(), 8080);
        assert_eq!(c.admin_addr.port(), 9090);
        let c = read(&[("AI_PROXY_PROXY_ADDR", "127.0.0.1:1")]).expect("set");
        assert_eq!(c.proxy_addr.port(), 1);
        assert!(read(&[("AI_PROXY_ADMIN_ADDR", "localhost")]).is_err());
        assert!(read(&[("AI_PROXY_ADMIN_ADDR", "127.0.0.1:65536")]).is_err());
    }

    #[test]
    fn tls_needs_both_files_and_trusted_proxies_are_cidrs() {
        assert!(read(&[]).expect("defaults").tls.is_none());
        let both = read(&[
            ("AI_PROXY_TLS_CERT", "/c.pem"),
            ("AI_PROXY_TLS_KEY", "/k.pem"),
        ]);
        let both = both.expect("both");
        assert_eq!(both.tls.map(|t| t.key), Some(PathBuf::from("/k.pem")));
        let err = read(&[("AI_PROXY_TLS_CERT", "/c.pem")]).expect_err("no key");
        assert_eq!(err.name(), "AI_PROXY_TLS_KEY");
        let err = read(&[("AI_PROXY_TLS_KEY", "/k.pem")]).expect_err("no cert");
        assert_eq!(err.name(), "AI_PROXY_TLS_CERT");
        let c = read(&[("AI_PROXY_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).expect("cidrs");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(read(&[("AI_PROXY_TRUSTED_PROXIES", "proxy.internal")]).is_err());
    }
}
