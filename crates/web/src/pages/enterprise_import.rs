//! Excel import and export of the enterprise registry. One column list serves the template, the
//! export and the import, so an exported sheet imports back unchanged (updating by credit code).

use super::enterprise_form::{Context, RawEnterprise, parse, wan_text};
use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::sheet::{map_columns, normalise_date, read_first_sheet};
use crate::view::Chrome;
use crate::xlsx::{Cell, download, workbook};
use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::division::TOWNS;
use dianxiaoer_store::{EnterpriseInput, EnterpriseRow, ImportCounts};

/// (field, header, required, width). Headers are what the template and the export write.
pub const COLUMNS: [(&str, &str, bool, f64); 21] = [
    ("credit_code", "统一社会信用代码", true, 22.0),
    ("name", "企业名称", true, 34.0),
    ("legal_representative", "法定代表人", true, 11.0),
    ("industry_code", "行业代码", true, 10.0),
    ("host_town", "落地乡镇", true, 12.0),
    ("introducer_town", "引资乡镇", false, 12.0),
    ("introducer_department", "引资部门", false, 20.0),
    ("project_area", "片区", false, 13.0),
    ("grid_id", "网格", false, 12.0),
    ("address", "地址", true, 36.0),
    ("lon", "经度", false, 11.0),
    ("lat", "纬度", false, 11.0),
    ("land_area_mu", "用地面积（亩）", false, 13.0),
    ("scale", "规模", false, 7.0),
    ("employees", "从业人数", false, 9.0),
    ("registered_capital_wan", "注册资本（万元）", false, 15.0),
    ("established", "成立日期", false, 12.0),
    ("status", "状态", false, 7.0),
    ("contact_name", "联系人", false, 10.0),
    ("contact_phone", "联系电话", false, 14.0),
    ("tags", "标签", false, 24.0),
];

/// The most rows one import may hold.
pub const MAX_ROWS: usize = 200_000;

fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|c| c.0 == field).map_or("", |c| c.1)
}

fn set(raw: &mut RawEnterprise, field: &str, v: String) {
    let slot = match field {
        "credit_code" => &mut raw.credit_code,
        "name" => &mut raw.name,
        "legal_representative" => &mut raw.legal_representative,
        "industry_code" => &mut raw.industry_code,
        "host_town" => &mut raw.host_town,
        "introducer_town" => &mut raw.introducer_town,
        "introducer_department" => &mut raw.introducer_department,
        "project_area" => &mut raw.project_area,
        "grid_id" => &mut raw.grid_id,
        "address" => &mut raw.address,
        "lon" => &mut raw.lon,
        "lat" => &mut raw.lat,
        "land_area_mu" => &mut raw.land_area_mu,
        "scale" => &mut raw.scale,
        "employees" => &mut raw.employees,
        "registered_capital_wan" => &mut raw.registered_capital_wan,
        "established" => &mut raw.established,
        "status" => &mut raw.status,
        "contact_name" => &mut raw.contact_name,
        "contact_phone" => &mut raw.contact_phone,
        "tags" => &mut raw.tags,
        _ => return,
    };
    *slot = v;
}

fn get(raw: &RawEnterprise, field: &str) -> String {
    match field {
        "credit_code" => raw.credit_code.clone(),
        "name" => raw.name.clone(),
        "legal_representative" => raw.legal_representative.clone(),
        "industry_code" => raw.industry_code.clone(),
        "host_town" => raw.host_town.clone(),
        "introducer_town" => raw.introducer_town.clone(),
        "introducer_department" => raw.introducer_department.clone(),
        "project_area" => raw.project_area.clone(),
        "grid_id" => raw.grid_id.clone(),
        "address" => raw.address.clone(),
        "lon" | "lat" => {
            if field == "lon" {
                raw.lon.clone()
            } else {
                raw.lat.clone()
            }
        }
        "land_area_mu" => raw.land_area_mu.clone(),
        "scale" => raw.scale.clone(),
        "employees" => raw.employees.clone(),
        "registered_capital_wan" => raw.registered_capital_wan.clone(),
        "established" => raw.established.clone(),
        "status" => raw.status.clone(),
        "contact_name" => raw.contact_name.clone(),
        "contact_phone" => raw.contact_phone.clone(),
        _ => raw.tags.clone(),
    }
}

/// One bad cell of an import.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CellError {
    pub row: u32,
    pub column: String,
    pub value: String,
    pub message: String,
}

/// The outcome of reading and validating a sheet: how many rows passed (all of them went to the
/// sink), or every problem found.
pub enum Checked {
    Ready(usize),
    Refused { sheet_error: Option<String>, cells: Vec<CellError>, rows: usize },
}

/// Rows handed to the sink at a time while the rest of the sheet is still being checked.
const SINK_ROWS: usize = 512;

/// Reads and validates a workbook, handing valid rows to `sink` in chunks for as long as no row has
/// failed; a sink returning false (its writer gave up) ends the hand-over but not the checking, so
/// every bad cell is still reported. Nothing is written here.
pub fn check(bytes: Vec<u8>, ctx: &Context, sink: &mut dyn FnMut(Vec<EnterpriseInput>) -> bool) -> Checked {
    let refuse = |m: String| Checked::Refused { sheet_error: Some(m), cells: Vec::new(), rows: 0 };
    let sheet = match read_first_sheet(bytes, MAX_ROWS) {
        Ok(s) => s,
        Err(m) => return refuse(m),
    };
    let columns: Vec<(&'static str, &'static str, bool)> = COLUMNS.iter().map(|c| (c.0, c.1, c.2)).collect();
    let index = match map_columns(&sheet, &columns) {
        Ok(i) => i,
        Err(m) => return refuse(m),
    };
    let dept_id = |name: &str| ctx.departments.iter().find(|d| d.name == name).map(|d| d.id.to_string());
    let town_code = |v: &str| TOWNS.iter().find(|t| t.name == v).map_or_else(|| v.to_string(), |t| t.code.to_string());
    let mut cells = Vec::new();
    let mut ready = Vec::with_capacity(SINK_ROWS);
    let mut passed = 0;
    let mut sinking = true;
    // The same code twice in one sheet is ambiguous: the later row is refused, naming the earlier.
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for (row, values) in &sheet.rows {
        let mut raw = RawEnterprise::default();
        for (i, field) in &index {
            let v = values.get(*i).cloned().unwrap_or_default();
            let v = match *field {
                "host_town" | "introducer_town" => town_code(&v),
                "introducer_department" if !v.is_empty() => dept_id(&v).unwrap_or(v),
                "established" => normalise_date(&v),
                _ => v,
            };
            set(&mut raw, field, v);
        }
        if !raw.credit_code.is_empty()
            && let Some(first) = seen.insert(raw.credit_code.trim().to_string(), *row)
        {
            cells.push(CellError {
                row: *row,
                column: header_of("credit_code").to_string(),
                value: raw.credit_code.clone(),
                message: format!("与第 {first} 行重复"),
            });
        }
        match parse(&raw, ctx) {
            Ok(input) => {
                passed += 1;
                if sinking && cells.is_empty() {
                    ready.push(input);
                    if ready.len() == SINK_ROWS {
                        sinking = sink(std::mem::replace(&mut ready, Vec::with_capacity(SINK_ROWS)));
                    }
                }
            }
            Err(errors) => {
                for (field, message) in errors {
                    let field = if field == "lon" && raw.lon.is_empty() { "lat" } else { field };
                    cells.push(CellError {
                        row: *row,
                        column: header_of(field).to_string(),
                        value: get(&raw, field),
                        message,
                    });
                }
            }
        }
    }
    if cells.is_empty() {
        if sinking && !ready.is_empty() {
            sink(ready);
        }
        Checked::Ready(passed)
    } else {
        Checked::Refused { sheet_error: None, cells, rows: sheet.rows.len() }
    }
}

/// The export row of one enterprise, in `COLUMNS` order.
pub fn export_row(
    e: &EnterpriseRow,
    departments: &[dianxiaoer_store::DepartmentRow],
    grids: &[dianxiaoer_store::GridRow],
) -> Vec<Cell> {
    let t = |s: &str| Cell::Text(s.to_string());
    let town_name =
        |c: &Option<String>| c.as_deref().and_then(dianxiaoer_core::division::town_by_code).map_or("", |t| t.name);
    let dept =
        e.introducer_department.and_then(|d| departments.iter().find(|x| x.id == d)).map_or("", |d| d.name.as_str());
    let grid = e.grid_id.and_then(|g| grids.iter().find(|x| x.id == g)).map_or("", |g| g.name.as_str());
    vec![
        t(&e.credit_code),
        t(&e.name),
        t(&e.legal_representative),
        t(&e.industry_code),
        t(&e.host_town_name),
        t(town_name(&e.introducer_town)),
        t(dept),
        t(e.project_area_name.as_deref().unwrap_or("")),
        t(grid),
        t(&e.address),
        e.lon.map_or(Cell::Text(String::new()), Cell::Float),
        e.lat.map_or(Cell::Text(String::new()), Cell::Float),
        e.land_area_centi_m2
            .map_or(Cell::Text(String::new()), |a| Cell::Float((Area::from_m2_centi(a).mu() * 100.0).round() / 100.0)),
        t(if e.above_scale { "规上" } else { "规下" }),
        e.employees.map_or(Cell::Text(String::new()), Cell::Int),
        e.registered_capital_fen.map_or(Cell::Text(String::new()), |f| Cell::Decimal(wan_text(f))),
        e.established
            .as_deref()
            .and_then(dianxiaoer_core::when::parse_date)
            .map_or(Cell::Text(String::new()), Cell::Date),
        t(super::enterprises::status_label(&e.status)),
        t(&e.contact_name),
        t(&e.contact_phone),
        t(&e.tags),
    ]
}

pub fn headers() -> Vec<(&'static str, f64)> {
    COLUMNS.iter().map(|c| (c.1, c.3)).collect()
}

#[derive(Template)]
#[template(path = "enterprise_import.html")]
struct ImportPage {
    chrome: Chrome,
    columns: Vec<(&'static str, bool)>,
    sheet_error: Option<String>,
    cells: Vec<CellError>,
    total_errors: usize,
    rows: usize,
    max_rows: usize,
    done: Option<ImportCounts>,
}

fn page(
    me: &CurrentUser,
    sheet_error: Option<String>,
    cells: Vec<CellError>,
    rows: usize,
    done: Option<ImportCounts>,
) -> Result<Response, PageError> {
    let bad = sheet_error.is_some() || !cells.is_empty();
    let total_errors = cells.len();
    let page = ImportPage {
        chrome: Chrome::new(me, "/enterprises", "导入企业"),
        columns: COLUMNS.iter().map(|c| (c.1, c.2)).collect(),
        sheet_error,
        cells: cells.into_iter().take(1000).collect(),
        total_errors,
        rows,
        max_rows: MAX_ROWS,
        done,
    };
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn form(Extension(me): Extension<CurrentUser>) -> Result<Response, PageError> {
    page(&me, None, Vec::new(), 0, None)
}

/// The template: the headers, one example row, and a sheet explaining the codes.
pub async fn template() -> Result<Response, PageError> {
    let example = vec![
        Cell::Text(
            dianxiaoer_core::credit_code::CreditCode::with_check_digit("91371323MA3C12345")
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
        ),
        Cell::Text("沂水示例新材料科技有限公司".into()),
        Cell::Text("张伟".into()),
        Cell::Text("C2669".into()),
        Cell::Text("许家湖镇".into()),
        Cell::Text("马站镇".into()),
        Cell::Text(String::new()),
        Cell::Text("庐山化工园区".into()),
        Cell::Text(String::new()),
        Cell::Text("沂水县许家湖镇庐山化工园区化工一路9号".into()),
        Cell::Float(118.5712),
        Cell::Float(35.7203),
        Cell::Float(45.5),
        Cell::Text("规上".into()),
        Cell::Int(186),
        Cell::Decimal("5000".into()),
        Cell::Date(dianxiaoer_core::when::parse_date("2016-05-18").unwrap_or_default()),
        Cell::Text("在营".into()),
        Cell::Text("李娜".into()),
        Cell::Text("13905391234".into()),
        Cell::Text("化工园区,高新技术企业".into()),
    ];
    let bytes = workbook("企业", &headers(), std::iter::once(example))?;
    Ok(download(bytes, "enterprise-import-template.xlsx"))
}

/// What an import came to; the page and the API present the same outcome.
pub enum Outcome {
    Done { rows: usize, counts: ImportCounts },
    Refused { sheet_error: Option<String>, cells: Vec<CellError>, rows: usize },
}

/// Checks the sheet on a blocking thread while its valid rows are written into one open
/// transaction, so reading and writing overlap; commits only when every row passed, otherwise the
/// transaction is dropped and nothing is written.
pub async fn run(state: &AppState, me: &CurrentUser, bytes: Vec<u8>, source: &str) -> Result<Outcome, AppError> {
    let ctx = Context::load(state).await?;
    let (send, mut receive) = tokio::sync::mpsc::channel::<Vec<EnterpriseInput>>(4);
    let checker = tokio::task::spawn_blocking(move || {
        let mut sink = |rows| send.blocking_send(rows).is_ok();
        check(bytes, &ctx, &mut sink)
    });
    let started = std::time::Instant::now();
    let mut import = None;
    let mut failed = None;
    while let Some(rows) = receive.recv().await {
        if failed.is_some() {
            continue;
        }
        if import.is_none() {
            match state.store.begin_enterprise_import(&me.actor(), &me.scope, source, state.now()).await {
                Ok(i) => import = Some(i),
                Err(e) => {
                    failed = Some(e);
                    continue;
                }
            }
        }
        if let Some(i) = import.as_mut()
            && let Err(e) = i.write(&rows).await
        {
            failed = Some(e);
        }
    }
    let checked = checker.await.map_err(|e| AppError::Internal(format!("import task: {e}")))?;
    match checked {
        Checked::Refused { sheet_error, cells, rows } => Ok(Outcome::Refused { sheet_error, cells, rows }),
        Checked::Ready(rows) => {
            let result = match (failed, import) {
                (Some(e), _) => Err(e),
                (None, Some(i)) => i.finish().await,
                (None, None) => Err(dianxiaoer_store::Error::Invalid("表中没有数据行".into())),
            };
            match result {
                Ok(counts) => {
                    tracing::info!(rows, ms = started.elapsed().as_millis() as u64, "enterprise import committed");
                    Ok(Outcome::Done { rows, counts })
                }
                Err(dianxiaoer_store::Error::Invalid(m) | dianxiaoer_store::Error::Conflict(m)) => {
                    Ok(Outcome::Refused { sheet_error: Some(m), cells: Vec::new(), rows })
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// The uploaded file of a multipart form (field `file`) and its name.
pub async fn upload_field(mp: &mut Multipart) -> Result<Option<(Vec<u8>, String)>, AppError> {
    let mut out = None;
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::BadRequest(format!("上传内容无法读取：{e}")))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.xlsx").chars().take(120).collect();
            let bytes = field.bytes().await.map_err(|_| AppError::TooLarge)?.to_vec();
            out = Some((bytes, name));
        }
    }
    Ok(out.filter(|(b, _)| !b.is_empty()))
}

/// Reads the uploaded file (multipart field `file`), validates every row and writes all of it or nothing.
pub async fn upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let Some((bytes, name)) = upload_field(&mut mp).await? else {
        return page(&me, Some("请选择要导入的 .xlsx 文件".into()), Vec::new(), 0, None);
    };
    match run(&state, &me, bytes, &name).await? {
        Outcome::Done { rows, counts } => page(&me, None, Vec::new(), rows, Some(counts)),
        Outcome::Refused { sheet_error, cells, rows } => page(&me, sheet_error, cells, rows, None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> Context {
        Context { departments: Vec::new(), grids: Vec::new(), areas: Vec::new(), today: "2026-11-26".into() }
    }

    fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, col) in COLUMNS.iter().enumerate() {
            ws.write_string(0, c as u16, col.1).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn valid_row(i: usize) -> Vec<String> {
        let code = dianxiaoer_core::credit_code::CreditCode::with_check_digit(&format!("91371323MA3C{i:05}")).unwrap();
        let mut row = vec![String::new(); COLUMNS.len()];
        for (c, col) in COLUMNS.iter().enumerate() {
            row[c] = match col.0 {
                "credit_code" => code.as_str().to_string(),
                "name" => format!("沂水测试{i}有限公司"),
                "legal_representative" => "张伟".into(),
                "industry_code" => "C2614".into(),
                "host_town" => "沂城街道".into(),
                "address" => "沂水县经济开发区".into(),
                "scale" => "规下".into(),
                "status" => "在营".into(),
                "contact_name" => "李娜".into(),
                "contact_phone" => "13805391234".into(),
                _ => String::new(),
            };
        }
        row
    }

    /// Valid rows reach the writer in chunks while the sheet is read; once a row fails, no further
    /// rows are handed over, and every bad cell is still reported.
    #[test]
    fn rows_stream_until_the_first_failure() {
        let mut rows: Vec<Vec<String>> = (0..SINK_ROWS * 2 + 10).map(valid_row).collect();
        let good = sheet(&rows);
        let mut sunk = Vec::new();
        let n = match check(good, &ctx(), &mut |chunk| {
            sunk.push(chunk.len());
            true
        }) {
            Checked::Ready(n) => n,
            Checked::Refused { sheet_error, cells, .. } => panic!("{sheet_error:?} {cells:?}"),
        };
        assert_eq!(n, rows.len());
        assert_eq!(sunk, vec![SINK_ROWS, SINK_ROWS, 10]);
        let at = SINK_ROWS + 3;
        rows[at][0] = "91371323MA3C0000X0".into();
        rows[at + 5][0] = "bad".into();
        let mut sunk = 0;
        match check(sheet(&rows), &ctx(), &mut |chunk| {
            sunk += chunk.len();
            true
        }) {
            Checked::Refused { cells, rows: total, .. } => {
                assert_eq!(cells.len(), 2);
                assert_eq!(total, rows.len());
            }
            Checked::Ready(_) => panic!("a bad row was accepted"),
        }
        assert_eq!(sunk, SINK_ROWS, "only the chunk completed before the bad row was handed over");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the cells hold, the importer answers (never panics), and a sheet it accepts holds
        /// only valid credit codes and known towns.
        #[test]
        fn any_cells_get_an_answer(rows in proptest::collection::vec(proptest::collection::vec(".{0,24}", 0..21), 1..6)) {
            let mut ready = Vec::new();
            match check(sheet(&rows), &ctx(), &mut |chunk| { ready.extend(chunk); true }) {
                Checked::Ready(n) => {
                    prop_assert_eq!(n, ready.len());
                    for e in ready {
                        prop_assert!(dianxiaoer_core::credit_code::CreditCode::parse(e.credit_code.as_str()).is_ok());
                        prop_assert!(dianxiaoer_core::division::town_by_code(&e.host_town).is_some());
                    }
                }
                Checked::Refused { sheet_error, cells, .. } => prop_assert!(sheet_error.is_some() || !cells.is_empty()),
            }
        }

        /// Arbitrary bytes are refused with a message.
        #[test]
        fn any_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let refused = matches!(check(bytes, &ctx(), &mut |_| true), Checked::Refused { sheet_error: Some(_), .. });
            prop_assert!(refused);
        }
    }
}
