//! Compiles the test-only plugins to components and tells the test code
//! where they are: the misbehaving plugin (`plugins/testing/misbehave`,
//! `MISBEHAVE_WASM`), a second version of the OpenAI plugin
//! (`plugins/testing/openai-next`, `OPENAI_NEXT_WASM`), a version of it that
//! miscounts (`plugins/testing/openai-miscount`, `OPENAI_MISCOUNT_WASM`) and the Azure OpenAI
//! plugin (`plugins/azure-openai`, `AZURE_OPENAI_WASM`), which is not built
//! into the gateway: tests load it as an operator would; and the Anthropic
//! plugin with a cache-read bug (`plugins/testing/anthropic-nocache`,
//! `ANTHROPIC_NOCACHE_WASM`), which conformance must refuse.

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
        "plugins/testing/openai-miscount",
        "plugins/testing/anthropic-nocache",
        "plugins/openai",
        "plugins/anthropic",
        "plugins/azure-openai",
        "host/wasm_plugins.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let built = build_plugins(
        root,
        &out_dir,
        &[
            "misbehave",
            "openai-next",
            "openai-miscount",
            "azure-openai",
            "anthropic-nocache",
        ],
    )?;
    for (var, file) in [
        ("MISBEHAVE_WASM", "plugin_misbehave.wasm"),
        ("OPENAI_NEXT_WASM", "plugin_openai_next.wasm"),
        ("OPENAI_MISCOUNT_WASM", "plugin_openai_miscount.wasm"),
        ("AZURE_OPENAI_WASM", "plugin_azure_openai.wasm"),
        ("ANTHROPIC_NOCACHE_WASM", "plugin_anthropic_nocache.wasm"),
    ] {
        println!("cargo:rustc-env={var}={}", built.join(file).display());
    }
    Ok(())
}
