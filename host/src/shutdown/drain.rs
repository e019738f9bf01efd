//! What a shutdown waits on: the proxy's requests in flight (counted by
//! [`InFlight`], the same count that bounds them), the draining flag the
//! readiness probe reads, and whether the listening socket was handed to a
//! new process (which then serves the admin port too).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::limits::InFlight;

/// Requests in flight and how far the instance is in its shutdown.
pub struct Drain {
    draining: AtomicBool,
    requests: Arc<InFlight>,
    handed_over: watch::Sender<bool>,
}

impl Drain {
    pub fn new(requests: Arc<InFlight>) -> Arc<Drain> {
        Arc::new(Drain {
            draining: AtomicBool::new(false),
            requests,
            handed_over: watch::Sender::new(false),
        })
    }

    pub fn in_flight(&self) -> usize {
        self.requests.in_flight()
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
        self.requests.idle().await;
    }

    /// Records that a new process took the listening socket over.
    pub fn hand_over(&self) {
        self.handed_over.send_replace(true);
    }

    /// Resolves once the listening socket was handed over (never, when the
    /// instance stops without a successor).
    pub async fn handed_over(&self) {
        let mut seen = self.handed_over.subscribe();
        // An error means the drain is gone: there is nothing left to serve.
        let _ = seen.wait_for(|handed| *handed).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn idle_follows_the_proxy_count() {
        let requests = InFlight::new(8);
        let drain = Drain::new(requests.clone());
        let open = requests.enter();
        assert_eq!(drain.in_flight(), 1);
        let waiter = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        drop(open);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken when the last request ends")
            .expect("task");
    }

    #[tokio::test]
    async fn a_hand_over_wakes_whoever_waits_for_it_even_after_the_fact() {
        let drain = Drain::new(InFlight::new(1));
        let early = tokio::spawn({
            let drain = drain.clone();
            async move { drain.handed_over().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!early.is_finished());
        drain.hand_over();
        tokio::time::timeout(Duration::from_secs(5), early)
            .await
            .expect("woken")
            .expect("task");
        tokio::time::timeout(Duration::from_secs(1), drain.handed_over())
            .await
            .expect("already handed over");
    }

    #[test]
    fn start_marks_the_instance_as_draining() {
        let drain = Drain::new(InFlight::new(1));
        assert!(!drain.is_draining());
        drain.start();
        assert!(drain.is_draining());
    }
}
