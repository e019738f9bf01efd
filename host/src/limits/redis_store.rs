//! The Redis counter store, for limits shared by every gateway instance.
//!
//! A group of charges is one `EVALSHA` (one round trip): the script checks
//! every counter against its limit and applies all of them or none, so
//! instances never overshoot a limit between them. Counters expire with
//! their window. Every call has a deadline; the caller decides what a
//! failure means (fail open or closed).

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use super::counter::{Charge, CounterStore, Refused, StoreError};

/// Longest wait for Redis on the request path.
pub const REDIS_CALL_TIMEOUT: Duration = Duration::from_millis(250);

/// KEYS: counters. ARGV: per key `amount, limit (-1: none), ttl`.
/// Returns 0 when applied, or the 1-based index of the refused counter and
/// its remaining lifetime.
const TRY_CHARGE: &str = r"
for i = 1, #KEYS do
  local limit = tonumber(ARGV[i * 3 - 1])
  if limit >= 0 then
    local need = math.max(tonumber(ARGV[i * 3 - 2]), 1)
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if current + need > limit then
      return {i, redis.call('TTL', KEYS[i])}
    end
  end
end
for i = 1, #KEYS do
  local amount = tonumber(ARGV[i * 3 - 2])
  if amount ~= 0 then
    redis.call('INCRBY', KEYS[i], amount)
    if redis.call('TTL', KEYS[i]) < 0 then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i * 3]))
    end
  end
end
return {0, 0}
";

/// Lease calls (see `lease.rs`). KEYS: counters. ARGV: per key `add, need,
/// want, limit (-1: none), ttl`. `add` brings the counter to this
/// instance's real usage (what it owes, minus any room it gives back; a
/// counter never goes below 0, so a Redis that lost its data is not given
/// back what it no longer counts); then, if every counter with a limit has
/// `need` left, each is granted up to `want` of what is left. Returns the
/// grants, or `{-index, ttl}` of the first counter without `need` left
/// (nothing applied then).
const LEASE: &str = r"
local base = {}
for i = 1, #KEYS do
  local need = tonumber(ARGV[i * 5 - 3])
  local limit = tonumber(ARGV[i * 5 - 1])
  base[i] = math.max(tonumber(redis.call('GET', KEYS[i]) or '0') + tonumber(ARGV[i * 5 - 4]), 0)
  if limit >= 0 and need > 0 and base[i] + need > limit then
    return {-i, redis.call('TTL', KEYS[i])}
  end
end
local grants = {}
for i = 1, #KEYS do
  local want = tonumber(ARGV[i * 5 - 2])
  local limit = tonumber(ARGV[i * 5 - 1])
  local grant = want
  if limit >= 0 then
    grant = math.max(0, math.min(want, limit - base[i]))
  end
  local change = base[i] + grant - tonumber(redis.call('GET', KEYS[i]) or '0')
  if change ~= 0 then
    redis.call('INCRBY', KEYS[i], change)
    if redis.call('TTL', KEYS[i]) < 0 then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i * 5]))
    end
  end
  grants[i] = grant
end
return grants
";

/// One counter in a lease call: its Redis key (prefixed) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseCall {
    pub key: String,
    /// Brought to the counter first (owed usage, minus room given back).
    pub add: i64,
    /// Left under the limit for the call to succeed (0: never refused).
    pub need: i64,
    /// Most granted.
    pub want: i64,
    pub limit: Option<i64>,
    /// Seconds the counter lives when created.
    pub ttl: u64,
}

pub struct RedisStore {
    /// Set once the first connection is made; the manager reconnects by
    /// itself after that.
    connection: Arc<ArcSwapOption<ConnectionManager>>,
    prefix: String,
    script: redis::Script,
    lease: redis::Script,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// Pause between attempts to make the first connection.
const CONNECT_RETRY: Duration = Duration::from_secs(1);

impl RedisStore {
    /// A store for `url`; connects in the background (retrying every
    /// second), so a gateway started while Redis is down serves under its
    /// failure policy and picks Redis up when it comes.
    pub fn new(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let connection = Arc::new(ArcSwapOption::empty());
        let slot = connection.clone();
        tokio::spawn(async move {
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(1)))
                .set_response_timeout(Some(REDIS_CALL_TIMEOUT));
            loop {
                let attempt = tokio::time::timeout(
                    Duration::from_secs(2),
                    ConnectionManager::new_with_config(client.clone(), config.clone()),
                )
                .await;
                match attempt {
                    Ok(Ok(manager)) => {
                        slot.store(Some(Arc::new(manager)));
                        tracing::info!("connected to Redis for rate limits");
                        return;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "Redis not reachable yet"),
                    Err(_) => tracing::debug!("Redis connection attempt timed out"),
                }
                tokio::time::sleep(CONNECT_RETRY).await;
            }
        });
        Ok(RedisStore {
            connection,
            prefix: prefix.to_owned(),
            script: redis::Script::new(TRY_CHARGE),
            lease: redis::Script::new(LEASE),
        })
    }

    /// Whether the first connection has been made.
    pub fn connected(&self) -> bool {
        self.connection.load().is_some()
    }

    fn manager(&self) -> Result<ConnectionManager, StoreError> {
        self.connection
            .load()
            .as_deref()
            .cloned()
            .ok_or_else(|| StoreError("not connected yet".into()))
    }

    fn keys(&self, charges: &[Charge], now: DateTime<Utc>) -> Vec<(String, u64)> {
        charges.iter().map(|c| self.counter_key(c, now)).collect()
    }

    /// The Redis key of `charge`'s counter at `now` and the seconds its
    /// window has left.
    pub fn counter_key(&self, charge: &Charge, now: DateTime<Utc>) -> (String, u64) {
        let (key, left) = charge.key(now);
        (format!("{}{key}", self.prefix), left)
    }

    /// One lease call over several counters, in one round trip: the
    /// grants in order, or the counter that has not `need` left.
    pub async fn lease(
        &self,
        calls: &[LeaseCall],
    ) -> Result<Result<Vec<i64>, Refused>, StoreError> {
        if calls.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let mut invocation = self.lease.prepare_invoke();
        for call in calls {
            invocation
                .key(&call.key)
                .arg(call.add)
                .arg(call.need)
                .arg(call.want)
                .arg(call.limit.unwrap_or(-1))
                .arg(call.ttl + 1);
        }
        let mut connection = self.manager()?;
        let answer: Vec<i64> = bounded(invocation.invoke_async(&mut connection)).await?;
        match answer.as_slice() {
            [index, ttl] if *index < 0 => {
                let index = usize::try_from(-index - 1).unwrap_or(0);
                let fallback = calls.get(index).map_or(1, |c| c.ttl);
                Ok(Err(Refused {
                    index,
                    retry_after: u64::try_from(*ttl)
                        .ok()
                        .filter(|t| *t > 0)
                        .unwrap_or(fallback),
                }))
            }
            grants if grants.len() == calls.len() => Ok(Ok(grants.to_vec())),
            _ => Err(StoreError("unexpected answer to the lease script".into())),
        }
    }

    /// Adds to counters by key (pipelined INCRBY, no script: usage is
    /// recorded even where scripts may not run).
    pub async fn add_keys(&self, adds: &[(String, i64, u64)]) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        for (key, amount, left) in adds.iter().filter(|a| a.1 != 0) {
            pipe.incr(key, *amount)
                .ignore()
                .expire(key, i64::try_from(*left + 1).unwrap_or(86_401))
                .ignore();
        }
        let mut connection = self.manager()?;
        bounded(pipe.query_async::<()>(&mut connection)).await
    }
}

async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(REDIS_CALL_TIMEOUT, call)
        .await
        .map_err(|_| StoreError("timed out".into()))?
        .map_err(unavailable)
}

#[async_trait]
impl CounterStore for RedisStore {
    async fn try_charge(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        if charges.is_empty() {
            return Ok(Ok(()));
        }
        let keys = self.keys(charges, now);
        let mut invocation = self.script.prepare_invoke();
        for ((key, left), charge) in keys.iter().zip(charges) {
            invocation
                .key(key)
                .arg(charge.amount)
                .arg(charge.limit.unwrap_or(-1))
                .arg(*left + 1);
        }
        let mut connection = self.manager()?;
        let (index, ttl): (i64, i64) = bounded(invocation.invoke_async(&mut connection)).await?;
        if index == 0 {
            return Ok(Ok(()));
        }
        let index = usize::try_from(index - 1).unwrap_or(0);
        let fallback = keys.get(index).map_or(1, |(_, left)| *left);
        Ok(Err(Refused {
            index,
            retry_after: u64::try_from(ttl)
                .ok()
                .filter(|t| *t > 0)
                .unwrap_or(fallback),
        }))
    }

    async fn add(&self, charges: &[Charge], now: DateTime<Utc>) -> Result<(), StoreError> {
        let adds: Vec<(String, i64, u64)> = self
            .keys(charges, now)
            .into_iter()
            .zip(charges)
            .map(|((key, left), charge)| (key, charge.amount, left))
            .collect();
        self.add_keys(&adds).await
    }

    async fn current(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        if charges.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = self
            .keys(charges, now)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut connection = self.manager()?;
        let values: Vec<Option<i64>> =
            bounded(redis::cmd("MGET").arg(&keys).query_async(&mut connection)).await?;
        Ok(values.into_iter().map(Option::unwrap_or_default).collect())
    }
}
