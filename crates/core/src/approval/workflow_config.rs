//! Configuring an item's workflow (流程配置), in the manner of DIGIT's business-service definitions:
//! the catalogue editor may rename states and actions, choose the roles allowed per action, set each
//! state's SLA and the overall SLA, and add states and actions of the zone's own (a 会审 step, say).
//!
//! The states and actions of the item's default flow stay, with their codes, ends, clock and terminal
//! flag, because the platform's rules key on them: the clock of the legal time limit (补正 pauses it),
//! 容缺 deadlines, the certificate a 准予 issues, the post-approval check of 告知承诺, follow-ups and
//! the statistics. An added action may therefore not reuse a default action's code, and the overall
//! SLA may not exceed the item's statutory limit (《行政许可法》第四十二条: the limit is the law's).

use std::collections::BTreeSet;

use super::catalogue::ApprovalItem;
use super::workflow::{Actor, Workflow, WorkflowError};
use crate::access::Role;

impl Workflow {
    /// Checks an edited flow for `item`: complete ([`Workflow::validate`]) and a configuration of the
    /// item's default flow (module docs). Every problem is reported.
    pub fn check_configuration(&self, item: &ApprovalItem) -> Result<(), WorkflowError> {
        let mut p = match self.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.problems,
        };
        let base = Workflow::default_for(item);
        if self.code != base.code {
            p.push(format!("流程编码应为事项编码“{}”", base.code));
        }
        if self.initial != base.initial {
            p.push(format!("初始状态应为“{}”", base.initial));
        }
        if self.overall_sla > item.statutory_limit {
            p.push(format!("流程总时限（{}）不能超过法定办结时限（{}）", self.overall_sla, item.statutory_limit));
        }
        for s in &base.states {
            match self.state(&s.code) {
                None => p.push(format!("不能删除默认状态“{}”（{}）", s.name, s.code)),
                Some(e) if e.terminal != s.terminal || e.clock != s.clock => p.push(format!(
                    "默认状态“{}”（{}）的计时方式与是否终止不能修改：平台的时限、容缺与核查规则依赖它们",
                    s.name, s.code
                )),
                Some(_) => {}
            }
        }
        for a in &base.actions {
            let kept = self.actions.iter().any(|e| e.code == a.code && e.from == a.from && e.to == a.to);
            if !kept {
                p.push(format!("不能删除或改接默认动作“{}”（{}，{} → {}）", a.name, a.code, a.from, a.to));
            }
        }
        for a in self
            .actions
            .iter()
            .filter(|a| a.roles.iter().any(|r| matches!(r, Actor::Role(Role::EnterpriseUser | Role::SafetySupervisor))))
        {
            p.push(format!(
                "动作“{}”：企业请以“申请人”身份办理自己的办件，企业用户和第三方监管不能作为审批角色",
                a.name
            ));
        }
        let (reserved_states, reserved_actions) = reserved(item);
        for s in self.states.iter().filter(|s| base.state(&s.code).is_none()) {
            if reserved_states.contains(s.code.as_str()) {
                p.push(format!("新增状态不能使用平台保留的编码“{}”，请另取编码", s.code));
            }
        }
        for a in &self.actions {
            let is_default = base.actions.iter().any(|b| b.code == a.code && b.from == a.from && b.to == a.to);
            if is_default {
                continue;
            }
            if reserved_actions.contains(a.code.as_str()) {
                p.push(format!("新增动作不能使用平台保留的编码“{}”，请另取编码", a.code));
            }
            // Decisions, pauses and closings happen only through the platform's own actions, which
            // keep the clock, the certificate and the prerequisites of a project (压茬审批) right.
            for (end, code) in [("起始", &a.from), ("目标", &a.to)] {
                if base.state(code).is_some() && !WORK_STATES.contains(&code.as_str()) {
                    p.push(format!(
                        "新增动作“{}”的{end}状态“{code}”是平台状态：新增环节只能接在预审、审查、决定之间",
                        a.name
                    ));
                }
            }
        }
        if p.is_empty() { Ok(()) } else { Err(WorkflowError { problems: p }) }
    }

    /// Whether this flow differs from the item's default (a configured flow); the order in which an
    /// action's roles are listed does not matter.
    pub fn is_configured(&self, item: &ApprovalItem) -> bool {
        let mut base = Workflow::default_for(item);
        base.version = self.version;
        self.clone().normalised() != base.normalised()
    }

    /// The same flow with each action's roles sorted by code and without repeats.
    pub fn normalised(mut self) -> Workflow {
        for a in &mut self.actions {
            a.roles.sort_by_key(|r| r.code());
            a.roles.dedup();
        }
        self
    }

    /// This configured flow carried onto the default flow of `item`, a new version of its item:
    /// names, roles and SLAs of the default states and actions that remain, and the added states and
    /// actions whose ends still exist. States and actions the new version no longer has (容缺 switched
    /// off, say) fall away; the overall SLA is capped at the new statutory limit.
    pub fn carry_onto(&self, item: &ApprovalItem) -> Workflow {
        let mut next = Workflow::default_for(item);
        next.version = item.version;
        next.name.clone_from(&self.name);
        next.overall_sla = self.overall_sla.min(item.statutory_limit);
        for s in &mut next.states {
            if let Some(old) = self.state(&s.code) {
                s.name.clone_from(&old.name);
                s.sla = old.sla;
            }
        }
        for a in &mut next.actions {
            if let Some(old) = self.actions.iter().find(|o| o.code == a.code && o.from == a.from && o.to == a.to) {
                a.name.clone_from(&old.name);
                a.roles.clone_from(&old.roles);
            }
        }
        let (reserved_states, reserved_actions) = reserved(item);
        let added_states: Vec<_> = self
            .states
            .iter()
            .filter(|s| next.state(&s.code).is_none() && !reserved_states.contains(s.code.as_str()))
            .cloned()
            .collect();
        next.states.extend(added_states);
        let added_actions: Vec<_> = self
            .actions
            .iter()
            .filter(|a| !reserved_actions.contains(a.code.as_str()))
            .filter(|a| next.state(&a.from).is_some() && next.state(&a.to).is_some())
            .cloned()
            .collect();
        next.actions.extend(added_actions);
        next
    }
}

/// The default states an added step may leave from or lead into: the office's working states, where
/// no clock change, decision or closing happens on entry or exit.
const WORK_STATES: [&str; 3] = ["pre_review", "reviewing", "deciding"];

/// The codes of every state and action a default flow may have (容缺 and 告知承诺 included): reserved
/// for the platform's meaning, whichever of them this item's flow has.
fn reserved(item: &ApprovalItem) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut all = item.clone();
    all.deficiency_acceptance = true;
    all.commitment_approval = true;
    let full = Workflow::default_for(&all);
    (full.states.into_iter().map(|s| s.code).collect(), full.actions.into_iter().map(|a| a.code).collect())
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::approval::workflow::{Action, Clock, State};
    use crate::approval::{Catalogue, WorkingDays};

    fn item(code: &str) -> ApprovalItem {
        Catalogue::builtin().get(code).cloned().unwrap_or_else(|| panic!("{code}"))
    }

    /// An item that allows 容缺受理.
    fn deficient_item() -> ApprovalItem {
        Catalogue::builtin().items().iter().find(|i| i.deficiency_acceptance).cloned().unwrap()
    }

    fn problems(flow: &Workflow, it: &ApprovalItem) -> String {
        flow.check_configuration(it).err().map(|e| e.problems.join("\n")).unwrap_or_default()
    }

    fn joint_review(flow: &mut Workflow) {
        flow.states.push(State {
            code: "joint_review".into(),
            name: "联合会审".into(),
            terminal: false,
            sla: Some(WorkingDays::new(1).unwrap()),
            clock: Clock::Running,
        });
        flow.actions.push(Action {
            code: "to_joint_review".into(),
            name: "提交会审".into(),
            from: "reviewing".into(),
            to: "joint_review".into(),
            roles: vec![Actor::Role(Role::DepartmentStaff)],
        });
        flow.actions.push(Action {
            code: "joint_review_done".into(),
            name: "会审完成".into(),
            from: "joint_review".into(),
            to: "deciding".into(),
            roles: vec![Actor::Role(Role::Leader)],
        });
    }

    #[test]
    fn the_default_flow_is_a_valid_configuration_and_not_configured() {
        for it in Catalogue::builtin().items() {
            let flow = Workflow::default_for(it);
            assert_eq!(problems(&flow, it), "", "{}", it.code);
            assert!(!flow.is_configured(it));
        }
    }

    #[test]
    fn renaming_roles_slas_and_added_steps_are_allowed() {
        let it = item("371323-GS-001");
        let mut flow = Workflow::default_for(&it);
        flow.states.iter_mut().find(|s| s.code == "reviewing").unwrap().name = "实质审查".into();
        flow.states.iter_mut().find(|s| s.code == "reviewing").unwrap().sla = Some(WorkingDays::new(1).unwrap());
        flow.actions.iter_mut().find(|a| a.code == "approve").unwrap().roles = vec![Actor::Role(Role::Leader)];
        flow.overall_sla = it.statutory_limit;
        joint_review(&mut flow);
        assert_eq!(problems(&flow, &it), "");
        assert!(flow.is_configured(&it));
    }

    #[test]
    fn default_states_and_actions_cannot_be_removed_or_rewired() {
        let it = item("371323-GS-001");
        let mut flow = Workflow::default_for(&it);
        flow.actions.retain(|a| a.code != "request_correction");
        flow.actions.iter_mut().find(|a| a.code == "accept").unwrap().to = "deciding".into();
        let p = problems(&flow, &it);
        assert!(p.contains("不能删除或改接默认动作“要求补正”"), "{p}");
        assert!(p.contains("不能删除或改接默认动作“受理”"), "{p}");

        let mut flow = Workflow::default_for(&it);
        flow.states.iter_mut().find(|s| s.code == "correction").unwrap().clock = Clock::Running;
        assert!(problems(&flow, &it).contains("计时方式与是否终止不能修改"));
    }

    #[test]
    fn reserved_codes_initial_state_and_statutory_limit() {
        let it = item("371323-GS-001");
        let mut flow = Workflow::default_for(&it);
        joint_review(&mut flow);
        flow.actions.last_mut().unwrap().code = "approve".into();
        flow.overall_sla = WorkingDays::new(it.statutory_limit.get() + 1).unwrap();
        flow.code = "other".into();
        let p = problems(&flow, &it);
        assert!(p.contains("平台保留的编码“approve”"), "{p}");
        let mut flow = Workflow::default_for(&it);
        flow.actions[0].roles.push(Actor::Role(Role::EnterpriseUser));
        assert!(problems(&flow, &it).contains("企业用户和第三方监管不能作为审批角色"));
        // An added action straight into 准予 (around the certificate and a project's prerequisites),
        // or out of 补正 (around the paused clock): refused.
        let mut flow = Workflow::default_for(&it);
        joint_review(&mut flow);
        flow.actions.last_mut().unwrap().to = "approved".into();
        let n = flow.actions.len();
        flow.actions[n - 2].from = "correction".into();
        let q = problems(&flow, &it);
        assert!(q.contains("目标状态“approved”是平台状态"), "{q}");
        assert!(q.contains("起始状态“correction”是平台状态"), "{q}");
        assert!(p.contains("不能超过法定办结时限"), "{p}");
        assert!(p.contains("流程编码应为事项编码"), "{p}");

        // A state of 容缺 in an item without it is the platform's too.
        let plain = Catalogue::builtin().items().iter().find(|i| !i.deficiency_acceptance).cloned().unwrap();
        let mut flow = Workflow::default_for(&plain);
        joint_review(&mut flow);
        flow.states.last_mut().unwrap().code = "deficient".into();
        for a in flow.actions.iter_mut().filter(|a| a.from == "joint_review" || a.to == "joint_review") {
            if a.from == "joint_review" {
                a.from = "deficient".into();
            } else {
                a.to = "deficient".into();
            }
        }
        assert!(problems(&flow, &plain).contains("新增状态不能使用平台保留的编码“deficient”"));
    }

    #[test]
    fn an_incomplete_added_step_is_reported_by_validate() {
        let it = item("371323-GS-001");
        let mut flow = Workflow::default_for(&it);
        joint_review(&mut flow);
        flow.actions.retain(|a| a.code != "joint_review_done");
        assert!(problems(&flow, &it).contains("没有后续动作"));
    }

    #[test]
    fn a_configuration_carries_onto_the_next_version() {
        let it = deficient_item();
        let mut flow = Workflow::default_for(&it);
        flow.states.iter_mut().find(|s| s.code == "deficient").unwrap().name = "容缺补件".into();
        flow.actions.iter_mut().find(|a| a.code == "accept").unwrap().roles =
            vec![Actor::Role(Role::DepartmentStaff), Actor::Role(Role::Leader)];
        joint_review(&mut flow);
        assert_eq!(problems(&flow, &it), "");

        let mut next = it.clone();
        next.version += 1;
        let carried = flow.carry_onto(&next);
        assert_eq!(carried.version, next.version);
        assert_eq!(problems(&carried, &next), "");
        assert_eq!(carried.state("deficient").unwrap().name, "容缺补件");
        assert!(carried.state("joint_review").is_some());
        assert_eq!(carried.actions.iter().find(|a| a.code == "accept").unwrap().roles.len(), 2);

        // 容缺 switched off: its state and actions fall away, the rest stays.
        next.deficiency_acceptance = false;
        let carried = flow.carry_onto(&next);
        assert_eq!(problems(&carried, &next), "");
        assert!(carried.state("deficient").is_none());
        assert!(carried.state("joint_review").is_some());
    }
}
