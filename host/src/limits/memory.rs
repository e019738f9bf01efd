//! The in-process counter store: one map under one lock, so a group of
//! charges is checked and applied atomically. Expired windows are swept
//! as the map grows.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::counter::{Charge, CounterStore, Refused, StoreError};

/// Counters kept before expired ones are swept.
const SWEEP_AT_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct MemoryStore {
    /// key → (value, expiry as a Unix second)
    counters: Mutex<HashMap<String, (i64, i64)>>,
}

impl MemoryStore {
    fn with_counters<T>(&self, f: impl FnOnce(&mut HashMap<String, (i64, i64)>) -> T) -> T {
        let mut guard = match self.counters.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

fn sweep(map: &mut HashMap<String, (i64, i64)>, now: i64) {
    if map.len() >= SWEEP_AT_ENTRIES {
        map.retain(|_, (_, expires)| *expires > now);
    }
}

fn value(map: &HashMap<String, (i64, i64)>, key: &str, now: i64) -> i64 {
    map.get(key)
        .filter(|(_, expires)| *expires > now)
        .map_or(0, |(v, _)| *v)
}

fn apply(map: &mut HashMap<String, (i64, i64)>, key: String, left: u64, amount: i64, now: i64) {
    let expires = now + i64::try_from(left).unwrap_or(i64::MAX / 4);
    let entry = map.entry(key).or_insert((0, expires));
    if entry.1 <= now {
        *entry = (0, expires);
    }
    entry.0 = entry.0.saturating_add(amount);
}

#[async_trait]
impl CounterStore for MemoryStore {
    async fn try_charge(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let ts = now.timestamp();
        let keys: Vec<(String, u64)> = charges.iter().map(|c| c.key(now)).collect();
        Ok(self.with_counters(|map| {
            sweep(map, ts);
            for (index, (charge, (key, left))) in charges.iter().zip(&keys).enumerate() {
                if !charge.fits(value(map, key, ts)) {
                    return Err(Refused {
                        index,
                        retry_after: *left,
                    });
                }
            }
            for (charge, (key, left)) in charges.iter().zip(keys) {
                if charge.amount != 0 {
                    apply(map, key, left, charge.amount, ts);
                }
            }
            Ok(())
        }))
    }

    async fn add(&self, charges: &[Charge], now: DateTime<Utc>) -> Result<(), StoreError> {
        let ts = now.timestamp();
        self.with_counters(|map| {
            for charge in charges.iter().filter(|c| c.amount != 0) {
                let (key, left) = charge.key(now);
                apply(map, key, left, charge.amount, ts);
            }
        });
        Ok(())
    }

    async fn current(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let ts = now.timestamp();
        Ok(self.with_counters(|map| {
            charges
                .iter()
                .map(|c| value(map, &c.key(now).0, ts))
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::window::Window;
    use chrono::TimeZone;

    fn charge(name: &str, amount: i64, limit: Option<i64>) -> Charge {
        Charge {
            name: name.into(),
            window: Window::Minute,
            amount,
            limit,
        }
    }

    #[tokio::test]
    async fn a_limit_admits_exactly_up_to_its_value_then_refuses_with_time_left() {
        let store = MemoryStore::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 50).unwrap();
        let rpm = [charge("ck:1:rpm", 1, Some(3))];
        for _ in 0..3 {
            assert_eq!(store.try_charge(&rpm, now).await.unwrap(), Ok(()));
        }
        assert_eq!(
            store.try_charge(&rpm, now).await.unwrap(),
            Err(Refused {
                index: 0,
                retry_after: 10
            })
        );
        let next_minute = now + chrono::Duration::seconds(10);
        assert_eq!(store.try_charge(&rpm, next_minute).await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn a_refused_group_applies_nothing() {
        let store = MemoryStore::default();
        let now = Utc::now();
        let group = [charge("a", 1, Some(10)), charge("b", 1, Some(0))];
        assert_eq!(
            store
                .try_charge(&group, now)
                .await
                .unwrap()
                .unwrap_err()
                .index,
            1
        );
        assert_eq!(store.current(&group, now).await.unwrap(), [0, 0]);
    }

    #[tokio::test]
    async fn a_zero_charge_checks_that_usage_is_below_the_limit() {
        let store = MemoryStore::default();
        let now = Utc::now();
        let tokens = [charge("ck:1:tpd", 0, Some(100))];
        store
            .add(&[charge("ck:1:tpd", 99, None)], now)
            .await
            .unwrap();
        assert!(store.try_charge(&tokens, now).await.unwrap().is_ok());
        store
            .add(&[charge("ck:1:tpd", 1, None)], now)
            .await
            .unwrap();
        assert!(store.try_charge(&tokens, now).await.unwrap().is_err());
    }

    #[tokio::test]
    async fn concurrent_charges_never_overshoot() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let now = Utc::now();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .try_charge(&[charge("ck:1:rpm", 1, Some(20))], now)
                        .await
                        .unwrap()
                        .is_ok()
                })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            admitted += usize::from(t.await.unwrap());
        }
        assert_eq!(admitted, 20);
    }
}
