//! The request pipeline of port 8080, in order: authenticate the client,
//! find its provider and plugin, read the body, let the plugin inspect it,
//! pick an upstream key, let the plugin prepare the upstream request,
//! substitute the credential, forward, and account for the answer.

use super::ProxyCore;
use super::client_auth::authenticate;
use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::forward::{Interruption, Outbound, forward};
use super::request::{plugin_head, read_body};
use crate::egress::EgressError;
use crate::egress::request::{build_request, credential_placeholder};
use crate::scheduler;
use crate::trace::Attempt;
use pingora::proxy::Session;

/// Serves one request; on `Err` nothing has been written to the client yet
/// unless `ctx.response_started` says so.
pub async fn serve(
    core: &ProxyCore,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), ProxyError> {
    let catalog = core.catalog.load_full();
    let client = authenticate(session.req_header(), &catalog, &core.jwt)?;
    ctx.trace.client_key_id = Some(client.id);
    ctx.trace.client_key_name = Some(client.name.clone());

    let provider = catalog
        .providers
        .get(&client.provider_id)
        .cloned()
        .ok_or_else(|| {
            ProxyError::ProviderUnavailable(format!("#{}", client.provider_id), "it does not exist")
        })?;
    ctx.trace.provider_id = Some(provider.id);
    ctx.trace.provider_name = Some(provider.name.clone());
    if !provider.enabled {
        return Err(ProxyError::ProviderUnavailable(
            provider.name.clone(),
            "it is disabled",
        ));
    }
    let plugin = provider.plugin.clone().ok_or_else(|| {
        ProxyError::ProviderUnavailable(provider.name.clone(), "its plugin is not loaded")
    })?;
    ctx.trace.plugin_name = Some(plugin.name.clone());
    ctx.trace.plugin_version = Some(plugin.version.clone());
    let base = provider.upstream.clone().map_err(|_| {
        ProxyError::ProviderUnavailable(provider.name.clone(), "its base URL is invalid")
    })?;

    let body = read_body(session, core.max_body_bytes).await?;
    let head = plugin_head(session.req_header());
    let mut instance = plugin
        .instantiate(&ctx.request_id)
        .await
        .map_err(ProxyError::Plugin)?;
    let facts = instance
        .inspect(&head, &body)
        .await
        .map_err(ProxyError::Plugin)?;
    ctx.trace.model = facts.model.clone();
    ctx.trace.is_stream = facts.stream;
    if !client.allows_model(facts.model.as_deref()) {
        return Err(ProxyError::ModelNotAllowed(
            facts.model.clone().unwrap_or_default(),
        ));
    }

    let key =
        scheduler::pick(&client, &catalog).map_err(|e| ProxyError::NoUsableKey(e.reason()))?;
    ctx.trace.provider_key_id = Some(key.id);
    ctx.trace.provider_key_name = Some(key.name.clone());
    let Some(secret) = key.secret.as_ref() else {
        return Err(ProxyError::NoUsableKey("all disabled"));
    };

    let placeholder = credential_placeholder();
    let prepared = instance
        .prepare(&head, &body, &placeholder)
        .await
        .map_err(ProxyError::Plugin)?;
    let (request, upstream_body) = build_request(
        &plugin.name,
        &base,
        &head.method,
        prepared,
        body,
        &placeholder,
        secret,
    )
    .map_err(ProxyError::Plugin)?;

    let attempt_started = ctx.elapsed_ms();
    let peer = core
        .resolver
        .peer(&provider, &base)
        .await
        .map_err(|e| match e {
            EgressError::Denied(denied) => ProxyError::EgressDenied(denied.to_string()),
            EgressError::Resolve(io) => {
                ProxyError::UpstreamUnreachable(format!("resolving upstream: {}", io.kind()))
            }
        })?;
    let outbound = Outbound {
        connector: &core.connector,
        peer: &peer,
        request,
        body: upstream_body,
    };
    let result = forward(outbound, session, ctx, &mut instance).await;
    let mut attempt = Attempt {
        provider_key_id: key.id,
        provider_key_name: key.name.clone(),
        status: None,
        error_class: None,
        error: None,
        duration_ms: ctx.elapsed_ms().saturating_sub(attempt_started),
    };
    let forwarded = match result {
        Ok(f) => f,
        Err(e) => {
            attempt.error = Some(e.code().to_owned());
            ctx.trace.attempts.push(attempt);
            return Err(e);
        }
    };
    attempt.status = Some(forwarded.status);
    ctx.trace.is_stream = forwarded.is_stream;
    let metered = forwarded.metered;
    if let Some(class) = &metered.error_class {
        let name = super::error_class_name(class);
        attempt.error_class = Some(name.clone());
        ctx.trace.error_class = Some(name);
    }
    ctx.trace.attempts.push(attempt);
    if let Some(usage) = metered.usage {
        ctx.trace.input_tokens = usage.input_tokens;
        ctx.trace.output_tokens = usage.output_tokens;
        ctx.trace.cached_input_tokens = usage.cached_input_tokens;
        ctx.trace.cache_write_tokens = usage.cache_write_tokens;
        ctx.trace.reasoning_tokens = usage.reasoning_tokens;
        if let Some(model) = &facts.model {
            match instance.cost(model, usage, &provider.prices).await {
                Ok(cost) => ctx.trace.cost_nanos = cost,
                Err(f) => ctx.trace.error_message = Some(format!("{f}")),
            }
        }
    }
    if let Some(f) = metered.failure {
        ctx.trace.error_message = Some(format!("usage unknown: {f}"));
    }
    match forwarded.interrupted {
        Some(Interruption::Upstream(why)) => {
            ctx.trace.error_message = Some(format!("answer interrupted by the upstream: {why}"));
            // Cut the client's connection too, so it cannot mistake the
            // partial answer for a complete one.
            Err(ProxyError::UpstreamBroken(why))
        }
        Some(Interruption::Client) => {
            ctx.trace.error_message = Some("answer interrupted: the client went away".into());
            Ok(())
        }
        None => Ok(()),
    }
}
