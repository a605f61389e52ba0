//! Settlement periods (months), the tax period (税款所属期) of a ledger row, and dated validity.
//!
//! Sharing is settled per month. Tax-bureau exports give the tax period as two dates (税款所属期起 /
//! 税款所属期止, e.g. 2022-01-01 and 2022-01-31) or as one range; a quarterly or yearly return covers
//! several months, so a range is kept as [`TaxPeriod`] and only its last month settles (see
//! [`TaxPeriod::settlement_period`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{RevenueError, shown};

/// Years accepted from input: a sanity bound against typos such as 20222, not a business rule.
const YEARS: std::ops::RangeInclusive<u32> = 1990..=2199;

const PERIOD_HINT: &str = "应为年月，例如 2022-01、2022年1月、202201，或所属期 2022-01-01至2022-01-31";

/// A calendar month, e.g. 2022-01. Ordered by time; displayed and serialised as "2022-01".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(u32);

/// A calendar date, only to read the tax bureau's 所属期 dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Date {
    year: u32,
    month: u32,
    day: u32,
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        _ => 28,
    }
}

fn number(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Year and month from "2022-01", "2022-1", "2022/01", "2022.01", "2022年1月(份)" or "202201".
fn year_month(s: &str) -> Option<(u32, u32)> {
    if let Some(rest) = s.strip_suffix('份').unwrap_or(s).strip_suffix('月') {
        let (y, m) = rest.split_once('年')?;
        return Some((number(y)?, number(m)?));
    }
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some((number(s.get(..4)?)?, number(s.get(4..)?)?));
    }
    let (y, m) = s.split_once(['-', '/', '.'])?;
    (y.len() == 4).then_some(())?;
    Some((number(y)?, number(m)?))
}

/// A date from "2022-01-31", "2022/1/31", "2022.01.31", "2022年1月31日" or "20220131", optionally
/// followed by a time of day (spreadsheet date cells often read as "2022-01-31 00:00:00").
fn date(s: &str) -> Option<Date> {
    let s = s.split_once(' ').map_or(s, |(d, _time)| d);
    let (year, month, day) = if let Some(rest) = s.strip_suffix('日') {
        let (y, md) = rest.split_once('年')?;
        let (m, d) = md.split_once('月')?;
        (number(y)?, number(m)?, number(d)?)
    } else if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (number(s.get(..4)?)?, number(s.get(4..6)?)?, number(s.get(6..)?)?)
    } else {
        let mut parts = s.split(['-', '/', '.']);
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        (parts.next().is_none() && y.len() == 4).then_some(())?;
        (number(y)?, number(m)?, number(d)?)
    };
    (YEARS.contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
        .then_some(Date { year, month, day })
}

/// Splits "A至B", "A~B", "A～B", "A—B", "A到B", "A - B" or "20220101-20220131" into its two ends.
fn range(s: &str) -> Option<(&str, &str)> {
    for sep in ["至", "~", "～", "—", "到", " - ", "--"] {
        if let Some((a, b)) = s.split_once(sep) {
            return Some((a.trim(), b.trim()));
        }
    }
    let (a, b) = s.split_once('-')?;
    (a.len() == 8 && b.len() == 8).then_some((a, b))
}

impl Period {
    /// A month of a year; the year must lie in 1990–2199.
    pub fn new(year: u32, month: u32) -> Result<Period, RevenueError> {
        if !YEARS.contains(&year) {
            return Err(RevenueError::new(format!("年份 {year} 超出范围（1990–2199）")));
        }
        if !(1..=12).contains(&month) {
            return Err(RevenueError::new(format!("月份 {month} 不正确，应为 1–12")));
        }
        Ok(Period(year * 12 + month - 1))
    }

    /// Parses a month as people and the tax system write it: "2022-01", "2022年1月", "202201", a date
    /// ("2022-01-31") or a tax-period range lying within one month ("2022-01-01至2022-01-31"). A range
    /// over several months is refused here; read it with [`TaxPeriod::parse`].
    pub fn parse(raw: &str) -> Result<Period, RevenueError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(RevenueError::new("请填写所属期"));
        }
        let tax_period = TaxPeriod::parse(s)?;
        if tax_period.from != tax_period.to {
            return Err(RevenueError::new(format!("所属期“{}”跨越多个月份，应在一个月之内", shown(s))));
        }
        Ok(tax_period.to)
    }

    pub fn year(self) -> u32 {
        self.0 / 12
    }

    pub fn month(self) -> u32 {
        self.0 % 12 + 1
    }

    /// The following month.
    pub fn next(self) -> Period {
        Period(self.0.saturating_add(1))
    }

    /// The month before, or `None` before January 1990 (the first month [`Period::new`] accepts).
    pub fn previous(self) -> Option<Period> {
        let p = Period(self.0.checked_sub(1)?);
        YEARS.contains(&p.year()).then_some(p)
    }

    /// The first month accepted (1990-01), from which an open-ended history starts.
    pub const FIRST: Period = Period(1990 * 12);

    /// "2022年1月", for pages and messages.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year(), self.month())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl FromStr for Period {
    type Err = RevenueError;
    fn from_str(s: &str) -> Result<Period, RevenueError> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = RevenueError;
    fn try_from(s: String) -> Result<Period, RevenueError> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// The months a tax payment belongs to (税款所属期): one month for monthly returns, three for a
/// quarterly return, up to a year for annual ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TaxPeriod {
    from: Period,
    to: Period,
}

impl TaxPeriod {
    /// Reads the two columns 税款所属期起 and 税款所属期止 (dates, or months).
    pub fn from_columns(start: &str, end: &str) -> Result<TaxPeriod, RevenueError> {
        let (start, end) = (start.trim(), end.trim());
        if let (Some(a), Some(b)) = (date(start), date(end)) {
            if a > b {
                return Err(RevenueError::new(format!("所属期起“{start}”晚于所属期止“{end}”")));
            }
            return TaxPeriod::months(Period::new(a.year, a.month)?, Period::new(b.year, b.month)?);
        }
        let month = |s: &str| match year_month(s) {
            Some((y, m)) => Period::new(y, m),
            None if s.is_empty() => Err(RevenueError::new("请填写所属期")),
            None => Err(RevenueError::new(format!("所属期“{}”格式不正确，{PERIOD_HINT}", shown(s)))),
        };
        TaxPeriod::months(month(start)?, month(end)?)
    }

    /// Reads one 所属期 cell: a month, a date, or a range of two dates or months.
    pub fn parse(raw: &str) -> Result<TaxPeriod, RevenueError> {
        let s = raw.trim();
        if let Some((a, b)) = range(s) {
            return TaxPeriod::from_columns(a, b);
        }
        TaxPeriod::from_columns(s, s)
    }

    /// From `from` to `to`, both included.
    pub fn months(from: Period, to: Period) -> Result<TaxPeriod, RevenueError> {
        if to < from {
            return Err(RevenueError::new(format!("所属期止 {to} 早于所属期起 {from}")));
        }
        Ok(TaxPeriod { from, to })
    }

    pub fn from(self) -> Period {
        self.from
    }

    pub fn to(self) -> Period {
        self.to
    }

    /// The month a payment is settled in: the last month of its tax period, when the liability of a
    /// quarterly or annual return is complete (a refund of 2021 Q4 belongs to 2021-12).
    pub fn settlement_period(self) -> Period {
        self.to
    }
}

impl fmt::Display for TaxPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to { write!(f, "{}", self.to) } else { write!(f, "{} 至 {}", self.from, self.to) }
    }
}

/// The months a dated rule (an agreement, a host, a retained share) is in force: from `from`, up to and
/// including `to`, or open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Validity {
    from: Period,
    to: Option<Period>,
}

impl Validity {
    pub fn new(from: Period, to: Option<Period>) -> Result<Validity, RevenueError> {
        match to {
            Some(to) if to < from => Err(RevenueError::new(format!("结束月份 {to} 早于开始月份 {from}"))),
            _ => Ok(Validity { from, to }),
        }
    }

    /// From `from` on, open-ended.
    pub fn open_from(from: Period) -> Validity {
        Validity { from, to: None }
    }

    pub fn from(self) -> Period {
        self.from
    }

    pub fn to(self) -> Option<Period> {
        self.to
    }

    pub fn contains(self, p: Period) -> bool {
        self.from <= p && self.to.is_none_or(|to| p <= to)
    }

    pub fn overlaps(self, other: Validity) -> bool {
        self.to.is_none_or(|to| other.from <= to) && other.to.is_none_or(|to| self.from <= to)
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            Some(to) => write!(f, "{} 至 {}", self.from, to),
            None => write!(f, "{} 起", self.from),
        }
    }
}

/// Refuses a list of dated rules of which two are in force in the same month: the rule for a period
/// must be unambiguous. `what` names the rule in the message, e.g. "分成协议".
pub(crate) fn check_no_overlap(items: &[Validity], what: &str) -> Result<(), RevenueError> {
    for (j, b) in items.iter().enumerate() {
        if let Some((i, a)) = items.iter().enumerate().take(j).find(|(_, a)| a.overlaps(*b)) {
            return Err(RevenueError::new(format!(
                "第{}条{what}（{b}）与第{}条（{a}）的有效期重叠，同一月份只能有一条",
                j + 1,
                i + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(raw: &str) -> Result<String, String> {
        Period::parse(raw).map(|p| p.to_string()).map_err(|e| e.message)
    }

    fn month(y: u32, m: u32) -> Period {
        Period::new(y, m).unwrap()
    }

    #[test]
    fn parses_the_common_month_forms() {
        for raw in
            ["2022-01", "2022-1", "2022/01", "2022.1", "2022年1月", "2022年01月", "2022年1月份", "202201", " 2022-01 "]
        {
            assert_eq!(p(raw), Ok("2022-01".to_owned()), "{raw}");
        }
        assert_eq!(p("2022-12"), Ok("2022-12".to_owned()));
    }

    #[test]
    fn parses_tax_bureau_dates_and_ranges_within_a_month() {
        for raw in [
            "2022-01-31",
            "2022-01-31 00:00:00",
            "20220131",
            "2022年1月31日",
            "2022-01-01至2022-01-31",
            "2022-01-01 至 2022-01-31",
            "2022-01-01~2022-01-31",
            "2022-01-01～2022-01-31",
            "2022-01-01 - 2022-01-31",
            "20220101-20220131",
            "2022-01-15至2022-01-15",
        ] {
            assert_eq!(p(raw), Ok("2022-01".to_owned()), "{raw}");
        }
    }

    #[test]
    fn rejects_bad_months_with_reasons() {
        assert_eq!(p(""), Err("请填写所属期".to_owned()));
        assert_eq!(p("2022-13"), Err("月份 13 不正确，应为 1–12".to_owned()));
        assert_eq!(p("2022-00"), Err("月份 0 不正确，应为 1–12".to_owned()));
        assert_eq!(p("1899-01"), Err("年份 1899 超出范围（1990–2199）".to_owned()));
        assert_eq!(
            p("2021-10-01至2021-12-31"),
            Err("所属期“2021-10-01至2021-12-31”跨越多个月份，应在一个月之内".to_owned())
        );
        assert_eq!(p("2022-01-31至2022-01-01"), Err("所属期起“2022-01-31”晚于所属期止“2022-01-01”".to_owned()));
        for bad in ["一月", "2022", "22-01", "2022-02-30", "2022-01-01-01", "abc", "2022年13月", "２０２２-01"]
        {
            assert!(p(bad).is_err(), "{bad}");
        }
        assert!(p("2022-02-30").is_err_and(|e| e.contains("格式不正确")));
    }

    #[test]
    fn orders_and_steps_through_months() {
        assert!(month(2021, 12) < month(2022, 1));
        assert_eq!(month(2021, 12).next(), month(2022, 1));
        assert_eq!(month(2022, 1).next(), month(2022, 2));
        assert_eq!(month(2022, 1).label(), "2022年1月");
        assert_eq!(month(2022, 1).previous(), Some(month(2021, 12)));
        assert_eq!(month(2022, 3).previous(), Some(month(2022, 2)));
        assert_eq!(Period::FIRST, month(1990, 1));
        assert_eq!(Period::FIRST.previous(), None);
        assert_eq!((month(2024, 2).year(), month(2024, 2).month()), (2024, 2));
    }

    #[test]
    fn tax_periods_keep_quarters_and_settle_in_their_last_month() {
        let q = TaxPeriod::from_columns("2021-10-01", "2021-12-31");
        assert_eq!(
            q.map(|t| (t.from(), t.to(), t.settlement_period())),
            Ok((month(2021, 10), month(2021, 12), month(2021, 12)))
        );
        assert_eq!(
            TaxPeriod::parse("2021-10-01至2021-12-31").map(|t| t.to_string()),
            Ok("2021-10 至 2021-12".to_owned())
        );
        assert_eq!(
            TaxPeriod::from_columns("2022-01", "2022-03").map(|t| t.to_string()),
            Ok("2022-01 至 2022-03".to_owned())
        );
        assert_eq!(TaxPeriod::parse("202201").map(|t| t.to_string()), Ok("2022-01".to_owned()));
        assert!(TaxPeriod::from_columns("2022-03", "2022-01").is_err());
        assert!(TaxPeriod::from_columns("", "2022-01-31").is_err_and(|e| e.message == "请填写所属期"));
    }

    #[test]
    fn leap_days() {
        assert_eq!(p("2024-02-29"), Ok("2024-02".to_owned()));
        assert!(p("2023-02-29").is_err());
        assert!(p("2100-02-29").is_err());
        assert_eq!(p("2000-02-29"), Ok("2000-02".to_owned()));
    }

    #[test]
    fn validity_and_overlap() {
        let v = |a: Period, b: Option<Period>| Validity::new(a, b).unwrap();
        let h1 = v(month(2022, 1), Some(month(2022, 6)));
        let h2 = v(month(2022, 7), None);
        assert!(h1.contains(month(2022, 6)) && !h1.contains(month(2022, 7)) && h2.contains(month(2030, 1)));
        assert!(!h1.overlaps(h2) && !h2.overlaps(h1));
        assert!(check_no_overlap(&[h1, h2], "分成协议").is_ok());
        let h3 = v(month(2022, 6), Some(month(2022, 6)));
        assert_eq!(
            check_no_overlap(&[h1, h2, h3], "分成协议").map_err(|e| e.message),
            Err("第3条分成协议（2022-06 至 2022-06）与第1条（2022-01 至 2022-06）的有效期重叠，同一月份只能有一条"
                .to_owned())
        );
        assert!(v(month(2020, 1), None).overlaps(v(month(2030, 1), None)));
        assert_eq!(
            Validity::new(month(2022, 3), Some(month(2022, 1))).map_err(|e| e.message),
            Err("结束月份 2022-01 早于开始月份 2022-03".to_owned())
        );
    }

    proptest! {
        #[test]
        fn display_round_trips(y in 1990u32..2200, m in 1u32..13) {
            let period = Period::new(y, m).unwrap();
            prop_assert_eq!(Period::parse(&period.to_string()), Ok(period));
            prop_assert_eq!(Period::parse(&period.label()), Ok(period));
            prop_assert!(period < period.next());
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Period::parse(&raw);
            let _ = TaxPeriod::parse(&raw);
        }
    }
}
