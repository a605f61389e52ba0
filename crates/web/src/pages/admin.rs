//! System administration: accounts of the non-admin roles, departments and grids. The three admin
//! accounts are managed only from the command line, so no admin can grant itself another's powers
//! (三权分立, GB/T 22239-2019 8.1.4.2).

use super::{FieldErrors, nonempty, paging, render, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, hash_password};
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::{Chrome, Pager, query_string};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Attachment, Role};
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::text;
use dianxiaoer_store::{DepartmentRow, GridRow, NewUser, Page, TownRow, UserFilter, UserRow, UserUpdate};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct UserQuery {
    q: Option<String>,
    role: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Page<UserRow>,
    pager: Pager,
    q: String,
    role: String,
    roles: Vec<(&'static str, &'static str)>,
}

pub fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.code(), r.label())).collect()
}

pub async fn users(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<UserQuery>,
) -> Result<Response, PageError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let role = nonempty(&q.role);
    let filter = UserFilter { q: nonempty(&q.q), role: role.as_deref().and_then(Role::parse) };
    let users = state.store.list_users(&filter, page, per_page).await?;
    let base = query_string(&[("q", q.q.as_deref().unwrap_or("")), ("role", role.as_deref().unwrap_or(""))]);
    let pager = Pager::new(&users, base);
    render(&UsersPage {
        chrome: Chrome::new(&me, "/admin/users", "用户管理").notice(q.ok.as_deref()),
        users,
        pager,
        q: q.q.unwrap_or_default(),
        role: role.unwrap_or_default(),
        roles: role_options(),
    })
}

/// What was typed into the user form, kept to show again with the errors.
#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub department_id: String,
    #[serde(default)]
    pub town_code: String,
    #[serde(default)]
    pub grid_id: String,
    #[serde(default)]
    pub enterprise_code: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Template)]
#[template(path = "admin_user_form.html")]
struct UserFormPage {
    chrome: Chrome,
    id: Option<i64>,
    form: UserForm,
    errors: FieldErrors,
    roles: Vec<(&'static str, &'static str)>,
    departments: Vec<DepartmentRow>,
    towns: Vec<TownRow>,
    grids: Vec<GridRow>,
    user: Option<UserRow>,
    temp_password: Option<String>,
}

async fn form_page(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    form: UserForm,
    errors: FieldErrors,
    user: Option<UserRow>,
    temp_password: Option<String>,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let title = if id.is_some() { "编辑用户" } else { "新建用户" };
    let page = UserFormPage {
        chrome: Chrome::new(me, "/admin/users", title),
        id,
        form,
        errors,
        roles: Role::ALL.iter().filter(|r| !r.is_admin()).map(|r| (r.code(), r.label())).collect(),
        departments: state.store.departments().await?,
        towns: state.store.towns().await?,
        grids: state.store.grids().await?,
        user,
        temp_password,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn new_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    form_page(&state, &me, None, UserForm::default(), FieldErrors::new(), None, None).await
}

/// Parsed fields of the user form.
pub struct ParsedUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub attachment: Attachment,
    pub phone: String,
}

/// Validates the form at the edge; every problem is reported next to its field.
/// The outer `Err` is a failure to read the organisation (a 500); the inner one the form's field errors.
pub async fn parse_user_form(
    state: &AppState,
    f: &UserForm,
    creating: bool,
) -> Result<Result<ParsedUser, FieldErrors>, AppError> {
    let mut errors = FieldErrors::new();
    let username = if creating {
        match text::required("用户名", &f.username, 32) {
            Ok(u)
                if u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') && u.len() >= 3 =>
            {
                u
            }
            Ok(_) => {
                errors.insert("username", "用户名为 3–32 位字母、数字、下划线、点或连字符".into());
                String::new()
            }
            Err(m) => {
                errors.insert("username", m);
                String::new()
            }
        }
    } else {
        String::new()
    };
    let display_name = text::required("姓名", &f.display_name, 32).unwrap_or_else(|m| {
        errors.insert("display_name", m);
        String::new()
    });
    let role = match Role::parse(&f.role) {
        Some(r) if !r.is_admin() => Some(r),
        Some(_) => {
            errors.insert("role", "管理员账号只能在服务器上用命令行创建".into());
            None
        }
        None => {
            errors.insert("role", "请选择角色".into());
            None
        }
    };
    let phone = text::optional("手机号", &f.phone, 20).unwrap_or_else(|m| {
        errors.insert("phone", m);
        None
    });
    if let Some(p) = &phone
        && !(p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.insert("phone", "手机号应为 11 位数字".into());
    }
    let mut at = Attachment::default();
    let refdata = state.refdata().await?;
    let (towns, departments, grids) = (&refdata.towns, &refdata.departments, &refdata.grids);
    if let Some(r) = role {
        match r {
            Role::DepartmentStaff => match f
                .department_id
                .parse::<i64>()
                .ok()
                .filter(|d| departments.iter().any(|x| x.id == *d && x.kind == "zone"))
            {
                Some(d) => at.department_id = Some(d),
                None => {
                    errors.insert("department_id", "部门人员须选择开发区内设部门".into());
                }
            },
            Role::GridOfficer => match f.grid_id.parse::<i64>().ok().filter(|g| grids.iter().any(|x| x.id == *g)) {
                Some(g) => at.grid_id = Some(g),
                None => {
                    errors.insert("grid_id", "网格员须选择网格".into());
                }
            },
            Role::TownOfficial => {
                let town = Some(f.town_code.trim()).filter(|t| !t.is_empty());
                let dept = f.department_id.parse::<i64>().ok();
                match (town, dept) {
                    (Some(t), None) if towns.iter().any(|x| x.code == t) => at.town_code = Some(t.to_string()),
                    (None, Some(d)) if departments.iter().any(|x| x.id == d && x.kind == "county") => {
                        at.department_id = Some(d)
                    }
                    _ => {
                        errors.insert("town_code", "乡镇/部门账号须选择一个乡镇街道，或一个县直部门（二选一）".into());
                    }
                }
            }
            Role::EnterpriseUser => match CreditCode::parse(f.enterprise_code.trim()) {
                Ok(code) => match state.store.enterprise_id_by_credit_code(&code).await? {
                    Some(id) => at.enterprise_id = Some(id),
                    None => {
                        errors.insert("enterprise_code", "该统一社会信用代码尚未登记".into());
                    }
                },
                Err(e) => {
                    errors.insert("enterprise_code", e.message);
                }
            },
            _ => {}
        }
    }
    Ok(match (errors.is_empty(), role) {
        (true, Some(role)) => {
            Ok(ParsedUser { username, display_name, role, attachment: at, phone: phone.unwrap_or_default() })
        }
        _ => Err(errors),
    })
}

/// Creates an account of a non-admin role with a temporary password that must be changed at first
/// login; returns its id and that password (shown once). Shared by the page and the API.
pub async fn create_account(state: &AppState, me: &CurrentUser, parsed: ParsedUser) -> Result<(i64, String), AppError> {
    let temp = temporary_password();
    let new = NewUser {
        username: parsed.username,
        display_name: parsed.display_name,
        role: parsed.role,
        attachment: parsed.attachment,
        phone: parsed.phone,
        password_hash: hash_password(&temp)?,
        must_change_password: true,
        demo: false,
    };
    let id = state.store.create_user(&me.actor(), &new, state.now()).await?;
    Ok((id, temp))
}

/// A temporary password that satisfies any allowed policy: 14 characters of all four classes.
pub fn temporary_password() -> String {
    const SETS: [&[u8]; 4] = [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnpqrstuvwxyz", b"23456789", b"@#%+=!"];
    let mut raw = [0u8; 14];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    raw.iter()
        .enumerate()
        .map(|(i, b)| {
            let set = SETS[i % 4];
            set[usize::from(*b) % set.len()] as char
        })
        .collect()
}

pub async fn create_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<UserForm>,
) -> Result<Response, PageError> {
    let parsed = match parse_user_form(&state, &f, true).await? {
        Ok(p) => p,
        Err(errors) => return form_page(&state, &me, None, f, errors, None, None).await,
    };
    match create_account(&state, &me, parsed).await {
        Ok((id, temp)) => {
            let user = state.store.user_by_id(id).await?;
            form_page(&state, &me, Some(id), form_of(&state, &user).await?, FieldErrors::new(), Some(user), Some(temp))
                .await
        }
        Err(AppError::Conflict(m)) => {
            let mut errors = FieldErrors::new();
            errors.insert("username", m);
            form_page(&state, &me, None, f, errors, None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn form_of(state: &AppState, u: &UserRow) -> Result<UserForm, PageError> {
    let enterprise_code = match u.enterprise_id {
        Some(id) => state.store.credit_code_of(id).await?.unwrap_or_default(),
        None => String::new(),
    };
    Ok(UserForm {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.code().into(),
        department_id: u.department_id.map(|d| d.to_string()).unwrap_or_default(),
        town_code: u.town_code.clone().unwrap_or_default(),
        grid_id: u.grid_id.map(|d| d.to_string()).unwrap_or_default(),
        enterprise_code,
        phone: u.phone.clone(),
    })
}

/// An admin account (or a missing one) is not the system admin's to see or change: 404.
async fn managed_user(state: &AppState, id: i64) -> Result<UserRow, PageError> {
    let u = state.store.user_by_id(id).await?;
    if u.role.is_admin() {
        return Err(AppError::NotFound.into());
    }
    Ok(u)
}

pub async fn edit_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let u = managed_user(&state, id).await?;
    let f = form_of(&state, &u).await?;
    form_page(&state, &me, Some(id), f, FieldErrors::new(), Some(u), None).await
}

pub async fn update_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
    PageForm(mut f): PageForm<UserForm>,
) -> Result<Response, PageError> {
    let u = managed_user(&state, id).await?;
    f.username = u.username.clone();
    let parsed = match parse_user_form(&state, &f, false).await? {
        Ok(p) => p,
        Err(errors) => return form_page(&state, &me, Some(id), f, errors, Some(u), None).await,
    };
    let upd = UserUpdate {
        display_name: parsed.display_name,
        role: parsed.role,
        attachment: parsed.attachment,
        phone: parsed.phone,
    };
    state.store.update_user(&me.actor(), id, &upd, state.now()).await?;
    Ok(see_other("/admin/users?ok=saved"))
}

pub async fn reset_password(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let u = managed_user(&state, id).await?;
    let temp = temporary_password();
    state.store.set_password(&me.actor(), id, &hash_password(&temp)?, true, state.now()).await?;
    let f = form_of(&state, &u).await?;
    form_page(&state, &me, Some(id), f, FieldErrors::new(), Some(u), Some(temp)).await
}

pub async fn disable_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    managed_user(&state, id).await?;
    state.store.set_disabled(&me.actor(), id, true, state.now()).await?;
    Ok(see_other("/admin/users?ok=disabled"))
}

pub async fn enable_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    managed_user(&state, id).await?;
    state.store.set_disabled(&me.actor(), id, false, state.now()).await?;
    Ok(see_other("/admin/users?ok=enabled"))
}

#[derive(Template)]
#[template(path = "admin_org.html")]
struct OrgPage {
    chrome: Chrome,
    departments: Vec<DepartmentRow>,
    grids: Vec<GridRow>,
    towns: Vec<TownRow>,
    errors: FieldErrors,
    form: OrgForm,
}

#[derive(Deserialize, Default)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
}

async fn org_page(
    state: &AppState,
    me: &CurrentUser,
    ok: Option<&str>,
    form: OrgForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let page = OrgPage {
        chrome: Chrome::new(me, "/admin/org", "部门与网格").notice(ok),
        departments: state.store.departments().await?,
        grids: state.store.grids().await?,
        towns: state.store.towns().await?,
        errors,
        form,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn org(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<UserQuery>,
) -> Result<Response, PageError> {
    org_page(&state, &me, q.ok.as_deref(), OrgForm::default(), FieldErrors::new()).await
}

pub async fn create_department(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<OrgForm>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::new();
    let name = text::required("部门名称", &f.name, 40).unwrap_or_else(|m| {
        errors.insert("dept_name", m);
        String::new()
    });
    if f.kind != "zone" && f.kind != "county" {
        errors.insert("kind", "请选择部门类型".into());
    }
    if errors.is_empty() {
        match state.store.create_department(&me.actor(), &name, &f.kind, state.now()).await {
            Ok(_) => {
                state.forget_refdata();
                return Ok(see_other("/admin/org?ok=created"));
            }
            Err(dianxiaoer_store::Error::Conflict(m)) => {
                errors.insert("dept_name", m);
            }
            Err(e) => return Err(e.into()),
        }
    }
    org_page(&state, &me, None, f, errors).await
}

pub async fn create_grid(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<OrgForm>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::new();
    let name = text::required("网格名称", &f.name, 40).unwrap_or_else(|m| {
        errors.insert("grid_name", m);
        String::new()
    });
    let description = text::optional("说明", &f.description, 200).unwrap_or_else(|m| {
        errors.insert("description", m);
        None
    });
    if errors.is_empty() {
        match state.store.create_grid(&me.actor(), &name, &description.unwrap_or_default(), state.now()).await {
            Ok(_) => {
                state.forget_refdata();
                return Ok(see_other("/admin/org?ok=created"));
            }
            Err(dianxiaoer_store::Error::Conflict(m)) => {
                errors.insert("grid_name", m);
            }
            Err(e) => return Err(e.into()),
        }
    }
    org_page(&state, &me, None, f, errors).await
}
