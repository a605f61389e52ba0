//! Accounts. Passwords arrive here already hashed (Argon2id, in the web layer); the store never sees
//! a clear-text password.

use crate::audit::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::sql::{Sql, paging};
use crate::{Page, Store, Tx};
use dianxiaoer_core::access::{Attachment, Role, Scope};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(serialize_with = "ser_role")]
    pub role: Role,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub town_code: Option<String>,
    pub town_name: Option<String>,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub enterprise_id: Option<i64>,
    pub enterprise_name: Option<String>,
    pub phone: String,
    #[serde(skip)]
    pub password_hash: String,
    pub must_change_password: bool,
    pub password_changed_at: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled: bool,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    pub totp_enabled: bool,
    pub demo: bool,
    pub created_at: i64,
}

fn ser_role<S: serde::Serializer>(r: &Role, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(r.code())
}

impl UserRow {
    pub fn attachment(&self) -> Attachment {
        Attachment {
            department_id: self.department_id,
            town_code: self.town_code.clone(),
            grid_id: self.grid_id,
            enterprise_id: self.enterprise_id,
        }
    }

    pub fn scope(&self) -> Scope {
        Scope::of(self.role, self.id, &self.attachment())
    }

    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub attachment: Attachment,
    pub phone: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub demo: bool,
}

#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub display_name: String,
    pub role: Role,
    pub attachment: Attachment,
    pub phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<Role>,
}

const SELECT: &str = "SELECT u.id, u.username, u.display_name, u.role, u.department_id, d.name AS department_name, \
    u.town_code, t.name AS town_name, u.grid_id, g.name AS grid_name, u.enterprise_id, e.name AS enterprise_name, \
    u.phone, u.password_hash, u.must_change_password, u.password_changed_at, u.failed_logins, u.locked_until, \
    u.disabled, u.totp_secret, u.totp_last_step, u.demo, u.created_at \
    FROM users u LEFT JOIN departments d ON d.id = u.department_id LEFT JOIN towns t ON t.code = u.town_code \
    LEFT JOIN grids g ON g.id = u.grid_id LEFT JOIN enterprises e ON e.id = u.enterprise_id";

/// A session and its user in one query, for the guard in front of every page.
const SESSION_USER: &str = "SELECT u.id, u.username, u.display_name, u.role, u.department_id, d.name AS department_name, \
    u.town_code, t.name AS town_name, u.grid_id, g.name AS grid_name, u.enterprise_id, e.name AS enterprise_name, \
    u.phone, u.password_hash, u.must_change_password, u.password_changed_at, u.failed_logins, u.locked_until, \
    u.disabled, u.totp_secret, u.totp_last_step, u.demo, u.created_at, s.csrf_token AS s_csrf, s.mfa_done AS s_mfa, \
    s.created_at AS s_created, s.last_seen_at AS s_seen, s.ip AS s_ip, s.user_agent AS s_ua \
    FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN departments d ON d.id = u.department_id \
    LEFT JOIN towns t ON t.code = u.town_code LEFT JOIN grids g ON g.id = u.grid_id \
    LEFT JOIN enterprises e ON e.id = u.enterprise_id WHERE s.token_hash = $1";

fn row(r: &AnyRow) -> Result<UserRow> {
    let role: String = r.try_get("role")?;
    let totp_secret: Option<String> = r.try_get("totp_secret")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| Error::Invalid(format!("未知角色 {role}")))?,
        department_id: r.try_get("department_id")?,
        department_name: r.try_get("department_name")?,
        town_code: r.try_get("town_code")?,
        town_name: r.try_get("town_name")?,
        grid_id: r.try_get("grid_id")?,
        grid_name: r.try_get("grid_name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        phone: r.try_get("phone")?,
        password_hash: r.try_get("password_hash")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        password_changed_at: r.try_get("password_changed_at")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        totp_enabled: totp_secret.is_some(),
        totp_secret,
        totp_last_step: r.try_get("totp_last_step")?,
        demo: r.try_get::<i64, _>("demo")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// The session of `token` with its user, or `None` when there is no such session.
    pub async fn session_user(&self, token: &str) -> Result<Option<(crate::SessionRow, UserRow)>> {
        let r = sqlx::query(SESSION_USER).bind(self.token_hash(token)).fetch_optional(self.pool()).await?;
        let Some(r) = r else { return Ok(None) };
        let session = crate::SessionRow {
            user_id: r.try_get("id")?,
            csrf_token: r.try_get("s_csrf")?,
            mfa_done: r.try_get::<i64, _>("s_mfa")? != 0,
            created_at: r.try_get("s_created")?,
            last_seen_at: r.try_get("s_seen")?,
            ip: r.try_get("s_ip")?,
            user_agent: r.try_get("s_ua")?,
        };
        Ok(Some((session, row(&r)?)))
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        let mut s = Sql::new(SELECT);
        s.push(" WHERE u.username = ").text(username);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<UserRow> {
        let mut s = Sql::new(SELECT);
        s.push(" WHERE u.id = ").i64(id);
        s.query().fetch_optional(self.pool()).await?.as_ref().map(row).transpose()?.ok_or(Error::NotFound)
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(Sql::new("SELECT COUNT(*) FROM users").count(self.pool()).await?)
    }

    pub async fn list_users(&self, f: &UserFilter, page: i64, per_page: i64) -> Result<Page<UserRow>> {
        let (page, per_page, offset) = paging(page, per_page);
        let mut count = Sql::new("SELECT COUNT(*) FROM users u WHERE 1 = 1");
        let mut list = Sql::new(SELECT);
        list.push(" WHERE 1 = 1");
        for s in [&mut count, &mut list] {
            if let Some(q) = &f.q {
                s.push(" AND (u.username LIKE ").like(q);
                s.push(" OR u.display_name LIKE ").like(q).push(")");
            }
            if let Some(r) = f.role {
                s.push(" AND u.role = ").text(r.code());
            }
        }
        list.push(" ORDER BY u.id LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Creates an account and audits it in the same transaction.
    pub async fn create_user(&self, actor: &Actor, u: &NewUser, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = self.insert_user(&mut tx, u, now).await?;
        let entry = AuditEntry::ok("create_user", "user", id).detail(serde_json::json!({
            "after": {"username": u.username, "display_name": u.display_name, "role": u.role.code(),
                      "attachment": u.attachment}
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn insert_user(&self, tx: &mut Tx<'_>, u: &NewUser, now: i64) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, department_id, town_code, grid_id, enterprise_id, phone, \
             password_hash, must_change_password, password_changed_at, demo, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11) RETURNING id",
        )
        .bind(u.username.clone())
        .bind(u.display_name.clone())
        .bind(u.role.code())
        .bind(u.attachment.department_id)
        .bind(u.attachment.town_code.clone())
        .bind(u.attachment.grid_id)
        .bind(u.attachment.enterprise_id)
        .bind(u.phone.clone())
        .bind(u.password_hash.clone())
        .bind(i64::from(u.must_change_password))
        .bind(now)
        .bind(i64::from(u.demo))
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| Error::from(e).unique_as("用户名已存在"))?;
        sqlx::query("INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(u.password_hash.clone())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        Ok(id)
    }

    pub async fn update_user(&self, actor: &Actor, id: i64, u: &UserUpdate, now: i64) -> Result<()> {
        let before = self.user_by_id(id).await?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, department_id = $3, town_code = $4, grid_id = $5, \
             enterprise_id = $6, phone = $7 WHERE id = $8",
        )
        .bind(u.display_name.clone())
        .bind(u.role.code())
        .bind(u.attachment.department_id)
        .bind(u.attachment.town_code.clone())
        .bind(u.attachment.grid_id)
        .bind(u.attachment.enterprise_id)
        .bind(u.phone.clone())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        if before.role != u.role || before.attachment() != u.attachment {
            // A change of role or scope ends the sessions granted under the old one.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx.tx).await?;
        }
        let entry = AuditEntry::ok("update_user", "user", id).detail(serde_json::json!({
            "before": {"display_name": before.display_name, "role": before.role.code(), "attachment": before.attachment()},
            "after": {"display_name": u.display_name, "role": u.role.code(), "attachment": u.attachment},
        }));
        self.audit(&mut tx, actor, entry, now).await?;
        tx.commit().await
    }

    /// Recent password hashes, newest first, for the no-reuse rule.
    pub async fn password_history(&self, user_id: i64, n: u32) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
                .bind(user_id)
                .bind(i64::from(n))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?)
    }

    /// Sets a new password hash and ends every session of the user. `must_change` is set for a reset by
    /// an admin (the user must then choose their own) and cleared when the user changes it.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        hash: &str,
        must_change: bool,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, \
             failed_logins = 0, locked_until = NULL WHERE id = $4",
        )
        .bind(hash.to_string())
        .bind(i64::from(must_change))
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        sqlx::query("INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(hash.to_string())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx.tx).await?;
        let action = if must_change { "reset_password" } else { "change_password" };
        self.audit(&mut tx, actor, AuditEntry::ok(action, "user", user_id), now).await?;
        tx.commit().await
    }

    /// Disables or enables an account; disabling ends its sessions and revokes its API keys' use.
    pub async fn set_disabled(&self, actor: &Actor, user_id: i64, disabled: bool, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx.tx).await?;
        }
        let action = if disabled { "disable_user" } else { "enable_user" };
        self.audit(&mut tx, actor, AuditEntry::ok(action, "user", user_id), now).await?;
        tx.commit().await
    }

    /// Counts a failed login and locks the account when the policy says so. Returns the lock end.
    pub async fn record_login_failure(&self, user_id: i64, locked_until: Option<i64>) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n: i64 = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(user_id)
        .fetch_one(&mut *tx.tx)
        .await?;
        if let Some(t) = locked_until {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(t)
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    pub async fn clear_login_failures(&self, user_id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Unlock by the security admin; audited.
    pub async fn unlock_user(&self, actor: &Actor, user_id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound);
        }
        self.audit(&mut tx, actor, AuditEntry::ok("unlock_user", "user", user_id), now).await?;
        tx.commit().await
    }

    /// Stores (or with `None` removes) the TOTP secret, in base32.
    pub async fn set_totp(
        &self,
        actor: &Actor,
        user_id: i64,
        secret: Option<&str>,
        step: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
            .bind(secret.map(str::to_string))
            .bind(step)
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?;
        let action = if secret.is_some() { "enrol_totp" } else { "remove_totp" };
        self.audit(&mut tx, actor, AuditEntry::ok(action, "user", user_id), now).await?;
        tx.commit().await
    }

    /// Records the last TOTP time step used, so the same code cannot be replayed (RFC 6238 §5.2).
    /// Returns false when `step` is not newer than the stored one (a concurrent replay).
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }
}
