//! The request pipeline of port 8080, in order: authenticate the client,
//! find its provider and plugin, read the body, admit it against the
//! client key's limits, let the plugin inspect it, then attempt: pick an
//! upstream key, let the plugin prepare the upstream request, substitute
//! the credential, send. An attempt that fails before anything reached the
//! client (no connection, timeout, or an error answer the plugin classifies
//! as retryable) is recorded and retried on another key of the pool, up to
//! the configured number of attempts; the last error answer is passed on
//! when no key is left. Finally the answer is relayed and accounted for.

use std::borrow::Cow;
use std::time::Duration;

use super::ProxyCore;
use super::client_auth::authenticate;
use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::forward::{ErrorAnswer, Forwarded, Interruption, Outbound, relay, relay_error, send};
use super::meter::Metered;
use super::path::{normalise, path_only};
use super::quota_hold;
use super::request::{read_body, request_path};
use super::route::{self, Target};
use super::upstream_message::upstream_message;
use crate::catalog::{Catalog, ClientKey, Provider, ProviderKey};
use crate::egress::EgressError;
use crate::egress::request::{build_request, credential_placeholder};
use crate::health::HealthStatus;
use crate::oauth::{RefreshError, as_bearer};
use crate::plugins::types::{ErrorClass, Header, OutboundRequest, RequestHead};
use crate::plugins::{LoadedPlugin, PluginCalls, PluginFailure, header_list};
use crate::scheduler::{NoKey, Scheduler};
use crate::secrets::Secret;
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
    let client = authenticate(session.req_header(), &catalog, &core.jwt, &core.tokens)?;
    ctx.trace.client_key_id = Some(client.id);
    ctx.trace.client_key_name = Some(client.name.clone());

    // Which of the key's providers: its only one, or the one the request
    // addresses (path prefix, API shape, model).
    let requested = normalise(&request_path(session.req_header()))?;
    ctx.trace.path = path_only(&requested).to_owned();
    let method = session.req_header().method.as_str().to_owned();
    let routed = route::by_address(&catalog, &client, &method, &requested)?;
    let mut target = Target::open(
        &catalog,
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
    let body = read_body(session, core.max_body_bytes).await?;
    // Limits first: nothing the client sends costs plugin work before its
    // key's limits admit it. Given back if the request ends early.
    let reservation = quota_hold::admit(&core.limiter, &target.client, body.len()).await?;
    let mut calls = PluginCalls::new(target.plugin.clone(), &ctx.request_id)
        .logging_into(ctx.trace.plugin_calls.as_ref());
    // What this request's bytes make the plugin do is charged to its client.
    calls.attribute_to(client.id, core.blame.clone());
    let mut facts = calls.instance().await?.inspect(&target.head, &body).await?;
    if let Some(candidates) = &routed.by_model {
        // Several of the key's providers serve the path: the model picks.
        let model = facts.model.as_deref();
        let chosen = route::by_model(&catalog, &client, candidates, model, &method, &requested)?;
        if chosen.provider_id != target.provider.id {
            target = Target::open(&catalog, chosen, session.req_header(), &routed.path, ctx)?;
            calls = PluginCalls::new(target.plugin.clone(), &ctx.request_id)
                .logging_into(ctx.trace.plugin_calls.as_ref());
            calls.attribute_to(client.id, core.blame.clone());
            facts = calls.instance().await?.inspect(&target.head, &body).await?;
        }
    }
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
    // Settled by `account`.
    ctx.quota = Some(
        quota_hold::hold(
            reservation,
            &client,
            &provider,
            facts.model.as_deref(),
            body.len(),
            &mut calls,
        )
        .await?,
    );
    // The upstream request does not depend on the key (the credential is a
    // placeholder until `build_request`), so the plugin prepares it once.
    let placeholder = credential_placeholder();
    let prepared = calls
        .instance()
        .await?
        .prepare(&head, &body, &placeholder)
        .await?;
    // Waiting on the upstream holds no instance.
    calls.release();
    ctx.shadow = super::shadow_tap::sample(core, &provider, &plugin, &head, &body, ctx);

    let request = Request {
        core,
        catalog: &catalog,
        client: &client,
        provider: &provider,
        plugin: &plugin,
        head: &head,
        body,
        prepared,
        placeholder,
    };
    let (key, forwarded) = attempt_until_answered(&request, session, ctx, &mut calls).await?;
    let accounted = account(
        &provider,
        &key,
        facts.model.as_deref(),
        forwarded,
        ctx,
        &mut calls,
    )
    .await;
    super::shadow_tap::hand_off(core, ctx, accounted.is_ok());
    accounted
}

/// What every attempt of one request shares.
struct Request<'a> {
    core: &'a ProxyCore,
    /// The snapshot the request started with.
    catalog: &'a Catalog,
    client: &'a ClientKey,
    provider: &'a Provider,
    plugin: &'a LoadedPlugin,
    head: &'a RequestHead,
    body: bytes::Bytes,
    /// What the plugin made of the request, with `placeholder` where the
    /// credential goes.
    prepared: OutboundRequest,
    placeholder: String,
}

/// How one attempt ended, when it did not produce the answer to relay.
enum Failed<'a> {
    /// No answer at all (connection, timeout, egress).
    NoAnswer(ProxyError),
    /// An error answer that another key might not get.
    Retryable(Box<(ErrorAnswer<'a>, Metered)>),
}

/// Tries keys until one answers with something to relay, and relays it.
async fn attempt_until_answered(
    request: &Request<'_>,
    session: &mut Session,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<(std::sync::Arc<ProviderKey>, Forwarded), ProxyError> {
    let core = request.core;
    let scheduler = Scheduler {
        catalog: request.catalog,
        board: &core.board,
        limiter: &core.limiter,
    };
    let base = request.provider.upstream.clone().map_err(|_| {
        ProxyError::ProviderUnavailable(request.provider.name.clone(), "its base URL is invalid")
    })?;
    let peer = core
        .resolver
        .peer(request.provider, &base)
        .await
        .map_err(|e| match e {
            EgressError::Denied(denied) => ProxyError::EgressDenied(denied.to_string()),
            EgressError::Resolve(io) => {
                ProxyError::UpstreamUnreachable(format!("resolving upstream: {}", io.kind()))
            }
        })?;
    let (prepared, placeholder) = (&request.prepared, &request.placeholder);
    // OAuth keys take the token as a bearer token, wherever the plugin
    // puts API keys; prepared on first use.
    let mut prepared_bearer: Option<OutboundRequest> = None;
    let mut tried: Vec<i32> = Vec::new();
    let mut last: Option<(std::sync::Arc<ProviderKey>, Failed)> = None;
    // An OAuth key whose token the upstream refused gets one more try
    // after one refresh.
    let mut retry_same: Option<std::sync::Arc<ProviderKey>> = None;
    let mut refreshed_after_refusal = false;
    loop {
        let picked = if let Some(key) = retry_same.take() {
            Ok(key)
        } else if tried.len() >= core.max_attempts {
            Err(NoKey::AllTried)
        } else {
            scheduler.pick(request.client, &tried).await
        };
        let key = match (picked, last) {
            (Ok(key), previous) => {
                // The held error answer (if any) is dropped unread: another key gets a turn.
                drop(previous);
                key
            }
            // Out of keys or attempts: pass on what the last attempt got.
            (Err(_), Some((key, Failed::Retryable(held)))) => {
                let (error, metered) = *held;
                let forwarded = relay_error(error, metered, session, ctx).await?;
                return Ok((key, forwarded));
            }
            (Err(_), Some((_, Failed::NoAnswer(e)))) => return Err(e),
            (Err(no_key), None) => return Err(no_usable_key(no_key)),
        };
        last = None;
        tried.push(key.id);
        // The trace names the key of the last attempt.
        ctx.trace.provider_key_id = Some(key.id);
        ctx.trace.provider_key_name = Some(key.name.clone());
        let started = ctx.elapsed_ms();
        calls.attempt_began(ctx.trace.attempts.len() + 1);
        let mut attempt = Attempt {
            provider_key_id: key.id,
            provider_key_name: key.name.clone(),
            status: None,
            error_class: None,
            error: None,
            message: None,
            duration_ms: 0,
            started_ms: started,
        };
        let secret = match credential(request, &key).await {
            Ok(Some(secret)) => secret,
            Ok(None) => continue,
            Err(e) => {
                attempt.error = Some(e.code().to_owned());
                attempt.duration_ms = ctx.elapsed_ms().saturating_sub(started);
                ctx.trace.attempts.push(attempt);
                let detail = e.to_string();
                last = Some((
                    key,
                    Failed::NoAnswer(ProxyError::UpstreamCredential(detail)),
                ));
                continue;
            }
        };
        let outbound = if key.oauth.is_some() {
            prepared_bearer
                .get_or_insert_with(|| {
                    let extra = request
                        .provider
                        .oauth
                        .as_ref()
                        .map_or(&[][..], |o| &o.request_headers[..]);
                    as_bearer(prepared.clone(), placeholder, extra)
                })
                .clone()
        } else {
            prepared.clone()
        };
        let (upstream_request, upstream_body) = build_request(
            &request.plugin.name,
            &base,
            &request.head.method,
            outbound,
            request.body.clone(),
            placeholder,
            &secret,
        )?;
        let outbound = Outbound {
            connector: &core.connector,
            peer: &peer,
            request: upstream_request,
            body: upstream_body,
        };
        let answer = send(outbound).await;
        attempt.duration_ms = ctx.elapsed_ms().saturating_sub(started);
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                attempt.error = Some(e.code().to_owned());
                ctx.trace.attempts.push(attempt);
                core.board
                    .record_failure(key.id, HealthStatus::Network, None, e.code());
                last = Some((key, Failed::NoAnswer(e)));
                continue;
            }
        };
        let status = answer.status();
        attempt.status = Some(status);
        if status < 400 {
            core.board
                .record_success(key.id, Duration::from_millis(attempt.duration_ms));
            ctx.trace.attempts.push(attempt);
            ctx.trace.first_byte_ms = Some(ctx.elapsed_ms());
            let forwarded = relay(answer, session, ctx, calls).await?;
            return Ok((key, forwarded));
        }
        let mut error = answer.read_error().await;
        // Before the plugin or the client sees it: neither may learn the key.
        error.mask_credentials(&secret);
        attempt.message = upstream_message(&error.body, secret.expose().as_bytes());
        let headers = header_list(&error.answer.head.headers);
        let (class, failure) = match classify(calls, status, &headers, &error.body).await {
            Ok(class) => (Some(class), None),
            Err(f) => (None, Some(f)),
        };
        if !refreshed_after_refusal
            && key.oauth.is_some()
            && matches!(class, Some(ErrorClass::AuthInvalid))
            && let Some(settings) = request.provider.oauth.as_deref()
        {
            refreshed_after_refusal = true;
            let refreshed = core
                .accounts
                .refresh(settings, key.id, Some(&*secret))
                .await;
            attempt.error_class = class.as_ref().map(super::error_class_name);
            attempt.duration_ms = ctx.elapsed_ms().saturating_sub(started);
            ctx.trace.attempts.push(attempt);
            if refreshed.is_ok() {
                drop(error);
                retry_same = Some(key);
                continue;
            }
            let metered = Metered {
                usage: None,
                error_class: class,
                failure,
            };
            if judge(&core.board, key.id, status, metered.error_class.as_ref()) {
                last = Some((key, Failed::Retryable(Box::new((error, metered)))));
                continue;
            }
            let forwarded = relay_error(error, metered, session, ctx).await?;
            return Ok((key, forwarded));
        }
        let retryable = judge(&core.board, key.id, status, class.as_ref());
        attempt.error_class = class.as_ref().map(super::error_class_name);
        attempt.duration_ms = ctx.elapsed_ms().saturating_sub(started);
        ctx.trace.attempts.push(attempt);
        ctx.trace.first_byte_ms = Some(ctx.elapsed_ms());
        let metered = Metered {
            usage: None,
            error_class: class,
            failure,
        };
        if retryable {
            last = Some((key, Failed::Retryable(Box::new((error, metered)))));
            continue;
        }
        let forwarded = relay_error(error, metered, session, ctx).await?;
        return Ok((key, forwarded));
    }
}

/// The plugin's class of an error answer, on an instance let go after it.
async fn classify(
    calls: &mut PluginCalls,
    status: u16,
    headers: &[Header],
    body: &[u8],
) -> Result<ErrorClass, PluginFailure> {
    let class = match calls.instance().await {
        Ok(instance) => instance.classify(status, headers, body).await,
        Err(f) => Err(f),
    };
    calls.release();
    class
}

/// The secret to send with `key`: an API key as stored, an OAuth key's
/// access token fresh (refreshed now when it expires soon); `None` when the
/// key has no usable secret.
async fn credential<'k>(
    request: &Request<'_>,
    key: &'k ProviderKey,
) -> Result<Option<Cow<'k, Secret>>, RefreshError> {
    if key.oauth.is_none() {
        return Ok(key.secret.as_ref().map(Cow::Borrowed));
    }
    request
        .core
        .accounts
        .credential(request.provider.oauth.as_deref(), key)
        .await
        .map(|token| Some(Cow::Owned(token)))
}

/// Reports an error answer to the key board; whether another key might
/// succeed where this one failed.
fn judge(
    board: &crate::scheduler::KeyBoard,
    key_id: i32,
    status: u16,
    class: Option<&ErrorClass>,
) -> bool {
    let reason = format!("upstream answered {status}");
    match class {
        Some(ErrorClass::RateLimited(seconds)) => {
            let after = seconds.map(|s| Duration::from_secs(u64::from(s)));
            board.record_failure(key_id, HealthStatus::RateLimited, after, &reason);
            true
        }
        Some(
            class
            @ (ErrorClass::QuotaExhausted | ErrorClass::AuthInvalid | ErrorClass::ServerError),
        ) => {
            board.record_failure(key_id, HealthStatus::from_class(class), None, &reason);
            true
        }
        Some(ErrorClass::BadRequest) => false,
        Some(ErrorClass::Other) | None if status >= 500 => {
            board.record_failure(key_id, HealthStatus::ServerError, None, &reason);
            true
        }
        Some(ErrorClass::Other) | None => false,
    }
}

fn no_usable_key(no_key: NoKey) -> ProxyError {
    ProxyError::NoUsableKey {
        reason: no_key.reason(),
        retry_after: match no_key {
            NoKey::AllLimited { retry_after } => Some(retry_after),
            NoKey::AllUnhealthy => Some(1),
            _ => None,
        },
    }
}

/// The trace's error class of a successful answer whose usage could not be
/// read (over the metering cap, a plugin failure, or none reported).
pub const USAGE_UNKNOWN: &str = "usage_unknown";

/// Records usage and cost in the trace and the limit counters; an answer
/// whose usage cannot be read is charged what its request reserved.
async fn account(
    provider: &Provider,
    key: &ProviderKey,
    model: Option<&str>,
    forwarded: Forwarded,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<(), ProxyError> {
    ctx.trace.is_stream = forwarded.is_stream;
    let metered = forwarded.metered;
    let mut used = (0, 0);
    if let Some(class) = &metered.error_class {
        ctx.trace.error_class = Some(super::error_class_name(class));
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
    let hold = ctx.quota.take();
    let mut usage = metered.usage;
    if let (Some(hold), Some(_)) = (&hold, &forwarded.interrupted) {
        // An answer ended early may not have reported its prompt yet.
        usage = usage.map(|u| hold.with_prompt(u));
    }
    if let Some(usage) = usage {
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
        let tokens = i64::try_from(usage.input_tokens.saturating_add(usage.output_tokens))
            .unwrap_or(i64::MAX);
        let cost = ctx
            .trace
            .cost_nanos
            .map_or(0, |c| i64::try_from(c).unwrap_or(i64::MAX));
        used = (tokens, cost);
    }
    if let Some(capture) = ctx.shadow.as_mut() {
        let failure = metered.failure.as_ref().map(ToString::to_string);
        let class = metered.error_class.as_ref().map(super::error_class_name);
        capture.serving_verdict(usage, model, ctx.trace.cost_nanos, class, failure);
    }
    let answered = metered.error_class.is_none() && ctx.trace.status_code < 400;
    // A request without a model (listing models, files) reports no usage
    // because it has none.
    let usage_unknown = usage.is_none() && answered && model.is_some();
    if usage_unknown {
        // What cannot be read is not free: the estimate is charged.
        if let Some(hold) = &hold {
            let (tokens, cost) = hold.reservation.held();
            used = (tokens.max(hold.estimated_tokens()), cost);
        }
        ctx.trace
            .error_class
            .get_or_insert_with(|| USAGE_UNKNOWN.to_owned());
        ctx.trace.error_message = Some(match &metered.failure {
            Some(f) => format!("usage unknown, charged the estimate: {f}"),
            None => "usage unknown, charged the estimate: the answer reported none the plugin could read".to_owned(),
        });
    } else if let Some(f) = metered.failure {
        ctx.trace.error_message = Some(format!("usage unknown: {f}"));
    }
    // In the background: counting must not hold up the end of the request.
    if let Some(hold) = hold {
        hold.reservation.settle(Some(key.id), used.0, used.1);
    }
    match forwarded.interrupted {
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
