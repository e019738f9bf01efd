//! `ai-proxy plugin check`: the upload validation offline, then what a
//! plugin extracts from sample traffic, printed for its author.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use ai_proxy_tests::gateway::{azure_openai_wasm, gateway_binary, openai_next_wasm};

fn check(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(gateway_binary())
        .args(["plugin", "check"])
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_good_plugin_is_accepted_and_shows_what_it_extracts() {
    let wasm = openai_next_wasm();
    let (code, out) = check(&[wasm.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    for expected in [
        "name            openai",
        "version         0.2.0",
        "credential      authorization: Bearer",
        "health probe    GET /v1/models",
        // Built with the Rust SDK: it exports stream-control (and writes no terminal event).
        "stream control  yes",
        "sample: openai chat (JSON)",
        "model           gpt-4o-mini",
        "credential in   header authorization",
        "usage           input 12 (cached 0), output 3",
        "cost            $0.",
        "sample: openai chat (stream)",
        "stream          true",
        "429             rate_limited, retry after 7s",
        "401             auth_invalid",
        "503             server_error",
        "OK: openai 0.2.0 would be accepted",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains("sk-sample-credential"),
        "the credential is never printed"
    );

    let azure = azure_openai_wasm();
    let (code, out) = check(&[azure.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("credential in   header api-key"), "{out}");
}

#[test]
fn a_bad_file_is_rejected_with_its_reason() {
    let dir = std::env::temp_dir().join(format!("aip-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.wasm");
    std::fs::write(&text, "not wasm at all").unwrap();
    let (code, out) = check(&[text.as_os_str()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REJECTED (not_a_component)"), "{out}");

    // Author samples replace the built-in ones.
    let samples = dir.join("samples");
    std::fs::create_dir_all(&samples).unwrap();
    std::fs::write(
        samples.join("embeddings.json"),
        r#"{"name": "my embeddings", "method": "POST", "path": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": "hi"}}"#,
    )
    .unwrap();
    let wasm = openai_next_wasm();
    let (code, out) = check(&[wasm.as_os_str(), "--samples".as_ref(), samples.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("sample: my embeddings")
            && out.contains("model           text-embedding-3-small"),
        "{out}"
    );
    assert!(!out.contains("sample: openai chat"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn samples_stream_by_the_request_flag_and_errors_are_classified() {
    let dir = std::env::temp_dir().join(format!("aip-check-stream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("stream")).unwrap();
    // No content-type on the answer: the request's stream flag decides.
    std::fs::write(
        dir.join("stream/case.json"),
        r#"{"name": "stream without content-type", "method": "POST", "path": "/v1/chat/completions",
            "headers": [["content-type", "application/json"]],
            "body": "{\"model\": \"gpt-4o-mini\", \"stream\": true}",
            "response": {"status": 200, "body_file": "answer.sse"},
            "expect": {"stream": true, "usage": {"input_tokens": 12, "output_tokens": 3,
              "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("stream/answer.sse"),
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\r\n\r\n\
         data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\r\n\r\n\
         data: [DONE]\r\n\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("throttled.json"),
        r#"{"name": "throttled", "method": "POST", "path": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini"},
            "response": {"status": 429, "headers": [["retry-after", "12"]],
              "body": {"error": {"type": "rate_limit_error"}}},
            "expect": {"error_class": "rate_limited", "retry_after": 12, "usage": null}}"#,
    )
    .unwrap();
    let wasm = openai_next_wasm();
    let (code, out) = check(&[wasm.as_os_str(), "--samples".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    for expected in [
        "read as a stream because the request streams",
        "split in two at",
        "usage           input 12 (cached 0), output 3",
        // openai-next exports stream-control but writes no terminal event.
        "terminal event  none after byte 60",
        "error class     rate_limited, retry after 12s",
        "probe prepared  GET /v1/models, credential in header authorization",
        "all 2 samples ran without a difference",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        !out.contains("error answers:"),
        "built-in errors only without --samples"
    );

    // A stray file is an error, not silently skipped.
    std::fs::write(dir.join("notes.txt"), "todo").unwrap();
    let (code, out) = check(&[wasm.as_os_str(), "--samples".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("notes.txt: not a case"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_is_printed_not_opened() {
    let (code, out) = check(&["--help".as_ref()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Usage: ai-proxy plugin check"), "{out}");
}
