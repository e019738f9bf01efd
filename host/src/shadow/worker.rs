//! The shadow worker: one OS thread of its own ([`SHADOW_THREAD_NAME`]) at
//! the lowest CPU priority the system grants (`SCHED_IDLE`, else nice 19,
//! see `idle`), so a candidate's comparisons only use CPU time the proxy
//! leaves idle. The thread runs a current-thread tokio runtime (wasmtime's
//! async calls and the per-call deadlines need one) and takes finished
//! captures from the bounded queue, one at a time: it never holds more
//! than one plugin instance, and nothing of the proxy's (no in-flight
//! slot, no request). Each comparison runs under [`SHADOW_JOB_DEADLINE`].
//!
//! The comparisons go back to a writer task on the gateway's runtime, which
//! owns the database pool (its connections are never driven by a thread
//! that may wait long for a CPU), in batches of up to [`SHADOW_WRITE_ROWS`]
//! or every [`SHADOW_FLUSH_EVERY`]. A batch is one transaction: one upsert
//! of the running totals per (provider, candidate) and one insert of the
//! disagreements' rows (`store::shadow_totals::record`); an agreeing
//! comparison only counts, so at a sample of 1.0 a candidate that agrees
//! costs the database a row per batch, not per request, and that CPU is
//! the proxy's. A comparison that ran out of time while its thread was
//! starved of CPU, or found every plugin instance in use, is no verdict on
//! the candidate: it is dropped and counted (`starved`, `busy`).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, Set};
use tokio::sync::mpsc;

use super::capture::ShadowCapture;
use super::idle;
use super::verdict::{Verdict, judge};
use super::{Dropped, ShadowStats};
use crate::plugins::FailureKind;
use crate::store::entities::shadow_verdicts;
use crate::store::shadow_totals::{Batch, Comparison, cost_column, cost_difference, record};

/// Most captures taken from the queue at once.
pub const SHADOW_BATCH: usize = 32;
/// Most comparisons written in one transaction (so at most that many
/// verdict rows in one insert).
pub const SHADOW_WRITE_ROWS: usize = 256;
/// Longest a verdict waits to be written.
pub const SHADOW_FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Longest one comparison may take (each plugin call has its own deadline
/// as well); past it the candidate's verdict is a failure.
pub const SHADOW_JOB_DEADLINE: Duration = Duration::from_secs(10);
/// The worker thread's name (as `/proc/self/task/*/comm` shows it).
pub const SHADOW_THREAD_NAME: &str = "shadow-worker";
/// Batches of comparisons waiting for the writer, at most; past it the worker
/// waits for the database, and captures are dropped as its queue fills.
pub const SHADOW_WRITE_BACKLOG: usize = 4;

/// Starts the writer task on the current runtime and the worker thread.
pub fn spawn(db: DatabaseConnection, rx: mpsc::Receiver<ShadowCapture>, stats: Arc<ShadowStats>) {
    let (rows_tx, rows_rx) = mpsc::channel(SHADOW_WRITE_BACKLOG);
    tokio::spawn(write_batches(db, rows_rx, stats.clone()));
    let started = std::thread::Builder::new()
        .name(SHADOW_THREAD_NAME.into())
        .spawn(move || run(rx, rows_tx, stats));
    if let Err(e) = started {
        tracing::error!(error = %e, "the shadow worker thread did not start: captures are dropped as its queue fills");
    }
}

/// The worker thread: lowers itself, then compares until the queue closes.
fn run(rx: mpsc::Receiver<ShadowCapture>, rows: mpsc::Sender<Batch>, stats: Arc<ShadowStats>) {
    let priority = idle::lower_this_thread();
    if priority == idle::Priority::Unchanged {
        tracing::warn!(
            "the shadow worker runs at the default CPU priority: its comparisons compete with the proxy for CPU"
        );
    } else {
        tracing::info!(
            priority = priority.as_str(),
            "shadow worker started on its own thread"
        );
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime.block_on(compare_all(rx, rows, stats)),
        Err(e) => tracing::error!(error = %e, "the shadow worker's runtime did not start"),
    }
}

/// Compares until the queue closes, handing a batch to the writer when
/// [`SHADOW_WRITE_ROWS`] comparisons are pending or the oldest is
/// [`SHADOW_FLUSH_EVERY`] old (checked at least that often).
async fn compare_all(
    mut rx: mpsc::Receiver<ShadowCapture>,
    batches: mpsc::Sender<Batch>,
    stats: Arc<ShadowStats>,
) {
    let mut jobs = Vec::with_capacity(SHADOW_BATCH);
    let mut batch = Batch::default();
    let mut oldest = Instant::now();
    loop {
        let taken =
            tokio::time::timeout(SHADOW_FLUSH_EVERY, rx.recv_many(&mut jobs, SHADOW_BATCH)).await;
        let closed = matches!(taken, Ok(0));
        for job in jobs.drain(..) {
            if batch.is_empty() {
                oldest = Instant::now();
            }
            if let Some(compared) = compare(job, &stats).await {
                batch.push(compared);
            }
        }
        let due = batch.len() >= SHADOW_WRITE_ROWS || oldest.elapsed() >= SHADOW_FLUSH_EVERY;
        if !batch.is_empty()
            && (due || closed)
            && batches.send(std::mem::take(&mut batch)).await.is_err()
        {
            return;
        }
        if closed {
            return;
        }
    }
}

/// On the gateway's runtime: stores what the worker sends.
async fn write_batches(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Batch>,
    stats: Arc<ShadowStats>,
) {
    while let Some(batch) = rx.recv().await {
        if let Err(e) = record(&db, batch, chrono::Utc::now()).await {
            stats.write_failures.fetch_add(1, Relaxed);
            tracing::warn!(error = %e, "writing shadow verdicts failed");
        }
    }
}

/// Runs the candidate on one capture; the comparison to store, or `None`
/// when it says nothing about the candidate (dropped and counted).
async fn compare(job: ShadowCapture, stats: &ShadowStats) -> Option<Comparison> {
    let (cpu_before, started) = (idle::thread_cpu_time(), Instant::now());
    let (candidate, failed) = tokio::time::timeout(SHADOW_JOB_DEADLINE, judge(&job))
        .await
        .unwrap_or_else(|_| {
            let failure = format!(
                "the comparison took longer than {}s",
                SHADOW_JOB_DEADLINE.as_secs()
            );
            let verdict = Verdict {
                failure: Some(failure),
                ..Verdict::default()
            };
            (verdict, Some(FailureKind::Timeout))
        });
    let out_of_time = matches!(failed, Some(FailureKind::Timeout));
    let cpu = idle::thread_cpu_time().saturating_sub(cpu_before);
    if idle::starved(out_of_time, cpu, started.elapsed()) {
        stats.dropped(Dropped::Starved);
        return None;
    }
    if matches!(failed, Some(FailureKind::Busy)) {
        stats.dropped(Dropped::Busy);
        return None;
    }
    let agree = candidate.agrees_with(&job.serving);
    stats.compared.fetch_add(1, Relaxed);
    if agree {
        stats.agreed.fetch_add(1, Relaxed);
    }
    if let Some(failure) = &candidate.failure {
        stats.candidate_failures.fetch_add(1, Relaxed);
        tracing::debug!(request_id = %job.request_id, %failure, "shadow candidate failed");
    }
    Some(Comparison {
        provider_id: job.provider_id,
        candidate_plugin_id: job.plugin_id,
        agree,
        cost_difference: cost_difference(job.serving.cost_nanos, candidate.cost_nanos),
        row: (!agree).then(|| row(&job, &candidate, agree)),
    })
}

/// The verdict row of a disagreement: both verdicts side by side.
fn row(job: &ShadowCapture, candidate: &Verdict, agree: bool) -> shadow_verdicts::ActiveModel {
    let cost = |v: &Verdict| cost_column(v.cost_nanos);
    shadow_verdicts::ActiveModel {
        provider_id: Set(job.provider_id),
        candidate_plugin_id: Set(job.plugin_id),
        request_id: Set(job.request_id.clone()),
        serving_version: Set(job.serving_version.clone()),
        candidate_version: Set(job.candidate.version.clone()),
        agree: Set(agree),
        serving_cost_nanos: Set(cost(&job.serving)),
        candidate_cost_nanos: Set(cost(candidate)),
        serving: Set(serde_json::to_string(&job.serving).unwrap_or_default()),
        candidate: Set(serde_json::to_string(candidate).unwrap_or_default()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
}
