//! Glue between the generated component exports and [`Provider`].

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::ai_proxy::provider::provider::{
    Guest, GuestStreamParser, StreamParserBorrow,
};
use crate::bindings::exports::ai_proxy::provider::stream_state::{self, Fed};
use crate::bindings::exports::ai_proxy::provider::{endpoints, stream_control};
use crate::snapshot::{BadState, Reader, Writer};
use crate::sse::SseParser;
use crate::{
    EndReason, ErrorClass, Header, OutboundRequest, PluginError, Price, Provider, ProviderInfo,
    RequestFacts, RequestHead, SseEvent, Usage,
};

/// Bytes of generated text counted as one output token in the running
/// estimate of a stream whose provider has not reported its output yet.
pub const BYTES_PER_OUTPUT_TOKEN: u64 = 4;

/// Implements the component exports for a [`Provider`]; named by
/// [`crate::export_provider!`], not used directly.
pub struct Adapter<P>(PhantomData<P>);

impl<P: Provider> Guest for Adapter<P> {
    type StreamParser = StreamParserAdapter<P>;

    fn info() -> ProviderInfo {
        P::info()
    }

    fn inspect(head: RequestHead, body: Vec<u8>) -> Result<RequestFacts, PluginError> {
        P::inspect(&head, &body)
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: String,
    ) -> Result<OutboundRequest, PluginError> {
        P::prepare(head, body, &credential)
    }

    fn body_usage(body: Vec<u8>) -> Option<Usage> {
        P::body_usage(&body)
    }

    fn cost(model: String, usage: Usage, prices: Vec<Price>) -> Option<u64> {
        P::cost(&model, &usage, &prices)
    }

    fn default_prices() -> Vec<Price> {
        P::default_prices()
    }

    fn classify(status: u16, headers: Vec<Header>, body: Vec<u8>) -> ErrorClass {
        P::classify(status, &headers, &body)
    }
}

impl<P: Provider> endpoints::Guest for Adapter<P> {
    fn endpoints() -> Vec<endpoints::Endpoint> {
        P::endpoints()
    }
}

/// A stream parser driving [`Provider::stream_event`] over SSE framing.
pub struct StreamParserAdapter<P> {
    state: RefCell<StreamState>,
    provider: PhantomData<P>,
}

/// The framing buffer and what the stream showed so far: the usage it
/// reported, how much text it generated, and its first and latest events
/// (what a plugin needs to end the stream in its own format).
#[derive(Default)]
pub struct StreamState {
    framing: SseParser,
    usage: Option<Usage>,
    generated_bytes: u64,
    first: Option<SseEvent>,
    last: Option<SseEvent>,
}

impl StreamState {
    /// Feeds one chunk; returns the running usage when this chunk changed it.
    pub fn feed<P: Provider>(&mut self, chunk: &[u8]) -> Option<Usage> {
        let before = self.running_usage();
        self.framing.push_owned(chunk, |event| {
            P::stream_event(&event, &mut self.usage);
            self.generated_bytes = self
                .generated_bytes
                .saturating_add(P::generated_bytes(&event) as u64);
            if self.first.is_none() {
                self.first = Some(event.clone());
            }
            if event.event.as_deref() != Some("ping") {
                self.last = Some(event);
            }
        });
        let after = self.running_usage();
        if after != before { after } else { None }
    }

    /// Ends the stream: a final event without a trailing blank line still
    /// counts. The usage the provider reported, if any.
    pub fn finish<P: Provider>(&mut self) -> Option<Usage> {
        let usage = &mut self.usage;
        self.framing.finish(|event| P::stream_event(event, usage));
        self.usage
    }

    /// The usage the provider reported so far.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The reported usage with `output_tokens` raised to the estimate from
    /// the generated text ([`BYTES_PER_OUTPUT_TOKEN`] bytes per token);
    /// `None` while there is neither.
    pub fn running_usage(&self) -> Option<Usage> {
        let estimate = self.generated_bytes.div_ceil(BYTES_PER_OUTPUT_TOKEN);
        match self.usage {
            Some(usage) => Some(Usage {
                output_tokens: usage.output_tokens.max(estimate),
                ..usage
            }),
            None if estimate > 0 => Some(Usage {
                output_tokens: estimate,
                ..Usage::ZERO
            }),
            None => None,
        }
    }

    /// The state as bytes (`stream-state`): everything a later batch needs.
    pub fn save(&self) -> Vec<u8> {
        let mut out = Writer::new();
        self.framing.save(&mut out);
        out.usage(self.usage);
        out.u64(self.generated_bytes);
        out.event(self.first.as_ref());
        out.event(self.last.as_ref());
        out.finish()
    }

    /// The state [`StreamState::save`] wrote; an empty list is a new stream.
    pub fn restore(state: &[u8]) -> Result<StreamState, BadState> {
        if state.is_empty() {
            return Ok(StreamState::default());
        }
        let mut from = Reader::new(state)?;
        let restored = StreamState {
            framing: SseParser::restore(&mut from)?,
            usage: from.usage()?,
            generated_bytes: from.u64()?,
            first: from.event()?,
            last: from.event()?,
        };
        from.end()?;
        Ok(restored)
    }

    /// The stream's first complete event.
    pub fn first_event(&self) -> Option<&SseEvent> {
        self.first.as_ref()
    }

    /// The latest complete event, keep-alive `ping` events aside.
    pub fn last_event(&self) -> Option<&SseEvent> {
        self.last.as_ref()
    }
}

impl<P: Provider> GuestStreamParser for StreamParserAdapter<P> {
    fn new() -> Self {
        StreamParserAdapter {
            state: RefCell::new(StreamState::default()),
            provider: PhantomData,
        }
    }

    fn feed(&self, chunk: Vec<u8>) -> Option<Usage> {
        self.state.borrow_mut().feed::<P>(&chunk)
    }

    fn finish(&self) -> Option<Usage> {
        self.state.borrow_mut().finish::<P>()
    }
}

impl<P: Provider> stream_control::Guest for Adapter<P> {
    fn terminal_event(parser: StreamParserBorrow<'_>, reason: EndReason) -> Vec<u8> {
        let parser: &StreamParserAdapter<P> = parser.get();
        P::terminal_event(&parser.state.borrow(), reason)
    }
}

/// A state the host handed back that this SDK did not write: a host bug,
/// never a provider's doing. The call traps, so the stream's usage is
/// unknown and the gateway charges its estimate.
#[allow(
    clippy::expect_used,
    reason = "a trap is the contract's answer to a state the plugin did not write"
)]
fn restored(state: &[u8]) -> StreamState {
    StreamState::restore(state)
        .expect("the gateway handed back a stream state this plugin did not write")
}

impl<P: Provider> stream_state::Guest for Adapter<P> {
    fn feed(state: Vec<u8>, bytes: Vec<u8>) -> Fed {
        let mut stream = restored(&state);
        let usage = stream.feed::<P>(&bytes);
        Fed {
            state: stream.save(),
            usage,
        }
    }

    fn finish(state: Vec<u8>) -> Option<Usage> {
        restored(&state).finish::<P>()
    }

    fn terminal_event(state: Vec<u8>, reason: EndReason) -> Vec<u8> {
        P::terminal_event(&restored(&state), reason)
    }
}

/// Runs a whole stream through a provider's parser natively: for plugin
/// unit tests that feed recorded streams split in arbitrary places.
pub fn parse_stream<P: Provider>(chunks: &[&[u8]]) -> Option<Usage> {
    let mut state = StreamState::default();
    for chunk in chunks {
        state.feed::<P>(chunk);
    }
    state.finish::<P>()
}
