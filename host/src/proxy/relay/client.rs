//! Watching the client's side of the connection while its answer is
//! awaited or relayed: a client that closes its connection is let go at
//! once, with the upstream request made for it.

use pingora::ErrorType;
use pingora::proxy::Session;

/// What watching the client's connection found.
pub enum ClientSide {
    /// It closed the connection (or reset it).
    Gone,
    /// Nothing more to learn for this answer: an HTTP/2 stream that ended
    /// cleanly, or bytes sent after the request (a pipelined next request,
    /// which this connection will not serve: it is closed after the answer,
    /// and the client sends that request again on a new one).
    Quiet,
}

/// Waits until the client's connection says something once its request
/// was read whole.
pub async fn watch(client: &mut Session) -> ClientSide {
    match client.read_body_or_idle(true).await {
        Ok(_) => ClientSide::Quiet,
        // Pingora's word for bytes after the request's end (one of them is
        // consumed reading it, so the connection cannot serve another).
        Err(e) if e.etype() == &ErrorType::ConnectError => {
            client.set_keepalive(None);
            ClientSide::Quiet
        }
        Err(_) => ClientSide::Gone,
    }
}

/// Resolves only when the client leaves.
pub async fn left(client: &mut Session) {
    if let ClientSide::Gone = watch(client).await {
        return;
    }
    std::future::pending().await
}
