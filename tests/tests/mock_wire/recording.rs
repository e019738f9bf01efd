//! Recording: what the mock received, in order, and how to turn it off.

use ai_proxy_tests::mock::{MockUpstream, Options};
use serde_json::json;

use super::{client, get, post};

#[tokio::test]
async fn requests_are_recorded_in_order_with_lowercase_headers_and_body() {
    let mock = MockUpstream::start().await;
    let body = json!({"model": "m", "messages": []});

    post(
        &mock,
        "/v1/chat/completions",
        &[("X-Custom-Header", "Value-1")],
        &body,
    )
    .await;
    post(
        &mock,
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        &[("x-goog-api-key", "k")],
        &json!({}),
    )
    .await;
    get(&mock, "/v1/models", &[]).await;

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path_and_query, "/v1/chat/completions");
    assert_eq!(recorded[0].header("x-custom-header"), Some("Value-1"));
    assert_eq!(recorded[0].header("X-CUSTOM-HEADER"), Some("Value-1"));
    assert!(
        recorded[0]
            .headers
            .iter()
            .all(|(name, _)| *name == name.to_lowercase())
    );
    assert_eq!(recorded[0].body, body.to_string().into_bytes());
    assert_eq!(recorded[0].json(), Some(body));
    assert_eq!(
        recorded[1].path_and_query,
        "/v1beta/models/g:streamGenerateContent?alt=sse"
    );
    assert_eq!(recorded[2].method, "GET");
    assert!(recorded[2].body.is_empty());
}

#[tokio::test]
async fn clear_forgets_what_was_recorded() {
    let mock = MockUpstream::start().await;
    get(&mock, "/v1/models", &[]).await;

    mock.clear();
    get(&mock, "/v1beta/models", &[]).await;

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path_and_query, "/v1beta/models");
}

#[tokio::test]
async fn recording_off_records_nothing_and_still_answers() {
    let mock = MockUpstream::start_with(Options { record: false }).await;

    let answer = post(&mock, "/v1/chat/completions", &[], &json!({"model": "m"})).await;

    assert_eq!(answer.status, 200);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn recording_is_readable_and_clearable_over_http() {
    let mock = MockUpstream::start().await;
    post(
        &mock,
        "/v1/messages",
        &[("x-api-key", "k")],
        &json!({"model": "m"}),
    )
    .await;

    let dump = get(&mock, "/__mock/requests", &[]).await.json();
    let cleared =
        super::read(client().delete(format!("{}/__mock/requests", mock.base_url()))).await;

    assert_eq!(dump.as_array().unwrap().len(), 1);
    assert_eq!(dump[0]["path_and_query"], "/v1/messages");
    assert_eq!(dump[0]["body"], r#"{"model":"m"}"#);
    assert!(
        dump[0]["headers"]
            .as_array()
            .unwrap()
            .contains(&json!(["x-api-key", "k"]))
    );
    assert_eq!(cleared.status, 204);
    assert!(mock.requests().is_empty());
}
