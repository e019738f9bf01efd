//! `ai-proxy plugin check FILE.wasm --vectors DIR`: the upload checks,
//! then every conformance vector in DIR run as the gateway runs them at
//! upload (streams fed whole, split at every byte, one byte at a time and
//! at random cuts, through `stream-state` too), printing each vector's
//! result and every difference field by field.
//!
//! Exit status: 0 every vector met; 1 the component would be refused or a
//! vector differs; 2 the check could not run.

use std::path::Path;

use crate::conformance::samples;
use crate::conformance::{Plan, run_case};
use crate::plugins::{
    DEFAULT_MAX_PLUGIN_BYTES, LoadedPlugin, PluginEngine, PluginLimits, check_bytes,
};

/// Instances the check may hold at once (it runs one at a time).
const CHECK_INSTANCES: u32 = 16;

/// Runs the vectors; returns the process exit status.
pub fn run(file: &Path, dir: &Path) -> u8 {
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
    runtime.block_on(check(file, dir))
}

async fn check(file: &Path, dir: &Path) -> u8 {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return 2;
        }
    };
    let vectors = match samples::from_dir(dir) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("vectors: {e}");
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
    println!(
        "{} {}: {} vectors from {}",
        plugin.name,
        plugin.version,
        vectors.len(),
        dir.display()
    );
    let mut failed = 0;
    for vector in &vectors {
        let result = run_case(&plugin, vector, Plan::THOROUGH).await;
        if result.passed() {
            println!("  ok      {}", result.name);
            continue;
        }
        failed += 1;
        println!("  DIFFERS {}", result.name);
        for difference in &result.differences {
            println!("          {difference}");
        }
    }
    if failed == 0 {
        println!("all {} vectors met", vectors.len());
        0
    } else {
        println!("{failed} of {} vectors differ", vectors.len());
        1
    }
}
