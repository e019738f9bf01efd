//! The plugin calls of one request, kept for its OpenTelemetry export: one
//! INTERNAL span per call (`crate::trace::otlp`), a child of the upstream attempt
//! the call served (or of the request, for calls before the first attempt).
//!
//! A log exists only when an exporter is configured, so a gateway without
//! one pays a branch per call and nothing else. With one, a request pays
//! one small allocation for the log and one for its first
//! [`MAX_PLUGIN_CALL_SPANS`] entries; a call is a lock nobody else holds
//! and a push into room already there. Calls past the cap (a long stream
//! feeds its parser once per chunk) are counted, not kept. Only the call's
//! name, timing and outcome are kept: never its arguments (a prompt, an
//! answer) nor an error text.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most plugin calls of one request exported as spans; the rest are counted
/// (`ai_proxy.plugin.calls_dropped` on the request span).
pub const MAX_PLUGIN_CALL_SPANS: usize = 32;

/// How a plugin call ended, as its span says (`ai_proxy.plugin.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    Ok,
    /// The call returned the plugin's own error (a refused request).
    Refused,
    Trap,
    Timeout,
    OutOfMemory,
}

impl CallEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            CallEnd::Ok => "ok",
            CallEnd::Refused => "refused",
            CallEnd::Trap => "trap",
            CallEnd::Timeout => "timeout",
            CallEnd::OutOfMemory => "out_of_memory",
        }
    }
}

/// One plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginCallSpan {
    /// The export called (`inspect`, `prepare`, `feed`, ...).
    pub call: &'static str,
    /// Index into [`PluginCallsSeen::plugins`].
    pub plugin: u8,
    /// The attempt (1-based) under way when the call was made; 0 before the first.
    pub attempt: u32,
    /// When the call began, after the request arrived.
    pub start: Duration,
    pub duration: Duration,
    pub end: CallEnd,
}

/// What a request's log holds at export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginCallsSeen {
    /// Name and version of each plugin that served a call.
    pub plugins: Vec<(String, String)>,
    pub spans: Vec<PluginCallSpan>,
    /// Calls made past [`MAX_PLUGIN_CALL_SPANS`].
    pub dropped: u32,
}

#[derive(Debug)]
struct Log {
    origin: Instant,
    attempt: u32,
    seen: PluginCallsSeen,
}

/// One request's plugin call log, shared by the request's trace record and
/// its plugin calls.
#[derive(Debug, Clone)]
pub struct PluginCallLog(Arc<Mutex<Log>>);

impl PluginCallLog {
    /// A log for the request that arrived at `origin`.
    pub fn new(origin: Instant) -> PluginCallLog {
        PluginCallLog(Arc::new(Mutex::new(Log {
            origin,
            attempt: 0,
            seen: PluginCallsSeen::default(),
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Log) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The index calls of plugin `name` `version` are recorded under.
    pub fn plugin(&self, name: &str, version: &str) -> u8 {
        self.with(|log| {
            let plugins = &mut log.seen.plugins;
            let found = plugins.iter().position(|(n, v)| n == name && v == version);
            let index = found.unwrap_or_else(|| {
                plugins.push((name.to_owned(), version.to_owned()));
                plugins.len() - 1
            });
            u8::try_from(index).unwrap_or(u8::MAX)
        })
    }

    /// Upstream attempt `number` (1-based) begins: later calls serve it.
    pub fn attempt_began(&self, number: u32) {
        self.with(|log| log.attempt = number);
    }

    /// Records a call of `plugin` that began at `started` and took `duration`.
    pub fn record(
        &self,
        plugin: u8,
        call: &'static str,
        started: Instant,
        duration: Duration,
        end: CallEnd,
    ) {
        self.with(|log| {
            let spans = &mut log.seen.spans;
            if spans.len() >= MAX_PLUGIN_CALL_SPANS {
                log.seen.dropped = log.seen.dropped.saturating_add(1);
                return;
            }
            if spans.capacity() == 0 {
                spans.reserve_exact(MAX_PLUGIN_CALL_SPANS);
            }
            spans.push(PluginCallSpan {
                call,
                plugin,
                attempt: log.attempt,
                start: started.saturating_duration_since(log.origin),
                duration,
                end,
            });
        });
    }

    /// The last call recorded returned the plugin's own error.
    pub fn refused(&self) {
        self.with(|log| {
            if log.seen.dropped == 0
                && let Some(last) = log.seen.spans.last_mut()
            {
                last.end = CallEnd::Refused;
            }
        });
    }

    /// What was recorded so far.
    pub fn seen(&self) -> PluginCallsSeen {
        self.with(|log| log.seen.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_past_the_cap_are_counted_not_kept() {
        let origin = Instant::now();
        let log = PluginCallLog::new(origin);
        let p = log.plugin("openai", "1.0.0");
        assert_eq!(log.plugin("openai", "1.0.0"), p);
        assert_eq!(log.plugin("openai", "2.0.0"), p + 1);
        for _ in 0..MAX_PLUGIN_CALL_SPANS {
            log.record(p, "feed", origin, Duration::ZERO, CallEnd::Ok);
        }
        let seen = log.seen();
        assert_eq!((seen.spans.len(), seen.dropped), (MAX_PLUGIN_CALL_SPANS, 0));
        log.record(p, "feed", origin, Duration::ZERO, CallEnd::Ok);
        log.record(p, "finish", origin, Duration::ZERO, CallEnd::Ok);
        let seen = log.seen();
        assert_eq!((seen.spans.len(), seen.dropped), (MAX_PLUGIN_CALL_SPANS, 2));
    }

    #[test]
    fn calls_name_the_attempt_under_way_and_a_refusal_marks_the_last() {
        let origin = Instant::now();
        let log = PluginCallLog::new(origin);
        log.record(0, "inspect", origin, Duration::ZERO, CallEnd::Ok);
        log.refused();
        log.attempt_began(2);
        let later = origin + Duration::from_millis(5);
        log.record(
            0,
            "classify",
            later,
            Duration::from_micros(7),
            CallEnd::Trap,
        );
        let seen = log.seen();
        assert_eq!(seen.spans[0].attempt, 0);
        assert_eq!(seen.spans[0].end, CallEnd::Refused);
        assert_eq!(seen.spans[1].attempt, 2);
        assert_eq!(seen.spans[1].start, Duration::from_millis(5));
        assert_eq!(seen.spans[1].end, CallEnd::Trap);
    }
}
