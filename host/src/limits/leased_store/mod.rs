//! Redis counters served from leases: each instance leases a block of
//! every limit it admits against (see `lease.rs`) and admits from it in
//! process, so a request that fits its leases costs no round trip.
//!
//! Redis is asked when a lease cannot admit a request (too little room,
//! expired, usage owed, a new window): one script call for the request's
//! whole group of counters brings each to this instance's real usage,
//! checks the limits and takes a fresh block. A lease under half a block
//! or past half its time is renewed in the background while requests go
//! on. Usage recorded after the fact is settled into the leases; a
//! periodic sync pushes what is owed and gives back leases that expired
//! unused, so idle quota returns to the other instances within one lease
//! time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::counter::{Charge, CounterStore, Refused, StoreError};
use super::lease::{Lease, LeaseConfig};
use super::redis_store::{LeaseCall, RedisStore};

mod give_back;
#[cfg(test)]
mod tests;

/// Syncs per lease time: leases expired unused come back within a
/// quarter of a lease time after expiring.
const SYNCS_PER_LEASE: u32 = 4;

/// One counter this instance touches, in one window.
struct Entry {
    lease: Lease,
    limit: Option<i64>,
    /// Seconds its window had left when first seen (the key's lifetime
    /// when this instance creates it).
    ttl: u64,
    /// Unix second its window ends: its counter is gone after it.
    window_end: i64,
}

impl Entry {
    fn new(left: u64, now: DateTime<Utc>) -> Entry {
        Entry {
            lease: Lease::default(),
            limit: None,
            ttl: left,
            window_end: now
                .timestamp()
                .saturating_add(i64::try_from(left).unwrap_or(i64::MAX / 4)),
        }
    }
}

type Leases = HashMap<String, Entry>;

/// What a call to Redis took out of the leases, to put back if it fails.
struct Moved {
    returned: i64,
    owed: i64,
    /// What the admission uses of the grant.
    amount: i64,
    /// Whether this call holds the lease's `renewing` flag.
    renewing: bool,
}

pub struct LeasedStore {
    redis: RedisStore,
    config: LeaseConfig,
    leases: Mutex<Leases>,
    /// Outcome of the last call to Redis made for a request or a
    /// renewal, reported by the next sync that does not call Redis itself
    /// (a request served from a lease says nothing of Redis's health).
    last_call: Mutex<Option<Result<(), StoreError>>>,
    me: Weak<LeasedStore>,
}

/// What a limited charge needs left under its limit.
fn need(charge: &Charge) -> i64 {
    if charge.limit.is_some() {
        charge.amount.max(1)
    } else {
        0
    }
}

impl LeasedStore {
    pub fn new(redis: RedisStore, config: LeaseConfig) -> Arc<LeasedStore> {
        Arc::new_cyclic(|me| LeasedStore {
            redis,
            config,
            leases: Mutex::default(),
            last_call: Mutex::default(),
            me: me.clone(),
        })
    }

    fn with_leases<T>(&self, f: impl FnOnce(&mut Leases) -> T) -> T {
        let mut guard = match self.leases.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    fn block(&self, limit: Option<i64>) -> i64 {
        limit.map_or(0, |limit| self.config.block(limit))
    }

    /// Admits the group from the leases when every limited counter has
    /// room; returns the counters to renew, `None` when Redis must be
    /// asked.
    fn take_locally(
        &self,
        map: &mut Leases,
        charges: &[Charge],
        keys: &[(String, u64)],
        now: DateTime<Utc>,
        instant: Instant,
    ) -> Option<Vec<String>> {
        let fits = charges.iter().zip(keys).all(|(charge, (key, _))| {
            charge.limit.is_none()
                || map
                    .get(key)
                    .is_some_and(|e| e.lease.owed <= 0 && e.lease.usable(instant) >= need(charge))
        });
        if !fits {
            return None;
        }
        let mut renew = Vec::new();
        for (charge, (key, left)) in charges.iter().zip(keys) {
            let entry = map
                .entry(key.clone())
                .or_insert_with(|| Entry::new(*left, now));
            if charge.limit.is_none() {
                entry.lease.settle(charge.amount);
                continue;
            }
            entry.limit = charge.limit;
            entry.lease.take(need(charge), charge.amount, instant);
            if entry
                .lease
                .wants_renewal(self.block(charge.limit), self.config.time, instant)
            {
                entry.lease.renewing = true;
                renew.push(key.clone());
            }
        }
        Some(renew)
    }

    /// Asks Redis for the whole group: gives back the rooms, pushes what
    /// is owed, checks the limits and takes fresh blocks.
    async fn charge_through(
        &self,
        charges: &[Charge],
        keys: &[(String, u64)],
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let (calls, moved): (Vec<LeaseCall>, Vec<Moved>) = self.with_leases(|map| {
            charges
                .iter()
                .zip(keys)
                .map(|(charge, (key, left))| {
                    let entry = map
                        .entry(key.clone())
                        .or_insert_with(|| Entry::new(*left, now));
                    entry.limit = charge.limit;
                    let returned = entry.lease.room.max(0);
                    let owed = entry.lease.owed;
                    entry.lease.room -= returned;
                    entry.lease.owed = 0;
                    let renewing = charge.limit.is_some() && !entry.lease.renewing;
                    entry.lease.renewing |= renewing;
                    let block = if renewing {
                        self.block(charge.limit)
                    } else {
                        0
                    };
                    let (add, amount) = match charge.limit {
                        Some(_) => (owed - returned, charge.amount),
                        None => (owed - returned + charge.amount, 0),
                    };
                    let call = LeaseCall {
                        key: key.clone(),
                        add,
                        need: need(charge),
                        want: need(charge).saturating_add(block),
                        limit: charge.limit,
                        ttl: *left,
                    };
                    let moved = Moved {
                        returned,
                        owed,
                        amount,
                        renewing,
                    };
                    (call, moved)
                })
                .unzip()
        });
        let result = self.redis.lease(&calls).await;
        let expires = Instant::now() + self.config.time;
        self.with_leases(|map| {
            for (i, ((call, moved), (_, left))) in calls.iter().zip(&moved).zip(keys).enumerate() {
                let entry = map
                    .entry(call.key.clone())
                    .or_insert_with(|| Entry::new(*left, now));
                if moved.renewing {
                    entry.lease.renewing = false;
                }
                match &result {
                    Ok(Ok(grants)) => {
                        let grant = grants.get(i).copied().unwrap_or(0);
                        entry.lease.room = entry.lease.room.saturating_add(grant - moved.amount);
                        entry.lease.expires = Some(expires);
                    }
                    _ => {
                        entry.lease.room = entry.lease.room.saturating_add(moved.returned);
                        entry.lease.owed = entry.lease.owed.saturating_add(moved.owed);
                    }
                }
            }
        });
        self.record(&result);
        result.map(|r| r.map(|_| ()))
    }

    fn spawn_renewal(&self, keys: Vec<String>) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { me.renew(keys).await });
        }
    }

    /// Tops leases up to a block, pushing what they owe; never refused.
    async fn renew(&self, keys: Vec<String>) {
        let calls: Vec<LeaseCall> = self.with_leases(|map| {
            keys.iter()
                .filter_map(|key| {
                    let entry = map.get_mut(key)?;
                    let owed = std::mem::take(&mut entry.lease.owed);
                    Some(LeaseCall {
                        key: key.clone(),
                        add: owed,
                        need: 0,
                        want: entry.lease.top_up(self.block(entry.limit)),
                        limit: entry.limit,
                        ttl: entry.ttl,
                    })
                })
                .collect()
        });
        let result = self.redis.lease(&calls).await;
        let expires = Instant::now() + self.config.time;
        let now = Utc::now();
        self.with_leases(|map| {
            for (i, call) in calls.iter().enumerate() {
                let entry = map
                    .entry(call.key.clone())
                    .or_insert_with(|| Entry::new(call.ttl, now));
                entry.lease.renewing = false;
                match &result {
                    Ok(Ok(grants)) => {
                        let grant = grants.get(i).copied().unwrap_or(0);
                        entry.lease.room = entry.lease.room.saturating_add(grant);
                        entry.lease.expires = Some(expires);
                    }
                    _ => entry.lease.owed = entry.lease.owed.saturating_add(call.add),
                }
            }
        });
        self.record(&result);
    }

    fn record<T>(&self, result: &Result<T, StoreError>) {
        if let Ok(mut slot) = self.last_call.lock() {
            *slot = Some(result.as_ref().map(|_| ()).map_err(Clone::clone));
        }
    }
}

#[async_trait]
impl CounterStore for LeasedStore {
    async fn try_charge(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let keys: Vec<(String, u64)> = charges
            .iter()
            .map(|c| self.redis.counter_key(c, now))
            .collect();
        let instant = Instant::now();
        match self.with_leases(|map| self.take_locally(map, charges, &keys, now, instant)) {
            Some(renew) => {
                if !renew.is_empty() {
                    self.spawn_renewal(renew);
                }
                Ok(Ok(()))
            }
            None => self.charge_through(charges, &keys, now).await,
        }
    }

    /// Settles into the leases; what is owed reaches Redis with the next
    /// sync, or before the counter admits anything again.
    async fn add(&self, charges: &[Charge], now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_leases(|map| {
            for charge in charges.iter().filter(|c| c.amount != 0) {
                let (key, left) = self.redis.counter_key(charge, now);
                map.entry(key)
                    .or_insert_with(|| Entry::new(left, now))
                    .lease
                    .settle(charge.amount);
            }
        });
        Ok(())
    }

    /// Redis's counters as this instance's real usage sees them: without
    /// its unused room, with what it owes.
    async fn current(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let values = self.redis.current(charges, now).await?;
        Ok(self.with_leases(|map| {
            charges
                .iter()
                .zip(values)
                .map(|(charge, value)| {
                    let key = self.redis.counter_key(charge, now).0;
                    map.get(&key)
                        .map_or(value, |e| value - e.lease.room + e.lease.owed)
                })
                .collect()
        }))
    }

    fn answers_locally(&self) -> bool {
        true
    }

    fn sync_period(&self) -> Option<Duration> {
        Some(self.config.time / SYNCS_PER_LEASE)
    }

    async fn sync(&self, all: bool) -> Option<Result<(), StoreError>> {
        self.give_back(all).await
    }
}
