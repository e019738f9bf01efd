//! Lease arithmetic: the share of a shared limit one instance holds, so it
//! can admit requests without asking Redis each time.
//!
//! A lease is quota already added to the shared counter on this instance's
//! behalf (`room`), so what an instance admits from it was never available
//! to another instance: admissions can never exceed a limit between
//! instances. What a lease costs is the other way round: quota one
//! instance holds and does not use is invisible to the others until it
//! comes back (when the lease expires unused, at most one lease time
//! later). Usage learnt after the fact (an answer's real tokens against
//! its reservation) is settled into the lease: a refund becomes room, and
//! usage beyond the room is owed and pushed to Redis before the lease
//! admits anything again.

use std::time::{Duration, Instant};

/// Default share of a limit leased at a time: 1 %.
pub const DEFAULT_LEASE_FRACTION: f64 = 0.01;
/// Largest share of a limit leased at a time: with more, two instances
/// could not both hold a lease.
pub const MAX_LEASE_FRACTION: f64 = 0.5;
/// Default time a lease may be used without hearing from Redis.
pub const DEFAULT_LEASE_TIME: Duration = Duration::from_millis(1000);
/// Shortest and longest lease time accepted.
pub const MIN_LEASE_TIME: Duration = Duration::from_millis(50);
pub const MAX_LEASE_TIME: Duration = Duration::from_secs(60);

/// How much of a limit an instance leases, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseConfig {
    /// Share of the limit leased ahead, in `0..=MAX_LEASE_FRACTION`; 0
    /// turns leases off (every admission asks Redis).
    pub fraction: f64,
    /// How long a lease admits without a word from Redis: an unused lease
    /// comes back after it, and a Redis outage meets the failure policy
    /// after it at the latest.
    pub time: Duration,
}

impl Default for LeaseConfig {
    fn default() -> LeaseConfig {
        LeaseConfig {
            fraction: DEFAULT_LEASE_FRACTION,
            time: DEFAULT_LEASE_TIME,
        }
    }
}

impl LeaseConfig {
    /// Whether instances lease at all.
    pub fn enabled(&self) -> bool {
        self.fraction > 0.0
    }

    /// The block leased ahead for a counter limited to `limit`: the
    /// configured share of it, at least 1 (a lease that holds nothing
    /// would send every request to Redis), 0 when leases are off.
    pub fn block(&self, limit: i64) -> i64 {
        if !self.enabled() {
            return 0;
        }
        // Exact enough: limits above 2^53 lose units, not shares.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let share = (limit.max(0) as f64 * self.fraction).floor() as i64;
        share.max(1)
    }

    /// Most a counter limited to `limit` can be held by instances and
    /// unused, summed over `instances` instances.
    pub fn held_bound(&self, limit: i64, instances: i64) -> i64 {
        self.block(limit).saturating_mul(instances)
    }
}

/// One instance's share of one counter in one window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lease {
    /// Leased and not used: already counted in Redis.
    pub room: i64,
    /// Used beyond the room, not yet added to Redis.
    pub owed: i64,
    /// Until when the room may be used; `None`: never leased.
    pub expires: Option<Instant>,
    /// Whether a call that takes a block ahead is in flight (so
    /// concurrent requests do not each take one).
    pub renewing: bool,
}

impl Lease {
    /// Room that may be used at `now`.
    pub fn usable(&self, now: Instant) -> i64 {
        match self.expires {
            Some(expires) if expires > now => self.room,
            _ => 0,
        }
    }

    /// Takes `amount` when the lease can admit a request needing `need`
    /// (a check of "not yet at the limit" needs 1 and takes 0). Nothing
    /// is admitted while usage is owed: the limit must see it first.
    pub fn take(&mut self, need: i64, amount: i64, now: Instant) -> bool {
        if self.owed > 0 || self.usable(now) < need {
            return false;
        }
        self.room -= amount;
        true
    }

    /// Settles usage learnt after the fact: `delta` above the reservation
    /// comes out of the room, then is owed; below it (a refund), pays what
    /// is owed, then becomes room.
    pub fn settle(&mut self, delta: i64) {
        if delta >= 0 {
            let from_room = delta.min(self.room.max(0));
            self.room -= from_room;
            self.owed = self.owed.saturating_add(delta - from_room);
        } else {
            let refund = delta.saturating_neg();
            let paid = refund.min(self.owed.max(0));
            self.owed -= paid;
            self.room = self.room.saturating_add(refund - paid);
        }
    }

    /// Whether a request just admitted should renew the lease in the
    /// background: it is under half a block, or past half its time.
    pub fn wants_renewal(&self, block: i64, time: Duration, now: Instant) -> bool {
        if self.renewing || block <= 0 {
            return false;
        }
        let late = self
            .expires
            .is_none_or(|expires| expires.saturating_duration_since(now) < time / 2);
        late || self.room.saturating_mul(2) < block
    }

    /// What a renewal asks for: enough to bring the room back to a block.
    pub fn top_up(&self, block: i64) -> i64 {
        (block - self.room.max(0)).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(fraction: f64) -> LeaseConfig {
        LeaseConfig {
            fraction,
            time: DEFAULT_LEASE_TIME,
        }
    }

    #[test]
    fn a_block_is_the_share_of_the_limit_and_at_least_one() {
        let c = config(0.01);
        assert_eq!(c.block(1_000_000), 10_000);
        assert_eq!(c.block(199), 1, "1.99 rounds down");
        assert_eq!(c.block(200), 2);
        assert_eq!(c.block(6), 1, "the floor");
        assert_eq!(c.block(0), 1);
        assert_eq!(c.block(-5), 1, "a negative limit leases the floor");
        assert_eq!(config(0.5).block(i64::MAX / 4), i64::MAX / 8 + 1);
        assert_eq!(config(0.0).block(1_000_000), 0, "leases off");
        assert_eq!(c.held_bound(800_000, 2), 16_000);
    }

    #[test]
    fn a_lease_admits_exactly_up_to_its_room_and_not_once_expired() {
        let now = Instant::now();
        let mut lease = Lease {
            room: 300,
            expires: Some(now + Duration::from_secs(1)),
            ..Lease::default()
        };
        assert!(!lease.take(301, 301, now), "one over the room");
        assert!(lease.take(300, 300, now), "exactly the room");
        assert_eq!(lease.room, 0);
        assert!(!lease.take(1, 0, now), "a check needs one unit of room");
        lease.room = 5;
        assert!(lease.take(1, 0, now), "a check takes nothing");
        assert_eq!(lease.room, 5);
        let later = now + Duration::from_secs(1);
        assert_eq!(lease.usable(later), 0, "expired at its deadline");
        assert!(!lease.take(1, 1, later));
        assert!(!Lease::default().take(1, 1, now), "never leased");
    }

    #[test]
    fn settling_uses_the_room_then_owes_and_refunds_pay_debts_first() {
        let now = Instant::now();
        let mut lease = Lease {
            room: 100,
            expires: Some(now + Duration::from_secs(1)),
            ..Lease::default()
        };
        lease.settle(100);
        assert_eq!((lease.room, lease.owed), (0, 0), "exactly the room");
        lease.settle(30);
        assert_eq!((lease.room, lease.owed), (0, 30));
        assert!(!lease.take(0, 0, now), "nothing admitted while owing");
        lease.settle(-20);
        assert_eq!((lease.room, lease.owed), (0, 10), "a refund pays the debt");
        lease.settle(-50);
        assert_eq!((lease.room, lease.owed), (40, 0), "then becomes room");
        lease.settle(i64::MIN + 1);
        assert_eq!(lease.room, i64::MAX, "saturates");
    }

    #[test]
    fn a_lease_renews_under_half_a_block_or_past_half_its_time() {
        let time = Duration::from_millis(1000);
        let now = Instant::now();
        let mut lease = Lease {
            room: 50,
            expires: Some(now + time),
            ..Lease::default()
        };
        assert!(!lease.wants_renewal(100, time, now), "exactly half a block");
        lease.room = 49;
        assert!(lease.wants_renewal(100, time, now));
        assert_eq!(lease.top_up(100), 51);
        lease.room = 100;
        assert!(!lease.wants_renewal(100, time, now + time / 2));
        assert!(lease.wants_renewal(100, time, now + time / 2 + Duration::from_millis(1)));
        lease.renewing = true;
        assert!(!lease.wants_renewal(100, time, now + time), "one at a time");
        assert_eq!(lease.top_up(50), 0, "never negative");
    }
}
