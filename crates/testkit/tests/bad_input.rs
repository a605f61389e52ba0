//! Bad input gets a clear 4xx — a Chinese page or a problem document — never a 500, and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, TestApp, dual};
use reqwest::StatusCode;

const NASTY: [&str; 6] = ["' OR '1'='1", "1; DROP TABLE users; --", "%", "_", "\\", "<script>alert(1)</script>"];

async fn bad_input(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let users_before = app.store.count_users().await.unwrap();

    // SQL-looking text in every search box.
    let staff = app.login("staff").await;
    let admin = app.login("admin").await;
    let auditor = app.login("auditor").await;
    let sec = app.login("secadmin").await;
    for n in NASTY {
        let q = urlencode(n);
        for (s, path) in [
            (&staff, format!("/enterprises?q={q}")),
            (&staff, format!("/api/v1/enterprises?q={q}")),
            (&admin, format!("/admin/users?q={q}")),
            (&admin, format!("/api/v1/users?q={q}")),
            (&sec, format!("/security/accounts?q={q}")),
            (&auditor, format!("/audit/logs?username={q}&action={q}&object_id={q}")),
            (&auditor, format!("/audit/logins?username={q}")),
            (&auditor, format!("/api/v1/audit/logs?username={q}")),
        ] {
            let r = s.get(&path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let body = r.text().await.unwrap();
            assert!(!body.contains("<script>alert"), "escaped: {path}");
        }
    }
    // Sort keys come from an allow-list.
    let r = staff.get("/enterprises?sort=name;DROP").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("不支持的排序字段"));
    let r = staff.get("/api/v1/enterprises?sort=id%20desc").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Wrong types in the query.
    let r = staff.get("/api/v1/enterprises?page=abc").await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = staff.get("/enterprises/abc").await;
    assert!(r.status().is_client_error());

    // Over-long and empty fields: errors beside the field, typed values kept, nothing written.
    let long = "长".repeat(100);
    let r = admin
        .post_form("/admin/users", &[("username", "ab"), ("display_name", &long), ("role", "leader"), ("phone", "12")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("用户名为 3–32 位"));
    assert!(html.contains("姓名不能超过 32 个字符"));
    assert!(html.contains("手机号应为 11 位数字"));
    assert!(html.contains("value=\"ab\""), "typed values are kept");
    let r = admin.post_form("/admin/users", &[("username", ""), ("display_name", ""), ("role", "system_admin")]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("请填写用户名") && html.contains("管理员账号只能在服务器上用命令行创建"));
    let r = admin.post_json("/api/v1/users", &serde_json::json!({"username": "x", "role": "nope"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["errors"]["role"].is_string() && p["errors"]["username"].is_string());
    assert_eq!(app.store.count_users().await.unwrap(), users_before, "nothing written");

    // Wrong content type and malformed JSON.
    let r = admin
        .client
        .post(admin.url("/api/v1/users"))
        .header("x-csrf-token", &admin.csrf)
        .body("username=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("内容类型错误"));
    let r = admin
        .client
        .post(admin.url("/api/v1/users"))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin.post_json("/api/v1/users", &serde_json::json!({"username": 5})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Oversized body.
    let big = "x".repeat(3 * 1024 * 1024);
    let r = admin
        .client
        .post(admin.url("/admin/users"))
        .form(&[("username", big.as_str()), ("_csrf", &admin.csrf)])
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    // Security policy out of range.
    let r = sec
        .post_form(
            "/security/policy",
            &[
                ("min_length", "4"),
                ("min_classes", "9"),
                ("max_age_days", "x"),
                ("history", "5"),
                ("max_failures", "5"),
                ("lockout_minutes", "30"),
                ("idle_timeout_minutes", "30"),
                ("absolute_timeout_minutes", "480"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"x\""));
    assert!(html.contains("请填写非负整数"));

    // Unknown pages and API paths.
    let r = staff.get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("页面或记录不存在"));
    let r = staff.get("/api/v1/nothing").await;
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    app.cleanup().await;
}
dual!(bad_input_is_refused_clearly, super::bad_input);

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
