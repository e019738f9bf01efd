//! The shadow pieces on a real built-in plugin: the candidate's verdict
//! from a capture fed in the chunks the client got, and the queue's bound.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;
use pingora::http::ResponseHeader;

use super::*;
use crate::catalog::rollout::{Rollout, Stage};
use crate::plugins::types::RequestHead;
use crate::plugins::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};

const STREAM: &[u8] = b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n\
data: [DONE]\n\n";

async fn openai() -> Arc<LoadedPlugin> {
    let engine = PluginEngine::new(PluginLimits {
        call_timeout: Duration::from_secs(2),
        memory_bytes: 16 << 20,
        instances: 4,
    })
    .expect("engine");
    let (_, bytes) = BUILTIN_PLUGINS
        .iter()
        .find(|(n, _)| *n == "openai")
        .expect("openai");
    LoadedPlugin::load(&engine, bytes.to_vec())
        .await
        .expect("loads")
}

fn capture(plugin: &Arc<LoadedPlugin>, status: u16, content_type: &str) -> ShadowCapture {
    let rollout = Rollout {
        plugin_id: 2,
        candidate: plugin.clone(),
        stage: Stage::Shadow { sample: 1.0 },
    };
    let head = RequestHead {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        headers: vec![],
    };
    let body = Bytes::from_static(br#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#);
    let prices: Arc<[_]> = plugin.default_prices.clone().into();
    let mut capture =
        ShadowCapture::start(&rollout, 1, prices, "req_t", "0.1.0", head, &body).expect("fits");
    let mut answer = ResponseHeader::build(status, None).expect("head");
    answer
        .insert_header("content-type", content_type)
        .expect("header");
    capture.answer_head(&answer);
    capture
}

#[tokio::test]
async fn the_candidate_reads_a_stream_in_the_chunks_the_client_got() {
    let plugin = openai().await;
    let mut capture = capture(&plugin, 200, "text/event-stream");
    for part in STREAM.chunks(7) {
        capture.push(&Bytes::copy_from_slice(part));
    }
    capture.end();
    let verdict = verdict::candidate_verdict(&capture).await;
    assert_eq!(verdict.failure, None);
    assert_eq!(verdict.model.as_deref(), Some("gpt-4o-mini"));
    let usage = verdict.usage.expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (9, 3));
    assert!(
        verdict.cost_nanos.is_some_and(|c| c > 0),
        "priced: {verdict:?}"
    );
    let mut other = verdict.clone();
    assert!(verdict.agrees_with(&other));
    other.usage = Some(UsageView {
        output_tokens: 4,
        ..usage
    });
    assert!(!verdict.agrees_with(&other));
}

#[tokio::test]
async fn the_candidate_classifies_an_error_answer() {
    let plugin = openai().await;
    let mut capture = capture(&plugin, 429, "application/json");
    capture.push(&Bytes::from_static(
        br#"{"error":{"message":"slow down","type":"rate_limit_exceeded"}}"#,
    ));
    capture.end();
    let verdict = verdict::candidate_verdict(&capture).await;
    assert_eq!(verdict.error_class.as_deref(), Some("rate_limited"));
    assert_eq!(verdict.usage, None);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    let plugin = openai().await;
    let (queue, mut rx) = ShadowQueue::new(1);
    assert!(queue.has_room());
    for _ in 0..3 {
        let mut c = capture(&plugin, 200, "application/json");
        c.end();
        queue.offer(c);
    }
    assert_eq!(queue.depth(), 1);
    assert!(!queue.has_room(), "a full queue says so before a capture");
    assert_eq!(queue.stats.dropped_queue_full.load(Relaxed), 2);
    let unended = capture(&plugin, 200, "application/json");
    queue.offer(unended);
    assert_eq!(queue.stats.dropped_incomplete.load(Relaxed), 1);
    assert!(rx.try_recv().is_ok());
    assert!(rx.try_recv().is_err(), "only what fitted was queued");
}

/// The scheduling policy and niceness of each of this process's threads
/// named `name`, from `/proc/self/task/*/stat` (fields 41 and 19).
fn threads_named(name: &str) -> Vec<(u32, i64)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("tasks") {
        let dir = task.expect("task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // After the name in parentheses: field 3 (state) comes first.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(nice), Some(policy)) = (fields.get(19 - 3), fields.get(41 - 3)) else {
            continue;
        };
        found.push((policy.parse().expect("policy"), nice.parse().expect("nice")));
    }
    found
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_worker_runs_on_its_own_thread_at_idle_priority() {
    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("db");
    let queue = ShadowQueue::spawn(db);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lowered = loop {
        let threads = threads_named(SHADOW_THREAD_NAME);
        let lowered: Vec<_> = threads
            .iter()
            .filter(|&&(policy, nice)| policy == libc::SCHED_IDLE as u32 || nice == 19)
            .collect();
        if !lowered.is_empty() && lowered.len() == threads.len() {
            break lowered.len();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no shadow worker at idle priority: {threads:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(lowered >= 1);
    let this = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
    let (_, rest) = this.rsplit_once(')').expect("stat");
    let policy = rest.split_whitespace().nth(41 - 3).expect("policy");
    assert_eq!(policy, "0", "only the worker is lowered, not the process");
    drop(queue);
}
