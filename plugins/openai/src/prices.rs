//! OpenAI's public list prices (standard tier), in micro-USD per million
//! tokens.
//!
//! Prices match by longest model-name prefix, so a family entry such as
//! `gpt-5` also prices its dated snapshots; the entries for `gpt-5-nano`,
//! `o3-pro` and the like are there so they do not fall back to a cheaper or
//! dearer sibling's price.

use ai_proxy_sdk::Price;

/// `(model prefix, input, output, cached input)`, micro-USD per million tokens.
const LIST: [(&str, u64, u64, Option<u64>); 19] = [
    ("gpt-5", 1_250_000, 10_000_000, Some(125_000)),
    ("gpt-5-mini", 250_000, 2_000_000, Some(25_000)),
    ("gpt-5-nano", 50_000, 400_000, Some(5_000)),
    ("gpt-5-pro", 15_000_000, 120_000_000, None),
    ("gpt-4.1", 2_000_000, 8_000_000, Some(500_000)),
    ("gpt-4.1-mini", 400_000, 1_600_000, Some(100_000)),
    ("gpt-4.1-nano", 100_000, 400_000, Some(25_000)),
    ("gpt-4o", 2_500_000, 10_000_000, Some(1_250_000)),
    ("gpt-4o-mini", 150_000, 600_000, Some(75_000)),
    ("o1", 15_000_000, 60_000_000, Some(7_500_000)),
    ("o1-pro", 150_000_000, 600_000_000, None),
    ("o3", 2_000_000, 8_000_000, Some(500_000)),
    ("o3-mini", 1_100_000, 4_400_000, Some(550_000)),
    ("o3-pro", 20_000_000, 80_000_000, None),
    ("o4-mini", 1_100_000, 4_400_000, Some(275_000)),
    ("text-embedding-3-small", 20_000, 0, None),
    ("text-embedding-3-large", 130_000, 0, None),
    ("text-embedding-ada-002", 100_000, 0, None),
    ("gpt-3.5-turbo", 500_000, 1_500_000, None),
];

/// The default price list.
pub fn list() -> Vec<Price> {
    LIST.iter()
        .map(|&(model, input, output, cached_input)| Price {
            model: model.to_owned(),
            input,
            output,
            cached_input,
            cache_write: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenAi;
    use ai_proxy_sdk::{Provider, Usage};

    fn cost(model: &str, usage: Usage) -> Option<u64> {
        OpenAi::cost(model, &usage, &list())
    }

    #[test]
    fn gpt_4o_snapshot_costs_cached_input_at_half_price() {
        // 1000 uncached * $2.50 + 1000 cached * $1.25 + 500 output * $10 per Mtok
        // = 2_500_000 + 1_250_000 + 5_000_000 nano-USD.
        let usage = Usage {
            input_tokens: 2000,
            cached_input_tokens: 1000,
            output_tokens: 500,
            ..Usage::ZERO
        };
        assert_eq!(cost("gpt-4o-2024-08-06", usage), Some(8_750_000));
    }

    #[test]
    fn gpt_4o_mini_costs_fractional_cent_prices_exactly() {
        // 1M uncached * $0.15 + 1M cached * $0.075 + 1M output * $0.60.
        let usage = Usage {
            input_tokens: 2_000_000,
            cached_input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(cost("gpt-4o-mini-2024-07-18", usage), Some(825_000_000));
    }

    #[test]
    fn reasoning_tokens_are_billed_inside_output() {
        // o4-mini: 10 input * $1.10 + 100 output (80 of them reasoning) * $4.40.
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 100,
            reasoning_tokens: 80,
            ..Usage::ZERO
        };
        assert_eq!(cost("o4-mini-2025-04-16", usage), Some(11_000 + 440_000));
    }

    #[test]
    fn gpt_5_nano_does_not_fall_back_to_gpt_5() {
        let usage = Usage {
            input_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(cost("gpt-5-nano-2025-08-07", usage), Some(50_000_000));
        assert_eq!(cost("gpt-5-2025-08-07", usage), Some(1_250_000_000));
    }

    #[test]
    fn embeddings_cost_input_only() {
        let usage = Usage {
            input_tokens: 8,
            ..Usage::ZERO
        };
        assert_eq!(cost("text-embedding-3-small", usage), Some(160));
    }

    #[test]
    fn unknown_model_has_no_cost() {
        assert_eq!(cost("dall-e-3", Usage::ZERO), None);
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
