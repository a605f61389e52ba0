//! Writes to the enterprise registry: create, edit, the contact fields an enterprise edits itself, and
//! batches (demo data, Excel import) that commit whole or not at all.

use crate::audit::{Actor, AuditEntry};
use crate::enterprises::{Contact, EnterpriseInput, to_e6};
use crate::error::{Error, Result};
use crate::sql::{Arg, Sql};
use crate::{Store, Tx, scope};
use dianxiaoer_core::access::Scope;
use sqlx::Row;

/// The columns every insert writes, in `push_values` order.
macro_rules! columns {
    () => {
        "credit_code, name, legal_representative, industry_code, host_town, introducer_town, \
         introducer_department, project_area, grid_id, address, contact_name, contact_phone, status, lon_e6, lat_e6, \
         land_area_centi_m2, above_scale, employees, registered_capital_fen, established, tags, created_at, updated_at"
    };
}

const INSERT: &str = concat!("INSERT INTO enterprises (", columns!(), ") VALUES ");
/// An import also marks the rows it writes (see `enterprise_import.rs`).
pub(crate) const INSERT_IMPORTED: &str =
    concat!("INSERT INTO enterprises (", columns!(), ", import_id, origin_import_id) VALUES ");

/// Columns an import or an edit replaces; created_at, grid and introducers stay as they were on import.
pub(crate) const UPSERT: &str = " ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, \
    legal_representative = excluded.legal_representative, industry_code = excluded.industry_code, \
    host_town = excluded.host_town, project_area = excluded.project_area, address = excluded.address, \
    contact_name = excluded.contact_name, contact_phone = excluded.contact_phone, status = excluded.status, \
    lon_e6 = excluded.lon_e6, lat_e6 = excluded.lat_e6, land_area_centi_m2 = excluded.land_area_centi_m2, \
    above_scale = excluded.above_scale, employees = excluded.employees, \
    registered_capital_fen = excluded.registered_capital_fen, established = excluded.established, \
    tags = excluded.tags, updated_at = excluded.updated_at, import_id = excluded.import_id";

/// Rows per multi-row statement with numbered parameters. SQLite looks a numbered parameter's name
/// up by a linear scan (`sqlite3_bind_parameter_name`), so binding costs grow with the square of the
/// parameters in one statement: small statements are faster there, or positional parameters (see
/// `Sql::for_backend`). PostgreSQL prefers fewer round trips; 400 rows × 25 parameters stays below
/// its 65,535.
pub(crate) fn chunk(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 16,
        crate::Backend::Postgres => 400,
    }
}

fn push_values(s: &mut Sql, e: &EnterpriseInput, now: i64) {
    push_values_marked(s, e, now, None);
}

/// The values of one row; `import` adds the two import columns of `INSERT_IMPORTED`.
pub(crate) fn push_values_marked(s: &mut Sql, e: &EnterpriseInput, now: i64, import: Option<i64>) {
    s.push("(").text(e.credit_code.as_str()).push(", ").text(e.name.clone()).push(", ");
    s.text(e.legal_representative.clone()).push(", ").text(e.industry_code.clone()).push(", ");
    s.text(e.host_town.clone()).push(", ").bind(Arg::OptText(e.introducer_town.clone())).push(", ");
    s.bind(Arg::OptI64(e.introducer_department)).push(", ").bind(Arg::OptText(e.project_area.clone())).push(", ");
    s.bind(Arg::OptI64(e.grid_id)).push(", ").text(e.address.clone()).push(", ");
    s.text(e.contact_name.clone())
        .push(", ")
        .text(e.contact_phone.clone())
        .push(", ")
        .text(e.status.clone())
        .push(", ");
    s.bind(Arg::OptI64(e.location.map(|l| to_e6(l.0))))
        .push(", ")
        .bind(Arg::OptI64(e.location.map(|l| to_e6(l.1))))
        .push(", ");
    s.bind(Arg::OptI64(e.land_area_centi_m2)).push(", ").i64(i64::from(e.above_scale)).push(", ");
    s.bind(Arg::OptI64(e.employees)).push(", ").bind(Arg::OptI64(e.registered_capital_fen)).push(", ");
    s.bind(Arg::OptText(e.established.clone())).push(", ").text(e.tags.clone()).push(", ");
    s.i64(now).push(", ").i64(now);
    if let Some(id) = import {
        s.push(", ").i64(id).push(", ").i64(id);
    }
    s.push(")");
}

fn summary(e: &EnterpriseInput) -> serde_json::Value {
    serde_json::json!({
        "credit_code": e.credit_code.as_str(), "name": e.name, "legal_representative": e.legal_representative,
        "industry_code": e.industry_code, "host_town": e.host_town, "project_area": e.project_area,
        "address": e.address, "status": e.status, "above_scale": e.above_scale, "employees": e.employees,
        "registered_capital_fen": e.registered_capital_fen, "land_area_centi_m2": e.land_area_centi_m2,
        "established": e.established, "tags": e.tags,
    })
}

/// Marks the registry changed, inside the writing transaction (see `registry_index.rs`).
pub(crate) async fn bump(tx: &mut Tx<'_>) -> Result<()> {
    sqlx::query("UPDATE registry_version SET version = version + 1 WHERE id = 1").execute(&mut *tx.tx).await?;
    Ok(())
}

impl Store {
    /// Whether `id` lies inside `scope`, seen from within `tx`.
    async fn visible(&self, tx: &mut Tx<'_>, scope_: &Scope, id: i64) -> Result<bool> {
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE 1 = 1");
        scope::enterprises(&mut check, scope_);
        check.push(" AND e.id = ").i64(id);
        let n: i64 = check.query().fetch_one(&mut *tx.tx).await?.try_get(0)?;
        Ok(n > 0)
    }

    /// Creates an enterprise. The new row must fall inside the caller's scope, or nothing is written.
    pub async fn create_enterprise(&self, actor: &Actor, scope_: &Scope, e: &EnterpriseInput, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let mut s = Sql::new(INSERT);
        push_values(&mut s, e, now);
        s.push(" RETURNING id");
        let id: i64 = s
            .query()
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(|err| Error::from(err).unique_as("统一社会信用代码已登记"))?
            .try_get(0)?;
        if !self.visible(&mut tx, scope_, id).await? {
            return Err(Error::Invalid("只能登记本人数据范围内的企业".into()));
        }
        let entry =
            AuditEntry::ok("create_enterprise", "enterprise", id).detail(serde_json::json!({"after": summary(e)}));
        bump(&mut tx).await?;
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces every field of an enterprise in scope; it must stay in scope after the change.
    pub async fn update_enterprise(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        e: &EnterpriseInput,
        now: i64,
    ) -> Result<()> {
        let before = self.enterprise(scope_, id).await?;
        let mut tx = self.begin().await?;
        let mut s = Sql::new("UPDATE enterprises AS e SET credit_code = ");
        s.text(e.credit_code.as_str()).push(", name = ").text(e.name.clone());
        s.push(", legal_representative = ").text(e.legal_representative.clone());
        s.push(", industry_code = ").text(e.industry_code.clone()).push(", host_town = ").text(e.host_town.clone());
        s.push(", introducer_town = ").bind(Arg::OptText(e.introducer_town.clone()));
        s.push(", introducer_department = ").bind(Arg::OptI64(e.introducer_department));
        s.push(", project_area = ").bind(Arg::OptText(e.project_area.clone()));
        s.push(", grid_id = ").bind(Arg::OptI64(e.grid_id)).push(", address = ").text(e.address.clone());
        s.push(", contact_name = ")
            .text(e.contact_name.clone())
            .push(", contact_phone = ")
            .text(e.contact_phone.clone());
        s.push(", status = ").text(e.status.clone());
        s.push(", lon_e6 = ").bind(Arg::OptI64(e.location.map(|l| to_e6(l.0))));
        s.push(", lat_e6 = ").bind(Arg::OptI64(e.location.map(|l| to_e6(l.1))));
        s.push(", land_area_centi_m2 = ").bind(Arg::OptI64(e.land_area_centi_m2));
        s.push(", above_scale = ").i64(i64::from(e.above_scale)).push(", employees = ").bind(Arg::OptI64(e.employees));
        s.push(", registered_capital_fen = ").bind(Arg::OptI64(e.registered_capital_fen));
        s.push(", established = ").bind(Arg::OptText(e.established.clone())).push(", tags = ").text(e.tags.clone());
        s.push(", updated_at = ").i64(now).push(" WHERE e.id = ").i64(id);
        scope::enterprises(&mut s, scope_);
        let n = s
            .query()
            .execute(&mut *tx.tx)
            .await
            .map_err(|err| Error::from(err).unique_as("统一社会信用代码已登记"))?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        if !self.visible(&mut tx, scope_, id).await? {
            return Err(Error::Invalid("修改后企业将超出本人数据范围".into()));
        }
        let entry = AuditEntry::ok("update_enterprise", "enterprise", id).detail(serde_json::json!({
            "before": {"credit_code": before.credit_code, "name": before.name, "legal_representative": before.legal_representative,
                       "industry_code": before.industry_code, "host_town": before.host_town, "project_area": before.project_area,
                       "address": before.address, "status": before.status, "above_scale": before.above_scale,
                       "employees": before.employees, "registered_capital_fen": before.registered_capital_fen,
                       "land_area_centi_m2": before.land_area_centi_m2, "established": before.established, "tags": before.tags},
            "after": summary(e),
        }));
        bump(&mut tx).await?;
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
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
        let before = self.enterprise(scope_, id).await?;
        let mut tx = self.begin().await?;
        let mut s = Sql::new("UPDATE enterprises AS e SET address = ");
        s.text(c.address.clone()).push(", contact_name = ").text(c.contact_name.clone());
        s.push(", contact_phone = ").text(c.contact_phone.clone()).push(", updated_at = ").i64(now);
        s.push(" WHERE e.id = ").i64(id);
        scope::enterprises(&mut s, scope_);
        let n = s.query().execute(&mut *tx.tx).await?.rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        let entry = AuditEntry::ok("update_enterprise", "enterprise", id).detail(serde_json::json!({
            "before": {"address": before.address, "contact_name": before.contact_name},
            "after": {"address": c.address, "contact_name": c.contact_name},
        }));
        bump(&mut tx).await?;
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Inserts many new enterprises in one transaction with one audit record (demo data).
    pub async fn insert_enterprises_bulk(&self, actor: &Actor, rows: &[EnterpriseInput], now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(crate::enterprise_import::import_chunk(tx.backend)) {
            let mut s = Sql::new(INSERT);
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                push_values(&mut s, e, now);
            }
            n += s
                .for_backend(tx.backend)
                .query()
                .execute(&mut *tx.tx)
                .await
                .map_err(|err| Error::from(err).unique_as("统一社会信用代码重复"))?
                .rows_affected();
        }
        let entry = AuditEntry::ok("bulk_insert", "enterprise", "batch").detail(serde_json::json!({"rows": n}));
        bump(&mut tx).await?;
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}
