//! What a component must be to become a plugin, checked before anything
//! is stored: a WebAssembly component (not a core module), under the size
//! cap, exporting the provider interface of a WIT version this host
//! speaks, importing nothing but WASI 0.2 and the host interface, and
//! describing itself with a usable name and version.

use wasmtime::Engine;
use wasmtime::component::Component;

/// The WIT package plugins implement.
pub const WIT_PACKAGE: &str = "ai-proxy:provider";
/// The package versions this host speaks (semver-compatible with 0.1).
pub const SUPPORTED_WIT: &str = "0.1";
/// Default largest component accepted.
pub const DEFAULT_MAX_PLUGIN_BYTES: usize = 32 * 1024 * 1024;
/// Longest plugin name and version.
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_VERSION_CHARS: usize = 32;

/// Why a component cannot be a plugin. Each names its reason for the
/// uploader; none exposes host internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the file is {size} bytes; plugins may be at most {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not a WebAssembly component: {0}")]
    NotComponent(&'static str),
    #[error("not a valid WebAssembly component: {0}")]
    Compile(String),
    #[error(
        "the component targets {WIT_PACKAGE}@{found}, but this gateway supports {WIT_PACKAGE}@{SUPPORTED_WIT}.x"
    )]
    UnsupportedWit { found: String },
    #[error("the component does not export the {WIT_PACKAGE}/provider interface")]
    MissingExport,
    #[error("the component imports '{0}', which the gateway does not provide")]
    UnknownImport(String),
    #[error("the component does not fit the provider-plugin world: {0}")]
    World(String),
    #[error("the plugin failed while describing itself: {0}")]
    Info(String),
    #[error("the plugin describes itself badly: {0}")]
    BadInfo(&'static str),
}

impl LoadError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::TooLarge { .. } => "plugin_too_large",
            LoadError::NotComponent(_) => "not_a_component",
            LoadError::Compile(_) => "invalid_component",
            LoadError::UnsupportedWit { .. } => "unsupported_wit_version",
            LoadError::MissingExport => "missing_export",
            LoadError::UnknownImport(_) => "unknown_import",
            LoadError::World(_) => "wrong_world",
            LoadError::Info(_) => "info_failed",
            LoadError::BadInfo(_) => "bad_info",
        }
    }
}

/// Checks the size and the binary header (cheap, before compiling).
pub fn check_bytes(bytes: &[u8], limit: usize) -> Result<(), LoadError> {
    if bytes.len() > limit {
        return Err(LoadError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let Some(header) = bytes.get(..8) else {
        return Err(LoadError::NotComponent("the file is too short"));
    };
    if &header[..4] != b"\0asm" {
        return Err(LoadError::NotComponent("the file is not WebAssembly"));
    }
    match &header[4..] {
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [0x01, 0x00, 0x00, 0x00] => Err(LoadError::NotComponent(
            "it is a core module; build a component (wasm32-wasip2, or wasm-tools component new)",
        )),
        _ => Err(LoadError::NotComponent(
            "unknown WebAssembly version or layer",
        )),
    }
}

/// The version in an interface name such as `ai-proxy:provider/provider@0.1.0`.
pub(super) fn package_version(name: &str) -> Option<&str> {
    name.strip_prefix(WIT_PACKAGE)?
        .split_once('@')
        .map(|(_, version)| version)
}

pub(super) fn supported(version: &str) -> bool {
    version
        .strip_prefix(SUPPORTED_WIT)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Checks the compiled component's imports and exports by name.
pub fn check_interface(engine: &Engine, component: &Component) -> Result<(), LoadError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        // The package's own interfaces (`host`, and `types` for type-only
        // imports); the linker refuses any it does not provide.
        let host = package_version(name).is_some_and(supported);
        let wasi = name.starts_with("wasi:") && name.contains("@0.2.");
        if !host && !wasi {
            return Err(LoadError::UnknownImport(name.to_owned()));
        }
    }
    let mut found = None;
    for (name, _) in ty.exports(engine) {
        if let Some(version) = package_version(name).filter(|_| name.contains("/provider@")) {
            if supported(version) {
                return Ok(());
            }
            found = Some(version.to_owned());
        }
    }
    Err(found.map_or(LoadError::MissingExport, |found| {
        LoadError::UnsupportedWit { found }
    }))
}

/// Turns a linker's refusal into the import it could not satisfy.
pub fn world_error(error: &wasmtime::Error) -> LoadError {
    let text = format!("{error:#}");
    if text.contains("matching implementation was not found in the linker")
        && let Some(name) = text.split('`').nth(1)
    {
        return LoadError::UnknownImport(name.to_owned());
    }
    LoadError::World(text)
}

/// Checks what `info()` returned.
pub fn check_info(name: &str, version: &str) -> Result<(), LoadError> {
    let name_ok = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !name_ok {
        return Err(LoadError::BadInfo(
            "name must be 1 to 64 characters of a-z, 0-9, '-' and '_'",
        ));
    }
    let version_ok = !version.is_empty()
        && version.len() <= MAX_VERSION_CHARS
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if !version_ok {
        return Err(LoadError::BadInfo(
            "version must be 1 to 32 characters such as 1.2.0",
        ));
    }
    Ok(())
}

/// A component that imports one empty instance named `name` (a test
/// fixture for import checks, built byte by byte).
#[cfg(test)]
pub fn component_importing(name: &str) -> Vec<u8> {
    let mut out = b"\0asm\x0d\x00\x01\x00".to_vec();
    // Type section: one instance type with no declarations.
    out.extend_from_slice(&[0x07, 0x03, 0x01, 0x42, 0x00]);
    // Import section: that instance under `name`.
    let mut content = vec![0x01, 0x00, name.len() as u8];
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(&[0x05, 0x00]);
    out.push(0x0a);
    out.push(content.len() as u8);
    out.extend_from_slice(&content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_imports_and_missing_exports_are_named() {
        let engine = Engine::default();
        let foreign = Component::new(&engine, component_importing("acme:vault/secrets@1.0.0"))
            .expect("a valid component");
        assert_eq!(
            check_interface(&engine, &foreign),
            Err(LoadError::UnknownImport("acme:vault/secrets@1.0.0".into()))
        );
        let empty = Component::new(&engine, b"\0asm\x0d\x00\x01\x00").expect("empty component");
        assert_eq!(
            check_interface(&engine, &empty),
            Err(LoadError::MissingExport)
        );
    }

    #[test]
    fn headers_tell_components_from_modules_and_other_files() {
        let component = [b"\0asm".as_slice(), &[0x0d, 0, 1, 0]].concat();
        let module = [b"\0asm".as_slice(), &[1, 0, 0, 0]].concat();
        assert_eq!(check_bytes(&component, 100), Ok(()));
        assert_eq!(
            check_bytes(&module, 100).map_err(|e| e.code()),
            Err("not_a_component")
        );
        assert_eq!(
            check_bytes(b"PK\x03\x04zipfile", 100).map_err(|e| e.code()),
            Err("not_a_component")
        );
        assert_eq!(
            check_bytes(b"\0as", 100).map_err(|e| e.code()),
            Err("not_a_component")
        );
    }

    #[test]
    fn the_size_cap_holds_at_its_boundary() {
        let mut bytes = [b"\0asm".as_slice(), &[0x0d, 0, 1, 0]].concat();
        bytes.resize(64, 0);
        assert_eq!(check_bytes(&bytes, 64), Ok(()));
        assert_eq!(
            check_bytes(&bytes, 63),
            Err(LoadError::TooLarge {
                size: 64,
                limit: 63
            })
        );
    }

    #[test]
    fn wit_versions_are_compatible_within_0_1() {
        assert!(supported("0.1.0") && supported("0.1.7") && supported("0.1"));
        assert!(!supported("0.2.0") && !supported("1.0.0") && !supported("0.10.0"));
        assert_eq!(
            package_version("ai-proxy:provider/provider@0.1.0"),
            Some("0.1.0")
        );
        assert_eq!(package_version("other:pkg/provider@0.1.0"), None);
    }

    #[test]
    fn names_and_versions_are_checked() {
        assert!(check_info("azure-openai", "1.0.0-beta.1").is_ok());
        assert!(check_info("Azure", "1.0.0").is_err());
        assert!(check_info("a/b", "1.0.0").is_err());
        assert!(check_info("ok", "").is_err());
        assert!(check_info("ok", "1.0 beta").is_err());
        assert!(check_info(&"x".repeat(MAX_NAME_CHARS + 1), "1").is_err());
    }
}
