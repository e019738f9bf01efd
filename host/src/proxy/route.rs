//! Which of its client key's providers a request goes to, and what that
//! provider's plugin sees of it: the pipeline's first step after
//! authentication.
//!
//! A key without routes goes to its one provider, as it always did. A key
//! with routes goes where [`crate::catalog::address`] says: a path prefix,
//! the API shape, or, when several of its providers serve the path, the
//! model (read by the plugin of the first of them, since they share the
//! shape). The request then runs as the key seen through that route: its
//! provider and pool, the key's own id and limits (which therefore apply
//! across all its providers). The trace names the provider actually used.

use std::sync::Arc;

use pingora::http::RequestHeader;

use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::path::path_only;
use super::request::plugin_head;
use crate::catalog::{Addressed, Catalog, ClientKey, Provider, address, pick_by_model};
use crate::plugins::LoadedPlugin;
use crate::plugins::types::RequestHead;

/// Where the address of a request leads.
pub struct Routed {
    /// The key as seen through the route (or the key itself, without routes).
    pub client: Arc<ClientKey>,
    /// The path and query for the plugin (a route's path prefix removed).
    pub path: String,
    /// When several routes serve the path: their indices in the key's
    /// routes, for [`by_model`] once the model is known.
    pub by_model: Option<Vec<usize>>,
}

/// The route `client`'s request of `method` on `path` (normalised)
/// addresses.
pub fn by_address(
    catalog: &Catalog,
    client: &Arc<ClientKey>,
    method: &str,
    path: &str,
) -> Result<Routed, ProxyError> {
    if client.routes.is_empty() {
        return Ok(Routed {
            client: client.clone(),
            path: path.to_owned(),
            by_model: None,
        });
    }
    let declares = |provider_id: i32, method: &str, path: &str| {
        catalog
            .providers
            .get(&provider_id)
            .and_then(|p| p.plugin.as_ref())
            .is_some_and(|plugin| plugin.endpoints.declares(method, path))
    };
    match address(&client.routes, method, path, declares)? {
        Addressed::One { route, path } => Ok(Routed {
            client: route.key.clone(),
            path,
            by_model: None,
        }),
        Addressed::ByModel { candidates, path } => {
            let indices: Vec<usize> = client
                .routes
                .iter()
                .enumerate()
                .filter(|(_, r)| candidates.iter().any(|c| std::ptr::eq(*c, *r)))
                .map(|(i, _)| i)
                .collect();
            let first = indices
                .first()
                .and_then(|i| client.routes.get(*i))
                .map(|r| r.key.clone())
                .unwrap_or_else(|| client.clone());
            Ok(Routed {
                client: first,
                path,
                by_model: Some(indices),
            })
        }
    }
}

/// The route among `candidates` (indices into `client`'s routes) that
/// `model` picks.
pub fn by_model(
    catalog: &Catalog,
    client: &ClientKey,
    candidates: &[usize],
    model: Option<&str>,
    method: &str,
    path: &str,
) -> Result<Arc<ClientKey>, ProxyError> {
    let routes: Vec<_> = candidates
        .iter()
        .filter_map(|i| client.routes.get(*i))
        .collect();
    let name = |id: i32| {
        catalog
            .providers
            .get(&id)
            .map_or_else(|| format!("#{id}"), |p| p.name.clone())
    };
    let route = pick_by_model(&routes, model, method, path, name)?;
    Ok(route.key.clone())
}

/// The provider a routed request goes to, its plugin, and the request as
/// the plugin sees it, with the provider recorded in the trace.
pub struct Target {
    pub client: Arc<ClientKey>,
    pub provider: Arc<Provider>,
    pub plugin: Arc<LoadedPlugin>,
    pub head: RequestHead,
}

impl Target {
    /// Opens `client`'s provider for the request `req` on `path`; refuses
    /// a provider that is missing, disabled or without its plugin, and an
    /// endpoint class the key was not granted.
    pub fn open(
        catalog: &Catalog,
        client: Arc<ClientKey>,
        req: &RequestHeader,
        path: &str,
        ctx: &mut RequestCtx,
    ) -> Result<Target, ProxyError> {
        let provider = catalog
            .providers
            .get(&client.provider_id)
            .cloned()
            .ok_or_else(|| {
                ProxyError::ProviderUnavailable(
                    format!("#{}", client.provider_id),
                    "it does not exist",
                )
            })?;
        ctx.trace.provider_id = Some(provider.id);
        ctx.trace.provider_name = Some(provider.name.clone());
        if !provider.enabled {
            return Err(ProxyError::ProviderUnavailable(
                provider.name.clone(),
                "it is disabled",
            ));
        }
        let plugin = provider.plugin_for(client.id).ok_or_else(|| {
            ProxyError::ProviderUnavailable(provider.name.clone(), "its plugin is not loaded")
        })?;
        ctx.trace.plugin_name = Some(plugin.name.clone());
        ctx.trace.plugin_version = Some(plugin.version.clone());
        // Only the endpoints of the classes the key was granted, whatever the
        // path's spelling; nothing else reaches the upstream.
        let mut head = plugin_head(req, provider.allow_billing_headers);
        head.path = path.to_owned();
        let class = plugin
            .endpoints
            .class_of(&head.method, path_only(&head.path));
        if !client.grants(class) {
            return Err(ProxyError::EndpointNotAllowed {
                class,
                method: head.method.clone(),
                path: path_only(&head.path).to_owned(),
            });
        }
        Ok(Target {
            client,
            provider,
            plugin,
            head,
        })
    }
}
