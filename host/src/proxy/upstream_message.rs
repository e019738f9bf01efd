//! The upstream's own words for a failed attempt, as the trace keeps them.
//!
//! An operator reading a failover trace needs to know what each upstream
//! said ("mock forced status 500", "Incorrect API key provided"), not only
//! its status. The providers put that sentence in `error.message` (OpenAI,
//! Anthropic, Gemini, Azure), `message` or `detail`; anything else is kept
//! as text. The body was masked before the plugin saw it, but JSON escapes
//! (`\u0073k-…`) could spell a secret that only appears once decoded, so
//! the decoded message is masked again. It is bounded to
//! [`MAX_UPSTREAM_MESSAGE_CHARS`] characters, whitespace runs collapsed.

use serde_json::Value;

use super::mask::mask_credentials;

/// Longest upstream message kept per attempt, in characters.
pub const MAX_UPSTREAM_MESSAGE_CHARS: usize = 300;

/// What ends a message cut at the bound.
const ELLIPSIS: char = '…';

/// The upstream's error message in `body`, masked against `secret` and
/// bounded; `None` for an empty body.
pub fn upstream_message(body: &[u8], secret: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => json_message(&json).unwrap_or_else(|| String::from_utf8_lossy(body).into()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut bytes = collapse_whitespace(&text).into_bytes();
    mask_credentials(&mut bytes, secret);
    // Masking replaces whole bytes with ASCII; a cut multi-byte character
    // becomes U+FFFD instead of failing.
    let masked = String::from_utf8_lossy(&bytes).into_owned();
    let bounded = bound(&masked);
    (!bounded.is_empty()).then_some(bounded)
}

/// The message of the providers' error shapes, if the body has one.
fn json_message(json: &Value) -> Option<String> {
    let error = json.get("error");
    [
        error.and_then(|e| e.get("message")),
        error.filter(|e| e.is_string()),
        json.get("message"),
        json.get("detail"),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.as_str().map(str::to_owned))
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most [`MAX_UPSTREAM_MESSAGE_CHARS`] characters, the last an ellipsis when cut.
fn bound(text: &str) -> String {
    if text.chars().count() <= MAX_UPSTREAM_MESSAGE_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_UPSTREAM_MESSAGE_CHARS - 1).collect();
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"sk-live-abcdefghijklmnop";

    #[test]
    fn the_providers_shapes_give_their_message() {
        for body in [
            r#"{"error":{"message":"mock forced status 500","type":"server_error"}}"#,
            r#"{"type":"error","error":{"type":"api_error","message":"mock forced status 500"}}"#,
            r#"{"error":{"code":500,"message":"mock forced status 500","status":"INTERNAL"}}"#,
            r#"{"error":"mock forced status 500"}"#,
            r#"{"message":"mock forced status 500"}"#,
            r#"{"detail":"mock forced status 500"}"#,
        ] {
            assert_eq!(
                upstream_message(body.as_bytes(), SECRET).as_deref(),
                Some("mock forced status 500"),
                "{body}"
            );
        }
    }

    #[test]
    fn text_and_unknown_json_are_kept_as_text() {
        assert_eq!(
            upstream_message(b"<html>\n  Bad   gateway\n</html>", SECRET).as_deref(),
            Some("<html> Bad gateway </html>")
        );
        assert_eq!(
            upstream_message(br#"{"oops":1}"#, SECRET).as_deref(),
            Some(r#"{"oops":1}"#)
        );
        assert_eq!(upstream_message(b"  \n", SECRET), None);
        assert_eq!(upstream_message(b"", SECRET), None);
    }

    #[test]
    fn a_secret_spelled_with_json_escapes_is_masked_once_decoded() {
        // Every character escaped: the raw body holds no run of the secret.
        let escaped: String = SECRET.iter().map(|b| format!("\\u{b:04x}")).collect();
        let body = format!(r#"{{"error":{{"message":"Incorrect API key provided: {escaped}"}}}}"#);
        let message = upstream_message(body.as_bytes(), SECRET).unwrap();
        assert!(!message.contains("abcdefgh"), "{message}");
        assert!(
            message.starts_with("Incorrect API key provided: "),
            "{message}"
        );
    }

    #[test]
    fn a_partial_quote_of_the_secret_is_masked() {
        let body = br#"{"error":{"message":"key ...ijklmnop was revoked"}}"#;
        let message = upstream_message(body, SECRET).unwrap();
        assert!(!message.contains("ijkl"), "{message}");
    }

    #[test]
    fn the_message_is_bounded_at_the_limit() {
        let exact = "a".repeat(MAX_UPSTREAM_MESSAGE_CHARS);
        assert_eq!(upstream_message(exact.as_bytes(), SECRET).unwrap(), exact);
        let long = "é".repeat(MAX_UPSTREAM_MESSAGE_CHARS + 1);
        let cut = upstream_message(long.as_bytes(), SECRET).unwrap();
        assert_eq!(cut.chars().count(), MAX_UPSTREAM_MESSAGE_CHARS);
        assert!(cut.ends_with(ELLIPSIS));
    }
}
