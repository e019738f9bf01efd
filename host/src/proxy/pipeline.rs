//! The request pipeline of port 8080, in order: authenticate the client
//! and find the provider its request addresses ([`address`]), read the
//! body, admit it against the client key's limits, let the plugin inspect
//! it ([`inspect`]; the model may pick among several providers), hold the
//! request's quota, let the plugin prepare the upstream request once
//! ([`UpstreamCall`]), then try upstream keys until one answers
//! ([`super::attempt`]) and relay the answer ([`super::relay`]), which
//! accounts for it at its end.
//!
//! A stream keeps [`serve`]'s future for as long as it is open (minutes),
//! and an `async fn`'s future is as large as the largest state it can be
//! suspended in. So everything until the answer is there
//! ([`until_answered`], the attempts included) runs in a box of its own,
//! freed once the answer is, and so does every short step after it (the
//! accounting): the future a stream keeps holds the relay and the few
//! things the accounting needs (bench/RESULTS.md, sessions 8 and 11).

use std::sync::Arc;

use super::ProxyCore;
use super::attempt::{Answered, Request, attempt_until_answered, upstream};
use super::client_auth::authenticate;
use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::path::{normalise, path_only};
use super::relay::{self, account, hold as quota_hold};
use super::request::{read_body, request_path};
use super::route::{self, Routed, Target};
use crate::catalog::{Catalog, ClientKey, Provider};
use crate::egress::call::UpstreamCall;
use crate::plugins::PluginCalls;
use crate::plugins::types::{RequestFacts, RequestHead};
use pingora::proxy::Session;

/// Serves one request; on `Err` nothing has been written to the client yet
/// unless `ctx.response_started` says so.
pub async fn serve(
    core: &ProxyCore,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<(), ProxyError> {
    // Everything before the answer runs in a box of its own, gone once the
    // answer is there: an open stream keeps only what follows.
    let Answering {
        provider,
        model,
        mut calls,
        answered,
    } = Box::pin(until_answered(core, session, ctx)).await?;
    let (key, forwarded) = match answered {
        Answered::Success(key, answer) => {
            (key, relay::relay(*answer, session, ctx, &mut calls).await?)
        }
        Answered::Error(key, held) => {
            let (error, metered) = *held;
            let relayed = Box::pin(relay::relay_error(error, metered, session, ctx)).await?;
            (key, relayed)
        }
    };
    let model = model.as_deref();
    let accounted = Box::pin(account(&provider, &key, model, forwarded, ctx, &mut calls)).await;
    super::shadow_tap::hand_off(core, ctx, accounted.is_ok());
    accounted
}

/// What relaying and accounting for an answer need.
struct Answering {
    provider: Arc<Provider>,
    /// The model the plugin found in the request.
    model: Option<String>,
    /// Boxed: the relay holds it for as long as the answer lasts.
    calls: Box<PluginCalls>,
    answered: Answered,
}

/// The request read, admitted, inspected, prepared and sent until an
/// upstream key produced the answer to pass on.
async fn until_answered(
    core: &ProxyCore,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<Answering, ProxyError> {
    let catalog = core.catalog.load_full();
    let (addressed, target) = address(core, &catalog, session, ctx)?;
    let body = Box::pin(read_body(session, core.max_body_bytes)).await?;
    // Limits first: nothing the client sends costs plugin work before its
    // key's limits admit it. Given back if the request ends early.
    let reservation =
        Box::pin(quota_hold::admit(&core.limiter, &target.client, body.len())).await?;
    let (target, facts, calls) = Box::pin(inspect(
        core, &catalog, &addressed, target, &body, session, ctx,
    ))
    .await?;
    let mut calls = Box::new(calls);
    let Target {
        client,
        provider,
        plugin,
        head,
    } = target;
    ctx.trace.model = facts.model.clone();
    ctx.trace.is_stream = facts.stream;
    if !client.allows_model(facts.model.as_deref()) {
        return Err(ProxyError::ModelNotAllowed(
            facts.model.clone().unwrap_or_default(),
        ));
    }
    let model = facts.model;
    // Settled by `account`.
    let len = body.len();
    let held = quota_hold::hold(
        reservation,
        &client,
        &provider,
        model.as_deref(),
        len,
        &mut calls,
    );
    ctx.quota = Some(Box::new(Box::pin(held).await?));
    // The upstream request does not depend on the key (the credential is a
    // placeholder until each attempt's request), so the plugin prepares it once.
    let call = Box::pin(prepare(&plugin.name, &mut calls, &head, &body)).await?;
    // The head is not needed past this point: a sampled request's capture takes it.
    ctx.shadow =
        super::shadow_tap::sample(core, &provider, &plugin, head, &body, ctx).map(Box::new);
    let request = Request {
        core,
        catalog: &catalog,
        client: &client,
        provider: &provider,
    };
    let upstream = Box::pin(upstream(&request)).await?;
    let attempts = attempt_until_answered(&request, &upstream, call, session, ctx, &mut calls);
    let answered = Box::pin(attempts).await?;
    Ok(Answering {
        provider,
        model,
        calls,
        answered,
    })
}

/// The upstream request, prepared by the plugin on an instance let go
/// after it: waiting on the upstream holds no instance.
async fn prepare(
    plugin: &str,
    calls: &mut PluginCalls,
    head: &RequestHead,
    body: &bytes::Bytes,
) -> Result<UpstreamCall, ProxyError> {
    let instance = calls.instance().await?;
    let call = UpstreamCall::prepare(plugin, instance, head, body.clone()).await?;
    calls.release();
    Ok(call)
}

/// Where the client's request goes before its model is known.
struct Addressed {
    /// The key the client authenticated with.
    client: Arc<ClientKey>,
    routed: Routed,
    method: String,
    /// The normalised path and query.
    requested: String,
}

/// Authenticates the client and opens the provider its request
/// addresses (its key's only one, or the one a path prefix or API shape
/// picks); refuses a client whose plugin failures are being cooled down.
fn address(
    core: &ProxyCore,
    catalog: &Catalog,
    session: &Session,
    ctx: &mut RequestCtx,
) -> Result<(Addressed, Target), ProxyError> {
    let client = authenticate(session.req_header(), catalog, &core.jwt, &core.tokens)?;
    ctx.trace.client_key_id = Some(client.id);
    ctx.trace.client_key_name = Some(client.name.clone());
    let requested = normalise(&request_path(session.req_header()))?;
    ctx.trace.path = path_only(&requested).to_owned();
    let method = session.req_header().method.as_str().to_owned();
    let routed = route::by_address(catalog, &client, &method, &requested)?;
    let target = Target::open(
        catalog,
        routed.client.clone(),
        session.req_header(),
        &routed.path,
        ctx,
    )?;
    if let Some(wait) = core.blame.refused(client.id) {
        return Err(ProxyError::PluginFailuresProvoked {
            retry_after: wait.as_secs().max(1),
        });
    }
    let addressed = Addressed {
        client,
        routed,
        method,
        requested,
    };
    Ok((addressed, target))
}

/// The plugin's facts about the request (model, stream flag); when
/// several of the key's providers serve the path, the model picks one and
/// its plugin inspects the request again. The plugin calls are charged to
/// the client whose bytes made them.
async fn inspect(
    core: &ProxyCore,
    catalog: &Catalog,
    addressed: &Addressed,
    mut target: Target,
    body: &bytes::Bytes,
    session: &Session,
    ctx: &mut RequestCtx,
) -> Result<(Target, RequestFacts, PluginCalls), ProxyError> {
    let client_id = addressed.client.id;
    let calls_for = |plugin: &Arc<crate::plugins::LoadedPlugin>, ctx: &RequestCtx| {
        let mut calls = PluginCalls::new(plugin.clone(), &ctx.request_id)
            .logging_into(ctx.trace.plugin_calls.as_ref());
        calls.attribute_to(client_id, core.blame.clone());
        calls
    };
    let mut calls = calls_for(&target.plugin, ctx);
    let mut facts = calls.instance().await?.inspect(&target.head, body).await?;
    let Some(candidates) = &addressed.routed.by_model else {
        return Ok((target, facts, calls));
    };
    let model = facts.model.as_deref();
    let (method, requested) = (&addressed.method, &addressed.requested);
    let client = &addressed.client;
    let chosen = route::by_model(catalog, client, candidates, model, method, requested)?;
    if chosen.provider_id != target.provider.id {
        let path = &addressed.routed.path;
        target = Target::open(catalog, chosen, session.req_header(), path, ctx)?;
        calls = calls_for(&target.plugin, ctx);
        facts = calls.instance().await?.inspect(&target.head, body).await?;
    }
    Ok((target, facts, calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest future [`serve`] may return in a test (debug) build:
    /// an open stream keeps it (inside Pingora's boxed `request_filter`)
    /// for as long as it is open. 12,560 bytes before the short steps were
    /// boxed, 4,848 after (session 8); 5,576 with the attempts in it, 2,232
    /// once they ran in a box of their own (session 11).
    const MAX_SERVE_FUTURE_BYTES: usize = 2560;

    /// The size of the future `f` returns, without calling it.
    fn future_size<A, B, C, F: Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
        size_of::<F>()
    }

    fn future_size4<A, B, C, D, F: Future>(_: impl FnOnce(A, B, C, D) -> F) -> usize {
        size_of::<F>()
    }

    #[test]
    fn the_future_an_open_stream_keeps_stays_small() {
        let serve = future_size::<&ProxyCore, &mut Session, &mut RequestCtx, _>(serve);
        let relay = future_size4::<relay::Answer, &mut Session, &mut RequestCtx, &mut PluginCalls, _>(
            relay::relay,
        );
        eprintln!("serve: {serve} bytes, of which the relay: {relay} bytes");
        assert!(serve <= MAX_SERVE_FUTURE_BYTES, "{serve} bytes");
    }
}
