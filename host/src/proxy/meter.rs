//! Watching a successful answer go by: feeding a streamed answer to the
//! plugin's parser chunk by chunk, or keeping a copy of a JSON answer (up to
//! a cap) for `body-usage`. (Error answers are read whole and classified
//! before they are relayed, so another key can be tried.)
//!
//! A plugin failure here never affects what the client receives: the
//! answer keeps flowing and the trace records that usage is unknown.
//!
//! A stream's usage is what the provider reported by its end; when it
//! reported none, or the stream ended early (cut, abandoned, broken), the
//! parser's running usage (partly estimated, see `feed` in the WIT) counts
//! where it is larger.

use pingora::http::ResponseHeader;

use super::stream_batch::StreamBatch;
use crate::plugins::types::{ErrorClass, Usage};
use crate::plugins::{EndReason, PluginCalls, PluginFailure, StreamParser};

/// Largest JSON answer copied for usage extraction; beyond it usage is unknown.
pub const MAX_METERED_BODY_BYTES: usize = 32 * 1024 * 1024;

enum Mode {
    /// The plugin keeps its parser's state in the host (`stream-state`).
    Batched(StreamBatch),
    /// The plugin's parser lives in an instance kept for the stream.
    Parser(StreamParser),
    Json {
        body: Vec<u8>,
        overflow: bool,
    },
}

/// Accounting for one upstream answer.
pub struct Meter {
    mode: Mode,
    failure: Option<PluginFailure>,
    /// The latest running usage of a stream.
    running: Option<Usage>,
}

/// What the meter found.
pub struct Metered {
    pub usage: Option<Usage>,
    pub error_class: Option<ErrorClass>,
    pub failure: Option<PluginFailure>,
}

impl Meter {
    /// A meter for the answer `head` starts: `text/event-stream` answers go
    /// through the plugin's stream parser (every chunk as it comes when
    /// `watched`: a stream that may be cut at its quota), everything else
    /// is read as one JSON body.
    pub async fn new(calls: &mut PluginCalls, head: &ResponseHeader, watched: bool) -> Meter {
        let event_stream = head
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut failure = None;
        let mode = if !event_stream {
            Mode::Json {
                body: Vec::new(),
                overflow: false,
            }
        } else if calls.plugin().keeps_stream_state() {
            Mode::Batched(StreamBatch::new(watched))
        } else {
            match stream_parser(calls).await {
                Ok(parser) => Mode::Parser(parser),
                Err(f) => {
                    failure = Some(f);
                    Mode::Json {
                        body: Vec::new(),
                        overflow: true,
                    }
                }
            }
        };
        Meter {
            mode,
            failure,
            running: None,
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self.mode, Mode::Batched(_) | Mode::Parser(_))
    }

    /// Observes one chunk on its way to the client; returns a stream's
    /// running usage when this chunk changed it.
    pub async fn observe(&mut self, calls: &mut PluginCalls, chunk: &[u8]) -> Option<Usage> {
        if self.failure.is_some() {
            return None;
        }
        let fed = match &mut self.mode {
            Mode::Batched(batch) => batch.push(calls, chunk).await,
            Mode::Parser(parser) => match calls.instance().await {
                Ok(instance) => instance.feed(parser, chunk).await,
                Err(f) => Err(f),
            },
            Mode::Json { body, overflow } => {
                if !*overflow && body.len() + chunk.len() <= MAX_METERED_BODY_BYTES {
                    body.extend_from_slice(chunk);
                } else {
                    *overflow = true;
                }
                Ok(None)
            }
        };
        match fed {
            Ok(Some(usage)) => {
                self.running = Some(usage);
                Some(usage)
            }
            Ok(None) => None,
            Err(f) => {
                self.failure = Some(f);
                None
            }
        }
    }

    /// The bytes that end the stream read so far, in the provider's format
    /// (`stream-control`); why not, when they cannot be had.
    pub async fn terminal_event(
        &self,
        calls: &mut PluginCalls,
        reason: EndReason,
    ) -> Result<Option<Vec<u8>>, String> {
        if self.failure.is_some() {
            return Err("the stream's parser failed".to_owned());
        }
        let instance = calls.instance().await.map_err(|f| f.to_string())?;
        let end = match &self.mode {
            Mode::Batched(batch) => match batch.fed_state() {
                Some(state) => instance.terminal_event_state(state, reason).await,
                None => return Err("bytes of the stream were not fed yet".to_owned()),
            },
            Mode::Parser(parser) => instance.terminal_event(parser, reason).await,
            Mode::Json { .. } => return Err("the stream has no parser".to_owned()),
        };
        end.map_err(|f| f.to_string())
    }

    /// The answer ended, `complete`ly or not. The instance the last calls
    /// ran on stays with `calls` for the cost.
    pub async fn finish(self, calls: &mut PluginCalls, complete: bool) -> Metered {
        let Meter {
            mode,
            failure,
            running,
        } = self;
        if failure.is_some() {
            return Metered {
                usage: None,
                error_class: None,
                failure,
            };
        }
        let mut running = running;
        let reported = match mode {
            Mode::Batched(mut batch) => batch.finish(calls).await.map(|(reported, last)| {
                running = last.or(running);
                reported
            }),
            Mode::Parser(parser) => match calls.instance().await {
                Ok(instance) => instance.finish(&parser).await,
                Err(f) => Err(f),
            },
            Mode::Json { overflow: true, .. } => Ok(None),
            Mode::Json { body, .. } => match calls.instance().await {
                Ok(instance) => instance.body_usage(&body).await,
                Err(f) => Err(f),
            },
        };
        // A stream cut short counts what it showed, where that is more.
        let usage = reported.map(|reported| match (reported, running) {
            (Some(reported), Some(running)) if !complete => Some(larger(reported, running)),
            (reported, running) => reported.or(running),
        });
        match usage {
            Ok(usage) => Metered {
                usage,
                error_class: None,
                failure: None,
            },
            Err(f) => Metered {
                usage: None,
                error_class: None,
                failure: Some(f),
            },
        }
    }
}

async fn stream_parser(calls: &mut PluginCalls) -> Result<StreamParser, PluginFailure> {
    calls.instance().await?.stream_parser().await
}

/// Each count of `a` and `b`, the larger.
fn larger(a: Usage, b: Usage) -> Usage {
    Usage {
        input_tokens: a.input_tokens.max(b.input_tokens),
        output_tokens: a.output_tokens.max(b.output_tokens),
        cached_input_tokens: a.cached_input_tokens.max(b.cached_input_tokens),
        cache_write_tokens: a.cache_write_tokens.max(b.cache_write_tokens),
        reasoning_tokens: a.reasoning_tokens.max(b.reasoning_tokens),
    }
}
