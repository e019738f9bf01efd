//! Slowing down password guessing: after [`FREE_FAILURES`] failed logins
//! for one account name from one address, or from one address for any
//! names, within [`WINDOW`], further attempts from that address are
//! refused with 429 until a lock period passes; the lock doubles with each
//! further failure, up to [`MAX_LOCK`].
//!
//! Locks are per address, never per account name alone: whoever guesses
//! wrong locks out only themselves, so nobody can keep an account (such as
//! `admin`) locked for everyone by failing on purpose. An IPv6 address
//! counts as its /64, the block one host is usually given, so rotating
//! addresses within it gains nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before attempts are locked out.
pub const FREE_FAILURES: u32 = 5;
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Lock after the first failure beyond the free ones.
pub const FIRST_LOCK: Duration = Duration::from_secs(2);
/// Longest lock.
pub const MAX_LOCK: Duration = Duration::from_secs(5 * 60);
/// Most records kept (each well under 200 bytes: names are capped at 64);
/// beyond it the stalest unlocked record, else the lock ending first, makes
/// room, so guessing from many addresses cannot grow memory without bound.
pub const MAX_RECORDS: usize = 100_000;

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

/// Failed-login bookkeeping by (account name, client address) and by
/// client address.
pub struct LoginThrottle {
    by_key: Mutex<HashMap<String, Record>>,
    capacity: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::with_capacity(MAX_RECORDS)
    }
}

impl LoginThrottle {
    fn with_capacity(capacity: usize) -> LoginThrottle {
        LoginThrottle {
            by_key: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Drops the record that matters least: an unlocked one, the oldest
    /// first; else the lock that ends first.
    fn evict_one(map: &mut HashMap<String, Record>, now: Instant) {
        let victim = map
            .iter()
            .min_by_key(|(_, r)| match r.locked_until.filter(|u| *u > now) {
                Some(until) => (true, until),
                None => (false, r.first),
            })
            .map(|(k, _)| k.clone());
        if let Some(key) = victim {
            map.remove(&key);
        }
    }

    /// An address as throttling counts it: IPv4 (also when mapped into
    /// IPv6) as itself, IPv6 as its /64.
    fn address(ip: IpAddr) -> String {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
            IpAddr::V4(v4) => v4.to_string(),
        }
    }

    /// The name at this address; the name alone when the address is
    /// unknown (a signed-in caller changing their password).
    fn pair_key(username: &str, ip: Option<IpAddr>) -> String {
        let name = username.to_ascii_lowercase();
        match ip {
            Some(ip) => format!("user:{name}@{}", Self::address(ip)),
            None => format!("user:{name}"),
        }
    }

    fn keys(username: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![Self::pair_key(username, ip)];
        if let Some(ip) = ip {
            keys.push(format!("ip:{}", Self::address(ip)));
        }
        keys
    }

    /// `Err(wait)` while either key is locked.
    pub fn check(&self, username: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let Ok(map) = self.by_key.lock() else {
            return Ok(());
        };
        let wait = Self::keys(username, ip)
            .iter()
            .filter_map(|k| map.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Records a failed attempt.
    pub fn failed(&self, username: &str, ip: Option<IpAddr>, now: Instant) {
        let Ok(mut map) = self.by_key.lock() else {
            return;
        };
        map.retain(|_, r| {
            now.duration_since(r.first) < WINDOW || r.locked_until.is_some_and(|u| u > now)
        });
        for key in Self::keys(username, ip) {
            if !map.contains_key(&key) && map.len() >= self.capacity {
                Self::evict_one(&mut map, now);
            }
            let record = map.entry(key).or_insert(Record {
                failures: 0,
                first: now,
                locked_until: None,
            });
            record.failures += 1;
            if record.failures > FREE_FAILURES {
                let doublings = (record.failures - FREE_FAILURES - 1).min(16);
                let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
                record.locked_until = Some(now + lock);
            }
        }
    }

    /// A successful login clears the record of the name at that address
    /// (not the address's own).
    pub fn succeeded(&self, username: &str, ip: Option<IpAddr>) {
        if let Ok(mut map) = self.by_key.lock() {
            map.remove(&Self::pair_key(username, ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_after_exactly_the_free_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert!(t.check("admin", None, now).is_ok());
            t.failed("admin", None, now);
        }
        assert!(
            t.check("admin", None, now).is_ok(),
            "the free failures do not lock"
        );
        t.failed("admin", None, now);
        assert_eq!(t.check("admin", None, now), Err(FIRST_LOCK));
        assert!(t.check("admin", None, now + FIRST_LOCK).is_ok());
        t.failed("admin", None, now + FIRST_LOCK);
        assert_eq!(
            t.check("admin", None, now + FIRST_LOCK),
            Err(FIRST_LOCK * 2)
        );
    }

    #[test]
    fn one_address_guessing_many_names_is_locked_too() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.9".parse().expect("ip");
        let now = Instant::now();
        for i in 0..=FREE_FAILURES {
            t.failed(&format!("user{i}"), Some(ip), now);
        }
        assert!(t.check("someone-else", Some(ip), now).is_err());
        assert!(t.check("someone-else", None, now).is_ok());
    }

    #[test]
    fn a_name_locked_at_one_address_stays_open_at_another() {
        let t = LoginThrottle::default();
        let attacker: IpAddr = "10.0.0.66".parse().expect("ip");
        let operator: IpAddr = "10.0.0.7".parse().expect("ip");
        let now = Instant::now();
        for _ in 0..=FREE_FAILURES {
            t.failed("admin", Some(attacker), now);
        }
        assert!(t.check("admin", Some(attacker), now).is_err());
        assert!(
            t.check("ADMIN", Some(attacker), now).is_err(),
            "names fold case"
        );
        assert!(t.check("admin", Some(operator), now).is_ok());
        t.succeeded("admin", Some(operator));
        assert!(
            t.check("admin", Some(attacker), now).is_err(),
            "a success elsewhere does not unlock the attacker"
        );
    }

    #[test]
    fn ipv6_addresses_count_as_their_64() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..=FREE_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().expect("ip");
            t.failed("admin", Some(ip), now);
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let other_64: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(t.check("admin", Some(same_64), now).is_err());
        assert!(t.check("admin", Some(other_64), now).is_ok());
    }

    #[test]
    fn records_stop_at_capacity_and_locks_outlive_unlocked_records() {
        let t = LoginThrottle::with_capacity(3);
        let now = Instant::now();
        for _ in 0..=FREE_FAILURES {
            t.failed("admin", None, now);
        }
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            t.failed(name, None, now + Duration::from_millis(i as u64 + 1));
        }
        let kept = t.by_key.lock().expect("lock").len();
        assert_eq!(kept, 3, "exactly the capacity");
        assert!(t.check("admin", None, now).is_err(), "the lock is kept");
        assert!(
            !t.by_key.lock().expect("lock").contains_key("user:a"),
            "the oldest unlocked record made room"
        );
    }

    #[test]
    fn lock_never_exceeds_the_maximum() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..100 {
            t.failed("x", None, now);
        }
        assert_eq!(t.check("x", None, now), Err(MAX_LOCK));
    }
}
