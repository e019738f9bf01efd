//! Shadow mode: a candidate plugin version sees a sample of a provider's
//! real traffic (the same request head and body, the same answer bytes)
//! after the answer has gone to the client, and its verdicts (model,
//! usage, cost, error class) are stored next to the serving version's.
//!
//! The proxy path only copies references: request and answer bytes are
//! reference-counted `Bytes`, captured up to [`MAX_SHADOW_BYTES`] and only
//! for a request that is sampled (no capture at all when the provider has
//! no candidate in shadow). At the end of the request the capture is
//! offered to a bounded queue without waiting; one worker, on an OS thread
//! of its own at the lowest CPU priority (`SCHED_IDLE`, else nice 19), runs
//! the candidate, and the gateway's runtime writes the verdicts in
//! batches. A capture is dropped, and counted for `/metrics`, when the
//! gateway is busy ([`SHADOW_BUSY_PERCENT`] of its maximum in flight, or
//! every plugin instance in use), the queue is full, the bytes are over
//! the cap, or the worker was starved of CPU until its candidate ran out
//! of time. Nothing here can delay, change or fail what a client
//! receives: the candidate's failures are only recorded.

mod capture;
mod idle;
#[cfg(test)]
mod tests;
mod verdict;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tokio::sync::mpsc;

pub use capture::{MAX_SHADOW_BYTES, ShadowCapture};
pub use verdict::{UsageView, Verdict};
pub use worker::{SHADOW_BATCH, SHADOW_JOB_DEADLINE, SHADOW_THREAD_NAME};

/// Captures waiting for the worker, at most.
pub const SHADOW_QUEUE_CAPACITY: usize = 64;
/// Past this percentage of the maximum requests in flight the gateway is
/// busy, and no request is shadowed.
pub const SHADOW_BUSY_PERCENT: usize = 50;

/// Whether `in_flight` of `max` is busy for shadow work.
pub fn is_busy(in_flight: usize, max: usize) -> bool {
    in_flight.saturating_mul(100) >= max.saturating_mul(SHADOW_BUSY_PERCENT)
}

/// Why a shadow comparison did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Busy,
    QueueFull,
    TooLarge,
    /// The answer was cut short (client gone, upstream broke, quota cut).
    Incomplete,
    /// The candidate ran out of time while the worker waited for a CPU.
    Starved,
}

/// Counters for `/metrics`, since start.
#[derive(Default)]
pub struct ShadowStats {
    pub compared: AtomicU64,
    pub agreed: AtomicU64,
    pub candidate_failures: AtomicU64,
    pub dropped_busy: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub dropped_too_large: AtomicU64,
    pub dropped_incomplete: AtomicU64,
    pub dropped_starved: AtomicU64,
    pub write_failures: AtomicU64,
}

impl ShadowStats {
    pub fn dropped(&self, why: Dropped) {
        match why {
            Dropped::Busy => &self.dropped_busy,
            Dropped::QueueFull => &self.dropped_queue_full,
            Dropped::TooLarge => &self.dropped_too_large,
            Dropped::Incomplete => &self.dropped_incomplete,
            Dropped::Starved => &self.dropped_starved,
        }
        .fetch_add(1, Relaxed);
    }
}

/// Where finished captures go: the worker's bounded queue.
pub struct ShadowQueue {
    tx: mpsc::Sender<ShadowCapture>,
    pub stats: Arc<ShadowStats>,
}

impl ShadowQueue {
    /// A queue of `capacity` and the receiving end for a worker.
    pub fn new(capacity: usize) -> (Arc<ShadowQueue>, mpsc::Receiver<ShadowCapture>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let queue = ShadowQueue {
            tx,
            stats: Arc::default(),
        };
        (Arc::new(queue), rx)
    }

    /// A queue with its worker running, writing verdicts to `db`.
    pub fn spawn(db: sea_orm::DatabaseConnection) -> Arc<ShadowQueue> {
        let (queue, rx) = ShadowQueue::new(SHADOW_QUEUE_CAPACITY);
        worker::spawn(db, rx, queue.stats.clone());
        queue
    }

    /// Hands a finished capture to the worker without waiting; a capture
    /// that overflowed its cap or finds the queue full is dropped.
    pub fn offer(&self, capture: ShadowCapture) {
        if let Some(why) = capture.unusable() {
            self.stats.dropped(why);
            return;
        }
        if self.tx.try_send(capture).is_err() {
            self.stats.dropped(Dropped::QueueFull);
        }
    }

    /// Whether a capture offered now would find room. While the queue is
    /// full a sampled request is not captured at all (no copy of its head,
    /// no references to its answer): it could only be dropped at the end.
    pub fn has_room(&self) -> bool {
        self.tx.capacity() > 0
    }

    /// Captures waiting now.
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// The counters in Prometheus text.
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let s = &self.stats;
        for (name, help, value) in [
            (
                "ai_proxy_shadow_compared_total",
                "Requests a shadow candidate read.",
                &s.compared,
            ),
            (
                "ai_proxy_shadow_agreed_total",
                "Of those, verdicts equal to the serving version's.",
                &s.agreed,
            ),
            (
                "ai_proxy_shadow_candidate_failures_total",
                "Shadow comparisons the candidate failed.",
                &s.candidate_failures,
            ),
            (
                "ai_proxy_shadow_write_failures_total",
                "Batches of shadow verdicts not stored.",
                &s.write_failures,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        let name = "ai_proxy_shadow_dropped_total";
        let _ = writeln!(
            out,
            "# HELP {name} Sampled requests not compared, by reason.\n# TYPE {name} counter"
        );
        for (reason, value) in [
            ("busy", &s.dropped_busy),
            ("queue_full", &s.dropped_queue_full),
            ("too_large", &s.dropped_too_large),
            ("incomplete", &s.dropped_incomplete),
            ("starved", &s.dropped_starved),
        ] {
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {}", value.load(Relaxed));
        }
        let name = "ai_proxy_shadow_queue_depth";
        let _ = writeln!(
            out,
            "# HELP {name} Captures waiting for the shadow worker.\n# TYPE {name} gauge\n{name} {}",
            self.depth()
        );
    }
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn busy_starts_exactly_at_the_percentage_of_the_maximum() {
        assert!(!is_busy(49, 100));
        assert!(is_busy(50, 100));
        assert!(!is_busy(0, 1));
        assert!(is_busy(1, 1));
    }
}
