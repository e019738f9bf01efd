//! The mock's router and its in-process handle, [`MockUpstream`].
//!
//! Routes, by provider (paths as the official SDKs call them):
//! - OpenAI: `POST /v1/chat/completions`, `POST /v1/responses`, `POST /v1/embeddings`
//! - Anthropic: `POST /v1/messages`
//! - Gemini: `/v1beta/models/{model}:{method}` and `/v1/models/{model}:{method}`,
//!   `GET /v1beta/models`
//! - Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions`,
//!   `POST /openai/v1/chat/completions`, `GET /openai/v1/models`
//! - shared: `GET /v1/models` answers in the dialect of the credential header sent
//!   (`x-goog-api-key` → Gemini, `anthropic-version`/`x-api-key` → Anthropic, else OpenAI)
//! - the mock's own: `GET`/`DELETE /__mock/requests` (read or clear the recording; not
//!   itself recorded)
//!
//! Accepted sockets get `TCP_NODELAY`, so each SSE event leaves as soon as it is written.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

use super::errors::error_response;
use super::provider::{Provider, query_param};
use super::recording::{self, MAX_BODY_BYTES, RecordedRequest, Recorder};
use super::{anthropic, azure, gemini, leaks, openai, openai_responses, switches};

/// How a mock is started.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Keep every request for [`MockUpstream::requests`]. Off for benchmarks: the
    /// recording layer then is not installed at all.
    pub record: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { record: true }
    }
}

/// The mock's router; `recorder` receives the requests when `options.record` is set.
pub fn router(options: Options, recorder: Recorder) -> Router {
    let providers = Router::new()
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/responses", post(openai_responses::responses))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/models", get(models_by_dialect))
        .route("/v1/models/{*rest}", any(gemini::dispatch))
        .route("/v1beta/models", get(gemini::models))
        .route("/v1beta/models/{*rest}", any(gemini::dispatch))
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(azure::deployment_chat),
        )
        .route("/openai/v1/chat/completions", post(azure::v1_chat))
        .route("/openai/v1/models", get(azure::v1_models))
        .fallback(not_found)
        .layer(from_fn(switches::reset))
        .layer(from_fn(leaks::leak))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let providers = if options.record {
        providers.layer(from_fn_with_state(recorder.clone(), recording::record))
    } else {
        providers
    };
    providers
        .route(
            "/__mock/requests",
            get(recording::dump).delete(recording::forget),
        )
        .with_state(recorder)
}

/// Most connections the kernel queues for the mock before it accepts them. Linux caps it at
/// `net.core.somaxconn` (4,096 on the benchmark machine). Tokio's `TcpListener::bind` asks
/// for 1,024: when a gateway opens thousands of upstream connections at once the queue
/// overflows: the kernel drops SYNs (each waits a retransmission, 1 s then 3 s) and answers
/// others with syncookies, and a cookie that then fails its check resets the connection
/// before any answer byte: every 502 the benchmark saw at 4,000 and 8,000 streams was one
/// (bench/RESULTS.md, issue 13).
pub const LISTEN_BACKLOG: u32 = 65_535;

/// A listener on `addr` with [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `router` on `listener` until the task is dropped, with `TCP_NODELAY` set on
/// every accepted socket.
pub async fn serve(listener: TcpListener, router: Router) -> io::Result<()> {
    let listener = listener.tap_io(|stream| {
        // Without it an SSE event could wait for the next one (Nagle); failure only costs latency.
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router).await
}

/// `GET /v1/models`, shared by three providers: answers in the caller's dialect.
async fn models_by_dialect(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let gemini_key = query
        .as_deref()
        .and_then(|query| query_param(query, "key"))
        .is_some();
    if headers.contains_key("x-goog-api-key") || gemini_key {
        gemini::models(headers, RawQuery(query)).await
    } else if headers.contains_key("anthropic-version") || headers.contains_key("x-api-key") {
        anthropic::models(headers).await
    } else {
        openai::models(headers).await
    }
}

async fn not_found() -> Response {
    error_response(Provider::OpenAi, StatusCode::NOT_FOUND)
}

/// A mock upstream serving on `127.0.0.1` in a background task; dropping it stops it.
#[derive(Debug)]
pub struct MockUpstream {
    addr: SocketAddr,
    recorder: Recorder,
    task: JoinHandle<()>,
}

impl MockUpstream {
    /// Starts a recording mock on an ephemeral port.
    ///
    /// # Panics
    /// When no loopback port can be bound: a test without its upstream cannot run.
    pub async fn start() -> MockUpstream {
        MockUpstream::start_with(Options::default()).await
    }

    /// Starts a mock with `options` on an ephemeral port.
    ///
    /// # Panics
    /// When no loopback port can be bound: a test without its upstream cannot run.
    #[allow(
        clippy::expect_used,
        reason = "test support: failing to bind loopback must stop the test"
    )]
    pub async fn start_with(options: Options) -> MockUpstream {
        MockUpstream::try_start_with(options)
            .await
            .expect("mock upstream binds 127.0.0.1:0")
    }

    /// Starts a mock with `options` on an ephemeral port, reporting a bind failure.
    pub async fn try_start_with(options: Options) -> io::Result<MockUpstream> {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let addr = listener.local_addr()?;
        let recorder = Recorder::default();
        let app = router(options, recorder.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = serve(listener, app).await {
                eprintln!("mock upstream on {addr} stopped: {error}");
            }
        });
        Ok(MockUpstream {
            addr,
            recorder,
            task,
        })
    }

    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, oldest first (empty when recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.recorder.clear();
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
