//! Compiles the built-in provider plugins (`plugins/*`) to WebAssembly
//! components and places them in `OUT_DIR` for `include_bytes!`, so that
//! `cargo run` alone yields a gateway with its plugins.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

const BUILTIN: &[&str] = &["openai", "anthropic", "gemini"];
const WASM_TARGET: &str = "wasm32-wasip2";
const WASM_PROFILE: &str = "wasm-plugin";

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
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = wasm_target_dir(&out_dir);
    build_plugins(root, &target_dir, BUILTIN)?;
    for name in BUILTIN {
        let file = format!("plugin_{name}.wasm");
        let built = target_dir.join(WASM_TARGET).join(WASM_PROFILE).join(&file);
        std::fs::copy(&built, out_dir.join(&file))
            .map_err(|e| format!("copying {}: {e}", built.display()))?;
    }
    Ok(())
}

/// `<target>/wasm-plugins`, beside the host's own build output, so the
/// nested cargo never waits on the outer build's lock.
fn wasm_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out
    out_dir
        .ancestors()
        .nth(4)
        .map_or_else(|| out_dir.join("wasm-plugins"), |t| t.join("wasm-plugins"))
}

fn build_plugins(root: &Path, target_dir: &Path, names: &[&str]) -> Result<(), Box<dyn Error>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--locked",
            "--target",
            WASM_TARGET,
            "--profile",
            WASM_PROFILE,
            "--target-dir",
        ])
        .arg(target_dir);
    for name in names {
        cmd.args(["-p", &format!("plugin-{name}")]);
    }
    // The outer build's settings are for the host, not for wasm guests.
    for (key, _) in std::env::vars() {
        let keep = key == "CARGO_HOME" || key == "CARGO_MAKEFLAGS" || key == "CARGO_NET_OFFLINE";
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
                    | "RUSTC_WORKSPACE_WRAPPER"
            )
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .map_err(|e| format!("running cargo for the plugins: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the built-in plugins for {WASM_TARGET} failed (is the target installed? `rustup target add {WASM_TARGET}`)"
        )
        .into());
    }
    Ok(())
}
