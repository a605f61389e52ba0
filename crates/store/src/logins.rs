//! The login log: every success and failure with IP and user agent (GB/T 22239-2019 8.1.4.3).

use crate::error::Result;
use crate::sql::Sql;
use crate::{Page, Store};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
pub struct LoginRow {
    pub id: i64,
    pub at: i64,
    pub username: String,
    pub user_id: Option<i64>,
    pub ip: String,
    pub user_agent: String,
    pub result: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct LoginFilter {
    pub username: Option<String>,
    pub result: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

fn row(r: &AnyRow) -> Result<LoginRow> {
    Ok(LoginRow {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        username: r.try_get("username")?,
        user_id: r.try_get("user_id")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        result: r.try_get("result")?,
        reason: r.try_get("reason")?,
    })
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn log_login(
        &self,
        username: &str,
        user_id: Option<i64>,
        ip: &str,
        user_agent: &str,
        success: bool,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        // Usernames typed at the login form are untrusted: keep them short in the log.
        let username: String = username.chars().take(64).collect();
        let user_agent: String = user_agent.chars().take(256).collect();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO login_log (at, username, user_id, ip, user_agent, result, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now)
        .bind(username)
        .bind(user_id)
        .bind(ip.to_string())
        .bind(user_agent)
        .bind(if success { "成功" } else { "失败" })
        .bind(reason.to_string())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    pub async fn list_logins(&self, f: &LoginFilter, page: i64, per_page: i64) -> Result<Page<LoginRow>> {
        self.list_logins_upto(f, page, per_page, crate::sql::PAGE_MAX).await
    }

    /// Every matching row up to `max`, newest first, for an export.
    pub async fn export_logins(&self, f: &LoginFilter, max: i64) -> Result<Vec<LoginRow>> {
        Ok(self.list_logins_upto(f, 1, max, max).await?.items)
    }

    async fn list_logins_upto(&self, f: &LoginFilter, page: i64, per_page: i64, max: i64) -> Result<Page<LoginRow>> {
        let (page, per_page, offset) = crate::sql::paging_upto(page, per_page, max);
        let mut count = Sql::new("SELECT COUNT(*) FROM login_log WHERE 1 = 1");
        let mut list =
            Sql::new("SELECT id, at, username, user_id, ip, user_agent, result, reason FROM login_log WHERE 1 = 1");
        for s in [&mut count, &mut list] {
            if let Some(u) = &f.username {
                s.push(" AND username LIKE ").like(u);
            }
            if let Some(r) = &f.result {
                s.push(" AND result = ").text(r.clone());
            }
            if let Some(from) = f.from_ms {
                s.push(" AND at >= ").i64(from);
            }
            if let Some(to) = f.to_ms {
                s.push(" AND at < ").i64(to);
            }
        }
        list.push(" ORDER BY id DESC LIMIT ").i64(per_page).push(" OFFSET ").i64(offset);
        let total = count.count(self.pool()).await?;
        let items = list.fetch_all(self.pool()).await?.iter().map(row).collect::<Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }
}
