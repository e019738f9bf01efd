//! The name an upstream error class (`classify`'s answer) goes by in
//! traces, the admin API, `plugin check` and conformance vectors: one
//! spelling, next to the WIT type it names, for every reader.

use super::types::ErrorClass;

/// The trace name of an error class.
pub fn error_class_name(class: &ErrorClass) -> String {
    match class {
        ErrorClass::RateLimited(_) => "rate_limited",
        ErrorClass::QuotaExhausted => "quota_exhausted",
        ErrorClass::AuthInvalid => "auth_invalid",
        ErrorClass::BadRequest => "bad_request",
        ErrorClass::ServerError => "server_error",
        ErrorClass::Other => "other",
    }
    .to_owned()
}
