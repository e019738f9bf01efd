//! `inspect` for any provider whose requests are JSON objects carrying
//! `model` (a string) and `stream` (a boolean) at their top level, which is
//! most of them (OpenAI and the OpenAI-compatible APIs, Anthropic, Cohere,
//! Mistral...).
//!
//! The body is read with [`json::scan`](crate::json::scan): in one pass and
//! constant memory, so any body the gateway accepts is inspected within the
//! plugin's memory cap, however large or deep.

use crate::json::{JsonError, scan};
use crate::{PluginError, RequestFacts, RequestHead};

/// The model (`model`, a string) and the stream flag (`stream: true`) of a
/// JSON request body. An empty body, or one in another format (multipart
/// uploads), has no model, unless its `content-type` says JSON, which
/// makes it a bad request.
pub fn json_body(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
    const NONE: RequestFacts = RequestFacts {
        model: None,
        stream: false,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(NONE);
    }
    let [model, stream] = match scan::fields(body, ["model", "stream"]) {
        Ok(found) => found,
        Err(error) if declares_json(head) => return Err(not_json(error)),
        Err(_) => return Ok(NONE),
    };
    let raw = |range: Option<std::ops::Range<usize>>| range.and_then(|r| body.get(r));
    let model = match raw(model) {
        None | Some(b"null") => None,
        Some(text) if text.starts_with(b"\"") => serde_json::from_slice::<String>(text).ok(),
        Some(_) => {
            return Err(PluginError::BadRequest(
                "`model` must be a string".to_owned(),
            ));
        }
    };
    Ok(RequestFacts {
        model,
        stream: raw(stream) == Some(b"true"),
    })
}

/// The bad request a body that is not JSON makes, in words a client can act on.
pub fn not_json(error: JsonError) -> PluginError {
    PluginError::BadRequest(match error {
        JsonError::Invalid(_) => "request body is not valid JSON".to_owned(),
        JsonError::TooDeep => format!(
            "request body nests arrays and objects deeper than {} levels",
            scan::MAX_DEPTH
        ),
    })
}

/// Whether the request's `content-type` is JSON (`application/json`,
/// `...+json`).
pub fn declares_json(head: &RequestHead) -> bool {
    head.header("content-type").is_some_and(|value| {
        let media_type = value.split(';').next().unwrap_or_default().trim();
        media_type.eq_ignore_ascii_case("application/json")
            || media_type.to_ascii_lowercase().ends_with("+json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Header;

    fn head(content_type: Option<&str>) -> RequestHead {
        RequestHead {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: content_type
                .map(|v| Header {
                    name: "content-type".into(),
                    value: v.into(),
                })
                .into_iter()
                .collect(),
        }
    }

    fn facts(body: &str) -> Result<RequestFacts, PluginError> {
        json_body(&head(Some("application/json")), body.as_bytes())
    }

    #[test]
    fn model_and_stream_are_read_from_the_top_level_only() {
        let found = facts(
            r#"{"messages":[{"model":"inner","stream":true}],"model":"gpt-4o","stream":true}"#,
        )
        .expect("facts");
        assert_eq!(found.model.as_deref(), Some("gpt-4o"));
        assert!(found.stream);
        let found = facts(r#"{"model":"a\"b","stream":"yes"}"#).expect("facts");
        assert_eq!(found.model.as_deref(), Some("a\"b"));
        assert!(!found.stream, "only `true` streams");
        assert_eq!(facts(r#"{"model":null}"#).expect("facts").model, None);
    }

    #[test]
    fn a_model_that_is_no_string_and_a_body_that_is_no_json_are_bad_requests() {
        assert!(matches!(
            facts(r#"{"model":["x"]}"#),
            Err(PluginError::BadRequest(_))
        ));
        assert!(matches!(
            facts(r#"{"model":"x""#),
            Err(PluginError::BadRequest(_))
        ));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let Err(PluginError::BadRequest(message)) = facts(&deep) else {
            panic!("deep body accepted");
        };
        assert!(message.contains("deeper than 128"), "{message}");
        let plain = json_body(&head(Some("text/plain")), b"{not json").expect("facts");
        assert_eq!(plain.model, None);
        assert_eq!(facts("  ").expect("facts").model, None);
    }

    #[test]
    fn a_body_of_millions_of_elements_is_inspected() {
        let mut body = String::from(r#"{"model":"gpt-4o-mini","messages":["#);
        body.push_str(&"0,".repeat(3_000_000));
        body.push_str("0]}");
        let found = facts(&body).expect("facts");
        assert_eq!(found.model.as_deref(), Some("gpt-4o-mini"));
    }
}
