//! Excel export with Chinese headers, a frozen header row and proper column widths.

use crate::error::AppError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};

/// One cell value.
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    /// A decimal number given as text ("1200.5"), written as a number.
    Decimal(String),
    /// Epoch milliseconds of a Beijing-time midnight, written as an Excel date.
    Date(i64),
    /// Epoch milliseconds, written as a real Excel date-time in Beijing time.
    Time(i64),
}

/// Builds a one-sheet workbook.
pub fn workbook<'a>(
    sheet: &'a str,
    headers: &'a [(&'a str, f64)],
    rows: impl Iterator<Item = Vec<Cell>> + 'a,
) -> Result<Vec<u8>, AppError> {
    workbook_sheets(vec![Sheet { name: sheet, headers, rows: Box::new(rows) }])
}

/// One sheet of a workbook, its rows produced as they are written.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub headers: &'a [(&'a str, f64)],
    pub rows: Box<dyn Iterator<Item = Vec<Cell>> + 'a>,
}

/// Builds a workbook of several sheets, in order.
pub fn workbook_sheets(sheets: Vec<Sheet<'_>>) -> Result<Vec<u8>, AppError> {
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    for sheet in sheets {
        // Rows stream to a temporary file with strings written inline: a 10⁵-row export needs neither
        // the whole sheet in memory nor a shared-strings table.
        let ws = wb.add_worksheet_with_constant_memory().map_err(xe)?;
        ws.set_name(sheet.name).map_err(xe)?;
        write_sheet(ws, sheet.headers, sheet.rows)?;
    }
    wb.save_to_buffer().map_err(xe)
}

fn write_sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    headers: &[(&str, f64)],
    rows: impl Iterator<Item = Vec<Cell>>,
) -> Result<(), AppError> {
    let xe = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let head = Format::new().set_bold().set_background_color("#E8EEF7");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let serial = |ms: i64| (ms + 8 * 3_600_000) as f64 / 86_400_000.0 + 25_569.0;
    for (c, (title, width)) in headers.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, *title, &head).map_err(xe)?;
        ws.set_column_width(c, *width).map_err(xe)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xe)?;
    for (r, row) in rows.enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                Cell::Int(n) => ws.write_number(r, c, n as f64).map(|_| ()),
                Cell::Float(f) => ws.write_number(r, c, f).map(|_| ()),
                Cell::Decimal(d) => match d.parse::<f64>() {
                    Ok(f) => ws.write_number(r, c, f).map(|_| ()),
                    Err(_) => ws.write_string(r, c, d).map(|_| ()),
                },
                // Excel serial days from 1899-12-30, in local (UTC+8) time.
                Cell::Date(ms) => ws.write_number_with_format(r, c, serial(ms), &day).map(|_| ()),
                Cell::Time(ms) => ws.write_number_with_format(r, c, serial(ms), &when).map(|_| ()),
            }
            .map_err(xe)?;
        }
    }
    Ok(())
}

/// The HTTP response of a download.
pub fn download(bytes: Vec<u8>, filename_ascii: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename_ascii}\"")),
        ],
        bytes,
    )
        .into_response()
}
