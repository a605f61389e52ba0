//! The enterprise registry (一企一档), always read and written through the caller's scope.

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
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Land area in hundredths of a square metre (see `core::area::Area`).
    pub land_area_centi_m2: Option<i64>,
    pub above_scale: bool,
    pub employees: Option<i64>,
    pub registered_capital_fen: Option<i64>,
    /// "YYYY-MM-DD".
    pub established: Option<String>,
    /// Comma-separated.
    pub tags: String,
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
    Employees,
    Capital,
    Established,
}

impl EnterpriseSort {
    pub fn parse(key: &str) -> Option<EnterpriseSort> {
        Some(match key {
            "" | "id" => EnterpriseSort::Id,
            "name" => EnterpriseSort::Name,
            "credit_code" => EnterpriseSort::CreditCode,
            "town" => EnterpriseSort::Town,
            "updated" => EnterpriseSort::Updated,
            "employees" => EnterpriseSort::Employees,
            "capital" => EnterpriseSort::Capital,
            "established" => EnterpriseSort::Established,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Part of the name, or the start of the credit code.
    pub q: Option<String>,
    pub town: Option<String>,
    pub project_area: Option<String>,
    pub status: Option<String>,
    /// An industry code at any level (section letter, division, group or class): matches its subtree.
    pub industry: Option<String>,
    pub above_scale: Option<bool>,
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
    pub location: Option<(f64, f64)>,
    pub land_area_centi_m2: Option<i64>,
    pub above_scale: bool,
    pub employees: Option<i64>,
    pub registered_capital_fen: Option<i64>,
    pub established: Option<String>,
    pub tags: String,
}

const SELECT: &str = "SELECT e.id, e.credit_code, e.name, e.legal_representative, e.industry_code, e.host_town, \
    t.name AS host_town_name, e.introducer_town, e.introducer_department, e.project_area, p.name AS project_area_name, \
    e.grid_id, g.name AS grid_name, e.address, e.contact_name, e.contact_phone, e.status, e.lon_e6, e.lat_e6, \
    e.land_area_centi_m2, e.above_scale, e.employees, e.registered_capital_fen, e.established, e.tags, e.created_at, e.updated_at \
    FROM enterprises e JOIN towns t ON t.code = e.host_town LEFT JOIN project_areas p ON p.code = e.project_area \
    LEFT JOIN grids g ON g.id = e.grid_id WHERE 1 = 1";

fn from_e6(v: i64) -> f64 {
    v as f64 / 1e6
}

/// Degrees to the stored millionths of a degree.
pub(crate) fn to_e6(v: f64) -> i64 {
    (v * 1e6).round() as i64
}

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
        lon: r.try_get::<Option<i64>, _>("lon_e6")?.map(from_e6),
        lat: r.try_get::<Option<i64>, _>("lat_e6")?.map(from_e6),
        land_area_centi_m2: r.try_get("land_area_centi_m2")?,
        above_scale: r.try_get::<i64, _>("above_scale")? != 0,
        employees: r.try_get("employees")?,
        registered_capital_fen: r.try_get("registered_capital_fen")?,
        established: r.try_get("established")?,
        tags: r.try_get("tags")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn filters(s: &mut Sql, scope_: &Scope, f: &EnterpriseFilter) {
    scope::enterprises(s, scope_);
    if let Some(q) = &f.q {
        s.push(" AND (e.name LIKE ").like(q);
        // A code prefix is matched only for text that could be one (digits and capital letters).
        if q.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
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
    if let Some(code) = &f.industry {
        // Codes nest by prefix (C ⊃ C26 ⊃ C261 ⊃ C2614, GB/T 4754-2017), so a subtree is a prefix match.
        let clean: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
        s.push(" AND e.industry_code LIKE ").text(format!("{clean}%"));
    }
    if let Some(a) = f.above_scale {
        s.push(" AND e.above_scale = ").i64(i64::from(a));
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
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let (total, ids) = self.matching_ids(scope_, f, skip, per_page as usize).await?;
        let total = total as i64;
        let items = self.enterprises_by_ids(&ids).await?;
        Ok(Page { items, total, page, per_page })
    }

    /// Every enterprise `scope` may see that matches `f`, in order, up to `max` (for exports).
    pub async fn export_enterprises(
        &self,
        scope_: &Scope,
        f: &EnterpriseFilter,
        max: usize,
    ) -> Result<Vec<EnterpriseRow>> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let (sent, mut out) = tokio::join!(self.stream_enterprises(scope_, f, max, tx), async {
            let mut out = Vec::new();
            while let Some(chunk) = rx.recv().await {
                out.extend(chunk);
            }
            out
        });
        sent?;
        out.shrink_to_fit();
        Ok(out)
    }

    /// Sends every enterprise `scope` may see that matches `f`, in order and in chunks, up to `max`;
    /// returns how many were sent. A consumer (an Excel writer on another thread) works while the next
    /// chunk is read. Stops early when the receiver is gone.
    pub async fn stream_enterprises(
        &self,
        scope_: &Scope,
        f: &EnterpriseFilter,
        max: usize,
        tx: tokio::sync::mpsc::Sender<Vec<EnterpriseRow>>,
    ) -> Result<usize> {
        let (_, ids) = self.matching_ids(scope_, f, 0, max).await?;
        let mut sent = 0;
        for chunk in ids.chunks(500) {
            let rows = self.enterprises_by_ids(chunk).await?;
            sent += rows.len();
            if tx.send(rows).await.is_err() {
                break;
            }
        }
        Ok(sent)
    }

    /// Rows by id, in the order of `ids`. Callers pass ids already filtered by scope.
    async fn enterprises_by_ids(&self, ids: &[i64]) -> Result<Vec<EnterpriseRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut s = Sql::new(SELECT);
        s.push(" AND e.id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.i64(*id);
        }
        s.push(")");
        let mut rows: Vec<EnterpriseRow> = s.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        let pos: std::collections::HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        rows.sort_by_key(|r| pos.get(&r.id).copied().unwrap_or(usize::MAX));
        Ok(rows)
    }

    /// One enterprise, or `NotFound` when it does not exist or lies outside `scope`.
    pub async fn enterprise(&self, scope_: &Scope, id: i64) -> Result<EnterpriseRow> {
        let mut s = Sql::new(SELECT);
        scope::enterprises(&mut s, scope_);
        s.push(" AND e.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)
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
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

impl Store {
    /// Resolves a credit code to an enterprise id, for attaching an enterprise account. Reveals only
    /// whether the code is registered, which the one who types the code already knows.
    /// Every registered credit code with its enterprise id, for matching a sheet's rows at once.
    pub async fn enterprise_ids_by_credit_code(&self) -> Result<std::collections::HashMap<String, i64>> {
        let rows = sqlx::query("SELECT credit_code, id FROM enterprises").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).collect()
    }

    pub async fn enterprise_id_by_credit_code(&self, code: &CreditCode) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM enterprises WHERE credit_code = $1")
            .bind(code.as_str().to_string())
            .fetch_optional(self.pool())
            .await?)
    }

    /// The credit code of an enterprise id (for showing an account's attachment to the system admin).
    pub async fn credit_code_of(&self, id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT credit_code FROM enterprises WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }
}

impl Store {
    /// Per town code: enterprises in scope hosted there and introduced by it (the enclave economy's
    /// "every town has an enterprise in the zone" at a glance), as (code, hosted, introduced).
    pub async fn count_enterprises_by_town(&self, scope_: &Scope) -> Result<Vec<(String, i64, i64)>> {
        let mut out: Vec<(String, i64, i64)> = Vec::new();
        for hosted in [true, false] {
            let mut s = Sql::new(if hosted {
                "SELECT e.host_town, COUNT(*) FROM enterprises e WHERE 1 = 1"
            } else {
                "SELECT e.introducer_town, COUNT(*) FROM enterprises e WHERE e.introducer_town IS NOT NULL"
            });
            scope::enterprises(&mut s, scope_);
            s.push(if hosted { " GROUP BY e.host_town" } else { " GROUP BY e.introducer_town" });
            for r in s.fetch_all(self.pool()).await? {
                let code: String = r.try_get(0)?;
                let n: i64 = r.try_get(1)?;
                match out.iter_mut().find(|(c, _, _)| *c == code) {
                    Some(entry) if hosted => entry.1 = n,
                    Some(entry) => entry.2 = n,
                    None if hosted => out.push((code, n, 0)),
                    None => out.push((code, 0, n)),
                }
            }
        }
        Ok(out)
    }

    /// How many enterprises `scope` may see that match `f`, counted in SQL (the list pages count with the
    /// in-memory index; the two must agree, which the tests check).
    pub async fn count_matching_in_sql(&self, scope_: &Scope, f: &EnterpriseFilter) -> Result<i64> {
        let mut s = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE 1 = 1");
        filters(&mut s, scope_, f);
        Ok(s.count(self.pool()).await?)
    }

    /// How many enterprises `scope` holds.
    pub async fn count_enterprises(&self, scope_: &Scope) -> Result<i64> {
        let mut s = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE 1 = 1");
        scope::enterprises(&mut s, scope_);
        Ok(s.count(self.pool()).await?)
    }
}
