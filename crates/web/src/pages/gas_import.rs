//! Excel import of gas detectors: a template with Chinese headers, columns matched by header in any
//! order, every row parsed by the same rules as the detector form (set-points default from the gas
//! table, GB/T 50493-2019), each bad cell reported as row, column, value and message, and nothing
//! written unless every row passed.

use super::enterprise_import::{CellError, upload_field};
use super::gas_form::{RawDetector, parse};
use super::sheet_import::{ImportView, Outcome, api_answer, no_file, page};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError, PageError};
use crate::sheet::{map_columns, read_first_sheet};
use crate::xlsx::{Cell, download, workbook};
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::Response;
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::DetectorInput;
use std::collections::HashMap;

/// Most data rows one sheet may hold: a park has hundreds of detectors.
pub const MAX_ROWS: usize = 5_000;

/// (form field, header, required).
pub const COLUMNS: [(&str, &str, bool); 13] = [
    ("enterprise", "企业统一社会信用代码", false),
    ("tag", "位号", true),
    ("name", "名称", true),
    ("location", "安装位置", false),
    ("plant_area", "装置区", false),
    ("gas", "气体", true),
    ("unit", "单位", false),
    ("range_min", "量程下限", false),
    ("range_max", "量程上限", false),
    ("set_point1", "一级报警值（或欠氧值）", false),
    ("set_point2", "二级报警值（或过氧值）", false),
    ("interval_s", "上报间隔（秒）", false),
    ("status", "状态", false),
];

fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|c| c.0 == field).map_or("", |c| c.1)
}

fn set(raw: &mut RawDetector, field: &str, v: String) {
    match field {
        "enterprise" => raw.enterprise = v,
        "tag" => raw.tag = v,
        "name" => raw.name = v,
        "location" => raw.location = v,
        "plant_area" => raw.plant_area = v,
        "gas" => raw.gas = v,
        "unit" => raw.unit = v,
        "range_min" => raw.range_min = v,
        "range_max" => raw.range_max = v,
        "set_point1" => raw.set_point1 = v,
        "set_point2" => raw.set_point2 = v,
        "interval_s" => raw.interval_s = v,
        _ => {
            raw.status = match v.as_str() {
                "" | "启用" | "在用" => "active".into(),
                "停用" => "disabled".into(),
                other => other.into(),
            }
        }
    }
}

/// The outcome of checking a sheet.
pub enum Checked {
    Ready(Vec<DetectorInput>),
    Refused { sheet_error: Option<String>, cells: Vec<CellError>, rows: usize },
}

/// Reads and validates a workbook. `enterprise` resolves a row's credit code (blank: the enterprise
/// user's own). Nothing is written here.
pub fn check(bytes: Vec<u8>, enterprise: &dyn Fn(&str) -> Result<i64, String>) -> Checked {
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
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (row, values) in &sheet.rows {
        let mut raw = RawDetector::default();
        let mut shown: HashMap<&str, String> = HashMap::new();
        for (i, field) in &index {
            let v = values.get(*i).cloned().unwrap_or_default();
            set(&mut raw, field, v.clone());
            shown.insert(field, v);
        }
        if let Some(first) = seen.insert(raw.tag.trim().to_string(), *row) {
            cells.push(CellError {
                row: *row,
                column: header_of("tag").into(),
                value: raw.tag.clone(),
                message: format!("与第 {first} 行位号重复"),
            });
        }
        match parse(&raw, enterprise(&raw.enterprise)) {
            Ok(d) => ready.push(d),
            Err(errors) => cells.extend(errors.into_iter().map(|(field, message)| CellError {
                row: *row,
                column: header_of(field).into(),
                value: shown.get(field).cloned().unwrap_or_default(),
                message,
            })),
        }
    }
    if cells.is_empty() {
        Checked::Ready(ready)
    } else {
        Checked::Refused { sheet_error: None, cells, rows: sheet.rows.len() }
    }
}

/// Checks the sheet and registers every detector or none; the page and the API share it. The engine
/// takes the new detectors up at once.
pub async fn run(state: &AppState, me: &CurrentUser, bytes: Vec<u8>) -> Result<Outcome, AppError> {
    let ids = state.store.enterprise_ids_by_credit_code().await?;
    let own = match me.scope {
        Scope::Enterprise(id) => Some(id),
        _ => None,
    };
    let checked = tokio::task::spawn_blocking(move || {
        let resolve = |raw: &str| -> Result<i64, String> {
            let t = raw.trim();
            if t.is_empty() {
                return own.ok_or_else(|| "请填写企业统一社会信用代码".into());
            }
            let code = CreditCode::parse(t).map_err(|e| e.message)?;
            ids.get(code.as_str()).copied().ok_or_else(|| "该统一社会信用代码未登记".into())
        };
        check(bytes, &resolve)
    })
    .await
    .map_err(|e| AppError::Internal(format!("detector import task: {e}")))?;
    match checked {
        Checked::Refused { sheet_error, cells, rows } => Ok(Outcome::Refused { sheet_error, cells, rows }),
        Checked::Ready(rows) => match state.store.import_detectors(&me.actor(), &me.scope, &rows, state.now()).await {
            Ok(ids) => {
                if let Some(gas) = &state.gas {
                    for id in &ids {
                        if let Err(e) = gas.engine().reload(*id).await {
                            tracing::warn!(detector = id, error = %e, "reloading an imported detector failed");
                        }
                    }
                }
                Ok(Outcome::Done { inserted: ids.len() as u64 })
            }
            Err(dianxiaoer_store::Error::Invalid(m) | dianxiaoer_store::Error::Conflict(m)) => {
                Ok(Outcome::refused(m, rows.len()))
            }
            Err(e) => Err(e.into()),
        },
    }
}

const VIEW: ImportView = ImportView {
    nav: "/gas/detectors",
    title: "导入气体探测器",
    action: "/gas/detectors/import",
    template: "/gas/detectors/import/template.xlsx",
    done: "个探测器，报警引擎已载入",
    list: "/gas/detectors",
    list_label: "查看探测器",
    intro: "使用模板填写，一行一个探测器；表头在第 1 行，列的顺序不限。企业须已在企业档案中登记（企业用户可留空，即本企业）；位号全区唯一，已登记的位号不重复导入。报警值留空时按 GB/T 50493-2019 的气体表取默认值。",
    notes: "气体填代码（H2S、CO、NH3、Cl2、HCN、C6H6、CH3OH、SO2、NO2、O2、CH4、C3H8、H2、EX）或名称；单位为 ppm、mg/m³、%LEL 或 %VOL，留空取该气体的默认单位；状态填启用或停用。",
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
    let Some((bytes, _)) = upload_field(&mut mp).await? else {
        return no_file(&me, &VIEW);
    };
    let outcome = run(&state, &me, bytes).await?;
    page(&me, &VIEW, Some(outcome))
}

/// The same import for API clients: 201 with the count, or 422 listing every bad cell.
pub async fn api_upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mut mp: Multipart,
) -> Result<Response, ApiError> {
    let (bytes, _) = upload_field(&mut mp).await?.ok_or_else(|| AppError::BadRequest("缺少文件字段 file".into()))?;
    Ok(api_answer(run(&state, &me, bytes).await?))
}

/// The template: the headers and two example rows (a toxic and a combustible detector).
pub async fn template() -> Result<Response, PageError> {
    let rows = [
        [
            "91371323MA3C12345X",
            "GT-101-H2S",
            "罐区硫化氢探测器",
            "罐区 1 号罐北侧",
            "罐区",
            "H2S",
            "ppm",
            "0",
            "100",
            "",
            "",
            "30",
            "启用",
        ],
        [
            "91371323MA3C12345X",
            "GT-101-EX",
            "装置区可燃气体探测器",
            "反应釜二层平台",
            "装置区",
            "EX",
            "%LEL",
            "0",
            "100",
            "",
            "",
            "30",
            "启用",
        ],
    ];
    let headers: Vec<(&str, f64)> = COLUMNS.iter().map(|c| (c.1, 18.0)).collect();
    let bytes =
        workbook("探测器", &headers, rows.iter().map(|r| r.iter().map(|v| Cell::Text((*v).to_string())).collect()))?;
    Ok(download(bytes, "detector-import-template.xlsx"))
}
