//! The enterprise registry pages (一企一档), read and written through the user's scope.

use super::approval_cases::with_caller;
use super::enterprise_import::{export_row, headers};
use super::{nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use crate::xlsx::{download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits, sees_personal_data};
use dianxiaoer_core::text;
use dianxiaoer_store::{
    AuditEntry, Contact, ContactRow, EnterpriseFilter, EnterpriseRow, EnterpriseSort, NewContact, Page, ProjectAreaRow,
    TownRow,
};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub town: Option<String>,
    pub area: Option<String>,
    pub status: Option<String>,
    pub industry: Option<String>,
    pub scale: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    /// The store filter; an unknown sort key is refused, not ignored.
    pub fn filter(&self) -> Result<EnterpriseFilter, AppError> {
        let sort = EnterpriseSort::parse(self.sort.as_deref().unwrap_or(""))
            .ok_or_else(|| AppError::BadRequest("不支持的排序字段".into()))?;
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        let industry = match nonempty(&self.industry) {
            Some(raw) => Some(
                dianxiaoer_core::industry::IndustryCode::parse(&raw)
                    .map_err(|e| AppError::BadRequest(e.message))?
                    .code()
                    .to_string(),
            ),
            None => None,
        };
        let above_scale = match self.scale.as_deref() {
            None | Some("") => None,
            Some("above") => Some(true),
            Some("below") => Some(false),
            Some(_) => return Err(AppError::BadRequest("规模应为规上或规下".into())),
        };
        Ok(EnterpriseFilter {
            q,
            town: nonempty(&self.town),
            project_area: nonempty(&self.area),
            status: nonempty(&self.status),
            industry,
            above_scale,
            sort,
        })
    }
}

/// Masks contact phones for roles that do not need them (security.md, field-level masking).
pub fn masked(mut e: EnterpriseRow, me: &CurrentUser) -> EnterpriseRow {
    if !sees_personal_data(me.user.role) {
        e.contact_phone = text::mask_phone(&e.contact_phone);
    }
    e
}

pub fn status_label(code: &str) -> &'static str {
    match code {
        "operating" => "在营",
        "suspended" => "停产",
        "cancelled" => "注销",
        "revoked" => "吊销",
        "moved" => "迁出",
        _ => "其他",
    }
}

#[derive(Template)]
#[template(path = "enterprises.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<EnterpriseRow>,
    pager: Pager,
    q: ListQuery,
    towns: Vec<TownRow>,
    areas: Vec<ProjectAreaRow>,
    export: String,
    can_create: bool,
    can_import: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let mut rows = state.store.list_enterprises(&me.scope, &f, page, per_page).await?;
    rows.items = rows.items.into_iter().map(|e| masked(e, &me)).collect();
    let refdata = state.refdata().await?;
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let base = query_string(&[
        ("q", &s(&q.q)),
        ("town", &s(&q.town)),
        ("area", &s(&q.area)),
        ("status", &s(&q.status)),
        ("sort", &s(&q.sort)),
    ]);
    let pager = Pager::new(&rows, base.clone());
    render(&ListPage {
        chrome: Chrome::new(&me, "/enterprises", "企业档案"),
        rows,
        pager,
        q,
        towns: refdata.towns.clone(),
        areas: refdata.areas.clone(),
        export: base,
        can_create: permits(me.user.role, Permission::EditEnterprises),
        can_import: permits(me.user.role, Permission::ImportEnterprises),
    })
}

/// Most rows one export may hold.
const EXPORT_MAX: usize = 1_000_000;

/// Exports exactly what the filters select, within scope, in the import's columns; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let refdata = state.refdata().await?;
    let (departments, grids) = (refdata.departments.clone(), refdata.grids.clone());
    let viewer = me.clone();
    // The worksheet is built on a blocking thread while the next rows are read.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<EnterpriseRow>>(4);
    let builder = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten();
        workbook("企业", &headers(), rows.map(|e| export_row(&masked(e, &viewer), &departments, &grids)))
    });
    let n = state.store.stream_enterprises(&me.scope, &f, EXPORT_MAX, tx).await?;
    let bytes = builder.await.map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "enterprise", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "enterprises.xlsx"))
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct DetailPage {
    chrome: Chrome,
    e: EnterpriseRow,
    v: View,
    can_edit: bool,
    can_edit_all: bool,
    error: Option<String>,
    history: Vec<HistoryLine>,
    contacts: Vec<ContactRow>,
    max_contacts: i64,
    /// The enterprise's approval cases, newest first, when the role reads them.
    cases: Option<Vec<dianxiaoer_store::CaseRow>>,
    can_file: bool,
    /// The enterprise's gas alarm summary, when the role reads gas alarms.
    gas: Option<dianxiaoer_store::AlarmSummary>,
}

/// One line of the change history as shown.
pub struct HistoryLine {
    pub at: i64,
    pub username: String,
    pub action: &'static str,
    pub text: String,
}

fn field_label(key: &str) -> &str {
    match key {
        "credit_code" => "统一社会信用代码",
        "name" => "企业名称",
        "legal_representative" => "法定代表人",
        "industry_code" => "行业代码",
        "host_town" => "落地乡镇",
        "project_area" => "片区",
        "address" => "地址",
        "status" => "状态",
        "above_scale" => "规上",
        "employees" => "从业人数",
        "registered_capital_fen" => "注册资本",
        "land_area_centi_m2" => "用地面积",
        "established" => "成立日期",
        "tags" => "标签",
        "contact_name" => "联系人",
        "contact" => "联系人",
        "position" => "职务",
        other => other,
    }
}

fn value_text(key: &str, v: &serde_json::Value) -> String {
    match (key, v) {
        (_, serde_json::Value::Null) => "（空）".into(),
        ("registered_capital_fen", serde_json::Value::Number(n)) => {
            n.as_i64().map_or_else(|| n.to_string(), |f| dianxiaoer_core::money::Fen::from_fen(f).display_auto())
        }
        ("land_area_centi_m2", serde_json::Value::Number(n)) => {
            n.as_i64().map_or_else(|| n.to_string(), |a| dianxiaoer_core::area::Area::from_m2_centi(a).mu_display())
        }
        ("above_scale", serde_json::Value::Bool(b)) => if *b { "是" } else { "否" }.into(),
        ("status", serde_json::Value::String(t)) => status_label(t).to_string(),
        (_, serde_json::Value::String(t)) if t.is_empty() => "（空）".into(),
        (_, serde_json::Value::String(t)) => t.clone(),
        (_, other) => other.to_string(),
    }
}

/// What a change did, in words: the fields an edit changed (before → after), or the import.
pub fn history_line(h: dianxiaoer_store::HistoryEntry) -> HistoryLine {
    let text = if let Some((id, source, created)) = &h.import {
        format!("Excel 导入第 {id} 批（{source}）：{}", if *created { "新增登记" } else { "按统一社会信用代码更新" })
    } else {
        let detail: serde_json::Value = serde_json::from_str(&h.detail).unwrap_or_default();
        let empty = serde_json::Map::new();
        let before = detail.get("before").and_then(|b| b.as_object()).unwrap_or(&empty);
        let after = detail.get("after").and_then(|b| b.as_object()).unwrap_or(&empty);
        if let Some(name) = detail.get("contact").and_then(|c| c.as_str()).filter(|_| after.is_empty()) {
            match detail.get("position").and_then(|p| p.as_str()).filter(|p| !p.is_empty()) {
                Some(p) => format!("{name}（{p}）"),
                None => name.to_string(),
            }
        } else if before.is_empty() {
            after.get("name").and_then(|n| n.as_str()).map_or_else(String::new, |n| format!("登记“{n}”"))
        } else {
            let changes: Vec<String> = after
                .iter()
                .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
                .map(|(k, v)| {
                    format!("{}：{} → {}", field_label(k), value_text(k, &before[k.as_str()]), value_text(k, v))
                })
                .collect();
            if changes.is_empty() { "未改变内容".into() } else { changes.join("；") }
        }
    };
    HistoryLine { at: h.at, username: h.username, action: action_label(&h.action), text }
}

/// Display forms of an enterprise's typed fields.
pub struct View {
    pub industry: String,
    pub introducer: String,
    pub land: String,
    pub capital: String,
    pub location: String,
    pub tags: Vec<String>,
}

async fn view_of(state: &AppState, e: &EnterpriseRow) -> Result<View, AppError> {
    let industry = dianxiaoer_core::industry::IndustryCode::parse(&e.industry_code)
        .map(|c| format!("{} {}", c.code(), c.path_names()))
        .unwrap_or_else(|_| e.industry_code.clone());
    let introducer = match (&e.introducer_town, e.introducer_department) {
        (Some(t), _) => dianxiaoer_core::division::town_by_code(t).map_or_else(|| t.clone(), |t| t.name.to_string()),
        (None, Some(d)) => {
            state.store.departments().await?.into_iter().find(|x| x.id == d).map_or_else(String::new, |x| x.name)
        }
        (None, None) => "开发区自主招商".into(),
    };
    Ok(View {
        industry,
        introducer,
        land: e.land_area_centi_m2.map_or_else(
            || "—".into(),
            |a| {
                let a = dianxiaoer_core::area::Area::from_m2_centi(a);
                format!("{}（{}）", a.mu_display(), a.m2_display())
            },
        ),
        capital: e
            .registered_capital_fen
            .map_or_else(|| "—".into(), |f| dianxiaoer_core::money::Fen::from_fen(f).display_auto()),
        location: match (e.lon, e.lat) {
            (Some(x), Some(y)) => format!("{x:.5}°E, {y:.5}°N"),
            _ => "—".into(),
        },
        tags: e.tags.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
    })
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
    detail_page(&state, &me, id, q.ok.as_deref(), None).await
}

async fn detail_page(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    ok: Option<&str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let e = masked(state.store.enterprise(&me.scope, id).await?, me);
    let v = view_of(state, &e).await?;
    let history = state.store.enterprise_history(&me.scope, id, 20).await?.into_iter().map(history_line).collect();
    let contacts = masked_contacts(state.store.enterprise_contacts(&me.scope, id).await?, me);
    let cases = if permits(me.user.role, Permission::ReadApprovals) {
        let f = dianxiaoer_store::CaseFilter { enterprise_id: Some(id), ..Default::default() };
        Some(with_caller!(me, |caller| state.store.list_cases(&caller, &f, 1, 10).await?.items))
    } else {
        None
    };
    let gas = if permits(me.user.role, Permission::ReadGas) {
        let since = state.now() - crate::pages::home::GAS_RECENT_MS;
        Some(state.store.alarm_summary(&me.scope, Some(id), since).await?)
    } else {
        None
    };
    let bad = error.is_some();
    let mut resp = render(&DetailPage {
        chrome: Chrome::new(me, "/enterprises", "企业档案").notice(ok),
        e,
        v,
        can_edit: permits(me.user.role, Permission::EditEnterpriseContact),
        can_edit_all: permits(me.user.role, Permission::EditEnterprises),
        error,
        history,
        contacts,
        max_contacts: dianxiaoer_store::MAX_CONTACTS,
        cases,
        can_file: permits(me.user.role, Permission::FileApplications),
        gas,
    })?;
    if bad {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

#[derive(Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
}

/// Parsed contact fields, or a message.
pub fn parse_contact(f: &ContactForm) -> Result<Contact, String> {
    let address = text::required("地址", &f.address, 120)?;
    let name = text::required("联系人", &f.contact_name, 32)?;
    let phone = text::required("联系电话", &f.contact_phone, 20)?;
    if !phone.chars().all(|c| c.is_ascii_digit() || c == '-') || phone.len() < 7 {
        return Err("联系电话应为手机号或带区号的固定电话".into());
    }
    Ok(Contact { address, contact_name: name, contact_phone: phone })
}

pub async fn update_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<ContactForm>,
) -> Result<Response, PageError> {
    match parse_contact(&f) {
        Ok(c) => {
            state.store.update_enterprise_contact(&me.actor(), &me.scope, id, &c, state.now()).await?;
            Ok(see_other(&format!("/enterprises/{id}?ok=saved")))
        }
        Err(m) => detail_page(&state, &me, id, None, Some(m)).await,
    }
}

#[derive(Deserialize, Default)]
pub struct NewContactForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub phone: String,
}

/// Validates a further contact: name and phone required, position optional.
pub fn parse_new_contact(f: &NewContactForm) -> Result<NewContact, String> {
    let name = text::required("联系人姓名", &f.name, 32)?;
    let position = text::optional("职务", &f.position, 32)?;
    let phone = text::required("联系电话", &f.phone, 20)?;
    if !phone.chars().all(|c| c.is_ascii_digit() || c == '-') || phone.len() < 7 {
        return Err("联系电话应为手机号或带区号的固定电话".into());
    }
    Ok(NewContact { name, position: position.unwrap_or_default(), phone })
}

/// Further contacts with phones masked for roles that do not need them.
pub fn masked_contacts(contacts: Vec<ContactRow>, me: &CurrentUser) -> Vec<ContactRow> {
    let show = sees_personal_data(me.user.role);
    contacts
        .into_iter()
        .map(|mut c| {
            if !show {
                c.phone = text::mask_phone(&c.phone);
            }
            c
        })
        .collect()
}

pub async fn add_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<NewContactForm>,
) -> Result<Response, PageError> {
    let added = match parse_new_contact(&f) {
        Ok(c) => state.store.add_enterprise_contact(&me.actor(), &me.scope, id, &c, state.now()).await,
        Err(m) => return detail_page(&state, &me, id, None, Some(m)).await,
    };
    match added {
        Ok(_) => Ok(see_other(&format!("/enterprises/{id}?ok=saved#contacts"))),
        Err(dianxiaoer_store::Error::Invalid(m)) => detail_page(&state, &me, id, None, Some(m)).await,
        Err(e) => Err(AppError::from(e).into()),
    }
}

pub async fn remove_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    state.store.remove_enterprise_contact(&me.actor(), &me.scope, id, contact, state.now()).await?;
    Ok(see_other(&format!("/enterprises/{id}?ok=saved#contacts")))
}

/// The class name of a stored industry code, for tooltips.
pub fn industry_name(code: &str) -> String {
    dianxiaoer_core::industry::IndustryCode::parse(code).map(|c| c.name().to_string()).unwrap_or_default()
}

pub fn action_label(action: &str) -> &'static str {
    match action {
        "create_enterprise" => "登记",
        "update_enterprise" => "修改",
        "import" => "导入",
        "export" => "导出",
        "add_contact" => "添加联系人",
        "remove_contact" => "删除联系人",
        _ => "其他",
    }
}
