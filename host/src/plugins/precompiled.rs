//! Precompiled plugin artifacts on local disk, so a restart (or a catalog
//! reload) loads a plugin in milliseconds instead of compiling it again.
//!
//! An artifact is native code: loading one runs whatever it contains. So
//! each file is written only by this process, under the data directory,
//! named by the component's SHA-256, and starts with an HMAC-SHA-256 tag
//! over that name and the artifact, keyed by a key derived from the master
//! key. A file whose tag does not verify (tampered, truncated, written
//! under another master key, or by an older gateway without tags) is
//! discarded with a warning and the component compiled again. Wasmtime
//! also refuses an artifact built by another wasmtime version or engine
//! configuration; any refusal just means compiling again and replacing
//! the file.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::private_files::{private_dir, write_private};

/// Bytes of the tag in front of every artifact.
const TAG_BYTES: usize = 32;
/// Domain separation of the artifact key from other uses of the master key.
const KEY_DOMAIN: &[u8] = b"ai-proxy precompiled plugin artifact key v1";

/// Where artifacts are kept, and the key that authenticates them.
#[derive(Clone)]
pub struct PluginCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for PluginCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCache")
            .field("dir", &self.dir)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl PluginCache {
    /// A cache in `dir` whose artifacts are authenticated under a key
    /// derived from `master_key`.
    pub fn new(dir: PathBuf, master_key: &[u8; 32]) -> PluginCache {
        let mut hasher = Sha256::new();
        hasher.update(KEY_DOMAIN);
        hasher.update(master_key);
        PluginCache {
            dir,
            key: hasher.finalize().into(),
        }
    }

    fn artifact(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    /// The tag of `artifact` stored under the name `sha256`.
    /// (HMAC takes a key of any length, so this is never `None`.)
    fn tag(&self, sha256: &str, artifact: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(sha256.as_bytes());
        mac.update(&[0]);
        mac.update(artifact);
        Some(mac)
    }

    /// The artifact in `file` if its tag verifies for the name `sha256`.
    fn open<'a>(&self, sha256: &str, file: &'a [u8]) -> Option<&'a [u8]> {
        let (tag, artifact) = file.split_at_checked(TAG_BYTES)?;
        // `verify_slice` compares in constant time.
        self.tag(sha256, artifact)?.verify_slice(tag).ok()?;
        Some(artifact)
    }

    /// `artifact` with its tag in front, as written to disk.
    fn seal(&self, sha256: &str, artifact: &[u8]) -> std::io::Result<Vec<u8>> {
        let tag = self
            .tag(sha256, artifact)
            .ok_or_else(|| std::io::Error::other("artifact key refused"))?
            .finalize()
            .into_bytes();
        let mut file = Vec::with_capacity(TAG_BYTES + artifact.len());
        file.extend_from_slice(&tag);
        file.extend_from_slice(artifact);
        Ok(file)
    }

    /// The precompiled component with this digest, if a usable one is
    /// cached.
    ///
    /// The file is read into memory rather than mapped: a mapped file that
    /// someone truncates underneath would crash the process (SIGBUS).
    #[allow(unsafe_code)]
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.artifact(sha256);
        let file = std::fs::read(&path).ok()?;
        let Some(artifact) = self.open(sha256, &file) else {
            tracing::warn!(path = %path.display(), "precompiled plugin fails its integrity check (tampered, damaged or from another master key); discarding it and compiling again");
            let _ = std::fs::remove_file(&path);
            return None;
        };
        // SAFETY: `deserialize` runs native code from these bytes, so they
        // must come from a trusted source: their tag proves this gateway
        // (holding the master key) wrote them for the component with this
        // digest. Wasmtime checks that the artifact matches this engine's
        // version and configuration.
        match unsafe { Component::deserialize(engine, artifact) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::info!(path = %path.display(), error = %e, "precompiled plugin not usable; compiling again");
                None
            }
        }
    }

    /// Saves a compiled component (best effort: a failure only costs a
    /// compile at the next start).
    pub fn store(&self, sha256: &str, component: &Component) {
        let result = component
            .serialize()
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                private_dir(&self.dir)?;
                let path = self.artifact(sha256);
                let partial = path.with_extension("partial");
                write_private(&partial, &self.seal(sha256, &bytes)?)?;
                std::fs::rename(&partial, &path)
            });
        if let Err(e) = result {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not cache a precompiled plugin");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::super::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};
    use super::*;

    const MASTER_KEY: [u8; 32] = [7; 32];

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

    /// An engine, a fresh cache directory, and the first built-in plugin
    /// loaded once so its artifact is on disk; returns the artifact's path.
    async fn cached_plugin(name: &str) -> (Arc<PluginEngine>, PluginCache, String, PathBuf) {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 4,
        })
        .expect("engine");
        let dir = std::env::temp_dir().join(format!("aip-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = PluginCache::new(dir, &MASTER_KEY);
        let (_, bytes) = BUILTIN_PLUGINS[0];
        let first = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &cache)
            .await
            .expect("load");
        let artifact = cache.artifact(&first.sha256);
        wait_for(&artifact).await;
        (engine, cache, first.sha256.clone(), artifact)
    }

    #[tokio::test]
    async fn a_second_load_uses_the_artifact_and_a_bad_one_is_replaced() {
        let (engine, cache, _, artifact) = cached_plugin("precompiled").await;
        let (_, bytes) = BUILTIN_PLUGINS[0];
        let written = std::fs::metadata(&artifact)
            .and_then(|m| m.modified())
            .expect("mtime");

        // A cache hit loads without compiling, so nothing is written again.
        let again = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &cache)
            .await
            .expect("load from the artifact");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = std::fs::metadata(&artifact)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(written, after, "the artifact was used, not rewritten");

        // A damaged artifact is refused, compiled anew and replaced.
        std::fs::write(&artifact, b"garbage").expect("damage");
        let rebuilt = LoadedPlugin::load_cached(&engine, bytes.to_vec(), &cache)
            .await
            .expect("load despite a bad artifact");
        assert_eq!(rebuilt.name, again.name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read(&artifact)
            .map(|b| b == b"garbage")
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "artifact not replaced");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = std::fs::remove_dir_all(&cache.dir);
    }

    #[tokio::test]
    async fn an_artifact_with_one_flipped_byte_is_discarded_and_compiled_again() {
        let (engine, cache, sha256, artifact) = cached_plugin("tampered").await;
        assert!(cache.load(&engine.engine, &sha256).is_some(), "intact");
        let intact = std::fs::read(&artifact).expect("read");

        // One byte of native code changed, well past the tag.
        let mut tampered = intact.clone();
        let at = TAG_BYTES + (tampered.len() - TAG_BYTES) / 2;
        tampered[at] ^= 0x01;
        std::fs::write(&artifact, &tampered).expect("tamper");
        assert!(cache.load(&engine.engine, &sha256).is_none());
        assert!(!artifact.exists(), "the tampered file is discarded");

        let (_, bytes) = BUILTIN_PLUGINS[0];
        LoadedPlugin::load_cached(&engine, bytes.to_vec(), &cache)
            .await
            .expect("compiled again");
        wait_for(&artifact).await;
        assert!(cache.load(&engine.engine, &sha256).is_some(), "rewritten");
        let _ = std::fs::remove_dir_all(&cache.dir);
    }

    #[tokio::test]
    async fn an_artifact_unsigned_renamed_or_from_another_master_key_is_refused() {
        let (engine, cache, sha256, artifact) = cached_plugin("foreign").await;
        let intact = std::fs::read(&artifact).expect("read");

        let other_key = PluginCache::new(cache.dir.clone(), &[8; 32]);
        assert!(other_key.load(&engine.engine, &sha256).is_none());

        // The same file under another component's name.
        let other_name = "0".repeat(64);
        std::fs::write(cache.artifact(&other_name), &intact).expect("copy");
        assert!(cache.load(&engine.engine, &other_name).is_none());

        // What a gateway without tags wrote: the bare artifact.
        std::fs::write(&artifact, &intact[TAG_BYTES..]).expect("untagged");
        assert!(cache.load(&engine.engine, &sha256).is_none());
        std::fs::write(&artifact, &intact[..TAG_BYTES - 1]).expect("short");
        assert!(cache.load(&engine.engine, &sha256).is_none());
        let _ = std::fs::remove_dir_all(&cache.dir);
    }

    #[test]
    fn plugin_cache_debug_hides_its_key() {
        let cache = PluginCache::new(PathBuf::from("/x"), &MASTER_KEY);
        let shown = format!("{cache:?}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert!(!shown.contains(&format!("{:?}", cache.key)), "{shown}");
    }
}
