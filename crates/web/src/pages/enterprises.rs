//! The enterprise registry pages (一企一档), read and written through the user's scope.

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
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits, sees_personal_data};
use dianxiaoer_core::text;
use dianxiaoer_store::{
    AuditEntry, Contact, EnterpriseFilter, EnterpriseRow, EnterpriseSort, Page, ProjectAreaRow,
    TownRow,
};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub town: Option<String>,
    pub area: Option<String>,
    pub status: Option<String>,
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
        Ok(EnterpriseFilter {
            q,
            town: nonempty(&self.town),
            project_area: nonempty(&self.area),
            status: nonempty(&self.status),
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
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let mut rows = state
        .store
        .list_enterprises(&me.scope, &f, page, per_page)
        .await?;
    rows.items = rows.items.into_iter().map(|e| masked(e, &me)).collect();
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
        towns: state.store.towns().await?,
        areas: state.store.project_areas().await?,
        export: base,
    })
}

/// Exports exactly what the filters select, within scope; audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let rows = state
        .store
        .list_enterprises(&me.scope, &f, 1, i64::MAX)
        .await?;
    let headers = [
        ("统一社会信用代码", 22.0),
        ("企业名称", 36.0),
        ("法定代表人", 12.0),
        ("落地乡镇", 12.0),
        ("片区", 14.0),
        ("网格", 14.0),
        ("地址", 36.0),
        ("联系人", 10.0),
        ("联系电话", 14.0),
        ("状态", 8.0),
        ("更新时间", 20.0),
    ];
    let n = rows.items.len();
    let bytes = workbook(
        "企业",
        &headers,
        rows.items.into_iter().map(|e| {
            let e = masked(e, &me);
            vec![
                Cell::Text(e.credit_code),
                Cell::Text(e.name),
                Cell::Text(e.legal_representative),
                Cell::Text(e.host_town_name),
                Cell::Text(e.project_area_name.unwrap_or_default()),
                Cell::Text(e.grid_name.unwrap_or_default()),
                Cell::Text(e.address),
                Cell::Text(e.contact_name),
                Cell::Text(e.contact_phone),
                Cell::Text(status_label(&e.status).into()),
                Cell::Time(e.updated_at),
            ]
        }),
    )?;
    let entry =
        AuditEntry::ok("export", "enterprise", "xlsx").detail(serde_json::json!({"rows": n}));
    state
        .store
        .audit_alone(&me.actor(), entry, state.now())
        .await?;
    Ok(download(bytes, "enterprises.xlsx"))
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct DetailPage {
    chrome: Chrome,
    e: EnterpriseRow,
    can_edit: bool,
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
    let e = masked(state.store.enterprise(&me.scope, id).await?, &me);
    let can_edit = permits(me.user.role, Permission::EditEnterpriseContact);
    render(&DetailPage {
        chrome: Chrome::new(&me, "/enterprises", "企业档案").notice(q.ok.as_deref()),
        e,
        can_edit,
        error: None,
    })
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
    Ok(Contact {
        address,
        contact_name: name,
        contact_phone: phone,
    })
}

pub async fn update_contact(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(f): PageForm<ContactForm>,
) -> Result<Response, PageError> {
    match parse_contact(&f) {
        Ok(c) => {
            state
                .store
                .update_enterprise_contact(&me.actor(), &me.scope, id, &c, state.now())
                .await?;
            Ok(see_other(&format!("/enterprises/{id}?ok=saved")))
        }
        Err(m) => {
            let e = masked(state.store.enterprise(&me.scope, id).await?, &me);
            let mut resp = render(&DetailPage {
                chrome: Chrome::new(&me, "/enterprises", "企业档案"),
                e,
                can_edit: true,
                error: Some(m),
            })?;
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
    }
}
