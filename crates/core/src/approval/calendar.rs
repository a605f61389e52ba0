//! The working-day calendar (工作日历): Monday to Friday are working days, Saturday and Sunday are not,
//! except for the dates in the table of statutory holidays and adjusted working weekends (调休) that
//! the General Office of the State Council (国务院办公厅) publishes every year, and the dates the system
//! admin enters (a year whose notice came out after this build, or a local arrangement).
//!
//! Rules, in Beijing time (DESIGN.md principle 9):
//! - Limits count working days only (《行政许可法》第八十二条: 以工作日计算，不含法定节假日).
//! - The day the period starts is not counted (《民法典》第二百零一条: 开始的当日不计入，自下一日开始计算):
//!   it is day 0, and a limit of N working days ends on the N-th working day after it.
//! - An application received on a non-working day, or on a working day at or after office close
//!   ([`OFFICE_CLOSE_MINUTE`], 17:00), counts as received on the next working day, so the clock starts
//!   there. The reference material states no office hours; 17:00 is the common close of government
//!   service halls and is an assumption of this module.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::date::{Date, minute_of_day};
use super::working_days::WorkingDays;

const DATA: &str = include_str!("../../data/holidays-cn.tsv");

/// Office close in Beijing, minutes after midnight (17:00). Assumed: the reference is silent.
pub const OFFICE_CLOSE_MINUTE: i64 = 17 * 60;

/// Years whose State Council notice the compiled-in table follows.
const OFFICIAL_YEARS: std::ops::RangeInclusive<i32> = 2020..=2026;
/// Years the table covers provisionally: the statutory days only, no 补假 and no 调休.
const PROVISIONAL_YEARS: std::ops::RangeInclusive<i32> = 2027..=2027;

/// Longest name of a special day, in characters.
const NAME_MAX_CHARS: usize = 20;

/// A user-facing error about dates, the calendar or a time limit; the message is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CalendarError {
    pub message: String,
}

impl CalendarError {
    pub(crate) fn new(message: impl Into<String>) -> CalendarError {
        CalendarError { message: message.into() }
    }
}

/// Whether a date is a day off (休) or a working day (班).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Rest,
    Work,
}

impl DayKind {
    /// 休 or 班, as the table and the notices write it.
    pub fn label(self) -> &'static str {
        match self {
            DayKind::Rest => "休",
            DayKind::Work => "班",
        }
    }

    /// 休 (also 休息, 放假) or 班 (also 上班).
    pub fn parse(raw: &str) -> Result<DayKind, CalendarError> {
        match raw.trim() {
            "休" | "休息" | "放假" => Ok(DayKind::Rest),
            "班" | "上班" => Ok(DayKind::Work),
            "" => Err(CalendarError::new("请填写类型：休或班")),
            other => Err(CalendarError::new(format!("类型“{other}”无法识别，应为“休”或“班”"))),
        }
    }

    fn default_for(date: Date) -> DayKind {
        if date.is_weekend() { DayKind::Rest } else { DayKind::Work }
    }
}

/// One date that the table or the admin sets apart from the Monday-to-Friday rule, with its name
/// (春节, 春节调休, …). A date inside a holiday that falls on a weekend may be listed too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DayOverride {
    date: Date,
    kind: DayKind,
    name: String,
}

impl DayOverride {
    /// Checks the name: 1 to 20 characters after trimming.
    pub fn new(date: Date, kind: DayKind, name: &str) -> Result<DayOverride, CalendarError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CalendarError::new("请填写名称，例如“春节”或“春节调休”"));
        }
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(CalendarError::new(format!("名称不能超过{NAME_MAX_CHARS}个字")));
        }
        Ok(DayOverride { date, kind, name: name.to_owned() })
    }

    /// Parses the three fields as typed in the admin form.
    pub fn parse(date: &str, kind: &str, name: &str) -> Result<DayOverride, CalendarError> {
        DayOverride::new(Date::parse(date)?, DayKind::parse(kind)?, name)
    }

    /// Parses lines `YYYY-MM-DD<TAB>休|班<TAB>name` (tabs or spaces), as in `data/holidays-cn.tsv`, so
    /// the admin can paste a year's arrangement. Blank lines and `#` comments are skipped. Every
    /// error names its line; a date given twice is an error.
    pub fn parse_table(text: &str) -> Result<Vec<DayOverride>, CalendarError> {
        let mut seen: BTreeMap<Date, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: CalendarError| CalendarError::new(format!("第{n}行：{}", e.message));
            let fields: Vec<&str> = line.split(['\t', ' ']).filter(|f| !f.is_empty()).collect();
            let [date, kind, name] = fields.as_slice() else {
                return Err(at(CalendarError::new("应为“日期 休或班 名称”三列，例如 2027-02-05\t休\t春节")));
            };
            let day = DayOverride::parse(date, kind, name).map_err(at)?;
            if let Some(first) = seen.insert(day.date, n) {
                return Err(at(CalendarError::new(format!("日期{}重复（第{first}行已设置）", day.date))));
            }
            out.push(day);
        }
        Ok(out)
    }

    pub fn date(&self) -> Date {
        self.date
    }

    pub fn kind(&self) -> DayKind {
        self.kind
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How far the compiled-in table can be trusted for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Follows the State Council notice for the year.
    Official,
    /// Statutory days only; the admin should enter the notice once it is published.
    Provisional,
    /// Not in the table: only the Monday-to-Friday rule and the admin's entries apply.
    Missing,
}

/// Coverage of `year` by the compiled-in table (the admin UI warns on anything but `Official`).
pub fn statutory_coverage(year: i32) -> Coverage {
    if OFFICIAL_YEARS.contains(&year) {
        Coverage::Official
    } else if PROVISIONAL_YEARS.contains(&year) {
        Coverage::Provisional
    } else {
        Coverage::Missing
    }
}

/// The special days by date. Pure data: build it once per request from the table and the stored
/// admin entries, then ask it questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<Date, DayOverride>,
}

/// The compiled-in table. A test parses it strictly, so skipping bad lines here never drops one.
fn statutory_days() -> &'static BTreeMap<Date, DayOverride> {
    static TABLE: OnceLock<BTreeMap<Date, DayOverride>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines().filter_map(|line| DayOverride::parse_table(line).ok()).flatten().map(|d| (d.date, d)).collect()
    })
}

/// Weekdays (Monday–Friday) among the days numbered below `days` (since 1970-01-01), offset by a
/// constant; only differences are meaningful.
fn weekdays_before(days: i64) -> i64 {
    // Day 0 was a Thursday; shift so that multiples of 7 are Mondays.
    let x = days + 3;
    5 * x.div_euclid(7) + x.rem_euclid(7).min(5)
}

impl Calendar {
    /// The State Council arrangements of 2020–2026 and the provisional 2027 (see [`statutory_coverage`]).
    pub fn statutory() -> Calendar {
        Calendar { days: statutory_days().clone() }
    }

    /// Applies the admin's entries on top; each replaces the table's entry for its date, if any.
    /// A date given twice is refused, since which one was meant cannot be known.
    pub fn with_overrides(mut self, overrides: &[DayOverride]) -> Result<Calendar, CalendarError> {
        let mut seen = std::collections::BTreeSet::new();
        for o in overrides {
            if !seen.insert(o.date) {
                return Err(CalendarError::new(format!("日期{}重复设置，每个日期只能设置一次", o.date)));
            }
        }
        for o in overrides {
            self.days.insert(o.date, o.clone());
        }
        Ok(self)
    }

    pub fn kind(&self, date: Date) -> DayKind {
        self.days.get(&date).map_or_else(|| DayKind::default_for(date), |o| o.kind)
    }

    /// The holiday or 调休 name of a special date, e.g. 春节.
    pub fn name(&self, date: Date) -> Option<&str> {
        self.days.get(&date).map(|o| o.name.as_str())
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        self.kind(date) == DayKind::Work
    }

    /// The special days of a year, in date order.
    pub fn special_days(&self, year: i32) -> impl Iterator<Item = &DayOverride> {
        let from = Date::new(year, 1, 1);
        let to = Date::new(year, 12, 31);
        from.zip(to).into_iter().flat_map(|(from, to)| self.days.range(from..=to).map(|(_, o)| o))
    }

    /// `date` if it is a working day, otherwise the next working day. Terminates: past the last
    /// special day only weekends are rest days.
    pub fn first_working_day_from(&self, date: Date) -> Date {
        let mut day = date;
        while !self.is_working_day(day) {
            day = day.next();
        }
        day
    }

    /// The `n`-th working day after day 0, where day 0 is `start` if it is a working day and the next
    /// working day otherwise. `n = 0` gives day 0 itself, so the result is always a working day.
    pub fn add_working_days(&self, start: Date, n: WorkingDays) -> Date {
        self.nth_working_day_after(self.first_working_day_from(start), n.get())
    }

    /// Working days counted from day 0 (as in [`Calendar::add_working_days`]) through `to`: the
    /// working days after day 0 up to and including `to`; 0 if `to` is not after day 0. Inverse of
    /// `add_working_days`: `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        self.count_after(self.first_working_day_from(from), to)
    }

    /// The day the clock starts on (受理起算日, day 0): the Beijing date of `received_ms` if that is a
    /// working day and the time is before office close, otherwise the next working day.
    pub fn effective_receipt_day(&self, received_ms: i64) -> Date {
        let date = Date::from_ms(received_ms);
        if self.is_working_day(date) && minute_of_day(received_ms) < OFFICE_CLOSE_MINUTE {
            date
        } else {
            self.first_working_day_from(date.next())
        }
    }

    /// The last date on which an item received at `received_ms` with a limit of `limit` working days
    /// is still on time (it may be decided any time that day). Later rest days do not extend it: it
    /// is always a working day, and deciding on the rest days right after it is still on time, as
    /// [`Calendar::elapsed_working_days`] does not grow over them.
    pub fn deadline(&self, received_ms: i64, limit: WorkingDays) -> Date {
        self.nth_working_day_after(self.effective_receipt_day(received_ms), limit.get())
    }

    /// Working days used so far: the working days after the receipt day up to and including the
    /// Beijing date of `now_ms`. On time while this is at most the limit.
    pub fn elapsed_working_days(&self, received_ms: i64, now_ms: i64) -> u32 {
        self.count_after(self.effective_receipt_day(received_ms), Date::from_ms(now_ms))
    }

    /// The `n`-th working day after `day` (`day` itself for 0). `n` is at most a year's worth of
    /// working days in every caller, and each step ends within the finite run of special rest days.
    pub(crate) fn nth_working_day_after(&self, day: Date, n: u32) -> Date {
        (0..n).fold(day, |d, _| self.first_working_day_from(d.next()))
    }

    /// Working days `d` with `after < d <= through`, from the weekday count plus the special days in
    /// between, so that it costs the same for any span.
    pub(crate) fn count_after(&self, after: Date, through: Date) -> u32 {
        if through <= after {
            return 0;
        }
        let weekdays = weekdays_before(through.days() + 1) - weekdays_before(after.days() + 1);
        let adjust: i64 = self
            .days
            .range((Excluded(after), Included(through)))
            .map(|(date, o)| match (o.kind, DayKind::default_for(*date)) {
                (DayKind::Work, DayKind::Rest) => 1,
                (DayKind::Rest, DayKind::Work) => -1,
                _ => 0,
            })
            .sum();
        u32::try_from(weekdays + adjust).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
#[path = "calendar_tests.rs"]
mod tests;
