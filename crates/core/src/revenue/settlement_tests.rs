#![allow(clippy::unwrap_used)]

use crate::revenue::split::split;
use proptest::prelude::*;

use super::*;
use crate::division::TOWNS;
use crate::revenue::agreement::{Agreement, Agreements, SharingRatio};
use crate::revenue::party::{DepartmentId, HostHistory, HostSpell, TownCode};
use crate::revenue::period::TaxPeriod;
use crate::revenue::tax::{RetainedShare, RetainedShareRule, VoucherKind};

const YICHENG: &str = "371323001";
const XUJIAHU: &str = "371323103";
const MAZHAN: &str = "371323101";
const XINYUAN: &str = "9137132352601815X3";
const RUNDA: &str = "913713239083016633";
const LUSHAN: &str = "91371323082462814R";
const HUAKE: &str = "91371323131860916C";
const HENGTAI: &str = "913713233909960334";
const HONGYUAN: &str = "91371323948219939T";

fn month(raw: &str) -> Period {
    Period::parse(raw).unwrap()
}

fn town(code: &str) -> TownCode {
    TownCode::parse(code).unwrap()
}

fn code(raw: &str) -> CreditCode {
    CreditCode::parse(raw).unwrap()
}

fn project(id: i64, introducer: Option<Unit>, host: &str) -> Project {
    Project::new(
        ProjectId::new(id),
        introducer,
        HostHistory::since(town(host), month("2018-01")),
        Agreements::default(),
    )
}

fn row(n: usize, enterprise: &str, tax: TaxType, period: &str, fen: i64, share: Option<&str>) -> TaxRow {
    let p = month(period);
    TaxRow {
        row: n,
        credit_code: code(enterprise),
        taxpayer_name: None,
        tax_type: tax,
        tax_item: None,
        tax_period: TaxPeriod::months(p, p).unwrap(),
        period: p,
        amount: Fen::from_fen(fen),
        retained_share: share.map(|s| RetainedShare::parse(s).unwrap()),
        voucher_kind: if fen < 0 { VoucherKind::Refund } else { VoucherKind::Receipt },
        received_on: None,
        ticket: None,
    }
}

fn links(list: &[(&str, i64, u32)]) -> EnterpriseProjects {
    EnterpriseProjects::new(list.iter().map(|(c, p, w)| (code(c), ProjectId::new(*p), *w)).collect()).unwrap()
}

struct World {
    projects: Vec<Project>,
    links: EnterpriseProjects,
    retained: RetainedShareTable,
    confirmed: BTreeSet<Period>,
}

impl World {
    fn settle(&self, period: &str, rows: &[TaxRow]) -> Result<Settlement, RevenueError> {
        settle(&SettlementInput {
            period: month(period),
            confirmed: &self.confirmed,
            projects: &self.projects,
            links: &self.links,
            retained: &self.retained,
            rows,
        })
    }
}

/// Six projects covering the cases of the reference.
fn world() -> World {
    let moved_hosts = HostHistory::new(vec![
        HostSpell::new(town(MAZHAN), month("2018-01"), Some(month("2021-12"))).unwrap(),
        HostSpell::new(town(XUJIAHU), month("2022-01"), None).unwrap(),
    ])
    .unwrap();
    let old_agreement = Agreements::new(vec![
        Agreement::new(SharingRatio::parse("7:3:0").unwrap(), month("2018-01"), Some(month("2021-12"))).unwrap(),
    ])
    .unwrap();
    let projects = vec![
        project(1, Some(Unit::Town(town(YICHENG))), XUJIAHU),
        project(2, Some(Unit::Town(town(XUJIAHU))), XUJIAHU),
        project(3, Some(Unit::Department(DepartmentId::new(4))), XUJIAHU),
        project(4, None, YICHENG),
        Project::new(ProjectId::new(5), Some(Unit::Town(town(YICHENG))), moved_hosts, old_agreement),
        project(6, Some(Unit::Town(town(MAZHAN))), YICHENG),
    ];
    let links = links(&[
        (XINYUAN, 1, 1),
        (RUNDA, 2, 1),
        (LUSHAN, 3, 1),
        (HUAKE, 4, 1),
        (HENGTAI, 5, 1),
        (HONGYUAN, 1, 2),
        (HONGYUAN, 6, 1),
    ]);
    let retained = RetainedShareTable::new(vec![
        RetainedShareRule::new(TaxType::ValueAdded, RetainedShare::parse("30%").unwrap(), month("2016-05"), None)
            .unwrap(),
        RetainedShareRule::new(TaxType::Other("教育费附加".to_owned()), RetainedShare::FULL, month("2020-01"), None)
            .unwrap(),
    ])
    .unwrap();
    World { projects, links, retained, confirmed: BTreeSet::new() }
}

fn credits(s: &Settlement, entry: usize) -> Vec<(String, i64)> {
    s.entries[entry].credits.iter().map(|(u, f)| (u.to_string(), f.fen())).collect()
}

fn c(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(u, f)| ((*u).to_owned(), *f)).collect()
}

#[test]
fn splits_the_county_share_five_three_two_to_the_fen() {
    // 73857.60 元 × 30 % = 22157.28 元 → 11078.64 / 6647.184 / 4431.456: the spare fen to the zone (.6).
    let s =
        world().settle("2022-01", &[row(2, XINYUAN, TaxType::ValueAdded, "2022-01", 7_385_760, Some("30%"))]).unwrap();
    assert_eq!(s.entries.len(), 1);
    let e = &s.entries[0];
    assert_eq!((e.debit, e.project, e.adjusts, e.row), (Fen::from_fen(2_215_728), ProjectId::new(1), None, 2));
    assert_eq!(credits(&s, 0), c(&[("沂城街道", 1_107_864), ("许家湖镇", 664_718), ("开发区", 443_146)]));
    assert!(s.is_balanced());
    assert_eq!(s.total, Fen::from_fen(2_215_728));
    assert_eq!(s.totals.get(&Unit::Zone), Some(&Fen::from_fen(443_146)));
}

#[test]
fn defined_cases_introducer_is_host_department_and_none() {
    let rows = [
        row(2, RUNDA, TaxType::LandUse, "2022-01", 1000, Some("100%")),
        row(3, LUSHAN, TaxType::LandUse, "2022-01", 1000, Some("100%")),
        row(4, HUAKE, TaxType::LandUse, "2022-01", 1000, Some("100%")),
    ];
    let s = world().settle("2022-01", &rows).unwrap();
    assert_eq!(credits(&s, 0), c(&[("许家湖镇", 800), ("开发区", 200)]));
    assert_eq!(credits(&s, 1), c(&[("县直部门（编号 4）", 500), ("许家湖镇", 300), ("开发区", 200)]));
    assert_eq!(credits(&s, 2), c(&[("开发区", 700), ("沂城街道", 300)]));
    assert_eq!(s.totals.get(&Unit::Town(town(XUJIAHU))), Some(&Fen::from_fen(1100)));
    assert!(s.is_balanced());
}

#[test]
fn a_moved_project_follows_the_host_and_agreement_of_the_rows_period() {
    let w = world();
    let before = w.settle("2021-12", &[row(2, HENGTAI, TaxType::Property, "2021-12", 1000, Some("100%"))]).unwrap();
    assert_eq!(credits(&before, 0), c(&[("沂城街道", 700), ("马站镇", 300)]));
    let after = w.settle("2022-01", &[row(2, HENGTAI, TaxType::Property, "2022-01", 1000, Some("100%"))]).unwrap();
    assert_eq!(credits(&after, 0), c(&[("沂城街道", 500), ("许家湖镇", 300), ("开发区", 200)]));
    let not_landed = w.settle("2017-12", &[row(2, HENGTAI, TaxType::Property, "2017-12", 1000, Some("100%"))]).unwrap();
    assert_eq!(not_landed.entries, []);
    assert_eq!(not_landed.unshared[0].reason, "项目（编号 5）在 2017年12月 没有落地单位，不参与分成");
    assert_eq!(not_landed.unshared[0].shareable, Some(Fen::from_fen(1000)));
}

#[test]
fn a_refund_is_the_exact_negation_of_its_payment() {
    let rows = [
        row(2, XINYUAN, TaxType::ValueAdded, "2022-01", 1_523_055, Some("30%")),
        row(3, XINYUAN, TaxType::ValueAdded, "2022-01", -1_523_055, Some("30%")),
    ];
    let s = world().settle("2022-01", &rows).unwrap();
    let negated: Vec<(Unit, Fen)> = s.entries[0].credits.iter().map(|(u, f)| (*u, Fen::from_fen(-f.fen()))).collect();
    assert_eq!(s.entries[1].credits, negated);
    assert_eq!(s.entries[1].debit, Fen::from_fen(-s.entries[0].debit.fen()));
    assert!(s.totals.values().all(|f| *f == Fen::ZERO));
    assert_eq!(s.total, Fen::ZERO);
}

#[test]
fn several_projects_divide_by_weight_then_each_by_its_agreement() {
    let s = world().settle("2022-01", &[row(2, HONGYUAN, TaxType::Property, "2022-01", 1001, Some("100%"))]).unwrap();
    assert_eq!(s.entries.iter().map(|e| (e.project.get(), e.debit.fen())).collect::<Vec<_>>(), [(1, 667), (6, 334)]);
    assert_eq!(credits(&s, 1), c(&[("马站镇", 167), ("沂城街道", 100), ("开发区", 67)]));
    assert!(s.is_balanced());
}

#[test]
fn unshared_rows_are_reported_with_reasons() {
    let rows = [
        row(2, "91371323518190937B", TaxType::ValueAdded, "2022-01", 1000, Some("30%")),
        row(3, XINYUAN, TaxType::Other("文化事业建设费".to_owned()), "2022-01", 1000, Some("100%")),
        row(4, XINYUAN, TaxType::Stamp, "2022-01", 1000, None),
        row(5, XINYUAN, TaxType::Consumption, "2022-01", 1000, Some("0%")),
    ];
    let s = world().settle("2022-01", &rows).unwrap();
    assert_eq!(s.entries, []);
    let reasons: Vec<(usize, Option<i64>, &str)> =
        s.unshared.iter().map(|u| (u.row, u.shareable.map(Fen::fen), u.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (2, Some(300), "企业未关联招商项目，不参与分成"),
            (3, None, "“文化事业建设费”不是分成税种，未配置其县级留成比例"),
            (4, None, "表中没有预算分配比例，也未配置印花税在2022年1月的县级留成比例"),
            (5, Some(0), "县级留成部分为 0，无需分成"),
        ]
    );
}

#[test]
fn configured_shares_fill_in_and_decide_for_other_items() {
    let rows = [
        row(2, XINYUAN, TaxType::ValueAdded, "2022-01", 1000, None),
        // The row's 100 % does not make a non-tax item shareable; the configuration does.
        row(3, XINYUAN, TaxType::Other("教育费附加".to_owned()), "2022-01", 1000, Some("30%")),
    ];
    let s = world().settle("2022-01", &rows).unwrap();
    assert_eq!(s.entries.iter().map(|e| e.debit.fen()).collect::<Vec<_>>(), [300, 1000]);
    assert_eq!(s.unshared, []);
}

#[test]
fn corrections_of_a_confirmed_period_are_adjustments_in_the_next_open_one() {
    let mut w = world();
    w.confirmed = [month("2021-12"), month("2022-01")].into_iter().collect();
    let rows = [
        row(2, HENGTAI, TaxType::Property, "2021-12", -1000, Some("100%")),
        row(3, HENGTAI, TaxType::Property, "2022-02", 1000, Some("100%")),
        row(4, HENGTAI, TaxType::Property, "2022-03", 1000, Some("100%")),
    ];
    let s = w.settle("2022-02", &rows).unwrap();
    assert_eq!(
        s.entries.iter().map(|e| (e.row, e.period, e.adjusts)).collect::<Vec<_>>(),
        [(2, month("2022-02"), Some(month("2021-12"))), (3, month("2022-02"), None)]
    );
    // The adjustment is shared as its own period was: 7:3:0 with 马站镇 as host.
    assert_eq!(credits(&s, 0), c(&[("沂城街道", -700), ("马站镇", -300)]));
    assert_eq!(s.other_periods, [(4, month("2022-03"))]);
    assert_eq!(
        w.settle("2022-01", &rows).map_err(|e| e.message),
        Err("2022年1月已确认，不能重新结算；更正请作为调整计入下一未确认期".to_owned())
    );
}

#[test]
fn the_next_open_period_skips_confirmed_ones() {
    let confirmed: BTreeSet<Period> = ["2022-01", "2022-02", "2022-04"].map(month).into_iter().collect();
    assert_eq!(settlement_period_for(month("2022-01"), &confirmed), month("2022-03"));
    assert_eq!(settlement_period_for(month("2022-04"), &confirmed), month("2022-05"));
    assert_eq!(settlement_period_for(month("2022-03"), &confirmed), month("2022-03"));
}

#[test]
fn configuration_errors_stop_the_settlement() {
    let mut w = world();
    w.links = links(&[(XINYUAN, 99, 1)]);
    let e = w.settle("2022-01", &[row(2, XINYUAN, TaxType::ValueAdded, "2022-01", 1000, Some("30%"))]);
    assert_eq!(e.map_err(|e| e.message), Err(format!("企业 {XINYUAN} 关联的项目（编号 99）不存在")));
    let dup =
        EnterpriseProjects::new(vec![(code(XINYUAN), ProjectId::new(1), 1), (code(XINYUAN), ProjectId::new(1), 2)]);
    assert!(dup.is_err_and(|e| e.message.contains("重复关联")));
    assert!(EnterpriseProjects::new(vec![(code(XINYUAN), ProjectId::new(1), 0)]).is_err());
}

fn arb_unit() -> impl Strategy<Value = Option<Unit>> {
    prop_oneof![
        Just(None),
        Just(Some(Unit::Zone)),
        (0usize..18).prop_map(|i| Some(Unit::Town(town(TOWNS[i].code)))),
        (1i64..5).prop_map(|d| Some(Unit::Department(DepartmentId::new(d)))),
    ]
}

fn arb_ratio() -> impl Strategy<Value = SharingRatio> {
    (0u32..=10, 0u32..=10)
        .prop_filter_map("sum ≤ 10", |(a, b)| SharingRatio::new(a, b, 10u32.checked_sub(a + b)?).ok())
}

fn arb_project(id: i64) -> impl Strategy<Value = Project> {
    (arb_unit(), 0usize..18, proptest::option::of(arb_ratio())).prop_map(move |(introducer, host, ratio)| {
        let agreements = match ratio {
            Some(r) => Agreements::new(vec![Agreement::new(r, month("2022-01"), None).unwrap()]).unwrap(),
            None => Agreements::default(),
        };
        Project::new(
            ProjectId::new(id),
            introducer,
            HostHistory::since(town(TOWNS[host].code), month("2021-06")),
            agreements,
        )
    })
}

const CODES: [&str; 4] = [XINYUAN, RUNDA, LUSHAN, HUAKE];

/// Links of enterprise `i` (of [`CODES`]) to project `p + 1` with weight `weights[i][p]`, zero for none.
fn links_of(weights: &[Vec<u32>]) -> Vec<(CreditCode, ProjectId, u32)> {
    let mut list = Vec::new();
    for (enterprise, weights) in weights.iter().enumerate() {
        for (p, &w) in weights.iter().enumerate() {
            if w > 0 {
                list.push((code(CODES[enterprise]), ProjectId::new(p as i64 + 1), w));
            }
        }
    }
    list
}

proptest! {
    #[test]
    fn totals_reconcile_to_the_fen(
        projects in (arb_project(1), arb_project(2), arb_project(3)),
        link_weights in proptest::collection::vec(proptest::collection::vec(0u32..4, 3), 4),
        rows in proptest::collection::vec((0usize..4, -10_000_000_000i64..10_000_000_000, 0u32..=10_000, 0u32..3), 0..12),
    ) {
        let projects = vec![projects.0, projects.1, projects.2];
        let list = links_of(&link_weights);
        let months = ["2021-05", "2022-01", "2022-02"];
        let rows: Vec<TaxRow> = rows
            .iter()
            .enumerate()
            .map(|(i, &(e, fen, bp, m))| {
                let mut r = row(i + 2, CODES[e], TaxType::ValueAdded, months[m as usize], fen, None);
                r.retained_share = Some(RetainedShare::from_basis_points(bp).unwrap());
                r
            })
            .collect();
        let confirmed: BTreeSet<Period> = [month("2022-01")].into_iter().collect();
        let links = EnterpriseProjects::new(list).unwrap();
        let retained = RetainedShareTable::default();
        let s = settle(&SettlementInput { period: month("2022-02"), confirmed: &confirmed, projects: &projects, links: &links, retained: &retained, rows: &rows }).unwrap();
        prop_assert!(s.is_balanced());
        // Every row settled here is in an entry or reported unshared, to the fen.
        let here: Vec<&TaxRow> = rows.iter().filter(|r| r.period != month("2021-05")).collect();
        let expected: i128 = here.iter().map(|r| i128::from(r.retained_share.unwrap().shareable(r.amount).fen())).sum();
        let unshared: i128 = s.unshared.iter().map(|u| i128::from(u.shareable.unwrap_or(Fen::ZERO).fen())).sum();
        prop_assert_eq!(i128::from(s.total.fen()) + unshared, expected);
        let by_unit: i128 = s.totals.values().map(|f| i128::from(f.fen())).sum();
        prop_assert_eq!(by_unit, i128::from(s.total.fen()));
        prop_assert_eq!(s.other_periods.len(), rows.len() - here.len());
        for e in &s.entries {
            prop_assert!(e.credits.len() <= 3);
            prop_assert_eq!(e.adjusts.is_some(), e.adjusts == Some(month("2022-01")));
        }
    }
}

proptest! {
    /// What a period settles to depends only on the rows that settle in it: rows imported later for
    /// later months leave it unchanged, and a confirmed period cannot be settled again — so once
    /// confirmed, its entries never change, and corrections land in the next open period.
    #[test]
    fn a_settled_period_never_changes_and_confirmed_ones_are_refused(
        projects in (arb_project(1), arb_project(2)),
        rows in proptest::collection::vec((0usize..4, -1_000_000_000i64..1_000_000_000, 0u32..=10_000, 0u32..3), 0..10),
        later in proptest::collection::vec((0usize..4, -1_000_000_000i64..1_000_000_000, 0u32..=10_000, 0u32..2), 0..10),
    ) {
        let projects = vec![projects.0, projects.1];
        let links = EnterpriseProjects::new(
            CODES.iter().flat_map(|c| [(code(c), ProjectId::new(1), 1), (code(c), ProjectId::new(2), 2)]).collect(),
        ).unwrap();
        let months = ["2022-01", "2022-02", "2022-03", "2022-04"];
        let mk = |list: &[(usize, i64, u32, u32)], offset: usize, first: usize| -> Vec<TaxRow> {
            list.iter().enumerate().map(|(i, &(e, fen, bp, m))| {
                let mut r = row(first + i, CODES[e], TaxType::ValueAdded, months[m as usize + offset], fen, None);
                r.retained_share = Some(RetainedShare::from_basis_points(bp).unwrap());
                r
            }).collect()
        };
        let base = mk(&rows, 0, 2);
        let mut more = base.clone();
        more.extend(mk(&later, 2, 100));
        let confirmed: BTreeSet<Period> = [month("2022-01")].into_iter().collect();
        let retained = RetainedShareTable::default();
        let input = |period: &str, rows: &'_ [TaxRow]| settle(&SettlementInput {
            period: month(period), confirmed: &confirmed, projects: &projects, links: &links, retained: &retained, rows,
        });
        let before = input("2022-02", &base).unwrap();
        let after = input("2022-02", &more).unwrap();
        prop_assert_eq!(&before.entries, &after.entries);
        prop_assert_eq!(&before.totals, &after.totals);
        prop_assert_eq!(&before.unshared, &after.unshared);
        prop_assert!(after.entries.iter().all(|e| e.period == month("2022-02")
            && e.adjusts.is_none_or(|a| confirmed.contains(&a))));
        prop_assert!(input("2022-01", &more).is_err());
    }
}

proptest! {
    /// Every entry is what splitting its row alone gives: the row's shareable amount split among the
    /// enterprise's projects by link weight, then among the project's units of the row's month. Rows
    /// come in runs per enterprise and month, as sheets list them, so a project-month's split worked
    /// out once serves the rows after it.
    #[test]
    fn each_entry_is_its_row_split_alone(
        projects in (arb_project(1), arb_project(2), arb_project(3)),
        link_weights in proptest::collection::vec(proptest::collection::vec(0u32..4, 3), 4),
        runs in proptest::collection::vec((0usize..4, 0u32..3, proptest::collection::vec((-10_000_000i64..10_000_000, 0u32..=10_000), 1..4)), 0..8),
    ) {
        let projects = vec![projects.0, projects.1, projects.2];
        let list = links_of(&link_weights);
        let months = ["2021-05", "2022-01", "2022-02"];
        let mut rows = Vec::new();
        for (e, m, amounts) in &runs {
            for &(fen, bp) in amounts {
                let mut r = row(rows.len() + 2, CODES[*e], TaxType::ValueAdded, months[*m as usize], fen, None);
                r.retained_share = Some(RetainedShare::from_basis_points(bp).unwrap());
                rows.push(r);
            }
        }
        let confirmed: BTreeSet<Period> = [month("2022-01")].into_iter().collect();
        let links = EnterpriseProjects::new(list).unwrap();
        let retained = RetainedShareTable::default();
        let s = settle(&SettlementInput { period: month("2022-02"), confirmed: &confirmed, projects: &projects, links: &links, retained: &retained, rows: &rows }).unwrap();
        let mut expected = Vec::new();
        for r in rows.iter().filter(|r| r.period != month("2021-05")) {
            let shareable = r.retained_share.unwrap().shareable(r.amount);
            let linked = links.links(&r.credit_code);
            if shareable == Fen::ZERO || linked.is_empty() {
                continue;
            }
            let weights: Vec<u32> = linked.iter().map(|l| l.weight).collect();
            for (l, part) in linked.iter().zip(split(shareable, &weights).unwrap()) {
                let project = projects.iter().find(|p| p.id() == l.project).unwrap();
                let b = project.beneficiaries(r.period).unwrap();
                if part == Fen::ZERO {
                    continue;
                }
                let credits: Vec<(Unit, Fen)> = b.shares().iter().map(|(u, _)| *u)
                    .zip(split(part, &b.weights()).unwrap())
                    .filter(|(_, f)| *f != Fen::ZERO)
                    .collect();
                expected.push((r.row, l.project, part, credits));
            }
        }
        let got: Vec<_> = s.entries.iter().map(|e| (e.row, e.project, e.debit, e.credits.clone())).collect();
        prop_assert_eq!(got, expected);
    }
}
