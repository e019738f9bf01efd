//! The accounts that own client keys, as far as the proxy cares: a key
//! serves only while its owner exists and is enabled, and a key owned by a
//! `user` account pools only the upstream keys that account is granted.
//!
//! Both hold in the catalog itself, so disabling or deleting an account, or
//! taking a grant back, stops its keys with the next catalog load on every
//! instance (the admin API counts the change; see `store::config_version`).
//! Keys without an owner (made outside the admin API) are not affected.

use std::collections::HashMap;
use std::sync::Arc;

use super::UpstreamKey;
use crate::limits::ClientLimits;
use crate::store::catalog_read::Account;
use crate::store::entities::user_grants;

/// The role whose keys may pool any upstream key (`admin::auth::ROLE_ADMIN`);
/// every other role is held to its grant.
const UNRESTRICTED_ROLE: &str = "admin";

/// What an operator granted a `user` account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    /// Providers whose every upstream key the account may pool.
    pub provider_ids: Vec<i32>,
    /// Single upstream keys the account may pool.
    pub upstream_key_ids: Vec<i32>,
    /// Limits of the client keys the account creates.
    pub default_limits: ClientLimits,
}

impl Grant {
    pub fn from_row(row: &user_grants::Model) -> Grant {
        Grant {
            provider_ids: serde_json::from_str(&row.provider_ids).unwrap_or_default(),
            upstream_key_ids: serde_json::from_str(&row.upstream_key_ids).unwrap_or_default(),
            default_limits: ClientLimits {
                requests_per_second: row.default_rps_limit,
                requests_per_minute: row.default_rpm_limit,
                requests_per_day: row.default_rpd_limit,
                tokens_per_day: row.default_tokens_per_day_limit,
                cost_per_day: row.default_cost_per_day_limit_nanos,
            },
        }
    }

    /// Whether the upstream key `key_id` of provider `provider_id` is granted.
    pub fn allows_key(&self, key_id: i32, provider_id: i32) -> bool {
        self.upstream_key_ids.contains(&key_id) || self.provider_ids.contains(&provider_id)
    }
}

struct Owner {
    enabled: bool,
    /// `None` for an administrator: not held to a grant.
    grant: Option<Grant>,
}

/// Every account that may own client keys.
#[derive(Default)]
pub struct Owners {
    by_id: HashMap<i32, Owner>,
}

impl Owners {
    /// The owners among the stored `accounts`, held to their `grants`.
    pub fn from_rows(accounts: &[Account], grants: &[user_grants::Model]) -> Owners {
        let grants: HashMap<i32, Grant> = grants
            .iter()
            .map(|row| (row.user_id, Grant::from_row(row)))
            .collect();
        let mut owners = Owners::default();
        for account in accounts {
            let grant = (account.role != UNRESTRICTED_ROLE)
                .then(|| grants.get(&account.id).cloned().unwrap_or_default());
            owners.by_id.insert(
                account.id,
                Owner {
                    enabled: account.enabled,
                    grant,
                },
            );
        }
        owners
    }

    /// Whether keys of `owner` may serve: no owner, or one that exists and
    /// is enabled.
    pub fn active(&self, owner: Option<i32>) -> bool {
        owner.is_none_or(|id| self.by_id.get(&id).is_some_and(|o| o.enabled))
    }

    /// The part of `pool` that keys of `owner` may use.
    pub fn usable_pool(
        &self,
        owner: Option<i32>,
        pool: Vec<i32>,
        keys: &HashMap<i32, Arc<UpstreamKey>>,
    ) -> Vec<i32> {
        let Some(owner) = owner else { return pool };
        let Some(grant) = self.by_id.get(&owner).map(|o| o.grant.as_ref()) else {
            return Vec::new();
        };
        let Some(grant) = grant else { return pool };
        pool.into_iter()
            .filter(|id| {
                keys.get(id)
                    .is_some_and(|k| grant.allows_key(k.id, k.provider_id))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners() -> Owners {
        let mut owners = Owners::default();
        owners.by_id.insert(
            1,
            Owner {
                enabled: true,
                grant: None,
            },
        );
        owners.by_id.insert(
            2,
            Owner {
                enabled: true,
                grant: Some(Grant {
                    upstream_key_ids: vec![10],
                    provider_ids: vec![7],
                    ..Grant::default()
                }),
            },
        );
        owners.by_id.insert(
            3,
            Owner {
                enabled: false,
                grant: None,
            },
        );
        owners
    }

    fn keys() -> HashMap<i32, Arc<UpstreamKey>> {
        [(10, 1), (11, 1), (12, 7)]
            .into_iter()
            .map(|(id, provider_id)| {
                let key = UpstreamKey {
                    provider_id,
                    ..UpstreamKey::test(id)
                };
                (id, Arc::new(key))
            })
            .collect()
    }

    #[test]
    fn keys_of_a_disabled_or_deleted_owner_are_inactive() {
        let owners = owners();
        assert!(owners.active(None), "a key without an owner");
        assert!(owners.active(Some(1)) && owners.active(Some(2)));
        assert!(!owners.active(Some(3)), "disabled owner");
        assert!(!owners.active(Some(99)), "deleted owner");
    }

    #[test]
    fn a_user_pool_keeps_only_granted_keys_and_an_admin_pool_all() {
        let (owners, keys) = (owners(), keys());
        let pool = vec![10, 11, 12, 404];
        assert_eq!(owners.usable_pool(Some(1), pool.clone(), &keys), pool);
        assert_eq!(owners.usable_pool(None, pool.clone(), &keys), pool);
        assert_eq!(
            owners.usable_pool(Some(2), pool.clone(), &keys),
            vec![10, 12],
            "key 10 by id, key 12 through its provider 7"
        );
        assert!(owners.usable_pool(Some(99), pool, &keys).is_empty());
    }
}
