//! Tax types, the county-retained share (县级留成) that is subject to sharing, and the parsed ledger row.
//!
//! Only the county's part of a tax can be shared: the rest goes to the central, provincial and city
//! treasuries. The tax bureau's export states the split per row in 预算分配比例 ("中央50%,省10%,市10%,
//! 县30%"); where a sheet lacks that column, the share is configuration per tax type with dates
//! ([`RetainedShareTable`]). The shareable amount is rounded to the fen half away from zero (四舍五入,
//! the rule of money.rs), symmetric for refunds.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::credit_code::CreditCode;
use crate::money::Fen;

use super::period::{Period, TaxPeriod, Validity};
use super::{RevenueError, shown};

/// A 征收项目. The statutory taxes a county tax bureau collects are named; anything else the tax system
/// exports under 征收项目 (教育费附加, 地方教育附加, 文化事业建设费 …, or a tax added later) is
/// `Other`: the set the exports carry is open, and refusing it would make a real export unimportable.
/// An `Other` item is shared only when configured (see the settlement), so a mistyped name is never
/// shared silently.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TaxType {
    ValueAdded,
    Consumption,
    EnterpriseIncome,
    IndividualIncome,
    Resource,
    UrbanMaintenance,
    Property,
    Stamp,
    LandUse,
    LandValueIncrement,
    VehicleVessel,
    VehiclePurchase,
    FarmlandOccupation,
    Deed,
    TobaccoLeaf,
    EnvironmentalProtection,
    Other(String),
}

/// The named taxes with their 政府收支分类科目 codes (税收收入 class 101, e.g. 10101 国内增值税 as in the
/// export's 预算科目 column) and the other spellings exports use. 关税 and 船舶吨税 are collected by
/// customs, not by the county tax bureau, so they are not listed.
const KNOWN: [(TaxType, &str, &str, &[&str]); 16] = [
    (TaxType::ValueAdded, "10101", "增值税", &["国内增值税"]),
    (TaxType::Consumption, "10102", "消费税", &["国内消费税"]),
    (TaxType::EnterpriseIncome, "10104", "企业所得税", &[]),
    (TaxType::IndividualIncome, "10106", "个人所得税", &["个税"]),
    (TaxType::Resource, "10107", "资源税", &[]),
    (TaxType::UrbanMaintenance, "10109", "城市维护建设税", &["城建税"]),
    (TaxType::Property, "10110", "房产税", &[]),
    (TaxType::Stamp, "10111", "印花税", &[]),
    (TaxType::LandUse, "10112", "城镇土地使用税", &["土地使用税"]),
    (TaxType::LandValueIncrement, "10113", "土地增值税", &[]),
    (TaxType::VehicleVessel, "10114", "车船税", &[]),
    (TaxType::VehiclePurchase, "10116", "车辆购置税", &[]),
    (TaxType::FarmlandOccupation, "10118", "耕地占用税", &[]),
    (TaxType::Deed, "10119", "契税", &[]),
    (TaxType::TobaccoLeaf, "10120", "烟叶税", &[]),
    (TaxType::EnvironmentalProtection, "10121", "环境保护税", &["环保税"]),
];

impl TaxType {
    /// Parses a 征收项目 name ("增值税", "国内增值税", "城建税" …) or its code ("10101"). Other names are
    /// kept as `Other` after the usual text checks; see the type's docs.
    pub fn parse(raw: &str) -> Result<TaxType, RevenueError> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            return Err(RevenueError::new("请填写征收项目"));
        }
        if let Some((t, ..)) =
            KNOWN.iter().find(|(_, code, name, aliases)| s == *code || s == *name || aliases.contains(&s.as_str()))
        {
            return Ok(t.clone());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RevenueError::new(format!(
                "未知的征收项目代码“{}”，已知的有：{}",
                shown(&s),
                TaxType::known_list()
            )));
        }
        if s.chars().any(char::is_control) || s.chars().count() > 30 {
            return Err(RevenueError::new(format!("征收项目“{}”不正确（不超过 30 个字，不含控制字符）", shown(&s))));
        }
        Ok(TaxType::Other(s))
    }

    /// The standard name, e.g. 增值税; an `Other` item's own name.
    pub fn name(&self) -> &str {
        match self {
            TaxType::Other(name) => name,
            known => KNOWN.iter().find(|(t, ..)| t == known).map_or("", |(_, _, name, _)| name),
        }
    }

    /// The budget subject code (预算科目), e.g. 10101; `None` for `Other`.
    pub fn code(&self) -> Option<&'static str> {
        KNOWN.iter().find(|(t, ..)| t == self).map(|(_, code, ..)| *code)
    }

    pub fn is_other(&self) -> bool {
        matches!(self, TaxType::Other(_))
    }

    /// "增值税（10101）、消费税（10102）…", for messages and forms.
    pub fn known_list() -> String {
        KNOWN.iter().map(|(_, code, name, _)| format!("{name}（{code}）")).collect::<Vec<_>>().join("、")
    }
}

impl fmt::Display for TaxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for TaxType {
    type Error = RevenueError;
    fn try_from(s: String) -> Result<TaxType, RevenueError> {
        TaxType::parse(&s)
    }
}

impl From<TaxType> for String {
    fn from(t: TaxType) -> String {
        t.name().to_owned()
    }
}

/// The county-retained percentage of a tax, in hundredths of a percent (0–10000), e.g. 30 % = 3000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RetainedShare(u16);

const SHARE_HINT: &str = "应为百分比，例如 30%，或预算分配比例，例如 中央50%,省10%,市10%,县30%";

/// One "30%" / "30" / "12.5%": hundredths of a percent, at most two decimals.
fn percent(raw: &str) -> Option<u32> {
    let s = raw.strip_suffix(['%', '％']).unwrap_or(raw);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || int.len() > 3
        || !digits(int)
        || frac.len() > 2
        || !digits(frac)
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    let int: u32 = int.parse().ok()?;
    let frac: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    Some(int * 100 + frac)
}

/// Which treasury level a part of 预算分配比例 names; `true` for the county.
fn level(name: &str) -> Option<bool> {
    let name = name.strip_suffix('级').unwrap_or(name);
    match name {
        "中央" | "省" | "市" | "地市" | "乡" | "乡镇" => Some(false),
        "县" | "县区" | "区县" | "区" => Some(true),
        _ => None,
    }
}

impl RetainedShare {
    /// 100 %: taxes wholly retained by the county (城镇土地使用税, 房产税, 印花税 in the sample).
    pub const FULL: RetainedShare = RetainedShare(10_000);

    /// From hundredths of a percent, 0–10000.
    pub fn from_basis_points(bp: u32) -> Result<RetainedShare, RevenueError> {
        u16::try_from(bp)
            .ok()
            .filter(|bp| *bp <= 10_000)
            .map(RetainedShare)
            .ok_or_else(|| RevenueError::new("县级留成比例应在 0% 到 100% 之间"))
    }

    /// Parses a percentage ("30%", "30", "12.5%") or a 预算分配比例 cell ("中央50%,省10%,市10%,县30%",
    /// "县100%"), of which the county's part (县, 县级, 区县 …) is taken. The parts of a 预算分配比例 must
    /// add up to 100 %; one without a county part gives 0 % (e.g. 中央100%).
    pub fn parse(raw: &str) -> Result<RetainedShare, RevenueError> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            return Err(RevenueError::new("请填写县级留成比例"));
        }
        let bad = || RevenueError::new(format!("分配比例“{}”格式不正确，{SHARE_HINT}", shown(&s)));
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            return RetainedShare::from_basis_points(percent(&s).ok_or_else(bad)?);
        }
        let (mut total, mut county, mut seen) = (0u32, 0u32, Vec::new());
        for part in s.split([',', '，', ';', '；', '、', '/']).filter(|p| !p.is_empty()) {
            let at = part.find(|c: char| c.is_ascii_digit()).ok_or_else(bad)?;
            let (name, value) = part.split_at(at);
            let is_county = level(name).ok_or_else(|| {
                RevenueError::new(format!("预算分配比例中的级次“{}”不认识，应为 中央、省、市、县 或 乡镇", shown(name)))
            })?;
            let bp = percent(value).ok_or_else(bad)?;
            let name = name.strip_suffix('级').unwrap_or(name);
            if seen.contains(&name) {
                return Err(RevenueError::new(format!("预算分配比例中“{name}”出现了两次")));
            }
            seen.push(name);
            total += bp;
            if is_county {
                county += bp;
            }
        }
        if total != 10_000 {
            return Err(RevenueError::new(format!("预算分配比例合计应为 100%，实际为 {}", RetainedShare::show(total))));
        }
        RetainedShare::from_basis_points(county)
    }

    pub fn basis_points(self) -> u32 {
        u32::from(self.0)
    }

    /// The part of `gross` subject to sharing: gross × share, rounded to the fen half away from zero,
    /// so that the share of −x is exactly the negation of the share of x.
    pub fn shareable(self, gross: Fen) -> Fen {
        let exact = u128::from(gross.fen().unsigned_abs()) * u128::from(self.0);
        // ≤ |gross| because the share is at most 100 %, so it fits back into i64 with the sign.
        let rounded = i128::try_from((exact + 5_000) / 10_000).unwrap_or(i128::MAX);
        let signed = if gross.is_negative() { -rounded } else { rounded };
        Fen::from_fen(i64::try_from(signed).unwrap_or(gross.fen()))
    }

    fn show(bp: u32) -> String {
        if bp.is_multiple_of(100) { format!("{}%", bp / 100) } else { format!("{}.{:02}%", bp / 100, bp % 100) }
    }
}

/// "30%", "12.50%".
impl fmt::Display for RetainedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&RetainedShare::show(self.basis_points()))
    }
}

/// A configured county-retained share of one tax type over some months.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RetainedShareRule {
    tax_type: TaxType,
    validity: Validity,
    share: RetainedShare,
}

impl RetainedShareRule {
    pub fn new(
        tax_type: TaxType,
        share: RetainedShare,
        from: Period,
        to: Option<Period>,
    ) -> Result<RetainedShareRule, RevenueError> {
        Ok(RetainedShareRule { tax_type, validity: Validity::new(from, to)?, share })
    }

    pub fn tax_type(&self) -> &TaxType {
        &self.tax_type
    }

    pub fn share(&self) -> RetainedShare {
        self.share
    }

    pub fn validity(&self) -> Validity {
        self.validity
    }
}

/// The configured retained shares; never two for one tax type in the same month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetainedShareTable(Vec<RetainedShareRule>);

impl RetainedShareTable {
    pub fn new(rules: Vec<RetainedShareRule>) -> Result<RetainedShareTable, RevenueError> {
        for (j, b) in rules.iter().enumerate() {
            let clash = rules.iter().take(j).position(|a| a.tax_type == b.tax_type && a.validity.overlaps(b.validity));
            if let Some(i) = clash {
                return Err(RevenueError::new(format!(
                    "第{}条留成比例（{} {}）与第{}条的有效期重叠，同一税种同一月份只能有一条",
                    j + 1,
                    b.tax_type,
                    b.validity,
                    i + 1
                )));
            }
        }
        Ok(RetainedShareTable(rules))
    }

    /// The share configured for `tax_type` in `period`, if any.
    pub fn lookup(&self, tax_type: &TaxType, period: Period) -> Option<RetainedShare> {
        self.0.iter().find(|r| r.tax_type == *tax_type && r.validity.contains(period)).map(|r| r.share)
    }

    pub fn as_slice(&self) -> &[RetainedShareRule] {
        &self.0
    }
}

/// 票证种类 reduced to what matters here: tax received, or tax refunded (税收收入退还书).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherKind {
    /// 收入: 电子缴税付款凭证, 税收缴款书, 税收完税证明 …
    Receipt,
    /// 退还: 税收收入退还书 (also written 退库 or 退税); its positive amount reduces tax.
    Refund,
}

impl VoucherKind {
    /// Any voucher whose name speaks of a refund (退还, 退库, 退税) is a refund; every other one,
    /// and a blank cell, is a receipt.
    pub fn parse(raw: &str) -> VoucherKind {
        if ["退还", "退库", "退税"].iter().any(|w| raw.contains(w)) {
            VoucherKind::Refund
        } else {
            VoucherKind::Receipt
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VoucherKind::Receipt => "收入",
            VoucherKind::Refund => "退还",
        }
    }
}

/// One row of the tax ledger, parsed. `amount` is signed: a refund's positive amount is negated, and a
/// correction (红字) keeps its negative sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxRow {
    /// Row number in the sheet (the header is row 1 unless it sits lower), for messages and audit.
    pub row: usize,
    pub credit_code: CreditCode,
    pub taxpayer_name: Option<String>,
    pub tax_type: TaxType,
    /// 征收品目, e.g. 国内增值税, 工业用地.
    pub tax_item: Option<String>,
    pub tax_period: TaxPeriod,
    /// The month the row settles in: the last month of `tax_period`.
    pub period: Period,
    pub amount: Fen,
    /// From the row's 预算分配比例; `None` when the sheet has no such column or the cell is blank.
    pub retained_share: Option<RetainedShare>,
    pub voucher_kind: VoucherKind,
    /// 入库日期 as written, when the sheet has the column: only part of the duplicate key.
    pub received_on: Option<String>,
    /// 电子税票号码, when the sheet has the column: only part of the duplicate key.
    pub ticket: Option<String>,
}

impl TaxRow {
    /// What makes two rows the same payment: every field that distinguishes payments in an export —
    /// credit code, 征收项目, 征收品目, tax period, 入库日期, signed amount, voucher kind and, when the
    /// sheet carries it, the 电子税票号码. Two such rows are almost surely the same line exported twice
    /// (files concatenated, or queries over overlapping ranges); an export with ticket numbers tells
    /// genuine repeats apart. The same key finds repeats within a sheet and against rows already
    /// imported from earlier sheets.
    pub fn duplicate_key(&self) -> String {
        [
            self.ticket.as_deref().unwrap_or(""),
            self.credit_code.as_str(),
            self.tax_type.name(),
            self.tax_item.as_deref().unwrap_or(""),
            &self.tax_period.to_string(),
            self.received_on.as_deref().unwrap_or(""),
            &self.amount.fen().to_string(),
            self.voucher_kind.label(),
        ]
        .join("\u{1f}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share(raw: &str) -> Result<String, String> {
        RetainedShare::parse(raw).map(|s| s.to_string()).map_err(|e| e.message)
    }

    #[test]
    fn parses_tax_names_aliases_and_codes() {
        assert_eq!(TaxType::parse("增值税"), Ok(TaxType::ValueAdded));
        assert_eq!(TaxType::parse(" 国内增值税 "), Ok(TaxType::ValueAdded));
        assert_eq!(TaxType::parse("10101"), Ok(TaxType::ValueAdded));
        assert_eq!(TaxType::parse("城建税"), Ok(TaxType::UrbanMaintenance));
        assert_eq!(TaxType::parse("城镇土地使用税"), Ok(TaxType::LandUse));
        assert_eq!(TaxType::parse("个人所得税").map(|t| t.code()), Ok(Some("10106")));
        assert_eq!(TaxType::EnterpriseIncome.to_string(), "企业所得税");
        assert_eq!(TaxType::parse("教育费附加"), Ok(TaxType::Other("教育费附加".to_owned())));
        assert_eq!(
            TaxType::parse("教育费附加").map(|t| (t.is_other(), t.code(), t.to_string())),
            Ok((true, None, "教育费附加".to_owned()))
        );
    }

    #[test]
    fn refuses_blank_unknown_codes_and_junk() {
        assert_eq!(TaxType::parse(" ").map_err(|e| e.message), Err("请填写征收项目".to_owned()));
        let e = TaxType::parse("10199").map_err(|e| e.message);
        assert!(
            e.as_ref()
                .is_err_and(|m| m.starts_with("未知的征收项目代码“10199”，已知的有：增值税（10101）、消费税（10102）")),
            "{e:?}"
        );
        assert!(TaxType::parse("增值税\u{7}").is_err());
        assert!(TaxType::parse(&"税".repeat(31)).is_err());
    }

    #[test]
    fn every_known_tax_round_trips() {
        for (t, code, name, aliases) in KNOWN {
            assert_eq!(TaxType::parse(name).as_ref(), Ok(&t));
            assert_eq!(TaxType::parse(code).as_ref(), Ok(&t));
            assert_eq!(t.code(), Some(code));
            for a in aliases {
                assert_eq!(TaxType::parse(a).as_ref(), Ok(&t));
            }
        }
    }

    #[test]
    fn reads_the_county_part_of_budget_allocation_ratios() {
        assert_eq!(share("中央50%,省10%,市10%,县30%"), Ok("30%".to_owned()));
        assert_eq!(share("中央60%,省8%,市8%,县24%"), Ok("24%".to_owned()));
        assert_eq!(share("县100%"), Ok("100%".to_owned()));
        assert_eq!(share("中央100%"), Ok("0%".to_owned()));
        assert_eq!(share("中央50%，省级10%，市级10%，县级30%"), Ok("30%".to_owned()));
        assert_eq!(share("中央 50% , 省 12.5% , 市 7.5% , 区县 30%"), Ok("30%".to_owned()));
        assert_eq!(share("30%"), Ok("30%".to_owned()));
        assert_eq!(share("30"), Ok("30%".to_owned()));
        assert_eq!(share("12.5%"), Ok("12.50%".to_owned()));
        assert_eq!(RetainedShare::parse("12.5%").map(RetainedShare::basis_points), Ok(1250));
    }

    #[test]
    fn refuses_bad_ratios_with_reasons() {
        assert_eq!(share("中央50%,省10%,市10%,县20%"), Err("预算分配比例合计应为 100%，实际为 90%".to_owned()));
        assert_eq!(
            share("中央50%,省10%,乡镇10%,县城30%"),
            Err("预算分配比例中的级次“县城”不认识，应为 中央、省、市、县 或 乡镇".to_owned())
        );
        assert_eq!(share("县50%,县级50%"), Err("预算分配比例中“县”出现了两次".to_owned()));
        assert_eq!(share("101%"), Err("县级留成比例应在 0% 到 100% 之间".to_owned()));
        assert_eq!(share(""), Err("请填写县级留成比例".to_owned()));
        for bad in ["30.125%", "abc", "县%", "中央五成", "30.%", ".5%"] {
            assert!(share(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shareable_amount_rounds_half_away_from_zero() {
        let s30 = RetainedShare::parse("30%").unwrap();
        assert_eq!(s30.shareable(Fen::from_fen(7_385_760)), Fen::from_fen(2_215_728));
        // 0.05 元 × 30 % = 1.5 分 → 2 分; −0.05 元 → −2 分.
        assert_eq!(s30.shareable(Fen::from_fen(5)), Fen::from_fen(2));
        assert_eq!(s30.shareable(Fen::from_fen(-5)), Fen::from_fen(-2));
        // 0.03 元 × 30 % = 0.9 分 → 1 分; 0.01 元 → 0.3 分 → 0.
        assert_eq!(s30.shareable(Fen::from_fen(3)), Fen::from_fen(1));
        assert_eq!(s30.shareable(Fen::from_fen(1)), Fen::ZERO);
        assert_eq!(RetainedShare::FULL.shareable(Fen::from_fen(i64::MIN)), Fen::from_fen(i64::MIN));
        assert_eq!(RetainedShare::FULL.shareable(Fen::from_fen(i64::MAX)), Fen::from_fen(i64::MAX));
    }

    #[test]
    fn configured_shares_by_tax_type_and_month() {
        let m = |s: &str| Period::parse(s).unwrap();
        let rule = |t: TaxType, pct: &str, from: &str, to: Option<&str>| {
            RetainedShareRule::new(t, RetainedShare::parse(pct).unwrap(), m(from), to.map(m)).unwrap()
        };
        let table = RetainedShareTable::new(vec![
            rule(TaxType::ValueAdded, "25%", "2016-05", Some("2021-12")),
            rule(TaxType::ValueAdded, "30%", "2022-01", None),
            rule(TaxType::LandUse, "100%", "2000-01", None),
        ])
        .unwrap();
        assert_eq!(table.lookup(&TaxType::ValueAdded, m("2021-12")).map(|s| s.to_string()), Some("25%".to_owned()));
        assert_eq!(table.lookup(&TaxType::ValueAdded, m("2022-01")).map(|s| s.to_string()), Some("30%".to_owned()));
        assert_eq!(table.lookup(&TaxType::ValueAdded, m("2010-01")), None);
        assert_eq!(table.lookup(&TaxType::Stamp, m("2022-01")), None);
        let clash = RetainedShareTable::new(vec![
            rule(TaxType::LandUse, "100%", "2000-01", None),
            rule(TaxType::ValueAdded, "30%", "2022-01", None),
            rule(TaxType::ValueAdded, "25%", "2021-01", Some("2022-01")),
        ]);
        assert_eq!(
            clash.map_err(|e| e.message),
            Err("第3条留成比例（增值税 2021-01 至 2022-01）与第2条的有效期重叠，同一税种同一月份只能有一条".to_owned())
        );
    }

    #[test]
    fn voucher_kinds() {
        assert_eq!(VoucherKind::parse("税收收入退还书"), VoucherKind::Refund);
        assert_eq!(VoucherKind::parse("退还"), VoucherKind::Refund);
        assert_eq!(VoucherKind::parse("电子缴税付款凭证"), VoucherKind::Receipt);
        assert_eq!(VoucherKind::parse("收入"), VoucherKind::Receipt);
        assert_eq!(VoucherKind::parse(""), VoucherKind::Receipt);
        assert_eq!(VoucherKind::Refund.label(), "退还");
    }

    proptest! {
        #[test]
        fn shareable_is_sign_symmetric_and_within_half_a_fen(gross in (i64::MIN + 1)..=i64::MAX, bp in 0u32..=10_000) {
            let share = RetainedShare::from_basis_points(bp).unwrap();
            let pos = share.shareable(Fen::from_fen(gross));
            prop_assert_eq!(share.shareable(Fen::from_fen(-gross)).fen(), -pos.fen());
            let diff = i128::from(pos.fen()) * 10_000 - i128::from(gross) * i128::from(bp);
            prop_assert!(diff.abs() <= 5_000);
        }

        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = RetainedShare::parse(&raw);
            let _ = TaxType::parse(&raw);
        }
    }
}
