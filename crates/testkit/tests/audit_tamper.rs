//! Tampering with the audit log directly in the database is caught, and the first bad record named:
//! an edited field, a deleted record, two records swapped. Both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::DatabaseUrl;
use dianxiaoer_testkit::{Backend, TestApp, dual};
use sqlx::Connection;

async fn raw(url: &DatabaseUrl, sql: &str) {
    let s = match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut c = sqlx::AnyConnection::connect(&s).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

async fn tamper(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let store = &app.store;
    let ok = store.verify_audit_chain().await.unwrap();
    assert!(ok.problem.is_none());
    let n = ok.checked;
    assert!(n > 20);

    // Edit one field of record 10.
    raw(&app.db_url, "UPDATE audit_log SET username = 'someone' WHERE seq = 10").await;
    let r = store.verify_audit_chain().await.unwrap();
    assert_eq!(r.first_bad_seq, Some(10), "{r:?}");
    assert!(r.problem.unwrap().contains("被修改"));
    raw(&app.db_url, "UPDATE audit_log SET username = '命令行' WHERE seq = 10").await;
    assert!(store.verify_audit_chain().await.unwrap().problem.is_none(), "restoring the value restores the chain");

    // Swap records 12 and 13 (a reorder).
    raw(&app.db_url, "UPDATE audit_log SET seq = -1 WHERE seq = 12").await;
    raw(&app.db_url, "UPDATE audit_log SET seq = 12 WHERE seq = 13").await;
    raw(&app.db_url, "UPDATE audit_log SET seq = 13 WHERE seq = -1").await;
    let r = store.verify_audit_chain().await.unwrap();
    assert_eq!(r.first_bad_seq, Some(12), "{r:?}");
    raw(&app.db_url, "DELETE FROM audit_log WHERE seq >= 12").await;
    assert!(store.verify_audit_chain().await.unwrap().problem.is_none(), "a clean prefix verifies");

    // Delete a record in the middle.
    raw(&app.db_url, "DELETE FROM audit_log WHERE seq = 5").await;
    let r = store.verify_audit_chain().await.unwrap();
    assert_eq!(r.first_bad_seq, Some(6), "{r:?}");
    assert!(r.problem.unwrap().contains("删除"));

    app.cleanup().await;
}
dual!(tampering_is_detected, super::tamper);

async fn audit_pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = app.login("auditor").await;
    let html = s.get("/audit/logs?action=create_user").await.text().await.unwrap();
    assert!(html.contains("create_user"));
    let r = s.post_form("/audit/verify", &[]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("审计链完整"), "{html}");
    let r = s.get("/audit/logs.xlsx?action=create_user").await;
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let logins = s.get("/audit/logins?result=成功").await.text().await.unwrap();
    assert!(logins.contains("auditor"));
    // Exports are audited.
    let page = app
        .store
        .list_audit(&dianxiaoer_store::AuditFilter { action: Some("export".into()), ..Default::default() }, 1, 5)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].username, "auditor");
    app.cleanup().await;
}
dual!(audit_admin_pages, super::audit_pages);
