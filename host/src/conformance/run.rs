//! One conformance vector through a plugin, recording what it extracts
//! (model, stream flag, upstream path, credential placement, usage, cost,
//! error class and retry) and comparing it with the vector's `expect`
//! block. Nothing is printed: the CLI prints the result, the admin API
//! stores it.
//!
//! Each step runs on a fresh instance, as the proxy runs them, so a trap
//! in one fails that step and is reported, not the run.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::feeding::{CONFORMANCE_REQUEST_ID, Plan, stream_usage};
use super::prepare::prepared;
use super::samples::{Sample, SampleResponse};
use super::usage_json;
use crate::plugins::error_class_name;
use crate::plugins::types::{ErrorClass, Header, RequestFacts, RequestHead, Usage};
use crate::plugins::{LoadedPlugin, PluginFailure, PluginInstance};

/// What a run observed, by `expect` field name.
pub type Observed = BTreeMap<&'static str, Value>;

/// One vector's outcome: every difference from its `expect` block and
/// every plugin failure, each a line naming the field.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub differences: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }
}

fn header_list(pairs: &[(String, String)]) -> Vec<Header> {
    pairs
        .iter()
        .map(|(name, value)| Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

async fn fresh(plugin: &Arc<LoadedPlugin>) -> Result<PluginInstance, PluginFailure> {
    plugin.instantiate(CONFORMANCE_REQUEST_ID).await
}

/// Runs `sample` through `plugin`, re-feeding streams as `plan` says.
pub async fn run_case(plugin: &Arc<LoadedPlugin>, sample: &Sample, plan: Plan) -> CaseResult {
    let mut observed = Observed::new();
    let mut problems = Vec::new();
    if let Some(facts) = request_side(plugin, sample, &mut observed, &mut problems).await
        && let Some(response) = &sample.response
    {
        let answer = Answer {
            facts: &facts,
            response,
            plan,
        };
        answer_side(plugin, answer, &mut observed, &mut problems).await;
    }
    if let Some(expect) = &sample.expect {
        problems.extend(expect.differences(&observed));
    }
    CaseResult {
        name: sample.name.clone(),
        differences: problems,
    }
}

async fn request_side(
    plugin: &Arc<LoadedPlugin>,
    sample: &Sample,
    observed: &mut Observed,
    problems: &mut Vec<String>,
) -> Option<RequestFacts> {
    let head = RequestHead {
        method: sample.method.clone(),
        path: sample.path.clone(),
        headers: header_list(&sample.headers),
    };
    let body = Bytes::from(sample.body.clone());
    let facts = match fresh(plugin).await {
        Ok(mut instance) => instance.inspect(&head, &body).await,
        Err(e) => Err(e),
    };
    let facts = match facts {
        Ok(facts) => facts,
        Err(e) => {
            problems.push(format!("inspect failed: {e}"));
            return None;
        }
    };
    observed.insert("model", json!(facts.model));
    observed.insert("stream", json!(facts.stream));
    let placed = match fresh(plugin).await {
        Ok(mut instance) => prepared(plugin, &mut instance, &head, body).await,
        Err(e) => Err(e.to_string()),
    };
    match placed {
        Ok((path, credential)) => {
            observed.insert("upstream_path", json!(path));
            observed.insert("credential", json!(credential));
        }
        Err(e) => problems.push(format!("prepare {e}")),
    }
    Some(facts)
}

/// Whether the answer is read as a stream: as the gateway does, by its
/// `content-type` (a JSON array of chunks is read as one body).
pub fn read_as_stream(response: &SampleResponse) -> bool {
    response
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("text/event-stream"))
}

/// What the answer side works from.
struct Answer<'a> {
    facts: &'a RequestFacts,
    response: &'a SampleResponse,
    plan: Plan,
}

async fn answer_side(
    plugin: &Arc<LoadedPlugin>,
    answer: Answer<'_>,
    observed: &mut Observed,
    problems: &mut Vec<String>,
) {
    let Answer {
        facts,
        response,
        plan,
    } = answer;
    let usage = if read_as_stream(response) {
        stream_usage(plugin, &response.body, plan, problems).await
    } else {
        match fresh(plugin).await {
            Ok(mut instance) => instance.body_usage(&response.body).await,
            Err(e) => Err(e),
        }
    };
    let usage = usage.unwrap_or_else(|e| {
        problems.push(format!("reading usage failed: {e}"));
        None
    });
    observed.insert("usage", usage.as_ref().map_or(Value::Null, usage_json));
    let cost = cost(plugin, facts, usage, problems).await;
    observed.insert("cost_nano_usd", json!(cost));
    classify(plugin, response, observed, problems).await;
}

async fn cost(
    plugin: &Arc<LoadedPlugin>,
    facts: &RequestFacts,
    usage: Option<Usage>,
    problems: &mut Vec<String>,
) -> Option<u64> {
    let (model, usage) = (facts.model.as_ref()?, usage?);
    let result = match fresh(plugin).await {
        Ok(mut instance) => instance.cost(model, usage, &plugin.default_prices).await,
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| {
        problems.push(format!("cost failed: {e}"));
        None
    })
}

async fn classify(
    plugin: &Arc<LoadedPlugin>,
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
    let class = match fresh(plugin).await {
        Ok(mut instance) => {
            instance
                .classify(response.status, &headers, &response.body)
                .await
        }
        Err(e) => Err(e),
    };
    match class {
        Ok(class) => {
            let retry = match &class {
                ErrorClass::RateLimited(seconds) => *seconds,
                _ => None,
            };
            observed.insert("error_class", json!(error_class_name(&class)));
            observed.insert("retry_after", json!(retry));
        }
        Err(e) => problems.push(format!("classify failed: {e}")),
    }
}
