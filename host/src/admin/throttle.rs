//! Slowing down password guessing: after [`FREE_FAILURES`] failed logins
//! for one account name or from one address within [`WINDOW`], further
//! attempts are refused with 429 until a lock period passes; the lock
//! doubles with each further failure, up to [`MAX_LOCK`].

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

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

/// Failed-login bookkeeping by account name and by client address.
#[derive(Default)]
pub struct LoginThrottle {
    by_key: Mutex<HashMap<String, Record>>,
}

impl LoginThrottle {
    fn keys(username: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![format!("user:{}", username.to_ascii_lowercase())];
        if let Some(ip) = ip {
            keys.push(format!("ip:{ip}"));
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

    /// A successful login clears the account's record (not the address's).
    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.by_key.lock() {
            map.remove(&format!("user:{}", username.to_ascii_lowercase()));
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
    fn lock_never_exceeds_the_maximum() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..100 {
            t.failed("x", None, now);
        }
        assert_eq!(t.check("x", None, now), Err(MAX_LOCK));
    }
}
