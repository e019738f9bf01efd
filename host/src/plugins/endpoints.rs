//! The optional `endpoints` interface of `wit/provider.wit`: a plugin lists
//! its provider's endpoints with the class of work each does, and the proxy
//! serves a client key only the classes it was granted.
//!
//! Like `stream-control`, the interface is optional so that plugins built
//! before it existed keep loading; `endpoints` is called once, at load. A
//! plugin without it (or whose export does not fit) declares nothing, and
//! every request to it is of class `other`.

use std::fmt;

use wasmtime::component::{ComponentType, Instance, Lift};

use super::stream_control::optional_export;

/// The interface's name inside the WIT package.
pub const INTERFACE: &str = "endpoints";
/// The function that lists the endpoints.
pub const ENDPOINTS: &str = "endpoints";
/// Most endpoints a plugin may declare; the rest are ignored (and logged).
pub const MAX_ENDPOINTS: usize = 512;

/// What an endpoint does (`endpoints.endpoint-class`).
#[derive(ComponentType, Lift, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[component(enum)]
#[repr(u8)]
pub enum EndpointClass {
    #[component(name = "inference")]
    Inference,
    #[component(name = "embeddings")]
    Embeddings,
    #[component(name = "models")]
    Models,
    #[component(name = "token-counting")]
    TokenCounting,
    #[component(name = "files")]
    Files,
    #[component(name = "batches")]
    Batches,
    #[component(name = "fine-tuning")]
    FineTuning,
    #[component(name = "other")]
    Other,
}

impl EndpointClass {
    /// Every class, in the API's order.
    pub const ALL: [EndpointClass; 8] = [
        EndpointClass::Inference,
        EndpointClass::Embeddings,
        EndpointClass::Models,
        EndpointClass::TokenCounting,
        EndpointClass::Files,
        EndpointClass::Batches,
        EndpointClass::FineTuning,
        EndpointClass::Other,
    ];

    /// What a client key is granted unless an operator says otherwise.
    pub const DEFAULT_GRANT: [EndpointClass; 4] = [
        EndpointClass::Inference,
        EndpointClass::Embeddings,
        EndpointClass::Models,
        EndpointClass::TokenCounting,
    ];

    /// The name the API and traces use.
    pub fn name(self) -> &'static str {
        match self {
            EndpointClass::Inference => "inference",
            EndpointClass::Embeddings => "embeddings",
            EndpointClass::Models => "models",
            EndpointClass::TokenCounting => "token_counting",
            EndpointClass::Files => "files",
            EndpointClass::Batches => "batches",
            EndpointClass::FineTuning => "fine_tuning",
            EndpointClass::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<EndpointClass> {
        EndpointClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for EndpointClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One declared endpoint (`endpoints.endpoint`).
#[derive(ComponentType, Lift, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub class: EndpointClass,
}

/// A plugin's endpoints, in its order.
#[derive(Debug, Clone, Default)]
pub struct EndpointTable {
    /// `None`: the plugin declares none (built before the interface).
    endpoints: Option<Vec<Endpoint>>,
}

impl EndpointTable {
    pub fn new(endpoints: Option<Vec<Endpoint>>) -> EndpointTable {
        EndpointTable { endpoints }
    }

    /// The declared endpoints, in the plugin's order; `None` when it
    /// declares none.
    pub fn list(&self) -> Option<&[Endpoint]> {
        self.endpoints.as_deref()
    }

    /// Whether an endpoint the plugin declares matches `method` on `path`
    /// (normalised, without its query): the API shape it serves.
    pub fn declares(&self, method: &str, path: &str) -> bool {
        self.endpoints.iter().flatten().any(|e| {
            (e.method == "*" || e.method.eq_ignore_ascii_case(method))
                && path_matches(&e.path, path)
        })
    }

    /// Whether the plugin declared its endpoints.
    pub fn declared(&self) -> bool {
        self.endpoints.is_some()
    }

    /// The class of `method` on `path` (normalised, without its query):
    /// the first endpoint that matches, `other` when none does.
    pub fn class_of(&self, method: &str, path: &str) -> EndpointClass {
        self.endpoints
            .iter()
            .flatten()
            .find(|e| {
                (e.method == "*" || e.method.eq_ignore_ascii_case(method))
                    && path_matches(&e.path, path)
            })
            .map_or(EndpointClass::Other, |e| e.class)
    }
}

/// Calls the plugin's `endpoints`, if it exports it; `None` otherwise.
pub async fn read<S: wasmtime::AsContextMut<Data: Send>>(
    mut store: S,
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
    instance: &Instance,
) -> wasmtime::Result<Option<Vec<Endpoint>>> {
    let Some(index) = optional_export(engine, component, INTERFACE, ENDPOINTS) else {
        return Ok(None);
    };
    let func = instance.get_typed_func::<(), (Vec<Endpoint>,)>(&mut store, index)?;
    let (mut endpoints,) = func.call_async(&mut store, ()).await?;
    if endpoints.len() > MAX_ENDPOINTS {
        tracing::warn!(
            declared = endpoints.len(),
            "a plugin declares more than {MAX_ENDPOINTS} endpoints; the rest are ignored"
        );
        endpoints.truncate(MAX_ENDPOINTS);
    }
    Ok(Some(endpoints))
}

/// Whether `path` matches `pattern` segment by segment: `*` within a
/// segment stands for any run of that segment's characters, a last
/// pattern segment `**` for any further segments (none included).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_start_matches('/').split('/');
    let mut have = path.trim_start_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (Some("**"), _) => return want.next().is_none(),
            (Some(w), Some(h)) if segment_matches(w.as_bytes(), h.as_bytes()) => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// One segment against a pattern segment with `*` wildcards (the
/// two-pointer glob: no recursion, no backtracking blow-up).
fn segment_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&want) if want == c => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_literal_wildcard_and_rest_segments() {
        assert!(path_matches("/v1/chat/completions", "/v1/chat/completions"));
        assert!(!path_matches(
            "/v1/chat/completions",
            "/v1/chat/completions/x"
        ));
        assert!(!path_matches("/v1/chat/completions", "/v1/chat"));
        assert!(path_matches("/v1/models/*", "/v1/models/gpt-4o"));
        assert!(!path_matches("/v1/models/*", "/v1/models/a/b"));
        assert!(path_matches(
            "/v1beta/models/*:generateContent",
            "/v1beta/models/gemini-2.0-flash:generateContent"
        ));
        assert!(!path_matches(
            "/v1beta/models/*:generateContent",
            "/v1beta/models/gemini:streamGenerateContent"
        ));
        assert!(path_matches("/v1/files/**", "/v1/files"));
        assert!(path_matches("/v1/files/**", "/v1/files/file-1/content"));
        assert!(!path_matches("/v1/files/**", "/v1/filesx"));
        assert!(path_matches("/a/*b*c", "/a/xxbyyc"));
        assert!(!path_matches("/a/*b*c", "/a/xxbyy"));
    }

    #[test]
    fn the_first_matching_endpoint_gives_the_class_and_none_is_other() {
        let e = |method: &str, path: &str, class| Endpoint {
            method: method.into(),
            path: path.into(),
            class,
        };
        let table = EndpointTable::new(Some(vec![
            e(
                "POST",
                "/v1/messages/count_tokens",
                EndpointClass::TokenCounting,
            ),
            e("POST", "/v1/messages", EndpointClass::Inference),
            e("*", "/v1/messages/batches/**", EndpointClass::Batches),
        ]));
        assert_eq!(
            table.class_of("post", "/v1/messages"),
            EndpointClass::Inference
        );
        assert_eq!(table.class_of("GET", "/v1/messages"), EndpointClass::Other);
        assert_eq!(
            table.class_of("DELETE", "/v1/messages/batches/b1"),
            EndpointClass::Batches
        );
        assert_eq!(table.class_of("POST", "/v2/x"), EndpointClass::Other);
        let undeclared = EndpointTable::new(None);
        assert!(!undeclared.declared());
        assert_eq!(
            undeclared.class_of("POST", "/v1/messages"),
            EndpointClass::Other
        );
    }

    #[tokio::test]
    async fn built_in_plugins_declare_their_endpoints_classes() {
        use super::super::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: std::time::Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 4,
        })
        .expect("engine");
        use EndpointClass::*;
        type Cases = &'static [(&'static str, &'static str, EndpointClass)];
        let expected: [(&str, Cases); 3] = [
            (
                "openai",
                &[
                    ("POST", "/v1/chat/completions", Inference),
                    ("POST", "/v1/embeddings", Embeddings),
                    ("GET", "/v1/models", Models),
                    ("GET", "/v1/files/file-1/content", Files),
                    ("DELETE", "/v1/files/file-1", Files),
                    ("POST", "/v1/batches", Batches),
                    ("POST", "/v1/fine_tuning/jobs", FineTuning),
                    ("GET", "/v1/chat/completions", Other),
                    ("POST", "/v1/vector_stores", Other),
                ],
            ),
            (
                "anthropic",
                &[
                    ("POST", "/v1/messages", Inference),
                    ("POST", "/v1/messages/count_tokens", TokenCounting),
                    ("POST", "/v1/messages/batches", Batches),
                    ("GET", "/v1/models", Models),
                    ("GET", "/v1/files", Files),
                ],
            ),
            (
                "gemini",
                &[
                    (
                        "POST",
                        "/v1beta/models/gemini-2.0-flash:generateContent",
                        Inference,
                    ),
                    (
                        "POST",
                        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
                        Inference,
                    ),
                    (
                        "POST",
                        "/v1beta/models/gemini-2.0-flash:countTokens",
                        TokenCounting,
                    ),
                    (
                        "POST",
                        "/v1beta/models/text-embedding-004:embedContent",
                        Embeddings,
                    ),
                    ("GET", "/v1beta/models", Models),
                    ("POST", "/upload/v1beta/files", Files),
                    ("POST", "/v1beta/cachedContents", Other),
                ],
            ),
        ];
        for (name, bytes) in BUILTIN_PLUGINS {
            let plugin = LoadedPlugin::load(&engine, bytes.to_vec())
                .await
                .expect("loads");
            assert!(plugin.endpoints.declared(), "{name}");
            let (_, cases) = expected
                .iter()
                .find(|(n, _)| n == name)
                .expect("cases for every built-in");
            for (method, path, class) in *cases {
                assert_eq!(
                    plugin.endpoints.class_of(method, path),
                    *class,
                    "{name} {method} {path}"
                );
            }
        }
    }

    #[test]
    fn a_component_without_the_export_declares_no_endpoints() {
        let engine = wasmtime::Engine::default();
        let bytes = super::super::validate::component_importing("ai-proxy:provider/host@0.1.0");
        let component = wasmtime::component::Component::new(&engine, bytes).expect("component");
        assert_eq!(
            optional_export(&engine, &component, INTERFACE, ENDPOINTS),
            None
        );
    }

    #[test]
    fn class_names_round_trip() {
        for class in EndpointClass::ALL {
            assert_eq!(EndpointClass::parse(class.name()), Some(class));
        }
        assert_eq!(EndpointClass::parse("token-counting"), None);
    }
}
