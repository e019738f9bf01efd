//! Trying upstream keys until one answers, for one request.
//!
//! Each attempt, in order: the scheduler picks a key not tried yet
//! ([`Attempts::next_key`]); its credential is fetched (an OAuth token is
//! refreshed when it expires soon); the prepared request is sent with it.
//! A success is relayed at once. An attempt that fails before anything
//! reached the client (no connection, timeout, or an error answer the
//! plugin classifies as retryable) is recorded in the trace and the key
//! board, and the next key gets a turn, up to the configured number of
//! attempts; the last error answer is passed on when no key is left. An
//! OAuth key whose token the upstream refused is refreshed once and tried
//! again.
//!
//! The attempts end with the answer to pass on ([`Answered`]), relayed by
//! the caller once this loop's state is gone: an open stream keeps only
//! the relay's future, not the attempts' (see [`super::pipeline`]).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;

mod verdict;

use super::ProxyCore;
use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::relay::{self, Answer, ErrorAnswer, Metered};
use super::upstream_message::upstream_message;
use crate::catalog::{Catalog, ClientKey, Provider, UpstreamBase, UpstreamKey};
use crate::egress::EgressError;
use crate::egress::call::{Credential, UpstreamCall};
use crate::oauth::RefreshError;
use crate::plugins::types::{ErrorClass, Header};
use crate::plugins::{PluginCalls, PluginFailure, header_list};
use crate::scheduler::HealthStatus;
use crate::scheduler::{NoKey, Scheduler};
use crate::secrets::Secret;
use crate::trace::Attempt;
use verdict::{judge, no_usable_key};

/// What every attempt of one request shares.
pub struct Request<'a> {
    pub core: &'a ProxyCore,
    /// The snapshot the request started with.
    pub catalog: &'a Catalog,
    pub client: &'a ClientKey,
    pub provider: &'a Provider,
}

/// The answer to pass on, and the key that got it.
pub enum Answered {
    /// A success, relayed as it arrives.
    Success(Arc<UpstreamKey>, Box<Answer>),
    /// An error answer, read and classified, passed on whole.
    Error(Arc<UpstreamKey>, Box<(ErrorAnswer, Metered)>),
}

/// Why no key is left to try.
enum Exhausted {
    /// How the last attempt (with that key) failed.
    Last(Arc<UpstreamKey>, Failed),
    /// No attempt was made: why no key could be picked.
    NoKey(NoKey),
}

/// How one attempt ended, when it did not produce the answer to relay.
enum Failed {
    /// No answer at all (connection, timeout, egress).
    NoAnswer(ProxyError),
    /// An error answer that another key might not get.
    Retryable(Box<(ErrorAnswer, Metered)>),
}

/// The provider's address, where every attempt of a request goes.
pub struct Upstream {
    base: UpstreamBase,
    peer: HttpPeer,
}

/// Tries keys until one answers with something to pass on.
pub async fn attempt_until_answered(
    request: &Request<'_>,
    upstream: &Upstream,
    call: UpstreamCall,
    session: &mut Session,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<Answered, ProxyError> {
    let mut attempts = Attempts {
        request,
        base: &upstream.base,
        peer: &upstream.peer,
        call,
        tried: Vec::new(),
        last: None,
        retry_same: None,
        refreshed_after_refusal: false,
    };
    loop {
        let key = match Box::pin(attempts.next_key()).await {
            Ok(key) => key,
            // Out of keys or attempts: pass on what the last attempt got.
            Err(Exhausted::Last(key, Failed::Retryable(held))) => {
                return Ok(Answered::Error(key, held));
            }
            Err(Exhausted::Last(_, Failed::NoAnswer(e))) => return Err(e),
            Err(Exhausted::NoKey(no_key)) => return Err(no_usable_key(no_key)),
        };
        if let Some(answered) = attempts.attempt(key, session, ctx, calls).await? {
            return Ok(answered);
        }
    }
}

/// The provider's base URL and the peer its address resolves to, checked
/// against the egress policy.
pub async fn upstream(request: &Request<'_>) -> Result<Upstream, ProxyError> {
    let provider = request.provider;
    let base = provider.upstream.clone().map_err(|_| {
        ProxyError::ProviderUnavailable(provider.name.clone(), "its base URL is invalid")
    })?;
    let peer = request
        .core
        .resolver
        .peer(provider, &base)
        .await
        .map_err(|e| match e {
            EgressError::Denied(denied) => ProxyError::EgressDenied(denied.to_string()),
            EgressError::Resolve(io) => {
                ProxyError::UpstreamUnreachable(format!("resolving upstream: {}", io.kind()))
            }
        })?;
    Ok(Upstream { base, peer })
}

/// The attempts of one request so far.
struct Attempts<'a> {
    request: &'a Request<'a>,
    base: &'a UpstreamBase,
    peer: &'a HttpPeer,
    call: UpstreamCall,
    tried: Vec<i32>,
    /// How the last attempt failed, kept until another key gets a turn.
    last: Option<(Arc<UpstreamKey>, Failed)>,
    /// An OAuth key whose token the upstream refused gets one more try
    /// after one refresh.
    retry_same: Option<Arc<UpstreamKey>>,
    refreshed_after_refusal: bool,
}

impl<'a> Attempts<'a> {
    /// The next key to try, or why there is none: how the last attempt
    /// failed, or why no key could be picked. A held error answer is
    /// dropped unread once another key gets a turn.
    async fn next_key(&mut self) -> Result<Arc<UpstreamKey>, Exhausted> {
        let picked = if let Some(key) = self.retry_same.take() {
            Ok(key)
        } else if self.tried.len() >= self.request.core.max_attempts {
            Err(NoKey::AllTried)
        } else {
            self.scheduler()
                .pick(self.request.client, &self.tried)
                .await
        };
        match (picked, self.last.take()) {
            (Ok(key), previous) => {
                drop(previous);
                self.tried.push(key.id);
                Ok(key)
            }
            (Err(_), Some((key, failed))) => Err(Exhausted::Last(key, failed)),
            (Err(no_key), None) => Err(Exhausted::NoKey(no_key)),
        }
    }

    fn scheduler(&self) -> Scheduler<'a> {
        let core = self.request.core;
        Scheduler {
            catalog: self.request.catalog,
            board: &core.board,
            limiter: &core.limiter,
        }
    }

    /// One attempt with `key`: the answered request, or `None` to try the
    /// next key.
    async fn attempt(
        &mut self,
        key: Arc<UpstreamKey>,
        session: &mut Session,
        ctx: &mut RequestCtx,
        calls: &mut PluginCalls,
    ) -> Result<Option<Answered>, ProxyError> {
        let mut attempt = begin(&key, ctx);
        calls.attempt_began(ctx.trace.attempts.len() + 1);
        let secret = match Box::pin(credential(self.request, &key)).await {
            Ok(Some(secret)) => secret,
            Ok(None) => return Ok(None),
            Err(e) => {
                attempt.error = Some(e.code().to_owned());
                attempt.duration_ms = ctx.elapsed_ms().saturating_sub(attempt.started_ms);
                ctx.trace.attempts.push(attempt);
                let failed = Failed::NoAnswer(ProxyError::UpstreamCredential(e.to_string()));
                self.last = Some((key, failed));
                return Ok(None);
            }
        };
        let core = self.request.core;
        let credential = Credential::of(self.request.provider, &key, &secret);
        let answer = Box::pin(self.send(credential, session)).await;
        attempt.duration_ms = ctx.elapsed_ms().saturating_sub(attempt.started_ms);
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                attempt.error = Some(e.code().to_owned());
                ctx.trace.attempts.push(attempt);
                return Err(e);
            }
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                attempt.error = Some(e.code().to_owned());
                ctx.trace.attempts.push(attempt);
                let board = &core.board;
                board.record_failure(key.id, HealthStatus::Network, None, e.code());
                self.last = Some((key, Failed::NoAnswer(e)));
                return Ok(None);
            }
        };
        attempt.status = Some(answer.status());
        if answer.status() < 400 {
            let latency = Duration::from_millis(attempt.duration_ms);
            core.board.record_success(key.id, latency);
            ctx.trace.attempts.push(attempt);
            ctx.trace.first_byte_ms = Some(ctx.elapsed_ms());
            return Ok(Some(Answered::Success(key, Box::new(answer))));
        }
        let error_answer = self.error_answer(&key, attempt, answer, &secret, ctx, calls);
        let Some(held) = Box::pin(error_answer).await else {
            return Ok(None);
        };
        Ok(Some(Answered::Error(key, Box::new(held))))
    }

    /// The request sent with `credential`; the inner error when no answer
    /// came, the outer one when the client left meanwhile.
    async fn send(
        &mut self,
        credential: Credential<'_>,
        session: &mut Session,
    ) -> Result<Result<Answer, ProxyError>, ProxyError> {
        let upstream_request = self.call.request(self.base, credential)?;
        let connector = &self.request.core.connector;
        match relay::send(connector, self.peer, &upstream_request, session).await {
            // Not an attempt that failed: no other key gets a turn.
            Err(ProxyError::ClientGone) => Err(ProxyError::ClientGone),
            answer => Ok(answer),
        }
    }

    /// An error answer to `attempt`: read, masked, classified and
    /// recorded; an OAuth key's refused token is refreshed for one more
    /// try. The answer to pass on now, or `None` when it is held for the
    /// next key (another might do better).
    async fn error_answer(
        &mut self,
        key: &Arc<UpstreamKey>,
        mut attempt: Attempt,
        answer: Answer,
        secret: &Secret,
        ctx: &mut RequestCtx,
        calls: &mut PluginCalls,
    ) -> Option<(ErrorAnswer, Metered)> {
        let status = answer.status();
        let mut error = answer.read_error().await;
        // Before the plugin or the client sees it: neither may learn the key.
        error.mask_credentials(secret);
        attempt.message = upstream_message(&error.body, secret.expose().as_bytes());
        let headers = header_list(&error.answer.head.headers);
        let (class, failure) = match classify(calls, status, &headers, &error.body).await {
            Ok(class) => (Some(class), None),
            Err(f) => (None, Some(f)),
        };
        let refreshed = self.refresh_on_refusal(key, class.as_ref(), secret).await;
        attempt.error_class = class.as_ref().map(super::error_class_name);
        attempt.duration_ms = ctx.elapsed_ms().saturating_sub(attempt.started_ms);
        ctx.trace.attempts.push(attempt);
        if refreshed == Some(true) {
            self.retry_same = Some(key.clone());
            return None;
        }
        let retryable = judge(&self.request.core.board, key.id, status, class.as_ref());
        if refreshed.is_none() {
            ctx.trace.first_byte_ms = Some(ctx.elapsed_ms());
        }
        let metered = Metered {
            usage: None,
            error_class: class,
            failure,
        };
        if retryable {
            let held = Failed::Retryable(Box::new((error, metered)));
            self.last = Some((key.clone(), held));
            return None;
        }
        Some((error, metered))
    }

    /// When the upstream refused an OAuth key's token for the first time
    /// in this request: refreshes it, and says whether that worked.
    /// `None` for any other answer.
    async fn refresh_on_refusal(
        &mut self,
        key: &UpstreamKey,
        class: Option<&ErrorClass>,
        secret: &Secret,
    ) -> Option<bool> {
        let settings = self.request.provider.oauth.as_deref()?;
        if self.refreshed_after_refusal
            || key.oauth.is_none()
            || !matches!(class, Some(ErrorClass::AuthInvalid))
        {
            return None;
        }
        self.refreshed_after_refusal = true;
        let accounts = &self.request.core.accounts;
        Some(
            accounts
                .refresh(settings, key.id, Some(secret))
                .await
                .is_ok(),
        )
    }
}

/// The trace's record of an attempt with `key` starting now; the trace
/// names the key of the last attempt.
fn begin(key: &UpstreamKey, ctx: &mut RequestCtx) -> Attempt {
    ctx.trace.upstream_key_id = Some(key.id);
    ctx.trace.upstream_key_name = Some(key.name.clone());
    Attempt {
        upstream_key_id: key.id,
        upstream_key_name: key.name.clone(),
        status: None,
        error_class: None,
        error: None,
        message: None,
        duration_ms: 0,
        started_ms: ctx.elapsed_ms(),
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
    key: &'k UpstreamKey,
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
