//! Fixed counting windows: a second (QPS), a minute, and a day that starts
//! at midnight in the operator's time zone.

use chrono::{DateTime, FixedOffset, Utc};

/// The span a counter counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Second,
    Minute,
    /// A calendar day at this offset from UTC.
    Day(FixedOffset),
}

impl Window {
    /// The window `now` falls in: its index (part of the counter's name)
    /// and the seconds until it ends (at least 1).
    pub fn locate(self, now: DateTime<Utc>) -> (i64, u64) {
        let seconds = now.timestamp();
        let (length, shifted) = match self {
            Window::Second => (1, seconds),
            Window::Minute => (60, seconds),
            Window::Day(offset) => (86_400, seconds + i64::from(offset.local_minus_utc())),
        };
        let index = shifted.div_euclid(length);
        let left = length - shifted.rem_euclid(length);
        (index, u64::try_from(left).unwrap_or(1).max(1))
    }

    pub fn tag(self) -> &'static str {
        match self {
            Window::Second => "s",
            Window::Minute => "m",
            Window::Day(_) => "d",
        }
    }
}

/// Parses `UTC`, `Z` or a fixed offset such as `+08:00` / `-05:30`.
pub fn parse_offset(value: &str) -> Option<FixedOffset> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("utc") || value == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match value.as_bytes().first()? {
        b'+' => (1, &value[1..]),
        b'-' => (-1, &value[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_day_window_turns_at_local_midnight() {
        let tz = parse_offset("+08:00").expect("offset");
        // 15:59:59 UTC is 23:59:59 at +08:00: one second left in the day.
        let before = Utc.with_ymd_and_hms(2026, 11, 26, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 26, 16, 0, 0).unwrap();
        let (day_a, left_a) = Window::Day(tz).locate(before);
        let (day_b, left_b) = Window::Day(tz).locate(after);
        assert_eq!((day_b - day_a, left_a, left_b), (1, 1, 86_400));
        let (utc_a, _) = Window::Day(parse_offset("UTC").unwrap()).locate(before);
        let (utc_b, _) = Window::Day(parse_offset("UTC").unwrap()).locate(after);
        assert_eq!(utc_a, utc_b, "still the same day in UTC");
    }

    #[test]
    fn minute_and_second_windows_report_time_left() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 45).unwrap();
        assert_eq!(Window::Minute.locate(t).1, 15);
        assert_eq!(Window::Second.locate(t).1, 1);
    }

    #[test]
    fn offsets_parse_within_bounds_only() {
        assert_eq!(
            parse_offset("-05:30").map(|o| o.local_minus_utc()),
            Some(-19_800)
        );
        assert_eq!(
            parse_offset("+14:00").map(|o| o.local_minus_utc()),
            Some(50_400)
        );
        for bad in ["+15:00", "08:00", "+8:60", "Europe/Paris", ""] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }
}
