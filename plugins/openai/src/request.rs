//! `inspect` and `prepare`: the model and stream flag from the JSON body,
//! the credential in `authorization: Bearer`.
//!
//! Streamed (legacy and chat) completions only report usage when the client
//! sets `stream_options.include_usage`; `prepare` sets it, because a stream
//! the gateway cannot count would let a client spend without limit. When the
//! client sent no `stream_options`, the field is spliced into the body text
//! so every other byte reaches OpenAI exactly as the client wrote it.

use ai_proxy_sdk::{OutboundRequest, PluginError, RequestFacts, RequestHead, http, openai};

/// The model and stream flag of a request; bodies that are not JSON are
/// refused only when the client said they were JSON.
pub fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
    openai::inspect(head, body)
}

/// The client's request with the credential placed and, for streamed
/// completions, usage reporting switched on.
pub fn prepare(
    head: RequestHead,
    body: &[u8],
    credential: &str,
) -> Result<OutboundRequest, PluginError> {
    let new_body = openai::ask_for_stream_usage(&head, body)?;
    let RequestHead {
        path, mut headers, ..
    } = head;
    http::set_header(
        &mut headers,
        "authorization",
        format!("Bearer {credential}"),
    );
    Ok(OutboundRequest {
        path,
        headers,
        body: new_body,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use ai_proxy_sdk::{Header, json};
    use serde_json::Value;

    fn head(method: &str, path: &str, headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(name, value)| Header {
                    name: (*name).to_owned(),
                    value: (*value).to_owned(),
                })
                .collect(),
        }
    }

    fn post(path: &str) -> RequestHead {
        head("POST", path, &[("content-type", "application/json")])
    }

    fn facts(model: Option<&str>, stream: bool) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_owned),
            stream,
        }
    }

    fn body_json(out: &OutboundRequest) -> Value {
        json::parse(out.body.as_deref().expect("a rewritten body")).expect("JSON body")
    }

    #[test]
    fn inspect_chat_completion_reads_model_and_stream() {
        let body = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
        assert_eq!(
            inspect(&post("/v1/chat/completions"), body),
            Ok(facts(Some("gpt-4o"), true))
        );
    }

    #[test]
    fn inspect_without_stream_field_is_not_streamed() {
        for path in ["/v1/completions", "/v1/responses", "/v1/embeddings"] {
            let body = br#"{"model":"m","input":"hi"}"#;
            assert_eq!(
                inspect(&post(path), body),
                Ok(facts(Some("m"), false)),
                "{path}"
            );
        }
    }

    #[test]
    fn inspect_stream_false_or_non_bool_is_not_streamed() {
        let body = br#"{"model":"gpt-5","stream":false}"#;
        assert_eq!(
            inspect(&post("/v1/responses"), body),
            Ok(facts(Some("gpt-5"), false))
        );
        let body = br#"{"model":"gpt-5","stream":"true"}"#;
        assert_eq!(
            inspect(&post("/v1/responses"), body),
            Ok(facts(Some("gpt-5"), false))
        );
    }

    #[test]
    fn inspect_get_without_body_has_no_model() {
        assert_eq!(
            inspect(&head("GET", "/v1/models", &[]), b""),
            Ok(facts(None, false))
        );
    }

    #[test]
    fn inspect_json_without_model_has_no_model() {
        assert_eq!(inspect(&post("/v1/files"), b"{}"), Ok(facts(None, false)));
        assert_eq!(
            inspect(&post("/v1/x"), br#"{"model":null}"#),
            Ok(facts(None, false))
        );
    }

    #[test]
    fn inspect_invalid_json_with_json_content_type_is_bad_request() {
        let err = inspect(&post("/v1/chat/completions"), b"{\"model\":");
        let expected = PluginError::BadRequest("request body is not valid JSON".to_owned());
        assert_eq!(err, Err(expected.clone()));
        let suffixed = head(
            "POST",
            "/v1/x",
            &[("Content-Type", "application/vnd.api+json; charset=utf-8")],
        );
        assert_eq!(inspect(&suffixed, b"nope"), Err(expected));
    }

    #[test]
    fn inspect_multipart_body_is_passed_through_without_model() {
        let multipart = head(
            "POST",
            "/v1/audio/transcriptions",
            &[("content-type", "multipart/form-data; boundary=x")],
        );
        assert_eq!(
            inspect(&multipart, b"--x\r\n...binary..."),
            Ok(facts(None, false))
        );
    }

    #[test]
    fn inspect_non_string_model_is_bad_request() {
        let got = inspect(&post("/v1/chat/completions"), br#"{"model":4}"#);
        assert!(matches!(got, Err(PluginError::BadRequest(_))), "{got:?}");
    }

    #[test]
    fn prepare_sets_bearer_and_keeps_path_and_other_headers() {
        let head = head(
            "POST",
            "/v1/responses?foo=bar",
            &[
                ("content-type", "application/json"),
                ("openai-organization", "org-1"),
                ("Authorization", "Bearer client"),
            ],
        );
        let body = br#"{"model":"gpt-5","input":"hi","stream":true}"#;
        let out = prepare(head, body, "PLACEHOLDER").expect("prepared");
        assert_eq!(out.path, "/v1/responses?foo=bar");
        assert_eq!(
            http::header(&out.headers, "authorization"),
            Some("Bearer PLACEHOLDER")
        );
        assert_eq!(
            out.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
                .count(),
            1
        );
        assert_eq!(
            http::header(&out.headers, "openai-organization"),
            Some("org-1")
        );
        assert_eq!(
            http::header(&out.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(out.body, None, "Responses streams always report usage");
    }

    #[test]
    fn prepare_streamed_chat_adds_include_usage_and_keeps_every_other_byte() {
        let body = br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}],"temperature":0.7}"#;
        let out = prepare(post("/v1/chat/completions"), body, "K").expect("prepared");
        let expected = br#"{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}],"temperature":0.7}"#;
        assert_eq!(out.body.as_deref(), Some(&expected[..]));
    }

    #[test]
    fn prepare_streamed_legacy_completion_adds_include_usage() {
        let body = b" \n{ \"model\": \"gpt-3.5-turbo-instruct\", \"stream\": true }";
        let out = prepare(post("/v1/completions"), body, "K").expect("prepared");
        let value = body_json(&out);
        assert!(json::bool_at(&value, &["stream_options", "include_usage"]));
        assert_eq!(
            json::str_at(&value, &["model"]),
            Some("gpt-3.5-turbo-instruct")
        );
    }

    #[test]
    fn prepare_existing_stream_options_gain_include_usage_and_keep_their_fields() {
        let body =
            br#"{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":false}}"#;
        let value = body_json(&prepare(post("/v1/chat/completions"), body, "K").expect("prepared"));
        assert_eq!(
            value["stream_options"],
            serde_json::json!({"include_obfuscation": false, "include_usage": true})
        );
        assert_eq!(value["model"], "gpt-4o");
    }

    #[test]
    fn prepare_include_usage_false_is_switched_on() {
        let body = br#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false}}"#;
        let value = body_json(&prepare(post("/v1/chat/completions"), body, "K").expect("prepared"));
        assert!(json::bool_at(&value, &["stream_options", "include_usage"]));
    }

    #[test]
    fn prepare_null_stream_options_are_replaced() {
        let body = br#"{"model":"gpt-4o","stream":true,"stream_options":null}"#;
        let value = body_json(&prepare(post("/v1/chat/completions"), body, "K").expect("prepared"));
        assert_eq!(
            value["stream_options"],
            serde_json::json!({"include_usage": true})
        );
    }

    #[test]
    fn prepare_chat_already_asking_for_usage_is_unchanged() {
        let body = br#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}"#;
        let out = prepare(post("/v1/chat/completions"), body, "K").expect("prepared");
        assert_eq!(out.body, None);
    }

    #[test]
    fn prepare_unstreamed_chat_is_unchanged() {
        let body = br#"{"model":"gpt-4o","messages":[]}"#;
        let out = prepare(post("/v1/chat/completions?x=1"), body, "K").expect("prepared");
        assert_eq!(out.body, None);
        assert_eq!(out.path, "/v1/chat/completions?x=1");
    }

    #[test]
    fn prepare_get_has_no_body_and_bearer() {
        let out = prepare(head("GET", "/v1/models", &[]), b"", "K").expect("prepared");
        assert_eq!(out.body, None);
        assert_eq!(
            out.headers,
            vec![Header {
                name: "authorization".into(),
                value: "Bearer K".into()
            }]
        );
    }

    #[test]
    fn prepare_invalid_json_is_bad_request() {
        let got = prepare(post("/v1/chat/completions"), b"{", "K");
        assert!(matches!(got, Err(PluginError::BadRequest(_))));
    }
}
