//! A small statement builder: SQL text is assembled only from `&'static str` pieces, and every value
//! becomes a numbered `$N` parameter (accepted by both PostgreSQL and sqlx's SQLite driver). This is
//! how scope predicates, filters and allow-listed sort keys are added without splicing input into SQL.

use serde::Serialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &'static str) -> Sql {
        Sql { text: text.to_string(), args: Vec::new() }
    }

    pub fn push(&mut self, text: &'static str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, arg: Arg) -> &mut Sql {
        use std::fmt::Write;
        self.args.push(arg);
        // Writing into a String cannot fail.
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Sql {
        self.bind(Arg::I64(v))
    }

    pub fn text(&mut self, v: impl Into<String>) -> &mut Sql {
        self.bind(Arg::Text(v.into()))
    }

    pub fn opt_i64(&mut self, v: Option<i64>) -> &mut Sql {
        self.bind(Arg::OptI64(v))
    }

    pub fn opt_text(&mut self, v: Option<String>) -> &mut Sql {
        self.bind(Arg::OptText(v))
    }

    /// A LIKE pattern matching `needle` anywhere, with the wildcards in `needle` escaped.
    pub fn like(&mut self, needle: &str) -> &mut Sql {
        let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        self.text(format!("%{escaped}%"));
        self.push(" ESCAPE '\\'")
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
            };
        }
        q
    }

    /// The statement for `backend`. On SQLite, `$N` becomes `?`: SQLite looks a numbered parameter's
    /// name up by a linear scan when binding, so a statement of many numbered parameters binds in
    /// quadratic time, while anonymous ones bind by position. The builder numbers parameters in the
    /// order they appear and uses each once, so the two forms bind the same values.
    pub fn for_backend(&self, backend: crate::Backend) -> Sql {
        self.clone().into_backend(backend)
    }

    /// [`Sql::for_backend`] without copying the values: for bulk statements.
    pub fn into_backend(self, backend: crate::Backend) -> Sql {
        match backend {
            crate::Backend::Postgres => self,
            crate::Backend::Sqlite => {
                let mut text = String::with_capacity(self.text.len());
                let mut chars = self.text.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                        while chars.peek().is_some_and(char::is_ascii_digit) {
                            chars.next();
                        }
                        text.push('?');
                    } else {
                        text.push(c);
                    }
                }
                Sql { text, args: self.args }
            }
        }
    }

    pub async fn fetch_all(&self, pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        self.query().fetch_all(pool).await
    }

    pub async fn count(&self, pool: &AnyPool) -> Result<i64, sqlx::Error> {
        use sqlx::Row;
        let row = self.query().fetch_one(pool).await?;
        row.try_get::<i64, _>(0)
    }
}

/// One page of a list and the total matching rows.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        if self.per_page <= 0 { 1 } else { ((self.total + self.per_page - 1) / self.per_page).max(1) }
    }
}

/// Clamps paging input: page ≥ 1, 1 ≤ per_page ≤ 200.
pub(crate) fn paging(page: i64, per_page: i64) -> (i64, i64, i64) {
    paging_upto(page, per_page, PAGE_MAX)
}

/// Rows one page may hold.
pub const PAGE_MAX: i64 = 200;

/// Paging for exports, which ask for everything up to a cap in one "page".
pub(crate) fn paging_upto(page: i64, per_page: i64, max: i64) -> (i64, i64, i64) {
    let page = page.max(1);
    let per_page = per_page.clamp(1, max.max(1));
    (page, per_page, (page - 1) * per_page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parameters_in_order() {
        let mut s = Sql::new("SELECT * FROM t WHERE a = ");
        s.i64(1).push(" AND b LIKE ").like("5%_x");
        assert_eq!(s.text, "SELECT * FROM t WHERE a = $1 AND b LIKE $2 ESCAPE '\\'");
        assert!(matches!(&s.args[1], Arg::Text(t) if t == "%5\\%\\_x%"));
    }

    #[test]
    fn sqlite_gets_positional_parameters() {
        let mut s = Sql::new("SELECT '$x' FROM t WHERE a = ");
        s.i64(1).push(" AND b = ").i64(2);
        for _ in 0..9 {
            s.push(", ").i64(3);
        }
        let lite = s.for_backend(crate::Backend::Sqlite);
        assert!(lite.text.starts_with("SELECT '$x' FROM t WHERE a = ? AND b = ?, ?"));
        assert_eq!(lite.text.matches('?').count(), 11);
        assert!(!lite.text.contains("$1"));
        assert_eq!(s.for_backend(crate::Backend::Postgres).text, s.text);
    }

    #[test]
    fn paging_is_clamped() {
        assert_eq!(paging(0, 0), (1, 1, 0));
        assert_eq!(paging(3, 10_000), (3, 200, 400));
    }
}
