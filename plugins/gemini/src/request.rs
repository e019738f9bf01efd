//! `inspect` and `prepare`: the model and method from the path, the
//! credential in `x-goog-api-key`.
//!
//! Paths look like `/v1beta/models/gemini-2.5-flash:generateContent` or
//! `/v1beta/tunedModels/my-model:streamGenerateContent?alt=sse`; the model
//! is the bare id after `models/` or `tunedModels/`, the method what follows
//! the colon (which some clients percent-encode as `%3A`).

use ai_proxy_sdk::endpoints::{Endpoint, EndpointClass};
use ai_proxy_sdk::{OutboundRequest, RequestFacts, RequestHead, http};

/// Gemini's endpoints and their classes, on both API versions, for base
/// and tuned models.
pub fn endpoints() -> Vec<Endpoint> {
    use EndpointClass::*;
    let mut table = Vec::new();
    for version in ["v1beta", "v1"] {
        for models in ["models", "tunedModels"] {
            for (method, class) in [
                ("generateContent", Inference),
                ("streamGenerateContent", Inference),
                ("countTokens", TokenCounting),
                ("embedContent", Embeddings),
                ("batchEmbedContents", Embeddings),
                ("batchGenerateContent", Batches),
            ] {
                let path = format!("/{version}/{models}/*:{method}");
                table.push(Endpoint::new("POST", &path, class));
            }
        }
        table.push(Endpoint::new("GET", &format!("/{version}/models"), Models));
        table.push(Endpoint::new(
            "GET",
            &format!("/{version}/models/*"),
            Models,
        ));
        table.push(Endpoint::new("*", &format!("/{version}/files/**"), Files));
        table.push(Endpoint::new(
            "*",
            &format!("/upload/{version}/files/**"),
            Files,
        ));
        table.push(Endpoint::new(
            "*",
            &format!("/{version}/batches/**"),
            Batches,
        ));
        table.push(Endpoint::new(
            "*",
            &format!("/{version}/tunedModels/**"),
            FineTuning,
        ));
    }
    table
}

/// The method whose answer is a stream.
const STREAM_METHOD: &str = "streamGenerateContent";

/// The model and stream flag of a request; never fails, since a request
/// without a model (listing models, uploading files) is still valid.
pub fn inspect(head: &RequestHead) -> RequestFacts {
    let target = model_and_method(&head.path);
    let stream = target
        .as_ref()
        .is_some_and(|(_, method)| *method == Some(STREAM_METHOD))
        && http::query_param(&head.path, "alt") == Some("sse");
    RequestFacts {
        model: target.map(|(model, _)| model.to_owned()),
        stream,
    }
}

/// The client's request with `x-goog-api-key` set, and neither an
/// `authorization` header nor a `key` query parameter.
pub fn prepare(head: RequestHead, credential: &str) -> OutboundRequest {
    let RequestHead {
        path, mut headers, ..
    } = head;
    http::remove_header(&mut headers, "authorization");
    http::set_header(&mut headers, "x-goog-api-key", credential);
    OutboundRequest {
        path: without_query_param(&path, "key"),
        headers,
        body: None,
    }
}

/// The model id and method named by `path`, if it names a model.
fn model_and_method(path: &str) -> Option<(&str, Option<&str>)> {
    let mut segments = http::path_only(path).split('/');
    segments.find(|s| *s == "models" || *s == "tunedModels")?;
    let target = segments.next().filter(|s| !s.is_empty())?;
    let (model, method) = match split_method(target) {
        Some((model, method)) => (model, Some(method)),
        None => (target, None),
    };
    (!model.is_empty()).then_some((model, method))
}

/// Splits `model:method` (or `model%3Amethod`).
fn split_method(target: &str) -> Option<(&str, &str)> {
    if let Some(split) = target.split_once(':') {
        return Some(split);
    }
    let at = target.to_ascii_lowercase().find("%3a")?;
    Some((target.get(..at)?, target.get(at + 3..)?))
}

/// `path` without any `name` query parameter (and without a `?` left empty).
fn without_query_param(path: &str, name: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name))
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai_proxy_sdk::Header;

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

    fn facts_of(path: &str) -> RequestFacts {
        inspect(&head("POST", path, &[]))
    }

    fn facts(model: Option<&str>, stream: bool) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_owned),
            stream,
        }
    }

    #[test]
    fn inspect_generate_content_reads_model_and_is_not_streamed() {
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-flash:generateContent"),
            facts(Some("gemini-2.5-flash"), false)
        );
    }

    #[test]
    fn inspect_stream_generate_content_with_alt_sse_is_streamed() {
        assert_eq!(
            facts_of("/v1/models/gemini-2.5-pro:streamGenerateContent?alt=sse"),
            facts(Some("gemini-2.5-pro"), true)
        );
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-pro:streamGenerateContent?key=abc&alt=sse"),
            facts(Some("gemini-2.5-pro"), true)
        );
    }

    #[test]
    fn inspect_stream_generate_content_without_alt_sse_is_a_json_array_not_sse() {
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-pro:streamGenerateContent"),
            facts(Some("gemini-2.5-pro"), false)
        );
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=json"),
            facts(Some("gemini-2.5-pro"), false)
        );
    }

    #[test]
    fn inspect_other_methods_read_the_model() {
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.0-flash:countTokens"),
            facts(Some("gemini-2.0-flash"), false)
        );
        assert_eq!(
            facts_of("/v1beta/models/gemini-embedding-001:embedContent"),
            facts(Some("gemini-embedding-001"), false)
        );
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-flash"),
            facts(Some("gemini-2.5-flash"), false)
        );
    }

    #[test]
    fn inspect_tuned_models_read_the_bare_id() {
        assert_eq!(
            facts_of("/v1beta/tunedModels/my-tuned-abc123:streamGenerateContent?alt=sse"),
            facts(Some("my-tuned-abc123"), true)
        );
    }

    #[test]
    fn inspect_percent_encoded_colon_is_split() {
        assert_eq!(
            facts_of("/v1beta/models/gemini-2.5-flash%3AstreamGenerateContent?alt=sse"),
            facts(Some("gemini-2.5-flash"), true)
        );
    }

    #[test]
    fn inspect_paths_without_a_model_have_none() {
        for path in [
            "/v1beta/models",
            "/v1beta/models/",
            "/v1beta/models?pageSize=50",
            "/upload/v1beta/files",
            "/v1beta/models/:generateContent",
        ] {
            assert_eq!(
                inspect(&head("GET", path, &[])),
                facts(None, false),
                "{path}"
            );
        }
    }

    #[test]
    fn prepare_sets_goog_api_key_and_drops_client_credentials() {
        let client = head(
            "POST",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=CLIENT&alt=sse",
            &[
                ("Authorization", "Bearer ya29.client"),
                ("content-type", "application/json"),
                ("x-goog-api-client", "genai-js/1.0"),
            ],
        );
        let out = prepare(client, "PLACEHOLDER");
        assert_eq!(
            out.path,
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(out.body, None);
        assert_eq!(http::header(&out.headers, "authorization"), None);
        assert_eq!(
            http::header(&out.headers, "x-goog-api-key"),
            Some("PLACEHOLDER")
        );
        assert_eq!(
            http::header(&out.headers, "x-goog-api-client"),
            Some("genai-js/1.0")
        );
        assert_eq!(
            http::header(&out.headers, "content-type"),
            Some("application/json")
        );
    }

    #[test]
    fn prepare_replaces_a_client_goog_api_key() {
        let out = prepare(
            head("GET", "/v1beta/models", &[("X-Goog-Api-Key", "client")]),
            "K",
        );
        assert_eq!(
            out.headers,
            vec![Header {
                name: "x-goog-api-key".into(),
                value: "K".into()
            }]
        );
    }

    #[test]
    fn prepare_removes_a_lone_key_param_with_its_question_mark() {
        let out = prepare(
            head(
                "POST",
                "/v1beta/models/gemini-2.5-flash:generateContent?key=abc",
                &[],
            ),
            "K",
        );
        assert_eq!(out.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    }

    #[test]
    fn prepare_keeps_other_query_params_and_similar_names() {
        let out = prepare(
            head(
                "GET",
                "/v1beta/models?pageSize=5&key=a&keyword=b&key&pageToken=t",
                &[],
            ),
            "K",
        );
        assert_eq!(out.path, "/v1beta/models?pageSize=5&keyword=b&pageToken=t");
    }
}
