//! One sample through a plugin, request side: `inspect` (model, stream
//! flag) and `prepare` (upstream path, where the credential went), run
//! exactly as the gateway runs them, printed and recorded as observed
//! values for the sample's `expect` block.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::conformance::samples::Sample;
use crate::plugins::types::{Header, RequestFacts, RequestHead};
use crate::plugins::{LoadedPlugin, PluginInstance};

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

/// The upstream path (credential masked) and where the credential went;
/// `None` (printed) when `prepare` or the host's checks refused.
pub async fn prepared(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    head: &RequestHead,
    body: Bytes,
) -> Option<(String, String)> {
    match crate::conformance::prepare::prepared(plugin, instance, head, body).await {
        Ok(done) => Some(done),
        Err(e) => {
            println!("  prepare         {e}");
            None
        }
    }
}
