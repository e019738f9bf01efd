//! What a plugin costs per request in each language (issue 15, item 5):
//! the same OpenAI chat request and answer through the Rust OpenAI
//! plugin, the JavaScript DeepSeek plugin (componentize-qjs) and the
//! Python example (`plugins/python/openai-py`, componentize-py), each
//! call on a fresh instance as the proxy makes them. Prints the figures
//! `sdk/README.md` quotes; asserts only that each plugin reads the usage.
//! The JavaScript and Python components are skipped with a reason when
//! they were not built (`plugins/js/build.sh`, `plugins/python/openai-py/build.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_proxy::plugins::types::RequestHead;
use ai_proxy::plugins::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};

/// Requests timed per plugin (after one warm-up).
const ROUNDS: u32 = 50;

const BODY: &[u8] = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}"#;
const ANSWER: &[u8] = br#"{"id":"c1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
const STREAM: &[u8] = b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\ndata: [DONE]\n\n";

/// The gateway's default per-instance memory cap (64 MiB), as `plugin check` uses.
fn crate_default_memory() -> usize {
    ai_proxy::config::DEFAULT_PLUGIN_MEMORY_BYTES
}

fn built(relative: &str, how: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            println!("skipped {}: not built ({how})", path.display());
            None
        }
    }
}

/// One JSON request and one streamed one, every call on a fresh instance.
async fn one_request(plugin: &Arc<LoadedPlugin>) {
    let head = RequestHead {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        headers: vec![],
    };
    let mut instance = plugin.instantiate("cost").await.unwrap();
    let facts = instance.inspect(&head, BODY).await.unwrap();
    assert_eq!(facts.model.as_deref(), Some("gpt-4o-mini"));
    let mut instance = plugin.instantiate("cost").await.unwrap();
    let usage = instance.body_usage(ANSWER).await.unwrap().expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (12, 3));
    let mut instance = plugin.instantiate("cost").await.unwrap();
    let parser = instance.stream_parser().await.unwrap();
    instance.feed(&parser, STREAM).await.unwrap();
    let usage = instance
        .finish(&parser)
        .await
        .unwrap()
        .expect("stream usage");
    assert_eq!(usage.output_tokens, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_language_reads_usage_and_its_cost_is_printed() {
    let engine = PluginEngine::new(PluginLimits {
        call_timeout: Duration::from_secs(10),
        memory_bytes: crate_default_memory(),
        instances: 16,
    })
    .unwrap();
    let mut plugins = vec![(
        "Rust (openai)",
        BUILTIN_PLUGINS
            .iter()
            .find(|(n, _)| *n == "openai")
            .unwrap()
            .1
            .to_vec(),
    )];
    if let Some(js) = built(
        "../plugins/js/deepseek/dist/deepseek.wasm",
        "plugins/js/build.sh",
    ) {
        plugins.push(("JavaScript (deepseek)", js));
    }
    if let Some(py) = built(
        "../plugins/python/openai-py/dist/openai-py.wasm",
        "plugins/python/openai-py/build.sh",
    ) {
        plugins.push(("Python (openai-py)", py));
    }
    for (label, bytes) in plugins {
        let size = bytes.len();
        let started = Instant::now();
        let plugin = LoadedPlugin::load(&engine, bytes).await.unwrap();
        let load = started.elapsed();
        one_request(&plugin).await;
        let started = Instant::now();
        for _ in 0..ROUNDS {
            one_request(&plugin).await;
        }
        let per = started.elapsed() / ROUNDS;
        println!(
            "{label}: {size} bytes, compiled in {} ms, {} µs per request (3 instances: inspect, body-usage, a 3-event stream)",
            load.as_millis(),
            per.as_micros()
        );
    }
}
