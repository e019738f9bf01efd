//! An upstream that writes exact bytes: a provider mock below HTTP, for
//! testing how the gateway reads what a broken or hostile upstream sends.
//!
//! It reads each request (head, then a `Content-Length` body) and answers
//! it with the next scripted answer ([`RawUpstream::answer_next_with`]),
//! or with [`RawUpstream::good`] when no script is queued. A script is a
//! list of [`Step`]s: bytes to write, pauses, a close. After a script that
//! does not close, the connection waits for its next request. It numbers
//! the connections it accepts and records which one each request came
//! on, so a test can tell a reused connection from a fresh one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head read; a longer one ends the connection.
const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;
/// Longest pause a script may hold: every test stays bounded in time.
pub const MAX_PAUSE: Duration = Duration::from_secs(10);

/// One step of a scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes (and flush).
    Send(Vec<u8>),
    /// Wait this long (at most [`MAX_PAUSE`]).
    Pause(Duration),
    /// Close the connection.
    Close,
}

impl Step {
    /// Writes `bytes`.
    pub fn send(bytes: impl AsRef<[u8]>) -> Step {
        Step::Send(bytes.as_ref().to_vec())
    }
}

#[derive(Default)]
struct Shared {
    scripts: Mutex<VecDeque<Vec<Step>>>,
    connections: AtomicUsize,
    /// The connection each request came on, in order.
    requests: Mutex<Vec<usize>>,
}

/// A running raw upstream on a loopback port; stops when dropped.
pub struct RawUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// The body of [`RawUpstream::good`]: an OpenAI chat completion with its usage.
pub const GOOD_BODY: &str = r#"{"id":"chatcmpl-raw","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;

impl RawUpstream {
    /// Listens on a fresh loopback port.
    pub async fn start() -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let connection = accepting.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(socket, connection, accepting.clone()));
            }
        });
        RawUpstream { addr, shared, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request gets `steps` instead of the good answer (scripts
    /// queue up, one per request).
    pub fn answer_next_with(&self, steps: Vec<Step>) {
        self.shared.scripts.lock().unwrap().push_back(steps);
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// The connection (numbered from 0 as accepted) request `index`
    /// (numbered from 0 as received) came on.
    pub fn connection_of(&self, index: usize) -> usize {
        self.shared.requests.lock().unwrap()[index]
    }

    /// A well-formed answer: 200 with [`GOOD_BODY`] and its length.
    pub fn good() -> Vec<Step> {
        vec![Step::send(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{GOOD_BODY}",
            GOOD_BODY.len()
        ))]
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers the requests of one connection until it closes.
async fn serve(mut socket: TcpStream, connection: usize, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    while read_request(&mut socket, &mut buf).await {
        shared.requests.lock().unwrap().push(connection);
        let script = shared.scripts.lock().unwrap().pop_front();
        for step in script.unwrap_or_else(RawUpstream::good) {
            let done = match step {
                Step::Send(bytes) => socket.write_all(&bytes).await.is_err(),
                Step::Pause(pause) => {
                    tokio::time::sleep(pause.min(MAX_PAUSE)).await;
                    false
                }
                Step::Close => true,
            };
            if done {
                return;
            }
        }
    }
}

/// Reads one request (head and `Content-Length` body) out of the
/// connection, leaving any bytes after it in `buf`; `false` when the
/// connection ended first.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_REQUEST_HEAD_BYTES || !read_more(socket, buf).await {
            return false;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        if !read_more(socket, buf).await {
            return false;
        }
    }
    buf.drain(..head_end + length);
    true
}

async fn read_more(socket: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match socket.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}
