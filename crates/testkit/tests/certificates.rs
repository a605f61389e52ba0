//! Sealed certificates (批准文书) over HTTP on both backends: a decision of 准予 seals one; anyone
//! verifies it by its code without login (有效 / 已撤销 / 已被篡改 / 不存在); editing any stored field
//! breaks verification; a rotated-out key still verifies what it sealed while valid; the security admin
//! generates, rotates and sets the validity of the seal, and signing outside it is refused with
//! nothing half-done; the private key is never shown, returned or audited, and opens only with the
//! wrapping secret it was made under.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::{Actor, AuditFilter, DatabaseUrl, Keys, Store};
use dianxiaoer_testkit::{Backend, SEAL_SECRET, Session, TestApp, dual, seal_validity};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};

/// 食品生产许可: a licence with a legal term of 5 years.
const FOOD: &str = "371323-GS-005";
/// 公共场所卫生许可: 告知承诺 allowed.
const HYGIENE: &str = "371323-GS-007";

fn conn_str(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

async fn raw(url: &DatabaseUrl, sql: &str) {
    let mut c = sqlx::AnyConnection::connect(&conn_str(url)).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

async fn scalar(url: &DatabaseUrl, sql: &str) -> String {
    let mut c = sqlx::AnyConnection::connect(&conn_str(url)).await.unwrap();
    let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
    let v: String = row.try_get(0).unwrap();
    c.close().await.unwrap();
    v
}

async fn item(s: &Session, code: &str) -> Value {
    s.get(&format!("/api/v1/approval/items/{code}")).await.json().await.unwrap()
}

fn all_materials(item: &Value) -> Vec<String> {
    item["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

async fn act(s: &Session, id: i64, action: &str, comment: &str) -> reqwest::Response {
    s.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action, "comment": comment})).await
}

async fn act_ok(s: &Session, id: i64, action: &str, comment: &str) -> Value {
    let r = act(s, id, action, comment).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{} {action}: {body}", s.username);
    body
}

/// A case of `code` for enterprise `a`, filed complete and taken to 决定 (审查 → 提请决定).
async fn to_decision(app: &TestApp, code: &str) -> i64 {
    let (ent, staff) = (app.login("ent_a").await, app.login("staff").await);
    let materials = all_materials(&item(&ent, code).await);
    let body = json!({"item_code": code, "enterprise_id": app.fixture.enterprise("a"), "materials": materials});
    let r = ent.post_json("/api/v1/approval/cases", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["case"]["id"].as_i64().unwrap();
    act_ok(&ent, id, "submit", "").await;
    act_ok(&staff, id, "accept", "").await;
    act_ok(&staff, id, "submit_for_decision", "").await;
    id
}

/// A case approved by the leader; its certificate's code (grouped).
async fn approved(app: &TestApp) -> (i64, String) {
    let id = to_decision(app, FOOD).await;
    let d = act_ok(&app.login("leader").await, id, "approve", "同意").await;
    (id, d["certificate"].as_str().expect("a certificate code").to_owned())
}

fn anon() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn verify(app: &TestApp, code: &str) -> Value {
    let r = anon().get(app.url(&format!("/api/v1/verify/{code}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{code}");
    r.json().await.unwrap()
}

async fn status(app: &TestApp, code: &str) -> String {
    verify(app, code).await["status"].as_str().unwrap().to_owned()
}

async fn problem(r: reqwest::Response, status: StatusCode) -> String {
    let got = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{v}");
    v["detail"].as_str().unwrap().to_owned()
}

async fn issued_and_verified(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (id, code) = approved(&app).await;
    assert_eq!(code.len(), 14);
    assert_eq!(code.matches('-').count(), 2);

    // The certificate as the enterprise reads it: the content the seal signed.
    let ent = app.login("ent_a").await;
    let r = ent.get(&format!("/api/v1/approval/cases/{id}/certificate")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    let keys: Value = app.login("secadmin").await.get("/api/v1/security/seal/keys").await.json().await.unwrap();
    let fingerprint = keys[0]["fingerprint"].as_str().unwrap();
    assert_eq!(c["code_grouped"], code.as_str());
    assert_eq!(c["content"]["item_code"], FOOD);
    assert_eq!(c["content"]["title"], "准予行政许可决定书");
    assert_eq!(c["content"]["enterprise_name"], "山东甲化工有限公司");
    assert_eq!(c["content"]["credit_code"].as_str().unwrap().len(), 18);
    assert_eq!(c["content"]["decision"], "准予");
    assert_eq!(c["content"]["decision_date"], "2026-03-02");
    assert_eq!(c["content"]["valid_from"], "2026-03-02");
    assert_eq!(c["content"]["valid_until"], "2031-03-01", "5 years, the day before the anniversary");
    assert_eq!(c["content"]["issuer"], "沂水经济开发区行政审批服务局");
    assert_eq!(c["content"]["seal"], fingerprint);
    assert_eq!(c["signature"].as_str().unwrap().len(), 128);

    // The printable page, and the case page's link to it.
    let r = ent.get(&format!("/approval/cases/{id}/certificate")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for text in ["准予行政许可决定书", "行政审批专用章", code.as_str(), "data-print", "/verify?code=", "2031-03-01"]
    {
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains("《食品生产许可管理办法》") && !html.contains("长期有效"), "the legal term and its basis");
    let html = ent.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"case-certificate-code\">") && html.contains(&code));
    // Another enterprise does not see it.
    let other = app.login("ent_b").await;
    assert_eq!(other.get(&format!("/api/v1/approval/cases/{id}/certificate")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("/approval/cases/{id}/certificate")).await.status(), StatusCode::NOT_FOUND);

    // Anyone verifies it, however the code is typed.
    let v = verify(&app, &code).await;
    assert_eq!(v["status"], "valid");
    assert_eq!(v["label"], "有效");
    assert_eq!(v["certificate"]["case_no"], c["content"]["case_no"]);
    assert_eq!(status(&app, &code.replace('-', "").to_lowercase()).await, "valid");
    let r = anon().get(app.url(&format!("/verify?code={}", code.to_lowercase()))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-status=\"有效\"") && html.contains("山东甲化工有限公司"));
    let html = anon().get(app.url("/verify")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("批准文书核验") && !html.contains("data-testid=\"verify-result\""));

    // Unknown and malformed codes.
    let v = verify(&app, "ZZZZ-ZZZZ-ZZZZ").await;
    assert_eq!((v["status"].as_str(), v["label"].as_str()), (Some("unknown"), Some("不存在")));
    assert!(v["certificate"].is_null());
    let r = anon().get(app.url("/api/v1/verify/ABC")).send().await.unwrap();
    assert!(problem(r, StatusCode::BAD_REQUEST).await.contains("12 位"));
    let r = anon().get(app.url("/verify?code=ABCD-EFGH-IJKU")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("data-testid=\"verify-error\""));

    // A refusal seals nothing; the certificate is a snapshot: renaming the enterprise later does not
    // touch it.
    let refused = to_decision(&app, FOOD).await;
    let d = act_ok(&app.login("staff").await, refused, "refuse", "不符合法定条件").await;
    assert!(d["certificate"].is_null());
    assert_eq!(ent.get(&format!("/api/v1/approval/cases/{refused}/certificate")).await.status(), StatusCode::NOT_FOUND);
    let a = app.fixture.enterprise("a");
    raw(&app.db_url, &format!("UPDATE enterprises SET name = '山东甲化工集团有限公司' WHERE id = {a}")).await;
    assert_eq!(status(&app, &code).await, "valid");

    // The decision's audit record names the certificate.
    let f =
        AuditFilter { action: Some("approval_action".into()), object_id: Some(id.to_string()), ..Default::default() };
    let rows = app.store.list_audit(&f, 1, 50).await.unwrap().items;
    assert!(rows.iter().any(|r| r.detail.contains(&code.replace('-', ""))), "{rows:?}");
    app.cleanup().await;
}
dual!(certificate_issued_at_decision_and_verified, super::issued_and_verified);

async fn tampering(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (id, code) = approved(&app).await;
    let (_, other) = approved(&app).await;
    let plain = code.replace('-', "");
    let url = &app.db_url;
    let row = format!("WHERE case_id = {id}");
    let text_columns = [
        "title",
        "case_no",
        "item_code",
        "item_name",
        "enterprise_name",
        "credit_code",
        "decision",
        "decision_date",
        "valid_from",
        "valid_until",
        "issuer",
    ];
    for col in text_columns {
        raw(url, &format!("UPDATE approval_certificates SET {col} = {col} || 'x' {row}")).await;
        let v = verify(&app, &code).await;
        assert_eq!(v["status"], "altered", "{col}: {v}");
        assert_eq!(v["label"], "已被篡改");
        assert!(v["certificate"].is_null(), "an altered certificate shows no content");
        raw(url, &format!("UPDATE approval_certificates SET {col} = substr({col}, 1, length({col}) - 1) {row}")).await;
        assert_eq!(status(&app, &code).await, "valid", "{col} restored");
    }
    raw(url, &format!("UPDATE approval_certificates SET sealed_at = sealed_at + 1 {row}")).await;
    assert_eq!(status(&app, &code).await, "altered", "sealed_at");
    raw(url, &format!("UPDATE approval_certificates SET sealed_at = sealed_at - 1 {row}")).await;
    assert_eq!(status(&app, &code).await, "valid", "sealed_at restored");
    // One hex digit of the hash or of the signature.
    for col in ["hash", "signature"] {
        let was = scalar(url, &format!("SELECT {col} FROM approval_certificates {row}")).await;
        let first = if was.starts_with('0') { '1' } else { '0' };
        raw(url, &format!("UPDATE approval_certificates SET {col} = '{first}{}' {row}", &was[1..])).await;
        assert_eq!(status(&app, &code).await, "altered", "{col}");
        raw(url, &format!("UPDATE approval_certificates SET {col} = '{was}' {row}")).await;
        assert_eq!(status(&app, &code).await, "valid", "{col} restored");
    }
    // A revoked mark put on a standing decision.
    raw(url, &format!("UPDATE approval_certificates SET revoked_at = 1, revoked_reason = '伪造' {row}")).await;
    assert_eq!(status(&app, &code).await, "altered", "revoked mark");
    raw(url, &format!("UPDATE approval_certificates SET revoked_at = NULL, revoked_reason = '' {row}")).await;
    assert_eq!(status(&app, &code).await, "valid", "revoked mark removed");
    // The case and the key it hangs on (foreign keys would refuse these edits; a tamperer with the
    // database can switch them off).
    let restore_case = format!("case_id = {id}");
    for (alter, restore, why) in [
        ("case_id = -1", restore_case.as_str(), "批准文书与办件记录不符"),
        ("seal_key_id = seal_key_id + 100", "seal_key_id = seal_key_id - 100", "签章所用的印章密钥不存在"),
    ] {
        tamper_row(&app, &plain, alter).await;
        let v = verify(&app, &code).await;
        assert_eq!((v["status"].as_str(), v["reason"].as_str()), (Some("altered"), Some(why)), "{alter}");
        tamper_row(&app, &plain, restore).await;
        assert_eq!(status(&app, &code).await, "valid", "{alter} restored");
    }
    // Another case's certificate moved onto this one's code.
    raw(url, &format!("UPDATE approval_certificates SET code = '000000000000' {row}")).await;
    assert_eq!(status(&app, &code).await, "unknown");
    assert_eq!(verify(&app, "0000-0000-0000").await["reason"], "校验码与内容不符");
    raw(url, &format!("UPDATE approval_certificates SET code = '{plain}' {row}")).await;
    // The key on file: a different public key breaks its fingerprint.
    let public = scalar(url, "SELECT public_key FROM seal_keys WHERE active = 1").await;
    let bent = format!("{}{}{}", &public[..10], if &public[10..11] == "0" { "1" } else { "0" }, &public[11..]);
    raw(url, &format!("UPDATE seal_keys SET public_key = '{bent}' WHERE active = 1")).await;
    let v = verify(&app, &code).await;
    assert_eq!((v["status"].as_str(), v["reason"].as_str()), (Some("altered"), Some("签章所用的印章密钥与记录不符")));
    raw(url, &format!("UPDATE seal_keys SET public_key = '{public}' WHERE active = 1")).await;
    assert_eq!(status(&app, &code).await, "valid");
    // The page says so too.
    raw(url, &format!("UPDATE approval_certificates SET decision = '不予' {row}")).await;
    let html = anon().get(app.url(&format!("/verify?code={code}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-status=\"已被篡改\"") && html.contains("内容与签章时的摘要不一致"));
    assert!(!html.contains("山东甲化工有限公司"));
    assert_eq!(status(&app, &other).await, "valid", "the other certificate was never touched");
    app.cleanup().await;
}
dual!(altering_any_stored_field_fails_verification, super::tampering);

/// Rewrites one certificate row with `set` applied, without the foreign-key checks a real tamperer
/// could switch off: copy, delete, insert the altered copy.
async fn tamper_row(app: &TestApp, code: &str, set: &str) {
    let cols = "case_id, code, title, case_no, item_code, item_name, enterprise_name, credit_code, decision, \
                decision_date, valid_from, valid_until, issuer, sealed_at, seal_key_id, hash, signature";
    let (field, expr) = set.split_once(" = ").unwrap();
    let select =
        cols.split(", ").map(|c| if c == field { format!("{expr} AS {c}") } else { c.to_owned() }).collect::<Vec<_>>();
    let off = match app.db_url {
        DatabaseUrl::Sqlite(_) => "PRAGMA foreign_keys = OFF;",
        DatabaseUrl::Postgres(_) => "SET session_replication_role = replica;",
    };
    raw(
        &app.db_url,
        &format!(
            "{off} CREATE TEMPORARY TABLE t AS SELECT {} FROM approval_certificates WHERE code = '{code}'; \
             DELETE FROM approval_certificates WHERE code = '{code}'; \
             INSERT INTO approval_certificates ({cols}) SELECT {cols} FROM t; DROP TABLE t;",
            select.join(", ")
        ),
    )
    .await;
}

async fn rotation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, old_code) = approved(&app).await;
    let sec = app.login("secadmin").await;
    let before: Value = sec.get("/api/v1/security/seal/keys").await.json().await.unwrap();
    let old_fp = before[0]["fingerprint"].as_str().unwrap().to_owned();

    let r = sec
        .post_json("/api/v1/security/seal/keys", &json!({"valid_from": "2026-03-01", "valid_to": "2028-12-31"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let new: Value = r.json().await.unwrap();
    let new_fp = new["fingerprint"].as_str().unwrap().to_owned();
    assert_ne!(new_fp, old_fp);
    assert_eq!(new["active"], true);
    assert_eq!(new["public_key"].as_str().unwrap().len(), 130);
    assert!(new.as_object().unwrap().keys().all(|k| !k.contains("private")), "{new}");

    let keys: Value = sec.get("/api/v1/security/seal/keys").await.json().await.unwrap();
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0]["active"].as_bool(), keys[0]["fingerprint"].as_str()), (Some(true), Some(new_fp.as_str())));
    assert_eq!(keys[1]["active"], false);
    assert!(keys[1]["retired_at"].is_i64());
    assert_eq!(keys[1]["certificates"], 1);

    // The old key's certificate still verifies; a new decision is sealed by the new key.
    let v = verify(&app, &old_code).await;
    assert_eq!((v["status"].as_str(), v["certificate"]["seal"].as_str()), (Some("valid"), Some(old_fp.as_str())));
    let (_, new_code) = approved(&app).await;
    assert_eq!(verify(&app, &new_code).await["certificate"]["seal"], new_fp.as_str());

    // The security admin's page shows both, the public key and fingerprint, never a private key.
    let html = sec.get("/security/seal").await.text().await.unwrap();
    assert!(html.contains(&dianxiaoer_core::seal::fingerprint_grouped(&new_fp)));
    assert!(html.contains(new["public_key"].as_str().unwrap()));
    assert!(html.contains("已轮换（仅用于核验）"));
    let wrapped = scalar(&app.db_url, "SELECT private_key_wrapped FROM seal_keys WHERE active = 1").await;
    assert!(wrapped.starts_with("sm4gcm1:"));
    let hex_part = wrapped.trim_start_matches("sm4gcm1:");
    assert!(!html.contains(hex_part));
    // Nor does any audit record.
    let audit = app.store.list_audit(&AuditFilter::default(), 1, 1000).await.unwrap().items;
    assert!(audit.iter().all(|r| !r.detail.contains(hex_part) && !r.detail.contains("private")));
    let rotated = audit.iter().find(|r| r.action == "seal_key_rotate").expect("rotation audited");
    assert!(rotated.detail.contains(&new_fp) && rotated.detail.contains(&old_fp) && rotated.username == "secadmin");

    // Rotating by the page form.
    let r = sec.post_form("/security/seal/keys", &[("valid_from", "2026-03-02"), ("valid_to", "2030-12-31")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let keys: Value = sec.get("/api/v1/security/seal/keys").await.json().await.unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 3);
    assert_eq!(status(&app, &old_code).await, "valid");
    assert_eq!(status(&app, &new_code).await, "valid");
    app.cleanup().await;
}
dual!(a_rotated_out_key_still_verifies_what_it_sealed, super::rotation);

async fn validity(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let sec = app.login("secadmin").await;
    let (_, code) = approved(&app).await;

    // Bad periods.
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2027-01-01", "valid_to": "2026-01-01"}))
        .await;
    assert!(problem(r, StatusCode::BAD_REQUEST).await.contains("不能晚于"));
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2026-13-01", "valid_to": "2027-01-01"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = sec.post_form("/security/seal/validity", &[("valid_from", "2026-03-01"), ("valid_to", "昨天")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("field-error"));
    // Narrowing it so that a sealed certificate falls outside is refused.
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2026-03-03", "valid_to": "2027-01-01"}))
        .await;
    assert!(problem(r, StatusCode::UNPROCESSABLE_ENTITY).await.contains("1 份批准文书不在新的有效期内"));

    // Ended yesterday's night: a decision today is refused, nothing changes.
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2026-01-01", "valid_to": "2026-03-02"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance_ms(86_400_000);
    let (sec, leader) = (app.login("secadmin").await, app.login("leader").await);
    let id = to_decision(&app, FOOD).await;
    let audits = app.store.list_audit(&AuditFilter::default(), 1, 1).await.unwrap().total;
    let r = act(&leader, id, "approve", "同意").await;
    let why = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(why.contains("已于 2026-03-02 到期") && why.contains("延长有效期或轮换"), "{why}");
    let case: Value = leader.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap();
    assert_eq!(case["case"]["state"], "deciding");
    assert!(case["certificate"].is_null());
    assert_eq!(app.store.list_audit(&AuditFilter::default(), 1, 1).await.unwrap().total, audits);
    // The page shows the same refusal.
    let r = leader.post_form(&format!("/approval/cases/{id}/actions"), &[("action", "approve")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("到期"));
    // Old certificates keep verifying; extending the period lets the decision through.
    assert_eq!(status(&app, &code).await, "valid");
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2026-01-01", "valid_to": "2026-12-31"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = act_ok(&leader, id, "approve", "同意").await;
    assert_eq!(status(&app, d["certificate"].as_str().unwrap()).await, "valid");
    let f = AuditFilter { action: Some("seal_key_validity".into()), ..Default::default() };
    assert_eq!(app.store.list_audit(&f, 1, 10).await.unwrap().total, 2);

    // Not yet valid: a new key from next month.
    let r = sec
        .post_json("/api/v1/security/seal/keys", &json!({"valid_from": "2026-04-01", "valid_to": "2026-12-31"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = to_decision(&app, FOOD).await;
    let why = problem(act(&leader, id, "approve", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(why.contains("自 2026-04-01 起启用"), "{why}");

    // No key at all.
    raw(&app.db_url, "UPDATE seal_keys SET active = 0").await;
    let why = problem(act(&leader, id, "approve", "").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(why.contains("尚未生成审批专用章密钥"), "{why}");
    let html = sec.get("/security/seal").await.text().await.unwrap();
    assert!(html.contains("data-testid=\"no-seal\""));
    let r = sec
        .post_json("/api/v1/security/seal/validity", &json!({"valid_from": "2026-01-01", "valid_to": "2026-12-31"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.cleanup().await;
}
dual!(signing_outside_the_validity_is_refused, super::validity);

async fn revoked_and_wrapping(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    // 告知承诺: approved on the commitment, found false at the post-check, revoked.
    let (ent, staff, leader) = (app.login("ent_a").await, app.login("staff").await, app.login("leader").await);
    let materials = all_materials(&item(&ent, HYGIENE).await);
    let body = json!({"item_code": HYGIENE, "enterprise_id": app.fixture.enterprise("a"), "materials": materials});
    let id = ent.post_json("/api/v1/approval/cases", &body).await.json::<Value>().await.unwrap()["case"]["id"]
        .as_i64()
        .unwrap();
    act_ok(&ent, id, "submit", "").await;
    act_ok(&staff, id, "accept", "").await;
    let r = ent
        .post_json(&format!("/api/v1/approval/cases/{id}/commitment"), &json!({"text": "本单位承诺符合卫生许可条件"}))
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let d = act_ok(&leader, id, "approve_on_commitment", "").await;
    let code = d["certificate"].as_str().unwrap().to_owned();
    let v = verify(&app, &code).await;
    assert_eq!(
        (v["status"].as_str(), v["certificate"]["decision"].as_str()),
        (Some("valid"), Some("准予（告知承诺）"))
    );
    assert_eq!(v["certificate"]["valid_until"], "2030-03-01", "4 years");
    act_ok(&staff, id, "complete", "").await;
    // The post-approval check fails: the decision is revoked, and so is the certificate.
    let check = json!({"result": "failed", "method": "on_site", "findings": "经营场所面积不足"});
    let r = staff.post_json(&format!("/api/v1/approval/cases/{id}/check"), &check).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let v = verify(&app, &code).await;
    assert_eq!((v["status"].as_str(), v["label"].as_str()), (Some("revoked"), Some("已撤销")));
    assert!(v["revoked_reason"].as_str().unwrap().contains("经营场所面积不足"), "{v}");
    assert!(v["certificate"].is_object());
    let html = ent.get(&format!("/approval/cases/{id}/certificate")).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"certificate-revoked\""));
    // The revoked mark must agree with the case: removed, or put on a standing decision, it reads
    // as an altered record, not as a valid or revoked one.
    let url = &app.db_url;
    let plain = code.replace('-', "");
    let row = format!("WHERE code = '{plain}'");
    let mark = scalar(url, &format!("SELECT CAST(revoked_at AS TEXT) FROM approval_certificates {row}")).await;
    raw(url, &format!("UPDATE approval_certificates SET revoked_at = NULL {row}")).await;
    let v = verify(&app, &code).await;
    assert_eq!((v["status"].as_str(), v["reason"].as_str()), (Some("altered"), Some("撤销记录与办件记录不符")));
    raw(url, &format!("UPDATE approval_certificates SET revoked_at = {mark} {row}")).await;
    assert_eq!(status(&app, &code).await, "revoked");

    // The private key opens only with the secret it was wrapped under.
    let actor = Actor::cli();
    let wrong = Store::open(
        &app.db_url,
        Keys { seal: Some(b"another-secret-0123456789abcdefghij".to_vec()), ..Keys::default() },
    )
    .await
    .unwrap();
    let err = wrong.seal_missing_certificates(&actor, dianxiaoer_testkit::START_MS).await.unwrap_err().to_string();
    assert!(err.contains("私钥无法解开"), "{err}");
    let none = Store::open(&app.db_url, Keys::default()).await.unwrap();
    let err = none.rotate_seal_key(&actor, seal_validity("2026-01-01", "2026-12-31"), 0).await.unwrap_err();
    assert!(err.to_string().contains("DXE_SEAL_KEY"));
    let right = Store::open(&app.db_url, Keys { seal: Some(SEAL_SECRET.to_vec()), ..Keys::default() }).await.unwrap();
    assert_eq!(right.seal_missing_certificates(&actor, dianxiaoer_testkit::START_MS).await.unwrap(), 0);
    wrong.close().await;
    none.close().await;
    right.close().await;
    app.cleanup().await;
}
dual!(revoked_decisions_and_the_wrapped_key, super::revoked_and_wrapping);
