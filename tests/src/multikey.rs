//! A gateway whose providers all point at one mock upstream, each with an
//! upstream key of its own secret, for tests of client keys that use
//! several providers: which provider a request reached is read from the
//! credential the mock received.
//!
//! Providers: the built-in `openai`, `anthropic` and `gemini`, and
//! `deepseek`, a second OpenAI-shaped provider (the `openai` plugin under
//! another name), so that two providers share one API shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::gateway::TestGateway;
use crate::mock::{MockUpstream, RecordedRequest};

/// The providers, in the order of [`Providers::ids`].
pub const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "deepseek"];

/// The upstream secret of each provider (same order).
pub const SECRETS: [&str; 4] = [
    "sk-up-openai",
    "sk-up-anthropic",
    "up-gemini",
    "sk-up-deepseek",
];

/// Provider ids and their upstream key ids.
pub struct Providers {
    /// Provider id per entry of [`PROVIDERS`].
    pub ids: [i64; 4],
    /// Upstream key id per entry of [`PROVIDERS`].
    pub keys: [i64; 4],
}

impl Providers {
    /// Points every provider at `mock` (making `deepseek`) and gives each
    /// an upstream key.
    pub async fn set_up(gw: &TestGateway, mock: &MockUpstream) -> Providers {
        gw.admin_ok(
            Method::POST,
            "/api/providers",
            Some(json!({"name": "deepseek", "plugin": "openai", "base_url": mock.base_url()})),
        )
        .await;
        let mut ids = [0; 4];
        let mut keys = [0; 4];
        for (i, name) in PROVIDERS.iter().enumerate() {
            let id = gw.provider_id(name).await;
            gw.admin_ok(
                Method::PUT,
                &format!("/api/providers/{id}"),
                Some(json!({"base_url": mock.base_url()})),
            )
            .await;
            let key = gw
                .admin_ok(
                    Method::POST,
                    "/api/upstream-keys",
                    Some(json!({"provider_id": id, "name": format!("{name}-up"), "secret": SECRETS[i]})),
                )
                .await;
            ids[i] = id;
            keys[i] = key["id"].as_i64().expect("key id");
        }
        Providers { ids, keys }
    }

    /// The index in [`PROVIDERS`] of `name`.
    pub fn index(name: &str) -> usize {
        PROVIDERS
            .iter()
            .position(|p| *p == name)
            .unwrap_or_else(|| panic!("unknown provider {name}"))
    }

    /// A route entry for `PUT .../providers`: provider `name` with its
    /// upstream key, and `extra` fields (`path_prefix`, `model_prefixes`).
    pub fn route(&self, name: &str, extra: Value) -> Value {
        let i = Self::index(name);
        let mut route = json!({"provider_id": self.ids[i], "upstream_key_ids": [self.keys[i]]});
        if let (Some(route), Some(extra)) = (route.as_object_mut(), extra.as_object()) {
            route.extend(extra.clone());
        }
        route
    }

    /// Creates a client key on `first` (its own provider), returning its
    /// id and secret.
    pub async fn client_key(&self, gw: &TestGateway, name: &str, first: &str) -> (i64, String) {
        let i = Self::index(first);
        let created = gw
            .admin_ok(
                Method::POST,
                "/api/client-keys",
                Some(json!({"name": name, "provider_id": self.ids[i], "upstream_key_ids": [self.keys[i]]})),
            )
            .await;
        (
            created["id"].as_i64().expect("id"),
            created["key"].as_str().expect("key").to_owned(),
        )
    }
}

/// `PUT /api/client-keys/{id}/providers` with `routes`: status and body.
pub async fn put_routes(gw: &TestGateway, key_id: i64, routes: Value) -> (u16, Value) {
    gw.admin(
        Method::PUT,
        &format!("/api/client-keys/{key_id}/providers"),
        Some(json!({ "providers": routes })),
    )
    .await
}

/// The provider whose upstream secret `request` carries, if any.
pub fn reached(request: &RecordedRequest) -> Option<&'static str> {
    let credential = [
        request
            .header("authorization")
            .map(|v| v.trim_start_matches("Bearer ")),
        request.header("x-api-key"),
        request.header("x-goog-api-key"),
    ];
    PROVIDERS.iter().zip(SECRETS).find_map(|(name, secret)| {
        credential
            .iter()
            .flatten()
            .any(|c| *c == secret)
            .then_some(*name)
    })
}
