//! 好差评 — the enterprise's rating of a completed case, and what a bad rating sets going (reference
//! "好差评").
//!
//! Rules:
//! - Five levels: 非常满意, 满意, 基本满意, 不满意, 非常不满意; the two lowest are 差评.
//! - Only the enterprise itself rates, once the case is completed (办结 or 已回访).
//! - A 差评 opens a call-back (回访核实) due within [`CALLBACK_DAYS`] working day and a rectification
//!   (整改) due within [`RECTIFY_DAYS`] working days (the reference's Zhejiang figures), both counted
//!   from the rating like every limit (after office hours from the next working day). Staff record
//!   each with what was done: the call-back first, then the rectification.
//! - A case is rated once; after a 差评 has been rectified the enterprise may rate again (each rating
//!   kept, the latest counts). Rating again without a rectification is refused.
//! - Satisfaction (满意率) is the share of 非常满意, 满意 and 基本满意 among the latest ratings.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::date::Date;
use super::default_flow::state;
use super::working_days::WorkingDays;
use crate::access::Role;

/// Working days to call a bad rating back.
pub const CALLBACK_DAYS: u32 = 1;
/// Working days to rectify after a bad rating.
pub const RECTIFY_DAYS: u32 = 15;
/// Longest comment on a rating, and longest note of a call-back or rectification, in characters.
pub const TEXT_MAX_CHARS: usize = 500;
/// States whose case may be rated.
pub const RATABLE: [&str; 2] = [state::COMPLETED, state::FOLLOWED_UP];

/// A rating level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    VeryDissatisfied,
    Dissatisfied,
    Basic,
    Satisfied,
    VerySatisfied,
}

impl Level {
    /// Best first, as the rating form lists them.
    pub const ALL: [Level; 5] =
        [Level::VerySatisfied, Level::Satisfied, Level::Basic, Level::Dissatisfied, Level::VeryDissatisfied];

    pub fn code(self) -> &'static str {
        match self {
            Level::VerySatisfied => "very_satisfied",
            Level::Satisfied => "satisfied",
            Level::Basic => "basic",
            Level::Dissatisfied => "dissatisfied",
            Level::VeryDissatisfied => "very_dissatisfied",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::VerySatisfied => "非常满意",
            Level::Satisfied => "满意",
            Level::Basic => "基本满意",
            Level::Dissatisfied => "不满意",
            Level::VeryDissatisfied => "非常不满意",
        }
    }

    /// 5 for 非常满意 down to 1 for 非常不满意 (how it is stored).
    pub fn score(self) -> i64 {
        match self {
            Level::VerySatisfied => 5,
            Level::Satisfied => 4,
            Level::Basic => 3,
            Level::Dissatisfied => 2,
            Level::VeryDissatisfied => 1,
        }
    }

    pub fn from_score(score: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.score() == score)
    }

    /// The code, the Chinese label or the score 1–5.
    pub fn parse(raw: &str) -> Option<Level> {
        let s = raw.trim();
        Level::ALL.into_iter().find(|l| l.code() == s || l.label() == s || s.parse::<i64>().ok() == Some(l.score()))
    }

    /// 差评: 不满意 or 非常不满意.
    pub fn is_bad(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }
}

/// The latest rating of a case, as far as rating again depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previous {
    pub level: Level,
    /// The rectification of this (bad) rating is recorded.
    pub rectified: bool,
}

/// Whether the enterprise may rate a case in `state` whose latest rating is `previous`.
pub fn may_rate(state: &str, previous: Option<Previous>) -> Result<(), String> {
    if !RATABLE.contains(&state) {
        return Err("办件办结后方可评价".into());
    }
    match previous {
        None => Ok(()),
        Some(p) if !p.level.is_bad() => Err(format!("已评价（{}），不能重复评价", p.level.label())),
        Some(p) if !p.rectified => Err(format!("已评价（{}），差评整改完成后方可再次评价", p.level.label())),
        Some(_) => Ok(()),
    }
}

/// The optional comment of a rating, trimmed and bounded.
pub fn rating_comment(raw: &str) -> Result<String, String> {
    let c = raw.trim();
    if c.chars().count() > TEXT_MAX_CHARS {
        return Err(format!("评价意见不能超过{TEXT_MAX_CHARS}个字"));
    }
    Ok(c.to_owned())
}

/// The due dates a bad rating sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Remedy {
    pub callback_due: Date,
    pub rectify_due: Date,
}

fn wd(n: u32) -> WorkingDays {
    WorkingDays::new(n).unwrap_or(WorkingDays::MAX)
}

/// The call-back and rectification deadlines of a bad rating given at `rated_ms`.
pub fn remedy_due(cal: &Calendar, rated_ms: i64) -> Remedy {
    Remedy {
        callback_due: cal.deadline(rated_ms, wd(CALLBACK_DAYS)),
        rectify_due: cal.deadline(rated_ms, wd(RECTIFY_DAYS)),
    }
}

/// What staff record about a bad rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 回访核实: the enterprise was called back and the facts checked.
    CallBack,
    /// 整改: what was put right.
    Rectify,
}

impl Step {
    pub fn code(self) -> &'static str {
        match self {
            Step::CallBack => "callback",
            Step::Rectify => "rectify",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::CallBack => "回访核实",
            Step::Rectify => "整改",
        }
    }

    /// The roles that record the step: the service staff both, a grid officer the call-back too (it
    /// makes the follow-up visits of the enterprises of its grid).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Step::CallBack => &[Role::DepartmentStaff, Role::GridOfficer],
            Step::Rectify => &[Role::DepartmentStaff],
        }
    }
}

/// Why a step may not be recorded: by the role (403) or by the rating's state (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Role(String),
    State(String),
}

/// The state of a rating as far as recording a step depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handling {
    pub bad: bool,
    pub called_back: bool,
    pub rectified: bool,
}

/// Whether `role` may record `step` now, with its note (trimmed, required, bounded).
pub fn may_handle(step: Step, role: Role, h: Handling, note: &str) -> Result<String, Refusal> {
    if !step.roles().contains(&role) {
        let who = step.roles().iter().map(|r| r.label()).collect::<Vec<_>>().join("、");
        return Err(Refusal::Role(format!("{}不能登记{}，仅限：{who}", role.label(), step.label())));
    }
    if !h.bad {
        return Err(Refusal::State("该评价不是差评，无需回访核实或整改".into()));
    }
    match step {
        Step::CallBack if h.called_back => return Err(Refusal::State("已登记回访核实，不能重复登记".into())),
        Step::Rectify if h.rectified => return Err(Refusal::State("已登记整改，不能重复登记".into())),
        Step::Rectify if !h.called_back => return Err(Refusal::State("请先登记回访核实，再登记整改".into())),
        _ => {}
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(Refusal::State(format!("请填写{}情况", step.label())));
    }
    if note.chars().count() > TEXT_MAX_CHARS {
        return Err(Refusal::State(format!("{}情况不能超过{TEXT_MAX_CHARS}个字", step.label())));
    }
    Ok(note.to_owned())
}

/// Ratings counted per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    pub very_satisfied: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub dissatisfied: i64,
    pub very_dissatisfied: i64,
}

impl Counts {
    pub fn add(&mut self, level: Level, n: i64) {
        match level {
            Level::VerySatisfied => self.very_satisfied += n,
            Level::Satisfied => self.satisfied += n,
            Level::Basic => self.basic += n,
            Level::Dissatisfied => self.dissatisfied += n,
            Level::VeryDissatisfied => self.very_dissatisfied += n,
        }
    }

    pub fn total(&self) -> i64 {
        self.very_satisfied + self.satisfied + self.basic + self.dissatisfied + self.very_dissatisfied
    }

    /// 差评.
    pub fn bad(&self) -> i64 {
        self.dissatisfied + self.very_dissatisfied
    }

    /// 满意率 in percent, `None` without ratings.
    pub fn satisfaction(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (total - self.bad()) as f64 * 100.0 / total as f64)
    }

    /// Average score 1–5, `None` without ratings.
    pub fn average(&self) -> Option<f64> {
        let total = self.total();
        let sum = 5 * self.very_satisfied
            + 4 * self.satisfied
            + 3 * self.basic
            + 2 * self.dissatisfied
            + self.very_dissatisfied;
        (total > 0).then(|| sum as f64 / total as f64)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn prev(level: Level, rectified: bool) -> Option<Previous> {
        Some(Previous { level, rectified })
    }

    #[test]
    fn five_levels_two_of_them_bad() {
        let labels: Vec<&str> = Level::ALL.iter().map(|l| l.label()).collect();
        assert_eq!(labels, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
        let bad: Vec<Level> = Level::ALL.into_iter().filter(|l| l.is_bad()).collect();
        assert_eq!(bad, [Level::Dissatisfied, Level::VeryDissatisfied]);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.code()), Some(l));
            assert_eq!(Level::parse(l.label()), Some(l));
            assert_eq!(Level::from_score(l.score()), Some(l));
            assert_eq!(Level::parse(&l.score().to_string()), Some(l));
        }
        assert_eq!(Level::parse("好评"), None);
        assert_eq!(Level::from_score(0), None);
    }

    #[test]
    fn rated_once_after_completion_and_again_only_after_rectification() {
        assert_eq!(may_rate(state::COMPLETED, None), Ok(()));
        assert_eq!(may_rate(state::FOLLOWED_UP, None), Ok(()));
        assert_eq!(may_rate(state::REVIEWING, None), Err("办件办结后方可评价".to_owned()));
        assert!(may_rate(state::REVOKED, None).is_err());
        assert_eq!(
            may_rate(state::COMPLETED, prev(Level::Satisfied, false)),
            Err("已评价（满意），不能重复评价".to_owned())
        );
        // Twice without rectification: refused.
        assert_eq!(
            may_rate(state::COMPLETED, prev(Level::VeryDissatisfied, false)),
            Err("已评价（非常不满意），差评整改完成后方可再次评价".to_owned())
        );
        assert_eq!(may_rate(state::FOLLOWED_UP, prev(Level::Dissatisfied, true)), Ok(()));
        // A good rating after a rectification closes it again.
        assert!(may_rate(state::COMPLETED, prev(Level::Basic, true)).is_err());
        assert!(rating_comment(&"评".repeat(TEXT_MAX_CHARS + 1)).is_err());
        assert_eq!(rating_comment("  很快 "), Ok("很快".to_owned()));
    }

    #[test]
    fn callback_and_rectification_are_due_in_working_days_across_holidays() {
        let cal = Calendar::statutory();
        let at = |s: &str, h: i64| Date::parse(s).map(|d| d.start_ms() + h * 3_600_000).unwrap_or_default();
        // Rated Wednesday 2026-09-30 10:00, the day before 国庆 (10-01..10-07); 10-10 is a working
        // Saturday (调休).
        let r = remedy_due(&cal, at("2026-09-30", 10));
        assert_eq!(r.callback_due.to_string(), "2026-10-08");
        assert_eq!(r.rectify_due.to_string(), "2026-10-27");
        // Rated Friday evening: counted from Monday, so the call-back is due Tuesday.
        let r = remedy_due(&cal, at("2026-03-06", 18));
        assert_eq!(r.callback_due.to_string(), "2026-03-10");
    }

    #[test]
    fn staff_call_back_first_then_rectify() {
        let bad = Handling { bad: true, called_back: false, rectified: false };
        let staff = Role::DepartmentStaff;
        assert_eq!(may_handle(Step::CallBack, staff, bad, " 已电话联系 "), Ok("已电话联系".to_owned()));
        assert_eq!(may_handle(Step::CallBack, Role::GridOfficer, bad, "上门"), Ok("上门".to_owned()));
        assert!(matches!(may_handle(Step::Rectify, Role::GridOfficer, bad, "x"), Err(Refusal::Role(_))));
        assert!(matches!(may_handle(Step::CallBack, Role::EnterpriseUser, bad, "x"), Err(Refusal::Role(_))));
        assert_eq!(
            may_handle(Step::Rectify, staff, bad, "x"),
            Err(Refusal::State("请先登记回访核实，再登记整改".into()))
        );
        let called = Handling { called_back: true, ..bad };
        assert!(matches!(may_handle(Step::CallBack, staff, called, "x"), Err(Refusal::State(_))));
        assert_eq!(may_handle(Step::Rectify, staff, called, "缩短材料审核时间"), Ok("缩短材料审核时间".into()));
        assert_eq!(may_handle(Step::Rectify, staff, called, " "), Err(Refusal::State("请填写整改情况".into())));
        let done = Handling { rectified: true, ..called };
        assert!(matches!(may_handle(Step::Rectify, staff, done, "x"), Err(Refusal::State(_))));
        let good = Handling::default();
        assert!(matches!(may_handle(Step::CallBack, staff, good, "x"), Err(Refusal::State(_))));
    }

    #[test]
    fn satisfaction_counts_the_three_upper_levels() {
        let mut c = Counts::default();
        assert_eq!((c.satisfaction(), c.average()), (None, None));
        c.add(Level::VerySatisfied, 6);
        c.add(Level::Satisfied, 2);
        c.add(Level::Basic, 1);
        c.add(Level::VeryDissatisfied, 1);
        assert_eq!((c.total(), c.bad()), (10, 1));
        assert_eq!(c.satisfaction(), Some(90.0));
        assert_eq!(c.average(), Some(4.2));
    }
}
