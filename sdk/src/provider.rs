//! The one trait a plugin implements.

use crate::endpoints::Endpoint;
use crate::{
    EndReason, ErrorClass, Header, OutboundRequest, PluginError, Price, ProviderInfo, RequestFacts,
    RequestHead, SseEvent, StreamState, Usage, classify, price,
};

/// A provider plugin, written as associated functions: the gateway gives
/// each request a fresh instance, so there is no state to carry in `self`.
///
/// The contract of every function is the one documented in
/// `wit/provider.wit`; the defaults here are the behaviour most providers
/// want.
pub trait Provider: 'static {
    /// Name, version, default base URL, credential style, health probe and
    /// OAuth endpoints.
    fn info() -> ProviderInfo;

    /// The provider's endpoints with the class of each, most specific
    /// first (see [`crate::endpoints`]); a request matching none is of
    /// class `other`, which client keys are not granted by default.
    fn endpoints() -> Vec<Endpoint>;

    /// The model and the stream flag of a client request.
    fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError>;

    /// The upstream request, with `credential` (a placeholder) placed where
    /// the provider expects its key: [`credential::outbound`](crate::credential::outbound)
    /// places it as [`ProviderInfo::credential`] says.
    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError>;

    /// Usage from a whole JSON response body (`body-usage` in the WIT).
    fn body_usage(body: &[u8]) -> Option<Usage>;

    /// Updates the running usage of a stream with one complete SSE event.
    /// Called for every event in order; set `usage` when the event carries
    /// usage (replace or add to it, as the provider's format requires).
    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>);

    /// Bytes of generated text (content, reasoning, tool-call arguments)
    /// one stream event carries. They feed the running output estimate
    /// the gateway watches quotas with until the provider reports its
    /// count (see [`StreamState::running_usage`]). 0 by default: no estimate.
    fn generated_bytes(_event: &SseEvent) -> usize {
        0
    }

    /// The bytes that end `stream` early and cleanly in the provider's
    /// format, after its last complete event (`stream-control` in
    /// `wit/provider.wit`). Empty by default: the stream cannot be ended
    /// early, and the gateway lets it run to its end.
    fn terminal_event(_stream: &StreamState, _reason: EndReason) -> Vec<u8> {
        Vec::new()
    }

    /// The provider's list prices.
    fn default_prices() -> Vec<Price>;

    /// Cost in nano-USD; by default the longest-prefix price with cached and
    /// cache-write tokens billed at their own rates (see [`price::cost`]).
    fn cost(model: &str, usage: &Usage, prices: &[Price]) -> Option<u64> {
        price::cost(model, usage, prices)
    }

    /// Error class of an upstream answer; by default from the status code
    /// and `retry-after` alone (see [`classify::by_status`]).
    fn classify(status: u16, headers: &[Header], _body: &[u8]) -> ErrorClass {
        classify::by_status(status, headers)
    }
}
