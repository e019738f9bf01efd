//! The optional `stream-state` interface of `wit/provider.wit`: a stream
//! parser whose state the host keeps as bytes between batches, so that an
//! open stream holds no plugin instance (each batch runs on a fresh one).
//!
//! Like `stream-control`, the interface is looked up by name when a plugin
//! loads; a plugin without it (or with an export whose types do not fit)
//! keeps an instance and its `stream-parser` for as long as a stream is
//! open, as before.

use wasmtime::component::{
    Component, ComponentExportIndex, ComponentType, Instance, Lift, TypedFunc,
};
use wasmtime::{AsContextMut, Engine};

use super::stream_control::{EndReason, optional_export};
use super::types::Usage;

/// The interface's name inside the WIT package.
pub const INTERFACE: &str = "stream-state";
/// Largest state a plugin may hand back; a larger one fails the stream's
/// metering (its usage is unknown and its estimate charged), so one
/// stream's state never costs the host more than this.
pub const MAX_STREAM_STATE_BYTES: usize = 1 << 20;

/// `stream-state.fed`.
#[derive(ComponentType, Lift, Debug, Clone)]
#[component(record)]
pub struct Fed {
    pub state: Vec<u8>,
    pub usage: Option<Usage>,
}

/// Where the interface's three functions are in a component.
#[derive(Debug, Clone, Copy)]
pub struct StreamStateExports {
    feed: ComponentExportIndex,
    finish: ComponentExportIndex,
    terminal_event: ComponentExportIndex,
}

type FeedFunc<'a> = TypedFunc<(&'a [u8], &'a [u8]), (Fed,)>;
type FinishFunc<'a> = TypedFunc<(&'a [u8],), (Option<Usage>,)>;
type TerminalFunc<'a> = TypedFunc<(&'a [u8], EndReason), (Vec<u8>,)>;

impl StreamStateExports {
    /// The exports of `component`, when it has all three.
    pub fn find(engine: &Engine, component: &Component) -> Option<StreamStateExports> {
        let find = |func| optional_export(engine, component, INTERFACE, func);
        Some(StreamStateExports {
            feed: find("feed")?,
            finish: find("finish")?,
            terminal_event: find("terminal-event")?,
        })
    }

    /// Whether all three have the contract's types in `instance`.
    pub fn fit(&self, mut store: impl AsContextMut, instance: &Instance) -> wasmtime::Result<()> {
        self.feed(&mut store, instance)?;
        self.finish(&mut store, instance)?;
        self.terminal_event(&mut store, instance)?;
        Ok(())
    }

    pub fn feed<'a>(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<FeedFunc<'a>> {
        instance.get_typed_func(store, self.feed)
    }

    pub fn finish<'a>(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<FinishFunc<'a>> {
        instance.get_typed_func(store, self.finish)
    }

    pub fn terminal_event<'a>(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<TerminalFunc<'a>> {
        instance.get_typed_func(store, self.terminal_event)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};

    const OPENAI_STREAM: &[u8] = b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello there\"}}]}\n\n\
data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n\
data: [DONE]\n\n";

    #[tokio::test]
    async fn a_stream_fed_in_batches_on_fresh_instances_reads_as_one_parser_does() {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 4,
        })
        .expect("engine");
        for (name, bytes) in BUILTIN_PLUGINS {
            let plugin = LoadedPlugin::load(&engine, bytes.to_vec())
                .await
                .expect("loads");
            assert!(plugin.keeps_stream_state(), "{name} exports stream-state");
        }
        let (_, openai) = BUILTIN_PLUGINS
            .iter()
            .find(|(n, _)| *n == "openai")
            .expect("openai");
        let plugin = LoadedPlugin::load(&engine, openai.to_vec())
            .await
            .expect("loads");
        // The parser resource, in one instance.
        let mut whole = plugin.instantiate("whole").await.expect("instance");
        let parser = whole.stream_parser().await.expect("parser");
        whole.feed(&parser, OPENAI_STREAM).await.expect("feed");
        let expected = whole.finish(&parser).await.expect("finish");
        assert_eq!(expected.map(|u| u.output_tokens), Some(3));
        drop((parser, whole));
        // Split at every byte, each half on its own instance: the same usage.
        for cut in 0..=OPENAI_STREAM.len() {
            let (a, b) = OPENAI_STREAM.split_at(cut);
            let mut state = Vec::new();
            for part in [a, b] {
                let mut instance = plugin.instantiate("batch").await.expect("instance");
                state = instance.feed_state(&state, part).await.expect("feed").state;
            }
            let mut last = plugin.instantiate("finish").await.expect("instance");
            let usage = last.finish_state(&state).await.expect("finish");
            assert_eq!(
                usage.map(|u| (u.input_tokens, u.output_tokens)),
                expected.map(|u| (u.input_tokens, u.output_tokens)),
                "cut at {cut}"
            );
        }
        assert_eq!(engine.live_instances(), 0, "every instance let go");
    }

    #[tokio::test]
    async fn a_state_the_plugin_did_not_write_fails_only_that_call() {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 2,
        })
        .expect("engine");
        let (_, openai) = BUILTIN_PLUGINS
            .iter()
            .find(|(n, _)| *n == "openai")
            .expect("openai");
        let plugin = LoadedPlugin::load(&engine, openai.to_vec())
            .await
            .expect("loads");
        let mut instance = plugin.instantiate("forged").await.expect("instance");
        assert!(
            instance
                .feed_state(b"forged", b"data: x\n\n")
                .await
                .is_err()
        );
        let mut next = plugin.instantiate("next").await.expect("instance");
        assert!(next.feed_state(&[], b"data: x\n\n").await.is_ok());
    }

    /// The mock upstream's streamed chat completion (`tests/src/mock/openai.rs`):
    /// a role chunk, `content` chunks, the finish and the usage chunk, each
    /// with `"usage":null` as a stream that asked for usage has, then
    /// `[DONE]`: `events` events in all.
    fn mock_stream(events: usize) -> Vec<u8> {
        let chunk = |choice: &str, usage: &str| {
            format!(
                "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\",\"choices\":[{choice}]{usage}}}\n\n"
            )
        };
        let mut out = chunk(
            r#"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}"#,
            r#","usage":null"#,
        );
        for _ in 0..events.saturating_sub(4) {
            out += &chunk(
                r#"{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}"#,
                r#","usage":null"#,
            );
        }
        out += &chunk(
            r#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}"#,
            r#","usage":null"#,
        );
        out += &chunk(
            "",
            r#","usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}"#,
        );
        out += "data: [DONE]\n\n";
        out.into_bytes()
    }

    /// This thread's CPU time so far.
    #[allow(unsafe_code)]
    fn cpu_time() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a local the call writes and does not keep.
        let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        assert_eq!(read, 0, "the thread's CPU clock");
        Duration::new(
            u64::try_from(now.tv_sec).expect("seconds"),
            u32::try_from(now.tv_nsec).expect("nanoseconds"),
        )
    }

    /// Not a check: what a request's plugin work costs on this machine, per
    /// instance, per JSON request's calls and per 24-event stream.
    /// `cargo test -p ai-proxy --lib plugins::stream_state::tests::call_costs
    /// -- --ignored --nocapture`; `PLUGIN_WASM=FILE` measures another build
    /// of an OpenAI-format plugin (say, the one before a change).
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn call_costs() {
        use super::super::types::{Header, RequestHead};
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 64 << 20,
            instances: 8,
        })
        .expect("engine");
        let bytes = match std::env::var("PLUGIN_WASM") {
            Ok(path) => std::fs::read(path).expect("plugin file"),
            Err(_) => BUILTIN_PLUGINS
                .iter()
                .find(|(n, _)| *n == "openai")
                .expect("openai")
                .1
                .to_vec(),
        };
        let plugin = LoadedPlugin::load(&engine, bytes).await.expect("loads");
        let rounds: u32 = 2000;
        // CPU time of this thread (the test's runtime has only this one),
        // which a loaded machine inflates far less than wall time.
        let per =
            |started: Duration| (cpu_time() - started).as_secs_f64() * 1e6 / f64::from(rounds);
        let started = cpu_time();
        for _ in 0..rounds {
            drop(plugin.instantiate("b").await.expect("instance"));
        }
        println!("instantiate + drop: {:.1} µs", per(started));
        let head = RequestHead {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/json".into(),
            }],
        };
        let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
        let answer = br#"{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"service_tier":"default","system_fingerprint":"fp_mock"}"#;
        let prices = plugin.default_prices.clone();
        let started = cpu_time();
        for _ in 0..rounds {
            let mut first = plugin.instantiate("b").await.expect("instance");
            first.inspect(&head, body).await.expect("inspect");
            first.prepare(&head, body, "cred").await.expect("prepare");
            drop(first);
            let mut second = plugin.instantiate("b").await.expect("instance");
            let usage = second
                .body_usage(answer)
                .await
                .expect("usage")
                .expect("some");
            second
                .cost("gpt-4o-mini", usage, &prices)
                .await
                .expect("cost");
        }
        println!("JSON request (two instances): {:.1} µs", per(started));
        let started = cpu_time();
        for _ in 0..rounds {
            let mut one = plugin.instantiate("b").await.expect("instance");
            one.inspect(&head, body).await.expect("inspect");
            one.prepare(&head, body, "cred").await.expect("prepare");
            let usage = one.body_usage(answer).await.expect("usage").expect("some");
            one.cost("gpt-4o-mini", usage, &prices).await.expect("cost");
        }
        println!("JSON request (one instance): {:.1} µs", per(started));
        let stream = mock_stream(24);
        let started = cpu_time();
        for _ in 0..rounds {
            let mut one = plugin.instantiate("b").await.expect("instance");
            let fed = one.feed_state(&[], &stream).await.expect("feed");
            let usage = one.finish_state(&fed.state).await.expect("finish");
            assert_eq!(usage.map(|u| u.output_tokens), Some(20));
        }
        println!(
            "24-event stream, one batch, on its own instance: {:.1} µs",
            per(started)
        );
        let long = mock_stream(1000);
        let started = cpu_time();
        for _ in 0..rounds / 20 {
            let mut one = plugin.instantiate("b").await.expect("instance");
            let fed = one.feed_state(&[], &long).await.expect("feed");
            one.finish_state(&fed.state).await.expect("finish");
        }
        println!(
            "per event of a 1000-event stream: {:.2} µs",
            per(started) * 20.0 / 1000.0
        );
    }
}
