//! Assessment points (考核加分): the year's board of towns and county departments with each score
//! explained, its Excel export, and the rule table and quotas that staff keep.

use super::{render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::area::Area;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::assessment::{Points, Quota, RuleKind, ScoringRule};
use dianxiaoer_core::revenue::party::{DepartmentId, TownCode, Unit};
use dianxiaoer_store::{AuditEntry, BoardRow, DepartmentRow};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
}

/// The requested year, or the current one; outside 2000–2100 is refused.
pub fn year_of(state: &AppState, q: &YearQuery) -> Result<i32, AppError> {
    let this = dianxiaoer_core::when::format_date(state.now()).get(0..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let y = q.year.unwrap_or(this);
    if !(2000..=2100).contains(&y) {
        return Err(AppError::BadRequest("年份应在 2000–2100 之间".into()));
    }
    Ok(y)
}

/// A unit's name: the town's, the department's, or 开发区.
pub fn unit_name(u: &Unit, departments: &[DepartmentRow]) -> String {
    match u {
        Unit::Department(d) => {
            departments.iter().find(|x| x.id == d.get()).map_or_else(|| u.to_string(), |x| x.name.clone())
        }
        _ => u.to_string(),
    }
}

/// "town:<code>" or "dept:<id>", as the quota form sends it.
pub fn parse_unit(raw: &str) -> Result<Unit, String> {
    match raw.split_once(':') {
        Some(("town", code)) => TownCode::parse(code).map(Unit::Town).map_err(|e| e.message),
        Some(("dept", id)) => {
            id.parse().map(|d| Unit::Department(DepartmentId::new(d))).map_err(|_| "部门编号不正确".into())
        }
        _ => Err("请选择乡镇（街道）或县直部门".into()),
    }
}

/// The year asked for and its board, each row with its unit's name.
async fn named_board(
    state: &AppState,
    me: &CurrentUser,
    q: &YearQuery,
) -> Result<(i32, Vec<(BoardRow, String)>), AppError> {
    let year = year_of(state, q)?;
    let departments = state.refdata().await?.departments.clone();
    let board = state.store.assessment_board(&me.scope, year).await?;
    Ok((
        year,
        board
            .into_iter()
            .map(|b| {
                let name = unit_name(&b.unit, &departments);
                (b, name)
            })
            .collect(),
    ))
}

#[derive(Template)]
#[template(path = "revenue_assessment.html")]
struct BoardPage {
    chrome: Chrome,
    year: i32,
    board: Vec<(BoardRow, String)>,
    can_edit: bool,
}

pub async fn board(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let (year, board) = named_board(&state, &me, &q).await?;
    render(&BoardPage {
        chrome: Chrome::new(&me, "/revenue/assessment", "考核加分"),
        year,
        board,
        can_edit: permits(me.user.role, Permission::EditProjects),
    })
}

pub async fn board_xlsx(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let (year, board) = named_board(&state, &me, &q).await?;
    let headers = [
        ("名次", 8.0),
        ("单位", 26.0),
        ("新落地项目", 12.0),
        ("得分", 10.0),
        ("项目", 40.0),
        ("规则", 40.0),
        ("分值", 10.0),
    ];
    let mut rows = Vec::new();
    for (b, name) in &board {
        let head = |extra: [Cell; 3]| {
            let [p, r, v] = extra;
            vec![
                Cell::Int(b.rank as i64),
                Cell::Text(name.clone()),
                Cell::Int(i64::from(b.landed)),
                Cell::Text(b.total.to_string()),
                p,
                r,
                v,
            ]
        };
        match &b.lines {
            Some(lines) if !lines.is_empty() => {
                for l in lines {
                    rows.push(head([
                        Cell::Text(l.project.as_ref().map_or_else(String::new, |p| p.1.clone())),
                        Cell::Text(l.rule.clone()),
                        Cell::Text(l.points.to_string()),
                    ]));
                }
            }
            _ => rows.push(head([Cell::Text(String::new()), Cell::Text(String::new()), Cell::Text(String::new())])),
        }
    }
    let bytes = workbook(&format!("{year}年考核加分"), &headers, rows.into_iter())?;
    let entry = AuditEntry::ok("export", "assessment", year).detail(serde_json::json!({"rows": board.len()}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, &format!("assessment-{year}.xlsx")))
}

#[derive(Template)]
#[template(path = "revenue_assessment_rules.html")]
struct RulesPage {
    chrome: Chrome,
    year: i32,
    rules: Vec<ScoringRule>,
    quotas: Vec<(String, u32)>,
    towns: Vec<dianxiaoer_store::TownRow>,
    departments: Vec<DepartmentRow>,
    error: Option<String>,
    form: RuleForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    pub kind: String,
    /// 亿元 for investment tiers, 亩 for cleared area.
    #[serde(default)]
    pub threshold: String,
    #[serde(default)]
    pub points: String,
    #[serde(default)]
    pub from_year: String,
    #[serde(default)]
    pub to_year: String,
}

/// A rule from the form: the threshold in 亿元 or 亩 as typed, points with at most one decimal.
pub fn parse_rule(f: &RuleForm) -> Result<ScoringRule, String> {
    let year = |raw: &str, name: &str| raw.trim().parse::<i32>().map_err(|_| format!("{name}应为四位年份"));
    let kind = match f.kind.as_str() {
        "investment_tier" => {
            // 亿元 with at most two decimals, read exactly: the same digits as 元 are 10⁸ times fewer fen.
            let bad = |m: String| format!("投资门槛（亿元）不正确：{m}");
            let as_yuan = Fen::parse_yuan(f.threshold.trim()).map_err(|e| bad(e.message))?;
            let fen = as_yuan.fen().checked_mul(100_000_000).ok_or_else(|| bad("数额过大".into()))?;
            RuleKind::InvestmentTier { min: Fen::from_fen(fen) }
        }
        "cleared_area" => RuleKind::ClearedArea {
            min: Area::from_mu_str(f.threshold.trim()).map_err(|e| format!("面积门槛（亩）不正确：{}", e.message))?,
        },
        "top500" => RuleKind::Top500,
        "quota_shortfall" => RuleKind::QuotaShortfall,
        _ => return Err("请选择规则类型".into()),
    };
    let rule = ScoringRule {
        id: 0,
        kind,
        points: Points::parse(&f.points).map_err(|e| e.message)?,
        from_year: year(&f.from_year, "起始年份")?,
        to_year: if f.to_year.trim().is_empty() { None } else { Some(year(&f.to_year, "终止年份")?) },
    };
    rule.validate().map_err(|e| e.message)?;
    Ok(rule)
}

async fn rules_page(
    state: &AppState,
    me: &CurrentUser,
    year: i32,
    error: Option<String>,
    form: RuleForm,
) -> Result<Response, PageError> {
    let refdata = state.refdata().await?;
    let departments: Vec<DepartmentRow> = refdata.departments.iter().filter(|d| d.kind == "county").cloned().collect();
    let quotas = state
        .store
        .assessment_quotas(year)
        .await?
        .into_iter()
        .map(|q| (unit_name(&q.unit, &departments), q.projects))
        .collect();
    let bad = error.is_some();
    let mut resp = render(&RulesPage {
        chrome: Chrome::new(me, "/revenue/assessment", "考核加分规则"),
        year,
        rules: state.store.assessment_rules().await?,
        quotas,
        towns: refdata.towns.clone(),
        departments,
        error,
        form,
    })?;
    if bad {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn rules(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &q)?;
    rules_page(&state, &me, year, None, RuleForm::default()).await
}

pub async fn add_rule(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<RuleForm>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &YearQuery::default())?;
    match parse_rule(&f) {
        Ok(rule) => match state.store.add_assessment_rule(&me.actor(), &rule, state.now()).await {
            Ok(_) => Ok(see_other("/revenue/assessment/rules?ok=saved")),
            Err(dianxiaoer_store::Error::Invalid(m)) => rules_page(&state, &me, year, Some(m), f).await,
            Err(e) => Err(AppError::from(e).into()),
        },
        Err(m) => rules_page(&state, &me, year, Some(m), f).await,
    }
}

#[derive(Deserialize, Default)]
pub struct EndForm {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub last_year: String,
}

pub async fn end_rule(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<EndForm>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &YearQuery::default())?;
    let Ok(last) = f.last_year.trim().parse::<i32>() else {
        return rules_page(&state, &me, year, Some("终止年份应为四位年份".into()), RuleForm::default()).await;
    };
    match state.store.end_assessment_rule(&me.actor(), f.id, last, state.now()).await {
        Ok(()) => Ok(see_other("/revenue/assessment/rules?ok=saved")),
        Err(dianxiaoer_store::Error::Invalid(m)) => rules_page(&state, &me, year, Some(m), RuleForm::default()).await,
        Err(e) => Err(AppError::from(e).into()),
    }
}

#[derive(Deserialize, Default)]
pub struct QuotaForm {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub projects: String,
}

/// A quota from the form.
pub fn parse_quota(f: &QuotaForm) -> Result<Quota, String> {
    let unit = parse_unit(&f.unit)?;
    let year = f.year.trim().parse::<i32>().map_err(|_| "年份应为四位年份".to_string())?;
    let projects = f.projects.trim().parse::<u32>().map_err(|_| "任务数应为非负整数".to_string())?;
    Ok(Quota { unit, year, projects })
}

pub async fn set_quota(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    PageForm(f): PageForm<QuotaForm>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &YearQuery::default())?;
    let q = match parse_quota(&f) {
        Ok(q) => q,
        Err(m) => return rules_page(&state, &me, year, Some(m), RuleForm::default()).await,
    };
    match state.store.set_assessment_quota(&me.actor(), &q, state.now()).await {
        Ok(()) => Ok(see_other(&format!("/revenue/assessment/rules?year={}&ok=saved", q.year))),
        Err(dianxiaoer_store::Error::Invalid(m)) => rules_page(&state, &me, year, Some(m), RuleForm::default()).await,
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// How a rule's threshold reads on the page.
pub fn threshold_text(k: &RuleKind) -> String {
    match k {
        RuleKind::InvestmentTier { min } => min.display_auto(),
        RuleKind::ClearedArea { min } => min.mu_display(),
        _ => "—".into(),
    }
}

pub fn kind_label(k: &RuleKind) -> &'static str {
    match k {
        RuleKind::InvestmentTier { .. } => "投资规模",
        RuleKind::ClearedArea { .. } => "清理面积",
        RuleKind::Top500 => "500强投资",
        RuleKind::QuotaShortfall => "任务扣分",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn form(kind: &str, threshold: &str, points: &str) -> RuleForm {
        RuleForm {
            kind: kind.into(),
            threshold: threshold.into(),
            points: points.into(),
            from_year: "2024".into(),
            to_year: String::new(),
        }
    }

    #[test]
    fn rule_forms_parse_with_chinese_messages() {
        let r = parse_rule(&form("investment_tier", "10", "4")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.kind, RuleKind::InvestmentTier { min: Fen::from_fen(100_000_000_000) });
        let r = parse_rule(&form("cleared_area", "50", "1.5")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.points.tenths(), 15);
        assert!(parse_rule(&form("investment_tier", "abc", "4")).unwrap_err().contains("投资门槛"));
        assert!(parse_rule(&form("top500", "", "0")).unwrap_err().contains("大于 0"));
        assert!(parse_rule(&form("quota_shortfall", "", "2")).unwrap_err().contains("负数"));
        assert!(parse_rule(&form("", "", "2")).unwrap_err().contains("规则类型"));
        let mut f = form("top500", "", "10");
        f.from_year = "今年".into();
        assert!(parse_rule(&f).unwrap_err().contains("起始年份"));
    }

    #[test]
    fn quota_units_parse() {
        let q = parse_quota(&QuotaForm { unit: "town:371323103".into(), year: "2025".into(), projects: "2".into() });
        assert!(q.is_ok());
        assert!(parse_unit("zone").is_err());
        assert!(parse_unit("town:371323").is_err());
        assert!(parse_unit("dept:x").is_err());
    }
}
