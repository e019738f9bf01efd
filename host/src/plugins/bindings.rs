//! Host bindings generated from `wit/provider.wit`.

// Exports are called asynchronously: WASI's host side awaits (even a
// write to a discarded stderr), and awaiting is only possible inside the
// proxy's async request path if the guest runs on a fiber.
wasmtime::component::bindgen!({
    world: "provider-plugin",
    path: "../wit",
    exports: { default: async },
});

pub use self::ai_proxy::provider::types;
