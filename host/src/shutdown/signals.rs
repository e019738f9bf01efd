//! The signal handling of a shutdown: one task on the core runtime sees
//! SIGTERM and SIGINT from the start of the process, so a second signal is
//! never missed, and tells Pingora (through [`SignalWatch`]) when to close
//! its listeners.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use super::{Drain, EXIT_INTERRUPTED, ShutdownTimes, TRACE_FLUSH_TIMEOUT};
use crate::trace::TraceSender;

/// Extra time Pingora's own timer gives beyond the grace period and the
/// trace flush, so that it only ever ends the process when the gateway's
/// drain could not (it would cut the flush short).
const BACKSTOP_MARGIN: Duration = Duration::from_secs(5);

/// Pingora's `grace_period_seconds` (counted from the listener's close):
/// a backstop after the gateway's own drain, which normally ends the
/// process first.
pub fn pingora_backstop(times: ShutdownTimes) -> u64 {
    (times.grace + TRACE_FLUSH_TIMEOUT + BACKSTOP_MARGIN).as_secs()
}

/// Pingora's shutdown watcher: resolves when the first signal came.
pub struct SignalWatch {
    started: watch::Receiver<bool>,
}

impl SignalWatch {
    /// Starts watching SIGTERM and SIGINT on the current runtime.
    pub fn spawn(drain: Arc<Drain>, times: ShutdownTimes, traces: TraceSender) -> io::Result<Self> {
        let signals = Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        };
        let (tx, started) = watch::channel(false);
        tokio::spawn(shut_down(signals, tx, drain, times, traces));
        Ok(SignalWatch { started })
    }
}

#[async_trait]
impl ShutdownSignalWatch for SignalWatch {
    async fn recv(&self) -> ShutdownSignal {
        let mut started = self.started.clone();
        // An error means the task is gone: stopping gracefully is still right.
        let _ = started.wait_for(|s| *s).await;
        ShutdownSignal::GracefulTerminate
    }
}

struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// The whole shutdown: waits for the first signal, drains, flushes the
/// traces and exits; a second signal at any point exits at once.
async fn shut_down(
    mut signals: Signals,
    started: watch::Sender<bool>,
    drain: Arc<Drain>,
    times: ShutdownTimes,
    traces: TraceSender,
) {
    let signal = signals.next().await;
    drain.start();
    tracing::info!(
        signal,
        in_flight = drain.in_flight(),
        delay_secs = times.delay.as_secs(),
        grace_secs = times.grace.as_secs(),
        "shutting down: not ready; then accepting no new connections and letting open requests finish"
    );
    let stop = async {
        tokio::time::sleep(times.delay).await;
        let _ = started.send(true);
        let grace = times.grace;
        tokio::select! {
            () = drain.idle() => {
                tracing::info!("every open request finished");
            }
            () = tokio::time::sleep(grace) => {
                tracing::warn!(cut = drain.in_flight(), "grace period over: cutting the requests still open");
            }
        }
        let written = traces.flush(TRACE_FLUSH_TIMEOUT).await;
        let stats = traces.stats();
        tracing::info!(
            all_written = written,
            written = stats.written.load(std::sync::atomic::Ordering::Relaxed),
            failed = stats.failed.load(std::sync::atomic::Ordering::Relaxed),
            "traces flushed; exiting"
        );
    };
    tokio::select! {
        () = stop => std::process::exit(0),
        second = signals.next() => {
            tracing::warn!(signal = second, cut = drain.in_flight(), "second signal: exiting at once");
            std::process::exit(EXIT_INTERRUPTED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pingora_waits_longer_than_the_drain_and_the_flush() {
        let times = ShutdownTimes {
            delay: Duration::from_secs(5),
            grace: Duration::from_secs(300),
        };
        let backstop = Duration::from_secs(pingora_backstop(times));
        assert!(backstop > times.grace + TRACE_FLUSH_TIMEOUT);
        let zero = ShutdownTimes {
            delay: Duration::ZERO,
            grace: Duration::ZERO,
        };
        assert_eq!(pingora_backstop(zero), 20);
    }
}
