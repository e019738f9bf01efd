//! Price lookup and the standard cost formula.
//!
//! Prices are micro-USD per million tokens; costs are nano-USD, so
//! `cost = tokens * price / 1000`, computed in 128-bit and rounded to the
//! nearest nano-dollar.

use crate::{Price, Usage};

/// The price whose `model` is the longest prefix of `model`.
pub fn find<'a>(model: &str, prices: &'a [Price]) -> Option<&'a Price> {
    prices
        .iter()
        .filter(|p| model.starts_with(p.model.as_str()))
        .max_by_key(|p| p.model.len())
}

/// Nano-USD for `usage`: uncached input at `input`, cached input at
/// `cached-input`, cache writes at `cache-write` (both default to `input`),
/// output at `output`. `None` when no price matches.
pub fn cost(model: &str, usage: &Usage, prices: &[Price]) -> Option<u64> {
    let price = find(model, prices)?;
    let cached = usage.cached_input_tokens.min(usage.input_tokens);
    let uncached = usage.input_tokens - cached;
    let micro_tokens: u128 = u128::from(uncached) * u128::from(price.input)
        + u128::from(cached) * u128::from(price.cached_input.unwrap_or(price.input))
        + u128::from(usage.cache_write_tokens)
            * u128::from(price.cache_write.unwrap_or(price.input))
        + u128::from(usage.output_tokens) * u128::from(price.output);
    let nanos = (micro_tokens + 500) / 1000;
    Some(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A price from US dollars per million tokens (`usd(2.50)` is `2_500_000`).
pub const fn usd_per_mtok(dollars_times_100: u64) -> u64 {
    dollars_times_100 * 10_000
}

/// Shorthand for building a price list entry; amounts in cents per million tokens.
pub fn price(
    model: &str,
    input_cents: u64,
    output_cents: u64,
    cached_cents: Option<u64>,
    cache_write_cents: Option<u64>,
) -> Price {
    Price {
        model: model.to_owned(),
        input: usd_per_mtok(input_cents),
        output: usd_per_mtok(output_cents),
        cached_input: cached_cents.map(usd_per_mtok),
        cache_write: cache_write_cents.map(usd_per_mtok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Vec<Price> {
        vec![
            price("gpt-4o", 250, 1000, Some(125), None),
            price("gpt-4o-mini", 15, 60, None, None),
        ]
    }

    #[test]
    fn longest_prefix_wins() {
        let p = prices();
        assert_eq!(
            find("gpt-4o-mini-2024-07-18", &p).map(|p| p.model.as_str()),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            find("gpt-4o-2024-08-06", &p).map(|p| p.model.as_str()),
            Some("gpt-4o")
        );
        assert!(find("claude", &p).is_none());
    }

    #[test]
    fn cached_tokens_are_billed_at_their_own_rate() {
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            output_tokens: 100_000,
            ..Usage::ZERO
        };
        // 600k * $2.50 + 400k * $1.25 + 100k * $10 = 1.5 + 0.5 + 1.0 = $3.00
        assert_eq!(cost("gpt-4o", &usage, &prices()), Some(3_000_000_000));
    }

    #[test]
    fn single_tokens_cost_nano_dollars() {
        let usage = Usage {
            input_tokens: 1,
            output_tokens: 1,
            ..Usage::ZERO
        };
        // $0.15 and $0.60 per million tokens: 150 + 600 nano-USD for one token each.
        assert_eq!(cost("gpt-4o-mini", &usage, &prices()), Some(750));
    }
}
