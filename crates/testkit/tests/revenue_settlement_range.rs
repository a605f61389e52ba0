//! Drafting a range of months in one request, on both backends: it writes exactly what drafting the
//! months one by one writes (entries, per-unit totals, adjustments of a confirmed month carried into
//! the next open one), skips confirmed months without touching them, refuses a bad range with
//! nothing written, and leaves one audit record per month drafted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_store::{AuditFilter, DatabaseUrl};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};

const XUJIAHU: &str = "371323103";
const YICHENG: &str = "371323001";
const VAT: &str = "\"中央50%,省10%,市10%,县30%\"";
const HEAD: &str = "纳税人识别号,纳税人名称,征收项目,税款所属期起,税款所属期止,实缴金额,预算分配比例,票证种类\n";

async fn upload(s: &Session, csv: String, name: &str) {
    assert_eq!(s.upload_tax_csv(csv, name).await.status(), StatusCode::CREATED, "{name}");
}

fn line(code: &str, month: &str, amount: &str) -> String {
    format!("{code},x,增值税,{month}-01,{month}-28,{amount},{VAT},电子缴税付款凭证\n")
}

/// What a month's settlement holds, without ids and times: its counts, its entries and its amounts
/// per unit and tax type.
async fn contents(url: &DatabaseUrl, period: &str) -> Vec<String> {
    let s = match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut c = sqlx::AnyConnection::connect(&s).await.unwrap();
    let queries = [
        "SELECT status || '|' || CAST(total_fen AS TEXT) || '|' || CAST(entry_count AS TEXT) || '|' || \
         CAST(row_count AS TEXT) || '|' || CAST(adjustment_count AS TEXT) || '|' || CAST(unshared_count AS TEXT) \
         FROM settlements WHERE period = $1",
        "SELECT CAST(se.project_id AS TEXT) || '|' || COALESCE(se.adjusts_period, '-') || '|' || se.ratio || '|' || \
         CAST(se.debit_fen AS TEXT) || '|' || se.unit1 || '/' || CAST(se.amount1_fen AS TEXT) || '|' || \
         COALESCE(se.unit2 || '/' || CAST(se.amount2_fen AS TEXT), '-') || '|' || \
         COALESCE(se.unit3 || '/' || CAST(se.amount3_fen AS TEXT), '-') \
         FROM settlement_entries se JOIN settlements s ON s.id = se.settlement_id WHERE s.period = $1 \
         ORDER BY se.project_id, se.adjusts_period",
        "SELECT t.unit_kind || ':' || t.unit_code || '|' || t.tax_type || '|' || CAST(t.amount_fen AS TEXT) || '|' || \
         CAST(t.adjustments_fen AS TEXT) FROM settlement_tax_types t JOIN settlements s ON s.id = t.settlement_id \
         WHERE s.period = $1 ORDER BY 1",
        "SELECT CAST(x.ledger_id AS TEXT) FROM settlement_late_rows x JOIN settlements s ON s.id = x.settlement_id \
         WHERE s.period = $1 ORDER BY x.ledger_id",
    ];
    let mut out = Vec::new();
    for q in queries {
        for r in sqlx::query(q).bind(period.to_string()).fetch_all(&mut c).await.unwrap() {
            out.push(r.try_get::<String, _>(0).unwrap());
        }
    }
    c.close().await.unwrap();
    out
}

async fn drafts_audited(app: &TestApp) -> i64 {
    let filter = AuditFilter { action: Some("draft_settlement".into()), ..Default::default() };
    app.store.list_audit(&filter, 1, 50).await.unwrap().total
}

async fn range(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let f = &app.fixture;
    let a = app.store.enterprise(&Scope::Zone, f.enterprise("a")).await.unwrap().credit_code;
    let b = app.store.enterprise(&Scope::Zone, f.enterprise("b")).await.unwrap().credit_code;
    let staff = app.login("staff").await;
    for (name, code, introducer) in [("甲", &a, format!("town:{XUJIAHU}")), ("乙", &b, "zone".to_string())] {
        let project = json!({"name": name, "credit_code": code, "introducer": introducer, "host_town": YICHENG,
            "planned_investment_wan": "5000", "signed_on": "2021-03-01", "stage": "producing",
            "landed_on": "2021-06-01"});
        assert_eq!(staff.post_json("/api/v1/revenue/projects", &project).await.status(), StatusCode::CREATED);
    }
    let mut sheet = HEAD.to_string();
    for (month, x, y) in
        [("2022-01", "1000.01", "333.33"), ("2022-02", "2000.00", "0.07"), ("2022-03", "777.77", "5.55")]
    {
        sheet += &line(&a, month, x);
        sheet += &line(&b, month, y);
    }
    sheet += &line(&a, "2022-04", "4444.44");
    upload(&staff, sheet, "2022Q1.csv").await;

    // 2022-01 drafted, reviewed and confirmed; then a correction of it arrives.
    app.clock.advance_ms(60_000);
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-01"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let victim = app.login("victim").await;
    assert!(victim.post_json("/api/v1/revenue/settlements/2022-01/review", &json!({})).await.status().is_success());
    let leader = app.login("leader").await;
    assert!(leader.post_json("/api/v1/revenue/settlements/2022-01/confirm", &json!({})).await.status().is_success());
    let confirmed = contents(&app.db_url, "2022-01").await;
    let mut correction = HEAD.to_string();
    correction += &line(&a, "2022-01", "-100.00");
    upload(&staff, correction, "更正.csv").await;
    let audited = drafts_audited(&app).await;

    // Bad ranges: refused, nothing written.
    for (body, status) in [
        (json!({"from": "2022-04", "to": "2022-02"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"from": "2022-01", "to": "2023-01"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"from": "2022-13", "to": "2022-02"}), StatusCode::BAD_REQUEST),
        (json!({"from": "2022-02", "to": "二月"}), StatusCode::BAD_REQUEST),
    ] {
        let r = staff.post_json("/api/v1/revenue/settlements/range", &body).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let r = staff.post_json("/api/v1/revenue/settlements/range", &json!({"from": "2022-01", "to": "2023-01"})).await;
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("最多起草 12 个月"));
    assert_eq!(drafts_audited(&app).await, audited);
    let xujiahu = app.login("xujiahu").await;
    let r = xujiahu.post_json("/api/v1/revenue/settlements/range", &json!({"from": "2022-01", "to": "2022-04"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The range: 2022-01 skipped (confirmed, unchanged), 02–04 drafted, the correction carried into 02.
    app.clock.advance_ms(60_000);
    let r = staff.post_json("/api/v1/revenue/settlements/range", &json!({"from": "2022-01", "to": "2022-04"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["skipped"], json!(["2022-01"]));
    let drafted: Vec<&str> = d["drafted"].as_array().unwrap().iter().map(|s| s["period"].as_str().unwrap()).collect();
    assert_eq!(drafted, ["2022-02", "2022-03", "2022-04"]);
    assert!(d["drafted"].as_array().unwrap().iter().all(|s| s["status"] == "draft"));
    assert_eq!(d["drafted"][0]["adjustment_count"], 1);
    assert_eq!(drafts_audited(&app).await, audited + 3);
    assert_eq!(contents(&app.db_url, "2022-01").await, confirmed);
    let by_range: Vec<Vec<String>> = {
        let mut v = Vec::new();
        for p in ["2022-02", "2022-03", "2022-04"] {
            v.push(contents(&app.db_url, p).await);
        }
        v
    };
    assert!(by_range[0].iter().any(|e| e.contains("|2022-01|")), "the correction as an adjustment: {:?}", by_range[0]);

    // Each month drafted on its own writes the same.
    for (i, p) in ["2022-02", "2022-03", "2022-04"].into_iter().enumerate() {
        let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": p})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(contents(&app.db_url, p).await, by_range[i], "{p}");
    }

    // The page's form: a range redirects to the list with its notice; a bad end month is named.
    let r = staff.post_form("/revenue/settlements", &[("period", "2022-02"), ("to", "2022-03")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/revenue/settlements?ok=drafted_range");
    let page = staff.get("/revenue/settlements?ok=drafted_range").await.text().await.unwrap();
    assert!(page.contains("所选月份中未确认的结算均已起草"), "{page}");
    let r = staff.post_form("/revenue/settlements", &[("period", "2022-02"), ("to", "2022-1")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("结束月份"));
    assert_eq!(contents(&app.db_url, "2022-02").await, by_range[0]);
    app.cleanup().await;
}
dual!(range_drafts_equal_month_by_month, super::range);
