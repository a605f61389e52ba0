//! Approval statistics (审批统计) and the overdue lists (超期办件): the figures of the cases completed
//! in a period (a year, a month or a date range) by category, item, department and month, against the
//! promised and statutory limits, with the efficiency figure (working days saved as a percentage of
//! the statutory limit); the open cases past their deadline and the ones completed late. Everything
//! within the caller's scope (an enterprise sees its own cases) and exportable to Excel. The JSON API
//! (`/api/v1/approval/stats`) answers the same report.

use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::view::{Chrome, query_string};
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use dianxiaoer_core::approval::Date;
use dianxiaoer_store::{
    AftercareOverdueRow, AuditEntry, OverdueRow, SatisfactionGroup, StatsFilter, StatsGroup, StatsReport,
};
use serde::Deserialize;

/// Most rows of each overdue list.
const LIST_MAX: i64 = 100_000;
/// Rows of each overdue list shown on the page (the export has all).
const PAGE_ROWS: usize = 500;

/// The period as asked for: `from`/`to` (YYYY-MM-DD), or `year` with an optional `month`; the
/// current year by default.
#[derive(Deserialize, Default, Clone)]
pub struct PeriodQuery {
    pub year: Option<String>,
    pub month: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl PeriodQuery {
    pub fn filter(&self, today: Date) -> Result<StatsFilter, AppError> {
        let bad = |m: &str| AppError::BadRequest(m.to_owned());
        if let (Some(from), Some(to)) = (blank(&self.from), blank(&self.to)) {
            let from = Date::parse(from).map_err(|e| bad(&format!("开始日期：{}", e.message)))?;
            let to = Date::parse(to).map_err(|e| bad(&format!("结束日期：{}", e.message)))?;
            if from > to {
                return Err(bad("开始日期不能晚于结束日期"));
            }
            return Ok(StatsFilter { from, to });
        }
        if blank(&self.from).is_some() || blank(&self.to).is_some() {
            return Err(bad("请同时填写开始日期和结束日期"));
        }
        let year = match blank(&self.year) {
            Some(y) => y
                .parse::<i32>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| bad("年份应在2000至2100之间"))?,
            None => today.year(),
        };
        let month = match blank(&self.month) {
            Some(m) => {
                Some(m.parse::<u32>().ok().filter(|m| (1..=12).contains(m)).ok_or_else(|| bad("月份应在1至12之间"))?)
            }
            None => None,
        };
        let (from, to) = match month {
            Some(m) => {
                let next = if m == 12 { Date::new(year + 1, 1, 1) } else { Date::new(year, m + 1, 1) };
                (Date::new(year, m, 1), next.map(|d| d.add_days(-1)))
            }
            None => (Date::new(year, 1, 1), Date::new(year, 12, 31)),
        };
        match (from, to) {
            (Some(from), Some(to)) => Ok(StatsFilter { from, to }),
            _ => Err(bad("统计期间无法识别")),
        }
    }

    fn query_string(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        query_string(&[
            ("year", &s(&self.year)),
            ("month", &s(&self.month)),
            ("from", &s(&self.from)),
            ("to", &s(&self.to)),
        ])
    }
}

/// Efficiency as shown: "52.3%", or "—" without a statutory limit.
pub fn percent(g: &StatsGroup) -> String {
    g.efficiency.map_or_else(|| "—".to_owned(), |e| format!("{e:.1}%"))
}

pub fn one(x: &f64) -> String {
    format!("{x:.1}")
}

/// 满意率 as shown: "96.2%", or "—" without ratings.
pub fn satisfaction(g: &SatisfactionGroup) -> String {
    g.satisfaction.map_or_else(|| "—".to_owned(), |e| format!("{e:.1}%"))
}

/// A share as shown: "3/4（75.0%）", or "—" when there is nothing to count.
pub fn share(part: &i64, whole: &i64) -> String {
    if *whole == 0 {
        "—".to_owned()
    } else {
        format!("{part}/{whole}（{:.1}%）", *part as f64 * 100.0 / *whole as f64)
    }
}

#[derive(Template)]
#[template(path = "approval_stats.html")]
struct StatsPage {
    chrome: Chrome,
    report: StatsReport,
    sections: Vec<(&'static str, Vec<StatsGroup>)>,
    /// (title, test id, groups) of the satisfaction tables.
    satisfaction: Vec<(&'static str, &'static str, Vec<SatisfactionGroup>)>,
    q: PeriodQuery,
    export: String,
}

pub async fn report_of(state: &AppState, me: &CurrentUser, q: &PeriodQuery) -> Result<StatsReport, AppError> {
    let f = q.filter(Date::from_ms(state.now()))?;
    Ok(state.store.approval_stats(&me.scope, &f).await?)
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let report = report_of(&state, &me, &q).await?;
    let sections = vec![
        ("按类别", report.by_category.clone()),
        ("按月份", report.by_month.clone()),
        ("按实施机关", report.by_department.clone()),
        ("按事项", report.by_item.clone()),
    ];
    let satisfaction = vec![
        ("按实施机关", "department", report.satisfaction.by_department.clone()),
        ("按事项", "item", report.satisfaction.by_item.clone()),
    ];
    render(&StatsPage {
        chrome: Chrome::new(&me, "/approval/stats", "审批统计"),
        report,
        sections,
        satisfaction,
        export: q.query_string(),
        q,
    })
}

const GROUP_HEADERS: [(&str, f64); 12] = [
    ("分组", 12.0),
    ("名称", 30.0),
    ("办结件数", 10.0),
    ("平均用时（工作日）", 14.0),
    ("最长用时（工作日）", 14.0),
    ("平均承诺时限", 12.0),
    ("平均法定时限", 12.0),
    ("超期办结", 10.0),
    ("提速（较法定时限）%", 16.0),
    ("评价件数", 10.0),
    ("差评", 8.0),
    ("满意率%", 10.0),
];

fn group_cells(kind: &str, g: &StatsGroup, sat: Option<&SatisfactionGroup>) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Text(kind.to_owned()),
        Cell::Text(g.label.clone()),
        Cell::Int(g.count),
        Cell::Float((g.avg_elapsed * 10.0).round() / 10.0),
        Cell::Int(g.max_elapsed),
        Cell::Float((g.avg_promised * 10.0).round() / 10.0),
        Cell::Float((g.avg_statutory * 10.0).round() / 10.0),
        Cell::Int(g.overdue),
        g.efficiency.map_or(Cell::Text(String::new()), |e| Cell::Float((e * 10.0).round() / 10.0)),
    ];
    if let Some(s) = sat {
        cells.push(Cell::Int(s.total));
        cells.push(Cell::Int(s.bad));
        cells.push(s.satisfaction.map_or(Cell::Text(String::new()), |e| Cell::Float((e * 10.0).round() / 10.0)));
    }
    cells
}

/// The report as one sheet: the total, then by category, month, department and item, with the
/// satisfaction of the ratings where it groups the same way (total, department, item); audited.
pub async fn export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let r = report_of(&state, &me, &q).await?;
    let sat = &r.satisfaction;
    let find = |groups: &[SatisfactionGroup], key: &str| groups.iter().find(|s| s.key == key).cloned();
    let mut rows = vec![group_cells("合计", &r.total, Some(&sat.total))];
    rows.extend(r.by_category.iter().map(|g| group_cells("类别", g, None)));
    rows.extend(r.by_month.iter().map(|g| group_cells("月份", g, None)));
    rows.extend(r.by_department.iter().map(|g| group_cells("实施机关", g, find(&sat.by_department, &g.key).as_ref())));
    rows.extend(r.by_item.iter().map(|g| group_cells("事项", g, find(&sat.by_item, &g.key).as_ref())));
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || workbook("审批统计", &GROUP_HEADERS, rows.into_iter()))
        .await
        .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "approval_stats", "xlsx")
        .detail(serde_json::json!({"rows": n, "from": r.from, "to": r.to}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "approval-stats.xlsx"))
}

#[derive(Template)]
#[template(path = "approval_overdue.html")]
struct OverduePage {
    chrome: Chrome,
    open: Vec<OverdueRow>,
    late: Vec<OverdueRow>,
    aftercare: Vec<AftercareOverdueRow>,
    open_total: usize,
    late_total: usize,
    q: PeriodQuery,
    period: StatsFilter,
    export: String,
}

/// The period, the open and the late cases, and the checks, call-backs and rectifications past due.
type Overdue = (StatsFilter, Vec<OverdueRow>, Vec<OverdueRow>, Vec<AftercareOverdueRow>);

async fn overdue_of(state: &AppState, me: &CurrentUser, q: &PeriodQuery, max: i64) -> Result<Overdue, AppError> {
    let today = Date::from_ms(state.now());
    let f = q.filter(today)?;
    let cal = state.calendar().await?;
    let (open, late) = state.store.overdue_cases(&me.scope, &cal, today, &f, max).await?;
    let aftercare = state.store.overdue_aftercare(&me.scope, &cal, today, max).await?;
    Ok((f, open, late, aftercare))
}

pub async fn overdue(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let (period, open, late, mut aftercare) = overdue_of(&state, &me, &q, PAGE_ROWS as i64).await?;
    let today = Date::from_ms(state.now());
    let (open_total, late_total) = state.store.overdue_counts(&me.scope, today, &period).await?;
    let (open_total, late_total) = (usize::try_from(open_total).unwrap_or(0), usize::try_from(late_total).unwrap_or(0));
    aftercare.truncate(PAGE_ROWS);
    render(&OverduePage {
        chrome: Chrome::new(&me, "/approval/overdue", "超期办件"),
        open,
        late,
        aftercare,
        open_total,
        late_total,
        export: q.query_string(),
        q,
        period,
    })
}

/// The lists in one sheet (open first, then late, then what follows the decision); audited.
pub async fn overdue_export(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let (_, open, late, aftercare) = overdue_of(&state, &me, &q, LIST_MAX).await?;
    let n = open.len() + late.len() + aftercare.len();
    let headers = [
        ("类型", 12.0),
        ("办件编号", 16.0),
        ("事项名称", 30.0),
        ("类别", 10.0),
        ("实施机关", 20.0),
        ("企业", 30.0),
        ("状态", 12.0),
        ("帮代办", 8.0),
        ("受理时间", 20.0),
        ("办结期限", 12.0),
        ("承诺时限", 10.0),
        ("办结时间", 20.0),
        ("超期工作日", 10.0),
        ("督办次数", 10.0),
    ];
    let bytes = tokio::task::spawn_blocking(move || {
        let rows = open.into_iter().map(|r| ("在办超期", r)).chain(late.into_iter().map(|r| ("超期办结", r)));
        let after = aftercare.into_iter().map(|a| {
            vec![
                Cell::Text(format!("{}超期", a.kind_name)),
                Cell::Text(a.case_no),
                Cell::Text(a.item_name),
                Cell::Text(a.category),
                Cell::Text(a.department),
                Cell::Text(a.enterprise_name),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Text(a.due),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Int(a.days_over),
                Cell::Int(i64::from(a.escalated)),
            ]
        });
        let cells = rows.map(|(kind, c)| {
            vec![
                Cell::Text(kind.to_owned()),
                Cell::Text(c.case_no),
                Cell::Text(c.item_name),
                Cell::Text(c.category),
                Cell::Text(c.department),
                Cell::Text(c.enterprise_name),
                Cell::Text(c.state_name),
                Cell::Text(if c.agency { "是" } else { "否" }.into()),
                c.received_at.map_or(Cell::Text(String::new()), Cell::Time),
                Cell::Text(c.deadline.unwrap_or_default()),
                Cell::Int(c.limit_days),
                c.completed_at.map_or(Cell::Text(String::new()), Cell::Time),
                Cell::Int(c.days_over),
                Cell::Int(c.escalations),
            ]
        });
        workbook("超期办件", &headers, cells.chain(after))
    })
    .await
    .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "approval_overdue", "xlsx").detail(serde_json::json!({"rows": n}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, "approval-overdue.xlsx"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(year: &str, month: &str, from: &str, to: &str) -> PeriodQuery {
        let o = |s: &str| Some(s.to_owned());
        PeriodQuery { year: o(year), month: o(month), from: o(from), to: o(to) }
    }

    #[test]
    fn periods_are_a_year_a_month_or_a_range() {
        let today = Date::new(2026, 11, 26).unwrap();
        let d = |y, m, d| Date::new(y, m, d).unwrap();
        let f = PeriodQuery::default().filter(today).unwrap();
        assert_eq!((f.from, f.to), (d(2026, 1, 1), d(2026, 12, 31)));
        let f = q("2021", "2", "", "").filter(today).unwrap();
        assert_eq!((f.from, f.to), (d(2021, 2, 1), d(2021, 2, 28)));
        let f = q("2021", "12", "", "").filter(today).unwrap();
        assert_eq!((f.from, f.to), (d(2021, 12, 1), d(2021, 12, 31)));
        let f = q("", "", "2021-03-01", "2021-04-15").filter(today).unwrap();
        assert_eq!((f.from, f.to), (d(2021, 3, 1), d(2021, 4, 15)));
        for bad in [
            q("20x1", "", "", ""),
            q("2021", "13", "", ""),
            q("", "", "2021-03-02", "2021-03-01"),
            q("", "", "2021-03-01", ""),
        ] {
            assert!(bad.filter(today).is_err());
        }
    }
}
