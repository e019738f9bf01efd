//! Gemini's public list prices (paid tier, text input, prompts up to 200k
//! tokens), in micro-USD per million tokens.
//!
//! Gemini 2.5 Pro charges more above 200k prompt tokens and every model
//! charges differently for audio input; a prefix price list cannot say so,
//! so those requests are priced at the base text rate. Thinking tokens are
//! billed as output, which `output-tokens` already includes.

use ai_proxy_sdk::Price;

/// `(model prefix, input, output, cached input)`, micro-USD per million tokens.
const LIST: [(&str, u64, u64, Option<u64>); 6] = [
    ("gemini-2.5-pro", 1_250_000, 10_000_000, Some(310_000)),
    ("gemini-2.5-flash", 300_000, 2_500_000, Some(75_000)),
    ("gemini-2.5-flash-lite", 100_000, 400_000, Some(25_000)),
    ("gemini-2.0-flash", 100_000, 400_000, Some(25_000)),
    ("gemini-2.0-flash-lite", 75_000, 300_000, None),
    ("gemini-embedding-001", 150_000, 0, None),
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
    use crate::Gemini;
    use ai_proxy_sdk::{Provider, Usage};

    fn cost(model: &str, usage: Usage) -> Option<u64> {
        Gemini::cost(model, &usage, &list())
    }

    #[test]
    fn flash_bills_cached_prompt_and_thoughts_at_their_rates() {
        // 2220 uncached * $0.30 + 8192 cached * $0.075 + 1520 output * $2.50 per Mtok
        // = 666_000 + 614_400 + 3_800_000 nano-USD.
        let usage = Usage {
            input_tokens: 10412,
            cached_input_tokens: 8192,
            output_tokens: 1520,
            reasoning_tokens: 1208,
            cache_write_tokens: 0,
        };
        assert_eq!(cost("gemini-2.5-flash", usage), Some(5_080_400));
    }

    #[test]
    fn pro_cached_input_costs_31_cents_per_million() {
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(cost("gemini-2.5-pro", usage), Some(310_000_000));
    }

    #[test]
    fn flash_lite_does_not_fall_back_to_flash() {
        let usage = Usage {
            output_tokens: 1_000_000,
            ..Usage::ZERO
        };
        assert_eq!(
            cost("gemini-2.5-flash-lite-preview-06-17", usage),
            Some(400_000_000)
        );
        assert_eq!(cost("gemini-2.0-flash-lite-001", usage), Some(300_000_000));
        assert_eq!(cost("gemini-2.0-flash-001", usage), Some(400_000_000));
    }

    #[test]
    fn unknown_model_has_no_cost() {
        assert_eq!(cost("gemini-1.0-pro", Usage::ZERO), None);
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
