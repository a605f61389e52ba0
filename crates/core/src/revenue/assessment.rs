//! Assessment points (县科学发展综合考核 加分) for newly landed projects: towns and county departments
//! earn points per project by investment tier and by the area they cleared (清理地上附着物面积), with
//! bonuses such as a China-top-500 investor, and lose points for a shortfall against their yearly
//! quota of projects (reference/land-revenue-evaluation.md, "Assessment incentive"). The rule table is
//! dated: a rule counts for the years it was in force. Every score lists the projects and rules that
//! produced it.
//!
//! Who earns what: investment and investor points go to the unit that attracted the project (引资单位);
//! cleared-area points go to the host town (落地单位), which cleared the land; the zone itself takes
//! part in neither. Of several tiers of one kind a project matches, only the highest counts.
//! Points are kept in tenths so that half points stay exact.

use super::party::Unit;
use super::{RevenueError, shown};
use crate::area::Area;
use crate::money::Fen;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Points in tenths (e.g. 45 = 4.5 points).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Points(i64);

impl Points {
    pub const ZERO: Points = Points(0);

    pub const fn from_tenths(t: i64) -> Points {
        Points(t)
    }

    pub const fn tenths(self) -> i64 {
        self.0
    }

    /// Parses "4", "4.5", "-2" as typed on the rules page.
    pub fn parse(raw: &str) -> Result<Points, RevenueError> {
        let s = raw.trim();
        let bad = || RevenueError::new(format!("分值“{}”不正确，应为最多一位小数的数字，如 4 或 2.5", shown(s)));
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || int.len() > 4
            || frac.len() > 1
            || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = int.parse().map_err(|_| bad())?;
        let tenth: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        let t = whole * 10 + tenth;
        Ok(Points(if neg { -t } else { t }))
    }
}

impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.abs();
        if a % 10 == 0 { write!(f, "{sign}{}", a / 10) } else { write!(f, "{sign}{}.{}", a / 10, a % 10) }
    }
}

/// What a rule rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// A project whose actual investment (实际到位投资) is at least `min`.
    InvestmentTier { min: Fen },
    /// A project whose cleared area is at least `min`, to the host town.
    ClearedArea { min: Area },
    /// A project of a China-top-500 investor (中国500强).
    Top500,
    /// Per project missing from the unit's yearly quota (points normally negative).
    QuotaShortfall,
}

impl RuleKind {
    /// Which kinds compete as tiers: only the highest matching tier of a kind counts.
    fn family(self) -> u8 {
        match self {
            RuleKind::InvestmentTier { .. } => 0,
            RuleKind::ClearedArea { .. } => 1,
            RuleKind::Top500 => 2,
            RuleKind::QuotaShortfall => 3,
        }
    }

    fn threshold(self) -> i64 {
        match self {
            RuleKind::InvestmentTier { min } => min.fen(),
            RuleKind::ClearedArea { min } => min.m2_centi(),
            _ => 0,
        }
    }

    /// The rule in words, for the explanation of a score.
    pub fn describe(self) -> String {
        match self {
            RuleKind::InvestmentTier { min } => format!("实际到位投资 ≥ {}", min.display_auto()),
            RuleKind::ClearedArea { min } => format!("清理地上附着物面积 ≥ {}", min.mu_display()),
            RuleKind::Top500 => "中国500强企业投资".into(),
            RuleKind::QuotaShortfall => "未完成年度落地项目任务，每缺 1 个".into(),
        }
    }
}

/// A dated rule of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringRule {
    pub id: i64,
    pub kind: RuleKind,
    pub points: Points,
    pub from_year: i32,
    pub to_year: Option<i32>,
}

impl ScoringRule {
    pub fn in_force(&self, year: i32) -> bool {
        self.from_year <= year && self.to_year.is_none_or(|t| year <= t)
    }

    /// Checks a rule before it is saved: sensible years, signs and thresholds.
    pub fn validate(&self) -> Result<(), RevenueError> {
        if !(2000..=2100).contains(&self.from_year) || self.to_year.is_some_and(|t| t < self.from_year || t > 2100) {
            return Err(RevenueError::new("起止年份不正确：应在 2000–2100 之间，且止年不早于起年"));
        }
        if self.kind.threshold() < 0 {
            return Err(RevenueError::new("门槛不能为负数"));
        }
        match self.kind {
            RuleKind::QuotaShortfall if self.points.0 > 0 => Err(RevenueError::new("未完成任务的扣分应为负数或 0")),
            RuleKind::QuotaShortfall => Ok(()),
            _ if self.points.0 <= 0 => Err(RevenueError::new("加分项的分值应大于 0")),
            _ => Ok(()),
        }
    }
}

/// The published defaults (reference: +4 per project ≥ 10亿元, +8 ≥ 50亿元, +10 per top-500 investor),
/// with a smaller tier for a county zone's typical projects, cleared-area points and a quota deduction —
/// all editable; these only seed an empty table.
pub fn default_rules(from_year: i32) -> Vec<ScoringRule> {
    let yi = |n: i64| Fen::from_fen(n * 10_000_000_000);
    let mu = |n: i64| Area::from_m2_centi(n * 200_000 / 3);
    let rule = |id, kind, tenths| ScoringRule { id, kind, points: Points(tenths), from_year, to_year: None };
    vec![
        rule(1, RuleKind::InvestmentTier { min: yi(1) }, 10),
        rule(2, RuleKind::InvestmentTier { min: yi(10) }, 40),
        rule(3, RuleKind::InvestmentTier { min: yi(50) }, 80),
        rule(4, RuleKind::ClearedArea { min: mu(50) }, 10),
        rule(5, RuleKind::ClearedArea { min: mu(100) }, 20),
        rule(6, RuleKind::Top500, 100),
        rule(7, RuleKind::QuotaShortfall, -20),
    ]
}

/// A project as scoring sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedProject {
    pub id: i64,
    pub name: String,
    /// `Unit::Zone` when the zone attracted it itself.
    pub introducer: Unit,
    pub host: Unit,
    /// The year it landed (落地); projects not landed are not scored.
    pub landed_year: Option<i32>,
    pub actual_investment: Fen,
    pub cleared_area: Area,
    pub top500: bool,
}

/// A unit's quota of newly landed projects for a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub unit: Unit,
    pub year: i32,
    pub projects: u32,
}

/// One line of a score's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreLine {
    pub project: Option<(i64, String)>,
    pub rule_id: i64,
    pub rule: String,
    /// How many times the rule applied (the shortfall for a quota deduction, else 1).
    pub times: u32,
    pub points: Points,
}

/// A unit's score for a year with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Score {
    pub total: Points,
    pub landed: u32,
    pub lines: Vec<ScoreLine>,
}

/// The highest tier of `family` in force that `value` reaches.
fn best_tier(rules: &[&ScoringRule], family: u8, value: i64) -> Option<ScoringRule> {
    rules
        .iter()
        .filter(|r| r.kind.family() == family && r.kind.threshold() <= value)
        .max_by_key(|r| (r.kind.threshold(), r.points, -r.id))
        .map(|r| (*r).clone())
}

/// Scores of every unit with a landed project, a quota or both in `year`; the zone never scores.
pub fn score_year(
    year: i32,
    projects: &[LandedProject],
    rules: &[ScoringRule],
    quotas: &[Quota],
) -> BTreeMap<Unit, Score> {
    let rules: Vec<&ScoringRule> = rules.iter().filter(|r| r.in_force(year)).collect();
    let mut out: BTreeMap<Unit, Score> = BTreeMap::new();
    let mut add = |unit: &Unit, line: ScoreLine| {
        if *unit == Unit::Zone {
            return;
        }
        let s = out.entry(*unit).or_default();
        s.total = Points(s.total.0 + line.points.0);
        s.lines.push(line);
    };
    let mut landed: BTreeMap<Unit, u32> = BTreeMap::new();
    for p in projects.iter().filter(|p| p.landed_year == Some(year)) {
        *landed.entry(p.introducer).or_default() += 1;
        let project = Some((p.id, p.name.clone()));
        let line = |r: &ScoringRule| ScoreLine {
            project: project.clone(),
            rule_id: r.id,
            rule: r.kind.describe(),
            times: 1,
            points: r.points,
        };
        if let Some(r) = best_tier(&rules, 0, p.actual_investment.fen()) {
            add(&p.introducer, line(&r));
        }
        if p.top500
            && let Some(r) = best_tier(&rules, 2, 0)
        {
            add(&p.introducer, line(&r));
        }
        if let Some(r) = best_tier(&rules, 1, p.cleared_area.m2_centi()) {
            add(&p.host, line(&r));
        }
    }
    if let Some(r) = best_tier(&rules, 3, 0) {
        for q in quotas.iter().filter(|q| q.year == year) {
            let got = landed.get(&q.unit).copied().unwrap_or(0);
            let missing = q.projects.saturating_sub(got);
            if missing > 0 {
                add(
                    &q.unit,
                    ScoreLine {
                        project: None,
                        rule_id: r.id,
                        rule: format!("{}（任务 {} 个，落地 {} 个）", r.kind.describe(), q.projects, got),
                        times: missing,
                        points: Points(r.points.0 * i64::from(missing)),
                    },
                );
            }
        }
    }
    for (unit, n) in landed {
        if let Some(s) = out.get_mut(&unit) {
            s.landed = n;
        } else if unit != Unit::Zone {
            out.insert(unit, Score { landed: n, ..Score::default() });
        }
    }
    for q in quotas.iter().filter(|q| q.year == year && q.unit != Unit::Zone) {
        out.entry(q.unit).or_default();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::revenue::party::{DepartmentId, TownCode};
    use proptest::prelude::*;

    fn town(code: &str) -> Unit {
        Unit::Town(TownCode::parse(code).unwrap())
    }

    fn project(id: i64, introducer: Unit, host: Unit, yi_tenths: i64, mu: i64, top500: bool) -> LandedProject {
        LandedProject {
            id,
            name: format!("项目{id}"),
            introducer,
            host,
            landed_year: Some(2025),
            actual_investment: Fen::from_fen(yi_tenths * 1_000_000_000),
            cleared_area: Area::from_m2_centi(mu * 200_000 / 3),
            top500,
        }
    }

    #[test]
    fn points_parse_and_display_in_tenths() {
        assert_eq!(Points::parse("4").unwrap().tenths(), 40);
        assert_eq!(Points::parse(" 2.5 ").unwrap().to_string(), "2.5");
        assert_eq!(Points::parse("-2").unwrap().to_string(), "-2");
        for bad in ["", "2.55", "abc", "1e3", "--1", "12345"] {
            assert!(Points::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_highest_tier_counts_and_points_go_to_the_right_unit() {
        let (a, b) = (town("371323103"), town("371323001"));
        let rules = default_rules(2020);
        // 60亿元 at 许家湖镇's introduction, hosted by 沂城街道 on 120 mu, a top-500 investor.
        let scores = score_year(2025, &[project(1, a, b, 600, 120, true)], &rules, &[]);
        let sa = &scores[&a];
        assert_eq!(sa.total.tenths(), 80 + 100, "≥50亿 tier only, plus top-500");
        assert_eq!(sa.lines.len(), 2);
        assert_eq!(sa.landed, 1);
        let sb = &scores[&b];
        assert_eq!(sb.total.tenths(), 20, "≥100 mu cleared, to the host");
        assert_eq!(sb.landed, 0);
    }

    #[test]
    fn introducer_equal_to_host_gets_both_and_the_zone_nothing() {
        let a = town("371323103");
        let scores = score_year(
            2025,
            &[project(1, a, a, 15, 60, false), project(2, Unit::Zone, a, 200, 10, false)],
            &default_rules(2020),
            &[],
        );
        assert_eq!(scores[&a].total.tenths(), 10 + 10);
        assert!(!scores.contains_key(&Unit::Zone));
    }

    #[test]
    fn departments_score_as_introducers_and_quotas_deduct() {
        let d = Unit::Department(DepartmentId::new(7));
        let a = town("371323103");
        let quotas = vec![Quota { unit: d, year: 2025, projects: 3 }, Quota { unit: a, year: 2025, projects: 1 }];
        let scores = score_year(2025, &[project(1, d, a, 12, 0, false)], &default_rules(2020), &quotas);
        let sd = &scores[&d];
        assert_eq!(sd.total.tenths(), 10 - 2 * 20);
        let shortfall = sd.lines.iter().find(|l| l.project.is_none()).unwrap();
        assert_eq!(shortfall.times, 2);
        assert!(shortfall.rule.contains("任务 3 个，落地 1 个"));
        assert_eq!(scores[&a].total.tenths(), -20, "the host did not land its own quota project");
    }

    #[test]
    fn rules_count_only_in_their_years_and_unlanded_projects_not_at_all() {
        let a = town("371323103");
        let mut rules = default_rules(2020);
        rules[0].to_year = Some(2024);
        let mut p = project(1, a, a, 15, 0, false);
        assert!(score_year(2025, std::slice::from_ref(&p), &rules, &[]).get(&a).is_none_or(|s| s.total.tenths() <= 0));
        p.landed_year = None;
        assert!(score_year(2025, &[p], &default_rules(2020), &[]).is_empty());
    }

    #[test]
    fn validation_messages() {
        let mut r = default_rules(2020).remove(0);
        r.points = Points(0);
        assert!(r.validate().unwrap_err().message.contains("大于 0"));
        let mut q = default_rules(2020).remove(6);
        q.points = Points(10);
        assert!(q.validate().unwrap_err().message.contains("负数"));
        q.points = Points(-10);
        q.to_year = Some(2019);
        assert!(q.validate().unwrap_err().message.contains("止年"));
    }

    proptest! {
        /// A unit's total is the sum of its lines, and every landed project's introducer is on the board.
        #[test]
        fn totals_are_the_sum_of_their_lines(
            ps in proptest::collection::vec((0usize..4, 0usize..4, 0i64..800, 0i64..300, any::<bool>()), 0..30),
        ) {
            let units = [town("371323103"), town("371323001"), Unit::Department(DepartmentId::new(3)), Unit::Zone];
            let projects: Vec<_> = ps.iter().enumerate()
                .map(|(i, (a, b, inv, mu, t))| project(i as i64, units[*a], units[*b], *inv, *mu, *t))
                .collect();
            let scores = score_year(2025, &projects, &default_rules(2020), &[]);
            for (unit, s) in &scores {
                prop_assert!(*unit != Unit::Zone);
                prop_assert_eq!(s.total.tenths(), s.lines.iter().map(|l| l.points.tenths()).sum::<i64>());
            }
            for p in &projects {
                if p.introducer != Unit::Zone {
                    prop_assert!(scores.contains_key(&p.introducer));
                }
            }
        }
    }
}
