//! What `prepare` did with a request, as a conformance vector states it:
//! the upstream path and query (the credential written as
//! [`CREDENTIAL_MARK`]) and where the credential went (`header NAME` or
//! `query NAME`). The request is built by the same function the proxy
//! uses ([`UpstreamCall`]), so the host's own checks of `prepare`'s result apply too.

use std::sync::Arc;

use bytes::Bytes;

use crate::catalog::UpstreamBase;
use crate::egress::call::{Credential, UpstreamCall};
use crate::plugins::types::RequestHead;
use crate::plugins::{LoadedPlugin, PluginInstance};
use crate::secrets::Secret;

/// A stand-in secret, to see where `prepare` puts the credential; never
/// shown: paths show it as [`CREDENTIAL_MARK`].
pub const SAMPLE_SECRET: &str = "sk-sample-credential";

/// How a shown or expected upstream path writes the credential.
pub const CREDENTIAL_MARK: &str = "{credential}";

/// The upstream path (credential masked) and where the credential went;
/// the reason when `prepare` or the host's checks of its result refused.
pub async fn prepared(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    head: &RequestHead,
    body: Bytes,
) -> Result<(String, String), String> {
    let mut call = UpstreamCall::prepare(&plugin.name, instance, head, body)
        .await
        .map_err(|e| format!("refused: {e}"))?;
    let base = UpstreamBase::parse("https://upstream.invalid").map_err(|e| e.to_string())?;
    let secret = Secret::new(SAMPLE_SECRET);
    let (request, _) = call
        .request(&base, Credential::ApiKey(&secret))
        .map_err(|e| format!("contract broken: {e}"))?;
    let header = request
        .headers
        .iter()
        .find(|(_, v)| v.to_str().is_ok_and(|v| v.contains(SAMPLE_SECRET)))
        .map(|(n, _)| format!("header {n}"));
    let query = request.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(_, v)| v.contains(SAMPLE_SECRET))
            .map(|(name, _)| format!("query {name}"))
    });
    let placed = header.or(query).unwrap_or_else(|| "nowhere".to_owned());
    let path = request
        .uri
        .path_and_query()
        .map(|p| p.as_str().replace(SAMPLE_SECRET, CREDENTIAL_MARK))
        .unwrap_or_default();
    Ok((path, placed))
}
