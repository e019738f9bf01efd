//! Compiles the misbehaving test plugin (`plugins/testing/misbehave`) to a
//! component and tells the test code where it is (`MISBEHAVE_WASM`).

use std::error::Error;
use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = dir.parent().ok_or("tests crate has no parent")?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for watched in ["wit", "sdk", "plugins/testing/misbehave"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out; build beside the host's plugins.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map_or_else(|| out_dir.join("wasm"), |t| t.join("wasm-plugins"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "wasm-plugin",
            "-p",
            "plugin-misbehave",
            "--target-dir",
        ])
        .arg(&target_dir);
    for (key, _) in std::env::vars() {
        let keep = key == "CARGO_HOME" || key == "CARGO_MAKEFLAGS";
        if (key.starts_with("CARGO_") && !keep)
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "DEBUG"
                    | "NUM_JOBS"
            )
        {
            cmd.env_remove(key);
        }
    }
    if !cmd.status()?.success() {
        return Err("building plugin-misbehave for wasm32-wasip2 failed".into());
    }
    let wasm = target_dir.join("wasm32-wasip2/wasm-plugin/plugin_misbehave.wasm");
    println!("cargo:rustc-env=MISBEHAVE_WASM={}", wasm.display());
    Ok(())
}
