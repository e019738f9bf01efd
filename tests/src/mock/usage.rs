//! The exact text and token counts every mock answer reports.
//!
//! Each counter has its own value so a test can tell which field a gateway read: a
//! gateway that records `CACHED_TOKENS` where it meant `PROMPT_TOKENS` fails loudly.
//! How the counters combine follows each provider's own accounting:
//!
//! - OpenAI (chat and Responses): prompt/input includes the cached tokens, completion/output
//!   includes the reasoning tokens, total = prompt + completion ([`OPENAI_TOTAL_TOKENS`]).
//! - Anthropic: `input_tokens` excludes cache reads and cache writes, which are reported
//!   beside it; there is no total.
//! - Gemini: `promptTokenCount` includes the cached tokens, `candidatesTokenCount`
//!   excludes the thoughts, total = prompt + candidates + thoughts ([`GEMINI_TOTAL_TOKENS`]).

/// The assistant text every completion answers with.
pub const TEXT: &str = "Hello from the mock upstream.";

/// [`TEXT`] cut into the deltas a streamed answer sends, in order.
pub const TEXT_PIECES: [&str; 5] = ["Hello", " from", " the", " mock", " upstream."];

/// Prompt / input tokens (OpenAI `prompt_tokens` and `input_tokens`, Anthropic
/// `input_tokens`, Gemini `promptTokenCount`; embeddings `prompt_tokens`).
pub const PROMPT_TOKENS: u64 = 37;

/// Completion / output tokens (OpenAI `completion_tokens` and `output_tokens`, Anthropic
/// `output_tokens`, Gemini `candidatesTokenCount`).
pub const COMPLETION_TOKENS: u64 = 29;

/// Prompt tokens served from cache (OpenAI `cached_tokens`, Anthropic
/// `cache_read_input_tokens`, Gemini `cachedContentTokenCount`).
pub const CACHED_TOKENS: u64 = 13;

/// Reasoning tokens inside the completion (OpenAI `reasoning_tokens`).
pub const REASONING_TOKENS: u64 = 7;

/// Tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`).
pub const CACHE_CREATION_TOKENS: u64 = 17;

/// Thinking tokens (Gemini `thoughtsTokenCount`), not part of `candidatesTokenCount`.
pub const THOUGHTS_TOKENS: u64 = 11;

/// OpenAI `total_tokens`.
pub const OPENAI_TOTAL_TOKENS: u64 = PROMPT_TOKENS + COMPLETION_TOKENS;

/// Gemini `totalTokenCount`.
pub const GEMINI_TOTAL_TOKENS: u64 = PROMPT_TOKENS + COMPLETION_TOKENS + THOUGHTS_TOKENS;

/// Anthropic `output_tokens` in the `message_start` event of a stream.
pub const ANTHROPIC_START_OUTPUT_TOKENS: u64 = 1;

/// Unix time every answer reports as its creation time, so bodies are reproducible.
pub const CREATED: u64 = 1_700_000_000;

/// Completion tokens counted after the first `done` of `total` streamed pieces: grows
/// with each piece and reaches [`COMPLETION_TOKENS`] on the last one.
pub(crate) fn running_completion_tokens(done: usize, total: usize) -> u64 {
    if total == 0 {
        return COMPLETION_TOKENS;
    }
    COMPLETION_TOKENS * done as u64 / total as u64
}

#[cfg(test)]
mod tests {
    use super::{COMPLETION_TOKENS, TEXT, TEXT_PIECES, running_completion_tokens};

    #[test]
    fn pieces_spell_the_text() {
        assert_eq!(TEXT_PIECES.concat(), TEXT);
    }

    #[test]
    fn running_completion_tokens_grow_to_the_total_on_the_last_piece() {
        let total = TEXT_PIECES.len();
        let running: Vec<u64> = (1..=total)
            .map(|done| running_completion_tokens(done, total))
            .collect();

        assert!(running.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(running.last(), Some(&COMPLETION_TOKENS));
    }
}
