//! The traffic `ai-proxy plugin check` runs when no `--samples` folder is
//! given: requests and answers in the OpenAI, Anthropic and Gemini wire
//! formats (every plugin is shown every request; the answers count for the
//! plugins that accept it), plus error answers every plugin classifies.
//! They carry no `expect` block: what is right depends on the plugin.

use crate::conformance::samples::{Sample, SampleError, from_list};

/// Error answers every plugin is asked to classify with the built-in samples.
pub const ERRORS: [(u16, &str, &str); 4] = [
    (
        429,
        "retry-after: 7",
        r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#,
    ),
    (
        401,
        "",
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    ),
    (
        400,
        "",
        r#"{"error":{"message":"context too long","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
    ),
    (
        503,
        "",
        r#"{"error":{"message":"The server is overloaded","type":"server_error"}}"#,
    ),
];

const BUILT_IN: &str = r#"[
  {
    "name": "openai chat (JSON)",
    "method": "POST",
    "path": "/v1/chat/completions",
    "headers": [["content-type", "application/json"]],
    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]},
    "response": {"status": 200, "headers": [["content-type", "application/json"]],
      "body": "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}"}
  },
  {
    "name": "openai chat (stream)",
    "method": "POST",
    "path": "/v1/chat/completions",
    "headers": [["content-type", "application/json"]],
    "body": {"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Hello"}]},
    "response": {"status": 200, "headers": [["content-type", "text/event-stream"]],
      "body": "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\ndata: [DONE]\n\n"}
  },
  {
    "name": "anthropic messages (JSON)",
    "method": "POST",
    "path": "/v1/messages",
    "headers": [["content-type", "application/json"], ["anthropic-version", "2023-06-01"]],
    "body": {"model": "claude-sonnet-4", "max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]},
    "response": {"status": 200, "headers": [["content-type", "application/json"]],
      "body": "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}"}
  },
  {
    "name": "gemini generateContent (JSON)",
    "method": "POST",
    "path": "/v1beta/models/gemini-2.5-flash:generateContent",
    "headers": [["content-type", "application/json"]],
    "body": {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]},
    "response": {"status": 200, "headers": [["content-type", "application/json"]],
      "body": "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":3,\"totalTokenCount\":15},\"modelVersion\":\"gemini-2.5-flash\"}"}
  }
]"#;

/// The built-in samples.
pub fn samples() -> Result<Vec<Sample>, SampleError> {
    from_list(BUILT_IN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_samples_parse() {
        let samples = samples().unwrap();
        assert_eq!(samples.len(), 4);
        assert!(samples.iter().all(|s| s.response.is_some()));
        assert!(samples.iter().all(|s| s.expect.is_none()));
    }
}
