//! The batched trace writer.
//!
//! The proxy calls [`TraceSender::send`], which never waits: when the queue
//! is full the record is dropped and counted (and a warning logged), so a
//! slow database can never slow down proxied traffic. The writer task
//! collects records into batches of up to `batch` rows, or whatever arrived
//! within `flush` of the first one, and inserts each batch in one statement.
//! At shutdown, [`TraceSender::flush`] waits until every accepted record
//! is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, mpsc};

use super::TraceRecord;
use super::otlp::{ExportStats, SpanQueue};
use crate::store::traces::insert_batch;

/// Counters of the writer, for metrics and tests.
#[derive(Debug, Default)]
pub struct TraceWriterStats {
    pub written: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub failed: AtomicU64,
}

/// The proxy's handle to the writer.
#[derive(Clone)]
pub struct TraceSender {
    tx: mpsc::Sender<TraceRecord>,
    stats: Arc<TraceWriterStats>,
    full: Arc<BatchSignal>,
    /// The OpenTelemetry exporter, when one is configured.
    export: Option<SpanQueue>,
}

/// Wakes the writer when a whole batch is queued, so it is woken once per
/// batch (or flush interval), never once per record.
struct BatchSignal {
    queued: AtomicUsize,
    /// Records ever accepted into the queue, for [`TraceSender::flush`].
    accepted: AtomicU64,
    batch: usize,
    notify: Notify,
}

impl TraceSender {
    /// Queues a record without waiting.
    pub fn send(&self, record: TraceRecord) {
        if let Some(export) = &self.export {
            export.offer(&record);
        }
        if self.tx.try_send(record).is_ok() {
            self.full.accepted.fetch_add(1, Ordering::Relaxed);
            if self.full.queued.fetch_add(1, Ordering::Relaxed) + 1 == self.full.batch {
                self.full.notify.notify_one();
            }
        } else {
            let dropped = self
                .stats
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "trace queue full or closed: trace records dropped");
            }
        }
    }

    pub fn stats(&self) -> &Arc<TraceWriterStats> {
        &self.stats
    }

    /// Waits until every record accepted so far has been written (or has
    /// failed) and, with an exporter, its spans exported, up to `timeout`;
    /// `false` when it ran out first. Wakes the writer and the exporter
    /// instead of letting them wait out their intervals.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let (written, exported) = tokio::join!(self.flush_writes(deadline), async {
            match &self.export {
                Some(export) => {
                    export
                        .flush(deadline.saturating_duration_since(tokio::time::Instant::now()))
                        .await
                }
                None => true,
            }
        });
        written && exported
    }

    async fn flush_writes(&self, deadline: tokio::time::Instant) -> bool {
        let target = self.full.accepted.load(Ordering::Relaxed);
        self.full.notify.notify_one();
        loop {
            let done = self.stats.written.load(Ordering::Relaxed)
                + self.stats.failed.load(Ordering::Relaxed);
            if done >= target {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(FLUSH_POLL).await;
        }
    }

    /// Also offers every record to an OpenTelemetry exporter.
    pub fn with_export(mut self, export: SpanQueue) -> TraceSender {
        self.export = Some(export);
        self
    }

    /// The exporter's counters, when one is configured.
    pub fn export_stats(&self) -> Option<&Arc<ExportStats>> {
        self.export.as_ref().map(SpanQueue::stats)
    }
}

/// How often [`TraceSender::flush`] looks at the writer's progress.
const FLUSH_POLL: Duration = Duration::from_millis(10);

/// The writer task's configuration.
pub struct TraceWriter {
    pub batch: usize,
    pub flush: Duration,
    pub queue: usize,
}

impl TraceWriter {
    /// Spawns the writer on the current runtime and returns the sender.
    pub fn spawn(self, db: DatabaseConnection) -> TraceSender {
        let (tx, rx) = mpsc::channel(self.queue);
        let stats = Arc::new(TraceWriterStats::default());
        let full = Arc::new(BatchSignal {
            queued: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            batch: self.batch.max(1),
            notify: Notify::new(),
        });
        tokio::spawn(run(rx, db, self.flush, full.clone(), stats.clone()));
        TraceSender {
            tx,
            stats,
            full,
            export: None,
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<TraceRecord>,
    db: DatabaseConnection,
    flush: Duration,
    full: Arc<BatchSignal>,
    stats: Arc<TraceWriterStats>,
) {
    let batch = full.batch;
    let mut buf = Vec::with_capacity(batch);
    while let Some(first) = rx.recv().await {
        buf.push(first);
        // Gather until a batch is queued or the interval ends, without
        // waiting on the channel: a receiver parked on `recv` would be
        // woken (a thread switch) by every request's record.
        tokio::select! {
            () = tokio::time::sleep(flush) => {}
            () = full.notify.notified() => {}
        }
        loop {
            while buf.len() < batch {
                match rx.try_recv() {
                    Ok(record) => buf.push(record),
                    Err(_) => break,
                }
            }
            let taken = buf.len();
            // Saturating: a record may be taken before its sender counted it.
            let _ = full
                .queued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
                    Some(q.saturating_sub(taken))
                });
            let was_full = taken == batch;
            write(&db, &mut buf, &stats).await;
            if !was_full {
                break;
            }
        }
    }
}

async fn write(db: &DatabaseConnection, buf: &mut Vec<TraceRecord>, stats: &TraceWriterStats) {
    let count = buf.len() as u64;
    let rows: Vec<_> = buf.drain(..).map(TraceRecord::into_active_model).collect();
    match insert_batch(db, rows).await {
        Ok(_) => {
            stats.written.fetch_add(count, Ordering::Relaxed);
        }
        Err(e) => {
            stats.failed.fetch_add(count, Ordering::Relaxed);
            tracing::error!(error = %e, rows = count, "writing trace batch failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn writer(batch: usize, flush: Duration) -> (TraceSender, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("aip-writer-{}", crate::secrets::random_hex(6)));
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
        let db = crate::store::connect(&url, &dir).await.expect("db");
        let sender = TraceWriter {
            batch,
            flush,
            queue: 64,
        }
        .spawn(db);
        (sender, dir)
    }

    fn record() -> TraceRecord {
        TraceRecord {
            request_id: crate::secrets::random_hex(8),
            ..TraceRecord::default()
        }
    }

    async fn written_within(sender: &TraceSender, want: u64, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            if sender.stats().written.load(Ordering::Relaxed) >= want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_full_batch_is_written_at_once_and_a_partial_one_at_the_interval() {
        let (sender, dir) = writer(4, Duration::from_secs(3600)).await;
        for _ in 0..3 {
            sender.send(record());
        }
        assert!(
            !written_within(&sender, 3, Duration::from_millis(300)).await,
            "a partial batch waits for the interval"
        );
        sender.send(record());
        assert!(
            written_within(&sender, 4, Duration::from_secs(5)).await,
            "the fourth record completes the batch and wakes the writer"
        );
        let _ = std::fs::remove_dir_all(dir);

        let (sender, dir) = writer(100, Duration::from_millis(50)).await;
        sender.send(record());
        assert!(written_within(&sender, 1, Duration::from_secs(5)).await);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn flush_writes_a_partial_batch_without_waiting_for_the_interval() {
        let (sender, dir) = writer(100, Duration::from_secs(3600)).await;
        for _ in 0..5 {
            sender.send(record());
        }
        assert!(sender.flush(Duration::from_secs(5)).await);
        assert_eq!(sender.stats().written.load(Ordering::Relaxed), 5);
        // Nothing new: returns at once.
        assert!(sender.flush(Duration::ZERO).await);
        let _ = std::fs::remove_dir_all(dir);
    }
}
