//! Picking the upstream key for a request from the client key's pool.
//!
//! Candidates are the pool's keys that exist, belong to the client's
//! provider, are enabled and have a usable secret; among them the pool is
//! served round robin.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::catalog::{Catalog, ClientKey, ProviderKey};

/// Why no key could be picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoKey {
    #[error("no upstream keys are configured for this client key")]
    NoneConfigured,
    #[error("all upstream keys of this client key are disabled")]
    AllDisabled,
}

impl NoKey {
    pub fn reason(self) -> &'static str {
        match self {
            NoKey::NoneConfigured => "none configured",
            NoKey::AllDisabled => "all disabled",
        }
    }
}

/// The next key for `client`, round robin over the usable ones.
pub fn pick(client: &ClientKey, catalog: &Catalog) -> Result<Arc<ProviderKey>, NoKey> {
    let configured: Vec<&Arc<ProviderKey>> = client
        .pool
        .iter()
        .filter_map(|id| catalog.provider_keys.get(id))
        .filter(|k| k.provider_id == client.provider_id)
        .collect();
    if configured.is_empty() {
        return Err(NoKey::NoneConfigured);
    }
    let usable: Vec<&Arc<ProviderKey>> = configured
        .into_iter()
        .filter(|k| k.enabled && k.secret.is_some())
        .collect();
    if usable.is_empty() {
        return Err(NoKey::AllDisabled);
    }
    let turn = client.next.fetch_add(1, Ordering::Relaxed);
    Ok(usable[turn % usable.len()].clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use std::sync::atomic::AtomicUsize;

    fn key(id: i32, enabled: bool) -> Arc<ProviderKey> {
        Arc::new(ProviderKey {
            id,
            provider_id: 1,
            name: format!("k{id}"),
            secret: Some(Secret::new("s")),
            enabled,
            weight: 1,
        })
    }

    fn client(pool: Vec<i32>) -> ClientKey {
        ClientKey {
            id: 1,
            name: "c".into(),
            provider_id: 1,
            pool,
            enabled: true,
            expires_at: None,
            allowed_models: vec![],
            next: AtomicUsize::new(0),
        }
    }

    #[test]
    fn round_robin_skips_disabled_keys() {
        let mut catalog = Catalog::default();
        for (id, enabled) in [(1, true), (2, false), (3, true)] {
            catalog.provider_keys.insert(id, key(id, enabled));
        }
        let c = client(vec![1, 2, 3]);
        let picks: Vec<i32> = (0..4)
            .filter_map(|_| pick(&c, &catalog).ok())
            .map(|k| k.id)
            .collect();
        assert_eq!(picks, [1, 3, 1, 3]);
    }

    #[test]
    fn empty_and_all_disabled_pools_say_why() {
        let mut catalog = Catalog::default();
        assert_eq!(
            pick(&client(vec![]), &catalog).err(),
            Some(NoKey::NoneConfigured)
        );
        catalog.provider_keys.insert(1, key(1, false));
        assert_eq!(
            pick(&client(vec![1]), &catalog).err(),
            Some(NoKey::AllDisabled)
        );
    }
}
