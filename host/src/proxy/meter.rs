//! Watching a successful answer go by: feeding a streamed answer to the
//! plugin's parser chunk by chunk, or keeping a copy of a JSON answer (up to
//! a cap) for `body-usage`. (Error answers are read whole and classified
//! before they are relayed, so another key can be tried.)
//!
//! A plugin failure here never affects what the client receives: the
//! answer keeps flowing and the trace records that usage is unknown.

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
        Meter { mode, failure }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self.mode, Mode::Stream(_))
    }

    /// Observes one chunk on its way to the client.
    pub async fn observe(&mut self, instance: &mut PluginInstance, chunk: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        match &mut self.mode {
            Mode::Stream(parser) => {
                if let Err(f) = instance.feed(parser, chunk).await {
                    self.failure = Some(f);
                }
            }
            Mode::Json { body, overflow } => {
                if !*overflow && body.len() + chunk.len() <= MAX_METERED_BODY_BYTES {
                    body.extend_from_slice(chunk);
                } else {
                    *overflow = true;
                }
            }
        }
    }

    /// The answer ended (completely or not).
    pub async fn finish(self, instance: &mut PluginInstance) -> Metered {
        let Meter { mode, failure } = self;
        if failure.is_some() {
            return Metered {
                usage: None,
                error_class: None,
                failure,
            };
        }
        let usage = match &mode {
            Mode::Stream(parser) => instance.finish(parser).await,
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
