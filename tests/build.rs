//! Compiles the test plugins (`plugins/testing/misbehave`, and
//! `plugins/testing/openai-next`: a second version of the OpenAI plugin) to
//! components and tells the test code where they are (`MISBEHAVE_WASM`,
//! `OPENAI_NEXT_WASM`).

use std::error::Error;
use std::path::PathBuf;

include!("../host/wasm_plugins.rs");

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = dir.parent().ok_or("tests crate has no parent")?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for watched in [
        "wit",
        "sdk",
        "plugins/testing/misbehave",
        "plugins/testing/openai-next",
        "plugins/openai",
        "host/wasm_plugins.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let built = build_plugins(root, &out_dir, &["misbehave", "openai-next"])?;
    let wasm = built.join("plugin_misbehave.wasm");
    println!("cargo:rustc-env=MISBEHAVE_WASM={}", wasm.display());
    let next = built.join("plugin_openai_next.wasm");
    println!("cargo:rustc-env=OPENAI_NEXT_WASM={}", next.display());
    Ok(())
}
