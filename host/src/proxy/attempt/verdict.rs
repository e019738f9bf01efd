//! What a failed attempt means for its key and for the request: whether
//! another key might do better, and the client's error when no key is left.

use std::time::Duration;

use crate::plugins::types::ErrorClass;
use crate::proxy::error::ProxyError;
use crate::scheduler::{HealthStatus, KeyBoard, NoKey};

/// Reports an error answer to the key board; whether another key might
/// succeed where this one failed.
pub(super) fn judge(
    board: &KeyBoard,
    key_id: i32,
    status: u16,
    class: Option<&ErrorClass>,
) -> bool {
    let reason = format!("upstream answered {status}");
    match class {
        Some(ErrorClass::RateLimited(seconds)) => {
            let after = seconds.map(|s| Duration::from_secs(u64::from(s)));
            board.record_failure(key_id, HealthStatus::RateLimited, after, &reason);
            true
        }
        Some(
            class
            @ (ErrorClass::QuotaExhausted | ErrorClass::AuthInvalid | ErrorClass::ServerError),
        ) => {
            board.record_failure(key_id, HealthStatus::from_class(class), None, &reason);
            true
        }
        Some(ErrorClass::BadRequest) => false,
        Some(ErrorClass::Other) | None if status >= 500 => {
            board.record_failure(key_id, HealthStatus::ServerError, None, &reason);
            true
        }
        Some(ErrorClass::Other) | None => false,
    }
}

pub(super) fn no_usable_key(no_key: NoKey) -> ProxyError {
    ProxyError::NoUsableKey {
        reason: no_key.reason(),
        retry_after: match no_key {
            NoKey::AllLimited { retry_after } => Some(retry_after),
            NoKey::AllUnhealthy => Some(1),
            _ => None,
        },
    }
}
