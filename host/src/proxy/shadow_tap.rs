//! Where the proxy path meets shadow mode: deciding, once per request,
//! whether the provider's shadow candidate sees it (no work at all when
//! the provider has none), and handing the capture off once the answer
//! has gone to the client. Both are constant-time and never wait.

use bytes::Bytes;

use super::ProxyCore;
use super::ctx::RequestCtx;
use crate::catalog::Provider;
use crate::plugins::LoadedPlugin;
use crate::plugins::types::RequestHead;
use crate::shadow::{Dropped, ShadowCapture, is_busy};

/// A capture for this request when the provider has a candidate in shadow
/// and the request is in its sample; `None` (and counted) when the
/// gateway is busy, the worker's queue is full (checked again at the
/// hand-off) or the body is over the cap. Takes the request's head, which
/// the proxy no longer needs once the upstream request is prepared: a
/// sampled request's head moves into its capture rather than being cloned.
pub fn sample(
    core: &ProxyCore,
    provider: &Provider,
    serving: &LoadedPlugin,
    head: RequestHead,
    body: &Bytes,
    ctx: &RequestCtx,
) -> Option<ShadowCapture> {
    let rollout = provider.shadow_candidate()?;
    if is_busy(core.in_flight.in_flight(), core.in_flight.max()) {
        core.shadow.stats.dropped(Dropped::Busy);
        return None;
    }
    if !core.shadow.has_room() {
        core.shadow.stats.dropped(Dropped::QueueFull);
        return None;
    }
    let capture = ShadowCapture::start(
        rollout,
        provider.id,
        provider.prices.clone(),
        &ctx.request_id,
        &serving.version,
        head,
        body,
    );
    if capture.is_none() {
        core.shadow.stats.dropped(Dropped::TooLarge);
    }
    capture
}

/// Offers the request's capture, if any, to the shadow worker: only for a
/// request accounted for whose client got the whole answer.
pub fn hand_off(core: &ProxyCore, ctx: &mut RequestCtx, accounted: bool) {
    if let Some(mut capture) = ctx.shadow.take() {
        if !accounted || ctx.client_gone {
            capture.cut_short();
        }
        core.shadow.offer(*capture);
    }
}
