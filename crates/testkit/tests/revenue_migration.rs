//! Migration 0024 over settlements stored in 0018's layout (one line per entry and unit): every
//! settlement, confirmed ones included, keeps what it says, now one row per entry with its units in
//! columns, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::{DatabaseUrl, Keys, Store};
use dianxiaoer_testkit::{Backend, drop_database, dual, fresh_database};
use sqlx::{Connection, Row};

fn connect_string(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

async fn migration(backend: Backend) {
    let Some((url, pg, _dir)) = fresh_database(backend).await else { return };
    let store = Store::connect(&url, Keys::default()).await.unwrap();
    store.migrate_until(23).await.unwrap();
    let mut c = sqlx::AnyConnection::connect(&connect_string(&url)).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO settlements (period, status, drafted_at, drafted_by_name, total_fen, entry_count, row_count, \
         adjustment_count, unshared_count, unshared_fen) VALUES ('2022-01', 'confirmed', 1, 'staff', 1000, 2, 2, 1, 0, 0); \
         INSERT INTO settlement_lines (settlement_id, entry_no, project_id, enterprise_id, adjusts_period, ratio, \
         entry_debit_fen, unit_kind, unit_code, weight, row_count, tax_fen, debit_fen, amount_fen) \
         SELECT s.id, x.entry_no, x.project_id, x.enterprise_id, x.adjusts_period, x.ratio, x.debit, x.kind, x.code, \
         x.weight, x.n, x.tax, x.shareable, x.amount FROM settlements s, ( \
         SELECT 1 AS entry_no, 5 AS project_id, 9 AS enterprise_id, CAST(NULL AS TEXT) AS adjusts_period, \
           '5:3:2' AS ratio, 700 AS debit, 'zone' AS kind, '' AS code, 2 AS weight, 1 AS n, 2000 AS tax, \
           700 AS shareable, 140 AS amount \
         UNION ALL SELECT 1, 5, 9, NULL, '5:3:2', 700, 'town', '371323103', 3, 1, 2000, 700, 210 \
         UNION ALL SELECT 1, 5, 9, NULL, '5:3:2', 700, 'department', '4', 5, 1, 2000, 700, 350 \
         UNION ALL SELECT 2, 6, 10, '2021-12', '7:3:0', 300, 'town', '371323001', 10, 1, 1000, 300, 300) x",
    )
    .execute(&mut c)
    .await
    .unwrap();
    assert_eq!(store.migrate_until(24).await.unwrap(), 1);
    let rows = sqlx::query(
        "SELECT CAST(project_id AS TEXT), CAST(enterprise_id AS TEXT), COALESCE(adjusts_period, '∅'), ratio, \
         CAST(debit_fen AS TEXT), \
         unit1 || '/' || CAST(weight1 AS TEXT) || '/' || CAST(rows1 AS TEXT) || '/' || CAST(tax1_fen AS TEXT) \
           || '/' || CAST(debit1_fen AS TEXT) || '/' || CAST(amount1_fen AS TEXT), \
         COALESCE(unit2 || '/' || CAST(weight2 AS TEXT) || '/' || CAST(rows2 AS TEXT) || '/' || CAST(tax2_fen AS TEXT) \
           || '/' || CAST(debit2_fen AS TEXT) || '/' || CAST(amount2_fen AS TEXT), '∅'), \
         COALESCE(unit3 || '/' || CAST(weight3 AS TEXT) || '/' || CAST(rows3 AS TEXT) || '/' || CAST(tax3_fen AS TEXT) \
           || '/' || CAST(debit3_fen AS TEXT) || '/' || CAST(amount3_fen AS TEXT), '∅') \
         FROM settlement_entries ORDER BY id",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let got: Vec<String> =
        rows.iter().map(|r| (0..8).map(|i| r.try_get::<String, _>(i).unwrap()).collect::<Vec<_>>().join("|")).collect();
    assert_eq!(
        got,
        [
            "5|9|∅|5:3:2|700|dept:4/5/1/2000/700/350|town:371323103/3/1/2000/700/210|zone/2/1/2000/700/140",
            "6|10|2021-12|7:3:0|300|town:371323001/10/1/1000/300/300|∅|∅",
        ]
    );
    let old: Option<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM settlements WHERE status = 'confirmed' AND total_fen = 1000 AND ledger_through = 0",
    )
    .fetch_optional(&mut c)
    .await
    .unwrap();
    assert_eq!(old, Some(1), "the settlement itself is untouched");
    c.close().await.unwrap();
    store.close().await;
    drop_database(&pg).await;
}
dual!(migration_0024, super::migration);
