//! The public service guides (办事指南): the approval catalogue by category with search, and each
//! item's guide — conditions, materials, time limits, fees, visits, 容缺受理 and 告知承诺, legal basis
//! and the steps of its flow. No login: the zone publishes them (DESIGN.md, `portal`).

use super::render;
use crate::AppState;
use crate::error::{AppError, PageError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use dianxiaoer_core::approval::{ApprovalItem, Category, Clock, Fee, Workflow};
use dianxiaoer_store::{ItemFilter, ItemVersionRow};
use serde::Deserialize;

/// A category from its code in a query string (`business`, `environment`, …); empty is none.
pub fn parse_category(raw: Option<&str>) -> Result<Option<Category>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(code) => serde_json::from_value(serde_json::Value::String(code.to_owned()))
            .map(Some)
            .map_err(|_| AppError::BadRequest(format!("事项类别“{code}”无法识别"))),
    }
}

/// The code of a category in query strings.
pub fn category_code(c: &Category) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// 收费: 不收费, or the standard and its basis.
pub fn fee_text(fee: &Fee) -> String {
    match fee {
        Fee::Free => "不收费".into(),
        Fee::Charged { standard, basis } => format!("{standard}（依据：{basis}）"),
    }
}

/// "5个工作日", or 即办 for 0.
pub fn limit_text(item: &ApprovalItem) -> String {
    if item.promised_limit.get() == 0 { "即办".into() } else { item.promised_limit.to_string() }
}

/// One step of the flow as the guide shows it.
pub struct Step {
    pub name: String,
    pub clock: &'static str,
    pub sla: String,
}

/// The non-terminal states of a flow, in definition order.
pub fn steps(flow: &Workflow) -> Vec<Step> {
    flow.states
        .iter()
        .filter(|s| !s.terminal)
        .map(|s| Step {
            name: s.name.clone(),
            clock: if s.clock == Clock::Stopped { "" } else { s.clock.label() },
            sla: s.sla.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct GuideQuery {
    q: Option<String>,
    category: Option<String>,
}

/// The items of one category, for the list.
pub struct Group {
    pub category: Category,
    pub items: Vec<ApprovalItem>,
}

#[derive(Template)]
#[template(path = "guide_list.html")]
struct ListPage {
    title: &'static str,
    q: String,
    category: String,
    categories: Vec<(String, &'static str, usize)>,
    groups: Vec<Group>,
    total: usize,
    all: usize,
}

/// Groups items by category, in the article's order.
pub fn grouped(items: Vec<ApprovalItem>) -> Vec<Group> {
    Category::ALL
        .into_iter()
        .map(|c| Group { category: c, items: items.iter().filter(|i| i.category == c).cloned().collect() })
        .filter(|g| !g.items.is_empty())
        .collect()
}

pub async fn list(State(state): State<AppState>, Query(q): Query<GuideQuery>) -> Result<Response, PageError> {
    let category = parse_category(q.category.as_deref())?;
    let text = q.q.clone().unwrap_or_default();
    if text.chars().count() > 40 {
        return Err(AppError::BadRequest("搜索内容不能超过 40 个字符".into()).into());
    }
    let all = state.store.approval_items(&ItemFilter::default()).await?;
    let categories = Category::ALL
        .into_iter()
        .map(|c| (category_code(&c), c.label(), all.iter().filter(|i| i.category == c).count()))
        .collect();
    let items = state.store.approval_items(&ItemFilter { q: Some(text.clone()), category }).await?;
    let total = items.len();
    render(&ListPage {
        title: "办事指南",
        q: text,
        category: category.as_ref().map(category_code).unwrap_or_default(),
        categories,
        groups: grouped(items),
        total,
        all: all.len(),
    })
}

#[derive(Deserialize, Default)]
pub struct VersionQuery {
    version: Option<i64>,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    title: &'static str,
    item: ApprovalItem,
    current: bool,
    published: i64,
    steps: Vec<Step>,
    versions: Vec<ItemVersionRow>,
}

pub async fn guide(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, PageError> {
    let row = match q.version {
        Some(v) => state.store.approval_item_version(&code, v).await?,
        None => state.store.approval_item(&code).await?,
    };
    let flow = state.store.approval_workflow(row.item.code.as_str(), i64::from(row.item.version)).await?;
    let versions = state.store.approval_item_versions(row.item.code.as_str()).await?;
    render(&GuidePage {
        title: "办事指南",
        current: row.active,
        published: row.created_at,
        steps: steps(&flow),
        versions,
        item: row.item,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_parse_from_their_codes() {
        assert_eq!(parse_category(Some("environment")).ok(), Some(Some(Category::Environment)));
        assert_eq!(parse_category(Some(" ")).ok(), Some(None));
        assert!(parse_category(Some("tax")).is_err());
        for c in Category::ALL {
            assert_eq!(parse_category(Some(&category_code(&c))).ok(), Some(Some(c)));
        }
    }

    #[test]
    fn the_guide_shows_the_flow_without_its_ends() {
        let item = dianxiaoer_core::approval::Catalogue::builtin().items().first().cloned();
        let flow = item.as_ref().map(Workflow::default_for);
        let names: Vec<String> = flow.as_ref().map(steps).unwrap_or_default().into_iter().map(|s| s.name).collect();
        assert_eq!(names.first().map(String::as_str), Some("草稿"));
        assert!(names.iter().any(|n| n == "补正") && !names.iter().any(|n| n == "已撤回"));
    }
}
