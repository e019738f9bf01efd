//! The signal handling of a shutdown: one task on the core runtime sees
//! SIGTERM, SIGINT and SIGQUIT from the start of the process, so a second
//! signal is never missed, and tells Pingora (through [`SignalWatch`]) when
//! to close its listeners — or, on SIGQUIT, to hand them to the new process
//! waiting on the upgrade socket first.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::{ExecutionPhase, ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{broadcast, watch};

use super::{Drain, EXIT_INTERRUPTED, ShutdownTimes, TRACE_FLUSH_TIMEOUT};
use crate::trace::TraceSender;

/// Extra time Pingora's own timer gives beyond the grace period and the
/// trace flush, so that it only ever ends the process when the gateway's
/// drain could not (it would cut the flush short).
const BACKSTOP_MARGIN: Duration = Duration::from_secs(5);
/// Longest wait for Pingora to stop accepting after it was told to: on an
/// upgrade it first tries to reach the new process (5 s) and then keeps
/// accepting alongside it (5 s).
const STOP_ACCEPTING_TIMEOUT: Duration = Duration::from_secs(30);

/// How the instance stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM or SIGINT: close the listener, finish what is open, exit.
    Terminate,
    /// SIGQUIT: hand the listening socket to the new process started with
    /// `ai-proxy serve --upgrade`, then finish what is open and exit.
    HandOver,
}

/// Pingora's `grace_period_seconds` (counted from the listener's close):
/// a backstop after the gateway's own drain, which normally ends the
/// process first.
pub fn pingora_backstop(times: ShutdownTimes) -> u64 {
    (times.grace + TRACE_FLUSH_TIMEOUT + BACKSTOP_MARGIN).as_secs()
}

/// Pingora's shutdown watcher: resolves when the first signal came.
pub struct SignalWatch {
    started: watch::Receiver<Option<Stop>>,
}

/// What the shutdown task works with.
pub struct ShutdownParts {
    pub drain: Arc<Drain>,
    pub times: ShutdownTimes,
    pub traces: TraceSender,
    /// Pingora's progress (`Server::watch_execution_phase`).
    pub phases: broadcast::Receiver<ExecutionPhase>,
}

impl SignalWatch {
    /// Starts watching SIGTERM, SIGINT and SIGQUIT on the current runtime.
    pub fn spawn(parts: ShutdownParts) -> io::Result<Self> {
        let signals = Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        };
        let (tx, started) = watch::channel(None);
        tokio::spawn(shut_down(signals, tx, parts));
        Ok(SignalWatch { started })
    }
}

#[async_trait]
impl ShutdownSignalWatch for SignalWatch {
    async fn recv(&self) -> ShutdownSignal {
        let mut started = self.started.clone();
        // An error means the task is gone: stopping gracefully is still right.
        let stop = started
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|s| *s);
        match stop {
            Some(Stop::HandOver) => ShutdownSignal::GracefulUpgrade,
            _ => ShutdownSignal::GracefulTerminate,
        }
    }
}

struct Signals {
    term: Signal,
    int: Signal,
    quit: Signal,
}

impl Signals {
    async fn next(&mut self) -> (&'static str, Stop) {
        tokio::select! {
            _ = self.term.recv() => ("SIGTERM", Stop::Terminate),
            _ = self.int.recv() => ("SIGINT", Stop::Terminate),
            _ = self.quit.recv() => ("SIGQUIT", Stop::HandOver),
        }
    }
}

/// Waits (bounded) until Pingora has stopped accepting: only then can no
/// new request join those the drain waits for.
async fn stopped_accepting(phases: &mut broadcast::Receiver<ExecutionPhase>) {
    let started = async {
        loop {
            match phases.recv().await {
                Ok(ExecutionPhase::ShutdownStarted) | Err(broadcast::error::RecvError::Closed) => {
                    return;
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            }
        }
    };
    if tokio::time::timeout(STOP_ACCEPTING_TIMEOUT, started)
        .await
        .is_err()
    {
        tracing::warn!("the proxy did not report that it stopped accepting; draining anyway");
    }
}

/// The whole shutdown: waits for the first signal, drains, flushes the
/// traces and exits; a second signal at any point exits at once.
async fn shut_down(
    mut signals: Signals,
    started: watch::Sender<Option<Stop>>,
    parts: ShutdownParts,
) {
    let ShutdownParts {
        drain,
        times,
        traces,
        mut phases,
    } = parts;
    let (signal, stop) = signals.next().await;
    drain.start();
    tracing::info!(
        signal,
        in_flight = drain.in_flight(),
        delay_secs = times.delay.as_secs(),
        grace_secs = times.grace.as_secs(),
        "shutting down: not ready; then accepting no new connections and letting open requests finish"
    );
    let stop_all = async {
        if stop == Stop::Terminate {
            tokio::time::sleep(times.delay).await;
        }
        let _ = started.send(Some(stop));
        stopped_accepting(&mut phases).await;
        if stop == Stop::HandOver {
            tracing::info!(
                "listening socket handed over; the admin port is left to the new process"
            );
            drain.hand_over();
        }
        tokio::select! {
            () = drain.idle() => {
                tracing::info!("every open request finished");
            }
            () = tokio::time::sleep(times.grace) => {
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
        () = stop_all => std::process::exit(0),
        (second, _) = signals.next() => {
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
