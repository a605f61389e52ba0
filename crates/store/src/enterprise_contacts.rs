//! Further contacts of an enterprise (production, safety, finance …) besides the primary contact on
//! the file itself. An enterprise keeps them up to date itself, like its primary contact.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::Sql;
use crate::{Store, scope};
use dianxiaoer_core::access::Scope;
use sqlx::Row;

/// At most this many further contacts per enterprise.
pub const MAX_CONTACTS: i64 = 20;

/// A further contact as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContactRow {
    pub id: i64,
    pub name: String,
    pub position: String,
    pub phone: String,
}

/// A new contact, already validated at the edge.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub name: String,
    pub position: String,
    pub phone: String,
}

impl Store {
    async fn in_scope(&self, scope_: &Scope, id: i64) -> Result<()> {
        let mut check = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
        check.i64(id);
        scope::enterprises(&mut check, scope_);
        if check.count(self.pool()).await? == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// The further contacts of an enterprise in scope, oldest first.
    pub async fn enterprise_contacts(&self, scope_: &Scope, id: i64) -> Result<Vec<ContactRow>> {
        self.in_scope(scope_, id).await?;
        let rows = sqlx::query(
            "SELECT id, name, position, phone FROM enterprise_contacts WHERE enterprise_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContactRow { id: r.try_get(0)?, name: r.try_get(1)?, position: r.try_get(2)?, phone: r.try_get(3)? })
            })
            .collect()
    }

    /// Adds a contact to an enterprise in scope.
    pub async fn add_enterprise_contact(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        c: &NewContact,
        now: i64,
    ) -> Result<i64> {
        self.in_scope(scope_, id).await?;
        let mut tx = self.begin().await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enterprise_contacts WHERE enterprise_id = $1")
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if n >= MAX_CONTACTS {
            return Err(Error::Invalid(format!("每家企业最多登记 {MAX_CONTACTS} 位其他联系人")));
        }
        let cid: i64 = sqlx::query_scalar(
            "INSERT INTO enterprise_contacts (enterprise_id, name, position, phone, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(c.name.clone())
        .bind(c.position.clone())
        .bind(c.phone.clone())
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await?;
        // The phone number is personal data and stays out of the audit log.
        let entry = AuditEntry::ok("add_contact", "enterprise", id)
            .detail(serde_json::json!({"contact": c.name, "position": c.position}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(cid)
    }

    /// Removes a contact of an enterprise in scope.
    pub async fn remove_enterprise_contact(
        &self,
        actor: &Actor,
        scope_: &Scope,
        id: i64,
        contact_id: i64,
        now: i64,
    ) -> Result<()> {
        self.in_scope(scope_, id).await?;
        let mut tx = self.begin().await?;
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM enterprise_contacts WHERE id = $1 AND enterprise_id = $2")
                .bind(contact_id)
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?;
        let Some(name) = name else {
            return Err(Error::NotFound);
        };
        sqlx::query("DELETE FROM enterprise_contacts WHERE id = $1").bind(contact_id).execute(&mut *tx.tx).await?;
        let entry = AuditEntry::ok("remove_contact", "enterprise", id).detail(serde_json::json!({"contact": name}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Adds contacts to enterprises named by credit code in one transaction with one audit record
    /// (demo data).
    pub async fn insert_contacts_bulk(&self, actor: &Actor, rows: &[(String, NewContact)], now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for (code, c) in rows {
            n += sqlx::query(
                "INSERT INTO enterprise_contacts (enterprise_id, name, position, phone, created_at) \
                 SELECT id, $2, $3, $4, $5 FROM enterprises WHERE credit_code = $1",
            )
            .bind(code.clone())
            .bind(c.name.clone())
            .bind(c.position.clone())
            .bind(c.phone.clone())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        }
        let entry = AuditEntry::ok("bulk_insert", "enterprise_contact", "batch").detail(serde_json::json!({"rows": n}));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}
