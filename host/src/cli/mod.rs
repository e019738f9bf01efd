//! Command-line tools beside `serve`.

mod master_key;
mod plugin_check;
mod samples;

pub use master_key::{Action as MasterKeyAction, run as master_key};
pub use plugin_check::run as plugin_check;
