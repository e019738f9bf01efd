//! Active health checks of upstream keys: send the plugin's probe request
//! with the key through the same egress path as real traffic, and turn the
//! answer into a health status using the plugin's error classification.
//! [`HealthService`] runs probes in the background.

mod service;

use std::time::Instant;

use bytes::Bytes;
use pingora::connectors::http::Connector;
use serde::Serialize;

use crate::catalog::{Provider, ProviderKey};
use crate::egress::Resolver;
use crate::egress::exchange::open_exchange;
use crate::egress::request::{build_request, credential_placeholder};
use crate::plugins::header_list;
// A probe's answer is kept as far as `classify` is handed an error body.
use crate::plugins::MAX_CLASSIFIED_BODY_BYTES as MAX_PROBE_BODY_BYTES;
use crate::plugins::types::RequestHead;
use crate::scheduler::HealthStatus;

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

/// Probes `key` of `provider` now.
pub async fn probe_key(
    provider: &Provider,
    key: &ProviderKey,
    resolver: &Resolver,
    connector: &Connector,
) -> ProbeResult {
    let started = Instant::now();
    let unknown = |why: &str| result(HealthStatus::Unknown, None, started, Some(why.to_owned()));
    let Some(plugin) = provider.plugin.clone() else {
        return unknown("the provider's plugin is not loaded");
    };
    let Some(probe) = plugin.info.health_probe.clone() else {
        return unknown("the plugin defines no health probe");
    };
    if let Some(oauth) = &key.oauth {
        if key.secret.is_none() {
            return unknown("the OAuth account is not connected");
        }
        // An expired token says nothing about the account: the next request
        // or the refresh task replaces it first.
        if oauth.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return unknown("the OAuth access token has expired and awaits its refresh");
        }
    }
    let Some(secret) = key.secret.as_ref() else {
        return result(
            HealthStatus::AuthInvalid,
            None,
            started,
            Some("the stored secret cannot be decrypted".into()),
        );
    };
    let Ok(base) = provider.upstream.clone() else {
        return unknown("the provider's base URL is invalid");
    };
    let mut instance = match plugin.instantiate(&format!("health-{}", key.id)).await {
        Ok(i) => i,
        Err(f) => return unknown(&f.to_string()),
    };
    let head = RequestHead {
        method: probe.method.clone(),
        path: probe.path.clone(),
        headers: probe.headers.clone(),
    };
    let placeholder = credential_placeholder();
    let prepared = match instance.prepare(&head, &probe.body, &placeholder).await {
        Ok(p) if key.oauth.is_some() => {
            let extra = provider
                .oauth
                .as_ref()
                .map_or(&[][..], |o| &o.request_headers[..]);
            crate::oauth::as_bearer(p, &placeholder, extra)
        }
        Ok(p) => p,
        Err(f) => return unknown(&f.to_string()),
    };
    let (request, body) = match build_request(
        &plugin.name,
        &base,
        &probe.method,
        prepared,
        Bytes::from(probe.body.clone()),
        &placeholder,
        secret,
    ) {
        Ok(r) => r,
        Err(f) => return unknown(&f.to_string()),
    };
    let peer = match resolver.peer(provider, &base).await {
        Ok(p) => p,
        Err(e) => return result(HealthStatus::Network, None, started, Some(e.to_string())),
    };
    let mut session = match open_exchange(connector, &peer, &request, &body).await {
        Ok(s) => s,
        Err(e) => return result(HealthStatus::Network, None, started, Some(e.to_string())),
    };
    let Some(head) = session.response_header().cloned() else {
        return result(
            HealthStatus::Network,
            None,
            started,
            Some("no response".into()),
        );
    };
    let status = head.status.as_u16();
    if status < 400 {
        return result(HealthStatus::Healthy, Some(status), started, None);
    }
    let mut answer = Vec::new();
    while answer.len() < MAX_PROBE_BODY_BYTES {
        match session.read_response_body().await {
            Ok(Some(chunk)) => answer
                .extend_from_slice(&chunk[..chunk.len().min(MAX_PROBE_BODY_BYTES - answer.len())]),
            _ => break,
        }
    }
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
