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
