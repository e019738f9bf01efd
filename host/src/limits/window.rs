//! Fixed counting windows: a second (QPS), a minute, a day that starts
//! at midnight in the operator's time zone, and a calendar month in that
//! time zone (for budgets).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// The span a counter counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Second,
    Minute,
    /// A calendar day at this offset from UTC.
    Day(FixedOffset),
    /// A calendar month at this offset from UTC.
    Month(FixedOffset),
}

impl Window {
    /// The window `now` falls in: its index (part of the counter's name)
    /// and the seconds until it ends (at least 1).
    pub fn locate(self, now: DateTime<Utc>) -> (i64, u64) {
        let seconds = now.timestamp();
        if let Window::Month(offset) = self {
            return month_of(now, offset);
        }
        let (length, shifted) = match self {
            Window::Second => (1, seconds),
            Window::Minute => (60, seconds),
            Window::Day(offset) | Window::Month(offset) => {
                (86_400, seconds + i64::from(offset.local_minus_utc()))
            }
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
            Window::Month(_) => "mo",
        }
    }

    /// The window `now` falls in as people write it: `2026-12-05` for a
    /// day, `2026-12` for a month (in the window's time zone).
    pub fn label(self, now: DateTime<Utc>) -> String {
        match self {
            Window::Second | Window::Minute => self.locate(now).0.to_string(),
            Window::Day(offset) => now.with_timezone(&offset).format("%Y-%m-%d").to_string(),
            Window::Month(offset) => now.with_timezone(&offset).format("%Y-%m").to_string(),
        }
    }

    /// The instant the window `now` falls in began.
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let (length, left) = match self {
            Window::Second => (1, self.locate(now).1),
            Window::Minute => (60, self.locate(now).1),
            Window::Day(_) => (86_400, self.locate(now).1),
            Window::Month(offset) => {
                let local = now.with_timezone(&offset).date_naive();
                let first = local.with_day(1).unwrap_or(local);
                return local_midnight(first, offset);
            }
        };
        let end = now.timestamp() + i64::try_from(left).unwrap_or(0);
        DateTime::from_timestamp(end - length, 0).unwrap_or(now)
    }
}

/// The UTC instant of midnight starting `day` at `offset`.
fn local_midnight(day: NaiveDate, offset: FixedOffset) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    midnight - chrono::Duration::seconds(i64::from(offset.local_minus_utc()))
}

/// The calendar month `now` falls in at `offset`: its index (months since
/// year 0) and the seconds until it ends (at least 1).
fn month_of(now: DateTime<Utc>, offset: FixedOffset) -> (i64, u64) {
    let local = now.with_timezone(&offset).date_naive();
    let index = i64::from(local.year()) * 12 + i64::from(local.month0());
    let (year, month) = if local.month() == 12 {
        (local.year() + 1, 1)
    } else {
        (local.year(), local.month() + 1)
    };
    let left = NaiveDate::from_ymd_opt(year, month, 1)
        .map_or(1, |next| (local_midnight(next, offset) - now).num_seconds());
    (index, u64::try_from(left).unwrap_or(1).max(1))
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
    fn a_month_window_turns_at_local_midnight_of_the_first() {
        let tz = parse_offset("+08:00").expect("offset");
        // 2026-11-30 15:59:59 UTC is 23:59:59 on the last day of November at +08:00.
        let before = Utc.with_ymd_and_hms(2026, 11, 30, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap();
        let (a, left_a) = Window::Month(tz).locate(before);
        let (b, left_b) = Window::Month(tz).locate(after);
        assert_eq!((b - a, left_a), (1, 1));
        assert_eq!(left_b, 31 * 86_400, "December has 31 days");
        assert_eq!(Window::Month(tz).label(before), "2026-11");
        assert_eq!(Window::Month(tz).label(after), "2026-12");
        assert_eq!(Window::Month(tz).start(after), after);
        assert_eq!(
            Window::Month(tz).start(before),
            Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap()
        );
        let utc = parse_offset("UTC").unwrap();
        assert_eq!(
            Window::Month(utc).locate(before).0,
            a,
            "still November in UTC"
        );
        let december = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(Window::Month(utc).locate(december).1, 1, "a year turns too");
        assert_eq!(Window::Day(tz).label(after), "2026-12-01");
        assert_eq!(
            Window::Day(tz).start(after + chrono::Duration::seconds(5)),
            after
        );
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
