//! `GET /metrics`: Prometheus text exposition of what this instance knows:
//! plugin calls, failures and call times per plugin version, upstream key
//! health, the trace writer and the rate-limit store. No secrets and no
//! key material: keys appear by id and name only, but names and figures
//! are the operator's business, so the page needs either the scrape token
//! (`AI_PROXY_METRICS_TOKEN`, sent as `Authorization: Bearer`) or an admin
//! account (session or Basic); anyone else gets 401 (403 for a `user`).

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::auth::{client_ip, identify};
use super::openapi::{Forbidden, Unauthorized};
use super::{AdminState, ApiError};
use crate::plugins::MetricsView;
use crate::secrets::Secret;
use crate::trace::otlp::ExportStats;
use std::sync::atomic::AtomicU64;

/// Whether `presented` is the scrape token, in time independent of both
/// (digests are compared, so not even the length shows).
fn is_scrape_token(expected: &Secret, presented: &str) -> bool {
    let a = Sha256::digest(expected.expose().as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    bool::from(a.ct_eq(&b))
}

/// Admits the scrape token or an admin account; everyone else is refused
/// before any figure is gathered.
pub async fn authorize(
    State(state): State<AdminState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let (Some(expected), Some(presented)) = (&state.metrics_token, presented)
        && is_scrape_token(expected, presented)
    {
        return Ok(next.run(req).await);
    }
    let (caller, _) = identify(&state, req.headers(), client_ip(&state, &req)).await?;
    caller.require_admin()?;
    Ok(next.run(req).await)
}

/// Reads one counter from a plugin's figures.
type Field = fn(&MetricsView) -> u64;

/// Escapes a label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = super::openapi::TAG_META,
    description = "Needs an admin account, or the scrape token (`AI_PROXY_METRICS_TOKEN`) as `Authorization: Bearer`.",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        Unauthorized,
        Forbidden,
    ),
)]
pub async fn metrics(State(state): State<AdminState>) -> impl IntoResponse {
    let mut out = String::new();
    write_plugin_calls(&mut out, &state);
    write_upstream_keys(&mut out, &state);
    write_trace_writer(&mut out, &state);
    state.shadow.write_metrics(&mut out);
    write_otlp_export(&mut out, &state);
    write_limits(&mut out, &state);
    write_capacity(&mut out, &state);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

/// The plugin counters of [`Field`], one line per loaded version.
const PLUGIN_COUNTERS: [(&str, &str, Field); 5] = [
    ("ai_proxy_plugin_calls_total", "Guest calls made.", |m| {
        m.calls
    }),
    (
        "ai_proxy_plugin_errors_total",
        "Calls that returned an error result.",
        |m| m.errors,
    ),
    ("ai_proxy_plugin_traps_total", "Calls that trapped.", |m| {
        m.traps
    }),
    (
        "ai_proxy_plugin_timeouts_total",
        "Calls interrupted at their deadline.",
        |m| m.timeouts,
    ),
    (
        "ai_proxy_plugin_out_of_memory_total",
        "Calls denied memory.",
        |m| m.out_of_memory,
    ),
];

/// Calls, failures and call times per plugin version, sorted by name and version.
fn write_plugin_calls(out: &mut String, state: &AdminState) {
    let mut plugins = state.registry.all();
    plugins.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    let views: Vec<_> = plugins.iter().map(|p| (p, p.metrics.view())).collect();
    for (name, help, get) in PLUGIN_COUNTERS {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (p, v) in &views {
            let _ = writeln!(
                out,
                "{name}{{plugin=\"{}\",version=\"{}\"}} {}",
                label(&p.name),
                label(&p.version),
                get(v)
            );
        }
    }
    let name = "ai_proxy_plugin_call_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Guest call time (bucket upper bounds).\n# TYPE {name} summary"
    );
    for (p, v) in &views {
        for (q, us) in [("0.5", v.p50_us), ("0.95", v.p95_us), ("0.99", v.p99_us)] {
            let _ = writeln!(
                out,
                "{name}{{plugin=\"{}\",version=\"{}\",quantile=\"{q}\"}} {}",
                label(&p.name),
                label(&p.version),
                us as f64 / 1e6
            );
        }
    }
}

/// Health score and rotation of every upstream key in the catalog, by id.
fn write_upstream_keys(out: &mut String, state: &AdminState) {
    let catalog = state.catalog.load();
    let mut keys: Vec<_> = catalog.upstream_keys.values().collect();
    keys.sort_by_key(|k| k.id);
    let _ = writeln!(
        out,
        "# HELP ai_proxy_upstream_key_health_score Recent success rate of an upstream key (0 to 1).\n# TYPE ai_proxy_upstream_key_health_score gauge"
    );
    for key in &keys {
        let view = state.board.view(key.id);
        let _ = writeln!(
            out,
            "ai_proxy_upstream_key_health_score{{key_id=\"{}\",key=\"{}\"}} {}",
            key.id,
            label(&key.name),
            view.score
        );
    }
    let _ = writeln!(
        out,
        "# HELP ai_proxy_upstream_key_in_rotation Whether the scheduler may pick the key now.\n# TYPE ai_proxy_upstream_key_in_rotation gauge"
    );
    for key in &keys {
        let view = state.board.view(key.id);
        let _ = writeln!(
            out,
            "ai_proxy_upstream_key_in_rotation{{key_id=\"{}\",key=\"{}\"}} {}",
            key.id,
            label(&key.name),
            u8::from(view.in_rotation && key.enabled)
        );
    }
}

/// The trace writer's counters.
fn write_trace_writer(out: &mut String, state: &AdminState) {
    let traces = state.traces.stats();
    for (name, value) in [
        (
            "ai_proxy_traces_written_total",
            traces.written.load(Relaxed),
        ),
        (
            "ai_proxy_traces_dropped_total",
            traces.dropped_queue_full.load(Relaxed),
        ),
        ("ai_proxy_traces_failed_total", traces.failed.load(Relaxed)),
    ] {
        let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
    }
}

/// OpenTelemetry export, in requests (zeros when no exporter is set).
fn write_otlp_export(out: &mut String, state: &AdminState) {
    let export = state.traces.export_stats();
    let load = |f: fn(&ExportStats) -> &AtomicU64| export.map_or(0, |s| f(s).load(Relaxed));
    for (name, value) in [
        ("ai_proxy_otlp_exported_total", load(|s| &s.exported)),
        ("ai_proxy_otlp_dropped_total", load(|s| &s.dropped)),
        ("ai_proxy_otlp_failed_total", load(|s| &s.failed)),
    ] {
        let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
    }
}

/// Budget alerts recorded here and whether the rate-limit store is degraded.
fn write_limits(out: &mut String, state: &AdminState) {
    let name = "ai_proxy_budget_alerts_total";
    let _ = writeln!(
        out,
        "# HELP {name} Budget alerts this instance recorded (once per budget line and period).\n# TYPE {name} counter"
    );
    for (scope, limit, count) in state.limiter.alerts_recorded() {
        let _ = writeln!(out, "{name}{{scope=\"{scope}\",limit=\"{limit}\"}} {count}");
    }
    let _ = writeln!(
        out,
        "# TYPE ai_proxy_rate_limits_degraded gauge\nai_proxy_rate_limits_degraded {}",
        u8::from(state.limiter.degraded())
    );
}

/// Plugin instances and requests in flight against their caps.
fn write_capacity(out: &mut String, state: &AdminState) {
    let engine = state.registry.engine();
    let _ = writeln!(
        out,
        "# TYPE ai_proxy_plugin_instances_live gauge\nai_proxy_plugin_instances_live {}\n\
         # TYPE ai_proxy_plugin_instances_max gauge\nai_proxy_plugin_instances_max {}",
        engine.live_instances(),
        engine.max_instances()
    );
    let in_flight = &state.in_flight;
    let _ = writeln!(
        out,
        "# TYPE ai_proxy_requests_in_flight gauge\nai_proxy_requests_in_flight {}\n\
         # TYPE ai_proxy_requests_in_flight_max gauge\nai_proxy_requests_in_flight_max {}\n\
         # TYPE ai_proxy_requests_shed_total counter\nai_proxy_requests_shed_total {}",
        in_flight.in_flight(),
        in_flight.max(),
        in_flight.shed_total()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MIN_METRICS_TOKEN_BYTES;

    #[test]
    fn only_the_exact_scrape_token_matches() {
        let token = Secret::new("t".repeat(MIN_METRICS_TOKEN_BYTES));
        assert!(is_scrape_token(
            &token,
            &"t".repeat(MIN_METRICS_TOKEN_BYTES)
        ));
        for wrong in [
            String::new(),
            "t".repeat(MIN_METRICS_TOKEN_BYTES - 1),
            "t".repeat(MIN_METRICS_TOKEN_BYTES + 1),
            "T".repeat(MIN_METRICS_TOKEN_BYTES),
        ] {
            assert!(!is_scrape_token(&token, &wrong), "{wrong}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
