//! The OTLP exporter: a bounded queue the trace sender offers records to
//! without waiting, and a task that wakes once per interval, turns what
//! queued into spans and POSTs them (`application/x-protobuf`) to the
//! collector. A full queue drops the record and counts it; a collector that
//! is slow or down costs failed exports, never a slower request. At
//! shutdown [`SpanQueue::flush`] exports what is queued without waiting out
//! the interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::egress::Connector;
use bytes::Bytes;
use pingora::http::RequestHeader;
use pingora::upstreams::peer::HttpPeer;
use tokio::sync::{mpsc, oneshot};

use super::endpoint::Endpoint;
use super::spans::{RequestSpans, ServiceInfo, export_request};
use crate::egress::exchange::open_exchange;
use crate::egress::upstream_body::PoolKey;
use crate::trace::TraceRecord;

/// Default number of requests whose spans may wait for export.
pub const DEFAULT_EXPORT_QUEUE: usize = 8192;
/// Requests (each with its attempt spans) in one export request.
pub const EXPORT_BATCH: usize = 512;
/// Default time between exports.
pub const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_millis(500);
/// Longest one export may take, connection included.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest collector answer read (it is only drained, never used).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Counters of the exporter, in requests (a request is one span tree).
#[derive(Debug, Default)]
pub struct ExportStats {
    pub exported: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the collector's host does not resolve")]
    Resolve,
    #[error("the collector is unreachable: {0}")]
    Unreachable(String),
    #[error("the collector did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the collector answered {0}")]
    Status(u16),
}

/// The trace sender's handle to the exporter.
#[derive(Clone)]
pub struct SpanQueue {
    tx: mpsc::Sender<TraceRecord>,
    /// Asks the task to export everything queued now; answered when done.
    flush: mpsc::Sender<oneshot::Sender<()>>,
    stats: Arc<ExportStats>,
}

impl SpanQueue {
    /// Queues a copy of the record without waiting. A request whose
    /// caller sent an unsampled `traceparent` is not exported: the
    /// caller's trace does not record it.
    pub fn offer(&self, record: &TraceRecord) {
        if record.parent.is_some_and(|p| !p.sampled()) {
            return;
        }
        if self.tx.try_send(record.clone()).is_err() {
            let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "OTLP export queue full: spans dropped");
            }
        }
    }

    pub fn stats(&self) -> &Arc<ExportStats> {
        &self.stats
    }

    /// Exports every span queued so far, up to `timeout`; `false` when it
    /// ran out first (or the task is gone).
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (done, exported) = oneshot::channel();
        let asked = async { self.flush.send(done).await.is_ok() && exported.await.is_ok() };
        tokio::time::timeout(timeout, asked).await.unwrap_or(false)
    }
}

/// The exporter's configuration.
pub struct OtlpExporter {
    pub endpoint: Endpoint,
    pub service: ServiceInfo,
    pub queue: usize,
    pub interval: Duration,
}

impl OtlpExporter {
    /// Spawns the export task on the current runtime.
    pub fn spawn(self) -> SpanQueue {
        let (tx, rx) = mpsc::channel(self.queue.max(1));
        let (flush, flushes) = mpsc::channel(1);
        let stats = Arc::new(ExportStats::default());
        tokio::spawn(run(self, rx, flushes, stats.clone()));
        SpanQueue { tx, flush, stats }
    }
}

async fn run(
    config: OtlpExporter,
    mut rx: mpsc::Receiver<TraceRecord>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    stats: Arc<ExportStats>,
) {
    let connector = Connector::new(None);
    loop {
        // Woken by the first record, then once per interval (never once per
        // request), or at once by a flush.
        let flushed = tokio::select! {
            first = rx.recv() => {
                let Some(first) = first else { return };
                let mut batch = vec![RequestSpans::new(first)];
                let flushed = tokio::select! {
                    () = tokio::time::sleep(config.interval) => None,
                    done = flushes.recv() => done,
                };
                export_queued(&config, &connector, &stats, &mut rx, &mut batch).await;
                flushed
            }
            done = flushes.recv() => {
                let Some(done) = done else { return };
                export_queued(&config, &connector, &stats, &mut rx, &mut Vec::new()).await;
                Some(done)
            }
        };
        if let Some(done) = flushed {
            let _ = done.send(());
        }
    }
}

/// Exports `batch` and everything queued behind it, [`EXPORT_BATCH`]
/// requests per export request.
async fn export_queued(
    config: &OtlpExporter,
    connector: &Connector,
    stats: &ExportStats,
    rx: &mut mpsc::Receiver<TraceRecord>,
    batch: &mut Vec<RequestSpans>,
) {
    loop {
        while batch.len() < EXPORT_BATCH {
            match rx.try_recv() {
                Ok(record) => batch.push(RequestSpans::new(record)),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            return;
        }
        let count = batch.len() as u64;
        let full = batch.len() == EXPORT_BATCH;
        let body = export_request(&config.service, batch);
        batch.clear();
        match post(connector, &config.endpoint, body).await {
            Ok(()) => {
                stats.exported.fetch_add(count, Ordering::Relaxed);
            }
            Err(e) => {
                let failed = stats.failed.fetch_add(count, Ordering::Relaxed) + count;
                tracing::warn!(error = %e, failed, "OTLP export failed");
            }
        }
        if !full {
            return;
        }
    }
}

/// One export request; `Ok` when the collector answered 2xx.
pub async fn post(connector: &Connector, to: &Endpoint, body: Vec<u8>) -> Result<(), ExportError> {
    tokio::time::timeout(EXPORT_TIMEOUT, exchange(connector, to, body))
        .await
        .map_err(|_| ExportError::Timeout(EXPORT_TIMEOUT))?
}

async fn exchange(connector: &Connector, to: &Endpoint, body: Vec<u8>) -> Result<(), ExportError> {
    let addr = tokio::net::lookup_host((to.host.as_str(), to.port))
        .await
        .map_err(|_| ExportError::Resolve)?
        .next()
        .ok_or(ExportError::Resolve)?;
    let mut peer = HttpPeer::new(addr, to.tls, to.host.clone());
    peer.options.connection_timeout = Some(EXPORT_TIMEOUT);
    peer.options.read_timeout = Some(EXPORT_TIMEOUT);
    peer.options.write_timeout = Some(EXPORT_TIMEOUT);
    let unreachable = |_| ExportError::Unreachable("bad request head".into());
    let mut head = RequestHeader::build("POST", to.path.as_bytes(), None).map_err(unreachable)?;
    head.insert_header("host", to.authority.as_str())
        .map_err(unreachable)?;
    head.insert_header("content-type", "application/x-protobuf")
        .map_err(unreachable)?;
    head.insert_header("content-length", body.len().to_string())
        .map_err(unreachable)?;
    let (answer, mut upstream) = open_exchange(connector, &peer, &head, &Bytes::from(body))
        .await
        .map_err(|e| ExportError::Unreachable(e.to_string()))?;
    let status = answer.status.as_u16();
    let mut read = 0;
    while read <= MAX_ANSWER_BYTES {
        match upstream.read().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => break,
            Err(e) => return Err(ExportError::Unreachable(e.code().to_owned())),
        }
    }
    upstream.release(connector, PoolKey::of(&peer));
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(ExportError::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exporter(endpoint: &str, queue: usize) -> SpanQueue {
        OtlpExporter {
            endpoint: Endpoint::parse(endpoint).expect("endpoint"),
            service: ServiceInfo {
                name: "t".into(),
                version: "0".into(),
            },
            queue,
            interval: Duration::from_secs(3600),
        }
        .spawn()
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_without_waiting() {
        // The task takes the first record and then sleeps an hour: the
        // queue holds exactly `queue` more.
        let q = exporter("http://127.0.0.1:9", 4);
        q.offer(&TraceRecord::default());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        for _ in 0..10 {
            q.offer(&TraceRecord::default());
        }
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(q.stats().dropped.load(Ordering::Relaxed), 6);
    }

    #[tokio::test]
    async fn an_unsampled_parent_is_not_exported() {
        let q = exporter("http://127.0.0.1:9", 1);
        let parent = super::super::TraceParent {
            trace_id: [1; 16],
            span_id: [2; 8],
            flags: 0,
        };
        for _ in 0..5 {
            q.offer(&TraceRecord {
                parent: Some(parent),
                ..TraceRecord::default()
            });
        }
        assert_eq!(q.stats().dropped.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let to = Endpoint::parse(&format!("http://127.0.0.1:{port}")).expect("endpoint");
        let result = post(&Connector::new(None), &to, vec![1, 2, 3]).await;
        assert!(
            matches!(result, Err(ExportError::Unreachable(_))),
            "{result:?}"
        );
    }
    /// A collector on loopback that answers every export 200 and counts them.
    fn collector() -> (String, Arc<AtomicU64>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let posts = Arc::new(AtomicU64::new(0));
        let counted = posts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(16) {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    let mut head_read = false;
                    while reader.read_line(&mut line).unwrap_or(0) > 0 {
                        if line == "\r\n" {
                            head_read = true;
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    if !head_read {
                        break;
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    counted.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            }
        });
        (url, posts)
    }

    #[tokio::test]
    async fn flush_exports_what_is_queued_without_waiting_out_the_interval() {
        let (url, posts) = collector();
        // The interval is an hour: only the flush can send these.
        let q = exporter(&url, 64);
        for _ in 0..3 {
            q.offer(&TraceRecord::default());
        }
        assert!(q.flush(Duration::from_secs(10)).await, "flushed in time");
        assert_eq!(q.stats().exported.load(Ordering::Relaxed), 3);
        assert_eq!(posts.load(Ordering::Relaxed), 1, "one export request");
        // Nothing queued: a flush is answered at once and sends nothing.
        assert!(q.flush(Duration::from_secs(10)).await);
        assert_eq!(posts.load(Ordering::Relaxed), 1);
        q.offer(&TraceRecord::default());
        assert!(q.flush(Duration::from_secs(10)).await);
        assert_eq!(q.stats().exported.load(Ordering::Relaxed), 4);
    }

    #[tokio::test]
    async fn a_flush_gives_up_at_its_timeout_when_the_collector_hangs() {
        // Accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let q = exporter(&url, 64);
        q.offer(&TraceRecord::default());
        let started = std::time::Instant::now();
        assert!(!q.flush(Duration::from_millis(300)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(listener);
    }
}
