//! What a provider's endpoints do (`endpoints` in `wit/provider.wit`): the
//! gateway serves a client key only the classes of endpoint it was granted,
//! so a plugin lists its provider's endpoints with their class.
//!
//! [`Endpoint::new`] builds one entry. How the gateway matches a request
//! against the list is written in the WIT (`endpoints`).

pub use crate::bindings::exports::ai_proxy::provider::endpoints::{Endpoint, EndpointClass};

impl Endpoint {
    /// `method` (upper-case, or `*`) on `path` (a pattern: `*` within a
    /// segment, a last segment `**`) is of `class`.
    pub fn new(method: &str, path: &str, class: EndpointClass) -> Endpoint {
        Endpoint {
            method: method.to_owned(),
            path: path.to_owned(),
            class,
        }
    }
}
