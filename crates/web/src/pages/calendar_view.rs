//! What the calendar pages and the calendar API show, computed from the pure calendar: the special
//! days of a year with their source, the month grid, and the deadline calculator's answer. Parsers of
//! the raw query and form values live here too, so the page and the API refuse bad input alike.

use super::FieldErrors;
use dianxiaoer_core::approval::{
    Calendar, Coverage, Date, DayKind, DayOverride, OFFICE_CLOSE_MINUTE, WorkingDays, statutory_coverage,
};
use dianxiaoer_core::text;
use dianxiaoer_store::CalendarDayRow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Years the pages and the API accept, as `Date::parse` does.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Most lines one paste may hold: a year's notice has about 40.
pub const MAX_IMPORT_LINES: usize = 400;

const WEEKDAYS: [&str; 7] = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"];

pub fn weekday(d: Date) -> &'static str {
    let i = usize::try_from(d.iso_weekday()).map_or(0, |w| w.saturating_sub(1));
    WEEKDAYS.get(i).copied().unwrap_or("")
}

/// The year of a query (`?year=2027`); blank means the current year in Beijing.
pub fn parse_year(raw: Option<&str>, now_ms: i64) -> Result<i32, String> {
    let raw = raw.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Ok(Date::from_ms(now_ms).year());
    }
    raw.parse::<i32>()
        .ok()
        .filter(|y| raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) && YEARS.contains(y))
        .ok_or_else(|| "年份应为1900至2200之间的四位数字，例如 2027".to_string())
}

/// One date's fields as typed in the admin form or sent to the API.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DayForm {
    #[serde(default)]
    pub date: String,
    /// 休 or 班 (also `rest` or `work`, as the API writes them).
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// Checks every field, reporting each problem beside its field.
pub fn parse_day(f: &DayForm) -> Result<DayOverride, FieldErrors> {
    let mut errors = FieldErrors::new();
    let date = Date::parse(&f.date).map_err(|e| errors.insert("date", e.message)).ok();
    let kind = match f.kind.trim() {
        "rest" => Ok(DayKind::Rest),
        "work" => Ok(DayKind::Work),
        other => DayKind::parse(other),
    }
    .map_err(|e| errors.insert("kind", e.message))
    .ok();
    let name = text::required("名称", &f.name, 20).map_err(|m| errors.insert("name", m)).ok();
    if let (Some(date), Some(kind), Some(name)) = (date, kind, name) {
        match DayOverride::new(date, kind, &name) {
            Ok(day) if errors.is_empty() => return Ok(day),
            Ok(_) => {}
            Err(e) => {
                errors.insert("name", e.message);
            }
        }
    }
    Err(errors)
}

/// The pasted lines of a year's notice (`YYYY-MM-DD 休 春节`), all valid or refused with the line.
pub fn parse_pasted(text: &str) -> Result<Vec<DayOverride>, String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.iter().filter(|l| !l.trim().is_empty()).count() > MAX_IMPORT_LINES {
        return Err(format!("一次最多粘贴{MAX_IMPORT_LINES}行，请分年导入"));
    }
    for (i, line) in lines.iter().enumerate() {
        // Tabs separate the columns; any other control or bidirectional character is refused.
        if let Err(m) = text::optional("内容", &line.replace('\t', " "), 1000) {
            return Err(format!("第{}行：{m}", i + 1));
        }
    }
    let days = DayOverride::parse_table(text).map_err(|e| e.message)?;
    if days.is_empty() {
        return Err("请粘贴节假日安排，每行“日期 休或班 名称”，例如 2027-02-06 班 春节调休".into());
    }
    Ok(days)
}

/// A date the calendar sets apart from Monday to Friday, with where the entry comes from.
#[derive(Debug, Clone, Serialize)]
pub struct SpecialDay {
    pub date: Date,
    pub weekday: &'static str,
    pub kind: DayKind,
    /// 休 or 班.
    pub label: &'static str,
    pub name: String,
    /// `statutory` (the compiled-in State Council table) or `override` (set by the system admin).
    pub source: &'static str,
    /// The table's entry that an override replaced, e.g. "休 春节".
    pub replaces: Option<String>,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

impl SpecialDay {
    pub fn is_override(&self) -> bool {
        self.source == "override"
    }
}

/// The calendar of the table with `rows` on top, and `rows` by date.
pub fn with_rows(rows: &[CalendarDayRow]) -> Result<(Calendar, BTreeMap<Date, &CalendarDayRow>), String> {
    let days: Vec<DayOverride> =
        rows.iter().map(CalendarDayRow::day).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let cal = Calendar::statutory().with_overrides(&days).map_err(|e| e.message)?;
    Ok((cal, rows.iter().map(|r| (r.date, r)).collect()))
}

/// The special days of `year` in date order, each marked with its source.
pub fn special_days(cal: &Calendar, rows: &BTreeMap<Date, &CalendarDayRow>, year: i32) -> Vec<SpecialDay> {
    let table = Calendar::statutory();
    cal.special_days(year)
        .map(|d| {
            let row = rows.get(&d.date());
            SpecialDay {
                date: d.date(),
                weekday: weekday(d.date()),
                kind: d.kind(),
                label: d.kind().label(),
                name: d.name().to_string(),
                source: if row.is_some() { "override" } else { "statutory" },
                replaces: row.and(table.name(d.date())).map(|n| format!("{} {n}", table.kind(d.date()).label())),
                updated_at: row.map(|r| r.updated_at),
                updated_by: row.map(|r| r.updated_by.clone()),
            }
        })
        .collect()
}

/// The banner for a year the compiled-in table does not fully cover; `None` for an official year.
pub fn coverage_warning(year: i32) -> Option<String> {
    match statutory_coverage(year) {
        Coverage::Official => None,
        Coverage::Provisional => Some(format!(
            "{year}年的节假日安排为暂定：编表时国务院办公厅通知尚未发布，内置表只列法定假日本身，不含补假和调休。\
             通知发布后，请按通知在下方录入或粘贴该年的安排。"
        )),
        Coverage::Missing => Some(format!(
            "内置节假日表不含{year}年：除管理员录入的日期外，只按周一至周五上班、周六周日休息计算。\
             请按国务院办公厅通知录入该年的节假日和调休。"
        )),
    }
}

pub fn coverage_label(year: i32) -> &'static str {
    match statutory_coverage(year) {
        Coverage::Official => "依据国务院办公厅通知",
        Coverage::Provisional => "暂定",
        Coverage::Missing => "未收录",
    }
}

/// One day of the month grid; `day` 0 is a blank cell.
pub struct Cell {
    pub day: u32,
    pub class: String,
    pub title: String,
}

pub struct Month {
    pub title: String,
    pub weeks: Vec<Vec<Cell>>,
}

/// Twelve months of `year`, weeks from Monday, each date classed rest / holiday / adjusted (调休上班)
/// and marked when the admin set it.
pub fn months(cal: &Calendar, rows: &BTreeMap<Date, &CalendarDayRow>, year: i32) -> Vec<Month> {
    let blank = || Cell { day: 0, class: String::new(), title: String::new() };
    (1..=12)
        .filter_map(|m| Date::new(year, m, 1).map(|first| (m, first)))
        .map(|(m, first)| {
            let mut cells: Vec<Cell> = (1..first.iso_weekday()).map(|_| blank()).collect();
            let mut d = first;
            while d.month() == m && d.year() == year {
                let kind = cal.kind(d);
                let mut class = match (cal.name(d).is_some(), kind) {
                    (true, DayKind::Rest) => "holiday",
                    (true, DayKind::Work) => "adjusted",
                    (false, DayKind::Rest) => "rest",
                    (false, DayKind::Work) => "",
                }
                .to_string();
                let mut title = format!("{d} {} {}", weekday(d), kind.label());
                if let Some(name) = cal.name(d) {
                    title.push(' ');
                    title.push_str(name);
                }
                if rows.contains_key(&d) {
                    class.push_str(if class.is_empty() { "override" } else { " override" });
                    title.push_str("（管理员设置）");
                }
                cells.push(Cell { day: d.day(), class, title });
                d = d.next();
            }
            while !cells.len().is_multiple_of(7) {
                cells.push(blank());
            }
            let mut weeks = Vec::new();
            let mut it = cells.into_iter().peekable();
            while it.peek().is_some() {
                weeks.push(it.by_ref().take(7).collect());
            }
            Month { title: format!("{m}月"), weeks }
        })
        .collect()
}

/// Working days and rest days of a year.
pub fn year_counts(cal: &Calendar, year: i32) -> (u32, u32) {
    let (mut work, mut rest) = (0, 0);
    let mut d = Date::new(year, 1, 1);
    while let Some(day) = d.filter(|day| day.year() == year) {
        if cal.is_working_day(day) {
            work += 1;
        } else {
            rest += 1;
        }
        d = Some(day.next());
    }
    (work, rest)
}

/// The deadline calculator's raw input.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeadlineForm {
    #[serde(default)]
    pub received: String,
    #[serde(default)]
    pub days: String,
}

/// A Beijing date-time as typed: `YYYY-MM-DD`, optionally followed by a space or `T` and `HH:MM`
/// or `HH:MM:SS`; a date alone means its start. Returns epoch milliseconds.
pub fn parse_received(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("请填写收件时间".into());
    }
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let date = Date::parse(date).map_err(|e| e.message)?;
    let seconds = match time {
        None => 0,
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            let nums: Option<Vec<i64>> = parts
                .iter()
                .map(|p| {
                    (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<i64>().ok()).flatten()
                })
                .collect();
            match nums.as_deref() {
                Some([h, m]) if *h < 24 && *m < 60 => h * 3600 + m * 60,
                Some([h, m, sec]) if *h < 24 && *m < 60 && *sec < 60 => h * 3600 + m * 60 + sec,
                _ => return Err("时间格式应为 HH:MM，例如 2027-02-04 16:30".into()),
            }
        }
    };
    Ok(date.start_ms() + seconds * 1000)
}

/// Both fields of the calculator, each problem beside its field.
pub fn parse_deadline(f: &DeadlineForm) -> Result<(i64, WorkingDays), FieldErrors> {
    let mut errors = FieldErrors::new();
    let received = parse_received(&f.received).map_err(|m| errors.insert("received", m)).ok();
    let days = WorkingDays::parse(&f.days).map_err(|e| errors.insert("days", e.message)).ok();
    match (received, days) {
        (Some(r), Some(d)) => Ok((r, d)),
        _ => Err(errors),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DayBrief {
    pub date: Date,
    pub weekday: &'static str,
    pub kind: DayKind,
    pub label: &'static str,
    pub name: String,
}

/// The calculator's answer, with the rule that produced it.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineAnswer {
    /// "2027-02-04 17:30:00", Beijing time.
    pub received: String,
    pub received_weekday: &'static str,
    pub working_days: u32,
    pub received_on_working_day: bool,
    /// Received on a working day at or after office close (17:00).
    pub after_office_close: bool,
    pub office_close: &'static str,
    /// 受理起算日: day 0, not counted.
    pub start_day: Date,
    pub start_weekday: &'static str,
    /// The last day on which the item is still on time.
    pub deadline: Date,
    pub deadline_weekday: &'static str,
    /// Holidays and 调休 working days after the start day up to the deadline.
    pub special_days: Vec<DayBrief>,
    pub explanation: String,
    /// Years of the period that the table covers only provisionally or not at all.
    pub warnings: Vec<String>,
}

pub fn answer(cal: &Calendar, received_ms: i64, n: WorkingDays) -> DeadlineAnswer {
    let day = Date::from_ms(received_ms);
    let minute = (received_ms - day.start_ms()) / 60_000;
    let on_working_day = cal.is_working_day(day);
    let after_close = on_working_day && minute >= OFFICE_CLOSE_MINUTE;
    let start = cal.effective_receipt_day(received_ms);
    let deadline = cal.deadline(received_ms, n);
    let special_days: Vec<DayBrief> = (start.year()..=deadline.year())
        .flat_map(|y| cal.special_days(y))
        .filter(|d| d.date() > start && d.date() <= deadline)
        .map(|d| DayBrief {
            date: d.date(),
            weekday: weekday(d.date()),
            kind: d.kind(),
            label: d.kind().label(),
            name: d.name().to_string(),
        })
        .collect();
    let first = if after_close {
        format!("收件时间在工作日17:00（办公时间结束）以后，按下一个工作日{start}收件，")
    } else if !on_working_day {
        let why = cal.name(day).map_or_else(|| "周末".to_string(), |n| n.to_string());
        format!("收件当日为非工作日（{why}），按下一个工作日{start}收件，")
    } else {
        format!("收件当日{start}为工作日且在17:00以前，")
    };
    let explanation = format!(
        "{first}该日为起算日（第0日），不计入期限；自次日起第{}个工作日为{deadline}（{}），当日办结均不超期。\
         期间的法定节假日不计入，调休上班日计入。",
        n.get(),
        weekday(deadline)
    );
    let table = Calendar::statutory();
    let warnings = (day.year()..=deadline.year())
        .filter(|y| statutory_coverage(*y) != Coverage::Official && cal.special_days(*y).eq(table.special_days(*y)))
        .map(|y| match statutory_coverage(y) {
            Coverage::Provisional => format!("{y}年的节假日安排为暂定（不含补假和调休），期限仅供参考。"),
            _ => format!("内置节假日表不含{y}年，且管理员尚未录入该年安排，期限仅按周一至周五计算，仅供参考。"),
        })
        .collect();
    DeadlineAnswer {
        received: dianxiaoer_core::when::format_ms(received_ms),
        received_weekday: weekday(day),
        working_days: n.get(),
        received_on_working_day: on_working_day,
        after_office_close: after_close,
        office_close: "17:00",
        start_day: start,
        start_weekday: weekday(start),
        deadline,
        deadline_weekday: weekday(deadline),
        special_days,
        explanation,
        warnings,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn parses_received_times() {
        let at = |s: &str| parse_received(s).map(dianxiaoer_core::when::format_ms);
        assert_eq!(at("2027-02-04 16:30"), Ok("2027-02-04 16:30:00".into()));
        assert_eq!(at("2027-02-04T17:00:05"), Ok("2027-02-04 17:00:05".into()));
        assert_eq!(at(" 2027-02-04 "), Ok("2027-02-04 00:00:00".into()));
        assert_eq!(parse_received(""), Err("请填写收件时间".into()));
        assert_eq!(parse_received("2027-02-30 09:00"), Err("2027年2月没有30日".into()));
        for bad in ["2027-02-04 24:00", "2027-02-04 9:00", "2027-02-04 09:60", "2027-02-04 ab:cd", "2027/02/04"] {
            assert!(parse_received(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn years_are_four_digits() {
        let now = date("2026-03-02").start_ms();
        assert_eq!(parse_year(None, now), Ok(2026));
        assert_eq!(parse_year(Some(" "), now), Ok(2026));
        assert_eq!(parse_year(Some("2027"), now), Ok(2027));
        for bad in ["27", "+2027", "2300", "abcd", "20271"] {
            assert!(parse_year(Some(bad), now).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_form_errors_sit_beside_their_fields() {
        let f = DayForm { date: "2027-13-01".into(), kind: "x".into(), name: String::new() };
        let errors = parse_day(&f).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["date", "kind", "name"]);
        let ok = DayForm { date: "2027-02-06".into(), kind: "work".into(), name: "春节调休".into() };
        let day = parse_day(&ok).unwrap();
        assert_eq!((day.date(), day.kind(), day.name()), (date("2027-02-06"), DayKind::Work, "春节调休"));
    }

    #[test]
    fn pasted_text_is_checked_line_by_line() {
        assert!(parse_pasted("# 注释\n\n").is_err());
        assert_eq!(
            parse_pasted("2027-02-06 班 春节调休\n2027-02-06 休 春节").unwrap_err(),
            "第2行：日期2027-02-06重复（第1行已设置）"
        );
        assert!(parse_pasted("2027-02-06 班 春节\u{7}").unwrap_err().starts_with("第1行"));
        assert_eq!(parse_pasted("2027-02-06\t班\t春节调休").unwrap().len(), 1);
    }

    #[test]
    fn months_start_on_monday() {
        let cal = Calendar::statutory();
        let m = months(&cal, &BTreeMap::new(), 2027);
        assert_eq!(m.len(), 12);
        // 2027-02-01 is a Monday; 2027-02-05 (除夕) is a holiday in the provisional table.
        assert_eq!(m[1].weeks[0][0].day, 1);
        assert_eq!(m[1].weeks[0][4].class, "holiday");
        assert_eq!(m[1].weeks[0][5].class, "holiday");
        // 2027-01-01 is a Friday.
        assert_eq!(m[0].weeks[0][4].day, 1);
        assert!(m.iter().all(|m| m.weeks.iter().all(|w| w.len() == 7)));
    }

    #[test]
    fn after_hours_start_the_next_working_day() {
        let cal = Calendar::statutory();
        // Thursday 2026-03-05 17:30: day 0 is Friday 03-06; 3 working days later is Wednesday 03-11.
        let ms = date("2026-03-05").start_ms() + (17 * 60 + 30) * 60_000;
        let a = answer(&cal, ms, WorkingDays::new(3).unwrap());
        assert!(a.after_office_close && a.received_on_working_day);
        assert_eq!((a.start_day, a.deadline), (date("2026-03-06"), date("2026-03-11")));
        assert!(a.warnings.is_empty());
    }
}
