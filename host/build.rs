//! Compiles the built-in provider plugins (`plugins/*`) to WebAssembly
//! components and places them in `OUT_DIR` for `include_bytes!`, so that
//! `cargo run` alone yields a gateway with its plugins.

use std::error::Error;
use std::path::PathBuf;

include!("wasm_plugins.rs");

const BUILTIN: &[&str] = &["openai", "anthropic", "gemini"];

fn main() -> Result<(), Box<dyn Error>> {
    let host_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = host_dir
        .parent()
        .ok_or("host crate has no parent directory")?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for watched in [
        "wit",
        "sdk",
        "plugins/openai",
        "plugins/anthropic",
        "plugins/gemini",
        "Cargo.toml",
        "Cargo.lock",
        "host/wasm_plugins.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let built = build_plugins(root, &out_dir, BUILTIN)?;
    for name in BUILTIN {
        let file = format!("plugin_{name}.wasm");
        std::fs::copy(built.join(&file), out_dir.join(&file))
            .map_err(|e| format!("copying {file}: {e}"))?;
    }
    Ok(())
}
