//! Demo data of the enclave economy (飞地经济): an investment project for each demo enterprise, and the
//! tax bureau's monthly exports for 36 months in the bureau's own CSV shape (the headers, budget
//! allocation ratios and refund vouchers of `../shared/samples/tax-bureau-export-2022Q1.csv`), so the
//! demo imports them through the same parser as an uploaded file. Pure and deterministic.

use crate::demo_data::{DemoEnterprise, Rng};
use std::fmt::Write;

/// Who attracted a demo project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introducer {
    Town(String),
    /// A county department, by name (seeded reference data).
    Department(&'static str),
    /// The zone's own project.
    Zone,
}

/// A demo investment project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoProject {
    pub name: String,
    pub introducer: Introducer,
    pub planned_investment_fen: i64,
    pub planned_fixed_assets_fen: i64,
    pub actual_investment_fen: i64,
    pub actual_fixed_assets_fen: i64,
    /// 清理地上附着物面积, in hundredths of m².
    pub cleared_area_centi_m2: i64,
    pub signed_on: String,
    pub landed_on: Option<String>,
    pub stage: &'static str,
}

/// Departments that attract investment in a county: development and reform, commerce, industry,
/// science and technology.
const INTRODUCING_DEPARTMENTS: [&str; 4] =
    ["沂水县发展和改革局", "沂水县商务局", "沂水县工业和信息化局", "沂水县科学技术局"];

const KINDS: [&str; 5] = ["新建厂房项目", "扩建项目", "智能化技术改造项目", "生产线建设项目", "新材料产业化项目"];

fn short_name(name: &str) -> &str {
    name.trim_end_matches("股份有限公司").trim_end_matches("有限公司").trim_end_matches("有限责任公司")
}

/// The project of demo enterprise `index`: introduced by its introducing town, or for about one in
/// eight by a county department; investment in proportion to its registered capital and land.
pub fn project(seed: u64, index: usize, d: &DemoEnterprise, this_year: i32) -> DemoProject {
    let mut rng = Rng::stream(seed, 0x9E_0C7, index as u64);
    let introducer = if rng.chance(0.12) {
        Introducer::Department(INTRODUCING_DEPARTMENTS[rng.below(INTRODUCING_DEPARTMENTS.len())])
    } else {
        match &d.introducer_town {
            Some(t) => Introducer::Town(t.clone()),
            None => Introducer::Zone,
        }
    };
    // A new project of the enterprise (expansion, new plant), signed in the last five years but not
    // before the enterprise existed; it lands three to fourteen months after signing.
    let (y, m, _) = d.established;
    let first = y.max(this_year - 5);
    let sign_year = first + rng.range(0, (this_year - first).max(0) as u32) as i32;
    let lo = if sign_year == y { m } else { 1 };
    let hi: u32 = if sign_year == this_year { 10 } else { 12 };
    let sign_month = lo + rng.range(0, hi.saturating_sub(lo));
    let signed_on = format!("{:04}-{:02}-{:02}", sign_year, sign_month, 1 + rng.range(0, 27));
    let months_to_land = rng.range(3, 14) as i32;
    let at = sign_year * 12 + sign_month as i32 - 1 + months_to_land;
    let (land_year, land_month) = (at / 12, at % 12 + 1);
    let age = (this_year * 12 + 10) - at;
    let landed = age > 0;
    let landed_on = landed.then(|| format!("{:04}-{:02}-{:02}", land_year, land_month, 1 + rng.range(0, 27)));
    let stage = match (landed, age) {
        (false, _) => "signed",
        (true, 0..=6) => "landed",
        (true, 7..=18) => "started",
        _ => "producing",
    };
    // Planned investment: three to eight times the registered capital, fixed assets 60–80 % of it.
    let planned = d.registered_capital_fen * i64::from(rng.range(3, 8));
    let fixed = planned / 100 * i64::from(rng.range(60, 80));
    let done = match stage {
        "signed" => 0,
        "landed" => i64::from(rng.range(10, 40)),
        "started" => i64::from(rng.range(40, 90)),
        _ => i64::from(rng.range(90, 115)),
    };
    DemoProject {
        name: format!("{}{}", short_name(&d.name), KINDS[rng.below(KINDS.len())]),
        introducer,
        planned_investment_fen: planned,
        planned_fixed_assets_fen: fixed,
        actual_investment_fen: planned / 100 * done,
        actual_fixed_assets_fen: fixed / 100 * done,
        cleared_area_centi_m2: i64::from(d.land_area_m2) * i64::from(rng.range(20, 100)),
        signed_on,
        landed_on,
        stage,
    }
}

/// A month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }

    fn last_day(self) -> u32 {
        match self.month {
            2 if self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    fn first(self) -> String {
        format!("{:04}-{:02}-01", self.year, self.month)
    }

    fn last(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.last_day())
    }

    /// A day of the following month (the payment reaches the treasury after the period).
    fn paid(self, day: u32) -> String {
        let next = if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { month: self.month + 1, ..self }
        };
        format!("{:04}-{:02}-{:02}", next.year, next.month, day.min(28))
    }
}

/// The last `n` months before `now` (Asia/Shanghai), oldest first.
pub fn months_before(now_ms: i64, n: usize) -> Vec<Month> {
    let today = dianxiaoer_core::when::format_date(now_ms);
    let year = today.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let month = today.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(11);
    let mut m = Month { year, month }.prev();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(m);
        m = m.prev();
    }
    out.reverse();
    out
}

/// Spring Festival slows February, the year-end push raises December (the shape of a county's
/// monthly tax receipts).
fn season(month: u32) -> f64 {
    [1.10, 0.72, 0.95, 1.00, 0.98, 1.05, 0.96, 0.94, 1.02, 1.00, 1.04, 1.24][(month as usize - 1) % 12]
}

const HEADER: &str = "纳税人识别号,纳税人名称,征收项目,征收品目,税款所属期起,税款所属期止,实缴金额,入库日期,预算科目,预算分配比例,收款国库,主管税务所,街道乡镇,票证种类\n";
const TREASURY: &str = "国家金库沂水县支库(3713230000)";
const OFFICE: &str = "国家税务总局沂水县税务局第一税务所";

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

struct Line<'a> {
    d: &'a DemoEnterprise,
    town: &'a str,
    tax: (&'a str, &'a str, &'a str, &'a str),
    from: String,
    to: String,
    fen: i64,
    paid: String,
    voucher: &'a str,
}

fn push(out: &mut String, l: &Line<'_>) {
    let (project, item, subject, ratio) = l.tax;
    let _ = writeln!(
        out,
        "{},{},{project},{item},{},{},{},{},{subject},\"{ratio}\",{TREASURY},{OFFICE},{},{}",
        l.d.credit_code,
        l.d.name,
        l.from,
        l.to,
        yuan(l.fen),
        l.paid,
        l.town,
        l.voucher
    );
}

const VAT: (&str, &str, &str, &str) = ("增值税", "国内增值税", "10101", "中央50%,省10%,市10%,县30%");
const CIT: (&str, &str, &str, &str) = ("企业所得税", "应纳税所得额", "10104", "中央60%,省8%,市8%,县24%");
const IIT: (&str, &str, &str, &str) = ("个人所得税", "工资薪金所得", "10106", "中央60%,省8%,市8%,县24%");
const LAND: (&str, &str, &str, &str) = ("城镇土地使用税", "工业用地", "10112", "县100%");
const PROPERTY: (&str, &str, &str, &str) = ("房产税", "从价计征", "10110", "县100%");

/// The tax bureau's export of one month for the operating demo enterprises established before it:
/// VAT and individual income tax monthly, enterprise income tax quarterly, land-use and property tax
/// half-yearly; about one month in four also carries a refund (税收收入退还书, a positive amount) of
/// an earlier month's VAT for one enterprise.
pub fn tax_month_csv(
    seed: u64,
    month: Month,
    population: &[DemoEnterprise],
    town_name: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::from(HEADER);
    let mut month_rng = Rng::stream(seed, 0x7A_C5, (month.year as u64) * 100 + u64::from(month.month));
    for (i, d) in population.iter().enumerate() {
        if d.status != "operating" || (d.established.0, d.established.1) >= (month.year, month.month) {
            continue;
        }
        let mut rng = Rng::stream(seed, 0x7A_C6 ^ ((month.year as u64) << 8 | u64::from(month.month)), i as u64);
        let town = town_name(&d.host_town);
        let base = i64::from(d.employees) * if d.above_scale { 3_600 } else { 1_400 } * 100;
        let vat = (base as f64 * season(month.month) * (0.7 + 0.6 * rng.unit())) as i64;
        let line = |tax, from: String, to: String, fen: i64, day: u32| Line {
            d,
            town: &town,
            tax,
            from,
            to,
            fen,
            paid: month.paid(day),
            voucher: "电子缴税付款凭证",
        };
        push(&mut out, &line(VAT, month.first(), month.last(), vat.max(100), 8 + rng.range(0, 6)));
        if d.employees >= 50 {
            let iit = i64::from(d.employees) * i64::from(rng.range(30, 90)) * 100;
            push(&mut out, &line(IIT, month.first(), month.last(), iit, 8 + rng.range(0, 6)));
        }
        if month.month.is_multiple_of(3) {
            let q = Month { month: month.month - 2, ..month };
            let cit = (vat as f64 * (0.8 + 0.8 * rng.unit())) as i64;
            push(&mut out, &line(CIT, q.first(), month.last(), cit, 12 + rng.range(0, 6)));
        }
        if month.month.is_multiple_of(6) {
            let h = Month { month: month.month - 5, ..month };
            // 6 元 per m² a year for industrial land in the county (a grade-four town rate).
            let land = i64::from(d.land_area_m2) * 300;
            push(&mut out, &line(LAND, h.first(), month.last(), land, 15 + rng.range(0, 6)));
            let property = (d.registered_capital_fen / 400).clamp(50_000, 30_000_000);
            push(&mut out, &line(PROPERTY, h.first(), month.last(), property, 15 + rng.range(0, 6)));
        }
    }
    if month_rng.chance(0.25)
        && let Some(d) = population.get(month_rng.below(population.len().min(300)))
        && d.status == "operating"
        && (d.established.0, d.established.1) < (month.prev().year, month.prev().month)
    {
        let earlier = month.prev();
        let fen = i64::from(month_rng.range(2_000, 60_000)) * 100;
        let l = Line {
            d,
            town: &town_name(&d.host_town),
            tax: VAT,
            from: earlier.first(),
            to: earlier.last(),
            fen,
            paid: month.paid(20),
            voucher: "税收收入退还书",
        };
        push(&mut out, &l);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::demo_data::generate;
    use dianxiaoer_core::revenue::ledger_sheet::read_csv_ledger;
    use dianxiaoer_core::revenue::sheet_text::DeclaredEncoding;

    fn town(code: &str) -> String {
        dianxiaoer_core::division::town_by_code(code).map(|t| t.name.to_string()).unwrap_or_default()
    }

    #[test]
    fn projects_are_deterministic_and_spread_over_introducers() {
        let all = generate(300, 7);
        let projects: Vec<_> = all.iter().enumerate().map(|(i, d)| project(7, i, d, 2026)).collect();
        assert_eq!(projects, all.iter().enumerate().map(|(i, d)| project(7, i, d, 2026)).collect::<Vec<_>>());
        let departments = projects.iter().filter(|p| matches!(p.introducer, Introducer::Department(_))).count();
        assert!((15..=60).contains(&departments), "{departments}");
        let towns: std::collections::HashSet<_> = projects
            .iter()
            .filter_map(|p| match &p.introducer {
                Introducer::Town(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(towns.len(), 18, "every town introduces a project");
        for p in &projects {
            assert!(p.actual_investment_fen <= p.planned_investment_fen * 115 / 100);
            assert!(p.planned_fixed_assets_fen <= p.planned_investment_fen);
            assert!(p.landed_on.is_none() == (p.stage == "signed"));
        }
    }

    #[test]
    fn every_month_parses_as_the_tax_bureau_export() {
        let all = generate(300, 7);
        let months = months_before(1_795_000_000_000, 36);
        assert_eq!(months.len(), 36);
        let mut refunds = 0;
        for m in &months {
            let csv = tax_month_csv(7, *m, &all, &town);
            let sheet = read_csv_ledger(csv.as_bytes(), DeclaredEncoding::Utf8).unwrap();
            assert!(sheet.rows.len() > 200, "{m:?}: {}", sheet.rows.len());
            refunds += sheet.rows.iter().filter(|r| r.amount.is_negative()).count();
        }
        assert!(refunds >= 3, "a few corrections: {refunds}");
    }
}
