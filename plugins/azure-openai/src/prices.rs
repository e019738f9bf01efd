//! Azure OpenAI list prices (Global Standard deployments), in micro-USD per
//! million tokens.
//!
//! Azure bills by the model behind a deployment, and deployments are often
//! named after their model (`gpt-4o-mini`), which these prefixes then price.
//! A deployment with another name needs an entry in the operator's price
//! list; until it has one its cost is recorded as unknown.

use ai_proxy_sdk::Price;

/// `(model prefix, input, output, cached input)`, micro-USD per million tokens.
const LIST: [(&str, u64, u64, Option<u64>); 12] = [
    ("gpt-5", 1_250_000, 10_000_000, Some(125_000)),
    ("gpt-5-mini", 250_000, 2_000_000, Some(25_000)),
    ("gpt-5-nano", 50_000, 400_000, Some(5_000)),
    ("gpt-4.1", 2_000_000, 8_000_000, Some(500_000)),
    ("gpt-4.1-mini", 400_000, 1_600_000, Some(100_000)),
    ("gpt-4.1-nano", 100_000, 400_000, Some(25_000)),
    ("gpt-4o", 2_500_000, 10_000_000, Some(1_250_000)),
    ("gpt-4o-mini", 150_000, 600_000, Some(75_000)),
    ("o3", 2_000_000, 8_000_000, Some(500_000)),
    ("o4-mini", 1_100_000, 4_400_000, Some(275_000)),
    ("text-embedding-3-small", 20_000, 0, None),
    ("text-embedding-3-large", 130_000, 0, None),
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
