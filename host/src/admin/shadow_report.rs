//! The shadow report of one candidate version for one provider: totals
//! (requests compared, agreeing, the cost difference in dollars) and the
//! latest disagreements with both verdicts, read from `shadow_verdicts`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use crate::shadow::Verdict;
use crate::store::entities::shadow_verdicts;

/// Most disagreements listed (the newest).
pub const MAX_DISAGREEMENTS_LISTED: u64 = 50;

/// Totals and disagreements of one candidate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    /// The candidate plugin row the report is about; `None`: nothing was
    /// compared for this provider yet.
    pub plugin_id: Option<i32>,
    /// Requests whose answer both versions read.
    pub compared: i64,
    /// Of those, how many gave the same model, usage, cost and error class.
    pub agreeing: i64,
    /// What the candidate would have charged minus what was charged, in
    /// dollars, over the compared requests.
    pub cost_difference_usd: f64,
    /// The newest disagreements, newest first.
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

#[derive(FromQueryResult)]
struct Totals {
    compared: i64,
    agreeing: i64,
    cost_difference: i64,
}

/// The candidate compared last for `provider_id`, if any.
pub async fn latest_candidate(
    db: &DatabaseConnection,
    provider_id: i32,
) -> Result<Option<i32>, DbErr> {
    shadow_verdicts::Entity::find()
        .select_only()
        .column(shadow_verdicts::Column::CandidatePluginId)
        .filter(shadow_verdicts::Column::ProviderId.eq(provider_id))
        .order_by_desc(shadow_verdicts::Column::Id)
        .into_tuple()
        .one(db)
        .await
}

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
    let of_candidate = || {
        shadow_verdicts::Entity::find()
            .filter(shadow_verdicts::Column::ProviderId.eq(provider_id))
            .filter(shadow_verdicts::Column::CandidatePluginId.eq(plugin_id))
    };
    let totals = of_candidate()
        .select_only()
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "compared")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(CASE WHEN agree THEN 1 ELSE 0 END), 0) AS BIGINT)"),
            "agreeing",
        )
        .column_as(
            Expr::cust(
                "CAST(COALESCE(SUM(COALESCE(candidate_cost_nanos, 0) - COALESCE(serving_cost_nanos, 0)), 0) AS BIGINT)",
            ),
            "cost_difference",
        )
        .into_model::<Totals>()
        .one(db)
        .await?
        .unwrap_or(Totals {
            compared: 0,
            agreeing: 0,
            cost_difference: 0,
        });
    let rows = of_candidate()
        .filter(shadow_verdicts::Column::Agree.eq(false))
        .order_by_desc(shadow_verdicts::Column::Id)
        .limit(MAX_DISAGREEMENTS_LISTED)
        .all(db)
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
