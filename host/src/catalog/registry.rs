//! Compiled plugins by content digest, so a catalog reload never compiles
//! a component twice, and (through the precompiled-artifact cache) a
//! restart does not either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::plugins::{LoadError, LoadedPlugin, PluginCache, PluginEngine, check_bytes};

/// The compiled plugins of this process.
pub struct PluginRegistry {
    engine: Arc<PluginEngine>,
    by_sha256: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    /// Where precompiled artifacts are kept; `None`: compile every time.
    cache: Option<PluginCache>,
    max_bytes: usize,
}

impl PluginRegistry {
    pub fn new(
        engine: Arc<PluginEngine>,
        cache: Option<PluginCache>,
        max_bytes: usize,
    ) -> PluginRegistry {
        PluginRegistry {
            engine,
            by_sha256: Mutex::new(HashMap::new()),
            cache,
            max_bytes,
        }
    }

    /// Largest component accepted.
    /// The engine every plugin runs on.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The compiled plugin with this digest, if compiled already.
    pub fn get(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        self.by_sha256.lock().ok()?.get(sha256).cloned()
    }

    /// Every plugin compiled so far.
    pub fn all(&self) -> Vec<Arc<LoadedPlugin>> {
        self.by_sha256
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Validates, compiles and loads `bytes`; an already compiled digest is
    /// reused.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<LoadedPlugin>, LoadError> {
        check_bytes(&bytes, self.max_bytes)?;
        if let Some(existing) = self.get(&hex::encode(Sha256::digest(&bytes))) {
            return Ok(existing);
        }
        let loaded = match &self.cache {
            Some(cache) => LoadedPlugin::load_cached(&self.engine, bytes, cache).await?,
            None => LoadedPlugin::load(&self.engine, bytes).await?,
        };
        let mut map = match self.by_sha256.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        Ok(map.entry(loaded.sha256.clone()).or_insert(loaded).clone())
    }
}
