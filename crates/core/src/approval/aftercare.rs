//! What follows a decision (事后环节): the post-approval check of a 告知承诺 decision and the follow-up
//! visit (回访) of a completed case, each due a configurable number of working days later.
//!
//! Defaults, stated because the reference gives no figure for either: the check within 30 working
//! days of the decision (国办发〔2020〕42号 only says "within a set period"), the follow-up within 5
//! working days of 办结. The call-back and rectification of a bad rating have fixed limits from the
//! reference (`rating.rs`).

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::date::Date;
use super::working_days::WorkingDays;

/// Default working days from a 告知承诺 decision to the check's due date.
pub const DEFAULT_POST_CHECK_DAYS: u32 = 30;
/// Default working days from 办结 to the follow-up's due date.
pub const DEFAULT_FOLLOW_UP_DAYS: u32 = 5;
/// Longest check period one may set: half a year of working days.
pub const MAX_POST_CHECK_DAYS: u32 = 120;
/// Longest follow-up period one may set.
pub const MAX_FOLLOW_UP_DAYS: u32 = 30;

/// The configurable periods (stored as settings; edited by catalogue staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AftercarePolicy {
    pub post_check_days: WorkingDays,
    pub follow_up_days: WorkingDays,
}

impl Default for AftercarePolicy {
    fn default() -> Self {
        AftercarePolicy {
            post_check_days: WorkingDays::new(DEFAULT_POST_CHECK_DAYS).unwrap_or(WorkingDays::MAX),
            follow_up_days: WorkingDays::new(DEFAULT_FOLLOW_UP_DAYS).unwrap_or(WorkingDays::MAX),
        }
    }
}

fn days(field: &'static str, label: &str, raw: &str, max: u32) -> Result<WorkingDays, (&'static str, String)> {
    let n = WorkingDays::parse(raw).map_err(|e| (field, format!("{label}：{}", e.message)))?;
    if n.get() == 0 || n.get() > max {
        return Err((field, format!("{label}应为1至{max}个工作日")));
    }
    Ok(n)
}

impl AftercarePolicy {
    /// Parses the two periods as typed; errors by field.
    pub fn parse(post_check: &str, follow_up: &str) -> Result<AftercarePolicy, Vec<(&'static str, String)>> {
        let a = days("post_check_days", "告知承诺核查期限", post_check, MAX_POST_CHECK_DAYS);
        let b = days("follow_up_days", "办结后回访期限", follow_up, MAX_FOLLOW_UP_DAYS);
        match (a, b) {
            (Ok(post_check_days), Ok(follow_up_days)) => Ok(AftercarePolicy { post_check_days, follow_up_days }),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }

    /// Whether a stored policy is within the bounds [`AftercarePolicy::parse`] enforces.
    pub fn is_valid(&self) -> bool {
        (1..=MAX_POST_CHECK_DAYS).contains(&self.post_check_days.get())
            && (1..=MAX_FOLLOW_UP_DAYS).contains(&self.follow_up_days.get())
    }

    /// The follow-up's due date for a case completed at `completed_ms`.
    pub fn follow_up_due(&self, cal: &Calendar, completed_ms: i64) -> Date {
        cal.deadline(completed_ms, self.follow_up_days)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_thirty_and_five_working_days() {
        let p = AftercarePolicy::default();
        assert_eq!((p.post_check_days.get(), p.follow_up_days.get()), (30, 5));
        assert!(p.is_valid());
    }

    #[test]
    fn periods_are_parsed_with_bounds() {
        let p = AftercarePolicy::parse("20", "3个工作日").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((p.post_check_days.get(), p.follow_up_days.get()), (20, 3));
        let errs = AftercarePolicy::parse("0", "31").err().unwrap_or_default();
        assert_eq!(
            errs,
            vec![
                ("post_check_days", "告知承诺核查期限应为1至120个工作日".to_owned()),
                ("follow_up_days", "办结后回访期限应为1至30个工作日".to_owned()),
            ]
        );
        let errs = AftercarePolicy::parse("三十", "5").err().unwrap_or_default();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].1.starts_with("告知承诺核查期限："), "{errs:?}");
    }

    #[test]
    fn the_follow_up_skips_the_spring_festival() {
        let cal = Calendar::statutory();
        let d = |s: &str| Date::parse(s).unwrap_or_else(|e| panic!("{e}"));
        // Completed Friday 2026-02-13 10:00; 02-14 is a working Saturday (调休), 02-15..02-23 rest.
        let due = AftercarePolicy::default().follow_up_due(&cal, d("2026-02-13").start_ms() + 10 * 3_600_000);
        assert_eq!(due.to_string(), "2026-02-27");
    }
}
