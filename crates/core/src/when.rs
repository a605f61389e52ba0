//! Instants as milliseconds since the Unix epoch, shown in Asia/Shanghai (UTC+8, no daylight saving;
//! DESIGN.md principle 9). The clock itself is passed in by the caller; nothing here reads it.

pub(crate) const OFFSET_MS: i64 = 8 * 3600 * 1000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's civil_from_days).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "2026-11-26 17:48:51" in Beijing time.
pub fn format_ms(ms: i64) -> String {
    let local = ms + OFFSET_MS;
    let (y, mo, d) = civil_from_days(local.div_euclid(DAY_MS));
    let s = local.rem_euclid(DAY_MS) / 1000;
    format!("{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// "2026-11-26" in Beijing time.
pub fn format_date(ms: i64) -> String {
    let (y, mo, d) = civil_from_days((ms + OFFSET_MS).div_euclid(DAY_MS));
    format!("{y:04}-{mo:02}-{d:02}")
}

/// Midnight in Beijing of a "YYYY-MM-DD" date, as epoch milliseconds.
pub fn parse_date(raw: &str) -> Option<i64> {
    let mut it = raw.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1900..=2200).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS - OFFSET_MS)
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_beijing_time() {
        assert_eq!(format_ms(0), "1970-01-01 08:00:00");
        // 2026-11-26T09:48:51Z
        assert_eq!(format_ms(1_795_686_531_000), "2026-11-26 17:48:51");
        assert_eq!(format_date(1_795_686_531_000), "2026-11-26");
    }

    #[test]
    fn parses_dates_and_refuses_impossible_ones() {
        let ms = parse_date("2024-02-29");
        assert_eq!(ms.map(format_ms), Some("2024-02-29 00:00:00".into()));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("abc"), None);
    }

    #[test]
    fn round_trips_every_day_for_years() {
        let start = days_from_civil(1999, 1, 1);
        for day in start..start + 366 * 30 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }
}
