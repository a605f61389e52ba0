//! A civil date in Beijing (Asia/Shanghai, UTC+8 without daylight saving; DESIGN.md principle 9).
//!
//! Working days are counted per local date, so the calendar needs dates rather than instants. The
//! arithmetic is the proleptic Gregorian day count of `when.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::calendar::CalendarError;
use crate::when::{DAY_MS, OFFSET_MS, civil_from_days, days_from_civil, days_in_month};

/// Years a typed date may have; anything else is taken for a typo.
const TYPED_YEARS: std::ops::RangeInclusive<i64> = 1900..=2200;

const FORMAT_HINT: &str = "日期格式应为 YYYY-MM-DD，例如 2027-02-05";

/// A local date. Ordered chronologically; serialised as "YYYY-MM-DD".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    y: i32,
    m: u8,
    d: u8,
}

impl Date {
    /// The date, if the month has that day.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(i64::from(year), month);
        let m = u8::try_from(month).ok()?;
        let d = u8::try_from(day).ok()?;
        valid.then_some(Date { y: year, m, d })
    }

    /// Parses "YYYY-MM-DD" as typed (surrounding spaces allowed), years 1900–2200.
    pub fn parse(raw: &str) -> Result<Date, CalendarError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(CalendarError::new("请填写日期"));
        }
        let parts: Vec<&str> = s.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(CalendarError::new(FORMAT_HINT));
        };
        let well_formed = y.len() == 4
            && (1..=2).contains(&m.len())
            && (1..=2).contains(&d.len())
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return Err(CalendarError::new(FORMAT_HINT));
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return Err(CalendarError::new(FORMAT_HINT));
        };
        if !TYPED_YEARS.contains(&i64::from(y)) {
            return Err(CalendarError::new("年份应在1900至2200之间"));
        }
        if !(1..=12).contains(&m) {
            return Err(CalendarError::new("月份应在1至12之间"));
        }
        Date::new(y, m, d).ok_or_else(|| CalendarError::new(format!("{y}年{m}月没有{d}日")))
    }

    /// The Beijing date of an instant (milliseconds since the Unix epoch).
    pub fn from_ms(ms: i64) -> Date {
        Date::from_days(ms.saturating_add(OFFSET_MS).div_euclid(DAY_MS))
    }

    /// Midnight at the start of this date in Beijing, as epoch milliseconds.
    pub fn start_ms(self) -> i64 {
        self.days().saturating_mul(DAY_MS).saturating_sub(OFFSET_MS)
    }

    pub fn year(self) -> i32 {
        self.y
    }

    pub fn month(self) -> u32 {
        u32::from(self.m)
    }

    pub fn day(self) -> u32 {
        u32::from(self.d)
    }

    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    pub fn iso_weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (4).
        let from_monday = (self.days() + 3).rem_euclid(7);
        u32::try_from(from_monday).map_or(1, |w| w + 1)
    }

    /// Saturday or Sunday: a rest day unless the calendar says otherwise.
    pub fn is_weekend(self) -> bool {
        self.iso_weekday() >= 6
    }

    /// The date `n` days later (earlier if negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days().saturating_add(n))
    }

    pub fn next(self) -> Date {
        self.add_days(1)
    }

    /// Days since 1970-01-01.
    pub(crate) fn days(self) -> i64 {
        days_from_civil(i64::from(self.y), u32::from(self.m), u32::from(self.d))
    }

    pub(crate) fn from_days(days: i64) -> Date {
        let (y, m, d) = civil_from_days(days);
        // Any i64 instant or day count the calendar produces stays far inside i32 years; clamp anyway.
        let y = i32::try_from(y).unwrap_or(if y < 0 { i32::MIN } else { i32::MAX });
        Date { y, m: u8::try_from(m).unwrap_or(1), d: u8::try_from(d).unwrap_or(1) }
    }
}

/// Minutes since local midnight in Beijing of an instant (0–1439).
pub(crate) fn minute_of_day(ms: i64) -> i64 {
    ms.saturating_add(OFFSET_MS).rem_euclid(DAY_MS) / 60_000
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

impl FromStr for Date {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Date, CalendarError> {
        Date::parse(s)
    }
}

impl TryFrom<String> for Date {
    type Error = CalendarError;
    fn try_from(s: String) -> Result<Date, CalendarError> {
        Date::parse(&s)
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(date("2024-02-10").to_string(), "2024-02-10");
        assert_eq!(date(" 2027-2-5 ").to_string(), "2027-02-05");
        assert_eq!(date("2024-02-29"), Date { y: 2024, m: 2, d: 29 });
    }

    #[test]
    fn refuses_bad_dates_with_reasons() {
        let msg = |s: &str| Date::parse(s).map_err(|e| e.message);
        assert_eq!(msg(""), Err("请填写日期".to_owned()));
        for bad in ["2024/02/10", "20240210", "24-02-10", "2024-002-10", "2024-0a-10", "２０２４-02-10", "2024-02-10-1"]
        {
            assert_eq!(msg(bad), Err(FORMAT_HINT.to_owned()), "{bad}");
        }
        assert_eq!(msg("2023-02-29"), Err("2023年2月没有29日".to_owned()));
        assert_eq!(msg("2023-13-01"), Err("月份应在1至12之间".to_owned()));
        assert_eq!(msg("2023-00-01"), Err("月份应在1至12之间".to_owned()));
        assert_eq!(msg("2023-04-00"), Err("2023年4月没有0日".to_owned()));
        assert_eq!(msg("1899-12-31"), Err("年份应在1900至2200之间".to_owned()));
    }

    #[test]
    fn weekdays_are_iso() {
        assert_eq!(date("1970-01-01").iso_weekday(), 4);
        assert_eq!(date("2024-02-10").iso_weekday(), 6);
        assert_eq!(date("2024-02-04").iso_weekday(), 7);
        assert_eq!(date("2026-11-30").iso_weekday(), 1);
        assert!(date("2024-02-10").is_weekend());
        assert!(!date("2024-02-09").is_weekend());
    }

    #[test]
    fn instants_map_to_beijing_dates() {
        // 2026-11-26T15:59:59.999Z is 23:59:59.999 in Beijing; one millisecond later is the next day.
        let ms = date("2026-11-27").start_ms();
        assert_eq!(ms, 1_795_737_600_000 - 8 * 3_600_000);
        assert_eq!(Date::from_ms(ms - 1), date("2026-11-26"));
        assert_eq!(Date::from_ms(ms), date("2026-11-27"));
        assert_eq!(minute_of_day(ms + 17 * 3_600_000), 17 * 60);
        assert_eq!(Date::from_ms(0), date("1970-01-01"));
        // Extremes do not panic.
        let _ = (Date::from_ms(i64::MIN), Date::from_ms(i64::MAX), minute_of_day(i64::MIN));
    }

    #[test]
    fn arithmetic_crosses_months_and_years() {
        assert_eq!(date("2024-12-31").next(), date("2025-01-01"));
        assert_eq!(date("2024-02-28").next(), date("2024-02-29"));
        assert_eq!(date("2025-03-01").add_days(-1), date("2025-02-28"));
    }

    #[test]
    fn serde_uses_the_text_form() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StringDeserializer};
        let de: StringDeserializer<Error> = "2024-02-10".to_owned().into_deserializer();
        assert_eq!(Date::deserialize(de), Ok(date("2024-02-10")));
        let de: StringDeserializer<Error> = "2024-02-30".to_owned().into_deserializer();
        assert!(Date::deserialize(de).is_err());
    }

    proptest! {
        #[test]
        fn text_and_day_count_round_trip(days in -25_567i64..84_000) {
            let d = Date::from_days(days);
            prop_assert_eq!(d.days(), days);
            prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
            prop_assert_eq!(Date::from_ms(d.start_ms()), d);
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Date::parse(&raw);
        }
    }
}
