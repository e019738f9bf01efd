//! Per-request state carried through the Pingora phases.

use std::time::Instant;

use super::relay::hold::QuotaHold;
use crate::trace::TraceRecord;

/// State of one request.
pub struct RequestCtx {
    pub request_id: String,
    pub started: Instant,
    /// Whether a response header went to the client.
    pub response_started: bool,
    pub trace: TraceRecord,
    /// Whether the request leaves a trace row (token requests do not).
    pub traced: bool,
    /// What the request holds against its client key's quotas, from its
    /// admission until it is settled (dropping it gives it back).
    pub quota: Option<QuotaHold>,
    /// Set when the client stopped reading the answer or went away: the
    /// connection is dropped, never finished (finishing would write again).
    pub client_gone: bool,
    /// Counts the request in flight (`AI_PROXY_MAX_IN_FLIGHT`, and what a
    /// graceful shutdown waits for) until the context is dropped, after
    /// the trace was handed to the writer.
    pub in_flight: Option<crate::limits::InFlightPermit>,
    /// A copy for the provider's shadow candidate, when this request is
    /// sampled (`shadow`).
    pub shadow: Option<crate::shadow::ShadowCapture>,
}

impl RequestCtx {
    pub fn new() -> RequestCtx {
        let request_id = format!("req_{}", crate::secrets::random_hex(12));
        RequestCtx {
            trace: TraceRecord {
                request_id: request_id.clone(),
                ..TraceRecord::default()
            },
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
