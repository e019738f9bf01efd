//! Sizes the host bounds what it hands a plugin by, where more than one
//! caller hands it: named once here, beside the contract, so that the
//! proxy, the health checker and the WIT's documentation agree.

/// Bytes of an error answer's body handed to `classify`. The proxy stops
/// reading an error answer once it holds this many (keeping the chunk that
/// crossed it whole) and never relays the rest; the health checker cuts a
/// probe's answer at exactly this many.
pub const MAX_CLASSIFIED_BODY_BYTES: usize = 64 * 1024;
