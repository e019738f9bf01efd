//! How clients of the proxy port may authenticate besides client keys:
//! JWTs signed by the operator's identity provider, and tokens the gateway
//! issues itself from `POST /oauth/token`.

use std::time::Duration;

use crate::secrets::Secret;

use super::env::{ConfigError, Env, Problem};
use super::jwt::{
    DEFAULT_JWT_LEEWAY, DEFAULT_JWT_MAX_LIFETIME, DEFAULT_TOKEN_TTL, JwtConfig, MAX_JWT_LEEWAY,
    MAX_JWT_MAX_LIFETIME, MIN_JWT_MAX_LIFETIME, TimeRules,
};

/// Shortest HS256 secret accepted for client tokens.
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Shortest lifetime of an OAuth client token.
pub const MIN_OAUTH_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Longest lifetime of an OAuth client token.
pub const MAX_OAUTH_TOKEN_TTL: Duration = Duration::from_secs(86_400);

const RS256_KEY_FILE: &str = "AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE";

/// The client authentication settings.
#[derive(Debug, Clone)]
pub struct ClientAuthConfig {
    /// Keys and claims for client JWTs (`AI_PROXY_JWT_*`).
    pub jwt: JwtConfig,
    /// Lifetime of tokens from `POST /oauth/token`
    /// (`AI_PROXY_OAUTH_TOKEN_TTL_SECS`).
    pub oauth_token_ttl: Duration,
}

impl ClientAuthConfig {
    pub(crate) fn read(env: &Env) -> Result<ClientAuthConfig, ConfigError> {
        Ok(ClientAuthConfig {
            jwt: jwt_config(env)?,
            oauth_token_ttl: env
                .secs("AI_PROXY_OAUTH_TOKEN_TTL_SECS")
                .range(MIN_OAUTH_TOKEN_TTL..=MAX_OAUTH_TOKEN_TTL)
                .default(DEFAULT_TOKEN_TTL)?,
        })
    }
}

fn jwt_config(env: &Env) -> Result<JwtConfig, ConfigError> {
    let hs256_secret = env.secret("AI_PROXY_JWT_HS256_SECRET", MIN_JWT_SECRET_BYTES)?;
    let rs256_path = env.path(RS256_KEY_FILE);
    let rs256_public_pem = match &rs256_path {
        Some(path) => Some(std::fs::read(path).map_err(|_| unusable(path, "cannot be read"))?),
        None => None,
    };
    let config = JwtConfig {
        hs256_secret: hs256_secret
            .as_ref()
            .map(|s| Secret::expose(s).as_bytes().to_vec()),
        rs256_public_pem,
        issuer: env.text("AI_PROXY_JWT_ISSUER"),
        audience: env.text("AI_PROXY_JWT_AUDIENCE"),
        time: TimeRules {
            leeway: env
                .secs("AI_PROXY_JWT_LEEWAY_SECS")
                .range(..=MAX_JWT_LEEWAY)
                .default(DEFAULT_JWT_LEEWAY)?,
            max_lifetime: env
                .secs("AI_PROXY_JWT_MAX_LIFETIME_SECS")
                .range(MIN_JWT_MAX_LIFETIME..=MAX_JWT_MAX_LIFETIME)
                .default(DEFAULT_JWT_MAX_LIFETIME)?,
        },
    };
    // What the proxy's verifier will parse (`proxy::JwtVerifier::new`).
    let pem_parses = |pem: &[u8]| jsonwebtoken::DecodingKey::from_rsa_pem(pem).is_ok();
    if let (Some(path), false) = (
        &rs256_path,
        config.rs256_public_pem.as_deref().is_none_or(pem_parses),
    ) {
        return Err(unusable(path, "is not an RSA public key in PEM"));
    }
    Ok(config)
}

fn unusable(path: &std::path::Path, why: &'static str) -> ConfigError {
    let shown = path.display().to_string();
    ConfigError::new(RS256_KEY_FILE, shown, Problem::Unusable(why))
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ClientAuthConfig, ConfigError> {
        ClientAuthConfig::read(&pairs(vars))
    }

    #[test]
    fn jwt_secret_must_be_at_least_its_minimum_and_is_never_echoed() {
        let short = "x".repeat(MIN_JWT_SECRET_BYTES - 1);
        let err = read(&[("AI_PROXY_JWT_HS256_SECRET", short.as_str())]).expect_err("short");
        assert!(!err.to_string().contains(&short), "{err}");
        let exact = "x".repeat(MIN_JWT_SECRET_BYTES);
        let c = read(&[("AI_PROXY_JWT_HS256_SECRET", exact.as_str())]).expect("exact");
        assert_eq!(c.jwt.hs256_secret, Some(exact.into_bytes()));
    }

    #[test]
    fn an_rs256_key_file_must_be_readable_and_a_key() {
        let err = read(&[(RS256_KEY_FILE, "/nonexistent.pem")]).expect_err("missing");
        assert_eq!(err.problem(), &Problem::Unusable("cannot be read"));
        let not_a_key =
            std::env::temp_dir().join(format!("aip-not-a-key-{}.pem", std::process::id()));
        std::fs::write(&not_a_key, "not a key").expect("write");
        let path = not_a_key.display().to_string();
        let err = read(&[(RS256_KEY_FILE, path.as_str())]).expect_err("garbage");
        let _ = std::fs::remove_file(&not_a_key);
        assert_eq!(
            err.problem(),
            &Problem::Unusable("is not an RSA public key in PEM")
        );
    }

    #[test]
    fn jwt_leeway_and_max_lifetime_are_bounded_at_both_ends() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.jwt.time.leeway, DEFAULT_JWT_LEEWAY);
        assert_eq!(c.jwt.time.max_lifetime, DEFAULT_JWT_MAX_LIFETIME);
        for (value, ok) in [("0", true), ("300", true), ("301", false), ("-1", false)] {
            let result = read(&[("AI_PROXY_JWT_LEEWAY_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "leeway {value}");
        }
        for (value, ok) in [
            ("59", false),
            ("60", true),
            ("2592000", true),
            ("2592001", false),
        ] {
            let result = read(&[("AI_PROXY_JWT_MAX_LIFETIME_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "max lifetime {value}");
        }
    }

    #[test]
    fn oauth_token_lifetime_is_bounded_at_both_ends() {
        for (value, ok) in [
            ("59", false),
            ("60", true),
            ("86400", true),
            ("86401", false),
            ("1h", false),
        ] {
            let result = read(&[("AI_PROXY_OAUTH_TOKEN_TTL_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "{value}");
        }
        let err = read(&[("AI_PROXY_OAUTH_TOKEN_TTL_SECS", "59")]).expect_err("59");
        assert!(err.to_string().ends_with("between 60 and 86400"), "{err}");
    }
}
