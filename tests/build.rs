//! Compiles the misbehaving test plugin (`plugins/testing/misbehave`) to a
//! component and tells the test code where it is (`MISBEHAVE_WASM`).

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
        "host/wasm_plugins.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let built = build_plugins(root, &out_dir, &["misbehave"])?;
    let wasm = built.join("plugin_misbehave.wasm");
    println!("cargo:rustc-env=MISBEHAVE_WASM={}", wasm.display());
    Ok(())
}
