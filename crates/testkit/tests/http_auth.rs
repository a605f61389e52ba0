//! Sign-in, second factor, lockout, CSRF, timeouts, password change and session revocation over HTTP,
//! on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::totp;
use dianxiaoer_store::LoginFilter;
use dianxiaoer_testkit::{Backend, PASSWORD, Session, TestApp, dual};
use reqwest::StatusCode;

fn loc(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

async fn login_form(app: &TestApp, c: &reqwest::Client, user: &str, pass: &str) -> reqwest::Response {
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&page);
    c.post(app.url("/login")).form(&[("username", user), ("password", pass), ("_csrf", &csrf)]).send().await.unwrap()
}

fn dianxiaoer_testkit_csrf(html: &str) -> String {
    let k = "name=\"_csrf\" value=\"";
    let i = html.find(k).unwrap() + k.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn sign_in_and_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Anonymous pages redirect to the login; the API answers 401 with a problem document.
    let c = client();
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!((r.status(), loc(&r)), (StatusCode::SEE_OTHER, "/login".into()));
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let s = app.login("leader").await;
    let me: serde_json::Value = s.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["user"]["username"], "leader");
    assert_eq!(me["scope"]["kind"], "zone");
    let cookie = s.get("/").await.headers().get_all("set-cookie").iter().count();
    assert_eq!(cookie, 0, "no cookie churn on ordinary pages");

    // Logout revokes the session server-side.
    let r = s.post_form("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(loc(&s.get("/").await), "/login");
    assert_eq!(app.store.count_sessions(app.fixture.user("leader")).await.unwrap(), 0);

    // A replayed session token (copied before logout) is refused.
    let c2 = client();
    let page = c2.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&page);
    let r = c2
        .post(app.url("/login"))
        .form(&[("username", "leader"), ("password", PASSWORD), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("dxe_session="))
        .unwrap();
    let token = set.trim_start_matches("dxe_session=").split(';').next().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    assert_eq!(token.len(), 64, "256-bit session id");
    let html = c2.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&html);
    c2.post(app.url("/logout")).form(&[("_csrf", &csrf)]).send().await.unwrap();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .header("cookie", format!("dxe_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(loc(&r), "/login?expired=1");

    // Wrong password: generic message, logged with reason.
    let r = login_form(&app, &c, "leader", "wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
    let r = login_form(&app, &c, "nobody", "wrong").await;
    assert!(r.text().await.unwrap().contains("用户名或密码错误"), "unknown users get the same answer");
    let log =
        app.store.list_logins(&LoginFilter { result: Some("失败".into()), ..Default::default() }, 1, 10).await.unwrap();
    assert_eq!(log.total, 2);
    assert!(log.items.iter().any(|l| l.reason == "用户名不存在"));
    app.cleanup().await;
}
dual!(sign_in_and_out, super::sign_in_and_out);

async fn lockout(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let c = client();
    for _ in 0..5 {
        login_form(&app, &c, "staff", "Wrong#Pass1").await;
    }
    let r = login_form(&app, &c, "staff", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "locked even with the right password");
    assert!(r.text().await.unwrap().contains("已锁定"));
    // The lock ends after the lockout time.
    app.clock.advance_ms(31 * 60_000);
    let r = login_form(&app, &c, "staff", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.cleanup().await;
}
dual!(lockout, super::lockout);

async fn csrf_and_forged_tokens(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = app.login("ent_a").await;
    let id = app.fixture.enterprise("a");
    let path = format!("/enterprises/{id}/contact");
    let form = [("address", "x路1号"), ("contact_name", "王"), ("contact_phone", "13811112222")];
    // No token, a forged token: 403, nothing written.
    let r = s.client.post(s.url(&path)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let mut forged = form.to_vec();
    forged.push(("_csrf", "00000000000000000000000000000000000000000000000000000000000000"));
    let r = s.client.post(s.url(&path)).form(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .client
        .post(s.url(&format!("/api/v1/enterprises/{id}/contact")))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "API with a cookie needs the header");
    let e = app.store.enterprise(&dianxiaoer_core::access::Scope::Zone, id).await.unwrap();
    assert_eq!(e.address, "沂水经济开发区");
    // With the token it works.
    let r = s.post_form(&path, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A replayed login form (old pre-session token) is refused.
    let c = client();
    let r = c
        .post(app.url("/login"))
        .form(&[("username", "leader"), ("password", PASSWORD), ("_csrf", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
dual!(csrf_and_forged_tokens, super::csrf_and_forged_tokens);

async fn timeouts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = app.login("leader").await;
    app.clock.advance_ms(29 * 60_000);
    assert_eq!(s.get("/").await.status(), StatusCode::OK, "activity within the idle timeout");
    app.clock.advance_ms(31 * 60_000);
    let r = s.get("/").await;
    assert_eq!(loc(&r), "/login?expired=1", "idle for 31 minutes");
    // Absolute lifetime: active every 20 minutes, still ends after 8 hours.
    let s = app.login("leader").await;
    for _ in 0..24 {
        app.clock.advance_ms(20 * 60_000);
        assert_eq!(s.get("/").await.status(), StatusCode::OK);
    }
    app.clock.advance_ms(20 * 60_000);
    assert_eq!(loc(&s.get("/").await), "/login?expired=1");
    app.cleanup().await;
}
dual!(timeouts, super::timeouts);

async fn second_factor(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let c = client();
    let r = login_form(&app, &c, "admin", PASSWORD).await;
    assert_eq!(loc(&r), "/login/totp");
    // Until the code is given, nothing else is reachable.
    let r = c.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(loc(&r), "/login/totp");
    let r = c.get(app.url("/account/totp")).send().await.unwrap();
    assert_eq!(loc(&r), "/login/totp", "enrolment cannot be used to skip the challenge");
    let page = c.get(app.url("/login/totp")).send().await.unwrap().text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&page);
    let r = c.post(app.url("/login/totp")).form(&[("code", "000000"), ("_csrf", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let secret = totp::base32_decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    let code = totp::code_at(&secret, dianxiaoer_web::Clock::now_ms(app.clock.as_ref()) / 1000);
    let r = c.post(app.url("/login/totp")).form(&[("code", code.as_str()), ("_csrf", &csrf)]).send().await.unwrap();
    assert_eq!(loc(&r), "/");
    assert_eq!(c.get(app.url("/admin/users")).send().await.unwrap().status(), StatusCode::OK);
    // The same code cannot be used again (RFC 6238 §5.2).
    let c2 = client();
    login_form(&app, &c2, "admin", PASSWORD).await;
    let page = c2.get(app.url("/login/totp")).send().await.unwrap().text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&page);
    let r = c2.post(app.url("/login/totp")).form(&[("code", code.as_str()), ("_csrf", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
dual!(second_factor, super::second_factor);

async fn admin_without_factor_must_enrol(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let uid = app.fixture.user("auditor");
    app.store.set_totp(&dianxiaoer_store::Actor::cli(), uid, None, None, 0).await.unwrap();
    let c = client();
    let r = login_form(&app, &c, "auditor", PASSWORD).await;
    assert_eq!(loc(&r), "/account/totp");
    assert_eq!(loc(&c.get(app.url("/audit/logs")).send().await.unwrap()), "/account/totp");
    let page = c.get(app.url("/account/totp")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("otpauth://totp/"));
    let k = "name=\"secret\" value=\"";
    let i = page.find(k).unwrap() + k.len();
    let secret = page[i..i + page[i..].find('"').unwrap()].to_string();
    let csrf = dianxiaoer_testkit_csrf(&page);
    let code =
        totp::code_at(&totp::base32_decode(&secret).unwrap(), dianxiaoer_web::Clock::now_ms(app.clock.as_ref()) / 1000);
    let r = c
        .post(app.url("/account/totp"))
        .form(&[("secret", secret.as_str()), ("code", code.as_str()), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.get(app.url("/audit/logs")).send().await.unwrap().status(), StatusCode::OK);
    app.cleanup().await;
}
dual!(admin_without_factor_must_enrol, super::admin_without_factor_must_enrol);

async fn first_login_and_password_change(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // The system admin creates an account; its temporary password must be changed at first login.
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/admin/users",
            &[("username", "newbie"), ("display_name", "新人"), ("role", "leader"), ("phone", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let k = "首次登录须修改）：<code>";
    let i = html.find(k).expect("temporary password shown once") + k.len();
    let temp = html[i..i + html[i..].find('<').unwrap()].to_string();
    let s = Session::login_to(&app, "newbie", &temp).await;
    let r = s.get("/").await;
    assert_eq!(loc(&r), "/account/password");
    let r = s.get("/api/v1/me").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = s.get("/account/password").await.text().await.unwrap();
    let csrf = dianxiaoer_testkit_csrf(&page);
    let post = |fields: Vec<(&'static str, String)>| {
        let mut f = fields;
        f.push(("_csrf", csrf.clone()));
        s.client.post(s.url("/account/password")).form(&f).send()
    };
    // Too weak, reused, mismatched: errors next to the field, typed values not lost.
    let r =
        post(vec![("current", temp.clone()), ("new_password", "abc".into()), ("confirm", "abc".into())]).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("密码至少"));
    let r =
        post(vec![("current", temp.clone()), ("new_password", temp.clone()), ("confirm", temp.clone())]).await.unwrap();
    assert!(r.text().await.unwrap().contains("不能与最近"));
    let r = post(vec![
        ("current", temp.clone()),
        ("new_password", "Fresh#Pass2026".into()),
        ("confirm", "Other#Pass2026".into()),
    ])
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("两次输入"));
    let r = post(vec![
        ("current", temp.clone()),
        ("new_password", "Fresh#Pass2026".into()),
        ("confirm", "Fresh#Pass2026".into()),
    ])
    .await
    .unwrap();
    assert_eq!(loc(&r), "/account?ok=password");
    assert_eq!(s.get("/").await.status(), StatusCode::OK, "this browser keeps a fresh session");
    app.cleanup().await;
}
dual!(first_login_and_password_change, super::first_login_and_password_change);

async fn revocation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let victim = app.login("victim").await;
    let sec = app.login("secadmin").await;
    let id = app.fixture.user("victim");
    let r = sec.post_form(&format!("/security/accounts/{id}/end-sessions"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(loc(&victim.get("/").await), "/login?expired=1");
    // Disabling ends sessions too and refuses new logins.
    let victim = app.login("victim").await;
    let admin = app.login("admin").await;
    admin.post_form(&format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(loc(&victim.get("/").await), "/login?expired=1");
    let c = client();
    let r = login_form(&app, &c, "victim", PASSWORD).await;
    assert!(r.text().await.unwrap().contains("已停用"));
    app.cleanup().await;
}
dual!(revocation, super::revocation);

async fn api_keys(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let s = app.login("xujiahu").await;
    let r = s.post_json("/api/v1/api-keys", &serde_json::json!({"name": "对接"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let key = r.json::<serde_json::Value>().await.unwrap()["key"].as_str().unwrap().to_string();
    let c = reqwest::Client::new();
    let r = c.get(app.url("/api/v1/enterprises")).bearer_auth(&key).send().await.unwrap();
    let page: serde_json::Value = r.json().await.unwrap();
    assert_eq!(page["total"], 2, "the key has its creator's scope");
    let r = c.get(app.url("/api/v1/audit/logs")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.get(app.url("/api/v1/me")).bearer_auth("dxe_not_a_key").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Revoked keys stop working.
    let keys: serde_json::Value = s.get("/api/v1/api-keys").await.json().await.unwrap();
    let kid = keys[0]["id"].as_i64().unwrap();
    let r = s.post_json(&format!("/api/v1/api-keys/{kid}/revoke"), &serde_json::json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c.get(app.url("/api/v1/me")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Admins cannot create keys.
    let a = app.login("admin").await;
    let r = a.post_json("/api/v1/api-keys", &serde_json::json!({"name": "x"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    app.cleanup().await;
}
dual!(api_keys, super::api_keys);

/// Behind a writer holding SQLite's lock longer than the busy timeout (a large import, a year's
/// settlement), a request whose session is due its activity mark still succeeds: the mark is best
/// effort. SQLite only: PostgreSQL has no database-wide write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_mark_behind_a_held_write_lock() {
    use sqlx::Connection;
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let s = app.login("leader").await;
    app.clock.advance_ms(2 * 60_000);
    let dianxiaoer_store::DatabaseUrl::Sqlite(path) = &app.db_url else { panic!("SQLite") };
    let mut writer = sqlx::AnyConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut writer).await.unwrap();
    let r = s.get("/").await;
    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.cleanup().await;
}
