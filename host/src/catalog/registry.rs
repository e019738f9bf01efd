//! Compiled plugins by content digest, so a catalog reload never compiles
//! a component twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::plugins::{LoadError, LoadedPlugin, PluginEngine};

/// The compiled plugins of this process.
pub struct PluginRegistry {
    engine: Arc<PluginEngine>,
    by_sha256: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
}

impl PluginRegistry {
    pub fn new(engine: Arc<PluginEngine>) -> PluginRegistry {
        PluginRegistry { engine, by_sha256: Mutex::new(HashMap::new()) }
    }

    /// The compiled plugin with this digest, if compiled already.
    pub fn get(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        self.by_sha256.lock().ok()?.get(sha256).cloned()
    }

    /// Compiles `bytes` (on a blocking thread) unless already compiled.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<LoadedPlugin>, LoadError> {
        let engine = self.engine.clone();
        let loaded = tokio::task::spawn_blocking(move || LoadedPlugin::load(&engine, &bytes))
            .await
            .map_err(|e| LoadError::Compile(format!("compile task failed: {e}")))??;
        if let Some(existing) = self.get(&loaded.sha256) {
            return Ok(existing);
        }
        if let Ok(mut map) = self.by_sha256.lock() {
            map.insert(loaded.sha256.clone(), loaded.clone());
        }
        Ok(loaded)
    }
}
