// Shared by `host/build.rs` and `tests/build.rs` through `include!`:
// compiling workspace plugin crates to WebAssembly components with a
// nested cargo.

const WASM_TARGET: &str = "wasm32-wasip2";
const WASM_PROFILE: &str = "wasm-plugin";

/// `<target>/wasm-plugins`, beside the host's own build output, so the
/// nested cargo never waits on the outer build's lock.
fn wasm_target_dir(out_dir: &std::path::Path) -> std::path::PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out
    out_dir
        .ancestors()
        .nth(4)
        .map_or_else(|| out_dir.join("wasm-plugins"), |t| t.join("wasm-plugins"))
}

/// Builds the crates `plugin-<name>` for each of `names` and returns the
/// directory their `.wasm` files are in.
fn build_plugins(
    root: &std::path::Path,
    out_dir: &std::path::Path,
    names: &[&str],
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let target_dir = wasm_target_dir(out_dir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
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
        .arg(&target_dir);
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
            "building {names:?} for {WASM_TARGET} failed (is the target installed? `rustup target add {WASM_TARGET}`)"
        )
        .into());
    }
    Ok(target_dir.join(WASM_TARGET).join(WASM_PROFILE))
}
