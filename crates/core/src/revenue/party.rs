//! The parties of a sharing: introducer (引资单位), host town (落地单位) and the zone, and who receives
//! one project's tax in a period.
//!
//! Cases the reference asks to define ("Enclave economy tax sharing"):
//! - introducer = host town: that town receives both shares (5 + 3 of 10 by default);
//! - introducer is a county department (县直部门): the department receives the introducer's share;
//! - no introducer (the zone's own project, also one attracted by the committee's own departments):
//!   the reference is silent, so the introducer's share goes to the zone (5 + 2 by default) — the
//!   zone did the attracting, and the host town keeps its 3 as with any landed project;
//! - a project that moved: the host town and the agreement in force in the period decide; a period
//!   with no host town in force is not shared (the project had not landed) and is reported.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;

use super::agreement::{Agreements, SharingRatio};
use super::period::{Period, Validity, check_no_overlap};
use super::{RevenueError, shown};

/// One of the 18 towns and streets (not the county itself), by its 9-digit division code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TownCode(DivisionCode);

impl TownCode {
    pub fn parse(raw: &str) -> Result<TownCode, RevenueError> {
        match DivisionCode::parse(raw) {
            Ok(code) if code.town().is_some() => Ok(TownCode(code)),
            Ok(_) => Err(RevenueError::new("此处应为乡镇（街道）的 9 位代码，不能是县本级代码")),
            Err(e) => Err(RevenueError::new(e.message)),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The town's name, e.g. 许家湖镇.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl TryFrom<String> for TownCode {
    type Error = RevenueError;
    fn try_from(s: String) -> Result<TownCode, RevenueError> {
        TownCode::parse(&s)
    }
}

impl From<TownCode> for String {
    fn from(c: TownCode) -> String {
        c.0.into()
    }
}

/// A county department (县直部门) by its id in the organisation reference data (`departments.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DepartmentId(i64);

impl DepartmentId {
    pub const fn new(id: i64) -> DepartmentId {
        DepartmentId(id)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

/// An investment project (招商项目) by its id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(i64);

impl ProjectId {
    pub const fn new(id: i64) -> ProjectId {
        ProjectId(id)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

/// A unit that receives a share: a town, a county department, or the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Unit {
    Town(TownCode),
    Department(DepartmentId),
    Zone,
}

/// The town's name, "县直部门（编号 7）", or 开发区.
impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unit::Town(t) => f.write_str(t.name()),
            Unit::Department(d) => write!(f, "县直部门（编号 {}）", d.get()),
            Unit::Zone => f.write_str("开发区"),
        }
    }
}

/// A host town in force for some months.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HostSpell {
    town: TownCode,
    validity: Validity,
}

impl HostSpell {
    pub fn new(town: TownCode, from: Period, to: Option<Period>) -> Result<HostSpell, RevenueError> {
        Ok(HostSpell { town, validity: Validity::new(from, to)? })
    }

    pub fn town(&self) -> &TownCode {
        &self.town
    }

    pub fn validity(&self) -> Validity {
        self.validity
    }
}

/// Where a project landed over time; never two host towns in the same month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostHistory(Vec<HostSpell>);

impl HostHistory {
    pub fn new(mut spells: Vec<HostSpell>) -> Result<HostHistory, RevenueError> {
        let validities: Vec<Validity> = spells.iter().map(|s| s.validity).collect();
        check_no_overlap(&validities, "落地单位")?;
        spells.sort_by_key(|s| s.validity.from());
        Ok(HostHistory(spells))
    }

    /// One host town from `from` on.
    pub fn since(town: TownCode, from: Period) -> HostHistory {
        HostHistory(vec![HostSpell { town, validity: Validity::open_from(from) }])
    }

    pub fn in_force(&self, period: Period) -> Option<&TownCode> {
        self.0.iter().find(|s| s.validity.contains(period)).map(|s| &s.town)
    }

    pub fn as_slice(&self) -> &[HostSpell] {
        &self.0
    }
}

/// What the sharing needs to know of an investment project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    id: ProjectId,
    introducer: Option<Unit>,
    hosts: HostHistory,
    agreements: Agreements,
}

impl Project {
    /// `introducer` `None` (or `Some(Unit::Zone)`) is the zone's own project; see the module docs.
    pub fn new(id: ProjectId, introducer: Option<Unit>, hosts: HostHistory, agreements: Agreements) -> Project {
        Project { id, introducer, hosts, agreements }
    }

    pub fn id(&self) -> ProjectId {
        self.id
    }

    pub fn introducer(&self) -> Option<&Unit> {
        self.introducer.as_ref()
    }

    pub fn hosts(&self) -> &HostHistory {
        &self.hosts
    }

    pub fn agreements(&self) -> &Agreements {
        &self.agreements
    }

    /// Who receives this project's tax of `period`; an error when no host town is in force then.
    pub fn beneficiaries(&self, period: Period) -> Result<Beneficiaries, RevenueError> {
        let host = self.hosts.in_force(period).ok_or_else(|| {
            RevenueError::new(format!("项目（编号 {}）在 {} 没有落地单位，不参与分成", self.id.get(), period.label()))
        })?;
        let ratio = self.agreements.ratio_for(period);
        let introducer = self.introducer.unwrap_or(Unit::Zone);
        let mut b = Beneficiaries { ratio, shares: [(Unit::Zone, 0); 3], len: 0 };
        for (unit, weight) in
            [(introducer, ratio.introducer()), (Unit::Town(*host), ratio.host()), (Unit::Zone, ratio.zone())]
        {
            if weight == 0 {
                continue;
            }
            let held = b.shares.get_mut(..b.len).unwrap_or_default();
            match held.iter_mut().find(|(u, _)| *u == unit) {
                Some((_, w)) => *w += weight,
                None => {
                    if let Some(free) = b.shares.get_mut(b.len) {
                        *free = (unit, weight);
                        b.len += 1;
                    }
                }
            }
        }
        Ok(b)
    }
}

/// The units receiving one project's tax in a period with their weights (in tenths), at most three,
/// each unit once. Order: introducer, host town, zone — the tie-break order of the split. Held inline:
/// a settlement works them out for every project it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beneficiaries {
    ratio: SharingRatio,
    shares: [(Unit, u32); 3],
    len: usize,
}

impl Serialize for Beneficiaries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Beneficiaries", 2)?;
        st.serialize_field("ratio", &self.ratio)?;
        st.serialize_field("shares", self.shares())?;
        st.end()
    }
}

impl Beneficiaries {
    /// The agreement's ratio applied (before merging).
    pub fn ratio(&self) -> SharingRatio {
        self.ratio
    }

    pub fn shares(&self) -> &[(Unit, u32)] {
        self.shares.get(..self.len).unwrap_or_default()
    }

    pub fn weights(&self) -> Vec<u32> {
        self.shares().iter().map(|(_, w)| *w).collect()
    }
}

/// Parses a department id typed into a form.
impl std::str::FromStr for DepartmentId {
    type Err = RevenueError;
    fn from_str(s: &str) -> Result<DepartmentId, RevenueError> {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(DepartmentId)
            .ok_or_else(|| RevenueError::new(format!("部门编号“{}”不正确", shown(s))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const XUJIAHU: &str = "371323103";
    const YICHENG: &str = "371323001";

    fn town(code: &str) -> TownCode {
        TownCode::parse(code).unwrap()
    }

    fn month(raw: &str) -> Period {
        Period::parse(raw).unwrap()
    }

    fn project(introducer: Option<Unit>, hosts: HostHistory, agreements: Agreements) -> Project {
        Project::new(ProjectId::new(1), introducer, hosts, agreements)
    }

    fn shares(p: &Project, period: &str) -> Vec<(String, u32)> {
        let b = p.beneficiaries(month(period)).unwrap();
        b.shares().iter().map(|(u, w)| (u.to_string(), *w)).collect()
    }

    fn s(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
        pairs.iter().map(|(u, w)| ((*u).to_owned(), *w)).collect()
    }

    #[test]
    fn town_codes_are_towns_not_the_county() {
        assert_eq!(town(XUJIAHU).name(), "许家湖镇");
        assert_eq!(town(XUJIAHU).as_str(), XUJIAHU);
        assert_eq!(
            TownCode::parse("371323").map_err(|e| e.message),
            Err("此处应为乡镇（街道）的 9 位代码，不能是县本级代码".to_owned())
        );
        assert!(TownCode::parse("371323105").is_err_and(|e| e.message.starts_with("未知的行政区划代码")));
        assert_eq!("7".parse::<DepartmentId>(), Ok(DepartmentId::new(7)));
        assert!("0".parse::<DepartmentId>().is_err() && "x".parse::<DepartmentId>().is_err());
    }

    #[test]
    fn introducer_host_and_zone_by_default_five_three_two() {
        let p = project(
            Some(Unit::Town(town(YICHENG))),
            HostHistory::since(town(XUJIAHU), month("2020-01")),
            Agreements::default(),
        );
        assert_eq!(shares(&p, "2022-01"), s(&[("沂城街道", 5), ("许家湖镇", 3), ("开发区", 2)]));
        assert_eq!(p.beneficiaries(month("2022-01")).unwrap().ratio(), SharingRatio::DEFAULT);
    }

    #[test]
    fn introducer_that_is_also_the_host_gets_both_shares() {
        let p = project(
            Some(Unit::Town(town(XUJIAHU))),
            HostHistory::since(town(XUJIAHU), month("2020-01")),
            Agreements::default(),
        );
        assert_eq!(shares(&p, "2022-01"), s(&[("许家湖镇", 8), ("开发区", 2)]));
    }

    #[test]
    fn a_county_department_as_introducer() {
        let p = project(
            Some(Unit::Department(DepartmentId::new(4))),
            HostHistory::since(town(XUJIAHU), month("2020-01")),
            Agreements::default(),
        );
        assert_eq!(shares(&p, "2022-01"), s(&[("县直部门（编号 4）", 5), ("许家湖镇", 3), ("开发区", 2)]));
    }

    #[test]
    fn no_introducer_gives_the_introducer_share_to_the_zone() {
        let p = project(None, HostHistory::since(town(XUJIAHU), month("2020-01")), Agreements::default());
        assert_eq!(shares(&p, "2022-01"), s(&[("开发区", 7), ("许家湖镇", 3)]));
        let q = project(Some(Unit::Zone), HostHistory::since(town(XUJIAHU), month("2020-01")), Agreements::default());
        assert_eq!(shares(&q, "2022-01"), s(&[("开发区", 7), ("许家湖镇", 3)]));
    }

    #[test]
    fn a_project_that_moved_is_shared_by_the_host_and_agreement_in_force() {
        use super::super::agreement::Agreement;
        let hosts = HostHistory::new(vec![
            HostSpell::new(town(YICHENG), month("2020-01"), Some(month("2021-12"))).unwrap(),
            HostSpell::new(town(XUJIAHU), month("2022-01"), None).unwrap(),
        ])
        .unwrap();
        let agreements = Agreements::new(vec![
            Agreement::new(SharingRatio::parse("7:3:0").unwrap(), month("2020-01"), Some(month("2021-12"))).unwrap(),
        ])
        .unwrap();
        let p = project(Some(Unit::Department(DepartmentId::new(2))), hosts, agreements);
        assert_eq!(shares(&p, "2021-12"), s(&[("县直部门（编号 2）", 7), ("沂城街道", 3)]));
        assert_eq!(shares(&p, "2022-01"), s(&[("县直部门（编号 2）", 5), ("许家湖镇", 3), ("开发区", 2)]));
        assert_eq!(
            p.beneficiaries(month("2019-12")).map_err(|e| e.message),
            Err("项目（编号 1）在 2019年12月 没有落地单位，不参与分成".to_owned())
        );
    }

    #[test]
    fn host_spells_may_not_overlap() {
        let e = HostHistory::new(vec![
            HostSpell::new(town(YICHENG), month("2020-01"), None).unwrap(),
            HostSpell::new(town(XUJIAHU), month("2022-01"), None).unwrap(),
        ]);
        assert!(e.is_err_and(|e| e.message.contains("落地单位") && e.message.contains("重叠")));
    }

    #[test]
    fn zero_weights_are_left_out() {
        use super::super::agreement::Agreement;
        let only_zone = Agreements::new(vec![
            Agreement::new(SharingRatio::parse("0:0:10").unwrap(), month("2020-01"), None).unwrap(),
        ])
        .unwrap();
        let p =
            project(Some(Unit::Town(town(YICHENG))), HostHistory::since(town(XUJIAHU), month("2020-01")), only_zone);
        assert_eq!(shares(&p, "2022-01"), s(&[("开发区", 10)]));
        assert_eq!(p.beneficiaries(month("2022-01")).unwrap().weights(), vec![10]);
    }
}
