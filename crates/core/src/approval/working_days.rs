//! A number of working days (工作日), as the time limits of the service guide are written
//! (法定办结时限, 承诺办结时限; 《行政许可法》第八十二条: limits count working days, not holidays).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::calendar::CalendarError;

/// A time limit of 0 (当场办结, decided on the spot) to 365 working days. A year of working days is
/// far beyond any statutory limit (the whole construction-project approval target is 120), so a larger
/// number is a typo. Serialised as the bare number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct WorkingDays(u16);

const RANGE_HINT: &str = "工作日数应为0至365之间的整数，例如 20";

impl WorkingDays {
    pub const ZERO: WorkingDays = WorkingDays(0);
    pub const MAX: WorkingDays = WorkingDays(365);

    /// `None` above [`WorkingDays::MAX`].
    pub fn new(n: u32) -> Option<WorkingDays> {
        u16::try_from(n).ok().filter(|n| *n <= WorkingDays::MAX.0).map(WorkingDays)
    }

    /// Parses a count as typed: ASCII digits, optionally followed by 工作日 or 个工作日.
    pub fn parse(raw: &str) -> Result<WorkingDays, CalendarError> {
        let s = raw.trim();
        let s = s.strip_suffix("个工作日").or_else(|| s.strip_suffix("工作日")).unwrap_or(s).trim();
        if s.is_empty() {
            return Err(CalendarError::new("请填写工作日数"));
        }
        if s.starts_with('-') {
            return Err(CalendarError::new("工作日数不能为负数"));
        }
        if s.chars().any(|c| ('０'..='９').contains(&c)) {
            return Err(CalendarError::new("工作日数请使用半角数字"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CalendarError::new(RANGE_HINT));
        }
        let too_many = || CalendarError::new("工作日数不能超过365");
        s.parse::<u32>().ok().and_then(WorkingDays::new).ok_or_else(too_many)
    }

    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

/// "20个工作日".
impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}个工作日", self.0)
    }
}

impl FromStr for WorkingDays {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<WorkingDays, CalendarError> {
        WorkingDays::parse(s)
    }
}

impl TryFrom<u32> for WorkingDays {
    type Error = CalendarError;
    fn try_from(n: u32) -> Result<WorkingDays, CalendarError> {
        WorkingDays::new(n).ok_or_else(|| CalendarError::new("工作日数不能超过365"))
    }
}

impl From<WorkingDays> for u32 {
    fn from(n: WorkingDays) -> u32 {
        n.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<u32, String> {
        WorkingDays::parse(s).map(WorkingDays::get).map_err(|e| e.message)
    }

    #[test]
    fn parses_counts_as_typed() {
        assert_eq!(parse("20"), Ok(20));
        assert_eq!(parse(" 0 "), Ok(0));
        assert_eq!(parse("365"), Ok(365));
        assert_eq!(parse("15个工作日"), Ok(15));
        assert_eq!(parse("7 工作日"), Ok(7));
        assert_eq!(parse("007"), Ok(7));
    }

    #[test]
    fn refuses_bad_counts_with_reasons() {
        assert_eq!(parse(""), Err("请填写工作日数".to_owned()));
        assert_eq!(parse("个工作日"), Err("请填写工作日数".to_owned()));
        assert_eq!(parse("-1"), Err("工作日数不能为负数".to_owned()));
        assert_eq!(parse("２０"), Err("工作日数请使用半角数字".to_owned()));
        for bad in ["20天", "1.5", "+3", "1e2", "abc", "2 0"] {
            assert_eq!(parse(bad), Err(RANGE_HINT.to_owned()), "{bad}");
        }
        assert_eq!(parse("366"), Err("工作日数不能超过365".to_owned()));
        assert_eq!(parse("99999999999999999999"), Err("工作日数不能超过365".to_owned()));
    }

    #[test]
    fn displays_and_converts() {
        assert_eq!(WorkingDays::new(20).map(|n| n.to_string()), Some("20个工作日".to_owned()));
        assert_eq!(WorkingDays::new(366), None);
        assert_eq!(WorkingDays::try_from(365), Ok(WorkingDays::MAX));
        assert!(WorkingDays::try_from(366).is_err());
        assert_eq!(u32::from(WorkingDays::ZERO), 0);
    }

    proptest! {
        #[test]
        fn parse_inverts_display(n in 0u32..=365) {
            let w = WorkingDays::new(n);
            prop_assert_eq!(w.map(|w| WorkingDays::parse(&w.to_string())), w.map(Ok));
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = WorkingDays::parse(&raw);
        }
    }
}
