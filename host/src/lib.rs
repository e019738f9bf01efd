//! ai-proxy: an AI gateway. The proxy (port 8080, Pingora) authenticates
//! clients, picks an upstream key, lets a provider plugin (a WebAssembly
//! component) prepare the request, forwards it and accounts for tokens and
//! cost; the admin API (port 9090, Axum) manages it all. Both share one
//! core: the catalog, the plugin runtime and the trace writer.

pub mod admin;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod conformance;
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

pub use server::{Start, run};
