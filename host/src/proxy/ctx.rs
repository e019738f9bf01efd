//! Per-request state carried through the Pingora phases.
//!
//! Pingora keeps two copies' room for the context in every connection's
//! future (its argument and its local), for as long as the request lasts:
//! whatever is large here is boxed, so an open stream costs a few hundred
//! bytes of context instead of two kilobytes (bench/RESULTS.md, session 11).

use std::time::Instant;

use super::relay::hold::QuotaHold;
use crate::trace::TraceRecord;

/// State of one request.
pub struct RequestCtx {
    pub request_id: String,
    pub started: Instant,
    /// Whether a response header went to the client.
    pub response_started: bool,
    pub trace: Box<TraceRecord>,
    /// Whether the request leaves a trace row (token requests do not).
    pub traced: bool,
    /// What the request holds against its client key's quotas, from its
    /// admission until it is settled (dropping it gives it back).
    pub quota: Option<Box<QuotaHold>>,
    /// Set when the client stopped reading the answer or went away: the
    /// connection is dropped, never finished (finishing would write again).
    pub client_gone: bool,
    /// Counts the request in flight (`AI_PROXY_MAX_IN_FLIGHT`, and what a
    /// graceful shutdown waits for) until the context is dropped, after
    /// the trace was handed to the writer.
    pub in_flight: Option<crate::limits::InFlightPermit>,
    /// A copy for the provider's shadow candidate, when this request is
    /// sampled (`shadow`).
    pub shadow: Option<Box<crate::shadow::ShadowCapture>>,
}

impl RequestCtx {
    pub fn new() -> RequestCtx {
        let request_id = super::request_id::new_request_id();
        RequestCtx {
            trace: Box::new(TraceRecord {
                request_id: request_id.clone(),
                ..TraceRecord::default()
            }),
            request_id,
            started: Instant::now(),
            response_started: false,
            traced: true,
            quota: None,
            client_gone: false,
            in_flight: None,
            shadow: None,
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Default for RequestCtx {
    fn default() -> Self {
        Self::new()
    }
}
