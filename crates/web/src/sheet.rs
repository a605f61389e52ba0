//! Reading an uploaded .xlsx sheet into rows of text, streaming cell by cell so that a huge sheet is
//! refused at its row limit instead of being held in memory whole.

use calamine::{DataRef, Reader, Xlsx, open_workbook_from_rs};
use std::io::Cursor;

/// A sheet as text: the header row and the data rows, with their 1-based row numbers in Excel.
#[derive(Debug, Default)]
pub struct Sheet {
    /// 1-based Excel row number of the header (the first row with a value).
    pub header_row: u32,
    pub headers: Vec<String>,
    pub rows: Vec<(u32, Vec<String>)>,
}

/// Excel serial day of 1970-01-01 (the 1900 date system, with its leap-year bug folded in).
const UNIX_EPOCH_SERIAL: f64 = 25_569.0;

/// A cell as the text a person sees. Dates become "YYYY-MM-DD"; whole numbers lose their ".0"; a
/// formula contributes its cached value.
fn text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) => s.trim().to_string(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        DataRef::DateTime(d) => {
            let ms = ((d.as_f64() - UNIX_EPOCH_SERIAL) * 86_400_000.0).round() as i64 - 8 * 3_600_000;
            dianxiaoer_core::when::format_date(ms)
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.chars().take(10).collect(),
        DataRef::Error(e) => format!("#错误:{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// Reads the first sheet. `max_rows` data rows at most; more is an error naming the limit.
pub fn read_first_sheet(bytes: Vec<u8>, max_rows: usize) -> Result<Sheet, String> {
    if !bytes.starts_with(b"PK") {
        return Err("文件不是 .xlsx 格式的 Excel 工作簿（如为 .xls 或 .csv，请在 Excel 中另存为 .xlsx）".into());
    }
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| format!("无法读取该 Excel 文件：{e}"))?;
    let name = wb.sheet_names().first().cloned().ok_or("工作簿中没有工作表")?;
    let mut reader = wb.worksheet_cells_reader(&name).map_err(|e| format!("无法读取工作表“{name}”：{e}"))?;
    let mut grid: Vec<(u32, Vec<String>)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(|e| format!("工作表内容损坏：{e}"))? {
        let (r, c) = cell.get_position();
        let value = text(cell.get_value());
        if value.is_empty() {
            continue;
        }
        if grid.last().is_none_or(|(row, _)| *row != r) {
            if grid.len() > max_rows {
                return Err(format!("数据超过 {max_rows} 行，请拆分为多个文件分批导入"));
            }
            grid.push((r, Vec::new()));
        }
        if let Some((_, cells)) = grid.last_mut() {
            let c = c as usize;
            if cells.len() <= c {
                cells.resize(c + 1, String::new());
            }
            cells[c] = value;
        }
    }
    let mut rows = grid.into_iter();
    let Some((header_row, headers)) = rows.next() else {
        return Err("工作表是空的".into());
    };
    Ok(Sheet { header_row: header_row + 1, headers, rows: rows.map(|(r, cells)| (r + 1, cells)).collect() })
}

/// Matches a sheet's header row against `columns` — (field, header, required) — by header text, in any
/// order; a trailing `*` (the template's required mark) and spaces are ignored. Refuses a column given
/// twice, names every required column missing, and refuses a sheet without data rows. Returns
/// (column index, field) for each recognised column.
pub fn map_columns(
    sheet: &Sheet,
    columns: &[(&'static str, &'static str, bool)],
) -> Result<Vec<(usize, &'static str)>, String> {
    let clean = |h: &str| h.trim().trim_end_matches(['*', '＊']).trim().to_string();
    let mut index: Vec<(usize, &'static str)> = Vec::new();
    for (i, h) in sheet.headers.iter().enumerate() {
        if let Some(c) = columns.iter().find(|c| c.1 == clean(h)) {
            if index.iter().any(|(_, f)| *f == c.0) {
                return Err(format!("列“{}”出现了两次", c.1));
            }
            index.push((i, c.0));
        }
    }
    let missing: Vec<&str> =
        columns.iter().filter(|c| c.2 && !index.iter().any(|(_, f)| *f == c.0)).map(|c| c.1).collect();
    if !missing.is_empty() {
        return Err(format!("缺少必填列：{}（请使用下载的模板，表头在第 1 行）", missing.join("、")));
    }
    if sheet.rows.is_empty() {
        return Err("表中没有数据行".into());
    }
    Ok(index)
}

/// Normalises a typed date ("2015/3/2", "2015.03.02", "2015年3月2日", "20150302") to "YYYY-MM-DD";
/// anything else is returned unchanged for the parser to refuse.
pub fn normalise_date(raw: &str) -> String {
    let t = raw.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]);
    }
    let parts: Vec<&str> = t.split(['/', '.', '-', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [y, m, d] if [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) && y.len() == 4 => {
            format!("{y}-{:0>2}-{:0>2}", m, d)
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn normalises_the_dates_people_type() {
        for d in ["2015/3/2", "2015.03.02", "2015年3月2日", "20150302", "2015-3-2"] {
            assert_eq!(normalise_date(d), "2015-03-02", "{d}");
        }
        assert_eq!(normalise_date("三月"), "三月");
    }

    fn workbook(rows: usize) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..=rows {
            ws.write_string(r as u32, 0, format!("r{r}")).unwrap();
            ws.write_number(r as u32, 2, r as f64).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn stops_at_the_row_limit() {
        let err = read_first_sheet(workbook(11), 10).unwrap_err();
        assert!(err.contains("超过 10 行"), "{err}");
        let ok = read_first_sheet(workbook(10), 10).unwrap();
        assert_eq!(ok.rows.len(), 10);
        assert_eq!(ok.header_row, 1);
        assert_eq!(
            ok.rows[0],
            (2, vec!["r1".to_string(), String::new(), "1".to_string()]),
            "Excel row numbers, gaps kept"
        );
    }

    #[test]
    fn refuses_what_is_not_xlsx() {
        assert!(read_first_sheet(b"name,code\n".to_vec(), 10).is_err());
        assert!(read_first_sheet(b"PK\x03\x04garbage".to_vec(), 10).is_err());
    }
}
