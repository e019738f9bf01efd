//! Sending the prepared request upstream and streaming the answer back.
//!
//! The answer is written to the client chunk by chunk as it arrives
//! (nothing is buffered on the way), while the meter watches it.
//! Connections are pooled per upstream address and reused.

use bytes::Bytes;
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;

use super::ctx::RequestCtx;
use super::error::ProxyError;
use super::meter::{Meter, Metered};
use crate::egress::exchange::{ExchangeError, open_exchange};
use crate::plugins::PluginInstance;

/// Response headers not passed to the client (hop-by-hop).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// The outcome of a forwarded request whose answer reached the client.
pub struct Forwarded {
    pub status: u16,
    pub metered: Metered,
    pub is_stream: bool,
    /// Set when the upstream or the client broke off the answer.
    pub interrupted: Option<Interruption>,
}

/// Who broke off an answer midway.
pub enum Interruption {
    Upstream(String),
    Client,
}

/// One upstream request, ready to send.
pub struct Outbound<'a> {
    pub connector: &'a Connector,
    pub peer: &'a HttpPeer,
    pub request: RequestHeader,
    pub body: Bytes,
}

/// Sends the request and relays the answer.
pub async fn forward(
    out: Outbound<'_>,
    session: &mut Session,
    ctx: &mut RequestCtx,
    instance: &mut PluginInstance,
) -> Result<Forwarded, ProxyError> {
    let Outbound {
        connector,
        peer,
        request,
        body,
    } = out;
    let mut upstream = open_exchange(connector, peer, &request, &body)
        .await
        .map_err(|e| match e {
            ExchangeError::Timeout => ProxyError::UpstreamTimeout,
            ExchangeError::Unreachable(why) => ProxyError::UpstreamUnreachable(why),
        })?;
    ctx.trace.first_byte_ms = Some(ctx.elapsed_ms());
    let Some(head) = upstream.response_header().cloned() else {
        return Err(ProxyError::UpstreamBroken("no response header".into()));
    };
    let status = head.status.as_u16();
    let mut meter = Meter::new(instance, &head).await;

    let downstream = client_response_header(&head, &ctx.request_id)?;
    let is_stream = meter.is_stream();
    if session
        .write_response_header(Box::new(downstream), false)
        .await
        .is_err()
    {
        let metered = meter.finish(instance).await;
        return Ok(Forwarded {
            status,
            metered,
            is_stream,
            interrupted: Some(Interruption::Client),
        });
    }
    ctx.response_started = true;
    ctx.trace.status_code = status;

    let mut interrupted = None;
    loop {
        match upstream.read_response_body().await {
            Ok(Some(chunk)) => {
                meter.observe(instance, &chunk).await;
                if session
                    .write_response_body(Some(chunk), false)
                    .await
                    .is_err()
                {
                    interrupted = Some(Interruption::Client);
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                interrupted = Some(Interruption::Upstream(e.etype().as_str().to_owned()));
                break;
            }
        }
    }
    let metered = meter.finish(instance).await;
    if interrupted.is_none() {
        if session
            .write_response_body(Some(Bytes::new()), true)
            .await
            .is_err()
        {
            interrupted = Some(Interruption::Client);
        }
        if upstream.response_done() {
            connector
                .release_http_session(upstream, peer, peer.options.idle_timeout)
                .await;
        }
    }
    Ok(Forwarded {
        status,
        metered,
        is_stream,
        interrupted,
    })
}

/// The upstream's header minus hop-by-hop headers, plus `x-request-id`.
fn client_response_header(
    upstream: &ResponseHeader,
    request_id: &str,
) -> Result<ResponseHeader, ProxyError> {
    let mut out = ResponseHeader::build_no_case(upstream.status, Some(upstream.headers.len() + 1))
        .map_err(|_| ProxyError::UpstreamBroken("invalid response status".into()))?;
    for (name, value) in upstream.headers.iter() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            let _ = out.append_header(name.clone(), value.clone());
        }
    }
    if out.headers.contains_key("transfer-encoding") {
        out.remove_header("content-length");
    }
    let _ = out.insert_header("x-request-id", request_id);
    Ok(out)
}
