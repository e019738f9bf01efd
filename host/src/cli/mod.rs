//! Command-line tools beside `serve`.

mod plugin_check;
mod samples;

pub use plugin_check::run as plugin_check;
