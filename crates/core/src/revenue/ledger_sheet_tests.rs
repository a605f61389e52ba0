#![allow(clippy::unwrap_used)]

use super::*;
use crate::revenue::period::Period;

const HEADER: &str = "纳税人识别号,纳税人名称,征收项目,征收品目,税款所属期起,税款所属期止,实缴金额,入库日期,预算科目,预算分配比例,收款国库,主管税务所,街道乡镇,票证种类";
const XINYUAN: &str = "9137132352601815X3";
const RUNDA: &str = "913713239083016633";
const LUSHAN: &str = "91371323082462814R";

/// The shape of the tax bureau's export (samples/README.md), built here: the project's tests do not
/// read ../shared.
fn export(rows: &[&str]) -> String {
    let mut text = String::from(HEADER);
    text.push_str("\r\n");
    for r in rows {
        text.push_str(r);
        text.push_str("\r\n");
    }
    text
}

fn line(code: &str, tax: &str, from: &str, to: &str, amount: &str, ratio: &str, voucher: &str) -> String {
    format!(
        "{code},沂水县鑫源食品有限公司,{tax},国内增值税,{from},{to},{amount},2022-02-08,10101,{ratio},国家金库沂水县支库(3713230000),国家税务总局沂水县税务局第一税务所,许家湖镇,{voucher}"
    )
}

fn vat(code: &str, amount: &str, voucher: &str) -> String {
    line(code, "增值税", "2022-01-01", "2022-01-31", amount, "\"中央50%,省10%,市10%,县30%\"", voucher)
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

fn cell_errors(result: Result<LedgerSheet, SheetError>) -> Vec<(usize, String, String, String)> {
    match result {
        Err(SheetError::Cells(errors)) => errors.into_iter().map(|e| (e.row, e.column, e.value, e.message)).collect(),
        other => vec![(0, String::new(), String::new(), format!("{other:?}"))],
    }
}

fn records(text: &str) -> Vec<Vec<String>> {
    read_csv(text).unwrap()
}

#[test]
fn reads_a_gbk_export_by_its_own_headers() {
    let text = export(&[
        &vat(XINYUAN, "73857.60", "电子缴税付款凭证"),
        &line(XINYUAN, "城镇土地使用税", "2022-01-01", "2022-01-31", "237049.23", "县100%", "电子缴税付款凭证"),
        &vat(RUNDA, "15230.55", "税收收入退还书"),
        &line(
            LUSHAN,
            "企业所得税",
            "2021-10-01",
            "2021-12-31",
            "8800.00",
            "\"中央60%,省8%,市8%,县24%\"",
            "税收收入退还书",
        ),
    ]);
    let sheet = read_csv_ledger(&gbk(&text), DeclaredEncoding::Auto).unwrap();
    assert_eq!(sheet.encoding, Some(TextEncoding::Gbk));
    assert_eq!(sheet.header_row, 1);
    assert_eq!(sheet.ignored_columns, ["预算科目", "收款国库", "主管税务所", "街道乡镇"]);
    let r = &sheet.rows;
    assert_eq!(r.len(), 4);
    assert_eq!(r[0].row, 2);
    assert_eq!(r[0].credit_code.as_str(), XINYUAN);
    assert_eq!(r[0].taxpayer_name.as_deref(), Some("沂水县鑫源食品有限公司"));
    assert_eq!(r[0].tax_type, TaxType::ValueAdded);
    assert_eq!(r[0].tax_item.as_deref(), Some("国内增值税"));
    assert_eq!(r[0].period, Period::parse("2022-01").unwrap());
    assert_eq!(r[0].amount, Fen::from_fen(7_385_760));
    assert_eq!(r[0].retained_share.map(|s| s.to_string()).as_deref(), Some("30%"));
    assert_eq!(r[0].voucher_kind, VoucherKind::Receipt);
    assert_eq!((r[1].tax_type.clone(), r[1].retained_share), (TaxType::LandUse, Some(RetainedShare::FULL)));
    // Refunds: positive in the sheet, negative here.
    assert_eq!((r[2].amount, r[2].voucher_kind), (Fen::from_fen(-1_523_055), VoucherKind::Refund));
    // A quarterly refund keeps its quarter and settles in its last month.
    assert_eq!(r[3].tax_period.to_string(), "2021-10 至 2021-12");
    assert_eq!(r[3].period, Period::parse("2021-12").unwrap());
    assert_eq!(r[3].amount, Fen::from_fen(-880_000));
}

#[test]
fn a_gbk_file_declared_utf8_is_reported_not_garbled() {
    let text = export(&[&vat(XINYUAN, "73857.60", "电子缴税付款凭证")]);
    let e = read_csv_ledger(&gbk(&text), DeclaredEncoding::Utf8).map_err(|e| e.to_string());
    assert!(e.is_err_and(|m| m.starts_with("文件不是 UTF-8 编码，看起来是 GBK 编码")));
    let utf8 = read_csv_ledger(text.as_bytes(), DeclaredEncoding::Utf8).unwrap();
    assert_eq!((utf8.rows.len(), utf8.encoding), (1, Some(TextEncoding::Utf8)));
}

#[test]
fn maps_other_counties_headers_in_any_order() {
    let text = format!(
        "实缴税额（元）,所属期,税种,统一社会信用代码,其他\r\n1 234.5,2022年3月,房产税,{XINYUAN},x\r\n\"1,000.00\",2022-01-01至2022-03-31,城建税,{RUNDA},y\r\n"
    );
    let e = read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto);
    // "1 234.5" is not an amount (spaces are not thousands separators).
    assert_eq!(cell_errors(e)[0].1, "实缴税额（元）");
    let text = text.replace("1 234.5", "1234.5");
    let sheet = read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto).unwrap();
    assert_eq!(sheet.ignored_columns, ["其他"]);
    assert_eq!(sheet.rows[0].amount, Fen::from_fen(123_450));
    assert_eq!(sheet.rows[0].tax_type, TaxType::Property);
    assert_eq!((sheet.rows[0].retained_share, sheet.rows[0].voucher_kind), (None, VoucherKind::Receipt));
    assert_eq!(sheet.rows[1].tax_period.to_string(), "2022-01 至 2022-03");
    assert_eq!(sheet.rows[1].tax_type, TaxType::UrbanMaintenance);
}

#[test]
fn names_every_missing_required_column() {
    let e = parse_records(records("纳税人名称,征收项目,税款所属期起\r\n沂水县鑫源食品有限公司,增值税,2022-01-01\r\n"));
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("缺少必需的列：纳税人识别号（可用表头：纳税人识别号、统一社会信用代码、社会信用代码、纳税人识别号(统一社会信用代码)、税号）；\
             实缴金额（可用表头：实缴金额、实缴金额(元)、实缴税额、实缴税额(元)、入库金额、入库税额、金额、税额、金额(元)）；\
             税款所属期止（或 税款所属期）（可用表头：税款所属期止、所属期止、税款所属期终、所属期终、所属期止日期、税款所属期、所属期、所属期间、所属月份、所属时期）"
            .to_owned())
    );
    let missing = parse_records(records("纳税人识别号,征收项目,实缴金额\r\n"));
    assert!(
        matches!(missing, Err(SheetError::MissingColumns(m)) if m.len() == 1 && m[0].0 == "税款所属期止（或 税款所属期）")
    );
}

#[test]
fn refuses_an_ambiguous_header() {
    let e = parse_records(records("纳税人识别号,征收项目,所属期,实缴金额,实缴金额\r\n"));
    assert_eq!(e, Err(SheetError::DuplicateHeader("实缴金额".to_owned())));
}

#[test]
fn collects_every_bad_cell_with_row_header_value_and_reason() {
    let text = export(&[
        &vat(XINYUAN, "73857.603", "电子缴税付款凭证"),
        &vat("9137132352601815X4", "abc", "电子缴税付款凭证"),
        &line(RUNDA, "", "2022-02-30", "2022-01-31", "1.00", "\"中央50%,县30%\"", "电子缴税付款凭证"),
        &line(RUNDA, "增值税", "2022-03-01", "2022-01-31", "1.00", "县100%", "税收收入退还书"),
        &vat(LUSHAN, "-5.00", "税收收入退还书"),
    ]);
    let errors = cell_errors(read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto));
    let expected: Vec<(usize, &str, &str, &str)> = vec![
        (2, "实缴金额", "73857.603", "金额最多两位小数"),
        (3, "纳税人识别号", "9137132352601815X4", "校验码错误：第18位应为“3”，实际为“4”"),
        (3, "实缴金额", "abc", "金额格式不正确，应为数字，例如 1234.56 或 1,234.56"),
        (4, "征收项目", "", "请填写征收项目"),
        (
            4,
            "税款所属期起",
            "2022-02-30",
            "所属期“2022-02-30”格式不正确，应为年月，例如 2022-01、2022年1月、202201，或所属期 2022-01-01至2022-01-31",
        ),
        (4, "预算分配比例", "中央50%,县30%", "预算分配比例合计应为 100%，实际为 80%"),
        (5, "税款所属期止", "2022-03-01 至 2022-01-31", "所属期起“2022-03-01”晚于所属期止“2022-01-31”"),
        (6, "实缴金额", "-5.00", "退还书的金额应为正数（导入时按负数计入）"),
    ];
    let expected: Vec<_> =
        expected.into_iter().map(|(r, c, v, m)| (r, c.to_owned(), v.to_owned(), m.to_owned())).collect();
    assert_eq!(errors, expected);
}

#[test]
fn corrections_keep_their_negative_sign() {
    let text = export(&[&vat(XINYUAN, "-100.00", "电子缴税付款凭证")]);
    let sheet = read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto).unwrap();
    assert_eq!(sheet.rows[0].amount, Fen::from_fen(-10_000));
}

#[test]
fn reports_duplicate_rows_against_the_first() {
    let row = vat(XINYUAN, "73857.60", "电子缴税付款凭证");
    let refund = vat(XINYUAN, "73857.60", "税收收入退还书");
    let text = export(&[&row, &refund, &row]);
    let errors = cell_errors(read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto));
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].0, errors[0].1.as_str()), (4, "整行"));
    assert!(errors[0].3.starts_with("与第 2 行重复"));
    // Ticket numbers tell genuine repeats apart.
    let with_tickets = format!(
        "纳税人识别号,征收项目,所属期,实缴金额,电子税票号码\r\n{XINYUAN},增值税,2022-01,5.00,332016220000001\r\n{XINYUAN},增值税,2022-01,5.00,332016220000002\r\n"
    );
    assert_eq!(read_csv_ledger(with_tickets.as_bytes(), DeclaredEncoding::Auto).map(|s| s.rows.len()), Ok(2));
}

#[test]
fn skips_titles_blank_and_totals_rows_and_keeps_spreadsheet_row_numbers() {
    let text = format!(
        "税收入库明细查询,,,\r\n查询条件：入库日期 2022-01-01 至 2022-03-31,,,\r\n纳税人识别号,征收项目,所属期,实缴金额\r\n\
         {XINYUAN},增值税,2022-01,5.00\r\n,,,\r\n\r\n=\"{RUNDA}\",增值税,2022-01,x\r\n合计,,,5.00\r\n"
    );
    let errors = cell_errors(read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto));
    assert_eq!(errors.iter().map(|e| (e.0, e.1.as_str())).collect::<Vec<_>>(), [(7, "实缴金额")]);
    let sheet = read_csv_ledger(text.replace(",x\r\n", ",6.00\r\n").as_bytes(), DeclaredEncoding::Auto).unwrap();
    assert_eq!(sheet.header_row, 3);
    assert_eq!(sheet.rows.iter().map(|r| r.row).collect::<Vec<_>>(), [4, 7]);
    assert_eq!(sheet.rows[1].credit_code.as_str(), RUNDA);
}

#[test]
fn xlsx_rows_go_through_the_same_mapping() {
    let headers: Vec<String> =
        ["纳税人识别号", "征收项目", "税款所属期起", "税款所属期止", "实缴金额"].map(String::from).to_vec();
    let rows = vec![
        vec![
            XINYUAN.to_owned(),
            "增值税".to_owned(),
            "2022-01-01 00:00:00".to_owned(),
            "2022-01-31 00:00:00".to_owned(),
            "12.34".to_owned(),
        ],
        vec![RUNDA.to_owned(), "印花税".to_owned()],
    ];
    let errors = cell_errors(parse_rows(&headers, &rows, 5));
    // The short row: its missing cells are blank.
    assert_eq!(errors.iter().map(|e| (e.0, e.1.as_str())).collect::<Vec<_>>(), [(7, "税款所属期止"), (7, "实缴金额")]);
    let sheet = parse_rows(&headers, &rows[..1], 5).unwrap();
    assert_eq!((sheet.rows[0].row, sheet.rows[0].amount), (6, Fen::from_fen(1234)));
}

#[test]
fn an_empty_sheet_has_no_data() {
    assert_eq!(read_csv_ledger(b"", DeclaredEncoding::Auto), Err(SheetError::NoData));
    assert_eq!(read_csv_ledger(export(&[]).as_bytes(), DeclaredEncoding::Auto), Err(SheetError::NoData));
}

#[test]
fn summary_message_counts_errors() {
    let text = export(&[&vat(XINYUAN, "1.001", "电子缴税付款凭证"), &vat(RUNDA, "x", "电子缴税付款凭证")]);
    let e = read_csv_ledger(text.as_bytes(), DeclaredEncoding::Auto).map_err(|e| e.to_string());
    assert_eq!(e, Err("2 处错误，第一处：第 2 行“实缴金额”列“1.001”：金额最多两位小数".to_owned()));
}

proptest::proptest! {
    #[test]
    fn never_panics_on_arbitrary_cells(cells in proptest::collection::vec(proptest::collection::vec(".{0,12}", 0..6), 0..6)) {
        let headers: Vec<String> = ["纳税人识别号", "征收项目", "所属期", "实缴金额", "预算分配比例", "票证种类"].map(String::from).to_vec();
        let _ = parse_rows(&headers, &cells, 1);
        let _ = parse_records(cells);
    }
}
