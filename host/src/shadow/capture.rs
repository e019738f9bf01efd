//! What a sampled request leaves for its shadow comparison: the request
//! the serving version saw, the answer as it went to the client, and the
//! serving version's verdict, bounded by [`MAX_SHADOW_BYTES`].

use std::sync::Arc;

use bytes::Bytes;
use pingora::http::ResponseHeader;

use super::Dropped;
use super::verdict::Verdict;
use crate::catalog::rollout::Rollout;
use crate::plugins::LoadedPlugin;
use crate::plugins::types::{Header, Price, RequestHead, Usage};

/// Most bytes (request body and answer together) kept for one comparison;
/// a request or answer larger than that is not compared (counted as
/// dropped, too large).
pub const MAX_SHADOW_BYTES: usize = 512 * 1024;

/// One sampled request, from its start to the end of its answer.
pub struct ShadowCapture {
    pub(super) candidate: Arc<LoadedPlugin>,
    pub(super) plugin_id: i32,
    pub(super) provider_id: i32,
    pub(super) prices: Arc<[Price]>,
    pub(super) request_id: String,
    pub(super) serving_version: String,
    pub(super) head: RequestHead,
    pub(super) body: Bytes,
    pub(super) status: u16,
    pub(super) headers: Vec<Header>,
    pub(super) event_stream: bool,
    pub(super) answer: AnswerCopy,
    pub(super) serving: Verdict,
}

/// The answer's chunks as they were relayed (shared, not copied), within
/// [`MAX_SHADOW_BYTES`] together with the request body.
#[derive(Default)]
pub struct AnswerCopy {
    pub(super) chunks: Vec<Bytes>,
    kept: usize,
    overflow: bool,
    /// Whether the answer reached its end.
    ended: bool,
}

impl AnswerCopy {
    fn after_body(body: usize) -> AnswerCopy {
        AnswerCopy {
            kept: body,
            ..AnswerCopy::default()
        }
    }

    fn push(&mut self, chunk: &Bytes) {
        if self.overflow {
            return;
        }
        if self.kept + chunk.len() > MAX_SHADOW_BYTES {
            self.overflow = true;
            self.chunks.clear();
            return;
        }
        self.kept += chunk.len();
        self.chunks.push(chunk.clone());
    }

    /// Whether it cannot be compared: over the cap, or cut short.
    #[cfg(test)]
    fn unusable(&self) -> bool {
        self.why_not().is_some()
    }

    fn why_not(&self) -> Option<Dropped> {
        if self.overflow {
            Some(Dropped::TooLarge)
        } else if !self.ended {
            Some(Dropped::Incomplete)
        } else {
            None
        }
    }
}

impl ShadowCapture {
    /// A capture for a request `rollout`'s candidate is to see, or `None`
    /// when its body alone is over the cap. It takes the request head the
    /// serving version inspected (the proxy needs it no more) and shares
    /// the body: nothing of the request is copied.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        rollout: &Rollout,
        provider_id: i32,
        prices: Arc<[Price]>,
        request_id: &str,
        serving_version: &str,
        head: RequestHead,
        body: &Bytes,
    ) -> Option<ShadowCapture> {
        if body.len() > MAX_SHADOW_BYTES {
            return None;
        }
        Some(ShadowCapture {
            candidate: rollout.candidate.clone(),
            plugin_id: rollout.plugin_id,
            provider_id,
            prices,
            request_id: request_id.to_owned(),
            serving_version: serving_version.to_owned(),
            head,
            body: body.clone(),
            status: 0,
            headers: Vec::new(),
            event_stream: false,
            answer: AnswerCopy::after_body(body.len()),
            serving: Verdict::default(),
        })
    }

    /// The answer's head, as the client got it; its headers are copied only
    /// for an error answer (the candidate classifies those, and reads no
    /// header of any other).
    pub fn answer_head(&mut self, head: &ResponseHeader) {
        self.status = head.status.as_u16();
        if self.status >= 400 {
            self.headers = crate::plugins::header_list(&head.headers);
        }
        self.event_stream = head
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
    }

    /// One chunk of the answer; past the cap the capture is only marked.
    pub fn push(&mut self, chunk: &Bytes) {
        self.answer.push(chunk);
    }

    /// The answer reached its end (complete answers only are compared).
    pub fn end(&mut self) {
        self.answer.ended = true;
    }

    /// The request did not finish as it should: nothing to compare.
    pub fn cut_short(&mut self) {
        self.answer.ended = false;
    }

    /// The serving version's verdict, as the request was charged.
    pub fn serving_verdict(
        &mut self,
        usage: Option<Usage>,
        model: Option<&str>,
        cost_nanos: Option<u64>,
        error_class: Option<String>,
        failure: Option<String>,
    ) {
        self.serving = Verdict {
            model: model.map(str::to_owned),
            usage: usage.map(Into::into),
            cost_nanos,
            error_class,
            failure,
        };
    }

    /// Why the capture cannot be compared (over the cap, or the answer
    /// was cut short), if it cannot.
    pub fn unusable(&self) -> Option<Dropped> {
        self.answer.why_not()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_kept_up_to_the_cap_exactly() {
        let mut copy = AnswerCopy::after_body(2);
        copy.push(&Bytes::from(vec![b'a'; MAX_SHADOW_BYTES - 2 - 1]));
        copy.push(&Bytes::from_static(b"b"));
        copy.ended = true;
        assert!(!copy.unusable(), "at the cap exactly: kept");
        assert_eq!(copy.chunks.len(), 2);
        copy.push(&Bytes::from_static(b"c"));
        assert!(copy.unusable(), "one byte over: dropped");
        assert!(copy.chunks.is_empty(), "nothing held once over");
    }

    #[test]
    fn an_answer_that_did_not_end_is_not_compared() {
        let mut copy = AnswerCopy::after_body(0);
        copy.push(&Bytes::from_static(b"partial"));
        assert!(copy.unusable());
        copy.ended = true;
        assert!(!copy.unusable());
    }
}
