//! The tax ledger import and settlement on a copy of the sample tax-bureau export
//! (`data/tax-bureau-export-2022Q1.csv`: GBK, CRLF, the tax system's headers; illustrative amounts).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::agreement::Agreements;
use dianxiaoer_core::revenue::ledger_sheet::{SheetError, read_csv_ledger};
use dianxiaoer_core::revenue::party::{DepartmentId, HostHistory, Project, ProjectId, TownCode, Unit};
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_core::revenue::settlement::{EnterpriseProjects, SettlementInput, settle};
use dianxiaoer_core::revenue::sheet_text::{DeclaredEncoding, TextEncoding};
use dianxiaoer_core::revenue::tax::{RetainedShareTable, TaxType, VoucherKind};

const SAMPLE: &[u8] = include_bytes!("data/tax-bureau-export-2022Q1.csv");

fn month(raw: &str) -> Period {
    Period::parse(raw).unwrap()
}

#[test]
fn imports_every_row_of_the_sample() {
    let sheet = read_csv_ledger(SAMPLE, DeclaredEncoding::Auto).unwrap();
    assert_eq!(sheet.encoding, Some(TextEncoding::Gbk));
    assert_eq!(sheet.rows.len(), 74);
    assert_eq!(sheet.ignored_columns, ["预算科目", "收款国库", "主管税务所", "街道乡镇"].map(String::from).to_vec());
    let gross: i64 = sheet.rows.iter().map(|r| r.amount.fen()).sum();
    assert_eq!(gross, 2_765_624_365);
    let refunds: Vec<(usize, i64, String)> = sheet
        .rows
        .iter()
        .filter(|r| r.voucher_kind == VoucherKind::Refund)
        .map(|r| (r.row, r.amount.fen(), r.period.to_string()))
        .collect();
    assert_eq!(refunds, [(74, -1_523_055, "2022-01".to_owned()), (75, -880_000, "2021-12".to_owned())]);
    let stamp = sheet.rows.iter().filter(|r| r.tax_type == TaxType::Stamp).count();
    assert_eq!(stamp, 4);
    assert!(sheet.rows.iter().all(|r| r.retained_share.is_some()));
}

#[test]
fn the_sample_declared_as_utf8_is_refused() {
    let e = read_csv_ledger(SAMPLE, DeclaredEncoding::Utf8);
    assert!(matches!(e, Err(SheetError::Text(e)) if e.message.contains("看起来是 GBK 编码")));
}

#[test]
fn settles_the_quarter_to_the_fen() {
    let sheet = read_csv_ledger(SAMPLE, DeclaredEncoding::Auto).unwrap();
    let town = |c: &str| TownCode::parse(c).unwrap();
    let since = |c: &str| HostHistory::since(town(c), month("2020-01"));
    let projects = vec![
        Project::new(ProjectId::new(1), Some(Unit::Town(town("371323001"))), since("371323103"), Agreements::default()),
        Project::new(ProjectId::new(2), Some(Unit::Town(town("371323103"))), since("371323103"), Agreements::default()),
        Project::new(
            ProjectId::new(3),
            Some(Unit::Department(DepartmentId::new(3))),
            since("371323001"),
            Agreements::default(),
        ),
        Project::new(ProjectId::new(4), None, since("371323001"), Agreements::default()),
    ];
    // 山东沂河生物医药 (91371323786579754D) has no project: not shared, reported.
    let links = [
        ("9137132352601815X3", 1),
        ("913713239083016633", 2),
        ("91371323082462814R", 2),
        ("91371323131860916C", 3),
        ("913713233909960334", 3),
        ("91371323948219939T", 4),
        ("91371323518190937B", 4),
    ];
    let links = EnterpriseProjects::new(
        links.iter().map(|(c, p)| (CreditCode::parse(c).unwrap(), ProjectId::new(*p), 1)).collect(),
    )
    .unwrap();
    let retained = RetainedShareTable::default();
    // 2021-12 was settled and confirmed before this export: the Q4 refund adjusts it in 2022-01.
    let confirmed: BTreeSet<Period> = [month("2021-12")].into_iter().collect();
    let mut grand = 0i128;
    for (period, expected) in
        [("2022-01", 396_592_604i64 - 211_200), ("2022-02", 378_408_758), ("2022-03", 546_782_064)]
    {
        let s = settle(&SettlementInput {
            period: month(period),
            confirmed: &confirmed,
            projects: &projects,
            links: &links,
            retained: &retained,
            rows: &sheet.rows,
        })
        .unwrap();
        assert!(s.is_balanced(), "{period}");
        let unshared: i64 = s.unshared.iter().map(|u| u.shareable.unwrap_or(Fen::ZERO).fen()).sum();
        assert!(s.unshared.iter().all(|u| u.credit_code.as_str() == "91371323786579754D"));
        assert_eq!(s.total.fen() + unshared, expected, "{period}");
        grand += i128::from(s.total.fen() + unshared);
        let adjustments: Vec<_> =
            s.entries.iter().filter_map(|e| e.adjusts.map(|a| (e.row, a, e.debit.fen()))).collect();
        if period == "2022-01" {
            // 8800.00 元 × 24 % = 2112.00 元, refunded.
            assert_eq!(adjustments, [(75, month("2021-12"), -211_200)]);
        } else {
            assert_eq!(adjustments, []);
        }
    }
    assert_eq!(grand, 1_321_572_226);
}
