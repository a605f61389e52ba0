//! Filing an application (申请): the enterprise for its own file, or staff and grid officers for an
//! enterprise in their scope (帮代办). First the item and the enterprise, then the materials of that
//! item's current guide; the filing check refuses a missing key material, and missing non-key ones
//! where the item does not allow 容缺受理.

use super::approval_cases::with_caller;
use super::{render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Role, Scope};
use dianxiaoer_core::approval::ApprovalItem;
use dianxiaoer_core::text;
use dianxiaoer_store::{CaseRow, EnterpriseFilter, ItemFilter, NewCase};
use serde::Deserialize;

/// Longest note on a filing, in characters.
const NOTE_MAX_CHARS: usize = 500;
/// Enterprises offered in the form's list at once; the search narrows it.
const ENTERPRISE_OPTIONS: i64 = 200;

#[derive(Deserialize, Default)]
pub struct NewQuery {
    item: Option<String>,
    enterprise: Option<i64>,
    /// Search among the enterprises in scope.
    eq: Option<String>,
    /// The investment project whose approval plan the case serves (压茬审批).
    project: Option<i64>,
}

/// The filing as typed, shown again with its error.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    pub item: String,
    pub enterprise: String,
    pub materials: Vec<String>,
    pub note: String,
    /// The investment project's id, or blank.
    pub project: String,
}

impl Filing {
    pub fn from_pairs(pairs: &[(String, String)]) -> Filing {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        Filing {
            item: get("item"),
            enterprise: get("enterprise_id"),
            materials: pairs.iter().filter(|(k, _)| k == "materials").map(|(_, v)| v.clone()).collect(),
            note: get("note"),
            project: get("project_id"),
        }
    }

    /// The store's input, or a message.
    pub fn parse(&self) -> Result<NewCase, String> {
        if self.item.trim().is_empty() {
            return Err("请选择审批事项".into());
        }
        let enterprise_id = self.enterprise.trim().parse::<i64>().map_err(|_| "请选择申请企业".to_owned())?;
        let note = text::optional("备注", &self.note, NOTE_MAX_CHARS)?.unwrap_or_default();
        let project_id = match self.project.trim() {
            "" => None,
            p => Some(p.parse::<i64>().map_err(|_| "所选招商项目无效".to_owned())?),
        };
        Ok(NewCase {
            item_code: self.item.trim().to_owned(),
            enterprise_id,
            materials: self.materials.clone(),
            note,
            project_id,
        })
    }
}

#[derive(Template)]
#[template(path = "approval_case_new.html")]
struct NewPage {
    chrome: Chrome,
    items: Vec<ApprovalItem>,
    item: Option<ApprovalItem>,
    enterprises: Vec<(i64, String)>,
    /// The enterprise's projects with an approval plan, to link the case to.
    projects: Vec<(i64, String)>,
    own: bool,
    eq: String,
    f: Filing,
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    me: &CurrentUser,
    f: Filing,
    eq: String,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let items = state.store.approval_items(&ItemFilter::default()).await?;
    let item = items.iter().find(|i| i.code.as_str() == f.item.trim()).cloned();
    let filter = EnterpriseFilter { q: Some(eq.clone()).filter(|q| !q.trim().is_empty()), ..Default::default() };
    let mut enterprises: Vec<(i64, String)> = state
        .store
        .list_enterprises(&me.scope, &filter, 1, ENTERPRISE_OPTIONS)
        .await?
        .items
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect();
    // An enterprise asked for by id (from its file) is offered even beyond the first page.
    if let Ok(id) = f.enterprise.parse::<i64>()
        && !enterprises.iter().any(|(e, _)| *e == id)
        && let Ok(e) = state.store.enterprise(&me.scope, id).await
    {
        enterprises.insert(0, (e.id, e.name));
    }
    let projects = match f.enterprise.parse::<i64>() {
        Ok(id) => state.store.planned_projects_of(&me.scope, id).await?,
        Err(_) => Vec::new(),
    };
    let own = matches!(me.scope, Scope::Enterprise(_)) && me.user.role == Role::EnterpriseUser;
    let status = error.as_ref().map(|e| e.0);
    let mut resp = render(&NewPage {
        chrome: Chrome::new(me, "/approval/cases", if own { "在线申请" } else { "帮代办申请" }),
        items,
        item,
        enterprises,
        projects,
        own,
        eq,
        f,
        error: error.map(|e| e.1),
    })?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let mut f = Filing {
        item: q.item.unwrap_or_default(),
        project: q.project.map(|p| p.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    f.enterprise = match (q.enterprise, &me.scope) {
        (Some(id), _) => id.to_string(),
        (None, Scope::Enterprise(id)) => id.to_string(),
        (None, _) => String::new(),
    };
    let eq = q.eq.unwrap_or_default();
    if eq.chars().count() > 60 {
        return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()).into());
    }
    new_page(&state, &me, f, eq, None).await
}

/// Files a case (page and API).
pub async fn file(state: &AppState, me: &CurrentUser, new: &NewCase) -> Result<CaseRow, AppError> {
    let now = state.now();
    Ok(with_caller!(me, |caller| state.store.create_case(&caller, new, now).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = Filing::from_pairs(&pairs);
    let refused = match f.parse() {
        Ok(new) => match file(&state, &me, &new).await {
            Ok(case) => return Ok(see_other(&format!("/approval/cases/{}?ok=filed", case.id))),
            Err(e @ (AppError::Unprocessable(_) | AppError::BadRequest(_) | AppError::Conflict(_))) => {
                (e.status(), e.detail())
            }
            Err(e) => return Err(e.into()),
        },
        Err(m) => (StatusCode::BAD_REQUEST, m),
    };
    new_page(&state, &me, f, String::new(), Some(refused)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filing_is_parsed_from_the_form() {
        let pairs: Vec<(String, String)> = [
            ("item", "371323-GS-001"),
            ("enterprise_id", "7"),
            ("materials", "章程"),
            ("materials", "申请书"),
            ("note", " 加急 "),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let new = Filing::from_pairs(&pairs).parse();
        assert_eq!(new.as_ref().map(|n| (n.enterprise_id, n.materials.len(), n.note.as_str())), Ok((7, 2, "加急")));
        assert_eq!(Filing::default().parse().err().as_deref(), Some("请选择审批事项"));
        let no_enterprise = Filing { item: "x".into(), ..Default::default() };
        assert_eq!(no_enterprise.parse().err().as_deref(), Some("请选择申请企业"));
    }
}
