//! One sample through a plugin, request side: `inspect` (model, stream
//! flag) and `prepare` (upstream path, where the credential went), run
//! exactly as the gateway runs them, printed and recorded as observed
//! values for the sample's `expect` block.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::samples::Sample;
use crate::catalog::UpstreamBase;
use crate::egress::request::{build_request, credential_placeholder};
use crate::plugins::types::{Header, RequestFacts, RequestHead};
use crate::plugins::{LoadedPlugin, PluginInstance};
use crate::secrets::Secret;

/// A stand-in secret, to see where `prepare` puts the credential; never
/// printed: paths show it as [`CREDENTIAL_MARK`].
pub const SAMPLE_SECRET: &str = "sk-sample-credential";

/// How a printed or expected upstream path writes the credential.
pub const CREDENTIAL_MARK: &str = "{credential}";

/// The request id plugin log lines of the check carry.
pub const CHECK_REQUEST_ID: &str = "plugin-check";

/// What the run observed, by `expect` field name.
pub type Observed = BTreeMap<&'static str, Value>;

/// Header pairs as the WIT's list.
pub fn header_list(pairs: &[(String, String)]) -> Vec<Header> {
    pairs
        .iter()
        .map(|(name, value)| Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// Runs `inspect` and `prepare` for `sample`, printing what they gave and
/// recording it in `observed`; `None` when `inspect` refused.
pub async fn request_side(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    sample: &Sample,
    observed: &mut Observed,
) -> Option<RequestFacts> {
    let head = RequestHead {
        method: sample.method.clone(),
        path: sample.path.clone(),
        headers: header_list(&sample.headers),
    };
    let body = Bytes::from(sample.body.clone());
    let facts = match instance.inspect(&head, &body).await {
        Ok(f) => f,
        Err(e) => {
            println!("  inspect         refused: {e}");
            return None;
        }
    };
    println!(
        "  model           {}",
        facts.model.as_deref().unwrap_or("(none)")
    );
    println!("  stream          {} (from the request)", facts.stream);
    observed.insert("model", json!(facts.model));
    observed.insert("stream", json!(facts.stream));
    if let Some((path, credential)) = prepared(plugin, instance, &head, body).await {
        println!("  upstream path   {path}");
        println!("  credential in   {credential}");
        observed.insert("upstream_path", json!(path));
        observed.insert("credential", json!(credential));
    }
    Some(facts)
}

/// The upstream path (credential masked) and where the credential went,
/// after `prepare` and the host's own checks of its result; `None`
/// (printed) when either refused.
pub async fn prepared(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    head: &RequestHead,
    body: Bytes,
) -> Option<(String, String)> {
    let placeholder = credential_placeholder();
    let out = match instance.prepare(head, &body, &placeholder).await {
        Ok(out) => out,
        Err(e) => {
            println!("  prepare         refused: {e}");
            return None;
        }
    };
    let base = match UpstreamBase::parse("https://upstream.invalid") {
        Ok(base) => base,
        Err(e) => {
            println!("  prepare         {e}");
            return None;
        }
    };
    let secret = Secret::new(SAMPLE_SECRET);
    let request = match build_request(
        &plugin.name,
        &base,
        &head.method,
        out,
        body,
        &placeholder,
        &secret,
    ) {
        Ok((request, _)) => request,
        Err(e) => {
            println!("  prepare         contract broken: {e}");
            return None;
        }
    };
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
    Some((path, placed))
}
