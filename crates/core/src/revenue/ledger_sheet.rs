//! The tax ledger sheet: records of a tax-bureau export → [`TaxRow`]s.
//!
//! Columns are found by header, not position: exports differ from county to county in order and in
//! the columns they carry (samples/README.md), so each column accepts the tax system's own header and
//! common aliases, required ones that are missing are named, and unknown ones are ignored. Every bad
//! cell is reported (row, header, value, reason), not just the first, so a user fixes a file in one go;
//! the caller imports nothing unless there is no error (DESIGN.md principle 8).
//!
//! The same mapping serves CSV ([`read_csv_ledger`]) and xlsx rows read by the web layer
//! ([`parse_records`] or [`parse_rows`]), with cells given as text (dates as "2022-01-31").

use std::collections::HashMap;
use std::fmt;

use crate::credit_code::CreditCode;
use crate::money::Fen;

use super::period::TaxPeriod;
use super::sheet_text::{DeclaredEncoding, TextEncoding, decode, read_csv};
use super::tax::{RetainedShare, TaxRow, TaxType, VoucherKind};
use super::{RevenueError, shown};

/// A column the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    CreditCode,
    TaxpayerName,
    TaxType,
    TaxItem,
    PeriodStart,
    PeriodEnd,
    /// One cell with the whole tax period, e.g. "2022-01-01至2022-01-31" or "2022-01".
    Period,
    Amount,
    RetainedShare,
    VoucherKind,
    /// 入库日期: only part of the duplicate key.
    ReceivedOn,
    /// 电子税票号码: only part of the duplicate key.
    Ticket,
}

/// Each column with the headers that name it, the tax system's own first. Headers are compared without
/// spaces and with full-width parentheses made half-width.
const COLUMNS: [(Column, &[&str]); 12] = [
    (
        Column::CreditCode,
        &["纳税人识别号", "统一社会信用代码", "社会信用代码", "纳税人识别号(统一社会信用代码)", "税号"],
    ),
    (Column::TaxpayerName, &["纳税人名称", "企业名称", "单位名称"]),
    (Column::TaxType, &["征收项目", "征收项目名称", "税种", "税种名称"]),
    (Column::TaxItem, &["征收品目", "征收品目名称", "品目"]),
    (Column::PeriodStart, &["税款所属期起", "所属期起", "税款所属期始", "所属期始", "所属期起始日期"]),
    (Column::PeriodEnd, &["税款所属期止", "所属期止", "税款所属期终", "所属期终", "所属期止日期"]),
    (Column::Period, &["税款所属期", "所属期", "所属期间", "所属月份", "所属时期"]),
    (
        Column::Amount,
        &["实缴金额", "实缴金额(元)", "实缴税额", "实缴税额(元)", "入库金额", "入库税额", "金额", "税额", "金额(元)"],
    ),
    (Column::RetainedShare, &["预算分配比例", "分配比例", "预算级次分配比例"]),
    (Column::VoucherKind, &["票证种类", "票种", "票证种类名称", "凭证种类"]),
    (Column::ReceivedOn, &["入库日期", "入库时间"]),
    (Column::Ticket, &["电子税票号码", "税票号码", "票证号码", "凭证号码"]),
];

fn aliases(column: Column) -> &'static [&'static str] {
    COLUMNS.iter().find(|(c, _)| *c == column).map_or(&[], |(_, a)| a)
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

/// One bad cell (or, with column 整行, a whole duplicate row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// Spreadsheet row number.
    pub row: usize,
    /// The header as written in the sheet.
    pub column: String,
    /// The cell's value, shortened.
    pub value: String,
    pub message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 行“{}”列“{}”：{}", self.row, self.column, self.value, self.message)
    }
}

/// Why a sheet could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    /// Undecodable bytes or broken CSV quoting.
    #[error("{0}")]
    Text(RevenueError),
    /// Required columns absent: each with the headers accepted for it.
    #[error("缺少必需的列：{}", .0.iter().map(|(c, a)| format!("{c}（可用表头：{}）", a.join("、"))).collect::<Vec<_>>().join("；"))]
    MissingColumns(Vec<(&'static str, Vec<&'static str>)>),
    #[error("表头“{0}”出现了多次，无法确定使用哪一列")]
    DuplicateHeader(String),
    #[error("表格中没有数据行")]
    NoData,
    #[error("{} 处错误，第一处：{}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Cells(Vec<CellError>),
}

/// A parsed ledger sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSheet {
    pub rows: Vec<TaxRow>,
    /// Spreadsheet row number of the header.
    pub header_row: usize,
    /// Headers present but not used, so the page can say what was ignored.
    pub ignored_columns: Vec<String>,
    /// For CSV: the encoding detected or declared.
    pub encoding: Option<TextEncoding>,
}

/// Decodes, reads and parses an uploaded CSV export.
pub fn read_csv_ledger(bytes: &[u8], declared: DeclaredEncoding) -> Result<LedgerSheet, SheetError> {
    let (text, encoding) = decode(bytes, declared).map_err(SheetError::Text)?;
    let records = read_csv(&text).map_err(SheetError::Text)?;
    let mut sheet = parse_records(records)?;
    sheet.encoding = Some(encoding);
    Ok(sheet)
}

/// Finds the header among the first 20 records — exports may put a title or the query conditions above
/// it — as the first that names both the credit-code and the amount column; failing that, the first
/// non-blank record, so the missing columns are named from it. Then parses the rows below it.
pub fn parse_records(records: Vec<Vec<String>>) -> Result<LedgerSheet, SheetError> {
    let names = |column| aliases(column).iter().map(|a| normalise(a)).collect::<Vec<_>>();
    let (codes, amounts) = (names(Column::CreditCode), names(Column::Amount));
    let has = |record: &Vec<String>, wanted: &[String]| record.iter().any(|h| wanted.contains(&normalise(h)));
    let is_blank = |record: &Vec<String>| record.iter().all(|c| c.trim().is_empty());
    let index = records
        .iter()
        .take(20)
        .position(|r| has(r, &codes) && has(r, &amounts))
        .or_else(|| records.iter().position(|r| !is_blank(r)))
        .ok_or(SheetError::NoData)?;
    let mut records = records.into_iter().skip(index);
    let headers = records.next().unwrap_or_default();
    let rows: Vec<Vec<String>> = records.collect();
    parse_rows(&headers, &rows, index + 1)
}

/// Maps the headers to columns; see the module docs.
fn map_headers(headers: &[String]) -> Result<(HashMap<Column, usize>, Vec<String>), SheetError> {
    let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
    let mut map = HashMap::new();
    for (column, names) in COLUMNS {
        let found = names.iter().find_map(|name| {
            let name = normalise(name);
            let mut at = normalised.iter().enumerate().filter(|(_, h)| **h == name).map(|(i, _)| i);
            let first = at.next()?;
            let repeated = at.next().is_some();
            Some((first, repeated, name))
        });
        if let Some((index, repeated, name)) = found {
            if repeated {
                return Err(SheetError::DuplicateHeader(name));
            }
            map.insert(column, index);
        }
    }
    let mut missing: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for column in [Column::CreditCode, Column::TaxType, Column::Amount] {
        if !map.contains_key(&column) {
            let names = aliases(column);
            missing.push((names.first().copied().unwrap_or_default(), names.to_vec()));
        }
    }
    if !map.contains_key(&Column::PeriodEnd) && !map.contains_key(&Column::Period) {
        let names: Vec<&'static str> = [aliases(Column::PeriodEnd), aliases(Column::Period)].concat();
        missing.push(("税款所属期止（或 税款所属期）", names));
    }
    if !missing.is_empty() {
        return Err(SheetError::MissingColumns(missing));
    }
    let used: Vec<usize> = map.values().copied().collect();
    let ignored = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.trim().is_empty())
        .map(|(_, h)| h.trim().to_owned())
        .collect();
    Ok((map, ignored))
}

/// Parses data rows under `headers`; `header_row` is the spreadsheet row number of the header, so the
/// first data row is `header_row + 1`. Blank rows and totals rows (first non-blank cell 合计, 总计 or
/// 小计) are skipped; a row with the [`TaxRow::duplicate_key`] of an earlier one is reported.
pub fn parse_rows(headers: &[String], rows: &[Vec<String>], header_row: usize) -> Result<LedgerSheet, SheetError> {
    let (map, ignored_columns) = map_headers(headers)?;
    let mut errors: Vec<CellError> = Vec::new();
    let mut parsed: Vec<TaxRow> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (offset, cells) in rows.iter().enumerate() {
        let row = header_row + 1 + offset;
        let first = cells.iter().map(|c| c.trim()).find(|c| !c.is_empty());
        let Some(first) = first else { continue };
        if ["合计", "总计", "小计"].iter().any(|t| first.starts_with(t)) {
            continue;
        }
        let cell = |column: Column| map.get(&column).map(|&i| cells.get(i).map_or("", |c| c.trim()));
        let header =
            |column: Column| map.get(&column).and_then(|&i| headers.get(i)).map_or("", |h| h.trim()).to_owned();
        let mut bad = |column: Column, value: &str, message: String| {
            errors.push(CellError { row, column: header(column), value: shown(value), message });
        };
        let Some(tax_row) = parse_row(row, &cell, &mut bad) else { continue };
        let key = tax_row.duplicate_key();
        if let Some(first_row) = seen.get(&key) {
            errors.push(CellError {
                row,
                column: "整行".to_owned(),
                value: String::new(),
                message: format!(
                    "与第 {first_row} 行重复（纳税人、征收项目、品目、所属期、入库日期、金额、票证种类均相同）"
                ),
            });
            continue;
        }
        seen.insert(key, row);
        parsed.push(tax_row);
    }
    if !errors.is_empty() {
        return Err(SheetError::Cells(errors));
    }
    if parsed.is_empty() {
        return Err(SheetError::NoData);
    }
    Ok(LedgerSheet { rows: parsed, header_row, ignored_columns, encoding: None })
}

/// Parses one non-blank row, reporting each bad cell through `bad`; `None` if any was bad.
fn parse_row<'a>(
    row: usize,
    cell: &dyn Fn(Column) -> Option<&'a str>,
    bad: &mut dyn FnMut(Column, &str, String),
) -> Option<TaxRow> {
    let text = |column| cell(column).unwrap_or("");
    let optional = |column| Some(text(column)).filter(|s| !s.is_empty()).map(str::to_owned);

    let code_cell = text(Column::CreditCode);
    // Exports write codes as ="…" or with a leading apostrophe so that spreadsheets keep them as text.
    let code_text = code_cell.strip_prefix("=\"").and_then(|c| c.strip_suffix('"')).unwrap_or(code_cell);
    let code_text = code_text.strip_prefix('\'').unwrap_or(code_text);
    let credit_code = CreditCode::parse(code_text).map_err(|e| bad(Column::CreditCode, code_cell, e.message)).ok();

    let tax_type =
        TaxType::parse(text(Column::TaxType)).map_err(|e| bad(Column::TaxType, text(Column::TaxType), e.message)).ok();

    let tax_period = match (cell(Column::PeriodStart), cell(Column::PeriodEnd)) {
        (start, Some(end)) => {
            // A blank start means the end's month alone.
            let start = start.filter(|s| !s.is_empty());
            let ok_start =
                start.is_none_or(|s| TaxPeriod::parse(s).map_err(|e| bad(Column::PeriodStart, s, e.message)).is_ok());
            let ok_end = TaxPeriod::parse(end).map_err(|e| bad(Column::PeriodEnd, end, e.message)).is_ok();
            let start = start.unwrap_or(end);
            (ok_start && ok_end)
                .then(|| TaxPeriod::from_columns(start, end))
                .and_then(|r| r.map_err(|e| bad(Column::PeriodEnd, &format!("{start} 至 {end}"), e.message)).ok())
        }
        _ => TaxPeriod::parse(text(Column::Period))
            .map_err(|e| bad(Column::Period, text(Column::Period), e.message))
            .ok(),
    };

    let voucher_kind = VoucherKind::parse(text(Column::VoucherKind));
    let amount_text = text(Column::Amount);
    let amount = match Fen::parse_yuan(amount_text) {
        Ok(a) if voucher_kind == VoucherKind::Refund && a.is_negative() => {
            bad(Column::Amount, amount_text, "退还书的金额应为正数（导入时按负数计入）".to_owned());
            None
        }
        Ok(a) if voucher_kind == VoucherKind::Refund => Some(Fen::from_fen(-a.fen())),
        Ok(a) => Some(a),
        Err(e) => {
            bad(Column::Amount, amount_text, e.message);
            None
        }
    };

    let retained_share = match optional(Column::RetainedShare) {
        Some(s) => match RetainedShare::parse(&s) {
            Ok(share) => Some(Some(share)),
            Err(e) => {
                bad(Column::RetainedShare, &s, e.message);
                None
            }
        },
        None => Some(None),
    };

    let taxpayer_name = optional(Column::TaxpayerName);
    if let Some(name) = &taxpayer_name
        && (name.chars().count() > 100 || name.chars().any(char::is_control))
    {
        bad(Column::TaxpayerName, name, "纳税人名称不超过 100 个字，且不能含控制字符".to_owned());
        return None;
    }
    let tax_item = optional(Column::TaxItem);
    let (credit_code, tax_type, tax_period, amount, retained_share) =
        (credit_code?, tax_type?, tax_period?, amount?, retained_share?);
    let tax_row = TaxRow {
        row,
        credit_code,
        taxpayer_name,
        tax_type,
        tax_item,
        tax_period,
        period: tax_period.settlement_period(),
        amount,
        retained_share,
        voucher_kind,
        received_on: optional(Column::ReceivedOn),
        ticket: optional(Column::Ticket),
    };
    Some(tax_row)
}

#[cfg(test)]
#[path = "ledger_sheet_tests.rs"]
mod tests;
