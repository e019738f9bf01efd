//! Anthropic's public list prices, in micro-USD per million tokens.
//!
//! Cache writes are priced at the 5-minute cache rate (1.25x input); the
//! `usage` contract has no room for the dearer 1-hour writes, nor for the
//! long-context rates Sonnet charges above 200k prompt tokens. Prefixes
//! match dated snapshots and `-latest` aliases alike.

use ai_proxy_sdk::Price;

/// `(model prefix, input, output, cache read, cache write)`, micro-USD per
/// million tokens.
const LIST: [(&str, u64, u64, u64, u64); 11] = [
    (
        "claude-opus-4",
        15_000_000,
        75_000_000,
        1_500_000,
        18_750_000,
    ),
    (
        "claude-opus-4-1",
        15_000_000,
        75_000_000,
        1_500_000,
        18_750_000,
    ),
    ("claude-opus-4-5", 5_000_000, 25_000_000, 500_000, 6_250_000),
    ("claude-sonnet-4", 3_000_000, 15_000_000, 300_000, 3_750_000),
    (
        "claude-sonnet-4-5",
        3_000_000,
        15_000_000,
        300_000,
        3_750_000,
    ),
    ("claude-haiku-4-5", 1_000_000, 5_000_000, 100_000, 1_250_000),
    (
        "claude-3-7-sonnet",
        3_000_000,
        15_000_000,
        300_000,
        3_750_000,
    ),
    (
        "claude-3-5-sonnet",
        3_000_000,
        15_000_000,
        300_000,
        3_750_000,
    ),
    ("claude-3-5-haiku", 800_000, 4_000_000, 80_000, 1_000_000),
    (
        "claude-3-opus",
        15_000_000,
        75_000_000,
        1_500_000,
        18_750_000,
    ),
    ("claude-3-haiku", 250_000, 1_250_000, 30_000, 300_000),
];

/// The default price list.
pub fn list() -> Vec<Price> {
    LIST.iter()
        .map(|&(model, input, output, read, write)| Price {
            model: model.to_owned(),
            input,
            output,
            cached_input: Some(read),
            cache_write: Some(write),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Anthropic;
    use ai_proxy_sdk::{Provider, Usage};

    fn cost(model: &str, usage: Usage) -> Option<u64> {
        Anthropic::cost(model, &usage, &list())
    }

    #[test]
    fn sonnet_4_5_bills_uncached_cached_written_and_output_tokens_apart() {
        // 12 uncached * $3 + 8000 cache reads * $0.30 + 1500 cache writes * $3.75
        // + 215 output * $15 per Mtok = 36_000 + 2_400_000 + 5_625_000 + 3_225_000 nano-USD.
        let usage = Usage {
            input_tokens: 8012,
            cached_input_tokens: 8000,
            cache_write_tokens: 1500,
            output_tokens: 215,
            reasoning_tokens: 0,
        };
        assert_eq!(cost("claude-sonnet-4-5-20250929", usage), Some(11_286_000));
    }

    #[test]
    fn haiku_3_5_costs_its_own_rates() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(
            cost("claude-3-5-haiku-20241022", usage),
            Some(4_800_000_000)
        );
    }

    #[test]
    fn opus_4_5_does_not_fall_back_to_opus_4() {
        let usage = Usage {
            output_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(
            cost("claude-opus-4-5-20251101", usage),
            Some(25_000_000_000)
        );
        assert_eq!(cost("claude-opus-4-20250514", usage), Some(75_000_000_000));
        assert_eq!(
            cost("claude-opus-4-1-20250805", usage),
            Some(75_000_000_000)
        );
    }

    #[test]
    fn unknown_model_has_no_cost() {
        assert_eq!(cost("claude-2.1", Usage::ZERO), None);
    }

    #[test]
    fn list_has_unique_models() {
        let prices = list();
        let mut names: Vec<&str> = prices.iter().map(|p| p.model.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), prices.len());
    }
}
