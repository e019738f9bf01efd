//! Command-line tools beside `serve`: `ai-proxy plugin new` and
//! `ai-proxy plugin check`.

mod answer;
mod args;
mod builtin_samples;
mod exercise;
mod master_key;
mod plugin_check;
mod plugin_new;
mod plugin_vectors;

pub use args::plugin_command;
pub use master_key::{Action as MasterKeyAction, run as master_key};
pub use plugin_check::run as plugin_check;
pub use plugin_new::{DEFAULT_JS_SDK, DEFAULT_RUST_SDK};
