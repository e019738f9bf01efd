//! The batched trace writer.
//!
//! The proxy calls [`TraceSender::send`], which never waits: when the queue
//! is full the record is dropped and counted (and a warning logged), so a
//! slow database can never slow down proxied traffic. The writer task
//! collects records into batches of up to `batch` rows, or whatever arrived
//! within `flush` of the first one, and inserts each batch in one statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::mpsc;

use super::TraceRecord;
use crate::store::entities::proxy_tracing;

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
}

impl TraceSender {
    /// Queues a record without waiting.
    pub fn send(&self, record: TraceRecord) {
        if self.tx.try_send(record).is_err() {
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
}

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
        tokio::spawn(run(rx, db, self.batch, self.flush, stats.clone()));
        TraceSender { tx, stats }
    }
}

async fn run(
    mut rx: mpsc::Receiver<TraceRecord>,
    db: DatabaseConnection,
    batch: usize,
    flush: Duration,
    stats: Arc<TraceWriterStats>,
) {
    let mut buf = Vec::with_capacity(batch);
    while let Some(first) = rx.recv().await {
        buf.push(first);
        // Gather for one flush interval without waiting on the channel:
        // a receiver parked on `recv` would be woken (a thread switch) by
        // every request's record.
        tokio::time::sleep(flush).await;
        loop {
            while buf.len() < batch {
                match rx.try_recv() {
                    Ok(record) => buf.push(record),
                    Err(_) => break,
                }
            }
            let full = buf.len() == batch;
            write(&db, &mut buf, &stats).await;
            if !full {
                break;
            }
        }
    }
}

async fn write(db: &DatabaseConnection, buf: &mut Vec<TraceRecord>, stats: &TraceWriterStats) {
    let count = buf.len() as u64;
    let rows: Vec<_> = buf.drain(..).map(TraceRecord::into_active_model).collect();
    match proxy_tracing::Entity::insert_many(rows).exec(db).await {
        Ok(_) => {
            stats.written.fetch_add(count, Ordering::Relaxed);
        }
        Err(e) => {
            stats.failed.fetch_add(count, Ordering::Relaxed);
            tracing::error!(error = %e, rows = count, "writing trace batch failed");
        }
    }
}
