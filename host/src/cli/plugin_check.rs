//! `ai-proxy plugin check FILE.wasm [--samples DIR]`: the upload checks,
//! offline, then the plugin exercised against sample requests and answers,
//! printing what it extracted (model, stream flag, where the credential
//! went, usage, cost, error classes), so authors can test without a
//! running gateway. Exit status 0 when the component would be accepted.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::samples::{self, ERRORS, Sample};
use crate::catalog::UpstreamBase;
use crate::egress::request::{build_request, credential_placeholder};
use crate::plugins::types::{CredentialStyle, ErrorClass, Header, RequestHead};
use crate::plugins::{
    DEFAULT_MAX_PLUGIN_BYTES, LoadedPlugin, PluginEngine, PluginLimits, check_bytes,
};
use crate::proxy::error_class_name;
use crate::secrets::Secret;

/// A stand-in secret, to see where `prepare` puts the credential.
const SAMPLE_SECRET: &str = "sk-sample-credential";

/// Runs the check; returns the process exit status.
pub fn run(file: &Path, samples_dir: Option<&Path>) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return 2;
        }
    };
    runtime.block_on(check(file, samples_dir))
}

async fn check(file: &Path, samples_dir: Option<&Path>) -> u8 {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return 2;
        }
    };
    let samples = match samples_dir {
        Some(dir) => match samples::from_dir(dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("samples: {e}");
                return 2;
            }
        },
        None => samples::built_in(),
    };
    let engine = match PluginEngine::new(PluginLimits {
        call_timeout: crate::config::DEFAULT_PLUGIN_CALL_TIMEOUT,
        memory_bytes: crate::config::DEFAULT_PLUGIN_MEMORY_BYTES,
        instances: 16,
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start the plugin engine: {e:#}");
            return 2;
        }
    };
    println!("checking {} ({} bytes)", file.display(), bytes.len());
    if let Err(e) = check_bytes(&bytes, DEFAULT_MAX_PLUGIN_BYTES) {
        println!("REJECTED ({}): {e}", e.code());
        return 1;
    }
    let plugin = match LoadedPlugin::load(&engine, bytes).await {
        Ok(p) => p,
        Err(e) => {
            println!("REJECTED ({}): {e}", e.code());
            return 1;
        }
    };
    describe(&plugin);
    for sample in &samples {
        exercise(&plugin, sample).await;
    }
    classify_errors(&plugin).await;
    println!("\nOK: {} {} would be accepted", plugin.name, plugin.version);
    0
}

fn describe(plugin: &LoadedPlugin) {
    let info = &plugin.info;
    println!(
        "valid component: exports ai-proxy:provider/provider, imports only what the gateway provides"
    );
    println!("  name            {}", plugin.name);
    println!("  version         {}", plugin.version);
    println!("  sha256          {}", plugin.sha256);
    println!("  default base    {}", info.default_base_url);
    let credential = match &info.credential {
        CredentialStyle::Bearer => "authorization: Bearer".to_owned(),
        CredentialStyle::Header(h) => format!("header {h}"),
        CredentialStyle::Query(q) => format!("query parameter {q}"),
    };
    println!("  credential      {credential}");
    match &info.health_probe {
        Some(p) => println!("  health probe    {} {}", p.method, p.path),
        None => println!("  health probe    none"),
    }
    println!("  default prices  {} models", plugin.default_prices.len());
    println!(
        "  stream control  {}",
        if plugin.has_stream_control() {
            "yes (it may end a stream cut at a client's quota)"
        } else {
            "no (streams over a client's quota run to their end)"
        }
    );
}

async fn exercise(plugin: &Arc<LoadedPlugin>, sample: &Sample) {
    println!("\nsample: {}", sample.name);
    let mut instance = match plugin.instantiate("plugin-check").await {
        Ok(i) => i,
        Err(e) => return println!("  instantiate     FAILED: {e}"),
    };
    let head = RequestHead {
        method: sample.method.clone(),
        path: sample.path.clone(),
        headers: sample
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    };
    let body = Bytes::from(sample.body.to_string());
    let facts = match instance.inspect(&head, &body).await {
        Ok(f) => f,
        Err(e) => return println!("  inspect         refused: {e}"),
    };
    println!(
        "  model           {}",
        facts.model.as_deref().unwrap_or("(none)")
    );
    println!("  stream          {}", facts.stream);
    let placeholder = credential_placeholder();
    match instance.prepare(&head, &body, &placeholder).await {
        Ok(prepared) => {
            let base = UpstreamBase::parse("https://upstream.invalid");
            match base.map(|base| {
                build_request(
                    &plugin.name,
                    &base,
                    &head.method,
                    prepared,
                    body.clone(),
                    &placeholder,
                    &Secret::new(SAMPLE_SECRET),
                )
            }) {
                Ok(Ok((request, _))) => {
                    let placed = request
                        .headers
                        .iter()
                        .find(|(_, v)| v.to_str().is_ok_and(|v| v.contains(SAMPLE_SECRET)))
                        .map(|(n, _)| format!("header {n}"))
                        .or_else(|| {
                            request
                                .uri
                                .query()
                                .filter(|q| q.contains(SAMPLE_SECRET))
                                .map(|_| "query".to_owned())
                        })
                        .unwrap_or_else(|| "nowhere".to_owned());
                    println!("  upstream path   {}", request.uri);
                    println!("  credential in   {placed}");
                }
                Ok(Err(e)) => println!("  prepare         contract broken: {e}"),
                Err(e) => println!("  prepare         {e}"),
            }
        }
        Err(e) => return println!("  prepare         refused: {e}"),
    }
    let Some(response) = &sample.response else {
        return;
    };
    println!("  answer          {}", response.status);
    let event_stream = response
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("text/event-stream"));
    let usage = if event_stream {
        match instance.stream_parser().await {
            Ok(parser) => {
                let mut last = None;
                for chunk in response.body.as_bytes().chunks(7) {
                    if let Ok(Some(u)) = instance.feed(&parser, chunk).await {
                        last = Some(u);
                    }
                }
                instance.finish(&parser).await.map(|u| u.or(last))
            }
            Err(e) => Err(e),
        }
    } else {
        instance.body_usage(response.body.as_bytes()).await
    };
    match usage {
        Ok(Some(usage)) => {
            println!(
                "  usage           input {} (cached {}), output {} (reasoning {}), cache write {}",
                usage.input_tokens,
                usage.cached_input_tokens,
                usage.output_tokens,
                usage.reasoning_tokens,
                usage.cache_write_tokens
            );
            if let Some(model) = &facts.model {
                match instance.cost(model, usage, &plugin.default_prices).await {
                    Ok(Some(nanos)) => println!("  cost            ${:.9}", nanos as f64 / 1e9),
                    Ok(None) => println!("  cost            unknown (no price for {model})"),
                    Err(e) => println!("  cost            FAILED: {e}"),
                }
            }
        }
        Ok(None) => println!("  usage           none found"),
        Err(e) => println!("  usage           FAILED: {e}"),
    }
}

async fn classify_errors(plugin: &Arc<LoadedPlugin>) {
    println!("\nerror answers:");
    for (status, header, body) in ERRORS {
        let headers: Vec<Header> = header
            .split_once(": ")
            .map(|(n, v)| Header {
                name: n.to_owned(),
                value: v.to_owned(),
            })
            .into_iter()
            .collect();
        let result = match plugin.instantiate("plugin-check").await {
            Ok(mut instance) => instance
                .classify(status, &headers, body.as_bytes())
                .await
                .map(|class| match class {
                    ErrorClass::RateLimited(Some(seconds)) => {
                        format!("rate_limited, retry after {seconds}s")
                    }
                    other => error_class_name(&other),
                }),
            Err(e) => Err(e),
        };
        match result {
            Ok(class) => println!("  {status}             {class}"),
            Err(e) => println!("  {status}             FAILED: {e}"),
        }
    }
}
