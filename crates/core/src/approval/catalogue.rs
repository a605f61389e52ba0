//! The approval item catalogue (审批事项目录) and each item's service guide (办事指南): the zone's 54
//! county approval powers in five categories, 工商 · 立项准入 · 环评 · 规划 · 工程 (DESIGN.md, `approval`).
//!
//! The compiled-in catalogue is `data/approval-catalogue.json`; the admin may load an edited one with
//! [`Catalogue::parse_json`]. Every item must pass [`ApprovalItem::validate`]:
//! - the promised limit does not exceed the statutory one (承诺时限不超过法定时限);
//! - at least one key material (关键材料); material names unique; 1 to [`MAX_COPIES`] copies;
//! - 容缺受理 only with a non-key material the applicant hands in himself (only those may be missing,
//!   and the deadline to supply them is bounded by the promised limit, so that limit is at least 1);
//! - 告知承诺 only for 行政许可, and not for 环评 items: 国办发〔2020〕42号 excludes the ecological
//!   environment;
//! - at most one visit (最多跑一次); 工商 items belong to no construction stage.
//!
//! Items are versioned: an edit is a new version ([`ApprovalItem::revise`]), and an application
//! keeps the [`ItemVersion`] it was filed under.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::json;
use super::working_days::WorkingDays;
use crate::text;

const DATA: &str = include_str!("../../data/approval-catalogue.json");

/// Most copies of one material a guide may ask for.
pub const MAX_COPIES: u8 = 10;
/// Longest item or material name, in characters.
const NAME_MAX_CHARS: usize = 80;
/// Longest legal basis, condition, department or fee text, in characters.
const TEXT_MAX_CHARS: usize = 200;

/// The five categories of the article (工商类, 立项准入类, 环评类, 规划类, 工程类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Business,
    ProjectAdmission,
    Environment,
    Planning,
    Construction,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Business,
        Category::ProjectAdmission,
        Category::Environment,
        Category::Planning,
        Category::Construction,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Business => "工商",
            Category::ProjectAdmission => "立项准入",
            Category::Environment => "环评",
            Category::Planning => "规划",
            Category::Construction => "工程",
        }
    }

    /// The category's segment of an [`ItemCode`] (pinyin initials).
    pub fn code_segment(self) -> &'static str {
        match self {
            Category::Business => "GS",
            Category::ProjectAdmission => "LX",
            Category::Environment => "HP",
            Category::Planning => "GH",
            Category::Construction => "GC",
        }
    }

    fn from_segment(segment: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code_segment() == segment)
    }
}

/// 事项类型, as the power list (权力清单) classifies items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Licence,
    Filing,
    Confirmation,
    OtherPower,
    PublicService,
}

impl ItemKind {
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Licence => "行政许可",
            ItemKind::Filing => "备案",
            ItemKind::Confirmation => "行政确认",
            ItemKind::OtherPower => "其他行政权力",
            ItemKind::PublicService => "公共服务",
        }
    }
}

/// The four stages of construction-project approval (国办发〔2018〕33号, 国办发〔2019〕11号), used to
/// group the items of one investment project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstructionStage {
    LandUsePlanning,
    EngineeringPermit,
    ConstructionPermit,
    CompletionAcceptance,
}

impl ConstructionStage {
    /// In project order.
    pub const ALL: [ConstructionStage; 4] = [
        ConstructionStage::LandUsePlanning,
        ConstructionStage::EngineeringPermit,
        ConstructionStage::ConstructionPermit,
        ConstructionStage::CompletionAcceptance,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ConstructionStage::LandUsePlanning => "立项用地规划许可",
            ConstructionStage::EngineeringPermit => "工程建设许可",
            ConstructionStage::ConstructionPermit => "施工许可",
            ConstructionStage::CompletionAcceptance => "竣工验收",
        }
    }
}

/// Whether a material is handed in as the original or as a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    Original,
    Copy,
}

impl MaterialForm {
    pub fn label(self) -> &'static str {
        match self {
            MaterialForm::Original => "原件",
            MaterialForm::Copy => "复印件",
        }
    }
}

/// One entry of 申请材料.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub name: String,
    /// 关键材料: without it the application is not accepted, 容缺 or not.
    pub key: bool,
    pub form: MaterialForm,
    pub copies: u8,
    /// The government fetches it itself (电子证照, data sharing), so the applicant need not hand it in.
    pub fetchable: bool,
}

/// 收费依据和标准. Most items are free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fee {
    Free,
    Charged { standard: String, basis: String },
}

/// 事项编码: the county's division code, the category segment and a three-digit number,
/// e.g. `371323-GS-001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemCode(String);

impl ItemCode {
    pub fn parse(raw: &str) -> Result<ItemCode, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new("code", "请填写事项编码"));
        }
        let bad = || {
            FieldError::new(
                "code",
                format!("事项编码“{s}”格式不正确，应为“行政区划代码-类别-序号”，例如 371323-GS-001"),
            )
        };
        let parts: Vec<&str> = s.split('-').collect();
        let [division, segment, number] = parts.as_slice() else { return Err(bad()) };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(division, 6) || !digits(number, 3) || *number == "000" {
            return Err(bad());
        }
        if Category::from_segment(segment).is_none() {
            return Err(FieldError::new(
                "code",
                format!("事项编码“{s}”的类别“{segment}”无法识别，应为 GS、LX、HP、GH、GC 之一"),
            ));
        }
        Ok(ItemCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The category named by the code's segment.
    pub fn category(&self) -> Option<Category> {
        self.0.split('-').nth(1).and_then(Category::from_segment)
    }
}

impl fmt::Display for ItemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ItemCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<ItemCode, FieldError> {
        ItemCode::parse(&s)
    }
}

impl From<ItemCode> for String {
    fn from(c: ItemCode) -> String {
        c.0
    }
}

/// A problem with one field of an item, for the form to show next to that field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field's name in the JSON and the form, e.g. `promised_limit`.
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { field, message: message.into() }
    }
}

/// The version of an item an application was filed under; the application keeps it even after the
/// item is edited.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemVersion {
    pub code: ItemCode,
    pub version: u32,
}

impl fmt::Display for ItemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 第{}版", self.code, self.version)
    }
}

/// An approval item with its service guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalItem {
    pub code: ItemCode,
    /// 1 for the first published guide, one more for each edit.
    pub version: u32,
    pub name: String,
    pub category: Category,
    pub kind: ItemKind,
    /// 设定和实施依据, one law or regulation (with articles) per entry.
    pub legal_basis: Vec<String>,
    /// 实施机关.
    pub department: String,
    /// The office within the department that handles it (承办科室).
    #[serde(default)]
    pub unit: Option<String>,
    /// 受理条件.
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    /// 法定办结时限.
    pub statutory_limit: WorkingDays,
    /// 承诺办结时限; 0 = 即办.
    pub promised_limit: WorkingDays,
    pub fee: Fee,
    /// 到现场次数 (target 0, at most 1).
    pub visits: u8,
    /// 容缺受理 allowed.
    pub deficiency_acceptance: bool,
    /// 告知承诺 allowed.
    pub commitment_approval: bool,
    /// The construction-approval stage, for items of an investment project.
    #[serde(default)]
    pub stage: Option<ConstructionStage>,
}

impl ApprovalItem {
    pub fn version_key(&self) -> ItemVersion {
        ItemVersion { code: self.code.clone(), version: self.version }
    }

    /// The materials the office fetches itself instead of asking the applicant.
    pub fn fetchable_materials(&self) -> impl Iterator<Item = &Material> {
        self.materials.iter().filter(|m| m.fetchable)
    }

    /// Every problem of the guide (module docs), each with its field; empty when the item is valid.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut text_field = |field: &'static str, label: &str, value: &str, max: usize| {
            if let Err(m) = text::required(label, value, max) {
                errors.push(FieldError::new(field, m));
            }
        };
        text_field("name", "事项名称", &self.name, NAME_MAX_CHARS);
        text_field("department", "实施机关", &self.department, TEXT_MAX_CHARS);
        if let Some(unit) = &self.unit {
            text_field("unit", "承办科室", unit, TEXT_MAX_CHARS);
        }
        for (label, field, list) in
            [("设定和实施依据", "legal_basis", &self.legal_basis), ("受理条件", "conditions", &self.conditions)]
        {
            if list.is_empty() {
                text_field(field, label, "", TEXT_MAX_CHARS);
            }
            for (i, entry) in list.iter().enumerate() {
                text_field(field, &format!("{label}第{}条", i + 1), entry, TEXT_MAX_CHARS);
            }
        }
        if let Fee::Charged { standard, basis } = &self.fee {
            text_field("fee", "收费标准", standard, TEXT_MAX_CHARS);
            text_field("fee", "收费依据", basis, TEXT_MAX_CHARS);
        }
        if self.version == 0 {
            errors.push(FieldError::new("version", "版本号从1开始"));
        }
        if self.code.category().is_some_and(|c| c != self.category) {
            let segment = self.code.as_str().split('-').nth(1).unwrap_or_default();
            errors.push(FieldError::new(
                "code",
                format!("事项编码中的类别“{segment}”与事项类别“{}”不一致", self.category.label()),
            ));
        }
        self.validate_materials(&mut errors);
        self.validate_rules(&mut errors);
        errors
    }

    fn validate_materials(&self, errors: &mut Vec<FieldError>) {
        let err = |m: String| FieldError::new("materials", m);
        if self.materials.is_empty() {
            errors.push(err("请至少列出一项申请材料".into()));
            return;
        }
        let mut seen = BTreeSet::new();
        for (i, m) in self.materials.iter().enumerate() {
            match text::required("材料名称", &m.name, NAME_MAX_CHARS) {
                Err(msg) => errors.push(err(format!("第{}项材料：{msg}", i + 1))),
                Ok(name) if !seen.insert(name.clone()) => errors.push(err(format!("材料“{name}”重复列出"))),
                Ok(_) => {}
            }
            if !(1..=MAX_COPIES).contains(&m.copies) {
                errors.push(err(format!("材料“{}”的份数应为1至{MAX_COPIES}份", m.name.trim())));
            }
        }
        if !self.materials.iter().any(|m| m.key) {
            errors.push(err("至少应有一项关键材料".into()));
        }
    }

    fn validate_rules(&self, errors: &mut Vec<FieldError>) {
        if self.promised_limit > self.statutory_limit {
            errors.push(FieldError::new(
                "promised_limit",
                format!("承诺时限（{}）不能超过法定时限（{}）", self.promised_limit, self.statutory_limit),
            ));
        }
        if self.visits > 1 {
            errors.push(FieldError::new("visits", "到现场次数不能超过1次（最多跑一次）"));
        }
        if self.deficiency_acceptance {
            if !self.materials.iter().any(|m| !m.key && !m.fetchable) {
                errors.push(FieldError::new(
                    "deficiency_acceptance",
                    "允许容缺受理的事项至少应有一项由申请人提交的非关键材料（只有这类材料可以容缺）",
                ));
            }
            if self.promised_limit == WorkingDays::ZERO {
                errors.push(FieldError::new(
                    "deficiency_acceptance",
                    "即办事项（承诺时限为0）不适用容缺受理：补齐期限不能超过承诺时限",
                ));
            }
        }
        if self.commitment_approval && self.kind != ItemKind::Licence {
            errors.push(FieldError::new("commitment_approval", "告知承诺制仅适用于行政许可事项（国办发〔2020〕42号）"));
        }
        if self.commitment_approval && self.category == Category::Environment {
            errors.push(FieldError::new(
                "commitment_approval",
                "环评类事项涉及生态环境保护，不适用告知承诺制（国办发〔2020〕42号）",
            ));
        }
        if self.stage.is_some() && self.category == Category::Business {
            errors.push(FieldError::new("stage", "工商类事项不属于工程建设项目审批阶段"));
        }
    }

    /// The next version of this item: `edited` with the version number advanced. The code cannot
    /// change (a new code is a new item), and the edit must be valid.
    pub fn revise(&self, mut edited: ApprovalItem) -> Result<ApprovalItem, Vec<FieldError>> {
        if edited.code != self.code {
            return Err(vec![FieldError::new("code", "事项编码不能修改；新的事项请使用新编码新增")]);
        }
        edited.version = self.version.saturating_add(1);
        let errors = edited.validate();
        if errors.is_empty() { Ok(edited) } else { Err(errors) }
    }
}

/// Why a catalogue was refused: every problem, each naming the item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("；"))]
pub struct CatalogueError {
    pub problems: Vec<String>,
}

/// A catalogue whose items are all valid and have distinct codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    items: Vec<ApprovalItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    items: Vec<ApprovalItem>,
}

impl Catalogue {
    /// The compiled-in catalogue. A test parses it strictly, so the empty fallback never happens.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: OnceLock<Catalogue> = OnceLock::new();
        BUILTIN.get_or_init(|| Catalogue::parse_json(DATA).unwrap_or_default())
    }

    /// A catalogue as the admin edited it: `{"items": [...]}`, in the format of the compiled-in file.
    pub fn parse_json(raw: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            serde_json::from_str(raw).map_err(|e| CatalogueError { problems: vec![json::describe(&e)] })?;
        Catalogue::from_items(file.items)
    }

    pub fn from_items(items: Vec<ApprovalItem>) -> Result<Catalogue, CatalogueError> {
        let mut problems = Vec::new();
        if items.is_empty() {
            problems.push("目录中没有事项".to_owned());
        }
        let mut seen = BTreeSet::new();
        for item in &items {
            if !seen.insert(&item.code) {
                problems.push(format!("事项编码{}重复", item.code));
            }
            problems.extend(item.validate().into_iter().map(|e| format!("{}（{}）：{e}", item.code, item.name.trim())));
        }
        if problems.is_empty() { Ok(Catalogue { items }) } else { Err(CatalogueError { problems }) }
    }

    pub fn items(&self) -> &[ApprovalItem] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item with this code (surrounding spaces ignored).
    pub fn get(&self, code: &str) -> Option<&ApprovalItem> {
        let code = code.trim();
        self.items.iter().find(|i| i.code.as_str() == code)
    }

    pub fn in_category(&self, category: Category) -> impl Iterator<Item = &ApprovalItem> {
        self.items.iter().filter(move |i| i.category == category)
    }

    /// The items of one construction stage, for grouping the items of an investment project.
    pub fn in_stage(&self, stage: ConstructionStage) -> impl Iterator<Item = &ApprovalItem> {
        self.items.iter().filter(move |i| i.stage == Some(stage))
    }

    /// Number of items per category, in [`Category::ALL`] order.
    pub fn count_by_category(&self) -> [(Category, usize); 5] {
        Category::ALL.map(|c| (c, self.in_category(c).count()))
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
#[path = "catalogue_tests.rs"]
mod tests;
