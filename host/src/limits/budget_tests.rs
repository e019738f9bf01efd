//! Budgets charged with client keys: atomic admission across keys of one
//! team, settling, refusals that name the budget, alerts once a period.

use std::sync::Mutex;

use super::*;
use crate::limits::{AlertRecorder, BudgetAlert, Reservation};

fn team(id: i32, limits: BudgetLimits) -> Arc<Budget> {
    Arc::new(Budget {
        scope: BudgetScope::Team,
        subject_id: id,
        limits,
        alert_percent: 80,
    })
}

fn tokens_per_month(quota: i64) -> BudgetLimits {
    BudgetLimits {
        tokens_per_month: Some(quota),
        ..BudgetLimits::default()
    }
}

async fn month_tokens(limiter: &Limiter, budget: &Budget) -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let usage = limiter.budget_usage(budget).await.expect("usage");
    usage
        .iter()
        .find(|(l, _)| l.name.ends_with("tokens_per_month"))
        .map_or(0, |(_, used)| *used)
}

#[tokio::test]
async fn concurrent_requests_of_two_keys_never_overshoot_their_team_budget() {
    let limiter = Arc::new(Limiter::in_memory());
    // 1,000 tokens left: three requests of 300 fit, a fourth does not.
    let budget = team(7, tokens_per_month(1_000));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (limiter, budget) = (limiter.clone(), budget.clone());
        tasks.push(tokio::spawn(async move {
            let key = 1 + i % 2;
            limiter
                .admit_with_budgets(key, &ClientLimits::default(), &[budget], (300, 0))
                .await
        }));
    }
    let mut admitted = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(held) => admitted.push(held),
            Err(LimitError::Exceeded { limit, .. }) => assert_eq!(limit, "team_tokens_per_month"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(admitted.len(), 3, "3 x 300 <= 1000 < 4 x 300");
    // Each request really used 320 tokens: settled, 960 of 1,000.
    for (client, shares) in admitted {
        Reservation::new(limiter.clone(), 1, ClientLimits::default(), client)
            .with_budgets(shares)
            .settle(Some(1), 320, 0);
    }
    assert_eq!(month_tokens(&limiter, &budget).await, 960);
    let refused = limiter
        .admit_with_budgets(
            2,
            &ClientLimits::default(),
            std::slice::from_ref(&budget),
            (300, 0),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(LimitError::Exceeded {
                limit: "team_tokens_per_month",
                ..
            })
        ),
        "40 tokens left do not hold an estimate of 300: {refused:?}"
    );
}

#[tokio::test]
async fn the_key_its_owner_and_its_team_are_charged_all_or_none() {
    let limiter = Arc::new(Limiter::in_memory());
    let user = Arc::new(Budget {
        scope: BudgetScope::User,
        subject_id: 3,
        limits: BudgetLimits {
            requests_per_day: Some(2),
            ..BudgetLimits::default()
        },
        alert_percent: 80,
    });
    let team = team(
        9,
        BudgetLimits {
            requests_per_month: Some(3),
            ..BudgetLimits::default()
        },
    );
    let key = ClientLimits {
        requests_per_day: Some(100),
        ..ClientLimits::default()
    };
    let both = [user.clone(), team.clone()];
    for _ in 0..2 {
        limiter
            .admit_with_budgets(1, &key, &both, (10, 0))
            .await
            .expect("room everywhere");
    }
    let spent = limiter.admit_with_budgets(1, &key, &both, (10, 0)).await;
    assert!(
        matches!(
            spent,
            Err(LimitError::Exceeded {
                limit: "user_requests_per_day",
                ..
            })
        ),
        "{spent:?}"
    );
    // The refused request took nothing from the team: one more of another
    // member fits, then the team is spent.
    limiter
        .admit_with_budgets(2, &key, std::slice::from_ref(&team), (10, 0))
        .await
        .expect("the team had one left");
    let spent = limiter.admit_with_budgets(2, &key, &[team], (10, 0)).await;
    assert!(matches!(
        spent,
        Err(LimitError::Exceeded {
            limit: "team_requests_per_month",
            ..
        })
    ));
}

#[tokio::test]
async fn a_request_that_ends_without_an_answer_gives_its_budget_back() {
    let limiter = Arc::new(Limiter::in_memory());
    let budget = team(4, tokens_per_month(500));
    let (client, shares) = limiter
        .admit_with_budgets(
            1,
            &ClientLimits::default(),
            std::slice::from_ref(&budget),
            (400, 0),
        )
        .await
        .expect("fits");
    assert_eq!(shares[0].tokens, 400);
    assert_eq!(month_tokens(&limiter, &budget).await, 400, "held");
    drop(
        Reservation::new(limiter.clone(), 1, ClientLimits::default(), client).with_budgets(shares),
    );
    assert_eq!(month_tokens(&limiter, &budget).await, 0, "given back");
}

#[tokio::test]
async fn a_cost_estimate_is_held_against_a_budget_that_limits_cost() {
    let limiter = Arc::new(Limiter::in_memory());
    let budget = team(
        5,
        BudgetLimits {
            cost_per_month: Some(1_000),
            ..BudgetLimits::default()
        },
    );
    let (client, shares) = limiter
        .admit_with_budgets(
            1,
            &ClientLimits::default(),
            std::slice::from_ref(&budget),
            (50, 0),
        )
        .await
        .expect("fits");
    let mut first =
        Reservation::new(limiter.clone(), 1, ClientLimits::default(), client).with_budgets(shares);
    assert!(first.limits_cost());
    first.reserve_cost(700).await.expect("700 of 1000");
    let (client, shares) = limiter
        .admit_with_budgets(
            2,
            &ClientLimits::default(),
            std::slice::from_ref(&budget),
            (50, 0),
        )
        .await
        .expect("the budget is not spent yet");
    let mut second =
        Reservation::new(limiter.clone(), 2, ClientLimits::default(), client).with_budgets(shares);
    let refused = second.reserve_cost(400).await;
    assert!(
        matches!(
            refused,
            Err(LimitError::Exceeded {
                limit: "team_cost_per_month",
                ..
            })
        ),
        "700 + 400 > 1000: {refused:?}"
    );
}

/// Alerts as the audit log would get them.
#[derive(Default)]
struct Collected(Mutex<Vec<BudgetAlert>>);

#[async_trait::async_trait]
impl AlertRecorder for Collected {
    async fn record(&self, alert: &BudgetAlert) -> bool {
        self.0.lock().expect("lock").push(alert.clone());
        true
    }
}

#[tokio::test]
async fn an_alert_is_recorded_once_per_period_at_the_threshold() {
    let limiter = Arc::new(Limiter::in_memory());
    let collected = Arc::new(Collected::default());
    limiter.record_alerts_with(collected.clone());
    let budget = team(8, tokens_per_month(1_000));
    let settle = |used: i64| {
        let limiter = limiter.clone();
        let budget = budget.clone();
        async move {
            let (client, shares) = limiter
                .admit_with_budgets(1, &ClientLimits::default(), &[budget], (100, 0))
                .await
                .expect("fits");
            Reservation::new(limiter.clone(), 1, ClientLimits::default(), client)
                .with_budgets(shares)
                .settle(Some(1), used, 0);
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
    };
    settle(799).await;
    assert!(collected.0.lock().expect("lock").is_empty(), "79.9 %");
    settle(1).await;
    settle(100).await;
    let alerts = collected.0.lock().expect("lock").clone();
    assert_eq!(alerts.len(), 1, "once in the period: {alerts:?}");
    assert_eq!(alerts[0].limit, "team_tokens_per_month");
    assert_eq!((alerts[0].used, alerts[0].budget), (800, 1_000));
    assert_eq!(alerts[0].period, limiter.month.label(Utc::now()));
    assert_eq!(
        limiter.alerts_recorded(),
        vec![("team", "team_tokens_per_month", 1)]
    );
}
