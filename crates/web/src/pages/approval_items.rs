//! The approval catalogue for department staff: the list of items with their current versions, and
//! the edit form of a service guide (limits, materials, flags, conditions, basis, fee), which
//! publishes a new version (core: `ApprovalItem::revise`). The JSON API calls the same operation.

use super::guide::{category_code, grouped, limit_text, parse_category};
use super::{FieldErrors, render, see_other};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, PageError};
use crate::form::PageForm;
use crate::view::Chrome;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dianxiaoer_core::approval::{ApprovalItem, Category, Fee, Material, MaterialForm, WorkingDays};
use dianxiaoer_store::{ItemFilter, ItemVersionRow};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Blank material rows the form offers for new materials.
const BLANK_ROWS: usize = 3;
/// Most material rows one form may send.
const MAX_ROWS: usize = 40;

#[derive(Deserialize, Default)]
pub struct ItemsQuery {
    q: Option<String>,
    category: Option<String>,
    ok: Option<String>,
}

#[derive(Template)]
#[template(path = "approval_items.html")]
struct ItemsPage {
    chrome: Chrome,
    q: String,
    category: String,
    categories: Vec<(String, &'static str)>,
    groups: Vec<super::guide::Group>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<ItemsQuery>,
) -> Result<Response, PageError> {
    let category = parse_category(q.category.as_deref())?;
    let items = state.store.approval_items(&ItemFilter { q: q.q.clone(), category }).await?;
    render(&ItemsPage {
        chrome: Chrome::new(&me, "/approval/items", "审批事项目录").notice(q.ok.as_deref()),
        q: q.q.unwrap_or_default(),
        category: category.as_ref().map(category_code).unwrap_or_default(),
        categories: Category::ALL.iter().map(|c| (category_code(c), c.label())).collect(),
        groups: grouped(items),
    })
}

/// One material row as typed.
#[derive(Debug, Clone, Default)]
pub struct MaterialRow {
    pub name: String,
    pub key: bool,
    pub original: bool,
    pub copies: String,
    pub fetchable: bool,
}

/// The edit form as typed, so that a refused form comes back with what was entered.
#[derive(Debug, Clone, Default)]
pub struct ItemForm {
    pub base_version: String,
    pub name: String,
    pub department: String,
    pub unit: String,
    pub statutory_limit: String,
    pub promised_limit: String,
    pub visits: String,
    pub charged: bool,
    pub fee_standard: String,
    pub fee_basis: String,
    pub deficiency_acceptance: bool,
    pub commitment_approval: bool,
    pub conditions: String,
    pub legal_basis: String,
    pub materials: Vec<MaterialRow>,
}

impl ItemForm {
    /// The form filled from a stored item, with blank rows for new materials.
    pub fn of(item: &ApprovalItem) -> ItemForm {
        let (charged, fee_standard, fee_basis) = match &item.fee {
            Fee::Free => (false, String::new(), String::new()),
            Fee::Charged { standard, basis } => (true, standard.clone(), basis.clone()),
        };
        let mut materials: Vec<MaterialRow> = item
            .materials
            .iter()
            .map(|m| MaterialRow {
                name: m.name.clone(),
                key: m.key,
                original: m.form == MaterialForm::Original,
                copies: m.copies.to_string(),
                fetchable: m.fetchable,
            })
            .collect();
        materials.extend((0..BLANK_ROWS).map(|_| MaterialRow { copies: "1".into(), ..MaterialRow::default() }));
        ItemForm {
            base_version: item.version.to_string(),
            name: item.name.clone(),
            department: item.department.clone(),
            unit: item.unit.clone().unwrap_or_default(),
            statutory_limit: item.statutory_limit.get().to_string(),
            promised_limit: item.promised_limit.get().to_string(),
            visits: item.visits.to_string(),
            charged,
            fee_standard,
            fee_basis,
            deficiency_acceptance: item.deficiency_acceptance,
            commitment_approval: item.commitment_approval,
            conditions: item.conditions.join("\n"),
            legal_basis: item.legal_basis.join("\n"),
            materials,
        }
    }

    /// The form from posted fields: `m{i}_name`, `m{i}_key`, … for the material rows; a checkbox
    /// counts when present.
    pub fn from_pairs(pairs: &[(String, String)]) -> ItemForm {
        let fields: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let get = |k: &str| fields.get(k).map(|v| v.to_string()).unwrap_or_default();
        let on = |k: &str| fields.contains_key(k);
        let materials = (0..MAX_ROWS)
            .take_while(|i| fields.contains_key(format!("m{i}_name").as_str()))
            .map(|i| MaterialRow {
                name: get(&format!("m{i}_name")),
                key: on(&format!("m{i}_key")),
                original: get(&format!("m{i}_form")) != "copy",
                copies: get(&format!("m{i}_copies")),
                fetchable: on(&format!("m{i}_fetchable")),
            })
            .collect();
        ItemForm {
            base_version: get("base_version"),
            name: get("name"),
            department: get("department"),
            unit: get("unit"),
            statutory_limit: get("statutory_limit"),
            promised_limit: get("promised_limit"),
            visits: get("visits"),
            charged: get("fee") == "charged",
            fee_standard: get("fee_standard"),
            fee_basis: get("fee_basis"),
            deficiency_acceptance: on("deficiency_acceptance"),
            commitment_approval: on("commitment_approval"),
            conditions: get("conditions"),
            legal_basis: get("legal_basis"),
            materials,
        }
    }

    /// The edited item (code, category, kind and stage as in `current`) and the version it was based
    /// on, or the problems by field. The rules of the guide are checked by `revise` afterwards.
    pub fn parse(&self, current: &ApprovalItem) -> Result<(u32, ApprovalItem), FieldErrors> {
        let mut errors = FieldErrors::new();
        let base = self.base_version.trim().parse::<u32>().unwrap_or_else(|_| {
            errors.insert("base_version", "缺少所编辑的版本号，请从事项目录重新打开编辑页".into());
            0
        });
        let mut days = |field: &'static str, raw: &str| {
            WorkingDays::parse(raw).unwrap_or_else(|e| {
                errors.insert(field, e.message);
                WorkingDays::ZERO
            })
        };
        let statutory_limit = days("statutory_limit", &self.statutory_limit);
        let promised_limit = days("promised_limit", &self.promised_limit);
        let visits = match self.visits.trim() {
            "0" => 0,
            "1" => 1,
            _ => {
                errors.insert("visits", "到现场次数应为0或1".into());
                0
            }
        };
        let mut materials = Vec::new();
        for (i, m) in self.materials.iter().enumerate().filter(|(_, m)| !m.name.trim().is_empty()) {
            match m.copies.trim().parse::<u8>() {
                Ok(copies) => materials.push(Material {
                    name: m.name.trim().to_owned(),
                    key: m.key,
                    form: if m.original { MaterialForm::Original } else { MaterialForm::Copy },
                    copies,
                    fetchable: m.fetchable,
                }),
                Err(_) => {
                    errors.insert("materials", format!("第{}项材料的份数应为1至10的整数", i + 1));
                }
            }
        }
        let lines = |s: &str| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let fee = if self.charged {
            Fee::Charged { standard: self.fee_standard.trim().to_owned(), basis: self.fee_basis.trim().to_owned() }
        } else {
            Fee::Free
        };
        let unit = Some(self.unit.trim().to_owned()).filter(|u| !u.is_empty());
        let item = ApprovalItem {
            code: current.code.clone(),
            version: current.version,
            name: self.name.trim().to_owned(),
            category: current.category,
            kind: current.kind,
            legal_basis: lines(&self.legal_basis),
            department: self.department.trim().to_owned(),
            unit,
            conditions: lines(&self.conditions),
            materials,
            statutory_limit,
            promised_limit,
            fee,
            visits,
            deficiency_acceptance: self.deficiency_acceptance,
            commitment_approval: self.commitment_approval,
            stage: current.stage,
        };
        // The guide's own rules, as the store will check them, shown next to their fields.
        if let Err(problems) = current.revise(item.clone()) {
            for p in problems {
                errors.entry(p.field).and_modify(|m| m.push_str(&format!("；{}", p.message))).or_insert(p.message);
            }
        }
        if errors.is_empty() { Ok((base, item)) } else { Err(errors) }
    }
}

#[derive(Template)]
#[template(path = "approval_item_form.html")]
struct EditPage {
    chrome: Chrome,
    item: ApprovalItem,
    f: ItemForm,
    errors: FieldErrors,
    versions: Vec<ItemVersionRow>,
    limit: String,
}

async fn edit_page(
    state: &AppState,
    me: &CurrentUser,
    item: ApprovalItem,
    f: ItemForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let bad = !errors.is_empty();
    let versions = state.store.approval_item_versions(item.code.as_str()).await?;
    let limit = limit_text(&item);
    let mut resp = render(&EditPage {
        chrome: Chrome::new(me, "/approval/items", "编辑办事指南"),
        item,
        f,
        errors,
        versions,
        limit,
    })?;
    if bad {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let item = state.store.approval_item(&code).await?.item;
    let f = ItemForm::of(&item);
    edit_page(&state, &me, item, f, FieldErrors::new()).await
}

/// Publishes an edited item as a new version (page and API).
pub async fn publish(
    state: &AppState,
    me: &CurrentUser,
    base: u32,
    item: ApprovalItem,
) -> Result<ApprovalItem, AppError> {
    Ok(state.store.revise_approval_item(&me.actor(), base, item, state.now()).await?)
}

pub async fn save(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Path(code): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let current = state.store.approval_item(&code).await?.item;
    let f = ItemForm::from_pairs(&pairs);
    let errors = match f.parse(&current) {
        Ok((base, item)) => match publish(&state, &me, base, item).await {
            Ok(_) => return Ok(see_other("/approval/items?ok=revised")),
            Err(AppError::Conflict(m) | AppError::BadRequest(m)) => FieldErrors::from([("base_version", m)]),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    edit_page(&state, &me, current, f, errors).await
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use dianxiaoer_core::approval::Catalogue;

    fn item() -> ApprovalItem {
        Catalogue::builtin().get("371323-GS-001").cloned().unwrap_or_else(|| panic!("item"))
    }

    fn pairs(f: &ItemForm) -> Vec<(String, String)> {
        let mut out = vec![
            ("base_version".to_owned(), f.base_version.clone()),
            ("name".into(), f.name.clone()),
            ("department".into(), f.department.clone()),
            ("unit".into(), f.unit.clone()),
            ("statutory_limit".into(), f.statutory_limit.clone()),
            ("promised_limit".into(), f.promised_limit.clone()),
            ("visits".into(), f.visits.clone()),
            ("fee".into(), if f.charged { "charged" } else { "free" }.into()),
            ("conditions".into(), f.conditions.clone()),
            ("legal_basis".into(), f.legal_basis.clone()),
        ];
        if f.deficiency_acceptance {
            out.push(("deficiency_acceptance".into(), "1".into()));
        }
        if f.commitment_approval {
            out.push(("commitment_approval".into(), "1".into()));
        }
        for (i, m) in f.materials.iter().enumerate() {
            out.push((format!("m{i}_name"), m.name.clone()));
            out.push((format!("m{i}_copies"), m.copies.clone()));
            out.push((format!("m{i}_form"), if m.original { "original" } else { "copy" }.into()));
            if m.key {
                out.push((format!("m{i}_key"), "1".into()));
            }
            if m.fetchable {
                out.push((format!("m{i}_fetchable"), "1".into()));
            }
        }
        out
    }

    #[test]
    fn the_form_round_trips_an_item() {
        let it = item();
        let f = ItemForm::from_pairs(&pairs(&ItemForm::of(&it)));
        let (base, parsed) = f.parse(&it).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((base, parsed), (it.version, it));
    }

    #[test]
    fn refusals_name_their_fields() {
        let it = item();
        let mut f = ItemForm::of(&it);
        f.promised_limit = "99".into();
        f.statutory_limit = "20天".into();
        f.visits = "2".into();
        f.materials.iter_mut().for_each(|m| m.key = false);
        let errors = f.parse(&it).err().unwrap_or_default();
        for field in ["statutory_limit", "visits", "materials"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
        let mut f = ItemForm::of(&it);
        f.base_version = String::new();
        assert!(f.parse(&it).err().unwrap_or_default().contains_key("base_version"));
    }
}
