//! What a plugin version made of one exchange (model, usage, cost, error
//! class), how the candidate's is computed from a capture, and when two
//! verdicts agree.

use serde::{Deserialize, Serialize};

use super::capture::ShadowCapture;
use crate::plugins::types::Usage;
use crate::plugins::{FailureKind, PluginFailure, PluginInstance};

/// Token counts as the API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageView {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

impl From<Usage> for UsageView {
    fn from(u: Usage) -> UsageView {
        UsageView {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_tokens: u.cache_write_tokens,
            reasoning_tokens: u.reasoning_tokens,
        }
    }
}

/// One version's reading of one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Verdict {
    pub model: Option<String>,
    /// `None`: no usage could be read.
    pub usage: Option<UsageView>,
    /// Cost in nano-dollars at the provider's prices.
    pub cost_nanos: Option<u64>,
    /// The class of an error answer (`rate_limited`, `bad_request`, ...).
    pub error_class: Option<String>,
    /// How the version failed (trap, timeout, error), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Verdict {
    /// Same model, usage, cost and error class, and neither failed.
    pub fn agrees_with(&self, other: &Verdict) -> bool {
        self.failure.is_none() && other.failure.is_none() && self == other
    }
}

/// The candidate's verdict on a capture, on one fresh instance; a failure
/// of the plugin is part of the verdict.
#[cfg(test)]
pub async fn candidate_verdict(capture: &ShadowCapture) -> Verdict {
    judge(capture).await.0
}

/// The candidate's verdict on a capture, with the kind of its failure when it
/// failed: the worker tells a candidate at fault from one that had no
/// instance or no CPU to run on.
pub(super) async fn judge(capture: &ShadowCapture) -> (Verdict, Option<FailureKind>) {
    let mut verdict = Verdict::default();
    let failed = fill(capture, &mut verdict).await.err().map(|f| {
        verdict.failure = Some(f.to_string());
        f.kind
    });
    (verdict, failed)
}

async fn fill(capture: &ShadowCapture, verdict: &mut Verdict) -> Result<(), PluginFailure> {
    let mut instance = capture.candidate.instantiate(&capture.request_id).await?;
    let facts = instance.inspect(&capture.head, &capture.body).await?;
    verdict.model = facts.model.clone();
    if capture.status >= 400 {
        let body: Vec<u8> = capture.answer.chunks.concat();
        let class = instance
            .classify(capture.status, &capture.headers, &body)
            .await?;
        verdict.error_class = Some(crate::plugins::error_class_name(&class));
        return Ok(());
    }
    let usage = if capture.event_stream {
        stream_usage(&mut instance, capture).await?
    } else {
        let body: Vec<u8> = capture.answer.chunks.concat();
        instance.body_usage(&body).await?
    };
    verdict.usage = usage.map(Into::into);
    if let (Some(model), Some(usage)) = (&facts.model, usage) {
        verdict.cost_nanos = instance.cost(model, usage, &capture.prices).await?;
    }
    Ok(())
}

/// The stream fed in the chunks the client got; what the provider
/// reported by its end, else the last running usage.
async fn stream_usage(
    instance: &mut PluginInstance,
    capture: &ShadowCapture,
) -> Result<Option<Usage>, PluginFailure> {
    let parser = instance.stream_parser().await?;
    let mut last = None;
    for chunk in &capture.answer.chunks {
        if let Some(usage) = instance.feed(&parser, chunk).await? {
            last = Some(usage);
        }
    }
    Ok(instance.finish(&parser).await?.or(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(output: u64, cost: u64) -> Verdict {
        Verdict {
            model: Some("gpt-4o-mini".into()),
            usage: Some(UsageView {
                input_tokens: 10,
                output_tokens: output,
                ..UsageView::default()
            }),
            cost_nanos: Some(cost),
            error_class: None,
            failure: None,
        }
    }

    #[test]
    fn verdicts_agree_only_when_every_field_is_equal_and_nothing_failed() {
        assert!(verdict(5, 100).agrees_with(&verdict(5, 100)));
        assert!(
            !verdict(5, 100).agrees_with(&verdict(6, 100)),
            "usage differs"
        );
        assert!(
            !verdict(5, 100).agrees_with(&verdict(5, 101)),
            "cost differs"
        );
        let mut failed = verdict(5, 100);
        failed.failure = Some("trap".into());
        assert!(
            !failed.agrees_with(&failed.clone()),
            "a failure never agrees"
        );
        let mut other_model = verdict(5, 100);
        other_model.model = Some("gpt-4o".into());
        assert!(!verdict(5, 100).agrees_with(&other_model));
    }
}
