//! Bytes of an uploaded CSV → text → records, for the tax ledger import.
//!
//! Tax-system exports are GBK with CRLF line ends (samples/README.md); spreadsheets saved by hand are
//! often UTF-8, with or without a byte-order mark. The user may declare the encoding or leave it to
//! detection. A file whose bytes contradict the declaration is refused with a message saying which
//! encoding it appears to be: decoding it anyway would import mojibake (乱码) as enterprise names.

use std::borrow::Cow;

use super::RevenueError;

/// The encoding a text was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    Utf8,
    /// GBK (decoded as its superset GB 18030, as the WHATWG Encoding Standard does).
    Gbk,
}

/// The encoding the user chose on upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeclaredEncoding {
    /// 自动识别: UTF-8 when the bytes are valid UTF-8, otherwise GBK.
    #[default]
    Auto,
    Utf8,
    Gbk,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn gbk(bytes: &[u8]) -> Option<Cow<'_, str>> {
    encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
}

fn checked(text: &str) -> Result<(), RevenueError> {
    if text.contains('\u{FFFD}') {
        return Err(RevenueError::new("文件中含有替换字符“\u{FFFD}”，可能已被错误转码，请从税务系统重新导出"));
    }
    Ok(())
}

/// Decodes an uploaded file; see the module docs. Byte-order marks are removed.
pub fn decode(bytes: &[u8], declared: DeclaredEncoding) -> Result<(String, TextEncoding), RevenueError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(RevenueError::new(
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”），请另存为 CSV（UTF-8 或 GBK）或 xlsx 后导入",
        ));
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        if declared == DeclaredEncoding::Gbk {
            return Err(RevenueError::new("文件带有 UTF-8 标记，但选择的编码是 GBK，请选择 UTF-8 或自动识别"));
        }
        let text = std::str::from_utf8(rest).map_err(|e| {
            RevenueError::new(format!("文件带有 UTF-8 标记，但第 {} 字节起不是有效的 UTF-8", e.valid_up_to() + 4))
        })?;
        checked(text)?;
        return Ok((text.to_owned(), TextEncoding::Utf8));
    }
    let utf8 = std::str::from_utf8(bytes);
    let (text, encoding) = match (declared, utf8) {
        (DeclaredEncoding::Auto | DeclaredEncoding::Utf8, Ok(text)) => (text.to_owned(), TextEncoding::Utf8),
        (DeclaredEncoding::Gbk, Ok(text)) if !text.is_ascii() => {
            return Err(RevenueError::new(
                "文件看起来是 UTF-8 编码，但选择的编码是 GBK，按 GBK 读取会成为乱码，请选择 UTF-8 或自动识别",
            ));
        }
        (DeclaredEncoding::Utf8, Err(e)) => {
            return Err(RevenueError::new(match gbk(bytes) {
                Some(_) => "文件不是 UTF-8 编码，看起来是 GBK 编码（税务系统导出的 CSV 通常如此），请选择 GBK 或自动识别后重新导入"
                    .to_owned(),
                None => format!("文件不是有效的 UTF-8 文本（第 {} 字节起无法识别）", e.valid_up_to() + 1),
            }));
        }
        (DeclaredEncoding::Auto | DeclaredEncoding::Gbk, _) => match gbk(bytes) {
            Some(text) => (text.into_owned(), TextEncoding::Gbk),
            None if declared == DeclaredEncoding::Gbk => {
                return Err(RevenueError::new("文件不是有效的 GBK 文本，请确认文件编码"));
            }
            None => {
                return Err(RevenueError::new(
                    "无法识别文件编码（既不是 UTF-8 也不是 GBK），请另存为 UTF-8 的 CSV 或 xlsx",
                ));
            }
        },
    };
    checked(&text)?;
    Ok((text, encoding))
}

/// Reads CSV text (RFC 4180): fields separated by commas — or by tabs when the first line has tabs
/// and no comma — quoted with `"` where they contain separators, quotes (doubled) or line breaks;
/// records end at CRLF, LF or CR. An empty line is a record of one empty field, so record *i* is
/// spreadsheet row *i* + 1. A quote inside an unquoted field is kept as a character, as spreadsheet
/// programs do; a quoted field must be followed by a separator or a line end.
pub fn read_csv(text: &str) -> Result<Vec<Vec<String>>, RevenueError> {
    let first_line = text.split(['\r', '\n']).next().unwrap_or("");
    let sep = if first_line.contains('\t') && !first_line.contains(',') { '\t' } else { ',' };
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if at_field_start && c == '"' {
            let row = records.len() + 1;
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(other) => field.push(other),
                    None => return Err(RevenueError::new(format!("CSV 第 {row} 行：引号没有结束"))),
                }
            }
            match chars.peek() {
                None | Some('\r' | '\n') => {}
                Some(&next) if next == sep => {}
                Some(_) => return Err(RevenueError::new(format!("CSV 第 {row} 行：引号结束后应为分隔符或换行"))),
            }
            at_field_start = false;
            continue;
        }
        at_field_start = false;
        if c == sep {
            record.push(std::mem::take(&mut field));
            at_field_start = true;
        } else if c == '\r' || c == '\n' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            record.push(std::mem::take(&mut field));
            records.push(std::mem::take(&mut record));
            at_field_start = true;
        } else {
            field.push(c);
        }
    }
    // The last record, unless the text ended with a line break.
    if !at_field_start || !record.is_empty() || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encode_gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    const TEXT: &str = "纳税人名称,实缴金额\r\n沂水县鑫源食品有限公司,73857.60\r\n";

    fn rows(text: &str) -> Vec<Vec<String>> {
        read_csv(text).unwrap()
    }

    fn r(cells: &[&[&str]]) -> Vec<Vec<String>> {
        cells.iter().map(|row| row.iter().map(|c| (*c).to_owned()).collect()).collect()
    }

    #[test]
    fn decodes_utf8_with_and_without_bom_and_gbk() {
        let plain = decode(TEXT.as_bytes(), DeclaredEncoding::Auto).unwrap();
        assert_eq!(plain, (TEXT.to_owned(), TextEncoding::Utf8));
        let with_bom = [UTF8_BOM, TEXT.as_bytes()].concat();
        assert_eq!(decode(&with_bom, DeclaredEncoding::Utf8).unwrap(), (TEXT.to_owned(), TextEncoding::Utf8));
        assert_eq!(decode(&with_bom, DeclaredEncoding::Auto).unwrap().0, TEXT);
        let gbk_bytes = encode_gbk(TEXT);
        assert_ne!(gbk_bytes, TEXT.as_bytes());
        assert_eq!(decode(&gbk_bytes, DeclaredEncoding::Auto).unwrap(), (TEXT.to_owned(), TextEncoding::Gbk));
        assert_eq!(decode(&gbk_bytes, DeclaredEncoding::Gbk).unwrap(), (TEXT.to_owned(), TextEncoding::Gbk));
        // Plain ASCII is both; declaring GBK is then fine.
        assert_eq!(decode(b"a,b\r\n", DeclaredEncoding::Gbk).unwrap().0, "a,b\r\n");
    }

    #[test]
    fn reports_a_declaration_that_contradicts_the_bytes() {
        let gbk_as_utf8 = decode(&encode_gbk(TEXT), DeclaredEncoding::Utf8).map_err(|e| e.message);
        assert_eq!(
            gbk_as_utf8,
            Err("文件不是 UTF-8 编码，看起来是 GBK 编码（税务系统导出的 CSV 通常如此），请选择 GBK 或自动识别后重新导入".to_owned())
        );
        let utf8_as_gbk = decode(TEXT.as_bytes(), DeclaredEncoding::Gbk).map_err(|e| e.message);
        assert!(utf8_as_gbk.is_err_and(|m| m.starts_with("文件看起来是 UTF-8 编码，但选择的编码是 GBK")));
        let bom_as_gbk = decode(&[UTF8_BOM, b"a"].concat(), DeclaredEncoding::Gbk);
        assert!(bom_as_gbk.is_err_and(|e| e.message.contains("UTF-8 标记")));
    }

    #[test]
    fn refuses_undecodable_and_already_garbled_files() {
        let junk = b"a,\xFF\xFF\xFF";
        assert!(decode(junk, DeclaredEncoding::Auto).is_err_and(|e| e.message.starts_with("无法识别文件编码")));
        assert!(decode(junk, DeclaredEncoding::Gbk).is_err_and(|e| e.message.starts_with("文件不是有效的 GBK")));
        assert!(
            decode(junk, DeclaredEncoding::Utf8)
                .is_err_and(|e| e.message == "文件不是有效的 UTF-8 文本（第 3 字节起无法识别）")
        );
        assert!(
            decode("名称\u{FFFD}\u{FFFD}".as_bytes(), DeclaredEncoding::Auto)
                .is_err_and(|e| e.message.contains("错误转码"))
        );
        assert!(decode(b"\xFF\xFEa\x00", DeclaredEncoding::Auto).is_err_and(|e| e.message.contains("UTF-16")));
    }

    #[test]
    fn reads_quotes_escaped_quotes_and_line_ends() {
        let text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\r\nline\",,x\n1,2,3\r4,5,6";
        assert_eq!(
            rows(text),
            r(&[&["a", "b,c", "say \"hi\""], &["multi\r\nline", "", "x"], &["1", "2", "3"], &["4", "5", "6"]])
        );
        assert_eq!(rows("a,b\r\n"), r(&[&["a", "b"]]));
        assert_eq!(rows("a,b\r\n\r\nc,d"), r(&[&["a", "b"], &[""], &["c", "d"]]));
        assert_eq!(rows("a,\r\n"), r(&[&["a", ""]]));
        assert_eq!(rows("\"\""), r(&[&[""]]));
        assert_eq!(rows(""), Vec::<Vec<String>>::new());
        assert_eq!(rows("5\"x,y"), r(&[&["5\"x", "y"]]));
        assert_eq!(rows("a\tb,c\td"), r(&[&["a\tb", "c\td"]]));
        assert_eq!(rows("a\tb\r\n1\t2"), r(&[&["a", "b"], &["1", "2"]]));
    }

    #[test]
    fn reports_broken_quoting_with_the_row() {
        assert_eq!(read_csv("a,b\r\n\"open,x").map_err(|e| e.message), Err("CSV 第 2 行：引号没有结束".to_owned()));
        assert_eq!(
            read_csv("\"a\"b,c").map_err(|e| e.message),
            Err("CSV 第 1 行：引号结束后应为分隔符或换行".to_owned())
        );
    }

    proptest::proptest! {
        #[test]
        fn written_records_read_back(records in proptest::collection::vec(proptest::collection::vec("[a-c,\"\r\n 中]{0,4}", 1..4), 1..5)) {
            let quote = |f: &String| format!("\"{}\"", f.replace('"', "\"\""));
            let text: String = records.iter().map(|r| r.iter().map(quote).collect::<Vec<_>>().join(",") + "\r\n").collect();
            proptest::prop_assert_eq!(read_csv(&text).unwrap(), records);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            if let Ok((text, _)) = decode(&bytes, DeclaredEncoding::Auto) {
                let _ = read_csv(&text);
            }
        }
    }
}
