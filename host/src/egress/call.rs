//! The one upstream call with a key: the gateway's requests, the health
//! checker's probes and `ai-proxy plugin check` all make it here, the
//! same way.
//!
//! The plugin's `prepare` runs once per request, with an unguessable
//! placeholder where the credential goes ([`UpstreamCall::prepare`]); each
//! key then gets its own request ([`UpstreamCall::request`]): an API key
//! substituted where the plugin placed the placeholder, an OAuth access
//! token moved to `Authorization: Bearer`. [`send`] sends it over the
//! pooled connector to the address the egress policy checked and waits for
//! the response head; [`read_capped`] reads the start of an answer for the
//! plugin's `classify`.

use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::upstreams::peer::HttpPeer;

use super::Connector;
use super::bearer::as_bearer;
use super::exchange::{ExchangeError, open_exchange};
use super::request::{build_request, credential_placeholder};
use super::upstream_body::{BodyError, UpstreamBody};
use crate::catalog::{Provider, UpstreamBase, UpstreamKey};
use crate::plugins::types::{OutboundRequest, RequestHead};
use crate::plugins::{PluginFailure, PluginInstance};
use crate::secrets::Secret;

/// A request the plugin prepared, ready to be sent with any key.
pub struct UpstreamCall {
    plugin: String,
    method: String,
    body: Bytes,
    placeholder: String,
    prepared: OutboundRequest,
    /// `prepared` with the credential as a bearer token; made on first use.
    bearer: Option<OutboundRequest>,
}

/// The secret one call sends, and where.
#[derive(Clone, Copy)]
pub enum Credential<'s> {
    /// Where the plugin placed the placeholder.
    ApiKey(&'s Secret),
    /// An OAuth access token as a bearer token, with the provider's OAuth
    /// request headers.
    Bearer(&'s Secret, &'s [(String, String)]),
}

impl<'s> Credential<'s> {
    /// How `key` of `provider` sends `secret`.
    pub fn of(provider: &'s Provider, key: &UpstreamKey, secret: &'s Secret) -> Credential<'s> {
        if key.oauth.is_none() {
            return Credential::ApiKey(secret);
        }
        let headers = provider
            .oauth
            .as_ref()
            .map_or(&[][..], |o| &o.request_headers[..]);
        Credential::Bearer(secret, headers)
    }
}

impl UpstreamCall {
    /// Lets the plugin prepare `head` and `body` for the upstream, the
    /// credential a placeholder.
    pub async fn prepare(
        plugin: &str,
        instance: &mut PluginInstance,
        head: &RequestHead,
        body: Bytes,
    ) -> Result<UpstreamCall, PluginFailure> {
        let placeholder = credential_placeholder();
        let prepared = instance.prepare(head, &body, &placeholder).await?;
        Ok(UpstreamCall {
            plugin: plugin.to_owned(),
            method: head.method.clone(),
            body,
            placeholder,
            prepared,
            bearer: None,
        })
    }

    /// The upstream request head and body under `base`, with `credential`
    /// in place; refused when the plugin's result breaks the contract.
    pub fn request(
        &mut self,
        base: &UpstreamBase,
        credential: Credential<'_>,
    ) -> Result<(RequestHeader, Bytes), PluginFailure> {
        let (outbound, secret) = match credential {
            Credential::ApiKey(secret) => (self.prepared.clone(), secret),
            Credential::Bearer(token, headers) => {
                let (prepared, placeholder) = (&self.prepared, &self.placeholder);
                let bearer = self
                    .bearer
                    .get_or_insert_with(|| as_bearer(prepared.clone(), placeholder, headers));
                (bearer.clone(), token)
            }
        };
        build_request(
            &self.plugin,
            base,
            &self.method,
            outbound,
            self.body.clone(),
            &self.placeholder,
            secret,
        )
    }
}

/// Why a call got no response head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Sends `request` to `peer` (a pooled connection when one is idle) and
/// waits for the response head.
pub async fn send(
    connector: &Connector,
    peer: &HttpPeer,
    request: &(RequestHeader, Bytes),
) -> Result<(UpstreamBody, ResponseHeader), CallError> {
    let (head, body) = open_exchange(connector, peer, &request.0, &request.1).await?;
    Ok((body, head))
}

/// How [`read_capped`] stopped.
#[derive(Debug)]
pub enum CappedEnd {
    /// At the body's end: the bytes read are all of it.
    Whole,
    /// At the cap, with more of the body to come.
    Cap,
    /// The body broke off (its framing, the connection, a timeout).
    Broken(BodyError),
}

/// Reads the answer's body up to `cap` bytes, and how that stopped.
pub async fn read_capped(upstream: &mut UpstreamBody, cap: usize) -> (Vec<u8>, CappedEnd) {
    let mut body = Vec::new();
    while body.len() < cap {
        match upstream.read().await {
            Ok(Some(chunk)) => {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => return (body, CappedEnd::Whole),
            Err(e) => return (body, CappedEnd::Broken(e)),
        }
    }
    (body, CappedEnd::Cap)
}
