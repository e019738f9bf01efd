//! ai-proxy: an AI gateway. The proxy (port 8080, Pingora) authenticates
//! clients, picks an upstream key, lets a provider plugin (a WebAssembly
//! component) prepare the request, forwards it and accounts for tokens and
//! cost; the admin API (port 9090, Axum) manages it all. Both take one
//! [`crate::core::Core`], built by [`build`]: the database, the catalog and its
//! reload, the plugin runtime, the limiter, the key board, the OAuth
//! accounts, the trace writer and the egress client.

pub mod admin;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod core;
pub mod egress;
pub mod health;
pub mod limits;
pub mod oauth;
pub mod plugins;
pub mod private_files;
pub mod proxy;
pub mod scheduler;
pub mod secrets;
pub mod shadow;
pub mod shutdown;
pub mod store;
pub mod tls;
pub mod trace;

mod server;

pub use crate::core::build;
pub use server::in_process::serve_in_process;
pub use server::{Start, run};
