//! The approval plan of an investment project (压茬审批, overlapped stages): the catalogue items the
//! project needs across the four stages of the construction-approval reform (国办发〔2018〕33号), with
//! prerequisite edges between them. A later item may be pre-reviewed and accepted while an earlier one
//! is open, but it is decided (准予 or 不予 alike) only once every prerequisite is granted (准予); a
//! prerequisite refused or otherwise ended without a grant blocks it until a new application of that
//! item is granted. The project's duration is
//! its critical path, set against the sequential sum of statutory limits and the national target of
//! [`TARGET_DAYS`] working days (reference: "Construction-project approval reform", "Overlapping
//! stages").
//!
//! Rules of a plan ([`Plan::new`]): each item once, only items of a construction stage, an edge
//! neither to the item itself nor to an item of a later stage, both ends in the plan, and no cycle.
//!
//! The default plan ([`default_edges`]): the catalogue marks no prerequisites, so an item depends on
//! the items of the nearest earlier stage present in the plan, except where [`WITHIN_STAGE`] names a
//! prerequisite of the same stage (施工许可 after 施工图审查 and 消防设计审查, …): then it depends on
//! those only, which already follow the earlier stage. Of the earlier stage only its last items
//! (those no item of that stage depends on) are named, so no edge is implied by others.
//!
//! Durations ([`Progress::duration`]): a decided item counts the working days it took from acceptance
//! to decision; an open one (accepted, clock running or paused) the days elapsed so far plus what
//! remains of its promised limit, i.e. the larger of the two; one not yet accepted its statutory
//! limit; one closed without a grant (不予, 不予受理, 终止, 撤回, 撤销) the days it used plus the
//! statutory limit of a new application. The critical path adds the durations along the longest
//! chain of prerequisites. It ignores how much a later item's clock already ran in parallel, so it
//! is an upper bound of the project's whole length; the page shows the elapsed days beside it.

use std::collections::BTreeSet;

use serde::Serialize;

use super::catalogue::{ApprovalItem, Catalogue, ConstructionStage, ItemCode};
use super::working_days::WorkingDays;

/// The national target for a whole project, in working days (国办发〔2018〕33号: ≤ 120).
pub const TARGET_DAYS: u32 = 120;

/// The items of a typical enterprise-funded industrial project, for a plan started from the
/// catalogue: 备案, 用地预审与选址, 用地规划许可, 节能审查; 环评报告表, 设计方案审查, 工程规划许可;
/// 消防设计审查, 施工图审查备案, 质量安全监督, 施工许可; 消防验收, 规划条件核实, 联合验收, 竣工验收备案.
pub const TYPICAL: [&str; 15] = [
    "371323-LX-001",
    "371323-GH-001",
    "371323-GH-002",
    "371323-LX-008",
    "371323-HP-002",
    "371323-GH-005",
    "371323-GH-003",
    "371323-GC-003",
    "371323-GC-013",
    "371323-GC-008",
    "371323-GC-001",
    "371323-GC-004",
    "371323-GH-006",
    "371323-GC-014",
    "371323-GC-002",
];

/// Prerequisites within one stage that the default plan knows: (item, prerequisite). 用地规划许可
/// and 核准 need 用地预审与选址意见书, 可研 the 项目建议书, 工程规划许可 the approved design scheme,
/// 施工许可 the construction drawings, fire design and supervision, the completion filing (竣工验收备案)
/// the acceptances (joint, fire, planning).
pub const WITHIN_STAGE: [(&str, &str); 10] = [
    ("371323-GH-002", "371323-GH-001"),
    ("371323-LX-003", "371323-GH-001"),
    ("371323-LX-006", "371323-LX-005"),
    ("371323-GH-003", "371323-GH-005"),
    ("371323-GC-001", "371323-GC-013"),
    ("371323-GC-001", "371323-GC-003"),
    ("371323-GC-001", "371323-GC-008"),
    ("371323-GC-002", "371323-GC-014"),
    ("371323-GC-002", "371323-GC-004"),
    ("371323-GC-002", "371323-GH-006"),
];

/// Why a plan or a change to it was refused, in Chinese, naming the items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
}

impl PlanError {
    fn new(message: impl Into<String>) -> PlanError {
        PlanError { message: message.into() }
    }
}

/// One item of a plan: what the plan needs of the catalogue item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanItem {
    pub code: ItemCode,
    pub name: String,
    pub stage: ConstructionStage,
    pub statutory_limit: WorkingDays,
    pub promised_limit: WorkingDays,
}

impl PlanItem {
    /// The plan item of a catalogue item; refused for an item of no construction stage.
    pub fn of(item: &ApprovalItem) -> Result<PlanItem, PlanError> {
        let stage = item.stage.ok_or_else(|| {
            PlanError::new(format!(
                "事项“{}”（{}）不属于工程建设项目审批阶段，不能列入项目审批计划",
                item.name.trim(),
                item.code
            ))
        })?;
        Ok(PlanItem {
            code: item.code.clone(),
            name: item.name.trim().to_owned(),
            stage,
            statutory_limit: item.statutory_limit,
            promised_limit: item.promised_limit,
        })
    }

    /// "名称（编码）", for messages.
    pub fn label(&self) -> String {
        format!("{}（{}）", self.name, self.code)
    }
}

/// `item` may be decided only after `requires` is granted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub item: String,
    pub requires: String,
}

impl Edge {
    pub fn new(item: &str, requires: &str) -> Edge {
        Edge { item: item.trim().to_owned(), requires: requires.trim().to_owned() }
    }
}

/// Where one item of the plan stands, from its approval case (the store derives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Progress {
    /// No case yet, or one not accepted yet (草稿, 预审): the clock has not started.
    NotStarted,
    /// Accepted and not decided; `elapsed` working days used so far, pauses removed.
    Open { elapsed: u32 },
    /// Granted (准予 or 告知承诺准予) after `elapsed` working days.
    Granted { elapsed: u32 },
    /// Ended without a grant (不予, 不予受理, 终止办理, 撤回, 撤销) after `elapsed` working days.
    Closed { elapsed: u32 },
}

impl Progress {
    pub fn is_granted(self) -> bool {
        matches!(self, Progress::Granted { .. })
    }

    /// The working days the item counts for on the critical path (module docs).
    pub fn duration(self, item: &PlanItem) -> u32 {
        match self {
            Progress::NotStarted => item.statutory_limit.get(),
            Progress::Open { elapsed } => elapsed.max(item.promised_limit.get()),
            Progress::Granted { elapsed } => elapsed,
            Progress::Closed { elapsed } => elapsed.saturating_add(item.statutory_limit.get()),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Progress::NotStarted => "未受理",
            Progress::Open { .. } => "办理中",
            Progress::Granted { .. } => "已准予",
            Progress::Closed { .. } => "未准予",
        }
    }
}

/// The progress of an item from its case: `state` of the default flow, whether its clock `started`
/// (受理), whether a 准予 or a 不予 was given, and the working days it used (to the decision or the
/// end once closed, to now while open). A revoked grant (承诺不实撤销) no longer counts as granted.
pub fn progress_of(state: &str, started: bool, granted: bool, refused: bool, elapsed: u32) -> Progress {
    use super::default_flow::state as s;
    let ended = [s::NOT_ACCEPTED, s::TERMINATED, s::WITHDRAWN, s::REVOKED].contains(&state);
    if granted && state != s::REVOKED {
        Progress::Granted { elapsed }
    } else if refused || ended {
        Progress::Closed { elapsed }
    } else if started {
        Progress::Open { elapsed }
    } else {
        Progress::NotStarted
    }
}

/// The longest chain of prerequisites by duration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriticalPath {
    /// Indexes into [`Plan::items`], first prerequisite first.
    pub items: Vec<usize>,
    pub days: u32,
}

/// The plan's figures for the project page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    /// Per item, as [`Progress::duration`].
    pub durations: Vec<u32>,
    pub critical: CriticalPath,
    /// Σ statutory limits: the items one after another.
    pub sequential_days: u32,
    pub target_days: u32,
    /// The critical path is within the target.
    pub meets_target: bool,
    /// Every item granted.
    pub complete: bool,
    /// Items that cannot be decided because a prerequisite ended without a grant.
    pub blocked: Vec<usize>,
}

/// A valid plan: items ordered by stage, then code; each item's prerequisites as indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    items: Vec<PlanItem>,
    requires: Vec<Vec<usize>>,
}

impl Plan {
    /// Checks the rules of the module docs; every problem is named in the error.
    pub fn new(mut items: Vec<PlanItem>, edges: &[Edge]) -> Result<Plan, PlanError> {
        items.sort_by(|a, b| (a.stage, &a.code).cmp(&(b.stage, &b.code)));
        let mut problems = Vec::new();
        for pair in items.windows(2) {
            if let [a, b] = pair
                && a.code == b.code
            {
                problems.push(format!("事项{}重复列入计划", a.label()));
            }
        }
        let index = |code: &str| items.iter().position(|i| i.code.as_str() == code);
        let mut requires = vec![BTreeSet::new(); items.len()];
        for e in edges {
            let (Some(i), Some(p)) = (index(&e.item), index(&e.requires)) else {
                for code in [&e.item, &e.requires] {
                    if index(code).is_none() {
                        problems.push(format!("前置关系中的事项“{code}”不在本项目的审批计划中"));
                    }
                }
                continue;
            };
            let (item, pre) = (&items[i], &items[p]);
            if i == p {
                problems.push(format!("事项{}不能以自身为前置事项", item.label()));
            } else if pre.stage > item.stage {
                problems.push(format!(
                    "事项{}（{}）不能以后一阶段的{}（{}）为前置事项",
                    item.label(),
                    item.stage.label(),
                    pre.label(),
                    pre.stage.label()
                ));
            } else {
                requires[i].insert(p);
            }
        }
        problems.dedup();
        if !problems.is_empty() {
            return Err(PlanError::new(problems.join("；")));
        }
        let plan = Plan { items, requires: requires.into_iter().map(|s| s.into_iter().collect()).collect() };
        if let Some(cycle) = plan.cycle() {
            let names: Vec<String> = cycle.iter().map(|&i| plan.items[i].label()).collect();
            return Err(PlanError::new(format!("前置关系形成循环：{}", names.join(" → "))));
        }
        Ok(plan)
    }

    /// A plan of catalogue items by code, with `edges`; unknown codes and items of no stage refused.
    pub fn from_catalogue(catalogue: &Catalogue, codes: &[&str], edges: &[Edge]) -> Result<Plan, PlanError> {
        Plan::new(plan_items(catalogue, codes)?, edges)
    }

    /// The items, ordered by stage, then code.
    pub fn items(&self) -> &[PlanItem] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn index(&self, code: &str) -> Option<usize> {
        let code = code.trim();
        self.items.iter().position(|i| i.code.as_str() == code)
    }

    /// The direct prerequisites of item `i`.
    pub fn prerequisites(&self, i: usize) -> &[usize] {
        self.requires.get(i).map_or(&[], Vec::as_slice)
    }

    /// Every edge, by item, then prerequisite.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for (i, pres) in self.requires.iter().enumerate() {
            for &p in pres {
                out.push(Edge::new(self.items[i].code.as_str(), self.items[p].code.as_str()));
            }
        }
        out
    }

    /// A cycle of prerequisites, as item indexes with the first repeated at the end, if any.
    fn cycle(&self) -> Option<Vec<usize>> {
        // Kahn's algorithm: what never reaches in-degree zero lies on or behind a cycle.
        let n = self.items.len();
        let mut pending: Vec<usize> = self.requires.iter().map(Vec::len).collect();
        let mut ready: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
        let mut done = vec![false; n];
        while let Some(p) = ready.pop() {
            done[p] = true;
            for (i, pres) in self.requires.iter().enumerate() {
                if pres.contains(&p) {
                    pending[i] -= 1;
                    if pending[i] == 0 {
                        ready.push(i);
                    }
                }
            }
        }
        let start = (0..n).find(|&i| !done[i])?;
        // Follow undone prerequisites until an item repeats: that stretch is a cycle.
        let mut walk = vec![start];
        let mut at = start;
        loop {
            at = *self.requires[at].iter().find(|&&p| !done[p])?;
            if let Some(k) = walk.iter().position(|&w| w == at) {
                let mut cycle = walk.split_off(k);
                cycle.push(at);
                cycle.reverse();
                return Some(cycle);
            }
            walk.push(at);
        }
    }

    /// Σ statutory limits: what the items would take one after another.
    pub fn sequential_days(&self) -> u32 {
        self.items.iter().map(|i| i.statutory_limit.get()).sum()
    }

    /// The prerequisites of item `i` not granted yet; empty when it may be decided.
    pub fn waiting_for(&self, i: usize, progress: &[Progress]) -> Vec<usize> {
        self.prerequisites(i).iter().copied().filter(|&p| !progress.get(p).is_some_and(|s| s.is_granted())).collect()
    }

    /// Whether item `i` may be decided (准予 or 不予): every prerequisite granted. Pre-review and
    /// acceptance never wait.
    pub fn may_decide(&self, i: usize, progress: &[Progress]) -> bool {
        self.waiting_for(i, progress).is_empty()
    }

    /// The longest path by `durations` (one per item). On a tie the item listed first (earlier stage,
    /// then lower code) is taken, so the answer does not depend on the order edges were added in.
    pub fn critical_path(&self, durations: &[u32]) -> CriticalPath {
        // Items are sorted by stage and prerequisites lie in the same or an earlier stage, but within
        // a stage a prerequisite may come later in the list: order topologically first.
        let order = self.topological();
        let n = self.items.len();
        let mut finish = vec![0u32; n];
        let mut via: Vec<Option<usize>> = vec![None; n];
        for &i in &order {
            let mut best: Option<usize> = None;
            for &p in self.prerequisites(i) {
                if best.is_none_or(|b| finish[p] > finish[b] || (finish[p] == finish[b] && p < b)) {
                    best = Some(p);
                }
            }
            via[i] = best;
            finish[i] = best.map_or(0, |b| finish[b]).saturating_add(durations.get(i).copied().unwrap_or(0));
        }
        let Some(end) = (0..n).reduce(|a, b| if finish[b] > finish[a] { b } else { a }) else {
            return CriticalPath { items: Vec::new(), days: 0 };
        };
        let mut items = vec![end];
        while let Some(p) = items.last().and_then(|&i| via[i]) {
            items.push(p);
        }
        items.reverse();
        CriticalPath { items, days: finish[end] }
    }

    /// Prerequisites before their dependants, lowest index first among the ready ones.
    fn topological(&self) -> Vec<usize> {
        let n = self.items.len();
        let mut placed = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let Some(next) = (0..n).find(|&i| !placed[i] && self.requires[i].iter().all(|&p| placed[p])) else {
                break;
            };
            placed[next] = true;
            order.push(next);
        }
        order
    }

    /// The figures of the project page for the items' `progress` (one per item).
    pub fn projection(&self, progress: &[Progress]) -> Projection {
        let durations: Vec<u32> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| progress.get(i).copied().unwrap_or(Progress::NotStarted).duration(item))
            .collect();
        let critical = self.critical_path(&durations);
        let blocked = (0..self.items.len())
            .filter(|&i| {
                self.prerequisites(i).iter().any(|&p| matches!(progress.get(p), Some(Progress::Closed { .. })))
            })
            .collect();
        Projection {
            meets_target: critical.days <= TARGET_DAYS,
            critical,
            durations,
            sequential_days: self.sequential_days(),
            target_days: TARGET_DAYS,
            complete: !self.items.is_empty()
                && (0..self.items.len()).all(|i| progress.get(i).is_some_and(|p| p.is_granted())),
            blocked,
        }
    }
}

/// The plan items of catalogue `codes`, each once; unknown codes and items of no stage refused.
pub fn plan_items(catalogue: &Catalogue, codes: &[&str]) -> Result<Vec<PlanItem>, PlanError> {
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for code in codes {
        match catalogue.get(code) {
            None => problems.push(format!("事项编码“{}”不在审批事项目录中", code.trim())),
            Some(item) => match PlanItem::of(item) {
                Ok(p) => items.push(p),
                Err(e) => problems.push(e.message),
            },
        }
    }
    if problems.is_empty() { Ok(items) } else { Err(PlanError::new(problems.join("；"))) }
}

/// The default edges among `items` (module docs).
pub fn default_edges(items: &[PlanItem]) -> Vec<Edge> {
    let has = |code: &str| items.iter().any(|i| i.code.as_str() == code);
    let within: Vec<(&str, &str)> = WITHIN_STAGE.iter().copied().filter(|(a, b)| has(a) && has(b)).collect();
    let mut out = BTreeSet::new();
    for item in items {
        let code = item.code.as_str();
        let own: Vec<&str> = within.iter().filter(|(a, _)| *a == code).map(|(_, b)| *b).collect();
        if !own.is_empty() {
            out.extend(own.into_iter().map(|b| Edge::new(code, b)));
            continue;
        }
        let earlier = ConstructionStage::ALL
            .into_iter()
            .filter(|s| *s < item.stage)
            .rev()
            .find(|s| items.iter().any(|i| i.stage == *s));
        let Some(stage) = earlier else { continue };
        // The last items of that stage: those no item of the stage depends on.
        for last in items.iter().filter(|i| i.stage == stage && !within.iter().any(|(_, b)| *b == i.code.as_str())) {
            out.insert(Edge::new(code, last.code.as_str()));
        }
    }
    out.into_iter().collect()
}

/// The default plan of catalogue `codes` ([`TYPICAL`] when empty) with [`default_edges`].
pub fn default_plan(catalogue: &Catalogue, codes: &[&str]) -> Result<Plan, PlanError> {
    let codes = if codes.is_empty() { &TYPICAL[..] } else { codes };
    let items = plan_items(catalogue, codes)?;
    let edges = default_edges(&items);
    Plan::new(items, &edges)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "project_plan_tests.rs"]
mod tests;
