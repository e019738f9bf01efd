//! Conformance vectors: recorded exchanges with what a provider plugin
//! must extract from each (model, stream flag, credential placement,
//! usage with every count, cost, error class), in the case format of
//! `ai-proxy plugin check --samples` ([`samples`], [`expect`]). Every
//! built-in plugin ships its vectors ([`builtin`]); `plugin check FILE
//! --vectors DIR` runs them for an author, and the admin API runs a new
//! version against its provider's vectors before it may serve.
//!
//! A run is bounded: every plugin call runs under the engine's deadline
//! and memory cap, and the whole run under [`MAX_RUN_TIME`]; a run that
//! does not finish fails.

pub mod builtin;
pub mod expect;
pub mod feeding;
pub mod prepare;
pub mod run;
pub mod samples;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::plugins::LoadedPlugin;
use crate::plugins::types::Usage;
pub use feeding::Plan;
pub use run::{CaseResult, run_case};
use samples::Sample;

/// The longest a whole run of one plugin's vectors may take.
pub const MAX_RUN_TIME: Duration = Duration::from_secs(60);

/// The WIT's usage as the `expect` block spells it.
pub fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    })
}

/// The outcome of a run: how many vectors ran and the ones that failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Report {
    /// Vectors run.
    pub cases: usize,
    /// The vectors that differed, each with its differences.
    pub failed: Vec<CaseResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failed.is_empty()
    }

    /// One line per difference, `case: field: expected X, got Y`.
    pub fn lines(&self) -> Vec<String> {
        self.failed
            .iter()
            .flat_map(|c| {
                c.differences
                    .iter()
                    .map(move |d| format!("{}: {d}", c.name))
            })
            .collect()
    }
}

/// Runs every vector of `samples` through `plugin` as `plan` says, within
/// `limit`; the vectors not reached in time fail with that reason.
pub async fn run_all(
    plugin: &Arc<LoadedPlugin>,
    samples: &[Sample],
    plan: Plan,
    limit: Duration,
) -> Report {
    let started = Instant::now();
    let mut failed = Vec::new();
    for sample in samples {
        let left = limit.saturating_sub(started.elapsed());
        let result = match tokio::time::timeout(left, run_case(plugin, sample, plan)).await {
            Ok(result) => result,
            Err(_) => CaseResult {
                name: sample.name.clone(),
                differences: vec![format!(
                    "not finished: the run of all vectors is limited to {}s",
                    limit.as_secs()
                )],
            },
        };
        if !result.passed() {
            failed.push(result);
        }
    }
    Report {
        cases: samples.len(),
        failed,
    }
}
