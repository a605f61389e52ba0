//! Tests of `calendar.rs` (kept beside it to keep each file short).

use super::*;
use proptest::prelude::*;

fn date(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// An instant on a Beijing date at hh:mm.
fn at(s: &str, h: i64, m: i64) -> i64 {
    date(s).start_ms() + (h * 60 + m) * 60_000
}

fn wd(n: u32) -> WorkingDays {
    WorkingDays::new(n).unwrap_or_else(|| panic!("{n}"))
}

fn add(s: &str, n: u32) -> String {
    Calendar::statutory().add_working_days(date(s), wd(n)).to_string()
}

/// Working days of a year, counted one date at a time (independent of `count_after`).
fn working_days_in_year(cal: &Calendar, year: i32) -> usize {
    let first = date(&format!("{year}-01-01"));
    (0..366).map(|i| first.add_days(i)).filter(|d| d.year() == year && cal.is_working_day(*d)).count()
}

#[test]
fn the_table_parses_strictly() {
    let days = DayOverride::parse_table(DATA).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(days.len(), 267);
    assert_eq!(statutory_days().len(), 267);
    let first = DATA.lines().next().unwrap_or("");
    assert!(first.starts_with("# ") && first.contains("国务院办公厅"));
    assert!(first.contains("2027年为暂定"), "the provisional year is named in the comment line");
    // Every 班 line is a weekend day; a weekday needs no entry to be worked.
    for d in &days {
        assert!(d.kind() == DayKind::Rest || d.date().is_weekend(), "{}", d.date());
    }
}

#[test]
fn rest_and_work_lines_per_year() {
    let cal = Calendar::statutory();
    let count = |year, kind| cal.special_days(year).filter(|d| d.kind() == kind).count();
    // (year, 休 lines, 班 lines), by the date's own year: 2022 holds 2022-12-31 of the 2023 元旦.
    let expected = [
        (2020, 30, 6), // 春节 extended to 2 February: 10 days
        (2021, 31, 7),
        (2022, 32, 7),
        (2023, 26, 7),
        (2024, 28, 8),
        (2025, 28, 5),
        (2026, 33, 6),
        (2027, 13, 0), // provisional: the 13 statutory days only
    ];
    for (year, rest, work) in expected {
        assert_eq!((count(year, DayKind::Rest), count(year, DayKind::Work)), (rest, work), "{year}");
    }
    assert_eq!(cal.special_days(2019).count(), 0);
    assert_eq!(cal.special_days(2028).count(), 0);
}

#[test]
fn weekdays_off_net_of_adjusted_weekends_match_the_statutory_days() {
    // 11 statutory days a year until 2024, 13 from 2025 (春节 and 劳动节 gained a day each); 调休
    // only moves days, and a holiday falling on a weekend is made up on a weekday. 2020 adds the two
    // weekdays of the extended 春节 (31 January and the cancelled working Saturday 1 February).
    let cal = Calendar::statutory();
    let net = |year| {
        cal.special_days(year)
            .map(|d| match (d.kind(), d.date().is_weekend()) {
                (DayKind::Rest, false) => 1,
                (DayKind::Work, true) => -1,
                _ => 0,
            })
            .sum::<i32>()
    };
    let expected = [(2020, 13), (2021, 11), (2022, 11), (2023, 11), (2024, 11), (2025, 13), (2026, 13), (2027, 7)];
    for (year, days) in expected {
        assert_eq!(net(year), days, "{year}");
    }
}

#[test]
fn working_days_per_year() {
    // 2024: 251 and 2025: 248 working days, as widely published; the others follow from the notices.
    let cal = Calendar::statutory();
    let expected = [(2020, 249), (2021, 250), (2022, 249), (2023, 249), (2024, 251), (2025, 248), (2026, 248)];
    for (year, days) in expected {
        assert_eq!(working_days_in_year(&cal, year), days, "{year}");
        let last_before = date(&format!("{}-12-31", year - 1));
        let total = cal.count_after(last_before, date(&format!("{year}-12-31")));
        assert_eq!(usize::try_from(total).ok(), Some(days), "{year}");
    }
}

#[test]
fn adjusted_weekends_are_working_days_and_holidays_are_not() {
    let cal = Calendar::statutory();
    for work in ["2024-02-04", "2024-02-18", "2024-09-14", "2026-01-04", "2025-02-08", "2020-01-19"] {
        assert!(cal.is_working_day(date(work)), "{work}");
    }
    for rest in ["2024-02-10", "2024-02-12", "2025-01-28", "2025-05-02", "2020-01-31", "2020-02-01", "2022-12-31"] {
        assert!(!cal.is_working_day(date(rest)), "{rest}");
    }
    // 2024's 除夕 was only "encouraged" as a day off: a working day.
    assert!(cal.is_working_day(date("2024-02-09")));
    assert_eq!(cal.name(date("2024-02-10")), Some("春节"));
    assert_eq!(cal.name(date("2024-02-04")), Some("春节调休"));
    assert_eq!(cal.name(date("2024-03-04")), None);
    // Outside the table: Monday to Friday.
    assert!(cal.is_working_day(date("2030-01-01")));
    assert!(!cal.is_working_day(date("2030-01-05")));
}

#[test]
fn spring_festival_weeks() {
    assert_eq!(add("2024-02-08", 1), "2024-02-09");
    assert_eq!(add("2024-02-08", 2), "2024-02-18"); // the 调休 Sunday
    assert_eq!(add("2024-02-08", 3), "2024-02-19");
    assert_eq!(add("2025-01-27", 1), "2025-02-05");
    assert_eq!(add("2020-01-23", 1), "2020-02-03"); // extended to 2 February
    assert_eq!(add("2026-02-13", 1), "2026-02-14"); // the 调休 Saturday before
    assert_eq!(add("2026-02-13", 2), "2026-02-24");
    let cal = Calendar::statutory();
    assert_eq!(cal.working_days_between(date("2024-02-09"), date("2024-02-18")), 1);
    assert_eq!(cal.working_days_between(date("2024-02-09"), date("2024-02-17")), 0);
}

#[test]
fn adding_zero_gives_day_zero() {
    assert_eq!(add("2024-03-04", 0), "2024-03-04");
    assert_eq!(add("2024-03-02", 0), "2024-03-04"); // Saturday → Monday
    assert_eq!(add("2024-10-01", 0), "2024-10-08");
    assert_eq!(add("2024-03-02", 1), "2024-03-05"); // Monday is day 0
}

#[test]
fn crossing_the_year_boundary() {
    assert_eq!(add("2024-12-31", 1), "2025-01-02");
    assert_eq!(add("2025-12-31", 1), "2026-01-04"); // 元旦 1–3 January, then the 调休 Sunday
    assert_eq!(add("2025-12-31", 2), "2026-01-05");
    assert_eq!(add("2022-12-30", 1), "2023-01-03");
    let cal = Calendar::statutory();
    assert_eq!(cal.working_days_between(date("2025-12-31"), date("2026-01-05")), 2);
    assert_eq!(cal.working_days_between(date("2026-01-05"), date("2025-12-31")), 0);
}

#[test]
fn received_after_office_hours_counts_from_the_next_working_day() {
    let cal = Calendar::statutory();
    let day0 = |ms| cal.effective_receipt_day(ms).to_string();
    // Friday 2024-03-01.
    assert_eq!(day0(at("2024-03-01", 16, 59)), "2024-03-01");
    assert_eq!(day0(at("2024-03-01", 17, 0)), "2024-03-04");
    assert_eq!(day0(at("2024-03-01", 17, 30)), "2024-03-04");
    assert_eq!(day0(at("2024-03-01", 23, 59)), "2024-03-04");
    assert_eq!(day0(at("2024-03-04", 7, 0)), "2024-03-04"); // before opening: the same day
    // Friday evening before a 调休 Saturday, and the evening before 劳动节.
    assert_eq!(day0(at("2024-09-13", 17, 30)), "2024-09-14");
    assert_eq!(day0(at("2024-04-30", 17, 30)), "2024-05-06");
    assert_eq!(cal.deadline(at("2024-03-01", 17, 30), wd(1)).to_string(), "2024-03-05");
    assert_eq!(cal.deadline(at("2024-03-01", 16, 0), wd(1)).to_string(), "2024-03-04");
}

#[test]
fn received_on_a_holiday_or_weekend() {
    let cal = Calendar::statutory();
    let day0 = |ms| cal.effective_receipt_day(ms).to_string();
    assert_eq!(day0(at("2024-10-03", 10, 0)), "2024-10-08");
    assert_eq!(day0(at("2024-03-02", 10, 0)), "2024-03-04");
    assert_eq!(day0(at("2024-10-12", 10, 0)), "2024-10-12"); // a 调休 Saturday is a working day
    // 20 working days from 国庆 2024: day 0 is 8 October.
    assert_eq!(cal.deadline(at("2024-10-03", 10, 0), wd(20)).to_string(), "2024-11-04");
    assert_eq!(cal.deadline(at("2024-10-03", 10, 0), wd(0)).to_string(), "2024-10-08");
}

#[test]
fn elapsed_working_days_count_after_day_zero() {
    let cal = Calendar::statutory();
    let received = at("2024-03-01", 17, 30); // day 0: Monday 4 March
    let elapsed = |s, h| cal.elapsed_working_days(received, at(s, h, 0));
    assert_eq!(elapsed("2024-03-01", 18), 0);
    assert_eq!(elapsed("2024-03-04", 16), 0);
    assert_eq!(elapsed("2024-03-05", 9), 1);
    assert_eq!(elapsed("2024-03-08", 9), 4);
    assert_eq!(elapsed("2024-03-10", 9), 4); // Sunday: still 4
    assert_eq!(elapsed("2024-03-11", 9), 5);
    assert_eq!(elapsed("2024-03-12", 9), 6);
    // On time through the deadline and the rest days after it.
    let deadline = cal.deadline(received, wd(5));
    assert_eq!(deadline.to_string(), "2024-03-11");
    assert_eq!(cal.elapsed_working_days(received, deadline.start_ms()), 5);
}

#[test]
fn overrides_take_precedence() {
    let entries = [
        DayOverride::parse("2024-02-12", "班", "值守"),
        DayOverride::parse("2024-02-04", "休", "取消调休"),
        DayOverride::parse("2027-02-09", "休", "春节"),
        DayOverride::parse("2030-06-03", "休", "本地安排"),
    ];
    let entries: Vec<DayOverride> = entries.into_iter().map(|e| e.unwrap_or_else(|e| panic!("{e}"))).collect();
    let cal = Calendar::statutory().with_overrides(&entries).unwrap_or_else(|e| panic!("{e}"));
    assert!(cal.is_working_day(date("2024-02-12")));
    assert!(!cal.is_working_day(date("2024-02-04")));
    assert!(!cal.is_working_day(date("2027-02-09")));
    assert!(!cal.is_working_day(date("2030-06-03")) && !date("2030-06-03").is_weekend());
    assert_eq!(cal.name(date("2024-02-12")), Some("值守"));
    assert_eq!(cal.add_working_days(date("2024-02-09"), wd(1)), date("2024-02-12"));
    // The statutory calendar itself is unchanged.
    assert!(!Calendar::statutory().is_working_day(date("2024-02-12")));

    let twice = [entries[0].clone(), entries[0].clone()];
    let err = Calendar::statutory().with_overrides(&twice).map_err(|e| e.message);
    assert_eq!(err, Err("日期2024-02-12重复设置，每个日期只能设置一次".to_owned()));
}

#[test]
fn admin_entries_are_parsed_with_reasons() {
    let msg = |d: &str, k: &str, n: &str| DayOverride::parse(d, k, n).map(|_| ()).map_err(|e| e.message);
    assert_eq!(msg("2027-02-09", "休", "春节"), Ok(()));
    assert_eq!(msg("2027-02-09", "上班", "春节调休"), Ok(()));
    assert_eq!(msg("2027-02-30", "休", "春节"), Err("2027年2月没有30日".to_owned()));
    assert_eq!(msg("2027/02/09", "休", "春节"), Err("日期格式应为 YYYY-MM-DD，例如 2027-02-05".to_owned()));
    assert_eq!(msg("2027-02-09", "假", "春节"), Err("类型“假”无法识别，应为“休”或“班”".to_owned()));
    assert_eq!(msg("2027-02-09", "", "春节"), Err("请填写类型：休或班".to_owned()));
    assert_eq!(msg("2027-02-09", "休", " "), Err("请填写名称，例如“春节”或“春节调休”".to_owned()));
    assert_eq!(msg("2027-02-09", "休", &"长".repeat(21)), Err("名称不能超过20个字".to_owned()));

    let table = DayOverride::parse_table("# 2027\n2027-02-05\t休\t春节\n\n2027-02-06 休 春节\n");
    assert_eq!(table.map(|t| t.len()), Ok(2));
    let err = |text: &str| DayOverride::parse_table(text).map(|_| ()).map_err(|e| e.message);
    assert_eq!(
        err("2027-02-05\t休\t春节\n2027-02-05\t班\t春节调休"),
        Err("第2行：日期2027-02-05重复（第1行已设置）".to_owned())
    );
    assert_eq!(err("2027-02-05\t休"), Err("第1行：应为“日期 休或班 名称”三列，例如 2027-02-05\t休\t春节".to_owned()));
    assert_eq!(err("\n2027-13-05\t休\t春节"), Err("第2行：月份应在1至12之间".to_owned()));
}

#[test]
fn coverage_of_the_table() {
    assert_eq!(statutory_coverage(2019), Coverage::Missing);
    assert_eq!(statutory_coverage(2020), Coverage::Official);
    assert_eq!(statutory_coverage(2026), Coverage::Official);
    assert_eq!(statutory_coverage(2027), Coverage::Provisional);
    assert_eq!(statutory_coverage(2028), Coverage::Missing);
}

/// A day between 2019 and 2028, where the table has entries and beyond.
fn any_day() -> impl Strategy<Value = Date> {
    (17_897i64..21_550).prop_map(Date::from_days)
}

/// The statutory calendar with up to 40 random admin entries in 2024–2025.
fn any_calendar() -> impl Strategy<Value = Calendar> {
    proptest::collection::btree_map(19_723i64..20_454, any::<bool>(), 0..40).prop_map(|m| {
        let entries: Vec<DayOverride> = m
            .into_iter()
            .filter_map(|(d, work)| {
                let kind = if work { DayKind::Work } else { DayKind::Rest };
                DayOverride::new(Date::from_days(d), kind, "测试").ok()
            })
            .collect();
        Calendar::statutory().with_overrides(&entries).unwrap_or_else(|_| Calendar::statutory())
    })
}

proptest! {
    #[test]
    fn adding_lands_on_a_working_day_and_counts_back(cal in any_calendar(), d in any_day(), n in 0u32..=365) {
        let end = cal.add_working_days(d, wd(n));
        prop_assert!(cal.is_working_day(end));
        prop_assert!(end >= d);
        prop_assert_eq!(cal.working_days_between(d, end), n);
    }

    #[test]
    fn adding_is_strictly_monotonic(cal in any_calendar(), d in any_day(), n in 0u32..365) {
        prop_assert!(cal.add_working_days(d, wd(n)) < cal.add_working_days(d, wd(n + 1)));
    }

    #[test]
    fn counting_matches_a_day_by_day_count(cal in any_calendar(), a in any_day(), len in 0i64..800) {
        let b = a.add_days(len);
        let naive = (1..=len).map(|i| a.add_days(i)).filter(|d| cal.is_working_day(*d)).count();
        prop_assert_eq!(usize::try_from(cal.count_after(a, b)).ok(), Some(naive));
    }

    #[test]
    fn deadline_is_where_elapsed_reaches_the_limit(
        cal in any_calendar(), d in any_day(), minute in 0i64..1440, n in 0u32..=60,
    ) {
        let received = d.start_ms() + minute * 60_000;
        let deadline = cal.deadline(received, wd(n));
        prop_assert_eq!(cal.elapsed_working_days(received, deadline.start_ms()), n);
        let next = cal.first_working_day_from(deadline.next());
        prop_assert_eq!(cal.elapsed_working_days(received, next.start_ms()), n + 1);
        prop_assert!(cal.effective_receipt_day(received) >= d);
    }
}
