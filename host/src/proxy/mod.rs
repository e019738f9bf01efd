//! The proxy on port 8080: a Pingora service whose `request_filter` runs
//! the whole pipeline ([`pipeline::serve`]) and whose `logging` phase hands
//! the trace to the background writer.
//!
//! Why the pipeline answers from `request_filter` instead of using
//! Pingora's upstream phases: the plugin must see the whole request body
//! before the upstream request head exists (it may rewrite it), and the
//! body must stay available for another attempt. Pingora's phases send the
//! head before the body is read and keep at most 64 KiB for retries. So the
//! gateway reads the body itself and drives Pingora's own upstream
//! connector (pooling, TLS, timeouts) directly.

mod attempt;
mod client_auth;
mod ctx;
pub mod edge;
mod error;
mod jwt;
pub mod listener;
mod mask;
mod oauth;
mod path;
mod pipeline;
mod relay;
mod request;
mod request_id;
mod route;
mod shadow_tap;
mod summary;
mod token_time;
mod upstream_message;

use std::sync::Arc;

use crate::egress::Connector;
use async_trait::async_trait;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};

pub use ctx::RequestCtx;
pub use edge::Edge;
pub use error::{Fault, ProxyError};
pub use jwt::{JwtError, JwtVerifier};
pub use oauth::{TOKEN_PATH, TokenIssuer};

use crate::core::Core;
use crate::plugins::ClientBlame;
use crate::plugins::error_class_name;

/// What the proxy shares: the core (through `Deref`, so `core.catalog`,
/// `core.limiter`, ... are the core's) and the proxy port's own parts.
pub struct ProxyCore {
    pub core: Arc<Core>,
    /// The proxy's upstream connection pool, used on Pingora's runtimes
    /// (the core's connector serves the core's runtime).
    pub connector: Arc<Connector>,
    pub max_body_bytes: usize,
    pub jwt: JwtVerifier,
    /// Signs and checks the tokens of `POST /oauth/token`.
    pub tokens: TokenIssuer,
    /// Plugin failures charged to the client keys that provoked them.
    pub blame: Arc<ClientBlame>,
    /// Most upstream keys tried for one request.
    pub max_attempts: usize,
}

impl std::ops::Deref for ProxyCore {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl ProxyCore {
    /// The proxy port's view of `core`.
    pub fn new(core: Arc<Core>) -> Result<ProxyCore, jsonwebtoken::errors::Error> {
        let config = core.config.clone();
        Ok(ProxyCore {
            connector: Arc::new(Connector::new(None)),
            max_body_bytes: config.proxy.max_body_bytes,
            jwt: JwtVerifier::new(&config.client_auth.jwt)?,
            tokens: TokenIssuer::new(&core.keys.current, config.client_auth.oauth_token_ttl)
                .with_leeway(config.client_auth.jwt.time.leeway)
                .with_previous_key(core.keys.previous.as_ref()),
            blame: Arc::new(ClientBlame::new(
                config.plugins.failures_per_client,
                config.plugins.failure_window,
            )),
            max_attempts: config.proxy.max_attempts,
            core,
        })
    }
}

/// The Pingora service.
pub struct Gateway {
    core: Arc<ProxyCore>,
}

impl Gateway {
    pub fn new(core: Arc<ProxyCore>) -> Gateway {
        Gateway { core }
    }

    /// Answers a request past the maximum in flight: 503 `overloaded`,
    /// traced and counted, before any other work.
    async fn shed(&self, session: &mut Session, ctx: &mut RequestCtx) -> pingora::Result<bool> {
        let error = ProxyError::Overloaded;
        let req = session.req_header();
        ctx.trace.method = req.method.as_str().to_owned();
        ctx.trace.path = req.uri.path().to_owned();
        ctx.trace.status_code = error.status();
        ctx.trace.error_class = Some(error.code().to_owned());
        ctx.trace.error_message = Some(error.detail());
        self.core.in_flight.record_shed();
        respond_error(session, ctx, &error).await;
        Ok(true)
    }
}

async fn respond_error(session: &mut Session, ctx: &RequestCtx, error: &ProxyError) {
    let body = error.body();
    let Ok(mut header) = ResponseHeader::build(error.status(), Some(5)) else {
        return;
    };
    let _ = header.insert_header("content-type", "application/json");
    let _ = header.insert_header("content-length", body.len().to_string());
    let _ = header.insert_header("x-request-id", ctx.request_id.as_str());
    if let Some(seconds) = error.retry_after() {
        let _ = header.insert_header("retry-after", seconds.to_string());
    }
    if matches!(
        error,
        ProxyError::BodyTooLarge { .. } | ProxyError::BodyRead
    ) {
        // The rest of the body was never read: this connection cannot be reused.
        session.set_keepalive(None);
    }
    if session
        .write_response_header(Box::new(header), false)
        .await
        .is_ok()
    {
        let _ = session.write_response_body(Some(body), true).await;
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        let mut ctx = RequestCtx::new();
        ctx.in_flight = Some(self.core.in_flight.enter());
        // Plugin calls are logged only for exported spans.
        if self.core.traces.export_stats().is_some() {
            ctx.trace.plugin_calls = Some(crate::plugins::PluginCallLog::new(ctx.started));
        }
        ctx
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        if !ctx.in_flight.as_ref().is_some_and(|p| p.admitted()) {
            return Box::pin(self.shed(session, ctx)).await;
        }
        let req = session.req_header();
        if req.uri.path() == oauth::TOKEN_PATH {
            ctx.traced = false;
            Box::pin(oauth::serve_token_request(&self.core, session)).await;
            return Ok(true);
        }
        ctx.trace.method = req.method.as_str().to_owned();
        ctx.trace.parent = req
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::trace::otlp::TraceParent::parse);
        ctx.trace.path = req.uri.path().to_owned();
        if let Err(error) = pipeline::serve(&self.core, session, ctx).await {
            if ctx.trace.error_message.is_none() {
                ctx.trace.error_message = Some(error.detail());
            }
            if ctx.trace.error_class.is_none() {
                ctx.trace.error_class = Some(error.code().to_owned());
            }
            if ctx.response_started {
                // Headers are out: the only honest signal left is to cut the connection.
                return Err(pingora::Error::explain(
                    pingora::ErrorType::ConnectionClosed,
                    "answer interrupted",
                ));
            }
            ctx.trace.status_code = error.status();
            if matches!(error, ProxyError::ClientGone) {
                // Nobody reads an answer; the connection is dropped below.
                ctx.client_gone = true;
            } else if matches!(error, ProxyError::Overloaded) {
                // Summarised, not a line per request.
                self.core.in_flight.record_shed();
            } else if error.fault() != Fault::Client {
                tracing::warn!(request_id = %ctx.request_id, code = error.code(), detail = %error.detail(), "request failed");
            }
            if !ctx.client_gone {
                // Boxed: a stream's request future is not sized by it.
                Box::pin(respond_error(session, ctx, &error)).await;
            }
        }
        if ctx.client_gone {
            // Dropped rather than finished: the client is not reading.
            return Err(pingora::Error::explain(
                pingora::ErrorType::ConnectionClosed,
                "client went away",
            ));
        }
        Ok(true)
    }

    fn suppress_error_log(
        &self,
        _session: &Session,
        ctx: &RequestCtx,
        _e: &pingora::Error,
    ) -> bool {
        // A client that leaves is traced, not an error of the gateway.
        ctx.client_gone
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        // Every request is answered in `request_filter`.
        Err(pingora::Error::new(pingora::ErrorType::InternalError))
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &pingora::Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        if !ctx.response_started && !ctx.client_gone && session.response_written().is_none() {
            let _ = session.respond_error(502).await;
        }
        tracing::debug!(request_id = %ctx.request_id, error = %e, "proxy failure");
        FailToProxy {
            error_code: 502,
            can_reuse_downstream: false,
        }
    }

    /// Pingora's error log lines name the request; never with its key.
    fn request_summary(&self, session: &Session, _ctx: &RequestCtx) -> String {
        summary::request_summary(session.req_header())
    }

    async fn logging(
        &self,
        session: &mut Session,
        _e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        if !ctx.traced {
            return;
        }
        let mut record = std::mem::take(&mut *ctx.trace);
        if record.status_code == 0
            && let Some(written) = session.response_written()
        {
            record.status_code = written.status.as_u16();
        }
        record.duration_ms = ctx.elapsed_ms();
        record.created_at = Some(
            chrono::Utc::now()
                - chrono::Duration::milliseconds(i64::try_from(record.duration_ms).unwrap_or(0)),
        );
        self.core.traces.send(record);
    }
}
