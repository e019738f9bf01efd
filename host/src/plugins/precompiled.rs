//! Precompiled plugin artifacts on local disk, so a restart (or a catalog
//! reload) loads a plugin in milliseconds instead of compiling it again.
//!
//! Files are named by the component's SHA-256 and written only by this
//! process, under the data directory. Wasmtime refuses an artifact built
//! by another wasmtime version or engine configuration; any refusal just
//! means compiling again and replacing the file.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

fn artifact(dir: &Path, sha256: &str) -> std::path::PathBuf {
    dir.join(format!("{sha256}.cwasm"))
}

/// The precompiled component with this digest, if a usable one is cached.
///
/// The file is read into memory rather than mapped: a mapped file that
/// someone truncates underneath would crash the process (SIGBUS).
#[allow(unsafe_code)]
pub fn load(engine: &Engine, dir: &Path, sha256: &str) -> Option<Component> {
    let path = artifact(dir, sha256);
    let bytes = std::fs::read(&path).ok()?;
    // SAFETY: `deserialize` runs native code from these bytes, so they must
    // come from a trusted source: this process wrote them (`store` below),
    // in the gateway's own data directory, under a name that is the digest
    // of the component they were compiled from. Wasmtime checks that the
    // artifact matches this engine's version and configuration.
    match unsafe { Component::deserialize(engine, &bytes) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::info!(path = %path.display(), error = %e, "precompiled plugin not usable; compiling again");
            None
        }
    }
}

/// Saves a compiled component (best effort: a failure only costs a
/// compile at the next start).
pub fn store(dir: &Path, sha256: &str, component: &Component) {
    let result = component
        .serialize()
        .map_err(std::io::Error::other)
        .and_then(|bytes| {
            std::fs::create_dir_all(dir)?;
            let path = artifact(dir, sha256);
            let partial = path.with_extension("partial");
            std::fs::write(&partial, bytes)?;
            std::fs::rename(&partial, &path)
        });
    if let Err(e) = result {
        tracing::warn!(dir = %dir.display(), error = %e, "could not cache a precompiled plugin");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};

    async fn wait_for(path: &std::path::Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !path.is_file() {
            assert!(
                Instant::now() < deadline,
                "{} never written",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_second_load_uses_the_artifact_and_a_bad_one_is_replaced() {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 4,
        })
        .expect("engine");
        let dir = std::env::temp_dir().join(format!("aip-precompiled-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (_, bytes) = BUILTIN_PLUGINS[0];
        let first = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &dir)
            .await
            .expect("load");
        let artifact = dir.join(format!("{}.cwasm", first.sha256));
        wait_for(&artifact).await;
        let written = std::fs::metadata(&artifact)
            .and_then(|m| m.modified())
            .expect("mtime");

        // A cache hit loads without compiling, so nothing is written again.
        let again = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &dir)
            .await
            .expect("load from the artifact");
        assert_eq!(again.name, first.name);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = std::fs::metadata(&artifact)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(written, after, "the artifact was used, not rewritten");

        // A damaged artifact is refused by wasmtime, compiled anew and replaced.
        std::fs::write(&artifact, b"garbage").expect("damage");
        let rebuilt = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &dir)
            .await
            .expect("load despite a bad artifact");
        assert_eq!(rebuilt.name, first.name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read(&artifact)
            .map(|b| b == b"garbage")
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "artifact not replaced");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
