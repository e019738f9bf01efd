//! The relay: everything that happens to an upstream answer once an
//! attempt produced the one to pass on. It is written to the client chunk
//! by chunk as it arrives, nothing buffered ([`relay`]), or, for an error
//! answer already read and classified, passed on whole ([`relay_error`]).
//! While it goes by the relay watches it:
//!
//! - [`usage`]: the plugin's stream parser (batched in [`batch`] for
//!   plugins that keep their state in the host) or a copy of a JSON body;
//! - [`hold`] and [`cut`]: what the request holds against its client's
//!   quotas, and ending a stream when they run out;
//! - [`finish`]: usage, cost and the quota settled in the trace once the
//!   answer ended, completely or not.
//! - [`client`]: whether the client left, noticed while the answer is
//!   awaited and between its chunks.
//!
//! [`answer`] is the upstream side: sending, reading an error answer,
//! handing the connection back to the pool.
//!
//! An open stream spends its minutes waiting for the next chunk in
//! [`pump`]; every other await here (the plugin's calls, writing to the
//! client, the quota check) is boxed, so that wait is all the relay's
//! future has to hold (bench/RESULTS.md, session 8).

mod answer;
mod batch;
mod client;
mod cut;
mod finish;
pub mod hold;
mod usage;

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::ctx::RequestCtx;
use super::error::ProxyError;
use crate::plugins::PluginCalls;
use crate::shadow::ShadowCapture;
use answer::{MAX_CLASSIFIED_BODY_BYTES, client_response_header};
use client::ClientSide;
use cut::{StreamWatch, Verdict};
use usage::Meter;

pub use answer::{Answer, ErrorAnswer, send};
pub use finish::account;
pub use usage::Metered;

/// The outcome of a forwarded request whose answer reached the client.
pub struct Forwarded {
    pub metered: Metered,
    pub is_stream: bool,
    /// Set when the upstream or the client broke off the answer.
    pub interrupted: Option<Interruption>,
}

/// Who broke off an answer midway.
pub enum Interruption {
    Upstream(String),
    Client,
    /// The gateway ended the stream at its client's quota, cleanly.
    QuotaCut,
}

/// Writes the head to the client; `false` if the client is gone.
async fn start_response(
    head: &ResponseHeader,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<bool, ProxyError> {
    let downstream = client_response_header(head, &ctx.request_id)?;
    if session
        .write_response_header(Box::new(downstream), false)
        .await
        .is_err()
    {
        return Ok(false);
    }
    ctx.response_started = true;
    ctx.trace.status_code = head.status.as_u16();
    Ok(true)
}

/// Streams the rest of `answer` to the client, feeding `meter` if given,
/// and ending it early when `watch` says the client's quota ran out.
async fn pump(
    answer: &mut Answer,
    session: &mut Session,
    calls: &mut PluginCalls,
    meter: &mut Meter,
    mut watch: Option<&mut StreamWatch<'_>>,
    mut shadow: Option<&mut ShadowCapture>,
) -> Option<Interruption> {
    let mut watching_client = true;
    loop {
        let read = tokio::select! {
            biased;
            read = answer.upstream.read() => read,
            // A client that leaves is noticed at once, not at the next
            // chunk (a paced stream's next event may be seconds away): its
            // connection and the upstream's are let go now.
            side = client::watch(session), if watching_client => {
                if let ClientSide::Gone = side {
                    return Some(Interruption::Client);
                }
                watching_client = false;
                continue;
            }
        };
        match read {
            Ok(Some(chunk)) => {
                let running = Box::pin(meter.observe(calls, &chunk)).await;
                if let Some(shadow) = shadow.as_deref_mut() {
                    shadow.push(&chunk);
                }
                if let Some(watch) = watch.as_deref_mut()
                    && let Verdict::Cut { keep, end } =
                        Box::pin(watch.check(&chunk, running, calls, meter)).await
                {
                    return Box::pin(end_early(session, chunk.slice(..keep), end)).await;
                }
                if Box::pin(session.write_response_body(Some(chunk), false))
                    .await
                    .is_err()
                {
                    return Some(Interruption::Client);
                }
            }
            Ok(None) => break,
            Err(e) => return Some(Interruption::Upstream(e.code().to_owned())),
        }
    }
    if Box::pin(session.write_response_body(Some(Bytes::new()), true))
        .await
        .is_err()
    {
        return Some(Interruption::Client);
    }
    if let Some(shadow) = shadow {
        shadow.end();
    }
    None
}

/// Writes the complete events of the last chunk, the terminal event, and
/// the end of the body.
async fn end_early(session: &mut Session, kept: Bytes, end: Vec<u8>) -> Option<Interruption> {
    for (part, last) in [(kept, false), (Bytes::from(end), true)] {
        if session.write_response_body(Some(part), last).await.is_err() {
            return Some(Interruption::Client);
        }
    }
    Some(Interruption::QuotaCut)
}

/// Relays a successful (or unclassified) answer, metering it.
pub async fn relay(
    mut answer: Answer,
    session: &mut Session,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<Forwarded, ProxyError> {
    let watched = ctx.quota.as_ref().is_some_and(|hold| hold.cuts());
    let mut meter = Box::pin(Meter::new(calls, &answer.head, watched)).await;
    let is_stream = meter.is_stream();
    if let Some(shadow) = ctx.shadow.as_mut() {
        shadow.answer_head(&answer.head);
    }
    let interrupted = if Box::pin(start_response(&answer.head, session, ctx)).await? {
        answer.let_go_of_head();
        let mut watch = match ctx.quota.as_mut() {
            Some(hold) if is_stream && hold.cuts() => Some(StreamWatch::new(hold)),
            _ => None,
        };
        let shadow = ctx.shadow.as_deref_mut();
        let interrupted = pump(
            &mut answer,
            session,
            calls,
            &mut meter,
            watch.as_mut(),
            shadow,
        )
        .await;
        if let Some(crossed) = watch.as_ref().and_then(StreamWatch::crossed) {
            let (class, message) = crossed.trace();
            ctx.trace.error_class = Some(class.to_owned());
            ctx.trace.error_message = Some(message);
        }
        interrupted
    } else {
        Some(Interruption::Client)
    };
    let metered = Box::pin(meter.finish(calls, interrupted.is_none())).await;
    if interrupted.is_none() {
        answer.release();
    }
    Ok(Forwarded {
        metered,
        is_stream,
        interrupted,
    })
}

/// Relays an error answer already read and classified; one that broke
/// off while it was read is the gateway's 502 instead.
pub async fn relay_error(
    error: ErrorAnswer,
    metered: Metered,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<Forwarded, ProxyError> {
    let ErrorAnswer {
        answer,
        body,
        complete,
        broken,
    } = error;
    if let Some(why) = broken {
        // Broken off while it was read: nothing of it reached the client,
        // which gets the gateway's error rather than a cut answer.
        return Err(ProxyError::UpstreamBroken(why.to_owned()));
    }
    if let Some(shadow) = ctx.shadow.as_mut() {
        shadow.answer_head(&answer.head);
        shadow.push(&body);
        if complete {
            shadow.end();
        }
    }
    let started = start_response(&answer.head, session, ctx).await?;
    let mut interrupted = None;
    if !started
        || session
            .write_response_body(Some(body), complete)
            .await
            .is_err()
    {
        interrupted = Some(Interruption::Client);
    } else if !complete {
        // The rest was never masked: it is not passed on, and the client
        // sees the answer cut rather than complete.
        interrupted = Some(Interruption::Upstream(format!(
            "error answer longer than {MAX_CLASSIFIED_BODY_BYTES} bytes"
        )));
    }
    if interrupted.is_none() {
        answer.release();
    }
    Ok(Forwarded {
        metered,
        is_stream: false,
        interrupted,
    })
}
