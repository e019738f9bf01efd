//! An upstream answer whose head has arrived, as the relay holds it: sent
//! through the one upstream call ([`crate::egress::call`]), read in part
//! when it is an error (so the plugin can classify it and another key can
//! be tried before the client saw anything), handed back to the
//! connection pool when read to its end, and its head filtered for the
//! client.

use std::sync::Arc;

use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;

use crate::egress::Connector;
use crate::egress::call::{self, CallError, CappedEnd, read_capped};
use crate::egress::exchange::ExchangeError;
use crate::egress::request::HOP_BY_HOP;
use crate::egress::upstream_body::{PoolKey, UpstreamBody};
use crate::proxy::ProxyError;
use crate::proxy::mask;
use crate::secrets::Secret;

pub use crate::plugins::MAX_CLASSIFIED_BODY_BYTES;

/// Response headers that describe the upstream account, not the answer:
/// cookies the upstream sets for its own session, and the organisation or
/// project the upstream key belongs to. Never passed to the client.
const UPSTREAM_ACCOUNT_HEADERS: &[&str] = &[
    "set-cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
];

/// An upstream answer whose head has arrived.
pub struct Answer {
    pub head: ResponseHeader,
    pub(super) upstream: UpstreamBody,
    connector: Arc<Connector>,
    pool: PoolKey,
}

/// An error answer read (up to [`MAX_CLASSIFIED_BODY_BYTES`]) before
/// deciding whether to pass it on or try another key.
pub struct ErrorAnswer {
    pub answer: Answer,
    pub body: Bytes,
    /// Whether `body` is the whole answer.
    pub complete: bool,
    /// Why the answer broke off before `body` was read, when it did (the
    /// code [`crate::egress::upstream_body::BodyError::code`] gives).
    pub broken: Option<&'static str>,
}

/// Sends the request and waits for the response head, or until the
/// client leaves ([`ProxyError::ClientGone`]): a long completion is not
/// waited for on behalf of nobody, nor its connection held.
pub async fn send(
    connector: &Arc<Connector>,
    peer: &HttpPeer,
    request: &(RequestHeader, Bytes),
    client: &mut Session,
) -> Result<Answer, ProxyError> {
    let sent = tokio::select! {
        biased;
        sent = call::send(connector, peer, request) => sent,
        () = super::client::left(client) => return Err(ProxyError::ClientGone),
    };
    let (upstream, head) = sent.map_err(|e| match e {
        CallError::Exchange(ExchangeError::Timeout) => ProxyError::UpstreamTimeout,
        CallError::Exchange(ExchangeError::Unreachable(why)) => {
            ProxyError::UpstreamUnreachable(why)
        }
        CallError::Exchange(ExchangeError::Invalid(why)) => ProxyError::UpstreamInvalid(why),
    })?;
    Ok(Answer {
        head,
        upstream,
        connector: connector.clone(),
        pool: PoolKey::of(peer),
    })
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.head.status.as_u16()
    }

    /// Lets go of the head's headers once the client has its own copy and
    /// the meter what it needed: a stream open for minutes keeps the status.
    pub fn let_go_of_head(&mut self) {
        if let Ok(bare) = ResponseHeader::build_no_case(self.head.status, Some(0)) {
            self.head = bare;
        }
    }

    /// Reads the start of an error answer (the whole of it, usually).
    pub async fn read_error(mut self) -> ErrorAnswer {
        let (body, end) = read_capped(&mut self.upstream, MAX_CLASSIFIED_BODY_BYTES).await;
        let broken = match &end {
            CappedEnd::Broken(e) => Some(e.code()),
            CappedEnd::Whole | CappedEnd::Cap => None,
        };
        ErrorAnswer {
            answer: self,
            body: Bytes::from(body),
            complete: matches!(end, CappedEnd::Whole),
            broken,
        }
    }

    /// Returns the connection to the pool if the answer was read to its end.
    pub fn release(self) {
        self.upstream.release(&self.connector, self.pool);
    }
}

impl ErrorAnswer {
    /// Masks any quote of `secret` (or of a masked key) in the body read.
    pub fn mask_credentials(&mut self, secret: &Secret) {
        let mut body = self.body.to_vec();
        mask::mask_credentials(&mut body, secret.expose().as_bytes());
        self.body = Bytes::from(body);
    }
}

/// The upstream's header minus hop-by-hop and account headers, plus
/// `x-request-id`.
pub fn client_response_header(
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
