//! The workflow configuration page of an approval item (流程配置): the states with their SLAs, the
//! actions with the roles allowed, the overall SLA, and rows for added states and actions. Saving
//! publishes the item's next version (store: `configure_approval_workflow`); the JSON API calls the
//! same operation.

use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::Role;
use dianxiaoer_core::approval::{Action, Actor, ApprovalItem, Clock, State as FlowState, Workflow, WorkingDays};
use std::collections::BTreeMap;

/// Blank rows offered for added states and actions.
const BLANK_STATES: usize = 2;
const BLANK_ACTIONS: usize = 3;
/// Most rows one form may send.
const MAX_ROWS: usize = 80;

/// Who may be allowed an action: the applicant and the roles that handle applications (an enterprise
/// acts as the applicant of its own case, never as a role on others').
pub fn actors() -> Vec<Actor> {
    let mut all = vec![Actor::Applicant];
    all.extend([Role::Leader, Role::DepartmentStaff, Role::GridOfficer, Role::TownOfficial].map(Actor::Role));
    all
}

/// One state row as typed; `fixed` rows are the default flow's (code, clock and end fixed).
#[derive(Debug, Clone, Default)]
pub struct StateRow {
    pub fixed: bool,
    pub code: String,
    pub name: String,
    pub sla: String,
    pub clock: String,
    pub terminal: bool,
}

/// One action row as typed, with the codes of the actors ticked.
#[derive(Debug, Clone, Default)]
pub struct ActionRow {
    pub fixed: bool,
    pub code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub roles: Vec<String>,
}

impl ActionRow {
    pub fn allows(&self, actor: &Actor) -> bool {
        self.roles.iter().any(|r| r == actor.code())
    }
}

/// The form as typed, so that a refused form comes back with what was entered.
#[derive(Debug, Clone, Default)]
pub struct FlowForm {
    pub base_version: String,
    pub name: String,
    pub overall_sla: String,
    pub states: Vec<StateRow>,
    pub actions: Vec<ActionRow>,
}

fn clock_code(c: Clock) -> &'static str {
    match c {
        Clock::Running => "running",
        Clock::Paused => "paused",
        Clock::Stopped => "stopped",
    }
}

impl FlowForm {
    /// The form of a stored flow; rows of the item's default flow are marked fixed.
    pub fn of(item: &ApprovalItem, flow: &Workflow) -> FlowForm {
        let base = Workflow::default_for(item);
        let mut states: Vec<StateRow> = flow
            .states
            .iter()
            .map(|s| StateRow {
                fixed: base.state(&s.code).is_some(),
                code: s.code.clone(),
                name: s.name.clone(),
                sla: s.sla.map(|d| d.get().to_string()).unwrap_or_default(),
                clock: clock_code(s.clock).into(),
                terminal: s.terminal,
            })
            .collect();
        states.extend((0..BLANK_STATES).map(|_| StateRow { clock: "running".into(), ..StateRow::default() }));
        let mut actions: Vec<ActionRow> = flow
            .actions
            .iter()
            .map(|a| ActionRow {
                fixed: base.actions.iter().any(|b| b.code == a.code && b.from == a.from && b.to == a.to),
                code: a.code.clone(),
                name: a.name.clone(),
                from: a.from.clone(),
                to: a.to.clone(),
                roles: a.roles.iter().map(|r| r.code().to_owned()).collect(),
            })
            .collect();
        actions.extend((0..BLANK_ACTIONS).map(|_| ActionRow::default()));
        FlowForm {
            base_version: item.version.to_string(),
            name: flow.name.clone(),
            overall_sla: flow.overall_sla.get().to_string(),
            states,
            actions,
        }
    }

    /// The form from posted fields: `s{i}_code`, `s{i}_name`, … and `a{i}_code`, `a{i}_role_{actor}`.
    pub fn from_pairs(pairs: &[(String, String)]) -> FlowForm {
        let fields: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let get = |k: &str| fields.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let on = |k: &str| fields.contains_key(k);
        let states = (0..MAX_ROWS)
            .take_while(|i| fields.contains_key(format!("s{i}_code").as_str()))
            .map(|i| StateRow {
                fixed: on(&format!("s{i}_fixed")),
                code: get(&format!("s{i}_code")),
                name: get(&format!("s{i}_name")),
                sla: get(&format!("s{i}_sla")),
                clock: get(&format!("s{i}_clock")),
                terminal: on(&format!("s{i}_terminal")),
            })
            .collect();
        let actions = (0..MAX_ROWS)
            .take_while(|i| fields.contains_key(format!("a{i}_code").as_str()))
            .map(|i| ActionRow {
                fixed: on(&format!("a{i}_fixed")),
                code: get(&format!("a{i}_code")),
                name: get(&format!("a{i}_name")),
                from: get(&format!("a{i}_from")),
                to: get(&format!("a{i}_to")),
                roles: actors()
                    .iter()
                    .filter(|a| on(&format!("a{i}_role_{}", a.code())))
                    .map(|a| a.code().to_owned())
                    .collect(),
            })
            .collect();
        FlowForm {
            base_version: get("base_version"),
            name: get("name"),
            overall_sla: get("overall_sla"),
            states,
            actions,
        }
    }

    /// The flow as typed (rows with an empty code are left out), or the problems by field. The
    /// configuration rules are checked by the store (`Workflow::check_configuration`).
    pub fn parse(&self, item: &ApprovalItem) -> Result<(u32, Workflow), FieldErrors> {
        let mut errors = FieldErrors::new();
        let base = self.base_version.parse::<u32>().unwrap_or_else(|_| {
            errors.insert("base_version", "缺少所编辑的版本号，请从事项目录重新打开流程配置".into());
            0
        });
        let overall_sla = WorkingDays::parse(&self.overall_sla).unwrap_or_else(|e| {
            errors.insert("overall_sla", e.message);
            WorkingDays::ZERO
        });
        let mut states = Vec::new();
        for s in self.states.iter().filter(|s| !s.code.is_empty()) {
            let sla = if s.sla.is_empty() {
                None
            } else {
                match WorkingDays::parse(&s.sla) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        errors.insert("states", format!("状态“{}”的时限：{}", s.code, e.message));
                        None
                    }
                }
            };
            let clock = match s.clock.as_str() {
                "running" => Clock::Running,
                "paused" => Clock::Paused,
                "stopped" => Clock::Stopped,
                _ => {
                    errors.insert("states", format!("状态“{}”的计时方式无效", s.code));
                    Clock::Stopped
                }
            };
            states.push(FlowState { code: s.code.clone(), name: s.name.clone(), terminal: s.terminal, sla, clock });
        }
        let actions = self
            .actions
            .iter()
            .filter(|a| !a.code.is_empty())
            .map(|a| Action {
                code: a.code.clone(),
                name: a.name.clone(),
                from: a.from.clone(),
                to: a.to.clone(),
                roles: actors().into_iter().filter(|r| a.allows(r)).collect(),
            })
            .collect();
        let flow = Workflow {
            code: item.code.to_string(),
            name: self.name.clone(),
            version: item.version.saturating_add(1),
            initial: Workflow::default_for(item).initial,
            overall_sla,
            states,
            actions,
        };
        if errors.is_empty() { Ok((base, flow)) } else { Err(errors) }
    }
}

#[derive(Template)]
#[template(path = "approval_workflow.html")]
struct FlowPage {
    chrome: Chrome,
    item: ApprovalItem,
    f: FlowForm,
    errors: FieldErrors,
    actors: Vec<Actor>,
    configured: bool,
}

async fn flow_page(
    me: &CurrentUser,
    item: ApprovalItem,
    f: FlowForm,
    errors: FieldErrors,
    configured: bool,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let mut resp = render(&FlowPage {
        chrome: Chrome::new(me, "/approval/items", "流程配置"),
        item,
        f,
        errors,
        actors: actors(),
        configured,
    })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let item = state.store.approval_item(&code).await?.item;
    let flow = state.store.approval_workflow(item.code.as_str(), i64::from(item.version)).await?;
    let configured = flow.is_configured(&item);
    flow_page(&me, item.clone(), FlowForm::of(&item, &flow), FieldErrors::new(), configured).await
}

/// Publishes a configured flow with the item's next version (page and API).
pub async fn publish(
    state: &AppState,
    me: &CurrentUser,
    code: &str,
    base: u32,
    flow: Workflow,
) -> Result<(ApprovalItem, Workflow), AppError> {
    Ok(state.store.configure_approval_workflow(&me.actor(), code, base, flow, state.now()).await?)
}

pub async fn save(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let item = state.store.approval_item(&code).await?.item;
    let f = FlowForm::from_pairs(&pairs);
    let errors = match f.parse(&item) {
        Ok((base, flow)) => match publish(&state, &me, item.code.as_str(), base, flow).await {
            Ok(_) => return Ok(see_other("/approval/items?ok=flow")),
            Err(AppError::Conflict(m) | AppError::BadRequest(m)) => FieldErrors::from([("flow", m)]),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    flow_page(&me, item, f, errors, true).await
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;
    use dianxiaoer_core::approval::Catalogue;

    fn item() -> ApprovalItem {
        Catalogue::builtin().get("371323-GS-001").cloned().unwrap()
    }

    fn pairs(f: &FlowForm) -> Vec<(String, String)> {
        let mut out = vec![
            ("base_version".to_owned(), f.base_version.clone()),
            ("name".into(), f.name.clone()),
            ("overall_sla".into(), f.overall_sla.clone()),
        ];
        for (i, s) in f.states.iter().enumerate() {
            out.push((format!("s{i}_code"), s.code.clone()));
            out.push((format!("s{i}_name"), s.name.clone()));
            out.push((format!("s{i}_sla"), s.sla.clone()));
            out.push((format!("s{i}_clock"), s.clock.clone()));
            if s.terminal {
                out.push((format!("s{i}_terminal"), "1".into()));
            }
        }
        for (i, a) in f.actions.iter().enumerate() {
            out.push((format!("a{i}_code"), a.code.clone()));
            out.push((format!("a{i}_name"), a.name.clone()));
            out.push((format!("a{i}_from"), a.from.clone()));
            out.push((format!("a{i}_to"), a.to.clone()));
            for r in &a.roles {
                out.push((format!("a{i}_role_{r}"), "1".into()));
            }
        }
        out
    }

    #[test]
    fn the_form_round_trips_the_default_flow() {
        let it = item();
        let flow = Workflow::default_for(&it);
        let (base, parsed) = FlowForm::from_pairs(&pairs(&FlowForm::of(&it, &flow))).parse(&it).unwrap();
        assert_eq!(base, it.version);
        let mut expected = flow;
        expected.version = it.version + 1;
        assert_eq!(parsed.clone().normalised(), expected.normalised());
        parsed.check_configuration(&it).unwrap();
        assert!(!parsed.is_configured(&it));
    }

    #[test]
    fn bad_numbers_name_their_fields() {
        let it = item();
        let mut f = FlowForm::of(&it, &Workflow::default_for(&it));
        f.overall_sla = "三天".into();
        f.states[1].sla = "-1".into();
        f.states[2].clock = "sometimes".into();
        let errors = f.parse(&it).err().unwrap();
        assert!(errors.contains_key("overall_sla"));
        assert!(errors.contains_key("states"));
    }
}
