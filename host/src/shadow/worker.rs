//! The one worker that runs shadow candidates: takes finished captures
//! from the bounded queue, computes the candidate's verdict on a fresh
//! instance under [`SHADOW_JOB_DEADLINE`], and writes both verdicts in
//! batches of up to [`SHADOW_BATCH`]. It shares nothing with the proxy
//! path but the queue.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use sea_orm::{DatabaseConnection, EntityTrait, Set};
use tokio::sync::mpsc;

use super::ShadowStats;
use super::capture::ShadowCapture;
use super::verdict::{Verdict, candidate_verdict};
use crate::store::entities::shadow_verdicts;

/// Most captures compared and written together.
pub const SHADOW_BATCH: usize = 32;
/// Longest one comparison may take (each plugin call has its own deadline
/// as well); past it the candidate's verdict is a failure.
pub const SHADOW_JOB_DEADLINE: Duration = Duration::from_secs(10);

pub fn spawn(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<ShadowCapture>,
    stats: Arc<ShadowStats>,
) {
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(SHADOW_BATCH);
        while rx.recv_many(&mut jobs, SHADOW_BATCH).await > 0 {
            let mut rows = Vec::with_capacity(jobs.len());
            for job in jobs.drain(..) {
                rows.push(compare(job, &stats).await);
            }
            if let Err(e) = shadow_verdicts::Entity::insert_many(rows).exec(&db).await {
                stats.write_failures.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "writing shadow verdicts failed");
            }
        }
    });
}

/// Runs the candidate on one capture; the row to store.
async fn compare(job: ShadowCapture, stats: &ShadowStats) -> shadow_verdicts::ActiveModel {
    let candidate = tokio::time::timeout(SHADOW_JOB_DEADLINE, candidate_verdict(&job))
        .await
        .unwrap_or_else(|_| Verdict {
            failure: Some(format!(
                "the comparison took longer than {}s",
                SHADOW_JOB_DEADLINE.as_secs()
            )),
            ..Verdict::default()
        });
    let agree = candidate.agrees_with(&job.serving);
    stats.compared.fetch_add(1, Relaxed);
    if agree {
        stats.agreed.fetch_add(1, Relaxed);
    }
    if let Some(failure) = &candidate.failure {
        stats.candidate_failures.fetch_add(1, Relaxed);
        tracing::debug!(request_id = %job.request_id, %failure, "shadow candidate failed");
    }
    let cost = |v: &Verdict| v.cost_nanos.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    shadow_verdicts::ActiveModel {
        provider_id: Set(job.provider_id),
        candidate_plugin_id: Set(job.plugin_id),
        request_id: Set(job.request_id.clone()),
        serving_version: Set(job.serving_version.clone()),
        candidate_version: Set(job.candidate.version.clone()),
        agree: Set(agree),
        serving_cost_nanos: Set(cost(&job.serving)),
        candidate_cost_nanos: Set(cost(&candidate)),
        serving: Set(serde_json::to_string(&job.serving).unwrap_or_default()),
        candidate: Set(serde_json::to_string(&candidate).unwrap_or_default()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
}
