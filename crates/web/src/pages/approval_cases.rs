//! Approval cases (办件): the inbox and list with filters, paging and Excel export; filing a case for
//! an enterprise (by the enterprise itself, or 帮代办 by staff and grid officers); the case page with
//! the materials check, the actions the user's role may take and the timeline. The JSON API calls the
//! same operations (`api_approval.rs`).

use super::{nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::approval::case::days_left;
use dianxiaoer_core::approval::{ApprovalItem, Catalogue, Date, Workflow, WorkingDays, check_acceptance};
use dianxiaoer_store::{
    ActionInput, Assigned, AssigneeOption, AuditEntry, AvailableAction, CaseEvent, CaseFilter, CaseRow, CommitmentRow,
    DocumentRow, ItemFilter, Page, RatingRow,
};
use serde::{Deserialize, Serialize};

/// Most rows one export may hold.
const EXPORT_MAX: i64 = 100_000;

/// Runs `$body` with `$caller` bound to the store's view of `$me`.
macro_rules! with_caller {
    ($me:expr, |$caller:ident| $body:expr) => {{
        let actor = $me.actor();
        let $caller = dianxiaoer_store::Caller { actor: &actor, role: $me.user.role, scope: &$me.scope };
        $body
    }};
}
pub(crate) use with_caller;

/// Every state of the default flows, (code, name), for the filter.
pub fn state_options() -> Vec<(String, String)> {
    let Some(mut item) = Catalogue::builtin().items().first().cloned() else { return Vec::new() };
    item.deficiency_acceptance = true;
    item.commitment_approval = true;
    Workflow::default_for(&item).states.into_iter().map(|s| (s.code, s.name)).collect()
}

#[derive(Deserialize, Default, Clone)]
pub struct CaseQuery {
    /// `inbox` (default) or `all`.
    #[serde(rename = "box")]
    pub box_: Option<String>,
    pub state: Option<String>,
    pub item: Option<String>,
    pub q: Option<String>,
    pub enterprise: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub ok: Option<String>,
}

impl CaseQuery {
    pub fn inbox(&self) -> bool {
        !matches!(self.box_.as_deref(), Some("all" | "mine"))
    }

    /// The list asked for: `inbox` (待办, the default), `pool` (待认领), `mine` (我承办的) or `all`.
    pub fn box_code(&self) -> &'static str {
        match self.box_.as_deref() {
            Some("all") => "all",
            Some("mine") => "mine",
            Some("pool") => "pool",
            _ => "inbox",
        }
    }

    pub fn filter(&self) -> Result<CaseFilter, AppError> {
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        if !matches!(self.box_.as_deref(), None | Some("" | "inbox" | "pool" | "mine" | "all")) {
            return Err(AppError::BadRequest(
                "列表应为待办（inbox）、待认领（pool）、我承办的（mine）或全部（all）".into(),
            ));
        }
        let state = nonempty(&self.state);
        if state.as_ref().is_some_and(|s| !state_options().iter().any(|(c, _)| c == s)) {
            return Err(AppError::BadRequest("办件状态无法识别".into()));
        }
        let assigned = match self.box_code() {
            "mine" => Assigned::ToMe,
            "pool" => Assigned::Nobody,
            _ => Assigned::Any,
        };
        Ok(CaseFilter {
            inbox: self.inbox(),
            assigned,
            state,
            item: nonempty(&self.item),
            q,
            enterprise_id: self.enterprise,
        })
    }
}

#[derive(Template)]
#[template(path = "approval_cases.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<CaseRow>,
    pager: Pager,
    q: CaseQuery,
    inbox: bool,
    box_code: &'static str,
    states: Vec<(String, String)>,
    items: Vec<ApprovalItem>,
    export: String,
    today: Date,
    can_file: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = with_caller!(me, |caller| state.store.list_cases(&caller, &f, page, per_page).await?);
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let enterprise = q.enterprise.map(|e| e.to_string()).unwrap_or_default();
    let base = query_string(&[
        ("box", q.box_code()),
        ("state", &s(&q.state)),
        ("item", &s(&q.item)),
        ("q", &s(&q.q)),
        ("enterprise", &enterprise),
    ]);
    let pager = Pager::new(&rows, base.clone());
    render(&ListPage {
        chrome: Chrome::new(&me, "/approval/cases", "审批办件").notice(q.ok.as_deref()),
        rows,
        pager,
        inbox: f.inbox,
        box_code: q.box_code(),
        q,
        states: state_options(),
        items: state.store.approval_items(&ItemFilter::default()).await?,
        export: base,
        today: Date::from_ms(state.now()),
        can_file: permits(me.user.role, Permission::FileApplications),
    })
}

/// Exports what the filters select, within scope; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let rows = with_caller!(me, |caller| state.store.export_cases(&caller, &f, EXPORT_MAX).await?);
    let n = rows.len();
    let today = Date::from_ms(state.now());
    let headers = [
        ("办件编号", 16.0),
        ("事项编码", 16.0),
        ("事项名称", 30.0),
        ("版本", 6.0),
        ("企业", 30.0),
        ("申请人", 12.0),
        ("帮代办", 8.0),
        ("状态", 12.0),
        ("受理时间", 20.0),
        ("办结期限", 12.0),
        ("超期", 6.0),
        ("申请时间", 20.0),
    ];
    let bytes = tokio::task::spawn_blocking(move || {
        let cells = rows.into_iter().map(move |c| {
            vec![
                Cell::Text(c.case_no.clone()),
                Cell::Text(c.item_code.clone()),
                Cell::Text(c.item_name.clone()),
                Cell::Int(c.item_version),
                Cell::Text(c.enterprise_name.clone()),
                Cell::Text(c.applicant_name.clone()),
                Cell::Text(if c.agency { "是" } else { "否" }.into()),
                Cell::Text(c.state_name.clone()),
                c.received_at.map_or(Cell::Text(String::new()), Cell::Time),
                Cell::Text(c.deadline.clone().unwrap_or_default()),
                Cell::Text(if c.overdue(today) { "是" } else { "" }.into()),
                Cell::Time(c.created_at),
            ]
        });
        workbook("办件", &headers, cells)
    })
    .await
    .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "approval_case", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "approval-cases.xlsx"))
}

/// A case with what the caller needs to act on it (page and API).
#[derive(Serialize)]
pub struct CaseDetail {
    pub case: CaseRow,
    /// Working days left of the limit now, once accepted.
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// The materials check of the item version as the case stands.
    pub acceptance: String,
    pub actions: Vec<AvailableAction>,
    pub events: Vec<CaseEvent>,
    /// 告知承诺: the commitment and its check, when the case has one.
    pub commitment: Option<CommitmentRow>,
    /// 好差评: the ratings, newest first.
    pub ratings: Vec<RatingRow>,
    /// What the caller may do after the decision (see `approval_aftercare.rs`).
    pub may_commit: bool,
    pub may_check: bool,
    pub may_rate: bool,
    /// The verification code (grouped) of the certificate a decision of 准予 sealed, if any.
    pub certificate: Option<String>,
    /// The electronic documents, oldest first, each with the transition it came with.
    pub documents: Vec<DocumentRow>,
    /// Whether the caller may upload a document now (the store decides again).
    pub may_upload: bool,
    /// 认领、指派: who may be assigned the case, and what the caller may do (the store decides again).
    pub assignees: Vec<AssigneeOption>,
    pub may_take: bool,
    pub may_assign: bool,
    pub may_release: bool,
    /// The investment project's approval plan the case serves (压茬审批), with the prerequisites its
    /// decision waits for.
    pub plan: Option<dianxiaoer_store::CasePlanLink>,
    #[serde(skip)]
    pub item: Option<ApprovalItem>,
    #[serde(skip)]
    pub flow: Option<Workflow>,
}

/// Loads a case in scope with its item version, flow, events and the caller's actions.
pub async fn detail_of(state: &AppState, me: &CurrentUser, id: i64) -> Result<CaseDetail, AppError> {
    let case = state.store.case(&me.scope, id).await?;
    let item = state.store.approval_item_version(&case.item_code, case.item_version).await?.item;
    let flow = state.store.approval_workflow(&case.item_code, case.item_version).await?;
    let events = state.store.case_events(&me.scope, id).await?;
    let pauses = state.store.case_pauses(&me.scope, id).await?;
    let now = state.now();
    let cal = state.calendar().await?;
    let running = case.paused_ms.is_none() && !case.actors.is_empty();
    let days_left = case
        .received_at
        .filter(|_| running)
        .map(|r| days_left(&cal, r, now, u32::try_from(case.limit_days).unwrap_or(0), &pauses));
    let acceptance = match check_acceptance(&item, &case.materials) {
        Ok(dianxiaoer_core::approval::Acceptance::Complete) => "材料齐全".to_owned(),
        Ok(dianxiaoer_core::approval::Acceptance::Deficient { missing }) => {
            format!("容缺：尚缺非关键材料{}", missing.iter().map(|m| format!("“{m}”")).collect::<Vec<_>>().join("、"))
        }
        Err(e) => e.message,
    };
    let actions = with_caller!(me, |caller| state.store.case_actions(&caller, &case, &flow));
    let commitment = state.store.case_commitment(&me.scope, id).await?;
    let ratings = state.store.case_ratings(&me.scope, id).await?;
    let applicant = with_caller!(me, |caller| caller.is_applicant(&case));
    let (may_commit, may_check, may_rate) =
        super::approval_aftercare::may(me, &item, &case, applicant, commitment.as_ref(), &ratings);
    let certificate = state.store.case_certificate(&me.scope, id).await?.map(|c| c.code_grouped);
    let documents = state.store.case_documents(&me.scope, id).await?;
    let assignees = state.store.case_assignees(&case).await?;
    let my_id = me.user.id;
    let leader = me.user.role == dianxiaoer_core::access::Role::Leader;
    let mine = case.assignee_id == Some(my_id);
    let can_take = assignees.iter().any(|o| o.id == my_id);
    let may_take = can_take && !mine && (case.assignee_id.is_none() || leader);
    let may_release = case.assignee_id.is_some() && (mine || leader);
    let may_assign = !assignees.is_empty() && (mine || leader || (case.assignee_id.is_none() && can_take));
    let open = flow.state(&case.state).is_some_and(|s| !s.terminal);
    let may_upload = open
        && (applicant
            || matches!(
                me.user.role,
                dianxiaoer_core::access::Role::DepartmentStaff | dianxiaoer_core::access::Role::GridOfficer
            ));
    let plan = state.store.case_plan(&me.scope, id).await?;
    Ok(CaseDetail {
        plan,
        overdue: case.overdue(Date::from_ms(now)),
        case,
        days_left,
        acceptance,
        actions,
        events,
        commitment,
        ratings,
        may_commit,
        may_check,
        may_rate,
        certificate,
        documents,
        may_upload,
        assignees,
        may_take,
        may_assign,
        may_release,
        item: Some(item),
        flow: Some(flow),
    })
}

/// One row of the materials check on the case page.
pub struct MaterialLine {
    pub name: String,
    pub key: bool,
    pub status: &'static str,
    pub class: &'static str,
    /// Not handed in and not fetched: may be handed in with an action.
    pub open: bool,
}

fn material_lines(item: &ApprovalItem, case: &CaseRow) -> Vec<MaterialLine> {
    item.materials
        .iter()
        .map(|m| {
            let handed = case.materials.iter().any(|x| x == m.name.trim());
            let (status, class) = if handed {
                ("已提交", "good")
            } else if m.fetchable {
                ("部门共享获取", "good")
            } else if case.missing.iter().any(|x| x == m.name.trim()) {
                ("容缺待补", "warn")
            } else {
                ("未提交", "bad")
            };
            MaterialLine { name: m.name.clone(), key: m.key, status, class, open: !handed && !m.fetchable }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "approval_case.html")]
struct CasePage {
    chrome: Chrome,
    d: CaseDetail,
    item: ApprovalItem,
    materials: Vec<MaterialLine>,
    any_open: bool,
    timeline: Vec<(CaseEvent, String, String)>,
    error: Option<String>,
    comment: String,
    after: super::approval_aftercare::AfterView,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> Result<Response, PageError> {
    case_page(&state, &me, id, q.ok.as_deref(), None, String::new()).await
}

pub(crate) async fn case_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    ok: Option<&str>,
    error: Option<(StatusCode, String)>,
    comment: String,
) -> Result<Response, PageError> {
    let mut d = detail_of(state, me, id).await?;
    let (Some(item), Some(flow)) = (d.item.take(), d.flow.take()) else {
        return Err(AppError::Internal("case without item".into()).into());
    };
    let name = |code: &str| flow.state(code).map_or_else(|| code.to_owned(), |s| s.name.clone());
    let timeline = d.events.iter().map(|e| (e.clone(), name(&e.from_state), name(&e.to_state))).collect::<Vec<_>>();
    let materials = material_lines(&item, &d.case);
    let after = super::approval_aftercare::AfterView::new(me, &item, &d, Date::from_ms(state.now()));
    let status = error.as_ref().map(|e| e.0);
    let mut resp = render(&CasePage {
        chrome: Chrome::new(me, "/approval/cases", "办件详情").notice(ok),
        d,
        item,
        any_open: materials.iter().any(|m| m.open),
        materials,
        timeline,
        error: error.map(|e| e.1),
        comment,
        after,
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// The action form: the button pressed, a comment, and materials handed in (repeated `materials`).
pub fn action_input(pairs: &[(String, String)]) -> ActionInput {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    ActionInput {
        action: get("action"),
        comment: get("comment"),
        materials: pairs.iter().filter(|(k, _)| k == "materials").map(|(_, v)| v.clone()).collect(),
    }
}

/// Takes an action (page and API) with the calendar in force.
pub async fn act(state: &AppState, me: &CurrentUser, id: i64, input: &ActionInput) -> Result<CaseRow, AppError> {
    let cal = state.calendar().await?;
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.apply_case_action(&caller, id, input, &cal, now).await?))
}

pub async fn action(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let input = action_input(&pairs);
    match act(&state, &me, id, &input).await {
        Ok(_) => Ok(see_other(&format!("/approval/cases/{id}?ok=acted"))),
        Err(e @ (AppError::Unprocessable(_) | AppError::BadRequest(_) | AppError::Conflict(_))) => {
            case_page(&state, &me, id, None, Some((e.status(), e.detail())), input.comment).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a listed case is overdue on `today`.
pub fn overdue(c: &CaseRow, today: &Date) -> bool {
    c.overdue(*today)
}

/// Days as shown: "剩余 3 个工作日" or "超期 2 个工作日".
pub fn left_text(days: &i64) -> String {
    match *days {
        d if d < 0 => format!("超期 {} 个工作日", -d),
        d => format!("剩余 {d} 个工作日"),
    }
}

/// The limit of a case as shown.
pub fn limit_text(days: &i64) -> String {
    u32::try_from(*days).ok().and_then(WorkingDays::new).map_or_else(|| days.to_string(), |d| d.to_string())
}

/// Who an event's actor acted as.
pub fn role_text(code: &str) -> &'static str {
    dianxiaoer_core::approval::Actor::parse(code).map_or("—", |a| a.label())
}
