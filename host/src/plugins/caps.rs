//! Sizes the host bounds what it hands a plugin by, where more than one
//! caller hands it: named once here, beside the contract, so that the
//! proxy, the health checker and the WIT's documentation agree.

/// Bytes of an error answer's body handed to `classify`. The proxy and the
/// health checker both cut an error answer at exactly this many (the proxy
/// never relays the rest).
pub const MAX_CLASSIFIED_BODY_BYTES: usize = 64 * 1024;
