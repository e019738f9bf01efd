//! Pools of upstream keys behind one client key, set up through the admin
//! API, for the scheduling, failover and limit tests.

#![allow(clippy::expect_used)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::gateway::TestGateway;

/// The body [`TestGateway::chat`] sends.
pub fn chat_body() -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
}

/// A client key and the upstream keys in its pool.
pub struct Pool {
    pub client_key: String,
    pub client_id: i64,
    pub key_ids: Vec<i64>,
}

impl TestGateway {
    /// Points provider `provider` at `base_url`, adds one upstream key per
    /// `(name, secret, extra fields)` and a client key pooling them, created
    /// with `client_fields` (strategy, limits, ...) merged in.
    pub async fn pool(
        &self,
        provider: &str,
        base_url: &str,
        keys: &[(&str, &str, Value)],
        client_fields: Value,
    ) -> Pool {
        let provider_id = self.provider_id(provider).await;
        self.admin_ok(
            Method::PUT,
            &format!("/api/providers/{provider_id}"),
            Some(json!({"base_url": base_url})),
        )
        .await;
        let mut key_ids = Vec::new();
        for (name, secret, extra) in keys {
            let mut body = json!({"provider_id": provider_id, "name": name, "secret": secret});
            merge(&mut body, extra);
            let key = self
                .admin_ok(Method::POST, "/api/upstream-keys", Some(body))
                .await;
            key_ids.push(key["id"].as_i64().expect("key id"));
        }
        let mut body = json!({
            "name": format!("{provider}-pool-client"),
            "provider_id": provider_id,
            "upstream_key_ids": key_ids,
        });
        merge(&mut body, &client_fields);
        let client = self
            .admin_ok(Method::POST, "/api/client-keys", Some(body))
            .await;
        Pool {
            client_key: client["key"].as_str().expect("client key").to_owned(),
            client_id: client["id"].as_i64().expect("client id"),
            key_ids,
        }
    }

    /// The live health of upstream key `id` as the API shows it.
    pub async fn key_health(&self, id: i64) -> Value {
        self.admin_ok(Method::GET, &format!("/api/upstream-keys/{id}"), None)
            .await["health"]
            .clone()
    }

    /// Asserts that client key `client_id`'s token counter holds `charged`
    /// today: with its daily token quota set to `charged` plus one
    /// [`TestGateway::chat`] request's estimate, less one, that request is
    /// refused; with exactly that, it is admitted. (It changes the quota.)
    pub async fn assert_tokens_charged(&self, client_id: i64, client_key: &str, charged: i64) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let body = serde_json::to_vec(&chat_body()).expect("json");
        let estimate = i64::try_from(body.len().div_ceil(4)).expect("small") + 256;
        let path = format!("/api/client-keys/{client_id}");
        for (quota, status) in [(charged + estimate - 1, 429), (charged + estimate, 200)] {
            self.admin_ok(
                Method::PUT,
                &path,
                Some(json!({"limits": {"tokens_per_day": quota}})),
            )
            .await;
            assert_eq!(
                self.chat(client_key).await.0,
                status,
                "quota {quota}: the counter should hold {charged}"
            );
        }
    }

    /// An OpenAI chat completion through the proxy: status, headers, body.
    pub async fn chat(&self, client_key: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", self.proxy_url))
            .bearer_auth(client_key)
            .json(&chat_body())
            .send()
            .await
            .expect("proxy request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn merge(into: &mut Value, extra: &Value) {
    if let (Some(into), Some(extra)) = (into.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            into.insert(k.clone(), v.clone());
        }
    }
}
