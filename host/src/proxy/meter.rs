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

use crate::plugins::types::{ErrorClass, Usage};
use crate::plugins::{PluginFailure, PluginInstance, StreamParser};

/// Largest JSON answer copied for usage extraction; beyond it usage is unknown.
pub const MAX_METERED_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Bytes of an error answer handed to `classify`.
pub const MAX_CLASSIFIED_BODY_BYTES: usize = 64 * 1024;

enum Mode {
    Stream(StreamParser),
    Json { body: Vec<u8>, overflow: bool },
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
    /// through the plugin's stream parser, everything else is read as one
    /// JSON body.
    pub async fn new(instance: &mut PluginInstance, head: &ResponseHeader) -> Meter {
        let event_stream = head
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut failure = None;
        let mode = if event_stream {
            match instance.stream_parser().await {
                Ok(parser) => Mode::Stream(parser),
                Err(f) => {
                    failure = Some(f);
                    Mode::Json {
                        body: Vec::new(),
                        overflow: true,
                    }
                }
            }
        } else {
            Mode::Json {
                body: Vec::new(),
                overflow: false,
            }
        };
        Meter {
            mode,
            failure,
            running: None,
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self.mode, Mode::Stream(_))
    }

    /// The stream's parser (for `stream-control`).
    pub fn parser(&self) -> Option<&StreamParser> {
        match &self.mode {
            Mode::Stream(parser) if self.failure.is_none() => Some(parser),
            _ => None,
        }
    }

    /// Observes one chunk on its way to the client; returns a stream's
    /// running usage when this chunk changed it.
    pub async fn observe(&mut self, instance: &mut PluginInstance, chunk: &[u8]) -> Option<Usage> {
        if self.failure.is_some() {
            return None;
        }
        match &mut self.mode {
            Mode::Stream(parser) => match instance.feed(parser, chunk).await {
                Ok(Some(usage)) => {
                    self.running = Some(usage);
                    return Some(usage);
                }
                Ok(None) => {}
                Err(f) => self.failure = Some(f),
            },
            Mode::Json { body, overflow } => {
                if !*overflow && body.len() + chunk.len() <= MAX_METERED_BODY_BYTES {
                    body.extend_from_slice(chunk);
                } else {
                    *overflow = true;
                }
            }
        }
        None
    }

    /// The answer ended, `complete`ly or not.
    pub async fn finish(self, instance: &mut PluginInstance, complete: bool) -> Metered {
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
        let usage = match &mode {
            Mode::Stream(parser) => {
                instance
                    .finish(parser)
                    .await
                    .map(|reported| match (reported, running) {
                        (Some(reported), Some(running)) if !complete => {
                            Some(larger(reported, running))
                        }
                        (reported, running) => reported.or(running),
                    })
            }
            Mode::Json { overflow: true, .. } => Ok(None),
            Mode::Json { body, .. } => instance.body_usage(body).await,
        };
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
