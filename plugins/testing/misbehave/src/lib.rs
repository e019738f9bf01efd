//! A test fixture, never to be deployed: a minimal OpenAI-compatible
//! provider plugin that misbehaves on purpose when the request names one of
//! these models, so the gateway's host tests can check each sandbox limit:
//!
//! | model             | call      | what it does                              |
//! |-------------------|-----------|-------------------------------------------|
//! | `trap`            | `inspect` | aborts (a WebAssembly trap)               |
//! | `loop`            | `inspect` | spins forever (hits the time deadline)    |
//! | `alloc`           | `inspect` | allocates 1 MiB blocks without end        |
//! | `leak-credential` | `prepare` | puts the credential in the body only      |
//! | `remember`        | `inspect` | counts its calls in a static and names the |
//! |                   |           | model `remember-N` (1 in a fresh instance) |
//! | `entropy`         | `inspect` | names the model `entropy-W-M-H`: the wall  |
//! |                   |           | clock W (s.ns since 1970), M ns the        |
//! |                   |           | monotonic clock moved across a busy loop,  |
//! |                   |           | H a `RandomState` hash (seeded by WASI)    |
//!
//! Any other model behaves normally: bearer credential, model and stream
//! flag from the JSON body, OpenAI chat-completion usage, one catch-all
//! price of $1 / $2 per million input / output tokens.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ai_proxy_sdk::{
    CredentialStyle, OutboundRequest, PluginError, Price, Provider, ProviderInfo, RequestFacts,
    RequestHead, SseEvent, Usage, http, json, price,
};

/// The misbehaving provider.
pub struct Misbehave;

/// Calls of `inspect` with the `remember` model in this instance's memory.
static REMEMBERED: AtomicU32 = AtomicU32::new(0);

/// The size of each block the `alloc` model hoards.
const BLOCK_BYTES: usize = 1 << 20;

impl Provider for Misbehave {
    fn endpoints() -> Vec<ai_proxy_sdk::endpoints::Endpoint> {
        ai_proxy_sdk::openai::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "misbehave".to_owned(),
            version: "0.1.0".to_owned(),
            default_base_url: "https://misbehave.invalid".to_owned(),
            credential: CredentialStyle::Bearer,
            health_probe: None,
            oauth: None,
        }
    }

    fn inspect(_head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
        let value = json::parse(body).unwrap_or_default();
        let model = json::str_at(&value, &["model"]).map(str::to_owned);
        match model.as_deref() {
            Some("trap") => std::process::abort(),
            Some("loop") => spin_forever(),
            Some("alloc") => hoard_forever(),
            Some("entropy") => Ok(RequestFacts {
                model: Some(entropy_report()),
                stream: false,
            }),
            Some("remember") => Ok(RequestFacts {
                model: Some(format!(
                    "remember-{}",
                    REMEMBERED.fetch_add(1, Ordering::Relaxed) + 1
                )),
                stream: false,
            }),
            _ => Ok(RequestFacts {
                model,
                stream: json::bool_at(&value, &["stream"]),
            }),
        }
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        let RequestHead {
            path, mut headers, ..
        } = head;
        let value = json::parse(&body).unwrap_or_default();
        if json::str_at(&value, &["model"]) == Some("leak-credential") {
            http::remove_header(&mut headers, "authorization");
            let leaked = serde_json::json!({ "model": "leak-credential", "key": credential });
            return Ok(OutboundRequest {
                path,
                headers,
                body: Some(leaked.to_string().into_bytes()),
            });
        }
        http::set_header(
            &mut headers,
            "authorization",
            format!("Bearer {credential}"),
        );
        Ok(OutboundRequest {
            path,
            headers,
            body: None,
        })
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        chat_usage(&json::parse(body)?)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        if let Some(found) = event.json().as_ref().and_then(chat_usage) {
            *usage = Some(found);
        }
    }

    fn default_prices() -> Vec<Price> {
        vec![price::price("", 1_000_000, 2_000_000, None, None)]
    }
}

ai_proxy_sdk::export_provider!(Misbehave);

/// Usage from an OpenAI chat-completion body or chunk.
fn chat_usage(value: &serde_json::Value) -> Option<Usage> {
    let usage = value.get("usage").filter(|u| u.is_object())?;
    Some(Usage {
        input_tokens: json::u64_at(usage, &["prompt_tokens"]),
        output_tokens: json::u64_at(usage, &["completion_tokens"]),
        ..Usage::ZERO
    })
}

/// What this instance reads from its clocks and random source.
fn entropy_report() -> String {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let start = Instant::now();
    let mut turns = 0_u64;
    for _ in 0..200_000 {
        turns = black_box(turns.wrapping_add(1));
    }
    let moved = start.elapsed().as_nanos();
    let hash = RandomState::new().hash_one("ai-proxy");
    format!(
        "entropy-{}.{:09}-{moved}-{hash:016x}",
        wall.as_secs(),
        wall.subsec_nanos()
    )
}

/// Never returns, and cannot be optimised away.
fn spin_forever() -> ! {
    let mut turns = 0_u64;
    loop {
        turns = black_box(turns.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB blocks until the allocator gives up.
fn hoard_forever() -> ! {
    let mut hoard = Vec::new();
    loop {
        hoard.push(black_box(vec![1_u8; BLOCK_BYTES]));
        black_box(&hoard);
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use ai_proxy_sdk::{Header, parse_stream};

    fn post() -> RequestHead {
        RequestHead {
            method: "POST".to_owned(),
            path: "/v1/chat/completions".to_owned(),
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/json".into(),
            }],
        }
    }

    #[test]
    fn inspect_ordinary_model_behaves() {
        let facts = Misbehave::inspect(&post(), br#"{"model":"gpt-4o","stream":true}"#);
        assert_eq!(
            facts,
            Ok(RequestFacts {
                model: Some("gpt-4o".into()),
                stream: true
            })
        );
    }

    #[test]
    fn prepare_ordinary_model_puts_credential_in_bearer_header() {
        let out =
            Misbehave::prepare(post(), br#"{"model":"gpt-4o"}"#.to_vec(), "PH").expect("prepared");
        assert_eq!(
            http::header(&out.headers, "authorization"),
            Some("Bearer PH")
        );
        assert_eq!(out.body, None);
    }

    #[test]
    fn prepare_leak_credential_puts_it_in_the_body_and_no_header() {
        let out = Misbehave::prepare(post(), br#"{"model":"leak-credential"}"#.to_vec(), "PH")
            .expect("prepared");
        assert!(out.headers.iter().all(|h| !h.value.contains("PH")));
        assert!(!out.path.contains("PH"));
        let body = String::from_utf8(out.body.expect("a body")).expect("UTF-8");
        assert!(body.contains("PH"));
    }

    #[test]
    fn usage_reads_chat_completion_bodies_and_streams() {
        let usage = Usage {
            input_tokens: 3,
            output_tokens: 2,
            ..Usage::ZERO
        };
        assert_eq!(
            Misbehave::body_usage(br#"{"usage":{"prompt_tokens":3,"completion_tokens":2}}"#),
            Some(usage)
        );
        let stream = b"data: {\"usage\":null}\n\ndata: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
        assert_eq!(parse_stream::<Misbehave>(&[stream]), Some(usage));
    }

    #[test]
    fn catch_all_price_costs_every_model() {
        let usage = Usage {
            input_tokens: 1000,
            output_tokens: 1000,
            ..Usage::ZERO
        };
        assert_eq!(
            Misbehave::cost("anything", &usage, &Misbehave::default_prices()),
            Some(3_000_000)
        );
    }
}
