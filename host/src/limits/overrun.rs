//! What a client key's stream does at its daily token or cost quota
//! (`quota_overrun` of the key).

/// What a client key's stream does when its running usage crosses the
/// key's daily token or cost quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QuotaOverrun {
    /// The answer runs to its end and is charged in full; the next
    /// request is refused. The default: no answer is cut unless the
    /// operator asks for it.
    #[default]
    Finish,
    /// The gateway ends the stream at the next event boundary, with the
    /// provider's own terminal event (when its plugin can write one).
    Cut,
}

impl QuotaOverrun {
    /// The names the API accepts.
    pub const NAMES: [&'static str; 2] = ["finish", "cut"];

    pub fn parse(name: &str) -> Option<QuotaOverrun> {
        match name {
            "finish" => Some(QuotaOverrun::Finish),
            "cut" => Some(QuotaOverrun::Cut),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            QuotaOverrun::Finish => "finish",
            QuotaOverrun::Cut => "cut",
        }
    }
}
