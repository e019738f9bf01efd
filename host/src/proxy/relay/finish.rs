//! The end of a relayed answer: its usage and cost written into the
//! trace, the request's quota hold settled to what it used, and how it
//! ended (complete, cut by the upstream, abandoned by the client, cut at
//! its quota) turned into the request's outcome.
//!
//! An answer whose usage cannot be read is not free: it is charged what
//! its request reserved, and the trace says `usage_unknown`. Settling runs
//! in the background: counting never holds up the end of a request.

use crate::catalog::{Provider, UpstreamKey};
use crate::plugins::PluginCalls;
use crate::plugins::types::Usage;
use crate::proxy::ctx::RequestCtx;
use crate::proxy::{ProxyError, error_class_name};

use super::hold::QuotaHold;
use super::{Forwarded, Interruption, Metered};

/// The trace's error class of a successful answer whose usage could not be
/// read (over the metering cap, a plugin failure, or none reported).
pub const USAGE_UNKNOWN: &str = "usage_unknown";

/// Records usage and cost in the trace and the limit counters; an answer
/// whose usage cannot be read is charged what its request reserved.
pub async fn account(
    provider: &Provider,
    key: &UpstreamKey,
    model: Option<&str>,
    forwarded: Forwarded,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<(), ProxyError> {
    ctx.trace.is_stream = forwarded.is_stream;
    let metered = forwarded.metered;
    if let Some(class) = &metered.error_class {
        ctx.trace.error_class = Some(error_class_name(class));
    }
    if ctx.trace.error_message.is_none() {
        // A relayed error answer: the trace says what the upstream said.
        ctx.trace.error_message = ctx
            .trace
            .attempts
            .last()
            .filter(|a| a.status.is_some_and(|s| s >= 400))
            .and_then(|a| a.message.clone());
    }
    let hold = ctx.quota.take().map(|hold| *hold);
    let mut usage = metered.usage;
    if let (Some(hold), Some(_)) = (&hold, &forwarded.interrupted) {
        // An answer ended early may not have reported its prompt yet.
        usage = usage.map(|u| hold.with_prompt(u));
    }
    let mut used = match usage {
        Some(usage) => record_usage(provider, model, usage, ctx, calls).await,
        None => (0, 0),
    };
    if let Some(capture) = ctx.shadow.as_mut() {
        let failure = metered.failure.as_ref().map(ToString::to_string);
        let class = metered.error_class.as_ref().map(error_class_name);
        capture.serving_verdict(usage, model, ctx.trace.cost_nanos, class, failure);
    }
    if let Some(estimate) = usage_unknown(&metered, usage, model, hold.as_ref(), ctx) {
        used = estimate;
    }
    // In the background: counting must not hold up the end of the request.
    if let Some(hold) = hold {
        hold.reservation.settle(Some(key.id), used.0, used.1);
    }
    ended(forwarded.interrupted, ctx)
}

/// Writes `usage` and its cost into the trace; the tokens and nano-USD to
/// charge.
async fn record_usage(
    provider: &Provider,
    model: Option<&str>,
    usage: Usage,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> (i64, i64) {
    ctx.trace.input_tokens = usage.input_tokens;
    ctx.trace.output_tokens = usage.output_tokens;
    ctx.trace.cached_input_tokens = usage.cached_input_tokens;
    ctx.trace.cache_write_tokens = usage.cache_write_tokens;
    ctx.trace.reasoning_tokens = usage.reasoning_tokens;
    if let Some(model) = model {
        let cost = match calls.instance().await {
            Ok(instance) => instance.cost(model, usage, &provider.prices).await,
            Err(f) => Err(f),
        };
        match cost {
            Ok(cost) => ctx.trace.cost_nanos = cost,
            Err(f) => ctx.trace.error_message = Some(format!("{f}")),
        }
    }
    let tokens =
        i64::try_from(usage.input_tokens.saturating_add(usage.output_tokens)).unwrap_or(i64::MAX);
    let cost = ctx
        .trace
        .cost_nanos
        .map_or(0, |c| i64::try_from(c).unwrap_or(i64::MAX));
    (tokens, cost)
}

/// For an answered request whose usage is unknown, says so in the trace
/// and returns the estimate to charge; notes a plugin failure otherwise.
fn usage_unknown(
    metered: &Metered,
    usage: Option<Usage>,
    model: Option<&str>,
    hold: Option<&QuotaHold>,
    ctx: &mut RequestCtx,
) -> Option<(i64, i64)> {
    let answered = metered.error_class.is_none() && ctx.trace.status_code < 400;
    // A request without a model (listing models, files) reports no usage
    // because it has none.
    if !(usage.is_none() && answered && model.is_some()) {
        if let Some(f) = &metered.failure {
            ctx.trace.error_message = Some(format!("usage unknown: {f}"));
        }
        return None;
    }
    ctx.trace
        .error_class
        .get_or_insert_with(|| USAGE_UNKNOWN.to_owned());
    ctx.trace.error_message = Some(match &metered.failure {
        Some(f) => format!("usage unknown, charged the estimate: {f}"),
        None => {
            "usage unknown, charged the estimate: the answer reported none the plugin could read"
                .to_owned()
        }
    });
    // What cannot be read is not free: the estimate is charged.
    hold.map(|hold| {
        let (tokens, cost) = hold.reservation.held();
        (tokens.max(hold.estimated_tokens()), cost)
    })
}

/// The request's outcome after an answer that ended as `interrupted` says.
fn ended(interrupted: Option<Interruption>, ctx: &mut RequestCtx) -> Result<(), ProxyError> {
    match interrupted {
        Some(Interruption::Upstream(why)) => {
            ctx.trace.error_message = Some(format!("answer interrupted by the upstream: {why}"));
            // Cut the client's connection too, so it cannot mistake the
            // partial answer for a complete one.
            Err(ProxyError::UpstreamBroken(why))
        }
        Some(Interruption::Client) => {
            ctx.trace.error_message =
                Some("answer interrupted: the client went away or stopped reading".into());
            ctx.client_gone = true;
            Ok(())
        }
        // The trace already says where and why.
        Some(Interruption::QuotaCut) | None => Ok(()),
    }
}
