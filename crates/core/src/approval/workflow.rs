//! Configurable workflows (办理流程) of approval items, in the manner of eGov DIGIT's business
//! services: states, the actions leading out of each with the roles allowed, a per-state SLA and an
//! overall SLA in working days.
//!
//! A definition is checked for completeness when saved ([`Workflow::validate`]): every state reachable
//! from the initial one, every non-terminal state with a way out and a way to some terminal state, no
//! action out of a terminal state, no action without roles. [`Workflow::apply`] is the only way a case
//! moves. Definitions are plain serde data so the store keeps edited ones as JSON; the default flow of
//! an item is built by [`Workflow::default_for`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::json;
use super::working_days::WorkingDays;
use crate::access::Role;

/// Whether the item's time limit (the overall SLA) runs while a case is in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Counts (after acceptance, while the office works on the case).
    Running,
    /// Stopped for the applicant's 补正 and resumed after; the time does not count.
    Paused,
    /// Not started yet, or over.
    Stopped,
}

impl Clock {
    pub fn label(self) -> &'static str {
        match self {
            Clock::Running => "计时",
            Clock::Paused => "暂停计时",
            Clock::Stopped => "不计时",
        }
    }
}

/// Who may take an action: a role of [`crate::access`], or the applicant, the enterprise that filed
/// this very application (any enterprise user may not). Serialised as `"applicant"` or the role's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Actor {
    Applicant,
    Role(Role),
}

impl Actor {
    pub fn code(self) -> &'static str {
        match self {
            Actor::Applicant => "applicant",
            Actor::Role(r) => r.code(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Actor::Applicant => "申请人",
            Actor::Role(r) => r.label(),
        }
    }

    pub fn parse(code: &str) -> Result<Actor, WorkflowError> {
        match code.trim() {
            "applicant" => Ok(Actor::Applicant),
            c => Role::parse(c).map(Actor::Role).ok_or_else(|| WorkflowError::one(format!("角色“{c}”无法识别"))),
        }
    }
}

impl TryFrom<String> for Actor {
    type Error = WorkflowError;
    fn try_from(s: String) -> Result<Actor, WorkflowError> {
        Actor::parse(&s)
    }
}

impl From<Actor> for String {
    fn from(a: Actor) -> String {
        a.code().to_owned()
    }
}

/// One state of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub terminal: bool,
    /// How long a case may stay in this state.
    #[serde(default)]
    pub sla: Option<WorkingDays>,
    pub clock: Clock,
}

/// A transition: `code` out of `from` into `to`, taken by one of `roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub roles: Vec<Actor>,
}

/// A flow definition. The same action code may leave several states (e.g. 撤回), at most once each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Usually the item code.
    pub code: String,
    pub name: String,
    pub version: u32,
    pub initial: String,
    /// The whole case's limit, counted while the clock runs.
    pub overall_sla: WorkingDays,
    pub states: Vec<State>,
    pub actions: Vec<Action>,
}

/// Why a definition was refused or an action not taken; Chinese, one entry per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("；"))]
pub struct WorkflowError {
    pub problems: Vec<String>,
}

impl WorkflowError {
    fn one(message: String) -> WorkflowError {
        WorkflowError { problems: vec![message] }
    }
}

/// “名称”（code）, how messages name a state.
struct Named<'a>(&'a State);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "“{}”（{}）", self.0.name, self.0.code)
    }
}

fn list_states(states: &[&State]) -> String {
    states.iter().map(|s| Named(s).to_string()).collect::<Vec<_>>().join("、")
}

fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|n| format!("“{n}”")).collect::<Vec<_>>().join("、")
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl Workflow {
    /// A definition as edited and stored, checked with [`Workflow::validate`].
    pub fn parse_json(raw: &str) -> Result<Workflow, WorkflowError> {
        let flow: Workflow = serde_json::from_str(raw).map_err(|e| WorkflowError::one(json::describe(&e)))?;
        flow.validate()?;
        Ok(flow)
    }

    pub fn state(&self, code: &str) -> Option<&State> {
        self.states.iter().find(|s| s.code == code)
    }

    pub fn initial_state(&self) -> Option<&State> {
        self.state(&self.initial)
    }

    /// The actions leading out of a state, in definition order.
    pub fn actions_from<'a, 's>(&'a self, state: &'s str) -> impl Iterator<Item = &'a Action> + 's
    where
        'a: 's,
    {
        self.actions.iter().filter(move |a| a.from == state)
    }

    /// What `actor` may do in `state`: the buttons to show, the inbox to fill.
    pub fn available_actions(&self, state: &str, actor: Actor) -> Vec<&Action> {
        self.actions_from(state).filter(|a| a.roles.contains(&actor)).collect()
    }

    /// Takes `action` (its code) in `state` as `actor`, giving the state the case moves to.
    pub fn apply(&self, state: &str, action: &str, actor: Actor) -> Result<&State, WorkflowError> {
        let Some(current) = self.state(state) else {
            return Err(WorkflowError::one(format!("状态“{state}”不属于流程“{}”", self.name)));
        };
        let Some(action_name) = self.actions.iter().find(|a| a.code == action).map(|a| a.name.as_str()) else {
            return Err(WorkflowError::one(format!("流程“{}”中没有动作“{action}”", self.name)));
        };
        let Some(taken) = self.actions_from(state).find(|a| a.code == action) else {
            let message = if current.terminal {
                format!("办件已处于终止状态“{}”，不能再“{action_name}”", current.name)
            } else {
                let names = join_names(self.actions_from(state).map(|a| a.name.as_str()));
                format!("当前状态“{}”下不能“{action_name}”，可执行的动作：{names}", current.name)
            };
            return Err(WorkflowError::one(message));
        };
        if !taken.roles.contains(&actor) {
            let allowed = taken.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、");
            return Err(WorkflowError::one(format!("{}不能“{}”，该动作仅限：{allowed}", actor.label(), taken.name)));
        }
        self.state(&taken.to).ok_or_else(|| {
            WorkflowError::one(format!("流程定义有误：动作“{}”的目标状态“{}”未定义", taken.name, taken.to))
        })
    }

    /// Checks the definition is complete (module docs); every problem is reported, in Chinese.
    pub fn validate(&self) -> Result<(), WorkflowError> {
        let mut p = Vec::new();
        if blank(&self.code) {
            p.push("请填写流程编码".to_owned());
        }
        if blank(&self.name) {
            p.push("请填写流程名称".to_owned());
        }
        if self.version == 0 {
            p.push("流程版本号从1开始".to_owned());
        }
        self.check_states(&mut p);
        self.check_actions(&mut p);
        self.check_graph(&mut p);
        if p.is_empty() { Ok(()) } else { Err(WorkflowError { problems: p }) }
    }

    fn check_states(&self, p: &mut Vec<String>) {
        if self.states.is_empty() {
            p.push("流程至少要有一个状态".to_owned());
        }
        let mut seen = BTreeSet::new();
        for s in &self.states {
            if blank(&s.code) {
                p.push(format!("状态“{}”未填写编码", s.name));
            } else if !seen.insert(s.code.as_str()) {
                p.push(format!("状态编码“{}”重复", s.code));
            }
            if blank(&s.name) {
                p.push(format!("状态“{}”未填写名称", s.code));
            }
            if s.terminal && s.clock == Clock::Running {
                p.push(format!("终止状态{}不能计时", Named(s)));
            }
            if let Some(sla) = s.sla.filter(|sla| s.clock == Clock::Running && *sla > self.overall_sla) {
                p.push(format!("状态{}的时限（{sla}）超过流程总时限（{}）", Named(s), self.overall_sla));
            }
        }
        if blank(&self.initial) {
            p.push("未设置初始状态".to_owned());
        } else if self.initial_state().is_none() {
            p.push(format!("初始状态“{}”未定义", self.initial));
        }
        if !self.states.is_empty() && !self.states.iter().any(|s| s.terminal) {
            p.push("流程没有终止状态".to_owned());
        }
    }

    fn check_actions(&self, p: &mut Vec<String>) {
        let mut seen = BTreeSet::new();
        for a in &self.actions {
            let name = if blank(&a.name) { a.code.as_str() } else { a.name.as_str() };
            if blank(&a.code) {
                p.push(format!("动作“{name}”未填写编码"));
            }
            if blank(&a.name) {
                p.push(format!("动作“{}”未填写名称", a.code));
            }
            if !seen.insert((a.from.as_str(), a.code.as_str())) {
                p.push(format!("状态“{}”下的动作“{name}”重复", a.from));
            }
            for (end, code) in [("起始", &a.from), ("目标", &a.to)] {
                if self.state(code).is_none() {
                    p.push(format!("动作“{name}”的{end}状态“{code}”未定义"));
                }
            }
            if a.roles.is_empty() {
                p.push(format!("动作“{name}”未指定可执行的角色"));
            }
            let admins: Vec<&str> =
                a.roles.iter().filter(|r| matches!(r, Actor::Role(r) if r.is_admin())).map(|r| r.label()).collect();
            if !admins.is_empty() {
                p.push(format!("动作“{name}”不能由{}执行：管理员不办理业务（三权分立）", admins.join("、")));
            }
        }
        for s in self.states.iter().filter(|s| s.terminal) {
            let out: Vec<&str> = self.actions_from(&s.code).map(|a| a.name.as_str()).collect();
            if !out.is_empty() {
                p.push(format!("终止状态{}不能有后续动作：{}", Named(s), join_names(out.into_iter())));
            }
        }
    }

    /// Reachability over the actions whose both ends are declared.
    fn check_graph(&self, p: &mut Vec<String>) {
        let mut forward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut backward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for a in self.actions.iter().filter(|a| self.state(&a.from).is_some() && self.state(&a.to).is_some()) {
            forward.entry(a.from.as_str()).or_default().push(a.to.as_str());
            backward.entry(a.to.as_str()).or_default().push(a.from.as_str());
        }
        let reached = closure(self.initial_state().map(|s| s.code.as_str()), &forward);
        let to_terminal = closure(self.states.iter().filter(|s| s.terminal).map(|s| s.code.as_str()), &backward);

        let unreachable: Vec<&State> = self.states.iter().filter(|s| !reached.contains(s.code.as_str())).collect();
        if self.initial_state().is_some() && !unreachable.is_empty() {
            p.push(format!("以下状态从初始状态无法到达：{}", list_states(&unreachable)));
        }
        let dead: Vec<&State> =
            self.states.iter().filter(|s| !s.terminal && !forward.contains_key(s.code.as_str())).collect();
        if !dead.is_empty() {
            p.push(format!("以下非终止状态没有后续动作（办件会停在这里）：{}", list_states(&dead)));
        }
        let trapped: Vec<&State> = self
            .states
            .iter()
            .filter(|s| forward.contains_key(s.code.as_str()) && reached.contains(s.code.as_str()))
            .filter(|s| !to_terminal.contains(s.code.as_str()))
            .collect();
        if self.states.iter().any(|s| s.terminal) && !trapped.is_empty() {
            p.push(format!("以下状态无法到达任何终止状态（办件会在其间循环）：{}", list_states(&trapped)));
        }
    }
}

/// Every node reachable from `start` along `edges`, `start` included.
fn closure<'a>(start: impl IntoIterator<Item = &'a str>, edges: &BTreeMap<&'a str, Vec<&'a str>>) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = start.into_iter().collect();
    while let Some(n) = todo.pop() {
        if seen.insert(n) {
            todo.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    seen
}

#[cfg(test)]
#[allow(clippy::panic)]
#[path = "workflow_tests.rs"]
mod tests;
