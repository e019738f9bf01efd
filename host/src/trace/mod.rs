//! Request traces: one record per proxied request, written by a batched
//! background writer that the proxy hands records to without waiting.

pub mod otlp;
mod record;
pub mod retention;
mod writer;

pub use record::{Attempt, TraceRecord};
pub use writer::{TraceSender, TraceWriter, TraceWriterStats};
