//! Price lookup and the standard cost formula.
//!
//! One unit story, the WIT's: prices are integer micro-USD per million
//! tokens (`$2.50 / 1M` is `2_500_000`, exact for every list price, which
//! never has more than six decimals), and costs are integer nano-USD
//! (1e-9 USD), which is also what traces and the admin API store
//! (`cost_nanos`). A token at a price of `p` micro-USD per million costs
//! `p / 1000` nano-USD, so `cost = tokens * price / 1000`, computed in
//! 128-bit and rounded once, to the nearest nano-dollar. Integers, not
//! floats, so that sums over millions of requests stay exact. [`price`]
//! takes the WIT's unit too; [`usd`] converts a list price typed in dollars
//! (the only float), once.

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

/// Micro-USD in one US dollar: the WIT's price unit per million tokens.
pub const MICRO_USD_PER_USD: f64 = 1_000_000.0;

/// A price in the WIT's unit from US dollars per million tokens, as
/// providers list them: `usd(2.50)` is `2_500_000`. Rounded to the nearest
/// micro-dollar; negative or not-a-number amounts are 0.
pub fn usd(dollars_per_million_tokens: f64) -> u64 {
    let micros = (dollars_per_million_tokens * MICRO_USD_PER_USD).round();
    if micros.is_nan() || micros <= 0.0 {
        0
    } else {
        micros as u64
    }
}

/// A price list entry, amounts in the WIT's unit, micro-USD per million
/// tokens: `price("acme-1", 2_500_000, 10_000_000, Some(1_250_000), None)`
/// is $2.50 input, $10 output and $1.25 cached input per million tokens
/// (`usd(2.50)` is `2_500_000`, for prices typed in dollars). `None` bills
/// cached input or cache writes at the input price.
pub fn price(
    model: &str,
    input: u64,
    output: u64,
    cached_input: Option<u64>,
    cache_write: Option<u64>,
) -> Price {
    Price {
        model: model.to_owned(),
        input,
        output,
        cached_input,
        cache_write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Vec<Price> {
        vec![
            price("gpt-4o", 2_500_000, 10_000_000, Some(1_250_000), None),
            price("gpt-4o-mini", 150_000, 600_000, None, None),
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

    #[test]
    fn dollars_become_micro_dollars_exactly() {
        assert_eq!(usd(2.50), 2_500_000);
        assert_eq!(usd(0.000_001), 1, "one micro-dollar, the smallest unit");
        assert_eq!(usd(0.000_000_4), 0, "below half a micro-dollar rounds to 0");
        assert_eq!(
            usd(0.075),
            75_000,
            "0.075 is not exact in binary: rounded, not cut"
        );
        assert_eq!(usd(-1.0), 0);
        assert_eq!(usd(f64::NAN), 0);
    }

    #[test]
    fn the_cohere_example_costs_what_the_invoice_says() {
        // 5 input + 9 output tokens at $2.50 / $10.00: $0.0000125 + $0.00009.
        let prices = [price("command-r-plus", usd(2.50), usd(10.0), None, None)];
        let usage = Usage {
            input_tokens: 5,
            output_tokens: 9,
            ..Usage::ZERO
        };
        assert_eq!(cost("command-r-plus", &usage, &prices), Some(102_500));
    }
}
