//! The shadow report of one candidate version for one provider: totals
//! (requests compared, agreeing, the cost difference in dollars), read
//! from `shadow_totals`, and the latest disagreements with both verdicts,
//! read from `shadow_verdicts`.
//!
//! The totals count every comparison since the candidate was first put in
//! shadow for the provider and do not expire with the traces; the
//! disagreement rows do (`AI_PROXY_TRACE_RETENTION_DAYS`), so an old
//! disagreement still counted in the totals may no longer be listed.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use crate::shadow::Verdict;
use crate::store::{shadow_totals, shadow_verdicts};

/// Most disagreements listed (the newest).
pub const MAX_DISAGREEMENTS_LISTED: u64 = 50;

/// Totals and disagreements of one candidate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    /// The candidate plugin row the report is about; `None`: nothing was
    /// compared for this provider yet.
    pub plugin_id: Option<i32>,
    /// Requests whose answer both versions read, since the candidate was
    /// first put in shadow (these totals do not expire with the traces).
    pub compared: i64,
    /// Of those, how many gave the same model, usage, cost and error class.
    pub agreeing: i64,
    /// What the candidate would have charged minus what was charged, in
    /// dollars, over the compared requests.
    pub cost_difference_usd: f64,
    /// The newest disagreements, newest first (at most 50; they expire
    /// with the traces).
    pub disagreements: Vec<Disagreement>,
}

/// One request the two versions read differently.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Disagreement {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub serving_version: String,
    pub candidate_version: String,
    pub serving: Verdict,
    pub candidate: Verdict,
}

pub use crate::store::shadow_totals::latest_candidate;

/// The report of candidate `plugin_id` for `provider_id`.
pub async fn report(
    db: &DatabaseConnection,
    provider_id: i32,
    plugin_id: Option<i32>,
) -> Result<ShadowReport, DbErr> {
    let Some(plugin_id) = plugin_id else {
        return Ok(ShadowReport {
            plugin_id: None,
            compared: 0,
            agreeing: 0,
            cost_difference_usd: 0.0,
            disagreements: Vec::new(),
        });
    };
    let totals = shadow_totals::find(db, provider_id, plugin_id).await?;
    let rows =
        shadow_verdicts::latest_disagreements(db, provider_id, plugin_id, MAX_DISAGREEMENTS_LISTED)
            .await?;
    let verdict = |json: &str| serde_json::from_str::<Verdict>(json).unwrap_or_default();
    Ok(ShadowReport {
        plugin_id: Some(plugin_id),
        compared: totals.compared,
        agreeing: totals.agreeing,
        cost_difference_usd: totals.cost_difference as f64 / 1e9,
        disagreements: rows
            .into_iter()
            .map(|r| Disagreement {
                serving: verdict(&r.serving),
                candidate: verdict(&r.candidate),
                request_id: r.request_id,
                created_at: r.created_at,
                serving_version: r.serving_version,
                candidate_version: r.candidate_version,
            })
            .collect(),
    })
}
