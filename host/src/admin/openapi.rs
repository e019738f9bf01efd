//! `GET /api/openapi.json`: the admin API described as an OpenAPI 3.1
//! document, without authentication (like `/api/health`).
//!
//! The document is generated, not written: every handler carries a
//! `#[utoipa::path]` attribute and the router is built from those handlers
//! ([`super::routes`]), so a route exists in the router exactly when it is
//! in the document. The test below checks that against the axum router
//! itself, so a route added around the macros fails it.
//!
//! `web/openapi.json` is a copy of the document for the console's build,
//! which generates its typed API client from it (the console is built
//! before this binary, which embeds it, so the build cannot ask a running
//! gateway). A test fails when the copy differs and says how to refresh it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, Modify};

use super::error::{ErrorBody, ErrorDetail};
use super::session::SESSION_COOKIE;
use super::stats::DayPoint;

/// Tags, one per resource.
pub const TAG_HEALTH: &str = "health";
pub const TAG_AUTH: &str = "auth";
pub const TAG_USERS: &str = "users";
pub const TAG_PROVIDERS: &str = "providers";
pub const TAG_PLUGINS: &str = "plugins";
pub const TAG_UPSTREAM_KEYS: &str = "upstream-keys";
pub const TAG_CLIENT_KEYS: &str = "client-keys";
pub const TAG_OAUTH_CLIENTS: &str = "oauth-clients";
pub const TAG_UPSTREAM_OAUTH: &str = "upstream-oauth";
pub const TAG_TRACES: &str = "traces";
pub const TAG_STATS: &str = "stats";
pub const TAG_AUDIT: &str = "audit";
pub const TAG_MASTER_KEY: &str = "master-key";
pub const TAG_META: &str = "meta";
pub const TAG_TEAMS: &str = "teams";

/// The parts of the document no handler owns: metadata, tags, the error
/// schema and the security schemes. Every operation needs one of the
/// schemes unless it says otherwise.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ai-proxy admin API",
        description = "Manage providers, upstream keys, client keys, OAuth clients and accounts; \
                       read traces, statistics and the audit log. Errors are \
                       `{\"error\": {\"message\", \"code\"}}`.",
    ),
    components(schemas(ErrorBody, ErrorDetail, TraceAttempt, ConformanceCase, UpstreamKeyStats)),
    modifiers(&SecuritySchemes),
    security(("basic" = []), ("bearer" = []), ("cookie" = [])),
    tags(
        (name = TAG_HEALTH, description = "Liveness, readiness, and where the proxy listens"),
        (name = TAG_AUTH, description = "Sessions and the caller's own password"),
        (name = TAG_USERS, description = "Accounts and what they are granted (admins only; an account reads its own grant)"),
        (name = TAG_PROVIDERS, description = "Upstream providers and the plugin that speaks to each"),
        (name = TAG_PLUGINS, description = "Stored plugin components (admins only)"),
        (name = TAG_UPSTREAM_KEYS, description = "Upstream keys: the credentials the gateway sends to providers, their health and usage (admins only)"),
        (name = TAG_CLIENT_KEYS, description = "Client keys: the keys applications send to the gateway"),
        (name = TAG_OAUTH_CLIENTS, description = "OAuth 2.0 client-credentials clients bound to a client key"),
        (name = TAG_UPSTREAM_OAUTH, description = "Connecting upstream keys that are OAuth accounts (PKCE), refreshing and revoking them"),
        (name = TAG_TRACES, description = "The request log"),
        (name = TAG_STATS, description = "Dashboard figures per UTC day"),
        (name = TAG_AUDIT, description = "Every admin change (admins only)"),
        (name = TAG_MASTER_KEY, description = "Master key rotation progress (admins only)"),
        (name = TAG_META, description = "This document"),
        (name = TAG_TEAMS, description = "Teams, budgets of users and teams, and spend against them"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("Account name and password, for scripts"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The session token from POST /api/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie POST /api/auth/login sets",
            ))),
        );
    }
}

/// The whole document: the shared parts above plus every route's operation.
pub fn document() -> OpenApi {
    let mut doc = <ApiDoc as utoipa::OpenApi>::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.merge(super::routes().into_openapi());
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            name_operation(op);
        }
    }
    name_untyped_json(&mut doc);
    for (path, fields) in REQUIRED_TO_CREATE {
        if let Some(op) = doc.paths.paths.get_mut(path).and_then(|i| i.post.as_mut()) {
            require(op, fields);
        }
    }
    doc
}

/// Fields a create (`POST` to a collection) needs. Creates and updates
/// share one input type whose fields are all optional, so the schema alone
/// would not say which ones a create cannot do without.
const REQUIRED_TO_CREATE: [(&str, &[&str]); 6] = [
    ("/api/providers", &["name", "plugin"]),
    // `secret` too for an API key; an OAuth key (`auth_type: "oauth"`) has none.
    ("/api/upstream-keys", &["provider_id", "name"]),
    ("/api/client-keys", &["name", "provider_id"]),
    ("/api/oauth-clients", &["name", "client_key_id"]),
    ("/api/users", &["username", "password"]),
    ("/api/teams", &["name"]),
];

/// Makes an operation's JSON body schema `allOf` itself and `required`.
fn require(op: &mut Operation, fields: &[&str]) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content
            && let Some(schema) = content.schema.take()
        {
            let required = fields
                .iter()
                .fold(ObjectBuilder::new(), |o, f| o.required(*f));
            let all_of = AllOfBuilder::new().item(schema).item(required).build();
            content.schema = Some(RefOr::T(Schema::AllOf(all_of)));
        }
    }
}

/// One upstream attempt in a trace's `attempt_log`: how the proxy stores
/// `trace::record::Attempt`, which the trace handler passes through as
/// JSON. Only its schema is used.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "describes JSON the trace handler passes through")]
pub(crate) struct TraceAttempt {
    upstream_key_id: i32,
    upstream_key_name: String,
    /// Upstream status; null when no answer came.
    status: Option<u16>,
    error_class: Option<String>,
    /// The gateway's code for an attempt without an answer (`connect_failed`, ...).
    error: Option<String>,
    /// The upstream's own error message, masked and bounded.
    message: Option<String>,
    duration_ms: u64,
}

/// One failed conformance vector, as `ConformanceView.failed` holds it
/// (`conformance::CaseResult`). Only its schema is used.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "describes conformance::CaseResult")]
pub(crate) struct ConformanceCase {
    /// The vector's name.
    name: String,
    /// Each difference from the vector's `expect` block, a line naming the field.
    differences: Vec<String>,
}

/// `GET /api/upstream-keys/{id}/stats`, which its handler writes as
/// literal JSON. Only its schema is used.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "describes JSON the handler writes literally")]
pub(crate) struct UpstreamKeyStats {
    id: i32,
    name: String,
    overview: KeyOverview30d,
    usage: KeyUsageToday,
    limits: KeyStatsLimits,
    health: KeyStatsHealth,
}

/// Totals of the last 30 UTC days.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "schema only")]
pub(crate) struct KeyOverview30d {
    requests_30d: i64,
    errors_30d: i64,
    tokens_30d: i64,
    cost_nanos_30d: i64,
}

#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "schema only")]
pub(crate) struct KeyUsageToday {
    today: Option<DayPoint>,
}

/// Always null: an upstream key's limits are on the key itself.
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "schema only")]
pub(crate) struct KeyStatsLimits {
    qps: Option<i64>,
    tokens_per_day: Option<i64>,
}

#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "schema only")]
pub(crate) struct KeyStatsHealth {
    status: String,
}

/// Lists whose items their types declare as any object, with the schema
/// of what they hold: (schema, property, item schema, description).
const UNTYPED_LISTS: [(&str, &str, &str, &str); 2] = [
    (
        "TraceDetail",
        "attempt_log",
        "TraceAttempt",
        "Each attempt: upstream key, status, error class, latency.",
    ),
    (
        "ConformanceView",
        "failed",
        "ConformanceCase",
        "The vectors that failed, each with its differences.",
    ),
];

/// Names the schemas of JSON whose Rust types leave it untyped (any
/// object, or built by hand), so the console's generated client types
/// it too.
fn name_untyped_json(doc: &mut OpenApi) {
    for (schema, property, item, description) in UNTYPED_LISTS {
        if let Some(components) = doc.components.as_mut()
            && let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema)
        {
            let items = ArrayBuilder::new()
                .items(Ref::from_schema_name(item))
                .description(Some(description));
            object
                .properties
                .insert(property.to_owned(), items.build().into());
        }
    }
    let stats = doc
        .paths
        .paths
        .get_mut("/api/upstream-keys/{id}/stats")
        .and_then(|item| item.get.as_mut())
        .and_then(|op| op.responses.responses.get_mut("200"));
    if let Some(RefOr::T(response)) = stats {
        for content in response.content.values_mut() {
            if let RefOr::T(content) = content {
                content.schema = Some(Ref::from_schema_name("UpstreamKeyStats").into());
            }
        }
    }
}

/// Handlers are named per module (`list`, `create`, ...); operation ids
/// must be unique in the document, so they get their tag in front
/// (`providers_list`). Success answers without a description get one, as
/// OpenAPI requires.
fn name_operation(op: &mut Operation) {
    let tag = op
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .map(|t| t.replace('-', "_"));
    if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut())
        && !id.starts_with(&tag)
    {
        *id = format!("{tag}_{id}");
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = "Success".to_owned();
        }
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = TAG_META,
    security(()),
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> axum::response::Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_json().unwrap_or_default());
    ([(CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Declares error answers for `responses(...)` in one word each.
macro_rules! error_responses {
    ($($name:ident => [$(($status:literal, $description:literal)),+ $(,)?];)+) => {$(
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_owned(), error_response($description))),+])
            }
        }
    )+};
}

error_responses! {
    BadRequest => [("400", "Malformed or invalid input: body, path or query")];
    Unauthorized => [
        ("401", "No valid session or credentials"),
        ("429", "Too many failed attempts; see Retry-After"),
    ];
    Forbidden => [("403", "Not allowed for this account's role")];
    NotFound => [("404", "No such resource, or not visible to the caller")];
    Conflict => [("409", "Conflicts with the current state")];
    TooLarge => [("413", "The upload is larger than the gateway accepts")];
    Unprocessable => [("422", "Well-formed but unusable: the reason is named in error.code")];
    BadGateway => [("502", "An upstream service failed: the reason is named in error.code")];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Method and path of every operation in the document.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(document()).expect("json");
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    /// Method and path of every route in the axum router, read from its
    /// `Debug` output (axum offers no other way to list routes): a route
    /// prints as `RouteId(n): MethodRouter(... allow_header: Bytes(b"GET,HEAD"))`
    /// and its path as `RouteId(n): "/api/..."`. HEAD comes with GET. If
    /// axum changes that format, this finds nothing and the test fails.
    fn routed() -> BTreeSet<(String, String)> {
        let (router, _) = super::super::routes().split_for_parts();
        let debug = format!("{router:?}");
        // Route ids restart in the fallback router, which follows.
        let debug = debug.split("fallback_router:").next().unwrap_or_default();
        let mut methods: BTreeMap<&str, &str> = BTreeMap::new();
        let mut paths: BTreeMap<&str, &str> = BTreeMap::new();
        for chunk in debug.split("RouteId(").skip(1) {
            let Some((id, rest)) = chunk.split_once("): ") else {
                continue;
            };
            if let Some(path) = rest.strip_prefix('"') {
                paths.insert(id, path.split('"').next().unwrap_or_default());
            } else if let Some((_, allow)) = rest.split_once("allow_header: Bytes(b\"") {
                methods.insert(id, allow.split('"').next().unwrap_or_default());
            }
        }
        let mut out = BTreeSet::new();
        for (id, path) in paths {
            for method in methods.get(id).into_iter().flat_map(|m| m.split(',')) {
                if method != "HEAD" {
                    out.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        out
    }

    /// The console's copy of the document, relative to this crate.
    const WEB_COPY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/openapi.json");
    /// Set (to anything) to write the copy instead of comparing it.
    const WRITE_VAR: &str = "AI_PROXY_WRITE_OPENAPI";

    #[test]
    fn web_copy_equals_the_served_document() {
        let served = document().to_pretty_json().expect("json") + "\n";
        if std::env::var_os(WRITE_VAR).is_some() {
            std::fs::write(WEB_COPY, &served).expect("writing web/openapi.json");
        }
        let copy = std::fs::read_to_string(WEB_COPY).unwrap_or_default();
        assert!(
            copy == served,
            "web/openapi.json differs from the document the gateway serves, so the console's \
             typed client would be generated from stale routes. Refresh it with \
             `{WRITE_VAR}=1 cargo test -p ai-proxy --lib admin::openapi::tests::web_copy` \
             and rebuild the console (web/build.sh)."
        );
    }

    #[test]
    fn hand_written_schemas_name_the_fields_served() {
        let attempt = crate::trace::Attempt {
            upstream_key_id: 1,
            upstream_key_name: "k".into(),
            status: Some(502),
            error_class: Some("upstream_5xx".into()),
            error: None,
            message: Some("bad".into()),
            duration_ms: 5,
            started_ms: 0,
        };
        let stored = serde_json::to_value(&attempt).expect("json");
        let doc = serde_json::to_value(document()).expect("json");
        let schemas = &doc["components"]["schemas"];
        let keys = |v: &serde_json::Value| {
            v.as_object()
                .map(|o| o.keys().cloned().collect::<BTreeSet<_>>())
                .unwrap_or_default()
        };
        assert_eq!(keys(&stored), keys(&schemas["TraceAttempt"]["properties"]));
        assert_eq!(
            schemas["TraceDetail"]["properties"]["attempt_log"]["items"]["$ref"],
            "#/components/schemas/TraceAttempt"
        );
        let case = crate::conformance::CaseResult {
            name: "v".into(),
            differences: vec!["status".into()],
        };
        let case = serde_json::to_value(&case).expect("json");
        assert_eq!(keys(&case), keys(&schemas["ConformanceCase"]["properties"]));
        assert_eq!(
            schemas["ConformanceView"]["properties"]["failed"]["items"]["$ref"],
            "#/components/schemas/ConformanceCase"
        );
        let stats = &doc["paths"]["/api/upstream-keys/{id}/stats"]["get"]["responses"]["200"];
        assert_eq!(
            stats["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/UpstreamKeyStats"
        );
    }

    #[test]
    fn every_route_is_documented_and_every_operation_routed() {
        let routed = routed();
        assert!(
            routed.len() > 30,
            "could not read the router's routes: {routed:?}"
        );
        assert_eq!(routed, documented());
    }

    #[test]
    fn operation_ids_are_unique_and_answers_described() {
        let doc = serde_json::to_value(document()).expect("json");
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let id = op["operationId"].as_str().expect("operationId");
                assert!(ids.insert(id.to_owned()), "{method} {path}: {id} twice");
                for (status, response) in op["responses"].as_object().expect("responses") {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty()),
                        "{method} {path} {status} has no description"
                    );
                }
            }
        }
        assert!(ids.contains("providers_list") && ids.contains("upstream_keys_update"));
    }

    #[test]
    fn write_only_secrets_are_documented_for_the_request() {
        let doc = serde_json::to_value(document()).expect("json");
        let secret = &doc["components"]["schemas"]["OAuthOverride"]["properties"]["client_secret"];
        assert_eq!(secret["writeOnly"], serde_json::json!(true), "{secret}");
    }

    #[test]
    fn creates_name_their_required_fields() {
        let doc = serde_json::to_value(document()).expect("json");
        for (path, fields) in REQUIRED_TO_CREATE {
            let body = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"];
            assert_eq!(
                body["schema"]["allOf"][1]["required"],
                serde_json::json!(fields),
                "{path}"
            );
        }
    }

    #[test]
    fn protected_operations_name_the_auth_errors_and_public_ones_need_none() {
        let doc = serde_json::to_value(document()).expect("json");
        let public = [
            "/api/health",
            "/api/ready",
            "/api/auth/login",
            "/api/openapi.json",
        ];
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let anonymous = op["security"] == serde_json::json!([{}]);
                assert_eq!(
                    anonymous,
                    public.contains(&path.as_str()),
                    "{method} {path}: security {}",
                    op["security"]
                );
                if !public.contains(&path.as_str()) {
                    assert!(
                        op["responses"]["401"].is_object(),
                        "{method} {path} does not document 401"
                    );
                }
                assert!(op["tags"].is_array(), "{method} {path} has no tag");
            }
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["cookie"]["name"],
            SESSION_COOKIE
        );
    }
}
