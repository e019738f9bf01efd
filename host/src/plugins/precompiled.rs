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
#[allow(unsafe_code)]
pub fn load(engine: &Engine, dir: &Path, sha256: &str) -> Option<Component> {
    let path = artifact(dir, sha256);
    if !path.is_file() {
        return None;
    }
    // SAFETY: `deserialize_file` runs native code from the file, so it must
    // come from a trusted source: this process wrote it (`store` below), in
    // the gateway's own data directory, under a name that is the digest of
    // the component it was compiled from. Wasmtime checks that the artifact
    // matches this engine's version and configuration.
    match unsafe { Component::deserialize_file(engine, &path) } {
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
