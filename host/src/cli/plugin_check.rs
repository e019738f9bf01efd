//! `ai-proxy plugin check FILE.wasm [--samples DIR]`: the upload checks,
//! offline, then the plugin exercised against sample exchanges, printing
//! what it extracted (model, stream flag, where the credential went,
//! usage, cost, error class, the end of a cut stream, the health probe)
//! and comparing it with each sample's `expect` block, so authors test
//! without a running gateway.
//!
//! Exit status: 0 when the component would be accepted and every sample
//! met its expectations; 1 when it would be refused, or a sample found a
//! difference or a plugin failure; 2 when the check could not run (a file
//! missing, a samples folder that does not load).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::answer::answer_side;
use super::builtin_samples::{self, ERRORS};
use super::exercise::{CHECK_REQUEST_ID, Observed, header_list, prepared, request_side};
use crate::conformance::samples::{self, Sample};
use crate::plugins::error_class_name;
use crate::plugins::types::{CredentialStyle, ErrorClass, Header, RequestHead};
use crate::plugins::{
    DEFAULT_MAX_PLUGIN_BYTES, LoadedPlugin, PluginEngine, PluginLimits, check_bytes,
};

/// Instances the check may hold at once (it runs one at a time).
const CHECK_INSTANCES: u32 = 16;

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
    let loaded = match samples_dir {
        Some(dir) => samples::from_dir(dir),
        None => builtin_samples::samples(),
    };
    let samples = match loaded {
        Ok(s) => s,
        Err(e) => {
            eprintln!("samples: {e}");
            return 2;
        }
    };
    let engine = match PluginEngine::new(PluginLimits {
        call_timeout: crate::config::DEFAULT_PLUGIN_CALL_TIMEOUT,
        memory_bytes: crate::config::DEFAULT_PLUGIN_MEMORY_BYTES,
        instances: CHECK_INSTANCES,
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
    probe(&plugin).await;
    let mut problems = Vec::new();
    for sample in &samples {
        problems.extend(exercise(&plugin, sample).await);
    }
    if samples_dir.is_none() {
        classify_errors(&plugin).await;
    }
    report(&plugin, samples.len(), &problems)
}

fn report(plugin: &LoadedPlugin, samples: usize, problems: &[String]) -> u8 {
    println!("\nOK: {} {} would be accepted", plugin.name, plugin.version);
    if problems.is_empty() {
        println!("all {samples} samples ran without a difference");
        return 0;
    }
    println!("\nFAILED: {} problem(s) in the samples:", problems.len());
    for problem in problems {
        println!("  {problem}");
    }
    1
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

/// Sends the health probe through `prepare`, as the health checker does.
async fn probe(plugin: &Arc<LoadedPlugin>) {
    let Some(p) = &plugin.info.health_probe else {
        return;
    };
    let head = RequestHead {
        method: p.method.clone(),
        path: p.path.clone(),
        headers: p.headers.clone(),
    };
    let Ok(mut instance) = plugin.instantiate(CHECK_REQUEST_ID).await else {
        return println!("  probe prepared  FAILED: cannot instantiate");
    };
    if let Some((path, credential)) =
        prepared(plugin, &mut instance, &head, Bytes::from(p.body.clone())).await
    {
        println!(
            "  probe prepared  {} {path}, credential in {credential}",
            p.method
        );
    }
}

/// Runs one sample; the problems it found, each naming the sample.
async fn exercise(plugin: &Arc<LoadedPlugin>, sample: &Sample) -> Vec<String> {
    println!("\nsample: {}", sample.name);
    let mut problems = Vec::new();
    let mut observed = Observed::new();
    match plugin.instantiate(CHECK_REQUEST_ID).await {
        Ok(mut instance) => {
            let facts = request_side(plugin, &mut instance, sample, &mut observed).await;
            if let (Some(facts), Some(response)) = (facts, &sample.response) {
                answer_side(
                    plugin,
                    &mut instance,
                    &facts,
                    response,
                    &mut observed,
                    &mut problems,
                )
                .await;
            }
        }
        Err(e) => problems.push(format!("instantiate failed: {e}")),
    }
    for problem in &problems {
        println!("  PROBLEM         {problem}");
    }
    if let Some(expect) = &sample.expect {
        let differences = expect.differences(&observed);
        for difference in &differences {
            println!("  DIFFERS         {difference}");
        }
        if differences.is_empty() {
            println!("  expect          met");
        }
        problems.extend(differences);
    }
    problems
        .into_iter()
        .map(|p| format!("{}: {p}", sample.name))
        .collect()
}

async fn classify_errors(plugin: &Arc<LoadedPlugin>) {
    println!("\nerror answers:");
    for (status, header, body) in ERRORS {
        let headers: Vec<Header> = header
            .split_once(": ")
            .map(|(n, v)| header_list(&[(n.to_owned(), v.to_owned())]))
            .unwrap_or_default();
        let result = match plugin.instantiate(CHECK_REQUEST_ID).await {
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
