//! The approval catalogue (审批事项目录) in the database: every version of every item with its service
//! guide, and each version's workflow. The 54 built-in items and their default flows are seeded with
//! the reference data; an edit is a new version (core: `ApprovalItem::revise`), audited, and the cases
//! filed before keep theirs.

use crate::Store;
use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::Sql;
use dianxiaoer_core::approval::{ApprovalItem, Catalogue, Category, Workflow};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;

/// Who created the built-in version 1 of each item.
pub const BUILTIN_AUTHOR: &str = "系统内置";

/// One stored version of an item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub item: ApprovalItem,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
}

/// A version in an item's history.
#[derive(Debug, Clone, Serialize)]
pub struct ItemVersionRow {
    pub version: i64,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
}

/// Filters of the catalogue.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Part of the name or the code.
    pub q: Option<String>,
    pub category: Option<Category>,
}

/// A stored value the schema should have prevented: reported as a database error, never shown.
pub(crate) fn corrupt(what: String) -> Error {
    Error::Db(sqlx::Error::Decode(format!("approval: {what}").into()))
}

pub(crate) fn category_code(c: Category) -> &'static str {
    match c {
        Category::Business => "business",
        Category::ProjectAdmission => "project_admission",
        Category::Environment => "environment",
        Category::Planning => "planning",
        Category::Construction => "construction",
    }
}

pub(crate) fn parse_item(raw: &str) -> Result<ApprovalItem> {
    serde_json::from_str(raw).map_err(|e| corrupt(format!("item_json: {e}")))
}

pub(crate) fn parse_flow(raw: &str) -> Result<Workflow> {
    Workflow::parse_json(raw).map_err(|e| corrupt(format!("flow_json: {e}")))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt(format!("encode: {e}")))
}

pub(crate) fn item_row(r: &AnyRow) -> Result<ItemRow> {
    let raw: String = r.try_get("item_json")?;
    Ok(ItemRow {
        item: parse_item(&raw)?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

pub(crate) const SELECT: &str = "SELECT item_json, active, created_at, created_by FROM approval_items";

const INSERT_ITEM: &str = "INSERT INTO approval_items \
    (code, version, name, category, item_json, active, created_at, created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)";
const INSERT_FLOW: &str =
    "INSERT INTO approval_workflows (item_code, item_version, flow_json, created_at) VALUES ($1, $2, $3, $4)";
/// Seeding tolerates another instance seeding at the same moment.
const SEED_SUFFIX: &str = " ON CONFLICT DO NOTHING";

/// Inserts a version and its workflow; `seed` skips a version that exists already.
pub(crate) async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    item: &ApprovalItem,
    flow: &Workflow,
    by: &str,
    now: i64,
    seed: bool,
) -> Result<()> {
    let suffix = if seed { SEED_SUFFIX } else { "" };
    sqlx::query(&format!("{INSERT_ITEM}{suffix}"))
        .bind(item.code.as_str().to_string())
        .bind(i64::from(item.version))
        .bind(item.name.trim().to_string())
        .bind(category_code(item.category))
        .bind(to_json(item)?)
        .bind(now)
        .bind(by.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::from(e).unique_as("该事项版本已存在，请刷新后重新编辑"))?;
    sqlx::query(&format!("{INSERT_FLOW}{suffix}"))
        .bind(item.code.as_str().to_string())
        .bind(i64::from(item.version))
        .bind(to_json(flow)?)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The active version of an item, which an edit must be based on (`base_version`), or a conflict.
pub(crate) async fn current_version(tx: &mut crate::Tx<'_>, code: &str, base_version: u32) -> Result<ApprovalItem> {
    let current = sqlx::query(&format!("{SELECT} WHERE code = $1 AND active = 1"))
        .bind(code.trim().to_string())
        .fetch_optional(&mut *tx.tx)
        .await?
        .as_ref()
        .map(item_row)
        .transpose()?
        .ok_or(Error::NotFound)?
        .item;
    if current.version != base_version {
        return Err(Error::Conflict(format!(
            "该事项已被修改为第{}版，您编辑的是第{base_version}版；请刷新后重新编辑",
            current.version
        )));
    }
    Ok(current)
}

/// Deactivates the current version before its successor is inserted; only the current version may
/// be, so two concurrent edits cannot both publish.
pub(crate) async fn retire(tx: &mut crate::Tx<'_>, current: &ApprovalItem) -> Result<()> {
    let n = sqlx::query("UPDATE approval_items SET active = 0 WHERE code = $1 AND version = $2 AND active = 1")
        .bind(current.code.as_str().to_string())
        .bind(i64::from(current.version))
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(Error::Conflict("该事项正在被他人修改，请刷新后重新编辑".into()));
    }
    Ok(())
}

/// The workflow of `item`'s version, read inside a transaction.
pub(crate) async fn current_flow(tx: &mut crate::Tx<'_>, item: &ApprovalItem) -> Result<Workflow> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT flow_json FROM approval_workflows WHERE item_code = $1 AND item_version = $2")
            .bind(item.code.as_str().to_string())
            .bind(i64::from(item.version))
            .fetch_optional(&mut *tx.tx)
            .await?;
    parse_flow(&raw.ok_or(Error::NotFound)?)
}

/// A concise summary of what changed between two versions, for the audit record.
fn changes(before: &ApprovalItem, after: &ApprovalItem) -> serde_json::Value {
    let (b, a) = (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
        for (k, v) in a.iter().filter(|(k, _)| k.as_str() != "version") {
            if b.get(k) != Some(v) {
                out.insert(k.clone(), json!({"before": b.get(k), "after": v}));
            }
        }
    }
    serde_json::Value::Object(out)
}

impl Store {
    /// Seeds the built-in catalogue: each item that has no version yet gets version 1 and its default
    /// workflow. Idempotent, run with the reference data at every start; edited items are untouched.
    pub async fn seed_approval_catalogue(&self, now: i64) -> Result<usize> {
        let present: BTreeSet<String> = sqlx::query_scalar::<_, String>("SELECT DISTINCT code FROM approval_items")
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .collect();
        let missing: Vec<&ApprovalItem> =
            Catalogue::builtin().items().iter().filter(|i| !present.contains(i.code.as_str())).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        for item in &missing {
            insert_version(&mut tx.tx, item, &Workflow::default_for(item), BUILTIN_AUTHOR, now, true).await?;
        }
        tx.commit().await?;
        Ok(missing.len())
    }

    /// The current version of every item matching `f`, by category and code.
    pub async fn approval_items(&self, f: &ItemFilter) -> Result<Vec<ApprovalItem>> {
        let mut s = Sql::new("SELECT item_json, active, created_at, created_by FROM approval_items WHERE active = 1");
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            s.push(" AND (name LIKE ").like(q).push(" OR code LIKE ").like(q).push(")");
        }
        if let Some(c) = f.category {
            s.push(" AND category = ").text(category_code(c));
        }
        s.push(" ORDER BY code");
        let rows = s.fetch_all(self.pool()).await?;
        let mut items = rows.iter().map(|r| item_row(r).map(|r| r.item)).collect::<Result<Vec<_>>>()?;
        items.sort_by(|a, b| (a.category, &a.code).cmp(&(b.category, &b.code)));
        Ok(items)
    }

    /// The current version of an item, with who published it.
    pub async fn approval_item(&self, code: &str) -> Result<ItemRow> {
        let r = sqlx::query(&format!("{SELECT} WHERE code = $1 AND active = 1"))
            .bind(code.trim().to_string())
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(item_row).transpose()?.ok_or(Error::NotFound)
    }

    /// A given version of an item.
    pub async fn approval_item_version(&self, code: &str, version: i64) -> Result<ItemRow> {
        let r = sqlx::query(&format!("{SELECT} WHERE code = $1 AND version = $2"))
            .bind(code.trim().to_string())
            .bind(version)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(item_row).transpose()?.ok_or(Error::NotFound)
    }

    /// Every version of an item, newest first.
    pub async fn approval_item_versions(&self, code: &str) -> Result<Vec<ItemVersionRow>> {
        let rows = sqlx::query(
            "SELECT version, active, created_at, created_by FROM approval_items WHERE code = $1 ORDER BY version DESC",
        )
        .bind(code.trim().to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ItemVersionRow {
                    version: r.try_get(0)?,
                    active: r.try_get::<i64, _>(1)? != 0,
                    created_at: r.try_get(2)?,
                    created_by: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The workflow of an item version.
    pub async fn approval_workflow(&self, code: &str, version: i64) -> Result<Workflow> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT flow_json FROM approval_workflows WHERE item_code = $1 AND item_version = $2")
                .bind(code.to_string())
                .bind(version)
                .fetch_optional(self.pool())
                .await?;
        parse_flow(&raw.ok_or(Error::NotFound)?)
    }

    /// Publishes an edit of the item as its next version; the edit must be based on the current
    /// version (`base_version`), or it is refused as a conflict, and it must pass
    /// `ApprovalItem::revise`. The new version's workflow is its default one, or the current version's
    /// configuration carried onto it (`Workflow::carry_onto`). Audited with the fields that changed.
    pub async fn revise_approval_item(
        &self,
        actor: &Actor,
        base_version: u32,
        edited: ApprovalItem,
        now: i64,
    ) -> Result<ApprovalItem> {
        let mut tx = self.begin().await?;
        let current = current_version(&mut tx, edited.code.as_str(), base_version).await?;
        let next = current.revise(edited).map_err(|errors| {
            Error::Invalid(errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("；"))
        })?;
        retire(&mut tx, &current).await?;
        let flow = current_flow(&mut tx, &current).await?;
        let next_flow =
            if flow.is_configured(&current) { flow.carry_onto(&next) } else { Workflow::default_for(&next) };
        insert_version(&mut tx.tx, &next, &next_flow, &actor.username, now, false).await?;
        let entry = AuditEntry::ok("revise_approval_item", "approval_item", next.code.as_str())
            .detail(json!({"version": next.version, "changes": changes(&current, &next)}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(next)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn changes_list_only_what_differs() {
        let before = Catalogue::builtin().items().first().cloned().unwrap_or_else(|| panic!("catalogue"));
        let mut after = before.clone();
        after.version += 1;
        after.visits = 0;
        after.deficiency_acceptance = !before.deficiency_acceptance;
        let c = changes(&before, &after);
        let keys: Vec<&String> = c.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        let expect: Vec<&str> =
            if before.visits == 0 { vec!["deficiency_acceptance"] } else { vec!["deficiency_acceptance", "visits"] };
        assert_eq!(keys, expect);
        assert_eq!(c["deficiency_acceptance"]["after"], json!(after.deficiency_acceptance));
    }

    #[test]
    fn category_codes_match_the_serde_names() {
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c).ok(), Some(json!(category_code(c))));
        }
    }
}
