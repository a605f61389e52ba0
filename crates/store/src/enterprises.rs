//! The enterprise registry (一企一档), always read and written through the caller's scope.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, scope};
use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseRow {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub industry_code: String,
    pub host_town: String,
    pub host_town_name: String,
    pub introducer_town: Option<String>,
    pub introducer_department: Option<i64>,
    pub project_area: Option<String>,
    pub project_area_name: Option<String>,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Sort keys callers may ask for; anything else is refused at the edge (security.md: ORDER BY injection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnterpriseSort {
    #[default]
    Id,
    Name,
    CreditCode,
    Town,
    Updated,
}

impl EnterpriseSort {
    pub fn parse(key: &str) -> Option<EnterpriseSort> {
        Some(match key {
            "" | "id" => EnterpriseSort::Id,
            "name" => EnterpriseSort::Name,
            "credit_code" => EnterpriseSort::CreditCode,
            "town" => EnterpriseSort::Town,
            "updated" => EnterpriseSort::Updated,
            _ => return None,
        })
    }

    fn order_by(self) -> &'static str {
        match self {
            EnterpriseSort::Id => " ORDER BY e.id",
            EnterpriseSort::Name => " ORDER BY e.name, e.id",
            EnterpriseSort::CreditCode => " ORDER BY e.credit_code",
            EnterpriseSort::Town => " ORDER BY e.host_town, e.id",
            EnterpriseSort::Updated => " ORDER BY e.updated_at DESC, e.id",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Part of the name, or the start of the credit code.
    pub q: Option<String>,
    pub town: Option<String>,
    pub project_area: Option<String>,
    pub status: Option<String>,
    pub sort: EnterpriseSort,
}

/// The fields an enterprise may edit of its own file.
#[derive(Debug, Clone)]
pub struct Contact {
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// The fields of a new or edited enterprise, already parsed at the edge.
#[derive(Debug, Clone)]
pub struct EnterpriseInput {
    pub credit_code: CreditCode,
    pub name: String,
    pub legal_representative: String,
    pub industry_code: String,
    pub host_town: String,
    pub introducer_town: Option<String>,
    pub introducer_department: Option<i64>,
    pub project_area: Option<String>,
    pub grid_id: Option<i64>,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub status: String,
}

const SELECT: &str = "SELECT e.id, e.credit_code, e.name, e.legal_representative, e.industry_code, e.host_town, \
    t.name AS host_town_name, e.introducer_town, e.introducer_department, e.project_area, p.name AS project_area_name, \
    e.grid_id, g.name AS grid_name, e.address, e.contact_name, e.contact_phone, e.status, e.created_at, e.updated_at \
    FROM enterprises e JOIN towns t ON t.code = e.host_town LEFT JOIN project_areas p ON p.code = e.project_area \
    LEFT JOIN grids g ON g.id = e.grid_id WHERE 1 = 1";

fn row(r: &AnyRow) -> Result<EnterpriseRow> {
    Ok(EnterpriseRow {
        id: r.try_get("id")?,
        credit_code: r.try_get("credit_code")?,
        name: r.try_get("name")?,
        legal_representative: r.try_get("legal_representative")?,
        industry_code: r.try_get("industry_code")?,
        host_town: r.try_get("host_town")?,
        host_town_name: r.try_get("host_town_name")?,
        introducer_town: r.try_get("introducer_town")?,
        introducer_department: r.try_get("introducer_department")?,
        project_area: r.try_get("project_area")?,
        project_area_name: r.try_get("project_area_name")?,
        grid_id: r.try_get("grid_id")?,
        grid_name: r.try_get("grid_name")?,
        address: r.try_get("address")?,
        contact_name: r.try_get("contact_name")?,
        contact_phone: r.try_get("contact_phone")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &EnterpriseFilter) {
    scope::enterprises(s, scope_);
    if let Some(q) = &f.q {
        s.push(" AND (e.name LIKE ").like(q);
        // A code prefix is matched only for text that could be one (digits and capital letters).
        if q.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            s.push(" OR e.credit_code LIKE ").text(format!("{q}%"));
        }
        s.push(")");
    }
    if let Some(t) = &f.town {
        s.push(" AND e.host_town = ").text(t.clone());
    }
    if let Some(p) = &f.project_area {
        s.push(" AND e.project_area = ").text(p.clone());
    }
    if let Some(st) = &f.status {
        s.push(" AND e.status = ").text(st.clone());
    }
}

impl Store {
    pub async fn list_enterprises(
        &self,
        scope_: &Scope,
        f: &EnterpriseFilter,
        page: i64,
        per_page: i64,
    ) -> Result<Page<EnterpriseRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let mut count = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE 1 = 1");
        filters(&mut count, scope_, f);
        let mut list = Sql::new(SELECT);
        filters(&mut list, scope_, f);
        list.push(f.sort.order_by())
            .push(" LIMIT ")
            .i64(per_page)
            .push(" OFFSET ")
            .i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(row)
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// One enterprise, or `NotFound` when it does not exist or lies outside `scope`.
    pub async fn enterprise(&self, scope_: &Scope, id: i64) -> Result<EnterpriseRow> {
        let mut s = Sql::new(SELECT);
        scope::enterprises(&mut s, scope_);
        s.push(" AND e.id = ").i64(id);
        s.query()
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row)
            .transpose()?
            .ok_or(Error::NotFound)
    }

    /// Creates an enterprise. The new row must fall inside the caller's scope, or nothing is written.
    pub async fn create_enterprise(
        &self,
        actor: &Actor,
        scope_: &Scope,
        e: &EnterpriseInput,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO enterprises (credit_code, name, legal_representative, industry_code, host_town, introducer_town, \
             introducer_department, project_area, grid_id, address, contact_name, contact_phone, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(e.credit_code.as_str().to_string())
        .bind(e.name.clone())
        .bind(e.legal_representative.clone())
        .bind(e.industry_code.clone())
        .bind(e.host_town.clone())
        .bind(e.introducer_town.clone())
        .bind(e.introducer_department)
        .bind(e.project_area.clone())
        .bind(e.grid_id)
        .bind(e.address.clone())
        .bind(e.contact_name.clone())
        .bind(e.contact_phone.clone())
        .bind(e.status.clone())
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|err| Error::from(err).unique_as("统一社会信用代码已登记"))?;
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE 1 = 1");
        scope::enterprises(&mut check, scope_);
        check.push(" AND e.id = ").i64(id);
        let visible: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        if visible == 0 {
            return Err(Error::Invalid("只能登记本人数据范围内的企业".into()));
        }
        let entry = AuditEntry::ok("create_enterprise", "enterprise", id).detail(serde_json::json!({
            "after": {"credit_code": e.credit_code.as_str(), "name": e.name, "host_town": e.host_town}
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Updates the contact fields an enterprise may edit itself (and staff too), within scope.
    pub async fn update_enterprise_contact(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        c: &Contact,
        now: i64,
    ) -> Result<()> {
        let (address, contact_name, contact_phone) = (
            c.address.as_str(),
            c.contact_name.as_str(),
            c.contact_phone.as_str(),
        );
        let before = self.enterprise(scope_, id).await?;
        let mut tx = self.begin().await?;
        let mut s = Sql::new("UPDATE enterprises AS e SET address = ");
        s.text(address).push(", contact_name = ").text(contact_name);
        s.push(", contact_phone = ")
            .text(contact_phone)
            .push(", updated_at = ")
            .i64(now);
        s.push(" WHERE e.id = ").i64(id);
        scope::enterprises(&mut s, scope_);
        let n = s.query().execute(&mut *tx.tx).await?.rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        let entry =
            AuditEntry::ok("update_enterprise", "enterprise", id).detail(serde_json::json!({
                "before": {"address": before.address, "contact_name": before.contact_name},
                "after": {"address": address, "contact_name": contact_name},
            }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }
}

impl Store {
    /// Enterprises in scope per project area (name, count), for home pages.
    pub async fn count_enterprises_by_area(&self, scope_: &Scope) -> Result<Vec<(String, i64)>> {
        let mut s = Sql::new(
            "SELECT COALESCE(p.name, '区外') AS area, COUNT(*) AS n FROM enterprises e \
             LEFT JOIN project_areas p ON p.code = e.project_area WHERE 1 = 1",
        );
        scope::enterprises(&mut s, scope_);
        s.push(" GROUP BY COALESCE(p.name, '区外') ORDER BY 2 DESC");
        let rows = s.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

impl Store {
    /// Resolves a credit code to an enterprise id, for attaching an enterprise account. Reveals only
    /// whether the code is registered, which the one who types the code already knows.
    pub async fn enterprise_id_by_credit_code(&self, code: &CreditCode) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM enterprises WHERE credit_code = $1")
                .bind(code.as_str().to_string())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The credit code of an enterprise id (for showing an account's attachment to the system admin).
    pub async fn credit_code_of(&self, id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT credit_code FROM enterprises WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}

impl Store {
    /// Inserts many enterprises in one transaction with one audit record (demo data, bulk import).
    /// All or nothing: a duplicate credit code aborts the whole batch.
    pub async fn insert_enterprises_bulk(
        &self,
        actor: &Actor,
        rows: &[EnterpriseInput],
        now: i64,
    ) -> Result<u64> {
        const CHUNK: usize = 500;
        let mut tx = self.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(CHUNK) {
            let mut s = Sql::new(
                "INSERT INTO enterprises (credit_code, name, legal_representative, industry_code, host_town, introducer_town, \
                 introducer_department, project_area, grid_id, address, contact_name, contact_phone, status, created_at, updated_at) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                s.push(if i == 0 { "(" } else { ", (" });
                s.text(e.credit_code.as_str())
                    .push(", ")
                    .text(e.name.clone())
                    .push(", ");
                s.text(e.legal_representative.clone())
                    .push(", ")
                    .text(e.industry_code.clone())
                    .push(", ");
                s.text(e.host_town.clone())
                    .push(", ")
                    .bind(crate::sql::Arg::OptText(e.introducer_town.clone()))
                    .push(", ");
                s.bind(crate::sql::Arg::OptI64(e.introducer_department))
                    .push(", ");
                s.bind(crate::sql::Arg::OptText(e.project_area.clone()))
                    .push(", ");
                s.bind(crate::sql::Arg::OptI64(e.grid_id)).push(", ");
                s.text(e.address.clone())
                    .push(", ")
                    .text(e.contact_name.clone())
                    .push(", ");
                s.text(e.contact_phone.clone())
                    .push(", ")
                    .text(e.status.clone())
                    .push(", ");
                s.i64(now).push(", ").i64(now).push(")");
            }
            n += s
                .query()
                .execute(&mut *tx.tx)
                .await
                .map_err(|err| Error::from(err).unique_as("统一社会信用代码重复"))?
                .rows_affected();
        }
        let entry = AuditEntry::ok("bulk_insert", "enterprise", "batch")
            .detail(serde_json::json!({"rows": n}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}
