//! Active health checks of upstream keys: send the plugin's probe request
//! with the key through the same egress path as real traffic, and turn the
//! answer into a health status using the plugin's error classification.
//! [`HealthService`] runs probes in the background.

mod service;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;

use crate::catalog::{Provider, UpstreamBase, UpstreamKey};
use crate::egress::call::{CallError, Credential, UpstreamCall, read_capped, send};
use crate::egress::{Connector, Resolver};
use crate::plugins::types::RequestHead;
use crate::plugins::{LoadedPlugin, header_list};
// A probe's answer is kept as far as `classify` is handed an error body.
use crate::plugins::MAX_CLASSIFIED_BODY_BYTES as MAX_PROBE_BODY_BYTES;
use crate::scheduler::HealthStatus;
use crate::secrets::Secret;

pub use service::{HealthService, store_status};

/// The outcome of one probe.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProbeResult {
    pub status: HealthStatus,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    /// Why, in words, when not healthy (never contains the secret).
    pub detail: Option<String>,
}

fn result(
    status: HealthStatus,
    http_status: Option<u16>,
    started: Instant,
    detail: Option<String>,
) -> ProbeResult {
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    ProbeResult {
        status,
        http_status,
        latency_ms,
        detail,
    }
}

/// What a probe of a key needs.
struct Ready<'k> {
    plugin: Arc<LoadedPlugin>,
    head: RequestHead,
    body: Bytes,
    secret: &'k Secret,
    base: UpstreamBase,
}

/// What the probe of `key` needs; the status and why when it cannot run.
fn ready<'k>(
    provider: &Provider,
    key: &'k UpstreamKey,
) -> Result<Ready<'k>, (HealthStatus, &'static str)> {
    let unknown = |why| (HealthStatus::Unknown, why);
    let plugin = (provider.plugin.clone()).ok_or(unknown("the provider's plugin is not loaded"))?;
    let Some(probe) = plugin.info.health_probe.as_ref() else {
        return Err(unknown("the plugin defines no health probe"));
    };
    if let Some(oauth) = &key.oauth {
        if key.secret.is_none() {
            return Err(unknown("the OAuth account is not connected"));
        }
        // An expired token says nothing about the account: the next request
        // or the refresh task replaces it first.
        if oauth.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return Err(unknown(
                "the OAuth access token has expired and awaits its refresh",
            ));
        }
    }
    let Some(secret) = key.secret.as_ref() else {
        let why = "the stored secret cannot be decrypted";
        return Err((HealthStatus::AuthInvalid, why));
    };
    let Ok(base) = provider.upstream.clone() else {
        return Err(unknown("the provider's base URL is invalid"));
    };
    let head = RequestHead {
        method: probe.method.clone(),
        path: probe.path.clone(),
        headers: probe.headers.clone(),
    };
    let body = Bytes::from(probe.body.clone());
    Ok(Ready {
        plugin,
        head,
        body,
        secret,
        base,
    })
}

/// Probes `key` of `provider` now.
pub async fn probe_key(
    provider: &Provider,
    key: &UpstreamKey,
    resolver: &Resolver,
    connector: &Connector,
) -> ProbeResult {
    let started = Instant::now();
    let unknown = |why: &str| result(HealthStatus::Unknown, None, started, Some(why.to_owned()));
    let Ready {
        plugin,
        head,
        body,
        secret,
        base,
    } = match ready(provider, key) {
        Ok(ready) => ready,
        Err((status, why)) => return result(status, None, started, Some(why.to_owned())),
    };
    let mut instance = match plugin.instantiate(&format!("health-{}", key.id)).await {
        Ok(i) => i,
        Err(f) => return unknown(&f.to_string()),
    };
    let request = match UpstreamCall::prepare(&plugin.name, &mut instance, &head, body).await {
        Ok(mut call) => call.request(&base, Credential::of(provider, key, secret)),
        Err(f) => Err(f),
    };
    let request = match request {
        Ok(r) => r,
        Err(f) => return unknown(&f.to_string()),
    };
    let peer = match resolver.peer(provider, &base).await {
        Ok(p) => p,
        Err(e) => return result(HealthStatus::Network, None, started, Some(e.to_string())),
    };
    let (mut session, head) = match send(connector, &peer, &request).await {
        Ok(answered) => answered,
        Err(CallError::Exchange(e)) => {
            return result(HealthStatus::Network, None, started, Some(e.to_string()));
        }
    };
    let status = head.status.as_u16();
    if status < 400 {
        return result(HealthStatus::Healthy, Some(status), started, None);
    }
    let (answer, _) = read_capped(&mut session, MAX_PROBE_BODY_BYTES).await;
    let headers = header_list(&head.headers);
    match instance.classify(status, &headers, &answer).await {
        Ok(class) => result(
            HealthStatus::from_class(&class),
            Some(status),
            started,
            Some(format!("upstream answered {status}")),
        ),
        Err(f) => result(
            HealthStatus::Unknown,
            Some(status),
            started,
            Some(f.to_string()),
        ),
    }
}
