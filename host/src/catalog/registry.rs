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
        PluginRegistry {
            engine,
            by_sha256: Mutex::new(HashMap::new()),
        }
    }

    /// The compiled plugin with this digest, if compiled already.
    pub fn get(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        self.by_sha256.lock().ok()?.get(sha256).cloned()
    }

    /// Compiles and loads `bytes`; an already compiled digest is reused.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<LoadedPlugin>, LoadError> {
        let loaded = LoadedPlugin::load(&self.engine, bytes).await?;
        if let Some(existing) = self.get(&loaded.sha256) {
            return Ok(existing);
        }
        if let Ok(mut map) = self.by_sha256.lock() {
            map.insert(loaded.sha256.clone(), loaded.clone());
        }
        Ok(loaded)
    }
}
