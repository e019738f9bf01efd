//! One sample through a plugin, answer side: usage from the answer (a
//! stream fed whole, split in two at every byte and one byte at a time,
//! which must all agree), its cost, `classify` for a status of 400 or
//! more, and `terminal-event` on the stream cut after its first event.

use std::sync::Arc;

use serde_json::{Value, json};

use super::exercise::{CHECK_REQUEST_ID, Observed, header_list};
use crate::conformance::feeding::{MAX_SPLIT_POINTS, split_points};
use crate::conformance::samples::SampleResponse;
use crate::conformance::usage_json;
use crate::plugins::error_class_name;
use crate::plugins::types::{ErrorClass, RequestFacts, Usage};
use crate::plugins::{EndReason, LoadedPlugin, PluginFailure, PluginInstance};

/// The longest terminal event shown in full.
const TERMINAL_PREVIEW_CHARS: usize = 240;

/// Equal usages (the generated `usage` record has no `PartialEq`).
fn same(a: &Option<Usage>, b: &Option<Usage>) -> bool {
    a.as_ref().map(usage_json) == b.as_ref().map(usage_json)
}

fn usage_line(usage: &Usage) -> String {
    format!(
        "input {} (cached {}), output {} (reasoning {}), cache write {}",
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
        usage.cache_write_tokens
    )
}

/// Feeds `chunks` to a fresh instance's stream parser; the usage it
/// finishes with (or the last running one).
async fn feed_run(
    plugin: &Arc<LoadedPlugin>,
    chunks: &[&[u8]],
) -> Result<Option<Usage>, PluginFailure> {
    let mut instance = plugin.instantiate(CHECK_REQUEST_ID).await?;
    let parser = instance.stream_parser().await?;
    let mut last = None;
    for chunk in chunks {
        if let Some(usage) = instance.feed(&parser, chunk).await? {
            last = Some(usage);
        }
    }
    Ok(instance.finish(&parser).await?.or(last))
}

/// The stream's usage fed whole; a problem is recorded when a split or
/// byte-by-byte feeding reads differently.
async fn stream_usage(
    plugin: &Arc<LoadedPlugin>,
    body: &[u8],
    problems: &mut Vec<String>,
) -> Result<Option<Usage>, PluginFailure> {
    let whole = feed_run(plugin, &[body]).await?;
    let points = split_points(body.len(), MAX_SPLIT_POINTS);
    for &cut in &points {
        let (a, b) = body.split_at(cut);
        let split = feed_run(plugin, &[a, b]).await?;
        if !same(&split, &whole) {
            problems.push(format!(
                "stream usage depends on where it is split: whole {whole:?}, split at byte {cut} {split:?}"
            ));
            return Ok(whole);
        }
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    let by_byte = feed_run(plugin, &bytes).await?;
    if !same(&by_byte, &whole) {
        problems.push(format!(
            "stream usage depends on where it is split: whole {whole:?}, one byte at a time {by_byte:?}"
        ));
        return Ok(whole);
    }
    println!(
        "  fed             whole, split in two at {} points, one byte at a time: same usage",
        points.len()
    );
    Ok(whole)
}

/// Where the first event of `body` ends (after its blank line).
fn first_event_end(body: &[u8]) -> Option<usize> {
    [&b"\n\n"[..], b"\r\n\r\n", b"\r\r"]
        .iter()
        .filter_map(|sep| {
            body.windows(sep.len())
                .position(|w| w == *sep)
                .map(|at| at + sep.len())
        })
        .min()
}

/// Feeds `prefix` to a fresh parser, then asks for the bytes that end it.
async fn end_after(
    plugin: &Arc<LoadedPlugin>,
    prefix: &[u8],
) -> Result<Option<Vec<u8>>, PluginFailure> {
    let mut instance = plugin.instantiate(CHECK_REQUEST_ID).await?;
    let parser = instance.stream_parser().await?;
    instance.feed(&parser, prefix).await?;
    instance
        .terminal_event(&parser, EndReason::QuotaExhausted)
        .await
}

/// Cuts the stream after its first event and asks the plugin for the
/// bytes that end it, as the gateway does at a client's quota.
async fn terminal_event(plugin: &Arc<LoadedPlugin>, body: &[u8], problems: &mut Vec<String>) {
    if !plugin.has_stream_control() {
        println!("  terminal event  not exported: a cut stream would run to its end");
        return;
    }
    let Some(cut) = first_event_end(body).filter(|&cut| cut < body.len()) else {
        println!("  terminal event  not exercised: the stream has one event or none");
        return;
    };
    match end_after(plugin, &body[..cut]).await {
        Ok(None) => {
            println!("  terminal event  none after byte {cut}: this stream cannot be ended early")
        }
        Ok(Some(bytes)) => {
            let text = String::from_utf8_lossy(&bytes);
            let preview: String = text.chars().take(TERMINAL_PREVIEW_CHARS).collect();
            println!(
                "  terminal event  after byte {cut} (first event), {} bytes: {preview:?}",
                bytes.len()
            );
            let mut cut_stream = body[..cut].to_vec();
            cut_stream.extend_from_slice(&bytes);
            match feed_run(plugin, &[&cut_stream]).await {
                Ok(Some(u)) => println!("  cut stream      reads as {}", usage_line(&u)),
                Ok(None) => println!("  cut stream      reads as no usage"),
                Err(e) => problems.push(format!("the cut stream fails to parse: {e}")),
            }
        }
        Err(e) => problems.push(format!("terminal-event failed: {e}")),
    }
}

/// Reads the answer of a sample, prints and records usage, cost and
/// error class; failures of the plugin go to `problems`.
pub async fn answer_side(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    facts: &RequestFacts,
    response: &SampleResponse,
    observed: &mut Observed,
    problems: &mut Vec<String>,
) {
    println!("  answer          {}", response.status);
    let event_stream = response
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("text/event-stream"));
    let as_stream = event_stream || (facts.stream && response.status < 400);
    if as_stream && !event_stream {
        println!(
            "  note            read as a stream because the request streams; the gateway goes by the answer's content-type: text/event-stream"
        );
    }
    let usage = if as_stream {
        let usage = stream_usage(plugin, &response.body, problems).await;
        terminal_event(plugin, &response.body, problems).await;
        usage
    } else {
        instance.body_usage(&response.body).await
    };
    let usage = match usage {
        Ok(usage) => usage,
        Err(e) => {
            problems.push(format!("reading usage failed: {e}"));
            None
        }
    };
    match &usage {
        Some(u) => println!("  usage           {}", usage_line(u)),
        None => println!("  usage           none found"),
    }
    observed.insert("usage", usage.as_ref().map_or(Value::Null, usage_json));
    let cost = cost(plugin, instance, facts, usage, problems).await;
    observed.insert("cost_nano_usd", json!(cost));
    classify(instance, response, observed, problems).await;
}

async fn cost(
    plugin: &Arc<LoadedPlugin>,
    instance: &mut PluginInstance,
    facts: &RequestFacts,
    usage: Option<Usage>,
    problems: &mut Vec<String>,
) -> Option<u64> {
    let (model, usage) = (facts.model.as_ref()?, usage?);
    match instance.cost(model, usage, &plugin.default_prices).await {
        Ok(Some(nanos)) => {
            println!(
                "  cost            ${:.9} ({nanos} nano-USD)",
                nanos as f64 / 1e9
            );
            Some(nanos)
        }
        Ok(None) => {
            println!("  cost            unknown (no default price for {model})");
            None
        }
        Err(e) => {
            problems.push(format!("cost failed: {e}"));
            None
        }
    }
}

async fn classify(
    instance: &mut PluginInstance,
    response: &SampleResponse,
    observed: &mut Observed,
    problems: &mut Vec<String>,
) {
    observed.insert("error_class", Value::Null);
    observed.insert("retry_after", Value::Null);
    if response.status < 400 {
        return;
    }
    let headers = header_list(&response.headers);
    match instance
        .classify(response.status, &headers, &response.body)
        .await
    {
        Ok(class) => {
            let retry = match &class {
                ErrorClass::RateLimited(seconds) => *seconds,
                _ => None,
            };
            let name = error_class_name(&class);
            match retry {
                Some(s) => println!("  error class     {name}, retry after {s}s"),
                None => println!("  error class     {name}"),
            }
            observed.insert("error_class", json!(name));
            observed.insert("retry_after", json!(retry));
        }
        Err(e) => problems.push(format!("classify failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_event_ends_at_its_blank_line_in_any_line_ending() {
        assert_eq!(first_event_end(b"data: 1\n\ndata: 2\n\n"), Some(9));
        assert_eq!(first_event_end(b"data: 1\r\n\r\ndata: 2"), Some(11));
        assert_eq!(first_event_end(b"data: 1"), None);
    }
}
