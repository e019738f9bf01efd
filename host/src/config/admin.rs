//! The admin port's own settings: the bootstrapped account's password, the
//! scrape token for `/metrics` and where the console is served from.

use std::path::PathBuf;

use crate::secrets::Secret;

use super::env::{ConfigError, Env};

/// Shortest scrape token accepted (`AI_PROXY_METRICS_TOKEN`): the admin
/// port checks what it was given, the configuration what may be given.
pub const MIN_METRICS_TOKEN_BYTES: usize = 32;

/// The admin settings.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Password for the bootstrapped `admin` account; generated and printed
    /// once when unset at first start (`AI_PROXY_ADMIN_PASSWORD`).
    pub password: Option<Secret>,
    /// Token a scraper may send for `/metrics` instead of admin credentials
    /// (`AI_PROXY_METRICS_TOKEN`, at least [`MIN_METRICS_TOKEN_BYTES`]).
    pub metrics_token: Option<Secret>,
    /// A directory holding a built web UI to serve at `/` on the admin
    /// port instead of the copy embedded in the binary (`AI_PROXY_WEB_DIR`).
    pub web_dir: Option<PathBuf>,
}

impl AdminConfig {
    pub(crate) fn read(env: &Env) -> Result<AdminConfig, ConfigError> {
        Ok(AdminConfig {
            password: env.secret("AI_PROXY_ADMIN_PASSWORD", 0)?,
            metrics_token: env.secret("AI_PROXY_METRICS_TOKEN", MIN_METRICS_TOKEN_BYTES)?,
            web_dir: env.path("AI_PROXY_WEB_DIR"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<AdminConfig, ConfigError> {
        AdminConfig::read(&pairs(vars))
    }

    #[test]
    fn metrics_token_is_at_least_its_minimum_and_never_echoed() {
        let short = "m".repeat(MIN_METRICS_TOKEN_BYTES - 1);
        let err = read(&[("AI_PROXY_METRICS_TOKEN", short.as_str())]).expect_err("short");
        assert!(!err.to_string().contains(&short), "{err}");
        let exact = "m".repeat(MIN_METRICS_TOKEN_BYTES);
        let c = read(&[("AI_PROXY_METRICS_TOKEN", exact.as_str())]).expect("exact");
        assert!(
            !format!("{c:?}").contains(&exact),
            "the token is not printed"
        );
        assert!(read(&[]).expect("defaults").metrics_token.is_none());
    }

    #[test]
    fn the_admin_password_is_never_printed() {
        let c = read(&[("AI_PROXY_ADMIN_PASSWORD", "correct horse")]).expect("set");
        assert_eq!(
            c.password.as_ref().map(Secret::expose),
            Some("correct horse")
        );
        assert!(!format!("{c:?}").contains("horse"));
    }

    #[test]
    fn web_dir_defaults_to_the_embedded_console_and_follows_its_variable() {
        assert_eq!(read(&[]).expect("defaults").web_dir, None);
        let c = read(&[("AI_PROXY_WEB_DIR", "/srv/console")]).expect("set");
        assert_eq!(c.web_dir, Some(PathBuf::from("/srv/console")));
        assert_eq!(
            read(&[("AI_PROXY_WEB_DIR", "")]).expect("empty").web_dir,
            None
        );
    }
}
