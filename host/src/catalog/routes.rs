//! One client key, several providers: the key's routes, and how a request
//! picks one of them.
//!
//! A route is a provider the key may use, with its own pool of upstream
//! keys. A request picks its route the way the client addresses it:
//! 1. a path prefix the operator gave the route (`/deepseek/v1/chat/...`
//!    goes to that route, as `/v1/chat/...`); a route with a prefix is
//!    reached only through it;
//! 2. otherwise the API shape: the routes (without a prefix) whose plugin
//!    declares the method and path (`/v1/messages` is Anthropic's);
//! 3. when several routes declare it, the model: the route with a model
//!    prefix the model starts with, else the one route without model
//!    prefixes.
//!
//! Every decision is one the operator configured: the admin API refuses a
//! set of routes in which a request could match two of them
//! ([`super::route_check`]), and if the plugins changed since, a request
//! that still matches two is refused ([`RouteError::Ambiguous`]), never
//! guessed. A key without routes (every key made before this existed) is
//! the single-provider key it always was.

use std::sync::Arc;

use super::ClientKey;
use super::PoolState;
use crate::store::entities::client_key_providers;

/// A provider a client key may use.
pub struct Route {
    pub provider_id: i32,
    /// One path segment without slashes (`deepseek`).
    pub path_prefix: Option<String>,
    /// Model-name prefixes that pick this route among routes declaring the
    /// same endpoint.
    pub model_prefixes: Vec<String>,
    /// The client key as seen through this route: same id, name and limits
    /// (so they apply across all its providers), this provider and pool,
    /// and a scheduling state of its own.
    pub key: Arc<ClientKey>,
}

impl Route {
    /// Whether one of this route's model prefixes starts `model`.
    pub fn claims_model(&self, model: Option<&str>) -> bool {
        model.is_some_and(|m| {
            self.model_prefixes
                .iter()
                .any(|p| m.starts_with(p.as_str()))
        })
    }
}

/// Why a request matches none, or more than one, of its key's providers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error(
        "this API key has no provider serving {method} {path}; an operator can add one to the key"
    )]
    NoProvider { method: String, path: String },
    #[error(
        "this API key has no provider for model '{model}' on {method} {path}: the providers serving it ({providers}) each take other models"
    )]
    NoProviderForModel {
        model: String,
        method: String,
        path: String,
        providers: String,
    },
    #[error(
        "this API key's providers {providers} all serve {method} {path}; an operator must give one of them a path prefix or model prefixes"
    )]
    Ambiguous {
        method: String,
        path: String,
        providers: String,
    },
}

impl RouteError {
    /// The stable code of the client's error.
    pub fn code(&self) -> &'static str {
        match self {
            RouteError::NoProvider { .. } | RouteError::NoProviderForModel { .. } => {
                "no_provider_for_request"
            }
            RouteError::Ambiguous { .. } => "ambiguous_provider",
        }
    }
}

/// Where the address of a request leads, before its model is known.
pub enum Addressed<'a> {
    /// One route; `path` is the path and query to give its plugin (without
    /// the route's prefix).
    One { route: &'a Route, path: String },
    /// Several routes declare the path; the model decides
    /// ([`pick_by_model`]).
    ByModel {
        candidates: Vec<&'a Route>,
        path: String,
    },
}

/// The route(s) a request of `method` on `path_and_query` (normalised)
/// addresses; `declares(provider_id, method, path)` says whether that
/// provider's plugin declares the endpoint.
pub fn address<'a>(
    routes: &'a [Route],
    method: &str,
    path_and_query: &str,
    declares: impl Fn(i32, &str, &str) -> bool,
) -> Result<Addressed<'a>, RouteError> {
    for route in routes {
        let Some(prefix) = &route.path_prefix else {
            continue;
        };
        if let Some(rest) = strip_segment(path_and_query, prefix) {
            return Ok(Addressed::One { route, path: rest });
        }
    }
    let path = path_part(path_and_query);
    let candidates: Vec<&Route> = routes
        .iter()
        .filter(|r| r.path_prefix.is_none() && declares(r.provider_id, method, path))
        .collect();
    match candidates.as_slice() {
        [] => Err(RouteError::NoProvider {
            method: method.to_owned(),
            path: path.to_owned(),
        }),
        [route] => Ok(Addressed::One {
            route,
            path: path_and_query.to_owned(),
        }),
        _ => Ok(Addressed::ByModel {
            candidates,
            path: path_and_query.to_owned(),
        }),
    }
}

/// The candidate whose model prefixes claim `model`, else the one without
/// model prefixes; `names` names providers for the error.
pub fn pick_by_model<'a>(
    candidates: &[&'a Route],
    model: Option<&str>,
    method: &str,
    path: &str,
    names: impl Fn(i32) -> String,
) -> Result<&'a Route, RouteError> {
    let list = |routes: &[&&Route]| {
        routes
            .iter()
            .map(|r| names(r.provider_id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let path = path_part(path).to_owned();
    let claimed: Vec<&&Route> = candidates
        .iter()
        .filter(|r| r.claims_model(model))
        .collect();
    let pool: Vec<&&Route> = if claimed.is_empty() {
        candidates
            .iter()
            .filter(|r| r.model_prefixes.is_empty())
            .collect()
    } else {
        claimed
    };
    match pool.as_slice() {
        [one] => Ok(**one),
        [] => Err(RouteError::NoProviderForModel {
            model: model.unwrap_or("(none)").to_owned(),
            method: method.to_owned(),
            path,
            providers: list(candidates.iter().collect::<Vec<_>>().as_slice()),
        }),
        several => Err(RouteError::Ambiguous {
            method: method.to_owned(),
            path,
            providers: list(several),
        }),
    }
}

/// The path of a path-and-query.
fn path_part(path_and_query: &str) -> &str {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
}

/// `path_and_query` without its first segment when that is `segment`
/// (`/deepseek/v1/x?q` → `/v1/x?q`, `/deepseek` → `/`).
fn strip_segment(path_and_query: &str, segment: &str) -> Option<String> {
    let rest = path_and_query.strip_prefix('/')?.strip_prefix(segment)?;
    if rest.is_empty() {
        return Some("/".to_owned());
    }
    if rest.starts_with('/') {
        return Some(rest.to_owned());
    }
    rest.strip_prefix('?').map(|query| format!("/?{query}"))
}

/// The routes of `key` from its stored rows (in their order); each pool
/// goes through `usable_pool` (the owner's grant), like the key's own.
pub fn build_routes(
    key: &ClientKey,
    mut rows: Vec<client_key_providers::Model>,
    usable_pool: impl Fn(Vec<i32>) -> Vec<i32>,
) -> Vec<Route> {
    rows.sort_by_key(|r| (r.position, r.id));
    rows.into_iter()
        .map(|row| {
            let pool: Vec<i32> = serde_json::from_str(&row.pool).unwrap_or_default();
            Route {
                provider_id: row.provider_id,
                path_prefix: row.path_prefix,
                model_prefixes: row
                    .model_prefixes
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or_default(),
                key: Arc::new(key.through(row.provider_id, usable_pool(pool))),
            }
        })
        .collect()
}

impl ClientKey {
    /// This key as seen through its route to `provider_id` with `pool`.
    pub fn through(&self, provider_id: i32, pool: Vec<i32>) -> ClientKey {
        ClientKey {
            id: self.id,
            name: self.name.clone(),
            provider_id,
            pool,
            enabled: self.enabled,
            expires_at: self.expires_at,
            allowed_models: self.allowed_models.clone(),
            strategy: self.strategy,
            limits: self.limits,
            quota_overrun: self.quota_overrun,
            endpoint_classes: self.endpoint_classes.clone(),
            pool_state: PoolState::default(),
            routes: Vec::new(),
            budgets: self.budgets.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(provider_id: i32, prefix: Option<&str>, models: &[&str]) -> Route {
        Route {
            provider_id,
            path_prefix: prefix.map(str::to_owned),
            model_prefixes: models.iter().map(|m| m.to_string()).collect(),
            key: Arc::new(ClientKey::test(1).through(provider_id, vec![])),
        }
    }

    /// Providers 1 (OpenAI shape) and 4 (OpenAI shape too) declare
    /// `/v1/chat/completions`; 2 declares `/v1/messages`.
    fn declares(provider: i32, _method: &str, path: &str) -> bool {
        match provider {
            1 | 4 => path == "/v1/chat/completions" || path == "/v1/models",
            2 => path == "/v1/messages" || path == "/v1/models",
            _ => false,
        }
    }

    fn one(routes: &[Route], path: &str) -> (i32, String) {
        match address(routes, "POST", path, declares) {
            Ok(Addressed::One { route, path }) => (route.provider_id, path),
            Ok(Addressed::ByModel { .. }) => panic!("{path}: ambiguous"),
            Err(e) => panic!("{path}: {e}"),
        }
    }

    #[test]
    fn the_shape_picks_the_only_provider_declaring_the_path() {
        let routes = [route(1, None, &[]), route(2, None, &["claude-"])];
        assert_eq!(one(&routes, "/v1/messages").0, 2);
        assert_eq!(one(&routes, "/v1/chat/completions?x=1").0, 1);
        let refused = address(
            &routes,
            "POST",
            "/v1beta/models/g:generateContent",
            declares,
        );
        assert!(matches!(refused, Err(RouteError::NoProvider { .. })));
    }

    #[test]
    fn a_path_prefix_picks_its_route_and_is_removed() {
        let routes = [route(1, None, &[]), route(4, Some("deepseek"), &[])];
        assert_eq!(
            one(&routes, "/deepseek/v1/chat/completions?a=b"),
            (4, "/v1/chat/completions?a=b".to_owned())
        );
        assert_eq!(one(&routes, "/deepseek?a=b"), (4, "/?a=b".to_owned()));
        // Without the prefix the prefixed route is not a candidate.
        assert_eq!(one(&routes, "/v1/chat/completions").0, 1);
        // A segment that only starts with the prefix is not the prefix.
        let other = address(&routes, "POST", "/deepseekx/v1/chat/completions", declares);
        assert!(matches!(other, Err(RouteError::NoProvider { .. })));
    }

    #[test]
    fn the_model_decides_between_routes_of_one_shape() {
        let routes = [route(1, None, &[]), route(4, None, &["deepseek-"])];
        let Ok(Addressed::ByModel { candidates, .. }) =
            address(&routes, "POST", "/v1/chat/completions", declares)
        else {
            panic!("two routes declare the path");
        };
        let pick = |model| {
            pick_by_model(&candidates, model, "POST", "/v1/chat/completions", |id| {
                id.to_string()
            })
            .map(|r| r.provider_id)
        };
        assert_eq!(pick(Some("deepseek-chat")), Ok(4));
        assert_eq!(pick(Some("gpt-4o")), Ok(1));
        assert_eq!(pick(None), Ok(1), "no model: the route without prefixes");
    }

    #[test]
    fn routes_the_model_cannot_separate_are_refused_not_guessed() {
        let both_default = [route(1, None, &[]), route(4, None, &[])];
        let none = [route(1, None, &["gpt-"]), route(4, None, &["deepseek-"])];
        let pick = |routes: &[Route], model| {
            let Ok(Addressed::ByModel { candidates, .. }) =
                address(routes, "POST", "/v1/chat/completions", declares)
            else {
                panic!("two routes declare the path");
            };
            pick_by_model(&candidates, model, "POST", "/v1/chat/completions", |id| {
                id.to_string()
            })
            .map(|r| r.provider_id)
        };
        assert!(matches!(
            pick(&both_default, Some("x")),
            Err(RouteError::Ambiguous { .. })
        ));
        let refused = pick(&none, Some("claude-3"));
        assert!(matches!(
            refused,
            Err(RouteError::NoProviderForModel { .. })
        ));
        assert_eq!(pick(&none, Some("gpt-4o")), Ok(1));
    }
}
