//! The database URL, parsed once. Unknown schemes are refused instead of silently creating a file
//! (the lesson of vaultwarden's `DbConnType::from_url`).

use crate::error::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite:///absolute/path.db`, `sqlite://relative/path.db`, `sqlite:path.db`,
    /// `postgres://…` and `postgresql://…`.
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == "/" {
                return Err(Error::Url(
                    "SQLite 地址缺少文件路径，例如 sqlite:///var/lib/dianxiaoer/dianxiaoer.db".into(),
                ));
            }
            if path.contains(":memory:") {
                return Err(Error::Url("不支持内存数据库，请给出文件路径".into()));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let after = raw.split_once("://").map(|(_, r)| r).unwrap_or_default();
            let host = after.rsplit_once('@').map(|(_, h)| h).unwrap_or(after);
            let host = host.split(['/', '?']).next().unwrap_or_default();
            if host.is_empty() && !raw.contains("host=") {
                return Err(Error::Url(
                    "PostgreSQL 地址缺少主机，例如 postgres://user@127.0.0.1:5432/dianxiaoer".into(),
                ));
            }
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        let scheme = raw.split_once(':').map(|(s, _)| s).unwrap_or(raw);
        Err(Error::Url(format!("不支持的数据库类型“{scheme}”，请使用 sqlite:///路径/文件.db 或 postgres://…")))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// Creates the SQLite file's directory when missing.
    pub(crate) fn prepare(&self) -> Result<()> {
        if let DatabaseUrl::Sqlite(path) = self
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::Url(format!("无法创建目录 {}：{e}", dir.display())))?;
        }
        Ok(())
    }

    /// The string handed to the driver. SQLite: create when missing (WAL is set by `Store::connect`).
    pub(crate) fn connect_string(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}?mode=rwc", p.display()),
            DatabaseUrl::Postgres(s) => s.clone(),
        }
    }

    /// The URL without a password, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(s) => match (s.find("://"), s.rfind('@')) {
                (Some(a), Some(b)) if b > a => {
                    let cred = &s[a + 3..b];
                    let user = cred.split(':').next().unwrap_or_default();
                    format!("{}{}@{}", &s[..a + 3], user, &s[b + 1..])
                }
                _ => s.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_backends() {
        assert_eq!(DatabaseUrl::parse("sqlite:///var/x.db").ok(), Some(DatabaseUrl::Sqlite("/var/x.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").ok(), Some(DatabaseUrl::Sqlite("data/x.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u:p@127.0.0.1/db"), Ok(DatabaseUrl::Postgres(_))));
    }

    #[test]
    fn refuses_unknown_and_malformed() {
        for bad in ["mysql://x/y", "", "file.db", "sqlite://", "postgres:///", "sqlite::memory:"] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redacts_password() {
        let u = DatabaseUrl::parse("postgres://app:secret@db:5432/x").ok();
        assert_eq!(u.map(|u| u.redacted()), Some("postgres://app@db:5432/x".into()));
    }
}
