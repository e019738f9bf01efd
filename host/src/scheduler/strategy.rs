//! Orders of preference over a pool's usable keys, one per strategy. The
//! scheduler tries them in order (the first may still be over its own
//! limit), so each strategy ranks every candidate, not just the first.

use super::board::KeyBoard;
use crate::catalog::{PoolState, Strategy, UpstreamKey};

/// `keys` in the order `strategy` prefers them.
pub fn rank<'a>(
    strategy: Strategy,
    keys: Vec<&'a UpstreamKey>,
    state: &PoolState,
    board: &KeyBoard,
) -> Vec<&'a UpstreamKey> {
    if keys.len() <= 1 {
        return keys;
    }
    match strategy {
        Strategy::RoundRobin => rotate(keys, state.turn()),
        Strategy::Weighted => smooth_weighted(keys, state),
        Strategy::BestHealth => best_health(keys, state, board),
    }
}

fn rotate<T>(mut items: Vec<T>, turn: usize) -> Vec<T> {
    let len = items.len();
    items.rotate_left(turn % len);
    items
}

/// nginx's smooth weighted round robin: every key gains its weight, the
/// richest is picked and pays the total. Over any run of `total` picks each
/// key is picked exactly `weight` times, interleaved. The others follow by
/// current weight, as fallbacks.
fn smooth_weighted<'a>(keys: Vec<&'a UpstreamKey>, state: &PoolState) -> Vec<&'a UpstreamKey> {
    let mut current = state.weights();
    current.retain(|id, _| keys.iter().any(|k| k.id == *id));
    let total: i64 = keys.iter().map(|k| i64::from(k.weight)).sum();
    for key in &keys {
        *current.entry(key.id).or_insert(0) += i64::from(key.weight);
    }
    let mut ranked = keys;
    ranked.sort_by_key(|k| {
        (
            std::cmp::Reverse(current.get(&k.id).copied().unwrap_or(0)),
            k.id,
        )
    });
    if let Some(first) = ranked.first() {
        *current.entry(first.id).or_insert(0) -= total;
    }
    ranked
}

/// Highest health score first (in steps of 0.05, so noise does not flip
/// the order), then lowest latency (a key not yet measured goes first, to
/// be measured); equal keys take turns.
fn best_health<'a>(
    keys: Vec<&'a UpstreamKey>,
    state: &PoolState,
    board: &KeyBoard,
) -> Vec<&'a UpstreamKey> {
    let mut ranked = rotate(keys, state.turn());
    ranked.sort_by_key(|k| {
        let (score, latency) = board.score(k.id);
        let bucket = (score * 20.0).round() as i64;
        let latency = latency.map_or(0, |l| l.round() as i64);
        (std::cmp::Reverse(bucket), latency)
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::HealthStatus;
    use std::time::Duration;

    fn key(id: i32, weight: u32) -> UpstreamKey {
        UpstreamKey {
            weight,
            ..UpstreamKey::test(id)
        }
    }

    fn picks(strategy: Strategy, keys: &[UpstreamKey], board: &KeyBoard, n: usize) -> Vec<i32> {
        let state = PoolState::default();
        (0..n)
            .map(|_| rank(strategy, keys.iter().collect(), &state, board)[0].id)
            .collect()
    }

    #[test]
    fn round_robin_takes_turns() {
        let keys = [key(1, 1), key(2, 1), key(3, 1)];
        assert_eq!(
            picks(Strategy::RoundRobin, &keys, &KeyBoard::default(), 6),
            [1, 2, 3, 1, 2, 3]
        );
    }

    #[test]
    fn weighted_honours_weights_exactly_and_interleaves() {
        let keys = [key(1, 5), key(2, 1), key(3, 1)];
        let seq = picks(Strategy::Weighted, &keys, &KeyBoard::default(), 7);
        // nginx's documented sequence for weights 5, 1, 1.
        assert_eq!(seq, [1, 1, 2, 1, 3, 1, 1]);
        let many = picks(
            Strategy::Weighted,
            &[key(1, 3), key(2, 2), key(3, 5)],
            &KeyBoard::default(),
            1000,
        );
        let count = |id| many.iter().filter(|k| **k == id).count();
        assert_eq!((count(1), count(2), count(3)), (300, 200, 500));
    }

    #[test]
    fn best_health_prefers_the_healthier_then_the_faster_key() {
        let board = KeyBoard::default();
        let keys = [key(1, 1), key(2, 1), key(3, 1)];
        for _ in 0..5 {
            board.record_failure(1, HealthStatus::ServerError, None, "500");
        }
        board.record_success(2, Duration::from_millis(300));
        board.record_success(3, Duration::from_millis(40));
        let ranked: Vec<i32> = rank(
            Strategy::BestHealth,
            keys.iter().collect(),
            &PoolState::default(),
            &board,
        )
        .iter()
        .map(|k| k.id)
        .collect();
        assert_eq!(ranked, [3, 2, 1]);
    }

    #[test]
    fn strategy_names_round_trip() {
        for name in Strategy::NAMES {
            assert!(Strategy::parse(name).is_some(), "{name}");
        }
        assert_eq!(Strategy::parse("random"), None);
    }
}
