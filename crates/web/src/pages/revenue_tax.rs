//! The tax ledger (税收台账): importing the tax bureau's sheets (.csv in UTF-8 or GBK, or .xlsx) all or
//! nothing, and the ledger by month with totals, within the user's scope.

use super::enterprise_import::CellError;
use super::{nonempty, paging, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::sheet::read_first_sheet;
use crate::view::{Chrome, Pager, query_string};
use askama::Template;
use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::access::{Permission, permits};
use dianxiaoer_core::revenue::ledger_sheet::{LedgerSheet, SheetError, parse_records, read_csv_ledger};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::sheet_text::{DeclaredEncoding, TextEncoding};
use dianxiaoer_core::revenue::tax::RetainedShare;
use dianxiaoer_store::{
    Error as StoreError, LedgerFilter, LedgerRow, Page, PeriodTotal, RowProblemKind, TaxImportOutcome, TaxImportRow,
    WithdrawnImport, sha256_hex,
};
use serde::{Deserialize, Serialize};

/// The most data rows one sheet may hold.
pub const MAX_ROWS: usize = 200_000;

/// What an import came to; the page and the API present the same outcome.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaxOutcome {
    Imported {
        import_id: i64,
        rows: i64,
        total_fen: i64,
        periods: Vec<String>,
        /// "GBK", "UTF-8" or "xlsx".
        format: &'static str,
        ignored_columns: Vec<String>,
        /// Months already confirmed: their rows are settled as adjustments of the next open month.
        confirmed: Vec<String>,
    },
    /// The same file was imported before; nothing changed.
    AlreadyImported { import: TaxImportRow },
    /// Nothing was written.
    Refused { sheet_error: Option<String>, cells: Vec<CellError> },
}

fn declared(raw: &str) -> Result<DeclaredEncoding, AppError> {
    match raw.trim() {
        "" | "auto" => Ok(DeclaredEncoding::Auto),
        "utf8" | "utf-8" | "UTF-8" => Ok(DeclaredEncoding::Utf8),
        "gbk" | "GBK" => Ok(DeclaredEncoding::Gbk),
        _ => Err(AppError::BadRequest("文件编码应为 auto、utf8 或 gbk".into())),
    }
}

/// Reads the sheet: an .xlsx workbook (first sheet) or a CSV export.
fn read_sheet(bytes: Vec<u8>, encoding: DeclaredEncoding) -> Result<(LedgerSheet, &'static str), SheetError> {
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(SheetError::Text(text_error("文件是旧版 Excel（.xls）格式，请另存为 .xlsx 或 CSV 后导入")));
    }
    if !bytes.starts_with(b"PK") {
        let sheet = read_csv_ledger(&bytes, encoding)?;
        let format = match sheet.encoding {
            Some(TextEncoding::Gbk) => "GBK",
            _ => "UTF-8",
        };
        return Ok((sheet, format));
    }
    let sheet = read_first_sheet(bytes, MAX_ROWS).map_err(|m| SheetError::Text(text_error(&m)))?;
    // Records by Excel row number, so that the core finds the header and numbers rows as Excel does.
    let last = sheet.rows.last().map_or(sheet.header_row, |(r, _)| *r) as usize;
    let mut records = vec![Vec::new(); last];
    if let Some(slot) = records.get_mut((sheet.header_row as usize).saturating_sub(1)) {
        *slot = sheet.headers;
    }
    for (r, cells) in sheet.rows {
        if let Some(slot) = records.get_mut((r as usize).saturating_sub(1)) {
            *slot = cells;
        }
    }
    Ok((parse_records(records)?, "xlsx"))
}

fn text_error(message: &str) -> dianxiaoer_core::revenue::RevenueError {
    dianxiaoer_core::revenue::RevenueError { message: message.to_string() }
}

fn cell(row: usize, column: &str, value: &str, message: &str) -> CellError {
    CellError {
        row: u32::try_from(row).unwrap_or(u32::MAX),
        column: column.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    }
}

/// Reads, checks and imports one uploaded sheet: every row or none.
pub async fn run(
    state: &AppState,
    me: &CurrentUser,
    bytes: Vec<u8>,
    source: &str,
    encoding: DeclaredEncoding,
) -> Result<TaxOutcome, AppError> {
    let sha = sha256_hex(&bytes);
    if let Some(import) = state.store.tax_import_by_sha(&sha).await? {
        return Ok(TaxOutcome::AlreadyImported { import });
    }
    let parsed = tokio::task::spawn_blocking(move || read_sheet(bytes, encoding))
        .await
        .map_err(|e| AppError::Internal(format!("tax sheet task: {e}")))?;
    let (sheet, format) = match parsed {
        Ok(s) => s,
        Err(SheetError::Cells(cells)) => {
            let cells = cells.iter().map(|c| cell(c.row, &c.column, &c.value, &c.message)).collect();
            return Ok(TaxOutcome::Refused { sheet_error: None, cells });
        }
        Err(e) => return Ok(TaxOutcome::Refused { sheet_error: Some(e.to_string()), cells: Vec::new() }),
    };
    match state.store.import_tax_ledger(&me.actor(), &me.scope, source, &sha, &sheet.rows, state.now()).await {
        Ok(TaxImportOutcome::Imported { import_id, rows, total_fen, periods, confirmed }) => Ok(TaxOutcome::Imported {
            import_id,
            rows,
            total_fen,
            periods,
            format,
            ignored_columns: sheet.ignored_columns,
            confirmed,
        }),
        Ok(TaxImportOutcome::AlreadyImported { import }) => Ok(TaxOutcome::AlreadyImported { import }),
        Ok(TaxImportOutcome::Refused { problems }) => {
            let cells = problems
                .iter()
                .map(|p| match p.kind {
                    RowProblemKind::UnknownEnterprise => cell(p.row, "纳税人识别号", &p.credit_code, &p.message),
                    RowProblemKind::AlreadyImported => cell(p.row, "整行", "", &p.message),
                })
                .collect();
            Ok(TaxOutcome::Refused { sheet_error: None, cells })
        }
        Err(dianxiaoer_store::Error::Invalid(m) | dianxiaoer_store::Error::Conflict(m)) => {
            Ok(TaxOutcome::Refused { sheet_error: Some(m), cells: Vec::new() })
        }
        Err(e) => Err(e.into()),
    }
}

/// The uploaded file (field `file`), its name and the declared encoding (field `encoding`).
pub async fn read_upload(
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(Option<(Vec<u8>, String)>, DeclaredEncoding), AppError> {
    let mut mp = mp.map_err(|_| AppError::BadRequest("请以 multipart/form-data 方式上传文件（字段 file）".into()))?;
    let (mut file, mut encoding) = (None, String::new());
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::BadRequest(format!("上传内容无法读取：{e}")))?
    {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").chars().take(120).collect();
                let bytes = field.bytes().await.map_err(|_| AppError::TooLarge)?.to_vec();
                file = Some((bytes, name));
            }
            Some("encoding") => {
                encoding = field.text().await.map_err(|_| AppError::BadRequest("编码字段无法读取".into()))?;
            }
            _ => {}
        }
    }
    Ok((file.filter(|(b, _)| !b.is_empty()), declared(&encoding)?))
}

/// A finished import as shown.
pub struct Done {
    pub import_id: i64,
    pub rows: i64,
    pub total_fen: i64,
    pub periods: String,
    pub format: &'static str,
    pub ignored_columns: String,
    /// Confirmed months among `periods`, joined.
    pub confirmed: String,
}

#[derive(Template)]
#[template(path = "revenue_tax_import.html")]
struct ImportPage {
    chrome: Chrome,
    done: Option<Done>,
    already: Option<TaxImportRow>,
    sheet_error: Option<String>,
    cells: Vec<CellError>,
    total_errors: usize,
    imports: Vec<TaxImportRow>,
    max_rows: usize,
    withdrawn: Option<WithdrawnImport>,
    /// Why a withdrawal was refused.
    withdraw_error: Option<String>,
}

async fn import_page(
    state: &AppState,
    me: &CurrentUser,
    outcome: Option<TaxOutcome>,
    withdrawal: Option<Result<WithdrawnImport, String>>,
) -> Result<Response, PageError> {
    let mut page = ImportPage {
        chrome: Chrome::new(me, "/revenue/tax", "导入税收台账"),
        done: None,
        already: None,
        sheet_error: None,
        cells: Vec::new(),
        total_errors: 0,
        imports: state.store.tax_imports(&me.scope, 20).await?,
        max_rows: MAX_ROWS,
        withdrawn: None,
        withdraw_error: None,
    };
    match withdrawal {
        Some(Ok(w)) => page.withdrawn = Some(w),
        Some(Err(m)) => page.withdraw_error = Some(m),
        None => {}
    }
    let bad = matches!(outcome, Some(TaxOutcome::Refused { .. }));
    match outcome {
        None => {}
        Some(TaxOutcome::Imported { import_id, rows, total_fen, periods, format, ignored_columns, confirmed }) => {
            page.done = Some(Done {
                import_id,
                rows,
                total_fen,
                periods: periods.join("、"),
                format,
                ignored_columns: ignored_columns.join("、"),
                confirmed: confirmed.join("、"),
            });
        }
        Some(TaxOutcome::AlreadyImported { import }) => page.already = Some(import),
        Some(TaxOutcome::Refused { sheet_error, cells }) => {
            page.sheet_error = sheet_error;
            page.total_errors = cells.len();
            page.cells = cells.into_iter().take(1000).collect();
        }
    }
    let refused_withdrawal = page.withdraw_error.is_some();
    let mut resp = render(&page)?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    if refused_withdrawal {
        *resp.status_mut() = StatusCode::CONFLICT;
    }
    Ok(resp)
}

/// Withdraws a whole import (button with confirmation on the import page); the page then says what
/// was taken out and which unconfirmed settlements must be drafted again, or why nothing changed.
pub async fn withdraw(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let withdrawal = match state.store.withdraw_tax_import(&me.actor(), &me.scope, id, state.now()).await {
        Ok(w) => Ok(w),
        Err(StoreError::Conflict(m)) => Err(m),
        Err(e) => return Err(AppError::from(e).into()),
    };
    import_page(&state, &me, None, Some(withdrawal)).await
}

pub async fn import_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
) -> Result<Response, PageError> {
    import_page(&state, &me, None, None).await
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (file, encoding) = read_upload(mp).await?;
    let Some((bytes, name)) = file else {
        let refused =
            TaxOutcome::Refused { sheet_error: Some("请选择要导入的文件".into()), cells: Vec::new() };
        return import_page(&state, &me, Some(refused), None).await;
    };
    let outcome = run(&state, &me, bytes, &name, encoding).await?;
    import_page(&state, &me, Some(outcome), None).await
}

#[derive(Deserialize, Default, Clone)]
pub struct TaxQuery {
    /// "2022-01".
    pub period: Option<String>,
    pub q: Option<String>,
    pub enterprise: Option<i64>,
    pub import: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl TaxQuery {
    pub fn filter(&self) -> Result<LedgerFilter, AppError> {
        let period = nonempty(&self.period)
            .map(|p| Period::parse(&p))
            .transpose()
            .map_err(|e| AppError::BadRequest(e.message))?;
        let q = nonempty(&self.q);
        if q.as_ref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::BadRequest("搜索内容不能超过 60 个字符".into()));
        }
        Ok(LedgerFilter { period, enterprise_id: self.enterprise, q, import_id: self.import })
    }
}

/// 收入 / 退还.
pub fn voucher_label(code: &str) -> &'static str {
    if code == "refund" { "退还" } else { "收入" }
}

/// "30%", or — when the sheet gave none.
pub fn share_label(bp: &Option<i64>) -> String {
    bp.and_then(|b| u32::try_from(b).ok())
        .and_then(|b| RetainedShare::from_basis_points(b).ok())
        .map_or_else(|| "—".into(), |s| s.to_string())
}

#[derive(Template)]
#[template(path = "revenue_tax.html")]
struct LedgerPage {
    chrome: Chrome,
    rows: Page<LedgerRow>,
    pager: Pager,
    totals: Vec<PeriodTotal>,
    /// The total of what the filter selects.
    selected_fen: i64,
    q: TaxQuery,
    /// The query without `period`, for the links of the totals table.
    without_period: String,
    can_import: bool,
}

pub async fn ledger(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<TaxQuery>,
) -> Result<Response, PageError> {
    let f = q.filter()?;
    let (page, per_page) = paging(q.page, q.per_page);
    let rows = state.store.list_tax_ledger(&me.scope, &f, page, per_page).await?;
    let totals = state.store.tax_totals(&me.scope, &f).await?;
    let period = f.period.map(|p| p.to_string());
    let selected_fen = totals
        .iter()
        .filter(|t| period.as_ref().is_none_or(|p| *p == t.period))
        .try_fold(0i64, |s, t| s.checked_add(t.total_fen))
        .ok_or_else(|| AppError::Internal("ledger total overflows".into()))?;
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let n = |o: Option<i64>| o.map(|v| v.to_string()).unwrap_or_default();
    let (enterprise, import) = (n(q.enterprise), n(q.import));
    let without_period = query_string(&[("q", &s(&q.q)), ("enterprise", &enterprise), ("import", &import)]);
    let base = query_string(&[
        ("period", &period.unwrap_or_default()),
        ("q", &s(&q.q)),
        ("enterprise", &enterprise),
        ("import", &import),
    ]);
    render(&LedgerPage {
        chrome: Chrome::new(&me, "/revenue/tax", "税收台账"),
        pager: Pager::new(&rows, base),
        rows,
        totals,
        selected_fen,
        q,
        without_period,
        can_import: permits(me.user.role, Permission::ImportTaxLedger),
    })
}
