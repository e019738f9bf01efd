//! What can go wrong in a plugin call, and whose fault it is.

use std::fmt;

use super::types::PluginError;

/// A plugin call that did not produce a result.
#[derive(Debug, Clone)]
pub struct PluginFailure {
    /// The plugin's name.
    pub plugin: String,
    pub kind: FailureKind,
}

/// The kinds of plugin failure.
#[derive(Debug, Clone)]
pub enum FailureKind {
    /// The plugin refused the client's request (`bad-request`,
    /// `unsupported`): the client's fault, answered with 400.
    Refused(String),
    /// The plugin reported an internal error.
    Internal(String),
    /// The call ran past its deadline.
    Timeout,
    /// The instance tried to grow its memory past the cap.
    OutOfMemory,
    /// The guest trapped (panic, unreachable, stack overflow...).
    Trap(String),
    /// The host could not create an instance (a bad component).
    Instantiate(String),
    /// Every pooled instance is in use: the gateway is over capacity (503
    /// `overloaded`, not the plugin's fault).
    Busy,
    /// The plugin broke the contract (e.g. never placed the credential).
    Contract(&'static str),
}

impl PluginFailure {
    pub fn from_plugin_error(plugin: &str, error: PluginError) -> PluginFailure {
        let kind = match error {
            PluginError::BadRequest(m) | PluginError::Unsupported(m) => FailureKind::Refused(m),
            PluginError::Internal(m) => FailureKind::Internal(m),
        };
        PluginFailure {
            plugin: plugin.to_owned(),
            kind,
        }
    }

    /// Whether the client caused it (400) rather than the plugin (502).
    pub fn is_client_error(&self) -> bool {
        matches!(self.kind, FailureKind::Refused(_))
    }

    /// A short machine-readable name of the kind, for traces.
    pub fn code(&self) -> &'static str {
        match self.kind {
            FailureKind::Refused(_) => "plugin_refused",
            FailureKind::Internal(_) => "plugin_internal_error",
            FailureKind::Timeout => "plugin_timeout",
            FailureKind::OutOfMemory => "plugin_out_of_memory",
            FailureKind::Trap(_) => "plugin_trap",
            FailureKind::Instantiate(_) => "plugin_unavailable",
            FailureKind::Busy => "overloaded",
            FailureKind::Contract(_) => "plugin_contract_violation",
        }
    }
}

impl fmt::Display for PluginFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plugin = &self.plugin;
        match &self.kind {
            FailureKind::Refused(m) => write!(f, "{m}"),
            FailureKind::Internal(_) => write!(f, "plugin '{plugin}' reported an internal error"),
            FailureKind::Timeout => write!(f, "plugin '{plugin}' exceeded its time limit"),
            FailureKind::OutOfMemory => write!(f, "plugin '{plugin}' exceeded its memory limit"),
            FailureKind::Trap(_) => write!(f, "plugin '{plugin}' crashed"),
            FailureKind::Instantiate(_) => write!(f, "plugin '{plugin}' could not be started"),
            FailureKind::Busy => write!(f, "the gateway is at capacity"),
            FailureKind::Contract(what) => {
                write!(f, "plugin '{plugin}' broke its contract: {what}")
            }
        }
    }
}
