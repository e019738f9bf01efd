//! Glue between the generated component exports and [`Provider`].

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::ai_proxy::provider::provider::{Guest, GuestStreamParser};
use crate::sse::SseParser;
use crate::{
    ErrorClass, Header, OutboundRequest, PluginError, Price, Provider, ProviderInfo, RequestFacts,
    RequestHead, Usage,
};

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
        P::usage(&body)
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

/// A stream parser driving [`Provider::stream_event`] over SSE framing.
pub struct StreamParserAdapter<P> {
    state: RefCell<StreamState>,
    provider: PhantomData<P>,
}

/// The framing buffer and the usage seen so far.
#[derive(Default)]
pub struct StreamState {
    framing: SseParser,
    usage: Option<Usage>,
}

impl StreamState {
    /// Feeds one chunk; returns the usage when this chunk changed it.
    pub fn feed<P: Provider>(&mut self, chunk: &[u8]) -> Option<Usage> {
        let before = self.usage;
        let usage = &mut self.usage;
        self.framing
            .push(chunk, |event| P::stream_event(event, usage));
        if self.usage != before {
            self.usage
        } else {
            None
        }
    }

    /// Ends the stream: a final event without a trailing blank line still counts.
    pub fn finish<P: Provider>(&mut self) -> Option<Usage> {
        let usage = &mut self.usage;
        self.framing.finish(|event| P::stream_event(event, usage));
        self.usage
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

/// Runs a whole stream through a provider's parser natively: for plugin
/// unit tests that feed recorded streams split in arbitrary places.
pub fn parse_stream<P: Provider>(chunks: &[&[u8]]) -> Option<Usage> {
    let mut state = StreamState::default();
    for chunk in chunks {
        state.feed::<P>(chunk);
    }
    state.finish::<P>()
}
