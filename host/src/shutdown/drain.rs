//! Counting the proxy's requests in flight, so a shutdown knows when the
//! last one is done, and the draining flag the readiness probe reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Requests in flight and whether the instance is shutting down.
#[derive(Debug, Default)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// One request in flight; dropping it (when Pingora drops the request's
/// context, after its trace was sent) counts it done.
#[derive(Debug)]
pub struct InFlight(Arc<Drain>);

impl Drain {
    pub fn new() -> Arc<Drain> {
        Arc::new(Drain::default())
    }

    /// Counts a request until the returned guard is dropped.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Marks the instance as shutting down; readiness goes false.
    pub fn start(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
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
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn idle_waits_for_the_last_request_in_flight() {
        let drain = Drain::new();
        let first = drain.enter();
        let second = drain.enter();
        assert_eq!(drain.in_flight(), 2);
        let waiter = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "one request is still in flight");
        drop(second);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken when the last request ends")
            .expect("task");
        assert_eq!(drain.in_flight(), 0);
    }

    #[tokio::test]
    async fn idle_returns_at_once_when_nothing_is_in_flight() {
        let drain = Drain::new();
        tokio::time::timeout(Duration::from_secs(1), drain.idle())
            .await
            .expect("nothing to wait for");
    }

    #[test]
    fn start_marks_the_instance_as_draining() {
        let drain = Drain::new();
        assert!(!drain.is_draining());
        drain.start();
        assert!(drain.is_draining());
    }
}
