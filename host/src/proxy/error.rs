//! Every way a proxied request can fail, whose fault it is, and the
//! OpenAI-shaped JSON error the client gets. Messages never include
//! secrets or internal details.

use bytes::Bytes;

use super::path::PathError;
use crate::catalog::RouteError;
use crate::plugins::{EndpointClass, FailureKind, PluginFailure};

/// The status traced for a request whose client left before its answer
/// began (nginx's; never sent).
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// Who caused a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Client,
    Upstream,
    Plugin,
    Gateway,
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "missing API key: send it as 'Authorization: Bearer <key>', 'x-api-key', 'x-goog-api-key', 'api-key' or '?key='"
    )]
    MissingKey,
    #[error("invalid API key")]
    UnknownKey,
    #[error("invalid token")]
    InvalidToken(String),
    #[error("this API key is disabled")]
    DisabledKey,
    #[error("this API key has expired")]
    ExpiredKey,
    #[error("this API key may not use model '{0}'")]
    ModelNotAllowed(String),
    #[error(
        "this API key may not use {class} endpoints ({method} {path}); an operator can grant the class to the key"
    )]
    EndpointNotAllowed {
        class: EndpointClass,
        method: String,
        path: String,
    },
    #[error("invalid request path: {0}")]
    BadPath(#[from] PathError),
    /// A key with several providers: the request matches none of them, or
    /// (after a plugin changed) more than one.
    #[error("{0}")]
    NoRoute(#[from] RouteError),
    #[error("request body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("reading the request body failed")]
    BodyRead,
    #[error("provider '{0}' is not available: {1}")]
    ProviderUnavailable(String, &'static str),
    #[error("no usable upstream key: {reason}")]
    NoUsableKey {
        reason: &'static str,
        /// Seconds until a key may be usable again, when known.
        retry_after: Option<u64>,
    },
    #[error("rate limit exceeded: this API key's {limit} limit is reached")]
    RateLimited {
        limit: &'static str,
        retry_after: u64,
    },
    /// A budget above the key (its owner's or its team's) is spent.
    #[error("budget exceeded: the {limit} budget is spent")]
    BudgetSpent {
        /// The budget line, such as `team_cost_per_month`.
        limit: &'static str,
        retry_after: u64,
    },
    #[error("rate limits cannot be checked right now")]
    LimiterUnavailable,
    /// The key's recent requests made the provider plugin fail (run out of
    /// time or memory, or crash) too often: refused for a while, before
    /// any plugin work.
    #[error(
        "this API key's recent requests made the provider plugin fail too often; try again later"
    )]
    PluginFailuresProvoked { retry_after: u64 },
    #[error("{0}")]
    Plugin(PluginFailure),
    #[error("upstream provider is unreachable")]
    UpstreamUnreachable(String),
    #[error("the provider's upstream address is not allowed by the gateway's egress policy")]
    EgressDenied(String),
    #[error("upstream provider did not answer in time")]
    UpstreamTimeout,
    #[error("upstream connection failed while the answer was being sent")]
    UpstreamBroken(String),
    /// The upstream's answer was not HTTP the gateway can pass on (a
    /// malformed or ambiguous head); nothing of it reached the client.
    #[error("upstream provider sent an invalid response")]
    UpstreamInvalid(String),
    /// More requests in flight than the gateway takes
    /// (`AI_PROXY_MAX_IN_FLIGHT`), or every plugin instance in use: shed
    /// before any work, with a hint to come back shortly.
    #[error("the gateway is at capacity; retry shortly")]
    Overloaded,
    /// An OAuth key's token could not be made fresh (the detail says why).
    #[error("the upstream account's access token could not be refreshed")]
    UpstreamCredential(String),
    /// The client closed its connection while the gateway waited for the
    /// upstream's answer: the upstream request is abandoned and nothing is
    /// written (nobody would read it). Traced as 499, nginx's status for it.
    #[error("the client closed the connection before the answer began")]
    ClientGone,
}

impl From<PluginFailure> for ProxyError {
    /// A plugin's failure; no free instance is the gateway at capacity.
    fn from(failure: PluginFailure) -> ProxyError {
        match failure.kind {
            FailureKind::Busy => ProxyError::Overloaded,
            _ => ProxyError::Plugin(failure),
        }
    }
}

impl ProxyError {
    pub fn status(&self) -> u16 {
        match self {
            ProxyError::MissingKey
            | ProxyError::UnknownKey
            | ProxyError::InvalidToken(_)
            | ProxyError::ExpiredKey => 401,
            ProxyError::DisabledKey
            | ProxyError::ModelNotAllowed(_)
            | ProxyError::EndpointNotAllowed { .. } => 403,
            ProxyError::BadPath(_) => 400,
            ProxyError::NoRoute(RouteError::Ambiguous { .. }) => 503,
            ProxyError::NoRoute(_) => 403,
            ProxyError::BodyTooLarge { .. } => 413,
            ProxyError::BodyRead => 400,
            ProxyError::RateLimited { .. }
            | ProxyError::BudgetSpent { .. }
            | ProxyError::PluginFailuresProvoked { .. } => 429,
            ProxyError::ProviderUnavailable(..)
            | ProxyError::NoUsableKey { .. }
            | ProxyError::LimiterUnavailable
            | ProxyError::Overloaded
            | ProxyError::UpstreamCredential(_) => 503,
            ProxyError::Plugin(f) if f.is_client_error() => 400,
            ProxyError::Plugin(_) => 502,
            ProxyError::UpstreamUnreachable(_)
            | ProxyError::UpstreamBroken(_)
            | ProxyError::UpstreamInvalid(_)
            | ProxyError::EgressDenied(_) => 502,
            ProxyError::UpstreamTimeout => 504,
            ProxyError::ClientGone => CLIENT_CLOSED_REQUEST,
        }
    }

    pub fn fault(&self) -> Fault {
        match self {
            ProxyError::MissingKey
            | ProxyError::UnknownKey
            | ProxyError::InvalidToken(_)
            | ProxyError::DisabledKey
            | ProxyError::ExpiredKey
            | ProxyError::ModelNotAllowed(_)
            | ProxyError::EndpointNotAllowed { .. }
            | ProxyError::BadPath(_)
            | ProxyError::NoRoute(
                RouteError::NoProvider { .. } | RouteError::NoProviderForModel { .. },
            )
            | ProxyError::BodyTooLarge { .. }
            | ProxyError::BodyRead
            | ProxyError::RateLimited { .. }
            | ProxyError::BudgetSpent { .. }
            | ProxyError::PluginFailuresProvoked { .. }
            | ProxyError::ClientGone => Fault::Client,
            ProxyError::Plugin(f) if f.is_client_error() => Fault::Client,
            ProxyError::Plugin(_) => Fault::Plugin,
            ProxyError::ProviderUnavailable(..)
            | ProxyError::NoUsableKey { .. }
            | ProxyError::LimiterUnavailable
            | ProxyError::Overloaded
            | ProxyError::NoRoute(RouteError::Ambiguous { .. })
            | ProxyError::EgressDenied(_) => Fault::Gateway,
            ProxyError::UpstreamUnreachable(_)
            | ProxyError::UpstreamTimeout
            | ProxyError::UpstreamBroken(_)
            | ProxyError::UpstreamInvalid(_)
            | ProxyError::UpstreamCredential(_) => Fault::Upstream,
        }
    }

    /// OpenAI's `error.type` vocabulary.
    fn error_type(&self) -> &'static str {
        if matches!(self, ProxyError::Overloaded) {
            return "overloaded";
        }
        match self.status() {
            401 | 403 => "authentication_error",
            413 | 400 | CLIENT_CLOSED_REQUEST => "invalid_request_error",
            429 => "rate_limit_error",
            503 => "service_unavailable",
            _ => "upstream_error",
        }
    }

    /// A stable machine-readable code, also recorded in the trace.
    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::MissingKey => "missing_api_key",
            ProxyError::UnknownKey => "invalid_api_key",
            ProxyError::InvalidToken(_) => "invalid_token",
            ProxyError::DisabledKey => "api_key_disabled",
            ProxyError::ExpiredKey => "api_key_expired",
            ProxyError::ModelNotAllowed(_) => "model_not_allowed",
            ProxyError::EndpointNotAllowed { .. } => "endpoint_not_allowed",
            ProxyError::BadPath(_) => "invalid_path",
            ProxyError::NoRoute(e) => e.code(),
            ProxyError::BodyTooLarge { .. } => "request_too_large",
            ProxyError::BodyRead => "request_body_unreadable",
            ProxyError::ProviderUnavailable(..) => "provider_unavailable",
            ProxyError::NoUsableKey { .. } => "no_usable_upstream_key",
            ProxyError::RateLimited { .. } => "rate_limit_exceeded",
            ProxyError::BudgetSpent { .. } => "budget_exceeded",
            ProxyError::LimiterUnavailable => "rate_limiter_unavailable",
            ProxyError::PluginFailuresProvoked { .. } => "plugin_failures_provoked",
            ProxyError::Plugin(f) => f.code(),
            ProxyError::UpstreamUnreachable(_) => "upstream_unreachable",
            ProxyError::EgressDenied(_) => "upstream_address_denied",
            ProxyError::UpstreamTimeout => "upstream_timeout",
            ProxyError::UpstreamBroken(_) => "upstream_broken",
            ProxyError::UpstreamInvalid(_) => "upstream_invalid_response",
            ProxyError::UpstreamCredential(_) => "upstream_credential_unavailable",
            ProxyError::Overloaded => "overloaded",
            ProxyError::ClientGone => "client_closed_request",
        }
    }

    /// Details for logs and the trace (never sent to the client).
    pub fn detail(&self) -> String {
        match self {
            ProxyError::Plugin(f) => format!("{f}: {:?}", f.kind),
            ProxyError::InvalidToken(why) => format!("invalid token: {why}"),
            ProxyError::UpstreamUnreachable(d)
            | ProxyError::UpstreamBroken(d)
            | ProxyError::UpstreamInvalid(d)
            | ProxyError::UpstreamCredential(d) => {
                format!("{self}: {d}")
            }
            other => other.to_string(),
        }
    }

    /// Seconds the client should wait before trying again, if known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ProxyError::RateLimited { retry_after, .. }
            | ProxyError::BudgetSpent { retry_after, .. }
            | ProxyError::PluginFailuresProvoked { retry_after } => Some(*retry_after),
            ProxyError::NoUsableKey { retry_after, .. } => *retry_after,
            ProxyError::LimiterUnavailable | ProxyError::Overloaded => Some(1),
            _ => None,
        }
    }

    /// The JSON body: `{"error":{"message","type","param","code"}}`.
    pub fn body(&self) -> Bytes {
        let body = serde_json::json!({
            "error": {
                "message": self.to_string(),
                "type": self.error_type(),
                "param": match self {
                    ProxyError::RateLimited { limit, .. } | ProxyError::BudgetSpent { limit, .. } => {
                        serde_json::Value::from(*limit)
                    }
                    _ => serde_json::Value::Null,
                },
                "code": self.code(),
            }
        });
        Bytes::from(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(ProxyError::MissingKey.status(), 401);
        assert_eq!(ProxyError::DisabledKey.status(), 403);
        assert_eq!(ProxyError::BodyTooLarge { limit: 1 }.status(), 413);
        let none = ProxyError::NoUsableKey {
            reason: "none configured",
            retry_after: None,
        };
        assert_eq!(none.status(), 503);
        let limited = ProxyError::RateLimited {
            limit: "requests_per_minute",
            retry_after: 12,
        };
        assert_eq!((limited.status(), limited.retry_after()), (429, Some(12)));
        let body: serde_json::Value = serde_json::from_slice(&limited.body()).expect("json");
        assert_eq!(body["error"]["param"], "requests_per_minute");
        assert_eq!(body["error"]["type"], "rate_limit_error");
        let trap = PluginFailure {
            plugin: "x".into(),
            kind: FailureKind::Trap("wasm backtrace".into()),
        };
        assert_eq!(ProxyError::Plugin(trap).status(), 502);
        let refused = PluginFailure {
            plugin: "x".into(),
            kind: FailureKind::Refused("bad json".into()),
        };
        assert_eq!(ProxyError::Plugin(refused).status(), 400);
    }

    #[test]
    fn a_request_none_of_the_keys_providers_serves_is_a_403_naming_the_path() {
        let e = ProxyError::NoRoute(RouteError::NoProvider {
            method: "POST".into(),
            path: "/v1/messages".into(),
        });
        assert_eq!((e.status(), e.fault()), (403, Fault::Client));
        let body: serde_json::Value = serde_json::from_slice(&e.body()).expect("json");
        assert_eq!(body["error"]["code"], "no_provider_for_request");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("POST /v1/messages")
        );
        let ambiguous = ProxyError::NoRoute(RouteError::Ambiguous {
            method: "GET".into(),
            path: "/v1/models".into(),
            providers: "a, b".into(),
        });
        assert_eq!(
            (ambiguous.status(), ambiguous.fault()),
            (503, Fault::Gateway)
        );
    }

    #[test]
    fn plugin_trap_body_names_the_plugin_but_not_the_internals() {
        let e = ProxyError::Plugin(PluginFailure {
            plugin: "openai".into(),
            kind: FailureKind::Trap("wasm backtrace: func 42".into()),
        });
        let body: serde_json::Value = serde_json::from_slice(&e.body()).expect("json");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("openai"));
        assert!(!message.contains("backtrace"));
        assert_eq!(body["error"]["code"], "plugin_trap");
    }
}
