//! What a request holds against its client key's daily token and cost
//! quotas, from its admission to its end.
//!
//! Before any plugin work the request is counted and reserves an
//! estimate: its body as prompt (4 bytes a token) plus 256 output tokens;
//! once the plugin has named the model, that usage priced by the plugin's
//! `cost` with the provider's prices when the key has a cost quota (a
//! model without a price reserves no cost: its cost stays unknown, as it
//! will be at the end). The reservation is atomic
//! with every other request of the key, on every instance, so concurrent
//! requests cannot overshoot a nearly spent quota; it is settled to the
//! real usage when the answer ends (`account`), to the estimate when the
//! answer's usage cannot be read, and given back when the request ends
//! without an answer (dropping the hold). The budgets of the key's owner
//! and team are held in the same step (`limits::budget`); a spent budget
//! is refused as `budget_exceeded`, naming the budget line.
//!
//! Whether a stream may be cut when the quotas run out is decided here
//! ([`QuotaHold::cuts`]); the cutting is [`super::cut`]'s.

use std::sync::Arc;

use crate::catalog::{ClientKey, Provider};
use crate::limits::{
    ClientLimits, LimitError, Limiter, QuotaOverrun, RESERVED_OUTPUT_TOKENS, Reservation,
    estimate_tokens, prompt_tokens,
};
use crate::plugins::PluginCalls;
use crate::plugins::types::{Price, Usage};

use crate::proxy::ProxyError;

/// Counts the request against its client key's request limits and
/// reserves its token estimate. Runs before any plugin work, so a client
/// over its limits cannot make the gateway spend plugin time on its bytes.
pub async fn admit(
    limiter: &Arc<Limiter>,
    client: &ClientKey,
    body_len: usize,
) -> Result<Reservation, ProxyError> {
    let (held, budgets) = limiter
        .admit_with_budgets(
            client.id,
            &client.limits,
            &client.budgets,
            (estimate_tokens(body_len), 0),
        )
        .await
        .map_err(limit_error)?;
    Ok(Reservation::new(limiter.clone(), client.id, client.limits, held).with_budgets(budgets))
}

/// Completes the hold once the plugin has named the model: reserves the
/// estimate's cost (priced by the plugin's `cost` with the provider's
/// prices) when the key has a cost quota.
pub async fn hold(
    mut reservation: Reservation,
    client: &ClientKey,
    provider: &Provider,
    model: Option<&str>,
    body_len: usize,
    calls: &mut PluginCalls,
) -> Result<QuotaHold, ProxyError> {
    let prompt = prompt_tokens(body_len);
    if let (true, Some(model)) = (reservation.limits_cost(), model) {
        let estimate = Usage {
            input_tokens: u64::try_from(prompt).unwrap_or(0),
            output_tokens: u64::try_from(RESERVED_OUTPUT_TOKENS).unwrap_or(0),
            cached_input_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        };
        let cost = cost_nanos(calls, model, estimate, &provider.prices).await;
        reservation.reserve_cost(cost).await.map_err(limit_error)?;
    }
    Ok(QuotaHold::new(
        reservation,
        prompt,
        client.quota_overrun,
        &client.limits,
        model,
        &provider.prices,
    ))
}

fn limit_error(e: LimitError) -> ProxyError {
    match e {
        LimitError::Exceeded { limit, retry_after }
            if limit.starts_with("team_") || limit.starts_with("user_") =>
        {
            ProxyError::BudgetSpent { limit, retry_after }
        }
        LimitError::Exceeded { limit, retry_after } => {
            ProxyError::RateLimited { limit, retry_after }
        }
        LimitError::Unavailable => ProxyError::LimiterUnavailable,
    }
}

/// `usage` of `model` priced by the plugin, in nano-USD; 0 when the plugin
/// cannot price it (the cost is unknown then, at the end too).
pub async fn cost_nanos(
    calls: &mut PluginCalls,
    model: &str,
    usage: Usage,
    prices: &[Price],
) -> i64 {
    let Ok(instance) = calls.instance().await else {
        return 0;
    };
    instance
        .cost(model, usage, prices)
        .await
        .ok()
        .flatten()
        .map_or(0, |c| i64::try_from(c).unwrap_or(i64::MAX))
}

/// What a request holds against its client key's quotas, and whether its
/// stream may be cut when they run out.
pub struct QuotaHold {
    pub reservation: Reservation,
    /// The request body's prompt estimate, for running usages that report
    /// no input yet.
    pub prompt_tokens: i64,
    cut: Option<CutRule>,
}

/// What pricing a running usage takes.
struct CutRule {
    priced: Option<(String, Arc<[Price]>)>,
}

impl QuotaHold {
    pub fn new(
        reservation: Reservation,
        prompt_tokens: i64,
        overrun: QuotaOverrun,
        limits: &ClientLimits,
        model: Option<&str>,
        prices: &Arc<[Price]>,
    ) -> QuotaHold {
        let quota = limits.tokens_per_day.is_some() || limits.cost_per_day.is_some();
        let cut = (overrun == QuotaOverrun::Cut && quota).then(|| CutRule {
            priced: limits
                .cost_per_day
                .and(model)
                .map(|model| (model.to_owned(), prices.clone())),
        });
        QuotaHold {
            reservation,
            prompt_tokens,
            cut,
        }
    }

    /// The request's token estimate: its prompt and the reserved output.
    pub fn estimated_tokens(&self) -> i64 {
        self.prompt_tokens.saturating_add(RESERVED_OUTPUT_TOKENS)
    }

    /// Whether its client cuts streams at a quota.
    pub fn cuts(&self) -> bool {
        self.cut.is_some()
    }

    /// The model and prices a cut stream's running cost is priced with,
    /// when its key has a cost quota.
    pub fn cut_pricing(&self) -> Option<&(String, Arc<[Price]>)> {
        self.cut.as_ref().and_then(|c| c.priced.as_ref())
    }

    /// `usage` with the prompt estimate standing in for an input count
    /// the provider has not reported (yet).
    pub fn with_prompt(&self, usage: Usage) -> Usage {
        Usage {
            input_tokens: if usage.input_tokens == 0 {
                u64::try_from(self.prompt_tokens).unwrap_or(0)
            } else {
                usage.input_tokens
            },
            ..usage
        }
    }
}
