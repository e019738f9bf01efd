//! The clock and the randomness a plugin sees: both fixed, so a plugin is a
//! pure function of its arguments, as `wit/provider.wit` promises.
//!
//! WASI 0.2 is linked for every plugin (guest toolchains import its clocks
//! and random interfaces whether or not the plugin uses them); these are
//! what those imports answer, the same in every instance and every request:
//!
//! - `wasi:clocks/wall-clock` reads the Unix epoch, 1970-01-01T00:00:00Z;
//! - `wasi:clocks/monotonic-clock` reads 0 and never advances (a sleep still
//!   takes its time, bounded by the call deadline);
//! - `wasi:random/random` and `wasi:random/insecure` are fixed-seed ChaCha
//!   streams that restart in every instance, so the n-th byte an instance
//!   reads is the same in every request (the sequence may change between
//!   gateway versions);
//! - `wasi:random/insecure-seed` is a constant, so a guest's hash maps are
//!   seeded alike everywhere.

use std::time::Duration;

use rand_wasi::SeedableRng;
use rand_wasi::rngs::StdRng;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtxBuilder};

/// Seed of `wasi:random/random`.
const RANDOM_SEED: [u8; 32] = *b"ai-proxy plugin random, constant";
/// Seed of `wasi:random/insecure`.
const INSECURE_RANDOM_SEED: [u8; 32] = *b"ai-proxy plugin insecure, const.";
/// What `wasi:random/insecure-seed` returns.
pub const INSECURE_SEED: u128 = 0x6169_2d70_726f_7879_2d73_6565_642d_3031;

/// Gives a plugin's WASI context the fixed clocks and random sources.
pub fn make_deterministic(builder: &mut WasiCtxBuilder) -> &mut WasiCtxBuilder {
    builder
        .wall_clock(EpochWallClock)
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(StdRng::from_seed(RANDOM_SEED))
        .insecure_random(StdRng::from_seed(INSECURE_RANDOM_SEED))
        .insecure_random_seed(INSECURE_SEED)
}

/// A wall clock stopped at the Unix epoch.
struct EpochWallClock;

impl HostWallClock for EpochWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// A monotonic clock that always reads 0 ns.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_wasi::Rng;

    #[test]
    fn plugin_clocks_stand_still_at_zero() {
        let before = (EpochWallClock.now(), FrozenMonotonicClock.now());
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(before, (Duration::ZERO, 0));
        assert_eq!(EpochWallClock.now(), Duration::ZERO);
        assert_eq!(FrozenMonotonicClock.now(), 0);
    }

    #[test]
    fn plugin_random_streams_are_fixed_distinct_and_not_constant() {
        let bytes = |seed| {
            let mut bytes = [0_u8; 64];
            StdRng::from_seed(seed).fill_bytes(&mut bytes);
            bytes
        };
        assert_eq!(bytes(RANDOM_SEED), bytes(RANDOM_SEED));
        assert_ne!(bytes(RANDOM_SEED), bytes(INSECURE_RANDOM_SEED));
        assert_ne!(bytes(RANDOM_SEED)[..32], bytes(RANDOM_SEED)[32..]);
    }
}
