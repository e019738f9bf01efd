//! The one way configuration is read: a typed reader over an environment
//! lookup, whose every refusal is a [`ConfigError`] naming the variable and
//! what it must be.
//!
//! Numbers and durations go through a [`Setting`]:
//! `env.secs("AI_PROXY_X").range(1..=60).default(DEFAULT_X)`. Unset (or
//! blank) means the default; a value that is not of the variable's kind or
//! lies outside its range is refused, never clamped, and the message states
//! the range in the variable's own unit. Secrets are read as [`Secret`] and
//! their values never appear in an error; URLs appear without passwords.

use std::fmt;
use std::ops::{RangeFrom, RangeInclusive, RangeToInclusive};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::secrets::Secret;

use crate::secrets::redact_url;

/// What an error shows in place of a secret's value.
pub const REDACTED: &str = "[REDACTED]";

/// Bytes in a MiB, the unit of the memory variables.
const MIB: usize = 1 << 20;

/// A configuration value that cannot be used: which variable, what it was
/// (never a secret's value) and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    problem: Problem,
}

impl ConfigError {
    pub(crate) fn new(name: &'static str, value: impl Into<String>, problem: Problem) -> Self {
        ConfigError {
            name,
            value: value.into(),
            problem,
        }
    }

    /// The variable at fault.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not a number of the variable's kind, or outside its range.
    #[error("must be {0}")]
    Outside(Allowed),
    /// Not of the form the variable takes.
    #[error("must be {0}")]
    Form(String),
    /// A secret shorter than the least accepted.
    #[error("must be at least {min_bytes} bytes")]
    TooShort { min_bytes: usize },
    /// One of two variables that go together, set without the other.
    #[error("is required when {other} is set")]
    Unpaired { other: &'static str },
    /// A file the variable names cannot be used.
    #[error("{0}")]
    Unusable(&'static str),
}

/// What a numeric variable accepts: its kind and bounds, in its own unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub kind: &'static str,
    pub min: Option<String>,
    pub max: Option<String>,
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.min, &self.max) {
            (Some(min), Some(max)) => write!(f, "{} between {min} and {max}", self.kind),
            (Some(min), None) => write!(f, "{}, at least {min}", self.kind),
            (None, Some(max)) => write!(f, "{}, at most {max}", self.kind),
            (None, None) => f.write_str(self.kind),
        }
    }
}

/// A number type a variable can hold.
pub trait Number: FromStr + fmt::Display + PartialOrd + Copy {
    /// How the kind is named in an error.
    const KIND: &'static str;
}

macro_rules! whole_numbers {
    ($($t:ty),*) => { $(impl Number for $t { const KIND: &'static str = "a whole number"; })* };
}
whole_numbers!(u32, u64, usize);

impl Number for f64 {
    const KIND: &'static str = "a number";
}

/// The bounds a range gives; only inclusive ranges, so that the message
/// can say "between", "at least" or "at most" exactly.
pub trait Inclusive<T> {
    fn bounds(self) -> (Option<T>, Option<T>);
}

impl<T> Inclusive<T> for RangeInclusive<T> {
    fn bounds(self) -> (Option<T>, Option<T>) {
        let (min, max) = self.into_inner();
        (Some(min), Some(max))
    }
}

impl<T> Inclusive<T> for RangeFrom<T> {
    fn bounds(self) -> (Option<T>, Option<T>) {
        (Some(self.start), None)
    }
}

impl<T> Inclusive<T> for RangeToInclusive<T> {
    fn bounds(self) -> (Option<T>, Option<T>) {
        (None, Some(self.end))
    }
}

/// How a variable's text becomes a value and back, for messages.
#[derive(Clone, Copy)]
struct Unit<T> {
    kind: &'static str,
    parse: fn(&str) -> Option<T>,
    show: fn(&T) -> String,
}

/// One numeric variable being read; finish with [`Setting::default`].
#[must_use = "a setting is only read by `default`"]
pub struct Setting<T> {
    name: &'static str,
    raw: Option<String>,
    unit: Unit<T>,
    min: Option<T>,
    max: Option<T>,
}

impl<T: PartialOrd + Copy> Setting<T> {
    /// The values accepted (the default included).
    pub fn range(mut self, range: impl Inclusive<T>) -> Self {
        (self.min, self.max) = range.bounds();
        self
    }

    /// The value: `default` when unset, else the variable's, if of the
    /// right kind and within the range.
    pub fn default(self, default: T) -> Result<T, ConfigError> {
        let value = match &self.raw {
            None => default,
            Some(raw) => (self.unit.parse)(raw).ok_or_else(|| self.refuse(raw.clone()))?,
        };
        let above_min = self.min.is_none_or(|min| value >= min);
        let below_max = self.max.is_none_or(|max| value <= max);
        if above_min && below_max {
            Ok(value)
        } else {
            let shown = self.raw.clone().unwrap_or_else(|| (self.unit.show)(&value));
            Err(self.refuse(shown))
        }
    }

    fn refuse(&self, value: String) -> ConfigError {
        let allowed = Allowed {
            kind: self.unit.kind,
            min: self.min.as_ref().map(self.unit.show),
            max: self.max.as_ref().map(self.unit.show),
        };
        ConfigError::new(self.name, value, Problem::Outside(allowed))
    }
}

/// Reads variables from a name → value lookup (the process environment,
/// or a map in tests). Blank values count as unset.
pub struct Env<'a> {
    get: Box<Lookup<'a>>,
}

/// A name → value lookup.
type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl<'a> Env<'a> {
    pub fn new(get: impl Fn(&str) -> Option<String> + 'a) -> Env<'a> {
        Env { get: Box::new(get) }
    }

    /// The variable's text as given; none when unset or blank.
    fn raw(&self, name: &'static str) -> Option<String> {
        (self.get)(name).filter(|v| !v.trim().is_empty())
    }

    /// The variable's text, trimmed; none when unset or blank.
    pub fn text(&self, name: &'static str) -> Option<String> {
        self.raw(name).map(|v| v.trim().to_owned())
    }

    /// The variable as a path.
    pub fn path(&self, name: &'static str) -> Option<PathBuf> {
        self.text(name).map(PathBuf::from)
    }

    /// A secret of at least `min_bytes`, exactly as given (blanks are
    /// part of a password); its value is never shown.
    pub fn secret(
        &self,
        name: &'static str,
        min_bytes: usize,
    ) -> Result<Option<Secret>, ConfigError> {
        match self.raw(name) {
            Some(value) if value.len() < min_bytes => Err(ConfigError::new(
                name,
                REDACTED,
                Problem::TooShort { min_bytes },
            )),
            value => Ok(value.map(Secret::new)),
        }
    }

    /// A plain number (`T` says which kind).
    pub fn num<T: Number>(&self, name: &'static str) -> Setting<T> {
        self.setting(
            name,
            Unit {
                kind: T::KIND,
                parse: |s| s.parse().ok(),
                show: |v| v.to_string(),
            },
        )
    }

    /// A duration given in whole seconds.
    pub fn secs(&self, name: &'static str) -> Setting<Duration> {
        self.setting(
            name,
            Unit {
                kind: "a number of seconds",
                parse: |s| s.parse().ok().map(Duration::from_secs),
                show: |d| d.as_secs().to_string(),
            },
        )
    }

    /// A duration given in whole milliseconds.
    pub fn millis(&self, name: &'static str) -> Setting<Duration> {
        self.setting(
            name,
            Unit {
                kind: "a number of milliseconds",
                parse: |s| s.parse().ok().map(Duration::from_millis),
                show: |d| d.as_millis().to_string(),
            },
        )
    }

    /// A size in bytes, given in whole MiB (bounds are in bytes too).
    pub fn mib(&self, name: &'static str) -> Setting<usize> {
        self.setting(
            name,
            Unit {
                kind: "a number of MiB",
                parse: |s| s.parse::<usize>().ok().and_then(|m| m.checked_mul(MIB)),
                show: |b| (b / MIB).to_string(),
            },
        )
    }

    fn setting<T>(&self, name: &'static str, unit: Unit<T>) -> Setting<T> {
        Setting {
            name,
            raw: self.text(name),
            unit,
            min: None,
            max: None,
        }
    }

    /// One of a few words, each standing for a value.
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        options: &[(&'static str, T)],
        default: T,
    ) -> Result<T, ConfigError> {
        let Some(raw) = self.text(name) else {
            return Ok(default);
        };
        match options.iter().find(|(word, _)| *word == raw) {
            Some((_, value)) => Ok(*value),
            None => {
                let words: Vec<&str> = options.iter().map(|(word, _)| *word).collect();
                let form = format!("one of {}", words.join(", "));
                Err(ConfigError::new(name, raw, Problem::Form(form)))
            }
        }
    }

    /// A comma-separated list (blank items skipped) of `form`.
    pub fn list<T: FromStr>(
        &self,
        name: &'static str,
        form: &'static str,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(raw) = self.text(name) else {
            return Ok(Vec::new());
        };
        let items = raw.split(',').map(str::trim).filter(|s| !s.is_empty());
        items
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| ConfigError::new(name, raw.clone(), Problem::Form(form.into())))
    }

    /// A value of `form` read by `parse`; the value is echoed on refusal.
    pub fn parsed<T>(
        &self,
        name: &'static str,
        form: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        self.parsed_shown(name, form, parse, str::to_owned)
    }

    /// Like [`Env::parsed`] for a URL, echoed without its password.
    pub fn url<T>(
        &self,
        name: &'static str,
        form: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        self.parsed_shown(name, form, parse, redact_url)
    }

    fn parsed_shown<T>(
        &self,
        name: &'static str,
        form: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
        show: fn(&str) -> String,
    ) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        match parse(&raw) {
            Some(value) => Ok(Some(value)),
            None => Err(ConfigError::new(
                name,
                show(&raw),
                Problem::Form(form.into()),
            )),
        }
    }
}

/// An [`Env`] over fixed pairs, for tests.
#[cfg(test)]
pub fn pairs(vars: &[(&str, &str)]) -> Env<'static> {
    let vars: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Env::new(move |name| vars.get(name).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_read_within_its_range_and_refused_outside_it() {
        let read = |v: &str| pairs(&[("N", v)]).num::<u32>("N").range(2..=5).default(3);
        assert_eq!(read("2"), Ok(2));
        assert_eq!(read(" 5 "), Ok(5), "surrounding blanks are ignored");
        let err = read("6").expect_err("above");
        assert_eq!(
            err.to_string(),
            "invalid configuration: N=\"6\": must be a whole number between 2 and 5"
        );
        assert_eq!(err.name(), "N");
        assert!(read("1").is_err());
        assert!(read("-3").is_err());
        let garbage = read("three").expect_err("garbage");
        assert!(
            matches!(garbage.problem(), Problem::Outside(_)),
            "{garbage}"
        );
        assert_eq!(pairs(&[]).num::<u32>("N").range(2..=5).default(3), Ok(3));
        assert_eq!(read(""), Ok(3), "blank is unset");
    }

    #[test]
    fn durations_and_sizes_are_bounded_in_their_own_unit() {
        let env = pairs(&[("S", "61"), ("M", "49"), ("B", "3")]);
        let secs = env
            .secs("S")
            .range(..=Duration::from_secs(60))
            .default(Duration::ZERO);
        assert!(
            secs.expect_err("over")
                .to_string()
                .ends_with("a number of seconds, at most 60")
        );
        let ms = env
            .millis("M")
            .range(Duration::from_millis(50)..)
            .default(Duration::ZERO);
        assert!(
            ms.expect_err("under")
                .to_string()
                .ends_with("a number of milliseconds, at least 50")
        );
        assert_eq!(env.mib("B").range(MIB..=4 * MIB).default(MIB), Ok(3 * MIB));
        let huge_mib = usize::MAX.to_string();
        let huge = pairs(&[("B", huge_mib.as_str())]).mib("B").default(MIB);
        assert!(huge.is_err(), "overflowing MiB are refused, not wrapped");
    }

    #[test]
    fn a_default_outside_the_range_is_refused_too() {
        let err = pairs(&[])
            .num::<u64>("N")
            .range(1..)
            .default(0)
            .expect_err("0");
        assert!(err.to_string().contains("N=\"0\""), "{err}");
    }

    #[test]
    fn secrets_are_never_echoed() {
        let err = pairs(&[("K", "short")]).secret("K", 6).expect_err("short");
        assert!(!err.to_string().contains("short"), "{err}");
        assert_eq!(err.problem(), &Problem::TooShort { min_bytes: 6 });
        let ok = pairs(&[("K", "sixsix")]).secret("K", 6).expect("6 bytes");
        assert_eq!(ok.map(|s| s.expose().to_owned()), Some("sixsix".into()));
    }

    #[test]
    fn choices_and_lists_name_their_form() {
        let env = pairs(&[("C", "maybe"), ("L", "1, 2,,3"), ("X", "1,x")]);
        let err = env
            .choice("C", &[("yes", true), ("no", false)], true)
            .expect_err("maybe");
        assert!(err.to_string().ends_with("must be one of yes, no"), "{err}");
        assert_eq!(env.list::<u8>("L", "numbers"), Ok(vec![1, 2, 3]));
        assert!(env.list::<u8>("X", "numbers").is_err());
        assert_eq!(env.list::<u8>("unset", "numbers"), Ok(vec![]));
    }

    #[test]
    fn a_refused_url_is_echoed_without_its_password() {
        let env = pairs(&[("U", "http://me:hunter2@host/")]);
        let err = env.url("U", "a URL", |_| None::<()>).expect_err("refused");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
