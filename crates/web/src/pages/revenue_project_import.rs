//! Excel import of investment projects: a template with Chinese headers, columns matched by header in
//! any order, every row parsed by the same rules as the form, each bad cell reported as row, column,
//! value and message, and nothing written unless every row passed.

use super::FieldErrors;
use super::enterprise_import::{CellError, upload_field};
use super::revenue_project_form::{RawProject, parse};
use super::sheet_import::{ImportView, Outcome, api_answer, no_file, page};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, PageError};
use crate::sheet::{map_columns, normalise_date, read_first_sheet};
use crate::xlsx::{Cell, download, workbook};
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::Response;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::division::TOWNS;
use dianxiaoer_store::{DepartmentRow, ProjectInput};
use std::collections::HashMap;

/// Most data rows one sheet may hold: a zone registers projects by the hundred, not the million.
pub const MAX_ROWS: usize = 5_000;

/// (form field, header, required).
pub const COLUMNS: [(&str, &str, bool); 12] = [
    ("name", "项目名称", true),
    ("credit_code", "企业统一社会信用代码", true),
    ("introducer", "引资单位", false),
    ("host_town", "落地乡镇", true),
    ("planned_investment_wan", "计划总投资（万元）", true),
    ("planned_fixed_assets_wan", "计划固定资产投资（万元）", false),
    ("actual_investment_wan", "实际完成投资（万元）", false),
    ("actual_fixed_assets_wan", "实际完成固定资产投资（万元）", false),
    ("cleared_area_mu", "清理地上附着物面积（亩）", false),
    ("signed_on", "签约日期", true),
    ("landed_on", "落地日期", false),
    ("stage", "阶段", true),
];

fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|c| c.0 == field).map_or("", |c| c.1)
}

fn set(raw: &mut RawProject, field: &str, v: String) {
    match field {
        "name" => raw.name = v,
        "credit_code" => raw.credit_code = v,
        "introducer" => raw.introducer = v,
        "host_town" => raw.host_town = v,
        "planned_investment_wan" => raw.planned_investment_wan = v,
        "planned_fixed_assets_wan" => raw.planned_fixed_assets_wan = v,
        "actual_investment_wan" => raw.actual_investment_wan = v,
        "actual_fixed_assets_wan" => raw.actual_fixed_assets_wan = v,
        "cleared_area_mu" => raw.cleared_area_mu = v,
        "signed_on" => raw.signed_on = v,
        "landed_on" => raw.landed_on = v,
        _ => raw.stage = v,
    }
}

/// What the sheet holds as the form would: town names become codes, a county department's name
/// becomes its id, "开发区" or nothing the zone's own project.
fn normalise(field: &str, v: &str, departments: &[DepartmentRow]) -> String {
    let town = |v: &str| TOWNS.iter().find(|t| t.name == v).map_or_else(|| v.to_string(), |t| t.code.to_string());
    match field {
        "host_town" => town(v),
        "introducer" if v.is_empty() || v == "开发区" || v == "开发区自主招商" => String::new(),
        "introducer" => match departments.iter().find(|d| d.name == v && d.kind == "county") {
            Some(d) => format!("dept:{}", d.id),
            None => town(v),
        },
        "signed_on" | "landed_on" => normalise_date(v),
        _ => v.to_string(),
    }
}

/// The outcome of checking a sheet.
pub enum Checked {
    Ready(Vec<ProjectInput>),
    Refused { sheet_error: Option<String>, cells: Vec<CellError>, rows: usize },
}

/// Reads and validates a workbook; `enterprise_id` resolves credit codes. Nothing is written here.
pub fn check(
    bytes: Vec<u8>,
    departments: &[DepartmentRow],
    today: &str,
    enterprise_id: &dyn Fn(&CreditCode) -> Option<i64>,
) -> Checked {
    let refuse = |m: String| Checked::Refused { sheet_error: Some(m), cells: Vec::new(), rows: 0 };
    let sheet = match read_first_sheet(bytes, MAX_ROWS) {
        Ok(s) => s,
        Err(m) => return refuse(m),
    };
    let index = match map_columns(&sheet, &COLUMNS) {
        Ok(i) => i,
        Err(m) => return refuse(m),
    };
    let mut cells = Vec::new();
    let mut ready = Vec::with_capacity(sheet.rows.len());
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    for (row, values) in &sheet.rows {
        let mut raw = RawProject::default();
        let mut shown: HashMap<&str, String> = HashMap::new();
        for (i, field) in &index {
            let v = values.get(*i).cloned().unwrap_or_default();
            set(&mut raw, field, normalise(field, &v, departments));
            shown.insert(field, v);
        }
        if let Some(first) = seen.insert((raw.credit_code.trim().to_string(), raw.name.trim().to_string()), *row) {
            cells.push(CellError {
                row: *row,
                column: header_of("name").into(),
                value: raw.name.clone(),
                message: format!("与第 {first} 行是同一企业的同名项目"),
            });
        }
        match parse(&raw, departments, today, enterprise_id) {
            Ok(p) => ready.push(p),
            Err(errors) => cells.extend(cell_errors(*row, errors, &shown)),
        }
    }
    if cells.is_empty() {
        Checked::Ready(ready)
    } else {
        Checked::Refused { sheet_error: None, cells, rows: sheet.rows.len() }
    }
}

fn cell_errors(row: u32, errors: FieldErrors, shown: &HashMap<&str, String>) -> Vec<CellError> {
    errors
        .into_iter()
        .map(|(field, message)| CellError {
            row,
            column: header_of(field).into(),
            value: shown.get(field).cloned().unwrap_or_default(),
            message,
        })
        .collect()
}

/// Checks the sheet against the registry and writes every project or none; the page and the API share it.
pub async fn run(state: &AppState, me: &CurrentUser, bytes: Vec<u8>, source: &str) -> Result<Outcome, AppError> {
    let departments = state.refdata().await?.departments.clone();
    let ids = state.store.enterprise_ids_by_credit_code().await?;
    let today = dianxiaoer_core::when::format_date(state.now());
    let checked = tokio::task::spawn_blocking(move || {
        check(bytes, &departments, &today, &|c: &CreditCode| ids.get(c.as_str()).copied())
    })
    .await
    .map_err(|e| AppError::Internal(format!("project import task: {e}")))?;
    match checked {
        Checked::Refused { sheet_error, cells, rows } => Ok(Outcome::Refused { sheet_error, cells, rows }),
        Checked::Ready(rows) => {
            match state.store.import_projects(&me.actor(), &me.scope, source, &rows, state.now()).await {
                Ok(inserted) => Ok(Outcome::Done { inserted }),
                Err(dianxiaoer_store::Error::Invalid(m) | dianxiaoer_store::Error::Conflict(m)) => {
                    Ok(Outcome::refused(m, rows.len()))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

const VIEW: ImportView = ImportView {
    nav: "/revenue/projects",
    title: "导入招商项目",
    action: "/revenue/projects/import",
    template: "/revenue/projects/import/template.xlsx",
    done: "个招商项目",
    list: "/revenue/projects",
    list_label: "查看项目列表",
    intro: "使用模板填写，一行一个项目；表头在第 1 行，列的顺序不限。项目企业须已在企业档案中登记。同一企业的同名项目已登记时不重复导入。",
    notes: "引资单位填乡镇（街道）名称、县直部门全称，或留空表示开发区自主招商；落地乡镇填名称或 9 位代码；金额单位为万元；日期可为 Excel 日期或“2026-03-01”“2026/3/1”；阶段填已签约、已落地、已开工或已投产。",
    columns: &COLUMNS,
    max_rows: MAX_ROWS,
};

pub async fn form(Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    page(&me, &VIEW, None)
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let Some((bytes, name)) = upload_field(&mut mp).await? else {
        return no_file(&me, &VIEW);
    };
    let outcome = run(&state, &me, bytes, &name).await?;
    page(&me, &VIEW, Some(outcome))
}

/// The same import for API clients: 201 with the count, or 422 listing every bad cell.
pub async fn api_upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mut mp: Multipart,
) -> Result<Response, ApiError> {
    let (bytes, name) = upload_field(&mut mp).await?.ok_or_else(|| AppError::BadRequest("缺少文件字段 file".into()))?;
    Ok(api_answer(run(&state, &me, bytes, &name).await?))
}

/// The template: the headers and one example row.
pub async fn template() -> Result<Response, PageError> {
    let example = [
        "沂水示例新材料年产 5 万吨项目",
        "91371323MA3C12345X",
        "许家湖镇",
        "沂城街道",
        "50000",
        "35000",
        "",
        "",
        "60",
        "2026-03-01",
        "",
        "已签约",
    ]
    .iter()
    .map(|v| Cell::Text((*v).to_string()))
    .collect();
    let headers: Vec<(&str, f64)> = COLUMNS.iter().map(|c| (c.1, 20.0)).collect();
    let bytes = workbook("招商项目", &headers, std::iter::once(example))?;
    Ok(download(bytes, "project-import-template.xlsx"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn sheet(headers: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn headers() -> Vec<&'static str> {
        COLUMNS.iter().map(|c| c.1).collect()
    }

    const CODE: &str = "91371323MA3C00001J";

    fn known(c: &CreditCode) -> Option<i64> {
        (c.as_str() == CODE).then_some(7)
    }

    #[test]
    fn names_become_codes_and_bad_cells_are_listed() {
        let depts = vec![DepartmentRow { id: 3, name: "沂水县商务局".into(), kind: "county".into() }];
        let good = vec![
            "年产 5 万吨项目",
            CODE,
            "沂水县商务局",
            "沂城街道",
            "50000",
            "",
            "",
            "",
            "60",
            "2026/3/1",
            "",
            "已签约",
        ];
        match check(sheet(&headers(), std::slice::from_ref(&good)), &depts, "2026-11-26", &known) {
            Checked::Ready(rows) => {
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0].host_town.as_str(), "371323001");
                assert_eq!(rows[0].enterprise_id, 7);
            }
            Checked::Refused { sheet_error, cells, .. } => panic!("{sheet_error:?} {cells:?}"),
        }
        let mut bad = good.clone();
        bad[1] = "91371323MA3C00002X";
        bad[3] = "火星镇";
        bad[11] = "在建";
        match check(sheet(&headers(), &[good.clone(), good, bad]), &depts, "2026-11-26", &known) {
            Checked::Refused { cells, rows, .. } => {
                assert_eq!(rows, 3);
                assert!(cells.iter().any(|c| c.row == 3 && c.message.contains("同名项目")), "{cells:?}");
                assert!(cells.iter().any(|c| c.row == 4 && c.column == "落地乡镇" && c.value == "火星镇"), "{cells:?}");
                assert!(cells.iter().any(|c| c.row == 4 && c.column == "阶段"), "{cells:?}");
                assert!(cells.iter().any(|c| c.row == 4 && c.column == "企业统一社会信用代码"), "{cells:?}");
            }
            Checked::Ready(_) => panic!("bad rows were accepted"),
        }
        match check(sheet(&headers()[..3], &[]), &depts, "2026-11-26", &known) {
            Checked::Refused { sheet_error: Some(m), .. } => assert!(m.contains("缺少必填列：落地乡镇"), "{m}"),
            _ => panic!("missing columns accepted"),
        }
    }
}
