//! Pauses of the clock: while the applicant supplements or corrects materials (补正), the time
//! limit does not run (补正时间不计入办理时限).
//!
//! Rule, by whole working days like the rest of the calendar:
//! - the day the pause starts still counts (the office worked on the item that day);
//! - the pause ends on the day the supplement counts as received, under the same rule as the
//!   application itself (after office close or on a rest day → the next working day), and that day
//!   is day 0 again: it does not count, counting resumes the working day after;
//! - so a pause from instant `p` to instant `r` removes the working days `d` with
//!   `date(p) < d <= effective_receipt_day(r)`. A pause started and ended on the same working day,
//!   before close, removes nothing; overlapping pauses remove each day once;
//! - a pause not yet ended removes every day after its start up to today, and the deadline is
//!   unknown until it ends.

use super::calendar::{Calendar, CalendarError};
use super::date::Date;
use super::working_days::WorkingDays;

/// One pause, from an instant until an instant, or still running (`until` = `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pause {
    from_ms: i64,
    until_ms: Option<i64>,
}

impl Pause {
    pub fn new(from_ms: i64, until_ms: Option<i64>) -> Result<Pause, CalendarError> {
        if until_ms.is_some_and(|u| u < from_ms) {
            return Err(CalendarError::new("补正结束时间不能早于开始时间"));
        }
        Ok(Pause { from_ms, until_ms })
    }

    pub fn from_ms(self) -> i64 {
        self.from_ms
    }

    pub fn until_ms(self) -> Option<i64> {
        self.until_ms
    }

    pub fn is_running(self) -> bool {
        self.until_ms.is_none()
    }
}

impl Calendar {
    /// [`Calendar::elapsed_working_days`] without the working days the pauses remove (module docs).
    pub fn elapsed_working_days_paused(&self, received_ms: i64, now_ms: i64, pauses: &[Pause]) -> u32 {
        let day0 = self.effective_receipt_day(received_ms);
        let today = Date::from_ms(now_ms);
        let spans = self.paused_spans(day0, pauses, |p| match p.until_ms {
            Some(until) if until <= now_ms => self.effective_receipt_day(until).min(today),
            _ => today,
        });
        let paused: u32 = spans.iter().map(|&(lo, hi)| self.count_after(lo, hi.min(today))).sum();
        self.count_after(day0, today).saturating_sub(paused)
    }

    /// [`Calendar::deadline`] pushed back by the working days the pauses remove; `None` while a pause
    /// is still running, since the clock is stopped and the remaining days cannot be placed yet.
    pub fn deadline_paused(&self, received_ms: i64, limit: WorkingDays, pauses: &[Pause]) -> Option<Date> {
        if pauses.iter().any(|p| p.is_running()) {
            return None;
        }
        let day0 = self.effective_receipt_day(received_ms);
        let spans = self.paused_spans(day0, pauses, |p| self.effective_receipt_day(p.until_ms.unwrap_or(p.from_ms)));
        let mut day = day0;
        let mut left = limit.get();
        for (lo, hi) in spans {
            let available = self.count_after(day, lo);
            if available >= left {
                break;
            }
            left -= available;
            day = hi;
        }
        Some(self.nth_working_day_after(day, left))
    }

    /// The removed spans `(lo, hi]` after day 0, in order, overlapping ones merged. `end` gives the
    /// last removed day of a pause.
    fn paused_spans(&self, day0: Date, pauses: &[Pause], end: impl Fn(&Pause) -> Date) -> Vec<(Date, Date)> {
        let mut spans: Vec<(Date, Date)> =
            pauses.iter().map(|p| (Date::from_ms(p.from_ms).max(day0), end(p))).filter(|(lo, hi)| lo < hi).collect();
        spans.sort();
        let mut merged: Vec<(Date, Date)> = Vec::with_capacity(spans.len());
        for (lo, hi) in spans {
            match merged.last_mut() {
                Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        merged
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str, h: i64, m: i64) -> i64 {
        Date::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).start_ms() + (h * 60 + m) * 60_000
    }

    fn pause(from: i64, until: Option<i64>) -> Pause {
        Pause::new(from, until).unwrap_or_else(|e| panic!("{e}"))
    }

    fn wd(n: u32) -> WorkingDays {
        WorkingDays::new(n).unwrap_or_else(|| panic!("{n}"))
    }

    /// Received Monday 2024-03-04 10:00 (day 0); 补正 from Wednesday 11:00.
    const RECEIVED: &str = "2024-03-04";

    #[test]
    fn pause_days_do_not_count() {
        let cal = Calendar::statutory();
        let received = at(RECEIVED, 10, 0);
        let p = [pause(at("2024-03-06", 11, 0), Some(at("2024-03-08", 15, 0)))];
        // Counted: Tue 5 (1), Wed 6 (2); Thu 7 and Fri 8 (resume day, day 0 again) removed; Mon 11 (3).
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-06", 16, 0), &p), 2);
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-08", 16, 0), &p), 2);
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-11", 9, 0), &p), 3);
        assert_eq!(cal.elapsed_working_days(received, at("2024-03-11", 9, 0)), 5);
        assert_eq!(cal.deadline_paused(received, wd(5), &p).map(|d| d.to_string()), Some("2024-03-13".into()));
        assert_eq!(cal.deadline(received, wd(5)).to_string(), "2024-03-11");
    }

    #[test]
    fn a_supplement_after_hours_resumes_the_next_working_day() {
        let cal = Calendar::statutory();
        let received = at(RECEIVED, 10, 0);
        let p = [pause(at("2024-03-06", 11, 0), Some(at("2024-03-08", 18, 0)))];
        // Resumes Monday 11 as day 0: Tue 12 is the third counted day.
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-11", 16, 0), &p), 2);
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-12", 9, 0), &p), 3);
        assert_eq!(cal.deadline_paused(received, wd(3), &p).map(|d| d.to_string()), Some("2024-03-12".into()));
    }

    #[test]
    fn a_running_pause_stops_the_clock() {
        let cal = Calendar::statutory();
        let received = at(RECEIVED, 10, 0);
        let p = [pause(at("2024-03-06", 11, 0), None)];
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-20", 9, 0), &p), 2);
        assert_eq!(cal.deadline_paused(received, wd(5), &p), None);
        // Recorded to end after `now`: still running as of now.
        let later = [pause(at("2024-03-06", 11, 0), Some(at("2024-04-01", 9, 0)))];
        assert_eq!(cal.elapsed_working_days_paused(received, at("2024-03-20", 9, 0), &later), 2);
    }

    #[test]
    fn short_overlapping_and_early_pauses() {
        let cal = Calendar::statutory();
        let received = at(RECEIVED, 10, 0);
        let now = at("2024-03-11", 9, 0);
        let same_day = [pause(at("2024-03-06", 9, 0), Some(at("2024-03-06", 15, 0)))];
        assert_eq!(cal.elapsed_working_days_paused(received, now, &same_day), 5);
        let overlapping = [
            pause(at("2024-03-05", 9, 0), Some(at("2024-03-07", 9, 0))),
            pause(at("2024-03-06", 9, 0), Some(at("2024-03-07", 10, 0))),
        ];
        // Removed: Wed 6 and Thu 7, once.
        assert_eq!(cal.elapsed_working_days_paused(received, now, &overlapping), 3);
        // A pause that ended before day 0 changes nothing.
        let before = [pause(at("2024-03-01", 9, 0), Some(at("2024-03-04", 9, 0)))];
        assert_eq!(cal.elapsed_working_days_paused(received, now, &before), 5);
        assert_eq!(cal.deadline_paused(received, wd(5), &before), Some(cal.deadline(received, wd(5))));
    }

    #[test]
    fn pauses_are_checked() {
        let err = Pause::new(at("2024-03-06", 11, 0), Some(at("2024-03-05", 11, 0))).map_err(|e| e.message);
        assert_eq!(err, Err("补正结束时间不能早于开始时间".to_owned()));
        assert!(pause(1, None).is_running());
        assert_eq!(pause(1, Some(2)).until_ms(), Some(2));
    }

    fn any_pauses() -> impl Strategy<Value = Vec<Pause>> {
        // Starts within 60 days of 2024-03-04 00:00 Beijing, lasting up to 20 days.
        let base = at(RECEIVED, 0, 0);
        proptest::collection::vec((0i64..60 * 1440, 0i64..20 * 1440), 0..4).prop_map(move |v| {
            v.into_iter()
                .filter_map(|(s, len)| Pause::new(base + s * 60_000, Some(base + (s + len) * 60_000)).ok())
                .collect()
        })
    }

    proptest! {
        #[test]
        fn paused_deadline_is_where_paused_elapsed_reaches_the_limit(
            pauses in any_pauses(), minute in 0i64..1440, n in 0u32..=40,
        ) {
            let cal = Calendar::statutory();
            let received = at(RECEIVED, 0, 0) + minute * 60_000;
            let deadline = cal.deadline_paused(received, wd(n), &pauses);
            prop_assert!(deadline.is_some());
            let deadline = deadline.unwrap_or_else(|| cal.deadline(received, wd(n)));
            prop_assert!(cal.is_working_day(deadline));
            prop_assert!(deadline >= cal.deadline(received, wd(n)));
            prop_assert_eq!(cal.elapsed_working_days_paused(received, deadline.start_ms(), &pauses), n);
            // The day before the deadline had fewer days used (for n > 0), and the day after no more than one more.
            let before = cal.elapsed_working_days_paused(received, deadline.add_days(-1).start_ms(), &pauses);
            prop_assert!(n == 0 || before < n);
            let after = cal.elapsed_working_days_paused(received, deadline.next().start_ms(), &pauses);
            prop_assert!(after == n || after == n + 1);
            prop_assert!(cal.elapsed_working_days_paused(received, deadline.start_ms(), &[]) >= n);
        }
    }
}
