//! Per plugin version: calls, errors, traps, timeouts and memory denials,
//! a histogram of call times (for percentiles), and the recent failures
//! that decide whether a version is disabled automatically. Lock-free on
//! the call path except for failures, which are rare.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Histogram buckets: bucket `i` counts calls under `2^i` microseconds;
/// the last one everything longer (about 1 s and up).
const BUCKETS: usize = 21;
/// Failures remembered for the auto-disable window.
const MAX_REMEMBERED_FAILURES: usize = 1024;

/// How a guest call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call returned (possibly an error result: see
    /// [`PluginMetrics::record_error`]).
    Ok,
    Trap,
    Timeout,
    OutOfMemory,
}

#[derive(Default)]
pub struct PluginMetrics {
    calls: AtomicU64,
    errors: AtomicU64,
    traps: AtomicU64,
    timeouts: AtomicU64,
    out_of_memory: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
    /// When each recent failure happened, and the client key whose
    /// request it was (`None`: no client's request, such as a health probe).
    recent_failures: Mutex<VecDeque<(Instant, Option<i32>)>>,
    /// Set once the version was disabled for failing.
    tripped: AtomicBool,
}

/// Recent failures of a version and how many sources they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentFailures {
    pub failures: usize,
    /// Distinct client keys among them; failures of no client's request
    /// (health probes) count as one more source.
    pub sources: usize,
}

/// The figures the API and `/metrics` show.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct MetricsView {
    pub calls: u64,
    pub errors: u64,
    pub traps: u64,
    pub timeouts: u64,
    pub out_of_memory: u64,
    /// Call-time percentiles in microseconds (upper bounds of their bucket).
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
}

fn bucket(elapsed: Duration) -> usize {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let bits = (u64::BITS - micros.leading_zeros()) as usize;
    bits.min(BUCKETS - 1)
}

impl PluginMetrics {
    /// Counts one call; a failure is remembered with `source`, the client
    /// key whose request made the call.
    pub fn record(&self, elapsed: Duration, outcome: CallOutcome, source: Option<i32>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.buckets[bucket(elapsed)].fetch_add(1, Ordering::Relaxed);
        let counter = match outcome {
            CallOutcome::Ok => return,
            CallOutcome::Trap => &self.traps,
            CallOutcome::Timeout => &self.timeouts,
            CallOutcome::OutOfMemory => &self.out_of_memory,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut recent = match self.recent_failures.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if recent.len() == MAX_REMEMBERED_FAILURES {
            recent.pop_front();
        }
        recent.push_back((Instant::now(), source));
    }

    /// A call that returned an error result (counted in `calls` already).
    pub fn record_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Traps, timeouts and memory denials in the last `window`, and the
    /// number of sources they came from.
    pub fn failures_within(&self, window: Duration) -> RecentFailures {
        let recent = match self.recent_failures.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let mut clients: Vec<Option<i32>> = recent
            .iter()
            .filter(|(at, _)| now.duration_since(*at) <= window)
            .map(|(_, source)| *source)
            .collect();
        let failures = clients.len();
        clients.sort_unstable();
        clients.dedup();
        RecentFailures {
            failures,
            sources: clients.len(),
        }
    }

    /// Forgets recent failures and re-arms the automatic disabling (when
    /// an operator enables the version again).
    pub fn reset_failures(&self) {
        match self.recent_failures.lock() {
            Ok(mut g) => g.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
        self.tripped.store(false, Ordering::Relaxed);
    }

    /// Marks the version as disabled for failing; `true` the first time.
    pub fn trip(&self) -> bool {
        !self.tripped.swap(true, Ordering::Relaxed)
    }

    pub fn view(&self) -> MetricsView {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let percentile = |p: u64| {
            if total == 0 {
                return 0;
            }
            let rank = (total * p).div_ceil(100);
            let mut seen = 0;
            for (i, count) in counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return 1u64 << i;
                }
            }
            1u64 << (BUCKETS - 1)
        };
        MetricsView {
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            out_of_memory: self.out_of_memory.load(Ordering::Relaxed),
            p50_us: percentile(50),
            p95_us: percentile(95),
            p99_us: percentile(99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let m = PluginMetrics::default();
        for _ in 0..90 {
            m.record(Duration::from_micros(3), CallOutcome::Ok, None);
        }
        for _ in 0..10 {
            m.record(Duration::from_micros(1000), CallOutcome::Ok, None);
        }
        let v = m.view();
        assert_eq!(v.calls, 100);
        assert_eq!(v.p50_us, 4, "3 µs falls in the bucket under 4 µs");
        assert_eq!(v.p95_us, 1024);
        assert_eq!(v.p99_us, 1024);
    }

    #[test]
    fn failures_count_by_kind_and_within_the_window() {
        let m = PluginMetrics::default();
        m.record(Duration::from_micros(5), CallOutcome::Trap, Some(7));
        m.record(Duration::from_micros(5), CallOutcome::Timeout, Some(7));
        m.record(Duration::from_micros(5), CallOutcome::Ok, Some(8));
        m.record_error();
        let v = m.view();
        assert_eq!(
            (v.traps, v.timeouts, v.errors, v.out_of_memory),
            (1, 1, 1, 0)
        );
        assert_eq!(
            m.failures_within(Duration::from_secs(60)),
            RecentFailures {
                failures: 2,
                sources: 1
            },
            "plugin errors are not failures; both came from client 7"
        );
        m.record(Duration::from_micros(5), CallOutcome::Trap, None);
        m.record(Duration::from_micros(5), CallOutcome::Trap, Some(9));
        assert_eq!(m.failures_within(Duration::from_secs(60)).sources, 3);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(m.failures_within(Duration::from_millis(1)).failures, 0);
        assert!(m.trip());
        assert!(!m.trip(), "tripped once");
    }
}
