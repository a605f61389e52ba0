//! Investment projects of the enclave economy (飞地经济): list, Excel export, detail with the sharing
//! agreements, and adding an agreement — all through the user's scope.

use super::revenue_project_form::{mu_text, parse_introducer};
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
use dianxiaoer_core::area::Area;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::agreement::{Agreement, SharingRatio};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::stage::Stage;
use dianxiaoer_store::{
    AgreementRow, AuditEntry, DepartmentRow, HostMoveRow, LedgerFilter, Page, PeriodTotal, ProjectFilter, ProjectRow,
    ProjectSort, TownRow,
};
use serde::Deserialize;
use std::borrow::Borrow;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub stage: Option<String>,
    /// "zone", a town's code, or "dept:<id>".
    pub introducer: Option<String>,
    pub town: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    /// The store filter; an unknown sort key or stage is refused, not ignored.
    pub fn filter(&self, departments: &[DepartmentRow]) -> Result<ProjectFilter, AppError> {
        let sort = ProjectSort::parse(self.sort.as_deref().unwrap_or(""))
            .ok_or_else(|| AppError::BadRequest("不支持的排序字段".into()))?;
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        let stage =
            nonempty(&self.stage).map(|s| Stage::parse(&s)).transpose().map_err(|e| AppError::BadRequest(e.message))?;
        let introducer = nonempty(&self.introducer)
            .map(|i| parse_introducer(&i, departments))
            .transpose()
            .map_err(AppError::BadRequest)?;
        Ok(ProjectFilter { q, stage, introducer, host_town: nonempty(&self.town), sort })
    }

    fn base(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        query_string(&[
            ("q", &s(&self.q)),
            ("stage", &s(&self.stage)),
            ("introducer", &s(&self.introducer)),
            ("town", &s(&self.town)),
            ("sort", &s(&self.sort)),
        ])
    }
}

/// Money for lists: 万元 with two decimals.
pub fn wan(fen: impl Borrow<i64>) -> String {
    Fen::from_fen(*fen.borrow()).display_wan()
}

/// Money in 元: "1,234.56元".
pub fn yuan(fen: impl Borrow<i64>) -> String {
    Fen::from_fen(*fen.borrow()).to_string()
}

pub fn mu(centi_m2: impl Borrow<i64>) -> String {
    Area::from_m2_centi(*centi_m2.borrow()).mu_display()
}

#[derive(Template)]
#[template(path = "revenue_projects.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<ProjectRow>,
    pager: Pager,
    q: ListQuery,
    towns: Vec<TownRow>,
    departments: Vec<DepartmentRow>,
    stages: [Stage; 4],
    sorts: [(&'static str, &'static str); 6],
    export: String,
    can_edit: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let refdata = state.refdata().await?;
    let f = q.filter(&refdata.departments)?;
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.list_projects(&me.scope, &f, page, per_page).await?;
    let base = q.base();
    render(&ListPage {
        chrome: Chrome::new(&me, "/revenue/projects", "招商项目"),
        pager: Pager::new(&rows, base.clone()),
        rows,
        q,
        towns: refdata.towns.clone(),
        departments: refdata.departments.iter().filter(|d| d.kind == "county").cloned().collect(),
        stages: Stage::ALL,
        sorts: ProjectSort::KEYS,
        export: base,
        can_edit: permits(me.user.role, Permission::EditProjects),
    })
}

/// Most rows one export may hold.
const EXPORT_MAX: i64 = 100_000;

const EXPORT_HEADERS: [(&str, f64); 13] = [
    ("项目名称", 34.0),
    ("企业名称", 30.0),
    ("统一社会信用代码", 22.0),
    ("引资单位", 20.0),
    ("落地乡镇", 12.0),
    ("阶段", 8.0),
    ("签约日期", 12.0),
    ("落地日期", 12.0),
    ("计划总投资（万元）", 16.0),
    ("计划固定资产投资（万元）", 20.0),
    ("实际完成投资（万元）", 18.0),
    ("实际完成固定资产投资（万元）", 22.0),
    ("清理地上附着物面积（亩）", 20.0),
];

fn export_row(p: &ProjectRow) -> Vec<Cell> {
    let t = |s: &str| Cell::Text(s.to_string());
    let day = |d: &str| dianxiaoer_core::when::parse_date(d).map_or_else(|| Cell::Text(d.to_string()), Cell::Date);
    let wan = |fen: i64| Cell::Decimal(super::enterprise_form::wan_text(fen));
    vec![
        t(&p.name),
        t(&p.enterprise_name),
        t(&p.credit_code),
        t(&p.introducer_name()),
        t(&p.host_town_name),
        t(p.stage.label()),
        day(&p.signed_on),
        p.landed_on.as_deref().map_or(Cell::Text(String::new()), day),
        wan(p.planned_investment_fen),
        wan(p.planned_fixed_assets_fen),
        wan(p.actual_investment_fen),
        wan(p.actual_fixed_assets_fen),
        Cell::Decimal(mu_text(p.cleared_area_centi_m2)),
    ]
}

/// Exports exactly what the filters select, within scope; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let refdata = state.refdata().await?;
    let f = q.filter(&refdata.departments)?;
    let rows = state.store.export_projects(&me.scope, &f, EXPORT_MAX).await?;
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || workbook("招商项目", &EXPORT_HEADERS, rows.iter().map(export_row)))
        .await
        .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "investment_project", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "investment-projects.xlsx"))
}

/// The agreement form as typed.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct RawAgreement {
    /// "5:3:2".
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub ratio: String,
    /// "2022-01".
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub from: String,
    /// Blank: open-ended.
    #[serde(deserialize_with = "super::enterprise_form::de_text")]
    pub to: String,
}

/// Parses the agreement form into a core agreement, or a message.
pub fn parse_agreement(raw: &RawAgreement) -> Result<Agreement, String> {
    let ratio = SharingRatio::parse(&raw.ratio).map_err(|e| e.message)?;
    let from = Period::parse(&raw.from).map_err(|e| format!("开始月份：{}", e.message))?;
    let to = match raw.to.trim() {
        "" => None,
        t => Some(Period::parse(t).map_err(|e| format!("结束月份：{}", e.message))?),
    };
    Agreement::new(ratio, from, to).map_err(|e| e.message)
}

#[derive(Template)]
#[template(path = "revenue_project.html")]
struct DetailPage {
    chrome: Chrome,
    p: ProjectRow,
    agreements: Vec<AgreementRow>,
    totals: Vec<PeriodTotal>,
    /// Earlier host towns (落地单位变更), oldest first.
    moves: Vec<HostMoveRow>,
    towns: Vec<TownRow>,
    can_edit: bool,
    /// The project's approval plan (压茬审批) is readable.
    can_plan: bool,
    form: RawAgreement,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    ok: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let form = RawAgreement { ratio: SharingRatio::DEFAULT.to_string(), ..Default::default() };
    detail_page(&state, &me, id, q.ok.as_deref(), form, None).await
}

async fn detail_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    ok: Option<&str>,
    form: RawAgreement,
    error: Option<String>,
) -> Result<Response, PageError> {
    let p = state.store.project(&me.scope, id).await?;
    let agreements = state.store.agreements(&me.scope, id).await?;
    let filter = LedgerFilter { enterprise_id: Some(p.enterprise_id), ..Default::default() };
    let totals = state.store.tax_totals(&me.scope, &filter).await?;
    let moves = state.store.host_moves(&me.scope, id).await?;
    let towns = state.refdata().await?.towns.clone();
    let bad = error.is_some();
    let mut resp = render(&DetailPage {
        chrome: Chrome::new(me, "/revenue/projects", "招商项目").notice(ok),
        p,
        agreements,
        totals,
        moves,
        towns,
        can_edit: permits(me.user.role, Permission::EditProjects),
        can_plan: permits(me.user.role, Permission::ReadApprovals),
        form,
        error,
    })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn add_agreement(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<RawAgreement>,
) -> Result<Response, PageError> {
    state.store.project(&me.scope, id).await?;
    let a = match parse_agreement(&f) {
        Ok(a) => a,
        Err(m) => return detail_page(&state, &me, id, None, f, Some(m)).await,
    };
    match state.store.add_agreement(&me.actor(), &me.scope, id, &a, state.now()).await {
        Ok(_) => Ok(see_other(&format!("/revenue/projects/{id}?ok=saved"))),
        Err(dianxiaoer_store::Error::Invalid(m)) => detail_page(&state, &me, id, None, f, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct Top500Form {
    #[serde(default)]
    pub top500: String,
}

/// Marks or unmarks a project as a China-top-500 investor's (an assessment bonus).
pub async fn set_top500(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<Top500Form>,
) -> Result<Response, PageError> {
    let on = f.top500 == "1";
    state.store.set_project_top500(&me.actor(), &me.scope, id, on, state.now()).await?;
    Ok(see_other(&format!("/revenue/projects/{id}?ok=saved")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw(ratio: &str, from: &str, to: &str) -> RawAgreement {
        RawAgreement { ratio: ratio.into(), from: from.into(), to: to.into() }
    }

    #[test]
    fn parses_agreements_with_reasons() {
        let a = parse_agreement(&raw("7：3：0", "2022-01", "")).unwrap();
        assert_eq!((a.ratio().to_string(), a.from().to_string(), a.to()), ("7:3:0".into(), "2022-01".into(), None));
        assert_eq!(parse_agreement(&raw("5:3:3", "2022-01", "")).unwrap_err(), "分成比例三项之和应为 10，实际为 11");
        assert!(parse_agreement(&raw("5:3:2", "", "")).unwrap_err().starts_with("开始月份"));
        assert!(parse_agreement(&raw("5:3:2", "2022-05", "2022-01")).unwrap_err().contains("早于"));
    }

    #[test]
    fn list_query_refuses_unknown_keys() {
        let q = ListQuery { sort: Some("id desc".into()), ..Default::default() };
        assert!(q.filter(&[]).is_err());
        let q = ListQuery { stage: Some("x".into()), ..Default::default() };
        assert!(q.filter(&[]).is_err());
        let q = ListQuery { introducer: Some("zone".into()), stage: Some("landed".into()), ..Default::default() };
        let f = q.filter(&[]).unwrap();
        assert_eq!(f.stage, Some(Stage::Landed));
    }
}
