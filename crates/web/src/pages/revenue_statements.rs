//! Statements (对账单) of the enclave economy's tax sharing, per unit and month: on a page that prints
//! on A4 (the print stylesheet in app.css) and as Excel. A town or county-department official sees
//! only its own statement of confirmed months; the zone's staff see every unit's.

use super::{nonempty, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::view::Chrome;
use crate::xlsx::{Cell, Sheet, download, workbook_sheets};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use dianxiaoer_core::revenue::party::{DepartmentId, TownCode, Unit};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_store::{AuditEntry, SettlementRow, Statement, StatementLine, TaxTypeLine, UnitTotal, own_unit};
use serde::Deserialize;
use std::borrow::Borrow;

#[derive(Deserialize, Default, Clone, Debug)]
pub struct StatementQuery {
    /// "2022-01"; the newest settlement the user may see when absent.
    pub period: Option<String>,
    /// "town:371323103", "dept:4" or "zone"; the user's own unit when absent.
    pub unit: Option<String>,
}

/// Parses a unit as statements are asked for.
pub fn parse_unit(raw: &str) -> Result<Unit, AppError> {
    let s = raw.trim();
    if s == "zone" {
        return Ok(Unit::Zone);
    }
    if let Some(d) = s.strip_prefix("dept:") {
        return d
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| *d > 0)
            .map(|d| Unit::Department(DepartmentId::new(d)))
            .ok_or_else(|| AppError::BadRequest("单位应为 town:乡镇代码、dept:部门编号 或 zone".into()));
    }
    TownCode::parse(s.strip_prefix("town:").unwrap_or(s)).map(Unit::Town).map_err(|e| AppError::BadRequest(e.message))
}

/// What a statement request resolves to: the month, and the unit when known.
pub struct Resolved {
    pub periods: Vec<SettlementRow>,
    pub period: Option<Period>,
    pub unit: Option<Unit>,
}

pub async fn resolve(state: &AppState, me: &CurrentUser, q: &StatementQuery) -> Result<Resolved, AppError> {
    let periods = state.store.settlements(&me.scope).await?;
    let period = match nonempty(&q.period) {
        Some(p) => Some(Period::parse(&p).map_err(|e| AppError::BadRequest(format!("结算月份：{}", e.message)))?),
        None => periods.first().and_then(|s| Period::parse(&s.period).ok()),
    };
    let unit = match nonempty(&q.unit) {
        Some(u) => Some(parse_unit(&u)?),
        None => own_unit(&me.scope),
    };
    Ok(Resolved { periods, period, unit })
}

/// "1234.56" / "-0.05": an amount in 元 for Excel.
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// "5/10".
pub fn weight_label(w: impl Borrow<i64>) -> String {
    format!("{}/10", w.borrow())
}

#[derive(Template)]
#[template(path = "revenue_statement.html")]
struct StatementPage {
    chrome: Chrome,
    periods: Vec<SettlementRow>,
    period: String,
    unit_key: String,
    /// Zone staff choosing a unit: every unit of the month.
    units: Vec<UnitTotal>,
    statement: Option<Statement>,
    /// The query string of the Excel link.
    xlsx: String,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<StatementQuery>,
) -> Result<Response, PageError> {
    let r = resolve(&state, &me, &q).await?;
    let mut units = Vec::new();
    let mut statement = None;
    if let Some(p) = r.period {
        match &r.unit {
            Some(u) => statement = Some(state.store.statement(&me.scope, p, u).await?),
            None => units = state.store.settlement_detail(&me.scope, p).await?.units,
        }
    }
    let period = r.period.map(|p| p.to_string()).unwrap_or_default();
    let unit_key = r.unit.as_ref().map(dianxiaoer_store::unit_param).unwrap_or_default();
    render(&StatementPage {
        chrome: Chrome::new(&me, "/revenue/statements", "分成对账单"),
        xlsx: crate::view::query_string(&[("period", &period), ("unit", &unit_key)]),
        periods: r.periods,
        period,
        unit_key,
        units,
        statement,
    })
}

const HEADERS: [(&str, f64); 10] = [
    ("类别", 14.0),
    ("项目名称", 32.0),
    ("企业名称", 30.0),
    ("统一社会信用代码", 22.0),
    ("分成比例", 10.0),
    ("本单位份额", 10.0),
    ("台账笔数", 10.0),
    ("实缴税款（元）", 16.0),
    ("可分成金额（元）", 16.0),
    ("本单位分成（元）", 16.0),
];

fn line_cells(l: &StatementLine) -> Vec<Cell> {
    let kind = l.adjusts_period.as_ref().map_or_else(|| "本月".to_string(), |p| format!("调整 {p}"));
    vec![
        Cell::Text(kind),
        Cell::Text(l.project_name.clone()),
        Cell::Text(l.enterprise_name.clone()),
        Cell::Text(l.credit_code.clone()),
        Cell::Text(l.ratio.clone()),
        Cell::Text(weight_label(l.weight)),
        Cell::Int(l.rows),
        Cell::Decimal(yuan_text(l.tax_fen)),
        Cell::Decimal(yuan_text(l.shareable_fen)),
        Cell::Decimal(yuan_text(l.amount_fen)),
    ]
}

/// The statement's rows: the month's lines, the adjustments, and the totals.
pub fn statement_rows(s: &Statement) -> Vec<Vec<Cell>> {
    let mut rows: Vec<Vec<Cell>> = s.lines.iter().chain(&s.adjustments).map(line_cells).collect();
    let total = |label: &str, tax: Option<i64>, shareable: Option<i64>, amount: i64| {
        let mut r: Vec<Cell> = vec![Cell::Text(label.to_string())];
        r.extend((0..6).map(|_| Cell::Text(String::new())));
        r.push(tax.map_or(Cell::Text(String::new()), |f| Cell::Decimal(yuan_text(f))));
        r.push(shareable.map_or(Cell::Text(String::new()), |f| Cell::Decimal(yuan_text(f))));
        r.push(Cell::Decimal(yuan_text(amount)));
        r
    };
    rows.push(total("本月分成小计", None, None, s.regular_fen));
    rows.push(total("调整小计", None, None, s.adjustments_fen));
    rows.push(total("合计", Some(s.tax_fen), Some(s.shareable_fen), s.total_fen));
    rows
}

const TAX_TYPE_HEADERS: [(&str, f64); 6] = [
    ("税种", 18.0),
    ("台账笔数", 10.0),
    ("实缴税款（元）", 16.0),
    ("可分成金额（元）", 16.0),
    ("本单位分成（元）", 16.0),
    ("其中调整（元）", 16.0),
];

/// The second sheet: the statement by tax type, with the total.
pub fn tax_type_rows(s: &Statement) -> Vec<Vec<Cell>> {
    let row = |t: &TaxTypeLine| {
        vec![
            Cell::Text(t.tax_type.clone()),
            Cell::Int(t.rows),
            Cell::Decimal(yuan_text(t.tax_fen)),
            Cell::Decimal(yuan_text(t.shareable_fen)),
            Cell::Decimal(yuan_text(t.amount_fen)),
            Cell::Decimal(yuan_text(t.adjustments_fen)),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = s.by_tax_type.iter().map(row).collect();
    rows.push(vec![
        Cell::Text("合计".into()),
        Cell::Int(s.by_tax_type.iter().map(|t| t.rows).sum()),
        Cell::Decimal(yuan_text(s.tax_fen)),
        Cell::Decimal(yuan_text(s.shareable_fen)),
        Cell::Decimal(yuan_text(s.total_fen)),
        Cell::Decimal(yuan_text(s.adjustments_fen)),
    ]);
    rows
}

/// The statement as Excel (by project, and by tax type on a second sheet); audited like every export.
pub async fn xlsx(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<StatementQuery>,
) -> Result<Response, PageError> {
    let r = resolve(&state, &me, &q).await?;
    let p = r.period.ok_or_else(|| AppError::BadRequest("请选择结算月份".into()))?;
    let unit = r.unit.ok_or_else(|| AppError::BadRequest("请选择单位".into()))?;
    let s = state.store.statement(&me.scope, p, &unit).await?;
    let rows = statement_rows(&s);
    let by_tax = tax_type_rows(&s);
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        workbook_sheets(vec![
            Sheet { name: "对账单", headers: &HEADERS, rows: Box::new(rows.into_iter()) },
            Sheet { name: "按税种", headers: &TAX_TYPE_HEADERS, rows: Box::new(by_tax.into_iter()) },
        ])
    })
    .await
    .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
    let entry = AuditEntry::ok("export", "statement", format!("{p}:{}", s.key))
        .detail(serde_json::json!({"rows": n, "unit": s.key, "period": p.to_string(), "total_fen": s.total_fen}));
    state.store.audit_alone(&me.actor(), entry, state.now()).await?;
    Ok(download(bytes, &format!("statement-{p}.xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_amounts() {
        assert!(matches!(parse_unit("zone"), Ok(Unit::Zone)));
        assert!(matches!(parse_unit("dept:4"), Ok(Unit::Department(d)) if d.get() == 4));
        assert!(matches!(parse_unit("town:371323103"), Ok(Unit::Town(t)) if t.as_str() == "371323103"));
        assert!(matches!(parse_unit("371323101"), Ok(Unit::Town(_))));
        assert!(parse_unit("dept:x").is_err() && parse_unit("dept:0").is_err() && parse_unit("town:1").is_err());
        assert_eq!(yuan_text(123_456), "1234.56");
        assert_eq!(yuan_text(-5), "-0.05");
        assert_eq!(yuan_text(0), "0.00");
        assert_eq!(yuan_text(i64::MIN), "-92233720368547758.08");
        assert_eq!(weight_label(8), "8/10");
    }
}
