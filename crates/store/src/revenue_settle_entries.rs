//! Writing a settlement's entries (`settlement_entries`): 100,000 rows of 24 values a month at 10⁵
//! enterprises (issue 5, Measure), the largest part of a draft's write. Each chunk's statement is
//! bound while the database executes the one before (SQLite's worker thread, or the PostgreSQL
//! server): both cores.
//!
//! SQLite takes the values bound one by one into a statement made once; PostgreSQL takes a chunk as
//! one comma-separated list per column, unnested together in the server: 24 parameters a statement
//! instead of 24 per entry (storing a month: 3.2 s on a busy machine before, 0.9 s on a quiet one
//! after; docs/BENCHMARKS.md).

use crate::error::Result;
use crate::revenue_settle_write::EntryRow;
use crate::{Backend, Tx};
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use std::fmt::Write;
use std::future::Future;
use std::task::Poll;

const COLUMNS: &str = "INSERT INTO settlement_entries (settlement_id, project_id, enterprise_id, adjusts_period, \
    ratio, debit_fen, unit1, weight1, rows1, tax1_fen, debit1_fen, amount1_fen, unit2, weight2, rows2, tax2_fen, \
    debit2_fen, amount2_fen, unit3, weight3, rows3, tax3_fen, debit3_fen, amount3_fen) ";

/// Values a row of `settlement_entries` binds.
const VALUES: usize = 24;

/// Entries per statement. SQLite: 512 × 24 anonymous parameters (numbered ones bind in quadratic
/// time, sql.rs `for_backend`), under its limit of 32,766. PostgreSQL: 24 lists of 8,192 values.
fn chunk(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 512,
        Backend::Postgres => 8_192,
    }
}

/// SQLite's INSERT of `n` entries.
fn sqlite_insert(n: usize) -> String {
    let row = format!("({})", vec!["?"; VALUES].join(", "));
    format!("{COLUMNS}VALUES {}", vec![row.as_str(); n].join(", "))
}

/// PostgreSQL's INSERT of any number of entries: the settlement, then the other 23 columns as lists,
/// an empty item standing for NULL (no value written here is an empty text).
fn postgres_insert() -> String {
    let types = ["bigint", "bigint", "text", "text", "bigint"]
        .into_iter()
        .chain((0..3).flat_map(|_| ["text", "bigint", "bigint", "bigint", "bigint", "bigint"]));
    let lists: Vec<String> =
        types.enumerate().map(|(i, t)| format!("string_to_array(${}, ',', '')::{t}[]", i + 2)).collect();
    format!("{COLUMNS}SELECT $1, * FROM unnest({})", lists.join(", "))
}

/// The statement of a full chunk, made once per backend.
fn full_insert(backend: Backend) -> &'static str {
    static SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match backend {
        Backend::Sqlite => SQLITE.get_or_init(|| sqlite_insert(chunk(backend))),
        Backend::Postgres => POSTGRES.get_or_init(postgres_insert),
    }
}

/// Binds `part`'s values in the column order of [`COLUMNS`], borrowing the texts.
fn bind_values<'q>(sql: &'q str, id: i64, part: &'q [EntryRow]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for e in part {
        q = q.bind(id).bind(e.project_id).bind(e.enterprise_id).bind(e.adjusts.as_deref());
        q = q.bind(&*e.ratio).bind(e.debit_fen);
        for n in 0..3 {
            q = match e.slots.get(n) {
                Some(s) => q.bind(&*s.unit).bind(s.weight).bind(s.row_count).bind(s.tax_fen).bind(s.debit_fen),
                None => q.bind(None::<&str>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>),
            };
            q = q.bind(e.slots.get(n).map(|s| s.amount_fen));
        }
    }
    q
}

/// Binds `part` as [`postgres_insert`]'s lists.
fn bind_lists<'q>(sql: &'q str, id: i64, part: &[EntryRow]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut lists: Vec<String> = (1..VALUES).map(|_| String::with_capacity(part.len() * 8)).collect();
    for (i, e) in part.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let mut values = lists.iter_mut();
        let mut put = |v: &dyn std::fmt::Display| {
            if let Some(l) = values.next() {
                let _ = write!(l, "{sep}{v}");
            }
        };
        put(&e.project_id);
        put(&e.enterprise_id);
        put(&e.adjusts.as_deref().unwrap_or(""));
        put(&e.ratio);
        put(&e.debit_fen);
        for n in 0..3 {
            match e.slots.get(n) {
                Some(s) => {
                    put(&s.unit);
                    for v in [s.weight, s.row_count, s.tax_fen, s.debit_fen, s.amount_fen] {
                        put(&v);
                    }
                }
                None => (0..6).for_each(|_| put(&"")),
            }
        }
    }
    let mut q = sqlx::query(sql).bind(id);
    for l in lists {
        q = q.bind(l);
    }
    q
}

fn bind_chunk<'q>(backend: Backend, sql: &'q str, id: i64, part: &'q [EntryRow]) -> Query<'q, Any, AnyArguments<'q>> {
    match backend {
        Backend::Sqlite => bind_values(sql, id, part),
        Backend::Postgres => bind_lists(sql, id, part),
    }
}

/// Writes the entries of settlement `id`.
pub(crate) async fn insert(tx: &mut Tx<'_>, id: i64, entries: &[EntryRow]) -> Result<()> {
    let backend = tx.backend;
    let size = chunk(backend);
    let full = full_insert(backend);
    let (whole, rest) = entries.split_at(entries.len() - entries.len() % size);
    // A shorter last chunk needs its own statement on SQLite; PostgreSQL's takes any number.
    let last = (backend == Backend::Sqlite && !rest.is_empty()).then(|| sqlite_insert(rest.len()));
    let last_sql = last.as_deref().unwrap_or(full);
    let mut parts = whole.chunks(size).map(|p| (full, p)).chain((!rest.is_empty()).then_some((last_sql, rest)));
    let bind = |(sql, p)| bind_chunk(backend, sql, id, p);
    let mut next = parts.next().map(bind);
    while let Some(q) = next.take() {
        let mut run = std::pin::pin!(q.execute(&mut *tx.tx));
        // The first poll hands the statement to the driver; the next one is bound meanwhile.
        let first = std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await;
        next = parts.next().map(bind);
        match first {
            Poll::Ready(done) => done?,
            Poll::Pending => run.await?,
        };
    }
    Ok(())
}
