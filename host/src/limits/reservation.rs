//! Tokens held against a client key's daily quota while its request runs,
//! so concurrent requests cannot together overshoot a nearly spent quota.
//! Settled with the real usage when the answer ends; given back if the
//! request ends without an answer. Settling never holds up the request.

use std::sync::Arc;

use super::Limiter;

/// Bytes of request body counted as one prompt token in the estimate.
pub const BYTES_PER_TOKEN: usize = 4;
/// Output tokens reserved for every request on top of its prompt.
pub const RESERVED_OUTPUT_TOKENS: i64 = 256;

/// A request's token estimate: its body as prompt plus a fixed output.
pub fn estimate_tokens(body_len: usize) -> i64 {
    i64::try_from(body_len.div_ceil(BYTES_PER_TOKEN))
        .unwrap_or(i64::MAX / 2)
        .saturating_add(RESERVED_OUTPUT_TOKENS)
}

/// What one request holds.
pub struct Reservation {
    limiter: Arc<Limiter>,
    client_id: i32,
    tokens: i64,
    settled: bool,
}

impl Reservation {
    pub fn new(limiter: Arc<Limiter>, client_id: i32, tokens: i64) -> Reservation {
        Reservation {
            limiter,
            client_id,
            tokens,
            settled: false,
        }
    }

    /// Replaces the reservation by the real usage (in the background).
    pub fn settle(mut self, key_id: Option<i32>, tokens: i64, cost_nanos: i64) {
        self.settled = true;
        if tokens == 0 && cost_nanos == 0 && self.tokens == 0 {
            return;
        }
        let (limiter, client_id, reserved) = (self.limiter.clone(), self.client_id, self.tokens);
        tokio::spawn(async move {
            limiter
                .record_usage(client_id, key_id, tokens, cost_nanos, reserved)
                .await;
        });
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled || self.tokens == 0 {
            return;
        }
        let (limiter, client_id, reserved) = (self.limiter.clone(), self.client_id, self.tokens);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                limiter.record_usage(client_id, None, 0, 0, reserved).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ClientLimits;

    #[test]
    fn the_estimate_counts_the_body_and_a_fixed_output() {
        assert_eq!(estimate_tokens(0), RESERVED_OUTPUT_TOKENS);
        assert_eq!(estimate_tokens(1), RESERVED_OUTPUT_TOKENS + 1);
        assert_eq!(estimate_tokens(400), RESERVED_OUTPUT_TOKENS + 100);
    }

    #[tokio::test]
    async fn a_reservation_blocks_overshoot_and_settles_to_the_real_usage() {
        let limiter = Arc::new(Limiter::in_memory());
        let limits = ClientLimits {
            tokens_per_day: Some(1000),
            ..ClientLimits::default()
        };
        let first = limiter.admit_client(1, &limits, 600).await.expect("fits");
        assert_eq!(first, 600);
        assert!(
            limiter.admit_client(1, &limits, 600).await.is_err(),
            "600 + 600 > 1000"
        );
        Reservation::new(limiter.clone(), 1, first).settle(Some(9), 50, 0);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(limiter.client_usage_today(1).await.expect("usage").0, 50);
        let second = limiter
            .admit_client(1, &limits, 600)
            .await
            .expect("fits now");
        drop(Reservation::new(limiter.clone(), 1, second));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            limiter.client_usage_today(1).await.expect("usage").0,
            50,
            "given back"
        );
    }
}
