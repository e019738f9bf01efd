//! How much the proxy port takes on at once, and what it does past that.
//!
//! A proxied stream holds two open files (the client's connection and the
//! upstream's) for as long as it runs, so the open-file limit of the
//! process is what bounds one instance. By default the proxy takes as many
//! requests in flight as half the files left after [`RESERVED_FILES`], and
//! as many client connections (a connection waiting between requests
//! holds one file). Past the maximum in flight a request is answered at
//! once with 503 `overloaded` and `Retry-After`, before any work: shedding
//! clearly beats every request getting slow or failing on a missing file.
//! Refusals are counted for `/metrics` and logged as one summary line per
//! [`SHED_LOG_INTERVAL`], never a line per request.
//!
//! The same count tells a shutdown when the last request is done
//! ([`InFlight::idle`]): every request holds an [`InFlightPermit`] from its
//! first byte until its context is dropped (after its trace was handed to
//! the writer), a shed one included while it is answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Open files kept for everything but proxied requests: the database,
/// Redis, the admin port, plugin files, idle upstream connections.
pub const RESERVED_FILES: u64 = 1024;
/// Open-file limit assumed when the process's cannot be read.
const ASSUMED_OPEN_FILES: u64 = 1024;
/// The fewest requests in flight a default allows, however low the
/// open-file limit.
const MIN_IN_FLIGHT: usize = 64;
/// How often a summary of shed requests is logged, at most.
pub const SHED_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The soft open-file limit of this process (`/proc/self/limits`).
pub fn open_file_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse().ok()
        })
        .unwrap_or(ASSUMED_OPEN_FILES)
}

/// The default most requests in flight (and client connections) for an
/// open-file limit of `open_files`.
pub fn default_in_flight(open_files: u64) -> usize {
    let per_request = open_files.saturating_sub(RESERVED_FILES) / 2;
    usize::try_from(per_request)
        .unwrap_or(usize::MAX)
        .max(MIN_IN_FLIGHT)
}

/// Requests in flight on the proxy port, against their maximum.
pub struct InFlight {
    count: AtomicUsize,
    max: usize,
    /// Woken when the count drops to zero.
    idle: Notify,
    shed_total: AtomicU64,
    /// Shed since the last summary line.
    shed_unlogged: AtomicU64,
    last_log: std::sync::Mutex<Option<Instant>>,
}

/// One request counted in flight until dropped; only an admitted one may
/// be served.
pub struct InFlightPermit {
    of: Arc<InFlight>,
    admitted: bool,
}

impl InFlightPermit {
    /// Whether the request was within the maximum when it came.
    pub fn admitted(&self) -> bool {
        self.admitted
    }
}

impl Drop for InFlightPermit {
    fn drop(&mut self) {
        if self.of.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.of.idle.notify_waiters();
        }
    }
}

impl InFlight {
    pub fn new(max: usize) -> Arc<InFlight> {
        Arc::new(InFlight {
            count: AtomicUsize::new(0),
            max,
            idle: Notify::new(),
            shed_total: AtomicU64::new(0),
            shed_unlogged: AtomicU64::new(0),
            last_log: std::sync::Mutex::new(None),
        })
    }

    /// Counts one more request; it is admitted unless `max` were already
    /// in flight.
    pub fn enter(self: &Arc<Self>) -> InFlightPermit {
        let before = self.count.fetch_add(1, Ordering::AcqRel);
        InFlightPermit {
            of: self.clone(),
            admitted: before < self.max,
        }
    }

    /// Returns once no request is in flight.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the count is read, so a request that ends in
            // between still wakes this waiter.
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Counts a request shed (past the maximum, or no plugin instance
    /// free) and logs a summary when the interval has passed.
    pub fn record_shed(&self) {
        self.shed_total.fetch_add(1, Ordering::Relaxed);
        self.shed_unlogged.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let Ok(mut last) = self.last_log.try_lock() else {
            return;
        };
        if last.is_some_and(|at| now.duration_since(at) < SHED_LOG_INTERVAL) {
            return;
        }
        let since = last.map(|at| now.duration_since(at));
        *last = Some(now);
        drop(last);
        let shed = self.shed_unlogged.swap(0, Ordering::Relaxed);
        tracing::warn!(
            shed,
            since_secs = since.map_or(0, |d| d.as_secs()),
            in_flight = self.in_flight(),
            max_in_flight = self.max,
            "requests refused with 503 overloaded: the gateway is at capacity (AI_PROXY_MAX_IN_FLIGHT)"
        );
    }

    pub fn in_flight(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Requests shed since start.
    pub fn shed_total(&self) -> u64 {
        self.shed_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_half_the_files_left_after_the_reserve_with_a_floor() {
        assert_eq!(default_in_flight(20_000), 9_488);
        assert_eq!(default_in_flight(RESERVED_FILES + 2 * 1000), 1000);
        assert_eq!(default_in_flight(1024), MIN_IN_FLIGHT);
        assert_eq!(default_in_flight(0), MIN_IN_FLIGHT);
        assert!(open_file_limit() > 0);
    }

    #[test]
    fn the_maximum_is_held_exactly_and_places_come_back() {
        let in_flight = InFlight::new(2);
        let a = in_flight.enter();
        let b = in_flight.enter();
        assert!(a.admitted() && b.admitted());
        let third = in_flight.enter();
        assert!(!third.admitted(), "a third is over the maximum");
        assert_eq!(in_flight.in_flight(), 3, "counted while it is answered");
        drop(third);
        assert_eq!(in_flight.in_flight(), 2);
        drop(a);
        let c = in_flight.enter();
        assert!(c.admitted(), "a place came back");
        drop((b, c));
        assert_eq!(in_flight.in_flight(), 0);
    }

    #[tokio::test]
    async fn idle_waits_for_the_last_request_in_flight() {
        let in_flight = InFlight::new(10);
        let first = in_flight.enter();
        let second = in_flight.enter();
        let waiter = tokio::spawn({
            let in_flight = in_flight.clone();
            async move { in_flight.idle().await }
        });
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "one request is still in flight");
        drop(second);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken when the last request ends")
            .expect("task");
    }

    #[tokio::test]
    async fn idle_returns_at_once_when_nothing_is_in_flight() {
        let in_flight = InFlight::new(1);
        tokio::time::timeout(Duration::from_secs(1), in_flight.idle())
            .await
            .expect("nothing to wait for");
    }

    #[test]
    fn shedding_is_counted_every_time_and_logged_once_per_interval() {
        let in_flight = InFlight::new(1);
        for _ in 0..100 {
            in_flight.record_shed();
        }
        assert_eq!(in_flight.shed_total(), 100);
        // The first refusal logged a summary; the 99 after it wait for the
        // next one.
        assert_eq!(in_flight.shed_unlogged.load(Ordering::Relaxed), 99);
    }
}
