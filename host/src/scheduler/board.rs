//! The live state of every upstream key: health status and score, recent
//! latency, cooldown. Real traffic reports to it passively after every
//! attempt, the health service actively after every probe; the scheduler
//! reads it to choose. It lives beside the catalog (not in it), so a
//! configuration change does not forget what the gateway learnt.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::HealthStatus;

/// Cooldown after a 429 that names no `Retry-After`.
pub const DEFAULT_RATE_LIMIT_COOLDOWN: Duration = Duration::from_secs(30);
/// Longest cooldown, whatever `Retry-After` says.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(600);
/// Cooldown after the first server or network failure; doubles with each
/// consecutive one up to [`MAX_FAILURE_COOLDOWN`].
pub const BASE_FAILURE_COOLDOWN: Duration = Duration::from_secs(2);
pub const MAX_FAILURE_COOLDOWN: Duration = Duration::from_secs(60);
/// Weight of the newest result in the health score and latency averages.
const EWMA_WEIGHT: f64 = 0.2;

/// What the scheduler knows about one key.
#[derive(Debug, Clone)]
pub struct KeyState {
    pub status: HealthStatus,
    /// 0 (every recent attempt failed) to 1 (every one succeeded).
    pub score: f64,
    /// Average latency of recent successful attempts.
    pub latency_ms: Option<f64>,
    pub consecutive_failures: u32,
    pub cooldown_until: Option<Instant>,
    pub last_error: Option<String>,
    pub last_checked: Option<DateTime<Utc>>,
}

impl Default for KeyState {
    fn default() -> Self {
        KeyState {
            status: HealthStatus::Unknown,
            score: 1.0,
            latency_ms: None,
            consecutive_failures: 0,
            cooldown_until: None,
            last_error: None,
            last_checked: None,
        }
    }
}

/// Why a key is out of rotation right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Until a health check clears it (auth invalid, quota exhausted).
    Unhealthy,
    /// Rate limited or failing: back after the cooldown.
    CoolingDown,
}

/// The key's state as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyHealthView {
    pub status: HealthStatus,
    pub score: f64,
    pub latency_ms: Option<f64>,
    pub consecutive_failures: u32,
    /// Seconds left in cooldown, when cooling down.
    pub cooldown_seconds: Option<u64>,
    pub in_rotation: bool,
    pub last_error: Option<String>,
    pub last_checked: Option<DateTime<Utc>>,
}

/// Live state of every key.
#[derive(Default)]
pub struct KeyBoard {
    keys: RwLock<HashMap<i32, KeyState>>,
}

fn ewma(old: f64, new: f64) -> f64 {
    old * (1.0 - EWMA_WEIGHT) + new * EWMA_WEIGHT
}

impl KeyState {
    fn unusable(&self, now: Instant) -> Option<Unusable> {
        if matches!(
            self.status,
            HealthStatus::AuthInvalid | HealthStatus::QuotaExhausted
        ) {
            return Some(Unusable::Unhealthy);
        }
        self.cooldown_until
            .filter(|until| *until > now)
            .map(|_| Unusable::CoolingDown)
    }
}

impl KeyBoard {
    fn read<T>(&self, f: impl FnOnce(&HashMap<i32, KeyState>) -> T) -> T {
        match self.keys.read() {
            Ok(g) => f(&g),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn write<T>(&self, id: i32, f: impl FnOnce(&mut KeyState) -> T) -> T {
        let mut guard = match self.keys.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(guard.entry(id).or_default())
    }

    /// Whether key `id` may be picked now, and if not why.
    pub fn unusable(&self, id: i32, now: Instant) -> Option<Unusable> {
        self.read(|keys| keys.get(&id).and_then(|s| s.unusable(now)))
    }

    /// Score and latency of key `id` (a key never seen scores 1).
    pub fn score(&self, id: i32) -> (f64, Option<f64>) {
        self.read(|keys| {
            keys.get(&id)
                .map_or((1.0, None), |s| (s.score, s.latency_ms))
        })
    }

    /// A request on key `id` succeeded after `latency`.
    pub fn record_success(&self, id: i32, latency: Duration) {
        let ms = latency.as_secs_f64() * 1000.0;
        self.write(id, |s| {
            s.score = ewma(s.score, 1.0);
            s.latency_ms = Some(s.latency_ms.map_or(ms, |old| ewma(old, ms)));
            s.consecutive_failures = 0;
            s.cooldown_until = None;
            if !matches!(
                s.status,
                HealthStatus::AuthInvalid | HealthStatus::QuotaExhausted
            ) {
                s.status = HealthStatus::Healthy;
                s.last_error = None;
            }
        });
    }

    /// A request or probe on key `id` failed as `status`; `retry_after` is
    /// what the upstream asked for, if anything.
    pub fn record_failure(
        &self,
        id: i32,
        status: HealthStatus,
        retry_after: Option<Duration>,
        error: &str,
    ) {
        let now = Instant::now();
        self.write(id, |s| {
            s.score = ewma(s.score, 0.0);
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            s.last_error = Some(error.to_owned());
            s.status = status;
            let cooldown = match status {
                HealthStatus::RateLimited => Some(
                    retry_after
                        .unwrap_or(DEFAULT_RATE_LIMIT_COOLDOWN)
                        .min(MAX_COOLDOWN),
                ),
                HealthStatus::ServerError | HealthStatus::Network => {
                    let doublings = s.consecutive_failures.saturating_sub(1).min(16);
                    Some(
                        BASE_FAILURE_COOLDOWN
                            .saturating_mul(1 << doublings)
                            .min(MAX_FAILURE_COOLDOWN),
                    )
                }
                _ => None,
            };
            s.cooldown_until = cooldown.map(|c| now + c);
        });
    }

    /// A health probe's verdict on key `id`.
    pub fn record_probe(
        &self,
        id: i32,
        status: HealthStatus,
        latency: Duration,
        error: Option<&str>,
    ) {
        match status {
            HealthStatus::Healthy => {
                self.write(id, |s| {
                    s.status = HealthStatus::Healthy;
                    s.last_error = None;
                });
                self.record_success(id, latency);
            }
            HealthStatus::Unknown => {}
            other => self.record_failure(id, other, None, error.unwrap_or("probe failed")),
        }
        self.write(id, |s| s.last_checked = Some(Utc::now()));
    }

    /// Consecutive failures of key `id` (for probe backoff).
    pub fn consecutive_failures(&self, id: i32) -> u32 {
        self.read(|keys| keys.get(&id).map_or(0, |s| s.consecutive_failures))
    }

    /// What the API shows for key `id`.
    pub fn view(&self, id: i32) -> KeyHealthView {
        let now = Instant::now();
        let state = self.read(|keys| keys.get(&id).cloned()).unwrap_or_default();
        KeyHealthView {
            status: state.status,
            score: (state.score * 1000.0).round() / 1000.0,
            latency_ms: state.latency_ms.map(|l| l.round()),
            consecutive_failures: state.consecutive_failures,
            cooldown_seconds: state.cooldown_until.filter(|u| *u > now).map(|u| {
                u64::try_from((u - now).as_millis())
                    .unwrap_or(u64::MAX)
                    .div_ceil(1000)
            }),
            in_rotation: state.unusable(now).is_none(),
            last_error: state.last_error,
            last_checked: state.last_checked,
        }
    }

    /// Forgets a deleted key.
    pub fn forget(&self, id: i32) {
        let mut guard = match self.keys.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_cools_the_key_down_for_retry_after_and_success_brings_it_back() {
        let board = KeyBoard::default();
        board.record_failure(
            1,
            HealthStatus::RateLimited,
            Some(Duration::from_secs(7)),
            "429",
        );
        assert_eq!(
            board.unusable(1, Instant::now()),
            Some(Unusable::CoolingDown)
        );
        let left = board.view(1).cooldown_seconds.unwrap_or(0);
        assert!((6..=7).contains(&left), "{left}");
        assert_eq!(
            board.unusable(1, Instant::now() + Duration::from_secs(8)),
            None
        );
        board.record_success(1, Duration::from_millis(10));
        assert_eq!(board.unusable(1, Instant::now()), None);
    }

    #[test]
    fn retry_after_is_capped_and_failures_back_off_exponentially() {
        let board = KeyBoard::default();
        board.record_failure(
            1,
            HealthStatus::RateLimited,
            Some(Duration::from_secs(86_400)),
            "429",
        );
        assert!(board.view(1).cooldown_seconds.unwrap_or(0) <= MAX_COOLDOWN.as_secs());
        let mut last = 0;
        for _ in 0..10 {
            board.record_failure(2, HealthStatus::ServerError, None, "500");
            let now = board.view(2).cooldown_seconds.unwrap_or(0);
            assert!(now >= last && now <= MAX_FAILURE_COOLDOWN.as_secs());
            last = now;
        }
        assert_eq!(last, MAX_FAILURE_COOLDOWN.as_secs());
    }

    #[test]
    fn auth_invalid_stays_out_until_a_healthy_probe() {
        let board = KeyBoard::default();
        board.record_failure(1, HealthStatus::AuthInvalid, None, "401");
        let later = Instant::now() + Duration::from_secs(3600);
        assert_eq!(board.unusable(1, later), Some(Unusable::Unhealthy));
        board.record_success(1, Duration::from_millis(5));
        assert_eq!(
            board.unusable(1, later),
            Some(Unusable::Unhealthy),
            "traffic alone does not clear it"
        );
        board.record_probe(1, HealthStatus::Healthy, Duration::from_millis(5), None);
        assert_eq!(board.unusable(1, later), None);
        assert!(board.view(1).in_rotation);
    }

    #[test]
    fn the_score_falls_with_failures_and_recovers_with_successes() {
        let board = KeyBoard::default();
        for _ in 0..5 {
            board.record_failure(1, HealthStatus::ServerError, None, "500");
        }
        let low = board.score(1).0;
        assert!(low < 0.4, "{low}");
        for _ in 0..10 {
            board.record_success(1, Duration::from_millis(20));
        }
        assert!(board.score(1).0 > 0.8);
        assert_eq!(board.score(1).1.map(f64::round), Some(20.0));
    }
}
