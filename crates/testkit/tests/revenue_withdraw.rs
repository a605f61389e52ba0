//! Withdrawing a whole tax-ledger import over HTTP on both backends: refused with a Chinese message and
//! nothing changed when one of its months is confirmed; otherwise every row goes, the unconfirmed
//! settlement of its months is discarded, one audit record is written, and the same file can be
//! imported again. Page (button with confirmation) and API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_store::{AuditFilter, LedgerFilter};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

const XUJIAHU: &str = "371323103";
const VAT: &str = "\"中央50%,省10%,市10%,县30%\"";

async fn upload(s: &Session, csv: &str, name: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().text("encoding", "utf8").part("file", part);
    s.client
        .post(s.url("/api/v1/revenue/tax/import"))
        .header("x-csrf-token", &s.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn imported(s: &Session, csv: &str, name: &str) -> i64 {
    let r = upload(s, csv, name).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{name}");
    r.json::<Value>().await.unwrap()["import_id"].as_i64().unwrap()
}

async fn ledger_rows(app: &TestApp) -> i64 {
    app.store.list_tax_ledger(&Scope::Zone, &LedgerFilter::default(), 1, 1).await.unwrap().total
}

async fn withdrawals(app: &TestApp) -> Vec<dianxiaoer_store::AuditRow> {
    let f = AuditFilter { action: Some("withdraw_import".into()), ..Default::default() };
    app.store.list_audit(&f, 1, 50).await.unwrap().items
}

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let code = app.store.enterprise(&Scope::Zone, app.fixture.enterprise("a")).await.unwrap().credit_code;
    let staff = app.login("staff").await;
    let project = json!({"name": "甲化工扩建", "credit_code": code, "introducer": format!("town:{XUJIAHU}"),
        "host_town": XUJIAHU, "planned_investment_wan": "5000", "signed_on": "2021-03-01", "stage": "producing",
        "landed_on": "2021-06-01"});
    assert_eq!(staff.post_json("/api/v1/revenue/projects", &project).await.status(), StatusCode::CREATED);
    let head = "纳税人识别号,纳税人名称,征收项目,税款所属期起,税款所属期止,实缴金额,预算分配比例\n";
    let january = format!("{head}{code},x,增值税,2022-01-01,2022-01-31,10000.00,{VAT}\n");
    let february = format!(
        "{head}{code},x,增值税,2022-02-01,2022-02-28,2000.00,{VAT}\n{code},x,城镇土地使用税,2022-02-01,2022-02-28,300.00,\n"
    );
    let first = imported(&staff, &january, "2022-01.csv").await;
    let second = imported(&staff, &february, "2022-02.csv").await;
    assert_eq!(ledger_rows(&app).await, 3);

    // 2022-01 confirmed (drafted, reviewed by another, confirmed by leadership); 2022-02 a draft.
    app.clock.advance_ms(60_000);
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-01"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let victim = app.login("victim").await;
    let r = victim.post_json("/api/v1/revenue/settlements/2022-01/review", &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let leader = app.login("leader").await;
    let r = leader.post_json("/api/v1/revenue/settlements/2022-01/confirm", &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-02"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // The confirmed month's import cannot be withdrawn: API and page, nothing changes.
    let before = app.store.list_audit(&AuditFilter::default(), 1, 1).await.unwrap().total;
    let path = format!("/api/v1/revenue/tax/imports/{first}/withdraw");
    let r = staff.post_json(&path, &json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let detail = r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("2022年1月") && detail.contains("已确认") && detail.contains("不能撤销"), "{detail}");
    let r = staff.post_form(&format!("/revenue/tax/imports/{first}/withdraw"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-testid=\"withdraw-error\"") && page.contains("未撤销"), "{page}");
    assert_eq!(ledger_rows(&app).await, 3);
    assert_eq!(app.store.list_audit(&AuditFilter::default(), 1, 1).await.unwrap().total, before);
    assert_eq!(staff.get("/api/v1/revenue/settlements/2022-02").await.status(), StatusCode::OK);

    // Neither a town official nor an unknown import.
    let xujiahu = app.login("xujiahu").await;
    let r = xujiahu.post_json(&format!("/api/v1/revenue/tax/imports/{second}/withdraw"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = staff.post_json("/api/v1/revenue/tax/imports/999999/withdraw", &json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // February's import through the page's button: its rows and the draft of 2022-02 go.
    let list = staff.get("/revenue/tax/import").await.text().await.unwrap();
    assert!(list.contains(&format!("data-testid=\"withdraw-{second}\"")) && list.contains("class=\"link danger\""));
    let r = staff.post_form(&format!("/revenue/tax/imports/{second}/withdraw"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("已撤销第 {second} 批导入")) && page.contains("请重新起草：2022-02"), "{page}");
    assert_eq!(ledger_rows(&app).await, 1);
    assert_eq!(staff.get("/api/v1/revenue/settlements/2022-02").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(staff.get("/api/v1/revenue/settlements/2022-01").await.status(), StatusCode::OK);
    let audits = withdrawals(&app).await;
    assert_eq!(audits.len(), 1);
    let d: Value = serde_json::from_str(&audits[0].detail).unwrap();
    assert_eq!((d["rows"].as_i64(), &d["discarded_settlements"]), (Some(2), &json!(["2022-02"])));
    assert_eq!(audits[0].username, "staff");

    // The same file imports again, and is withdrawn through the API (no draft to discard now).
    let again = imported(&staff, &february, "2022-02.csv").await;
    assert_ne!(again, second);
    let r = staff.post_json(&format!("/api/v1/revenue/tax/imports/{again}/withdraw"), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = r.json().await.unwrap();
    assert_eq!(
        (&w["periods"], &w["discarded"], w["import"]["rows"].as_i64()),
        (&json!(["2022-02"]), &json!([]), Some(2))
    );
    assert_eq!(ledger_rows(&app).await, 1);
    assert_eq!(withdrawals(&app).await.len(), 2);
    assert!(app.store.verify_audit_chain().await.unwrap().problem.is_none());
    app.cleanup().await;
}

dual!(withdraw_a_whole_import, super::story);
