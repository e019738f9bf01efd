//! `GET /api/stats/budgets`: usage and spend of the current calendar month
//! (in `AI_PROXY_LIMITS_TZ`) per team, per user, per client key and per
//! provider, from the request log, with each team's and user's budget and
//! what its counters say is used beside it.
//!
//! Administrators see everything. A `user` account sees itself, the keys
//! it owns, its teams and their keys, and the providers as far as those
//! keys used them: never another team's figures. A team's and a user's
//! spend is that of the keys that belong to them now.

use std::collections::{BTreeMap, HashSet};

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::budgets::{BudgetView, view_of};
use super::openapi::{self, Unauthorized};
use super::teams::teams_of;
use super::{AdminState, ApiError};
use crate::limits::BudgetScope;
use crate::store::entities::client_keys;
use crate::store::report_read;
use crate::store::traffic::{self, TrafficScope};

/// Requests, tokens and spend of one row of the report.
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct Spend {
    pub requests: i64,
    pub tokens: i64,
    pub cost_nanos: i64,
    pub cost_usd: f64,
}

impl Spend {
    fn add(&mut self, other: Spend) {
        self.requests += other.requests;
        self.tokens += other.tokens;
        self.cost_nanos += other.cost_nanos;
        self.cost_usd = self.cost_nanos as f64 / 1e9;
    }
}

/// A team or a user with its spend and its budget.
#[derive(Serialize, ToSchema)]
pub struct BudgetedRow {
    pub id: i32,
    pub name: String,
    pub spend: Spend,
    pub budget: BudgetView,
}

#[derive(Serialize, ToSchema)]
pub struct KeyRow {
    pub id: i32,
    pub name: String,
    pub team_id: Option<i32>,
    pub owner_user_id: Option<i32>,
    pub spend: Spend,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderRow {
    pub id: i32,
    pub name: String,
    pub spend: Spend,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetReport {
    /// The month reported, `YYYY-MM`.
    pub period: String,
    /// When it began (UTC).
    pub since: chrono::DateTime<Utc>,
    pub teams: Vec<BudgetedRow>,
    pub users: Vec<BudgetedRow>,
    pub keys: Vec<KeyRow>,
    pub providers: Vec<ProviderRow>,
}

/// What the caller may see: `None` for everything.
struct Visible {
    keys: Option<HashSet<i32>>,
    teams: Option<HashSet<i32>>,
    user: Option<i32>,
}

async fn visible(
    state: &AdminState,
    caller: &Caller,
    keys: &[client_keys::Model],
) -> Result<Visible, ApiError> {
    if caller.is_admin() {
        return Ok(Visible {
            keys: None,
            teams: None,
            user: None,
        });
    }
    let teams: HashSet<i32> = teams_of(&state.db, caller.id).await?.into_iter().collect();
    let keys = keys
        .iter()
        .filter(|k| {
            k.owner_user_id == Some(caller.id) || k.team_id.is_some_and(|t| teams.contains(&t))
        })
        .map(|k| k.id)
        .collect();
    Ok(Visible {
        keys: Some(keys),
        teams: Some(teams),
        user: Some(caller.id),
    })
}

/// Spend of the month per `(client key, upstream key)`.
async fn spend_by_key(
    state: &AdminState,
    since: chrono::DateTime<Utc>,
    keys: &Option<HashSet<i32>>,
) -> Result<Vec<(i32, Option<i32>, Spend)>, ApiError> {
    let scope = match keys {
        None => TrafficScope::AnyClientKey,
        Some(ids) => TrafficScope::ClientKeys(ids.iter().copied().collect()),
    };
    let rows = traffic::by_key(&state.db, &scope, since).await?;
    Ok(rows
        .into_iter()
        .map(|(key, upstream, sums)| {
            let spend = Spend {
                requests: sums.requests,
                tokens: sums.tokens,
                cost_nanos: sums.cost,
                cost_usd: sums.cost as f64 / 1e9,
            };
            (key, upstream, spend)
        })
        .collect())
}

/// The teams and users `seen` covers, each with the spend of its `keys`
/// and its budget.
async fn budgeted_rows(
    state: &AdminState,
    seen: &Visible,
    keys: &[KeyRow],
) -> Result<(Vec<BudgetedRow>, Vec<BudgetedRow>), ApiError> {
    let sum = |pick: &dyn Fn(&KeyRow) -> bool| {
        let mut total = Spend::default();
        keys.iter()
            .filter(|k| pick(k))
            .for_each(|k| total.add(k.spend));
        total
    };

    let mut team_rows = Vec::new();
    let team_ids = seen.teams.as_ref().map(|ids| ids.iter().copied().collect());
    for team in report_read::teams(&state.db, team_ids).await? {
        team_rows.push(BudgetedRow {
            id: team.id,
            spend: sum(&|k: &KeyRow| k.team_id == Some(team.id)),
            budget: view_of(state, BudgetScope::Team, team.id).await?,
            name: team.name,
        });
    }
    let mut user_rows = Vec::new();
    for user in report_read::accounts(&state.db, seen.user).await? {
        user_rows.push(BudgetedRow {
            id: user.id,
            spend: sum(&|k: &KeyRow| k.owner_user_id == Some(user.id)),
            budget: view_of(state, BudgetScope::User, user.id).await?,
            name: user.name,
        });
    }
    Ok((team_rows, user_rows))
}

#[utoipa::path(
    get,
    path = "/api/stats/budgets",
    tag = openapi::TAG_TEAMS,
    responses((status = 200, body = BudgetReport), Unauthorized),
)]
pub async fn report(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<BudgetReport>, ApiError> {
    let month = state.limiter.month();
    let now = Utc::now();
    let since = month.start(now);
    let all_keys = report_read::client_keys(&state.db).await?;
    let seen = visible(&state, &caller, &all_keys).await?;
    let spent = spend_by_key(&state, since, &seen.keys).await?;

    let catalog = state.catalog.load_full();
    let mut per_key: BTreeMap<i32, Spend> = BTreeMap::new();
    let mut per_provider: BTreeMap<i32, Spend> = BTreeMap::new();
    for (key, upstream, spend) in &spent {
        per_key.entry(*key).or_default().add(*spend);
        let provider = upstream.and_then(|u| catalog.upstream_keys.get(&u).map(|k| k.provider_id));
        if let Some(provider) = provider {
            per_provider.entry(provider).or_default().add(*spend);
        }
    }
    let shown = |id: &i32| seen.keys.as_ref().is_none_or(|k| k.contains(id));
    let keys: Vec<KeyRow> = all_keys
        .iter()
        .filter(|k| shown(&k.id))
        .map(|k| KeyRow {
            id: k.id,
            name: k.name.clone(),
            team_id: k.team_id,
            owner_user_id: k.owner_user_id,
            spend: per_key.get(&k.id).copied().unwrap_or_default(),
        })
        .collect();
    let (team_rows, user_rows) = budgeted_rows(&state, &seen, &keys).await?;
    let providers = per_provider
        .into_iter()
        .map(|(id, spend)| ProviderRow {
            id,
            name: catalog
                .providers
                .get(&id)
                .map_or_else(|| format!("#{id}"), |p| p.name.clone()),
            spend,
        })
        .collect();
    Ok(Json(BudgetReport {
        period: month.label(now),
        since,
        teams: team_rows,
        users: user_rows,
        keys,
        providers,
    }))
}
