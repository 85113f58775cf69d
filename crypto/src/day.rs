//! Dates to the day: Meldpunt never records a time of day (PROTOCOL.md §5).

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Duration, Month};

/// A calendar day (UTC), written `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

impl Day {
    /// A day from year, month (1–12) and day of month; `None` if no such day exists.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, day).ok().map(Day)
    }

    /// The UTC day that contains the given Unix time; `None` outside the calendar.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        let epoch = Date::from_calendar_date(1970, Month::January, 1).ok()?;
        let days = seconds.div_euclid(86_400);
        if days.abs() > 8_000_000 {
            return None;
        }
        epoch.checked_add(Duration::days(days)).map(Day)
    }

    /// Today (UTC), from the system clock.
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(
        clippy::expect_used,
        reason = "any u64 seconds since 1970 / 86400 is a day within the calendar"
    )]
    pub fn today() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self::from_unix_seconds(secs).expect("the system clock is within the calendar")
    }

    /// Parses `YYYY-MM-DD` (exactly that form).
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = digits(0..4)?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        Self::from_ymd(year as i32, month as u8, day as u8)
    }

    /// This day plus `days` (which may be negative), saturating at the ends of the
    /// calendar (years -9999 and 9999) instead of overflowing.
    pub fn add_days(self, days: i64) -> Self {
        const LIMIT: i64 = 8_000_000; // more than the whole calendar's span
        let days = days.clamp(-LIMIT, LIMIT);
        Day(self
            .0
            .checked_add(Duration::days(days))
            .unwrap_or(if days > 0 { Date::MAX } else { Date::MIN }))
    }

    /// The same day of the month `months` later, or the month's last day if it is
    /// shorter (31 January + 1 month = 28 or 29 February).
    /// Saturates at the end of the calendar.
    pub fn add_months(self, months: u32) -> Self {
        let total = i64::from(self.0.year()) * 12 + i64::from(u8::from(self.0.month())) - 1
            + i64::from(months);
        let year = total.div_euclid(12);
        let Ok(year) = i32::try_from(year) else {
            return Day(Date::MAX);
        };
        #[allow(clippy::expect_used, reason = "rem_euclid(12) + 1 is always 1..=12")]
        let month = Month::try_from((total.rem_euclid(12) + 1) as u8).expect("1..=12");
        let day = self.0.day().min(month.length(year));
        Date::from_calendar_date(year, month, day)
            .map(Day)
            .unwrap_or(Day(Date::MAX))
    }

    /// Days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        (later.0 - self.0).whole_days()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text).ok_or_else(|| de::Error::custom("expected a date as YYYY-MM-DD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let d = Day::parse("2026-11-23").unwrap();
        assert_eq!(d.to_string(), "2026-11-23");
        assert!(Day::parse("2026-02-30").is_none());
        assert!(Day::parse("2026-1-23").is_none());
        assert!(Day::parse("2026-11-23T10:00").is_none());
        assert!(Day::parse("+026-11-23").is_none());
    }

    #[test]
    fn arithmetic() {
        let d = Day::parse("2026-11-28").unwrap();
        assert_eq!(d.add_days(7).to_string(), "2026-12-05");
        assert_eq!(
            Day::parse("2026-11-30").unwrap().add_months(3).to_string(),
            "2027-02-28"
        );
        assert_eq!(
            Day::parse("2027-11-30").unwrap().add_months(3).to_string(),
            "2028-02-29"
        );
        assert_eq!(d.days_until(d.add_days(-3)), -3);
        assert_eq!(Day::from_unix_seconds(0).unwrap().to_string(), "1970-01-01");
        assert_eq!(
            Day::from_unix_seconds(-1).unwrap().to_string(),
            "1969-12-31"
        );
    }

    #[test]
    fn extremes_saturate_instead_of_panicking() {
        let d = Day::parse("2026-11-23").unwrap();
        assert!(d.add_days(i64::MAX) > d);
        assert!(d.add_days(i64::MIN) < d);
        assert!(d.add_months(u32::MAX) > d);
        assert!(Day::from_unix_seconds(i64::MAX).is_none());
        assert!(Day::from_unix_seconds(i64::MIN).is_none());
        assert!(d.days_until(d.add_days(i64::MAX)) > 0);
    }
}
