//! The conformance vectors of the provider plugins this repository ships
//! (`plugins/*/vectors/`, a folder per case), embedded so that the
//! gateway runs them on an upload of a plugin of the same name without
//! the source tree. A test checks the list below against the folders, so
//! a vector added there and not here fails the build's tests.

use std::path::Path;

use super::samples::{Sample, SampleError, from_files};

/// `(path below the vectors folder, bytes)`, read at build time.
type Files = &'static [(&'static str, &'static [u8])];

macro_rules! vectors {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$((
            $file,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/../plugins/", $dir, "/vectors/", $file
            )) as &[u8],
        )),*]
    };
}

/// `(plugin name, folder below plugins/, vector files)`.
pub const BUILTIN_VECTORS: &[(&str, &str, Files)] = &[
    (
        "openai",
        "openai",
        vectors!("openai":
            "chat_json_cache_reasoning/answer.body",
            "chat_json_cache_reasoning/case.json",
            "chat_stream_crlf/answer.sse",
            "chat_stream_crlf/case.json",
            "chat_stream_no_usage/answer.sse",
            "chat_stream_no_usage/case.json",
            "chat_stream_usage_at_end/answer.sse",
            "chat_stream_usage_at_end/case.json",
            "embeddings/answer.body",
            "embeddings/case.json",
            "error_400_bad_request/case.json",
            "error_401_auth_invalid/case.json",
            "error_403_region_other/case.json",
            "error_429_quota_exhausted/case.json",
            "error_429_rate_limited/case.json",
            "error_429_retry_after_ms/case.json",
            "error_500_not_json/case.json",
            "error_503_server_error/case.json",
            "responses_json_cache_reasoning/answer.body",
            "responses_json_cache_reasoning/case.json",
            "responses_stream/answer.sse",
            "responses_stream/case.json",
            "responses_stream_incomplete/answer.sse",
            "responses_stream_incomplete/case.json",
        ),
    ),
    (
        "anthropic",
        "anthropic",
        vectors!("anthropic":
            "error_400_bad_request/case.json",
            "error_400_credit_balance/case.json",
            "error_401_auth_invalid/case.json",
            "error_402_billing_error/case.json",
            "error_403_permission_other/case.json",
            "error_429_rate_limited/case.json",
            "error_500_api_error/case.json",
            "error_529_overloaded/case.json",
            "message_json_cache_read_write/answer.body",
            "message_json_cache_read_write/case.json",
            "stream_error_event/answer.sse",
            "stream_error_event/case.json",
            "stream_thinking_cache_write_delta_replaces/answer.sse",
            "stream_thinking_cache_write_delta_replaces/case.json",
            "stream_usage_split/answer.sse",
            "stream_usage_split/case.json",
            "stream_usage_split_crlf/answer.sse",
            "stream_usage_split_crlf/case.json",
        ),
    ),
    (
        "gemini",
        "gemini",
        vectors!("gemini":
            "error_400_api_key_invalid/case.json",
            "error_400_bad_request/case.json",
            "error_403_permission_denied/case.json",
            "error_429_array_body/case.json",
            "error_429_retry_delay/case.json",
            "error_500_internal/case.json",
            "error_503_unavailable/case.json",
            "generate_json_cache_thoughts/answer.body",
            "generate_json_cache_thoughts/case.json",
            "stream_grounded_tool_use/answer.sse",
            "stream_grounded_tool_use/case.json",
            "stream_json_array/answer.body",
            "stream_json_array/case.json",
            "stream_running_usage/answer.sse",
            "stream_running_usage/case.json",
            "stream_running_usage_crlf/answer.sse",
            "stream_running_usage_crlf/case.json",
        ),
    ),
    (
        "azure-openai",
        "azure-openai",
        vectors!("azure-openai":
            "deployment_chat_json_cached/answer.body",
            "deployment_chat_json_cached/case.json",
            "error_400_content_filter/case.json",
            "error_401_auth_invalid/case.json",
            "error_403_firewall_other/case.json",
            "error_429_insufficient_quota/case.json",
            "error_429_retry_after_ms/case.json",
            "error_429_retry_in_message/case.json",
            "error_500_server_error/case.json",
            "openai_path_stream/answer.sse",
            "openai_path_stream/case.json",
        ),
    ),
    (
        "deepseek",
        "js/deepseek",
        vectors!("js/deepseek":
            "chat_json_cache_hit/answer.body",
            "chat_json_cache_hit/case.json",
            "chat_stream_keepalive/answer.sse",
            "chat_stream_keepalive/case.json",
            "error_400_bad_request/case.json",
            "error_401_auth_invalid/case.json",
            "error_402_insufficient_balance/case.json",
            "error_429_rate_limited/case.json",
            "error_429_retry_after_ms/case.json",
            "error_500_not_json/case.json",
            "error_503_server_error/case.json",
            "reasoner_json_reasoning/answer.body",
            "reasoner_json_reasoning/case.json",
        ),
    ),
];

/// The built-in vectors for plugin `name` (none for a name this
/// repository does not ship).
pub fn for_plugin(name: &str) -> Result<Vec<Sample>, SampleError> {
    match BUILTIN_VECTORS.iter().find(|(n, _, _)| *n == name) {
        Some((_, dir, files)) => from_files(Path::new(dir), files),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files_below(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_below(&path, root, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn the_embedded_list_is_every_file_of_every_vectors_folder() {
        let plugins = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins");
        for (name, dir, files) in BUILTIN_VECTORS {
            let root = plugins.join(dir).join("vectors");
            let mut on_disk = Vec::new();
            files_below(&root, &root, &mut on_disk);
            on_disk.sort();
            let mut embedded: Vec<String> = files.iter().map(|(f, _)| (*f).to_owned()).collect();
            embedded.sort();
            assert_eq!(embedded, on_disk, "plugins/{dir}/vectors of {name}");
            let samples = for_plugin(name).unwrap();
            assert_eq!(
                samples.len(),
                files.iter().filter(|(f, _)| f.ends_with(".json")).count()
            );
            assert!(
                samples.iter().all(|s| s.expect.is_some()),
                "{name}: every vector states what it expects"
            );
        }
        assert!(for_plugin("acme").unwrap().is_empty());
    }
}
