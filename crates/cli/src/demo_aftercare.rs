//! What follows the demo's decisions: 好差评 ratings of the 2021 cases and the 告知承诺 commitments and
//! checks of today's cases. Pure and deterministic, on the statutory working-day calendar.
//!
//! - 2021: about 60 % of the completed cases whose enterprise has its own account are rated, mostly
//!   well (≈ 70 % 非常满意, 18 % 满意, 7 % 基本满意); the few 差评 are called back the next working
//!   day and rectified within 3–12 working days, and most of those enterprises then rate again.
//! - Today: every case decided on the commitment has the applicant's commitment written before the
//!   decision; a case that passed 核查通过 or was revoked has its check's result at that event.

use crate::demo_approval::{DemoCase, DemoEvent};
use crate::demo_data::Rng;
use dianxiaoer_core::approval::commitment::{CheckMethod, CheckOutcome, CheckResult};
use dianxiaoer_core::approval::default_flow::action as a;
use dianxiaoer_core::approval::rating::Level;
use dianxiaoer_core::approval::{Calendar, Date};

const TAG: u64 = 0x4841_4f50;
const MINUTE: i64 = 60_000;

/// A bad rating's call-back and rectification: (when, note) each.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRemedy {
    pub callback: (i64, &'static str),
    pub rectify: (i64, &'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoRating {
    pub level: Level,
    pub comment: &'static str,
    pub at: i64,
    pub remedy: Option<DemoRemedy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoCommitment {
    pub text: String,
    pub at: i64,
    /// The check's result and when it was recorded.
    pub check: Option<(CheckResult, i64)>,
}

/// What followed the decision of the case at an index of the demo's list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemoAftercare {
    pub commitment: Option<DemoCommitment>,
    pub ratings: Vec<DemoRating>,
}

const GOOD: [&str; 5] = ["", "办理很快，一次都没跑", "工作人员耐心指导", "", "网上申请很方便"];
const BAD: [(&str, &str, &str); 3] = [
    (
        "材料退回了两次，希望一次性告知",
        "已电话回访，核实材料要求告知不一次到位",
        "修订办事指南材料清单，实行一次性告知",
    ),
    ("审查等待时间较长", "已电话回访，核实审查环节排队", "增设帮办专员，审查时限压缩至承诺时限一半"),
    ("窗口咨询电话打不通", "已上门回访，核实咨询电话占线", "开通第二条咨询热线并公示"),
];

fn at(day: Date, minute: u32) -> i64 {
    day.start_ms() + i64::from(minute) * MINUTE
}

/// The `n`-th working day after the Beijing date of `ms`.
fn working_day_after(cal: &Calendar, ms: i64, n: u32) -> Date {
    (0..n).fold(Date::from_ms(ms), |d, _| cal.first_working_day_from(d.next()))
}

fn level(rng: &mut Rng) -> Level {
    match rng.unit() {
        u if u < 0.70 => Level::VerySatisfied,
        u if u < 0.88 => Level::Satisfied,
        u if u < 0.95 => Level::Basic,
        u if u < 0.985 => Level::Dissatisfied,
        _ => Level::VeryDissatisfied,
    }
}

fn ratings_of(seed: u64, n: usize, c: &DemoCase, cal: &Calendar) -> Vec<DemoRating> {
    let mut rng = Rng::stream(seed, TAG, n as u64);
    let Some(last) = c.events.last().map(|e| e.at) else { return Vec::new() };
    if !rng.chance(0.6) {
        return Vec::new();
    }
    let rated = at(working_day_after(cal, last, rng.range(1, 3)), rng.range(540, 1000));
    let first = level(&mut rng);
    if !first.is_bad() {
        let comment = rng.pick(&GOOD).copied().unwrap_or_default();
        return vec![DemoRating { level: first, comment, at: rated, remedy: None }];
    }
    let (complaint, called, fixed) = rng.pick(&BAD).copied().unwrap_or(BAD[0]);
    let callback = at(working_day_after(cal, rated, 1), rng.range(540, 700));
    let rectified = at(working_day_after(cal, rated, rng.range(3, 12)), rng.range(540, 1000));
    let mut out = vec![DemoRating {
        level: first,
        comment: complaint,
        at: rated,
        remedy: Some(DemoRemedy { callback: (callback, called), rectify: (rectified, fixed) }),
    }];
    if rng.chance(0.7) {
        let again = if rng.chance(0.6) { Level::Satisfied } else { Level::VerySatisfied };
        let when = at(working_day_after(cal, rectified, rng.range(1, 4)), rng.range(540, 1000));
        out.push(DemoRating { level: again, comment: "整改后明显改进", at: when, remedy: None });
    }
    out
}

fn event(c: &DemoCase, action: &str) -> Option<DemoEvent> {
    c.events.iter().find(|e| e.action == action).cloned()
}

fn commitment_of(c: &DemoCase) -> Option<DemoCommitment> {
    let decided = event(c, a::APPROVE_ON_COMMITMENT)?;
    let before = c.events.iter().rev().find(|e| e.at < decided.at).map_or(c.filed_at, |e| e.at);
    let text = format!(
        "本单位郑重承诺：已知晓审批机关告知的全部条件和标准，本单位符合上述条件，所提交材料真实有效；\
         如有不实，愿意承担撤销审批决定及相应法律责任。（{}）",
        c.item_code
    );
    let check = if let Some(e) = event(c, a::VERIFY) {
        let r = CheckResult { outcome: CheckOutcome::Passed, method: CheckMethod::OnSite, findings: String::new() };
        Some((r, e.at))
    } else {
        event(c, a::REVOKE).map(|e| {
            let findings = "现场核查发现经营场所面积与承诺不符，卫生设施未按承诺配置".to_owned();
            (CheckResult { outcome: CheckOutcome::Failed, method: CheckMethod::OnSite, findings }, e.at)
        })
    };
    Some(DemoCommitment { text, at: before + 30 * MINUTE, check })
}

/// The ratings of every completed case of `cases` in any year, by index: the benchmark's years of
/// history, rated as the demo's 2021.
pub fn ratings(seed: u64, cases: &[DemoCase]) -> Vec<(usize, Vec<DemoRating>)> {
    let cal = Calendar::statutory();
    cases
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.events.last().map(|e| e.action), Some(a::COMPLETE | a::FOLLOW_UP)))
        .map(|(n, c)| (n, ratings_of(seed, n, c, &cal)))
        .filter(|(_, r)| !r.is_empty())
        .collect()
}

/// The aftercare of each case of `cases` (the 2021 year and today's open ones, as loaded) whose
/// enterprise index is below `accounts` (only an enterprise with its own user rates), by index.
pub fn aftercare(seed: u64, cases: &[DemoCase], accounts: usize) -> Vec<(usize, DemoAftercare)> {
    let cal = Calendar::statutory();
    let mut out = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let done = matches!(c.events.last().map(|e| e.action), Some(a::COMPLETE | a::FOLLOW_UP));
        let year_2021 = Date::from_ms(c.filed_at).year() == 2021;
        let ratings =
            if year_2021 && done && c.enterprise < accounts { ratings_of(seed, n, c, &cal) } else { Vec::new() };
        let commitment = commitment_of(c);
        if !ratings.is_empty() || commitment.is_some() {
            out.push((n, DemoAftercare { commitment, ratings }));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::demo_approval::{open_today, year_2021};
    use dianxiaoer_core::access::Role;
    use dianxiaoer_core::approval::rating::{Handling, Previous, Step, may_handle, may_rate, remedy_due};

    fn grid(i: usize) -> usize {
        i % 10
    }

    #[test]
    fn the_2021_ratings_are_mostly_good_and_bad_ones_are_remedied_in_time() {
        let cases = year_2021(7, 300, 40, &grid);
        let after = aftercare(7, &cases, 40);
        let cal = Calendar::statutory();
        let ratings: Vec<&DemoRating> = after.iter().flat_map(|(_, a)| a.ratings.iter()).collect();
        assert!(ratings.len() > 150, "{}", ratings.len());
        let bad: Vec<&&DemoRating> = ratings.iter().filter(|r| r.level.is_bad()).collect();
        assert!(!bad.is_empty() && bad.len() * 10 < ratings.len(), "{} of {}", bad.len(), ratings.len());
        for (n, a) in &after {
            let c = &cases[*n];
            assert!(c.enterprise < 40);
            let mut previous: Option<Previous> = None;
            let mut last = c.events.last().unwrap().at;
            for r in &a.ratings {
                assert!(r.at > last && cal.is_working_day(Date::from_ms(r.at)));
                assert_eq!(may_rate("completed", previous), Ok(()));
                let mut rectified = false;
                if let Some(m) = &r.remedy {
                    let due = remedy_due(&cal, r.at);
                    assert!(Date::from_ms(m.callback.0) <= due.callback_due, "call-back within 1 working day");
                    assert!(Date::from_ms(m.rectify.0) <= due.rectify_due, "rectified within 15 working days");
                    let h = Handling { bad: true, ..Handling::default() };
                    assert!(may_handle(Step::CallBack, Role::DepartmentStaff, h, m.callback.1).is_ok());
                    let h = Handling { called_back: true, ..h };
                    assert!(may_handle(Step::Rectify, Role::DepartmentStaff, h, m.rectify.1).is_ok());
                    assert!(m.rectify.0 > m.callback.0 && m.callback.0 > r.at);
                    rectified = true;
                    last = m.rectify.0;
                } else {
                    last = r.at;
                }
                previous = Some(Previous { level: r.level, rectified });
            }
        }
        assert_eq!(after, aftercare(7, &cases, 40), "deterministic");
    }

    #[test]
    fn todays_commitment_cases_have_their_commitment_and_check() {
        let today = Date::new(2026, 11, 26).unwrap();
        let cases = open_today(7, today, 300, 40, &grid);
        let after = aftercare(7, &cases, 40);
        let with: Vec<&DemoCommitment> = after.iter().filter_map(|(_, a)| a.commitment.as_ref()).collect();
        let outcome = |o| with.iter().filter(|k| k.check.as_ref().is_some_and(|c| c.0.outcome == o)).count();
        assert_eq!(outcome(CheckOutcome::Failed), 1);
        assert_eq!(outcome(CheckOutcome::Passed), 1);
        assert_eq!(with.iter().filter(|k| k.check.is_none()).count(), 1);
        assert!(after.iter().all(|(_, a)| a.ratings.is_empty()));
        for (n, a) in &after {
            let decided = cases[*n].events.iter().find(|e| e.action == a::APPROVE_ON_COMMITMENT).unwrap().at;
            assert!(a.commitment.as_ref().unwrap().at < decided);
        }
    }
}
