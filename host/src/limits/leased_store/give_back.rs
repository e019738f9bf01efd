//! The periodic sync of a [`LeasedStore`]: pushes what is owed and gives
//! back leases that expired unused (all of them at shutdown), so idle
//! quota returns to the other instances.

use chrono::Utc;
use std::time::Instant;

use super::{Entry, LeasedStore};
use crate::limits::counter::StoreError;
use crate::limits::redis_store::LeaseCall;

impl LeasedStore {
    /// One sync; when it asks Redis nothing, the outcome of the last call
    /// made for a request or a renewal stands for it (`None`: no call).
    pub(super) async fn give_back(&self, all: bool) -> Option<Result<(), StoreError>> {
        let (debts, returns) = self.collect(all);
        if debts.is_empty() && returns.is_empty() {
            return self.last_call.lock().ok().and_then(|mut slot| slot.take());
        }
        // Usage goes by plain additions, so it is recorded even where
        // scripts cannot run.
        let pushed = if debts.is_empty() {
            Ok(())
        } else {
            self.redis.add_keys(&debts).await
        };
        let given = match &pushed {
            Ok(()) => self.redis.lease(&returns).await.map(|_| ()),
            Err(e) => Err(e.clone()),
        };
        match (&pushed, &given) {
            (Ok(()), Ok(())) => {}
            (Ok(()), Err(_)) => self.restore(&[], &returns),
            (Err(_), _) => self.restore(&debts, &returns),
        }
        Some(given)
    }

    /// Takes what is owed and the rooms to give back (all of them with
    /// `all`, else those expired); forgets counters with nothing held.
    fn collect(&self, all: bool) -> (Vec<(String, i64, u64)>, Vec<LeaseCall>) {
        let (instant, second) = (Instant::now(), Utc::now().timestamp());
        let (mut debts, mut returns) = (Vec::new(), Vec::new());
        self.with_leases(|map| {
            map.retain(|key, entry| {
                if entry.lease.renewing {
                    return true;
                }
                let lease = &mut entry.lease;
                if lease.owed > 0 {
                    debts.push((key.clone(), std::mem::take(&mut lease.owed), entry.ttl));
                }
                if entry.window_end <= second {
                    // The window is over: its counter is gone with it.
                    lease.room = 0;
                } else if lease.room > 0 && (all || lease.usable(instant) == 0) {
                    returns.push(LeaseCall {
                        key: key.clone(),
                        add: -std::mem::take(&mut lease.room),
                        need: 0,
                        want: 0,
                        limit: None,
                        ttl: entry.ttl,
                    });
                }
                lease.room != 0 || lease.owed != 0
            });
        });
        (debts, returns)
    }

    /// Puts back what a failed sync took out.
    fn restore(&self, debts: &[(String, i64, u64)], returns: &[LeaseCall]) {
        let now = Utc::now();
        self.with_leases(|map| {
            for (key, owed, ttl) in debts {
                let entry = map
                    .entry(key.clone())
                    .or_insert_with(|| Entry::new(*ttl, now));
                entry.lease.owed = entry.lease.owed.saturating_add(*owed);
            }
            for call in returns {
                let entry = map
                    .entry(call.key.clone())
                    .or_insert_with(|| Entry::new(call.ttl, now));
                entry.lease.room = entry.lease.room.saturating_sub(call.add);
            }
        });
    }
}
