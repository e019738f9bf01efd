//! Restarts that drop nothing: what the gateway does between SIGTERM and
//! its exit.
//!
//! On the first SIGTERM (or SIGINT) the instance reports not-ready on
//! `GET /api/ready`; after `AI_PROXY_SHUTDOWN_DELAY_SECS` (zero by default;
//! behind a Kubernetes Service, the few seconds it takes to stop routing to
//! a not-ready pod) Pingora closes the proxy's listening socket and ends
//! idle keep-alive connections, and the requests already in flight (LLM
//! streams included) run to their end for up to the grace period
//! (`AI_PROXY_SHUTDOWN_GRACE_SECS`). When the last one has finished (and
//! handed its trace to the writer), every queued trace is written and the
//! process exits 0. When the grace period runs out first, what is still
//! open is cut, the traces written so far are flushed, and it exits 0 as
//! well. A second signal exits at once (status 1).
//!
//! Pingora's own graceful shutdown waits a fixed `grace_period_seconds`
//! whatever is in flight, then drops every task; so the gateway counts its
//! requests itself ([`Drain`]) and ends the process when they are done,
//! leaving Pingora's timer as a backstop only.

mod drain;
mod signals;

use std::time::Duration;

pub use drain::Drain;
pub use signals::{ShutdownParts, SignalWatch, Stop, pingora_backstop};

/// How a shutdown is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownTimes {
    /// Not-ready but still accepting, before the listener closes.
    pub delay: Duration,
    /// How long open requests may take to finish once it has closed.
    pub grace: Duration,
}

/// Default time open requests get to finish after SIGTERM: LLM streams
/// (long reasoning answers) run for minutes.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(300);
/// Longest grace period accepted.
pub const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(3600);
/// Longest accepted delay between not-ready and closing the listener.
pub const MAX_SHUTDOWN_DELAY: Duration = Duration::from_secs(60);
/// Longest wait for the trace writer to empty its queue before exiting.
pub const TRACE_FLUSH_TIMEOUT: Duration = Duration::from_secs(15);
/// Exit status after a second signal cut the drain short.
pub const EXIT_INTERRUPTED: i32 = 1;
