//! Plugin failures charged to the client key whose request provoked them.
//!
//! A request's body is the plugin's input, so a client can craft bodies
//! that exhaust a plugin's time or memory. Such failures count against
//! that client: once its requests have made plugins fail
//! `limit` times within `window`, its requests are refused before any
//! plugin work until the window has moved on. The plugin version, in
//! turn, is only judged by failures from several clients (see the guard),
//! so one client cannot get a version disabled for everyone.
//!
//! Counted per instance, like the plugin metrics it mirrors.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Clients remembered at most; the oldest entries are dropped beyond it,
/// so a flood of keys cannot grow the ledger without bound.
pub const MAX_BLAMED_CLIENTS: usize = 65_536;

/// Recent plugin failures per client key.
pub struct ClientBlame {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<i32, VecDeque<Instant>>>,
    /// Whether any failure was ever recorded: until then every request's
    /// check is one atomic load, no lock (the proxy's hot path).
    any: AtomicBool,
}

impl ClientBlame {
    /// `limit` failures within `window` refuse a client; a `limit` of zero
    /// never refuses.
    pub fn new(limit: usize, window: Duration) -> ClientBlame {
        ClientBlame {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
            any: AtomicBool::new(false),
        }
    }

    /// Charges one failure to `client`.
    pub fn record(&self, client: i32) {
        if self.limit == 0 {
            return;
        }
        let now = Instant::now();
        self.any.store(true, Ordering::Release);
        let mut map = self.lock();
        if map.len() >= MAX_BLAMED_CLIENTS && !map.contains_key(&client) {
            let window = self.window;
            map.retain(|_, at| at.back().is_some_and(|t| now.duration_since(*t) <= window));
            if map.len() >= MAX_BLAMED_CLIENTS {
                return;
            }
        }
        let recent = map.entry(client).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            recent.pop_front();
        }
        if recent.len() == self.limit {
            recent.pop_front();
        }
        recent.push_back(now);
    }

    /// When `client` is refused, how long until it is not.
    pub fn refused(&self, client: i32) -> Option<Duration> {
        if self.limit == 0 || !self.any.load(Ordering::Acquire) {
            return None;
        }
        let map = self.lock();
        let recent = map.get(&client)?;
        let now = Instant::now();
        let within = recent
            .iter()
            .filter(|t| now.duration_since(**t) <= self.window)
            .count();
        if within < self.limit {
            return None;
        }
        let oldest = recent.front()?;
        Some(self.window.saturating_sub(now.duration_since(*oldest)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, VecDeque<Instant>>> {
        match self.failures.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_at_its_limit_exactly_and_only_that_client() {
        let blame = ClientBlame::new(3, Duration::from_secs(60));
        blame.record(1);
        blame.record(1);
        assert_eq!(blame.refused(1), None, "two of three");
        blame.record(2);
        assert_eq!(blame.refused(1), None, "another client's failure");
        blame.record(1);
        let wait = blame.refused(1).expect("three of three");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert_eq!(blame.refused(2), None);
    }

    #[test]
    fn failures_past_the_window_are_forgotten() {
        let blame = ClientBlame::new(1, Duration::from_millis(20));
        blame.record(1);
        assert!(blame.refused(1).is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(blame.refused(1), None);
    }

    #[test]
    fn a_zero_limit_never_refuses() {
        let blame = ClientBlame::new(0, Duration::from_secs(60));
        blame.record(1);
        assert_eq!(blame.refused(1), None);
    }
}
