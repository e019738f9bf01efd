//! Where budget alerts land: a `budget_alerts` row, unique per budget line
//! and period (so an alert noticed by several instances is recorded once),
//! and an audit log entry by the `gateway` actor (action `budget_alert`,
//! resource `user` or `team`). Runs in the background after a request is
//! settled, never on the proxy path.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use crate::limits::{AlertRecorder, BudgetAlert};
use crate::store::entities::{audit_log, budget_alerts};

/// The audit log action of an alert.
pub const ALERT_ACTION: &str = "budget_alert";

/// Records alerts in the database.
pub struct AuditAlerts {
    pub db: DatabaseConnection,
}

#[async_trait]
impl AlertRecorder for AuditAlerts {
    async fn record(&self, alert: &BudgetAlert) -> bool {
        let row = budget_alerts::ActiveModel {
            scope: Set(alert.scope.name().to_owned()),
            subject_id: Set(alert.subject_id),
            limit_name: Set(alert.limit.to_owned()),
            period: Set(alert.period.clone()),
            used: Set(alert.used),
            budget: Set(alert.budget),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        let inserted = budget_alerts::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    budget_alerts::Column::Scope,
                    budget_alerts::Column::SubjectId,
                    budget_alerts::Column::LimitName,
                    budget_alerts::Column::Period,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await;
        match inserted {
            Ok(1) => {}
            Ok(_) => return false,
            Err(e) => {
                tracing::error!(error = %e, limit = alert.limit, "recording a budget alert failed");
                return false;
            }
        }
        tracing::warn!(
            scope = alert.scope.name(),
            subject = alert.subject_id,
            limit = alert.limit,
            period = %alert.period,
            used = alert.used,
            budget = alert.budget,
            "budget alert threshold reached"
        );
        let detail = serde_json::json!({
            "limit": alert.limit,
            "period": alert.period,
            "used": alert.used,
            "budget": alert.budget,
            "threshold_percent": alert.threshold_percent,
        });
        let entry = audit_log::ActiveModel {
            created_at: Set(Utc::now()),
            actor_id: Set(None),
            actor_name: Set("gateway".to_owned()),
            action: Set(ALERT_ACTION.to_owned()),
            resource: Set(alert.scope.name().to_owned()),
            resource_id: Set(Some(alert.subject_id.to_string())),
            before: Set(None),
            after: Set(Some(detail.to_string())),
            ..Default::default()
        };
        if let Err(e) = entry.insert(&self.db).await {
            tracing::error!(error = %e, "writing the audit log failed");
        }
        true
    }
}
