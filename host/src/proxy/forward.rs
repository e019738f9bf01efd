//! Sending the prepared request upstream and relaying the answer back.
//!
//! [`send`] gets the upstream's response head; the pipeline then either
//! relays the answer ([`relay`]: written to the client chunk by chunk as it
//! arrives, nothing buffered, the meter watching) or, for an error answer,
//! reads it first ([`read_error_answer`]) so the plugin can classify it and
//! the pipeline can retry on another key before the client saw anything.
//! Connections are pooled per upstream address and reused.

use bytes::Bytes;
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::protocols::http::client::HttpSession;
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;

use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::mask;
use super::meter::{Meter, Metered};
use super::quota_cut::{StreamWatch, Verdict};
use crate::egress::exchange::{ExchangeError, open_exchange};
use crate::plugins::MAX_CLASSIFIED_BODY_BYTES;
use crate::plugins::PluginCalls;
use crate::secrets::Secret;
use crate::shadow::ShadowCapture;

/// Response headers not passed to the client (hop-by-hop).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// Response headers that describe the upstream account, not the answer:
/// cookies the upstream sets for its own session, and the organisation or
/// project the upstream key belongs to. Never passed to the client.
pub const UPSTREAM_ACCOUNT_HEADERS: &[&str] = &[
    "set-cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
];

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

/// One upstream request, ready to send.
pub struct Outbound<'a> {
    pub connector: &'a Connector,
    pub peer: &'a HttpPeer,
    pub request: RequestHeader,
    pub body: Bytes,
}

/// An upstream answer whose head has arrived.
pub struct Answer<'a> {
    pub head: ResponseHeader,
    upstream: HttpSession,
    connector: &'a Connector,
    peer: &'a HttpPeer,
}

/// An error answer read (up to [`MAX_CLASSIFIED_BODY_BYTES`]) before
/// deciding whether to pass it on or try another key.
pub struct ErrorAnswer<'a> {
    pub answer: Answer<'a>,
    pub body: Bytes,
    /// Whether `body` is the whole answer.
    pub complete: bool,
}

/// Sends the request and waits for the response head.
pub async fn send<'a>(out: Outbound<'a>) -> Result<Answer<'a>, ProxyError> {
    let upstream = open_exchange(out.connector, out.peer, &out.request, &out.body)
        .await
        .map_err(|e| match e {
            ExchangeError::Timeout => ProxyError::UpstreamTimeout,
            ExchangeError::Unreachable(why) => ProxyError::UpstreamUnreachable(why),
        })?;
    let Some(head) = upstream.response_header().cloned() else {
        return Err(ProxyError::UpstreamBroken("no response header".into()));
    };
    Ok(Answer {
        head,
        upstream,
        connector: out.connector,
        peer: out.peer,
    })
}

impl<'a> Answer<'a> {
    pub fn status(&self) -> u16 {
        self.head.status.as_u16()
    }

    /// Reads the start of an error answer (the whole of it, usually).
    pub async fn read_error(mut self) -> ErrorAnswer<'a> {
        let mut body = Vec::new();
        let mut complete = false;
        while body.len() < MAX_CLASSIFIED_BODY_BYTES {
            match self.upstream.read_response_body().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => {
                    complete = true;
                    break;
                }
                Err(_) => break,
            }
        }
        ErrorAnswer {
            answer: self,
            body: Bytes::from(body),
            complete,
        }
    }

    /// Returns the connection to the pool if the answer was read to its end.
    pub async fn release(mut self) {
        if self.upstream.response_done() {
            self.connector
                .release_http_session(self.upstream, self.peer, self.peer.options.idle_timeout)
                .await;
        }
    }
}

impl ErrorAnswer<'_> {
    /// Masks any quote of `secret` (or of a masked key) in the body read.
    pub fn mask_credentials(&mut self, secret: &Secret) {
        let mut body = self.body.to_vec();
        mask::mask_credentials(&mut body, secret.expose().as_bytes());
        self.body = Bytes::from(body);
    }
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
    answer: &mut Answer<'_>,
    session: &mut Session,
    calls: &mut PluginCalls,
    meter: &mut Meter,
    mut watch: Option<&mut StreamWatch<'_>>,
    mut shadow: Option<&mut ShadowCapture>,
) -> Option<Interruption> {
    loop {
        match answer.upstream.read_response_body().await {
            Ok(Some(chunk)) => {
                let running = meter.observe(calls, &chunk).await;
                if let Some(shadow) = shadow.as_deref_mut() {
                    shadow.push(&chunk);
                }
                if let Some(watch) = watch.as_deref_mut()
                    && let Verdict::Cut { keep, end } =
                        watch.check(&chunk, running, calls, meter).await
                {
                    return end_early(session, chunk.slice(..keep), end).await;
                }
                if session
                    .write_response_body(Some(chunk), false)
                    .await
                    .is_err()
                {
                    return Some(Interruption::Client);
                }
            }
            Ok(None) => break,
            Err(e) => return Some(Interruption::Upstream(e.etype().as_str().to_owned())),
        }
    }
    if session
        .write_response_body(Some(Bytes::new()), true)
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
    mut answer: Answer<'_>,
    session: &mut Session,
    ctx: &mut RequestCtx,
    calls: &mut PluginCalls,
) -> Result<Forwarded, ProxyError> {
    let watched = ctx.quota.as_ref().is_some_and(|hold| hold.cuts());
    let mut meter = Meter::new(calls, &answer.head, watched).await;
    let is_stream = meter.is_stream();
    if let Some(shadow) = ctx.shadow.as_mut() {
        shadow.answer_head(&answer.head);
    }
    let interrupted = if start_response(&answer.head, session, ctx).await? {
        let mut watch = match ctx.quota.as_mut() {
            Some(hold) if is_stream => hold.watch(),
            _ => None,
        };
        let shadow = ctx.shadow.as_mut();
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
    let metered = meter.finish(calls, interrupted.is_none()).await;
    if interrupted.is_none() {
        answer.release().await;
    }
    Ok(Forwarded {
        metered,
        is_stream,
        interrupted,
    })
}

/// Relays an error answer already read and classified.
pub async fn relay_error(
    error: ErrorAnswer<'_>,
    metered: Metered,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<Forwarded, ProxyError> {
    let ErrorAnswer {
        answer,
        body,
        complete,
    } = error;
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
        answer.release().await;
    }
    Ok(Forwarded {
        metered,
        is_stream: false,
        interrupted,
    })
}

/// The upstream's header minus hop-by-hop and account headers, plus
/// `x-request-id`.
fn client_response_header(
    upstream: &ResponseHeader,
    request_id: &str,
) -> Result<ResponseHeader, ProxyError> {
    let mut out = ResponseHeader::build_no_case(upstream.status, Some(upstream.headers.len() + 1))
        .map_err(|_| ProxyError::UpstreamBroken("invalid response status".into()))?;
    for (name, value) in upstream.headers.iter() {
        let name_str = name.as_str();
        if !HOP_BY_HOP.contains(&name_str) && !UPSTREAM_ACCOUNT_HEADERS.contains(&name_str) {
            let _ = out.append_header(name.clone(), value.clone());
        }
    }
    if out.headers.contains_key("transfer-encoding") {
        out.remove_header("content-length");
    }
    let _ = out.insert_header("x-request-id", request_id);
    Ok(out)
}
