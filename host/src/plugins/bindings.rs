//! Host bindings generated from `wit/provider.wit`.

wasmtime::component::bindgen!({
    world: "provider-plugin",
    path: "../wit",
});

pub use ai_proxy::provider::types;
