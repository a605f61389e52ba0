//! Every route of the table × every role (and anonymous): the permission table decides, nothing else;
//! no combination answers 5xx. Runs on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::{Role, permits};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use dianxiaoer_web::routes::specs;
use reqwest::StatusCode;

const ROLES: [(&str, Role); 9] = [
    ("admin", Role::SystemAdmin),
    ("secadmin", Role::SecurityAdmin),
    ("auditor", Role::AuditAdmin),
    ("leader", Role::Leader),
    ("staff", Role::DepartmentStaff),
    ("grid1", Role::GridOfficer),
    ("xujiahu", Role::TownOfficial),
    ("ent_a", Role::EnterpriseUser),
    ("supervisor", Role::SafetySupervisor),
];

fn concrete(app: &TestApp, path: &str) -> String {
    let id = if path.contains("/users/") || path.contains("/accounts/") {
        app.fixture.user("victim")
    } else if path.contains("/enterprises/") {
        app.fixture.enterprise("a")
    } else {
        999_999
    };
    // A date the fixture never set, so the delete answers with its message rather than a redirect.
    path.replace("{id}", &id.to_string())
        .replace("{file}", "app.css")
        .replace("{date}", "2027-02-06")
        .replace("{contact}", "999999")
        .replace("{doc}", "999999")
        .replace("{code}", "371323-GS-001")
        .replace("{period}", "2099-01")
}

async fn call(app: &TestApp, s: Option<&Session>, method: &str, path: &str) -> reqwest::Response {
    let client = match s {
        Some(s) => s.client.clone(),
        None => reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
    };
    let csrf = s.map(|s| s.csrf.clone()).unwrap_or_default();
    let url = app.url(path);
    match (method, path.starts_with("/api/")) {
        ("GET", _) => client.get(url).send().await.unwrap(),
        ("POST", true) => {
            client.post(url).header("x-csrf-token", csrf).json(&serde_json::json!({})).send().await.unwrap()
        }
        ("POST", false) => client.post(url).form(&[("_csrf", csrf)]).send().await.unwrap(),
        ("PUT", true) => {
            client.put(url).header("x-csrf-token", csrf).json(&serde_json::json!({})).send().await.unwrap()
        }
        _ => panic!("method {method}"),
    }
}

async fn matrix(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let routes = specs();
    let mut checked = 0;
    let mut failures = Vec::new();
    // Anonymous.
    for r in &routes {
        let path = concrete(&app, r.path);
        let resp = call(&app, None, r.method, &path).await;
        let st = resp.status();
        let ok = match r.permission {
            None => !st.is_server_error() && st != StatusCode::FORBIDDEN,
            Some(_) if r.is_api() => st == StatusCode::UNAUTHORIZED,
            Some(_) => st == StatusCode::SEE_OTHER && resp.headers()["location"] == "/login",
        };
        checked += 1;
        if !ok {
            failures.push(format!("anonymous {} {} → {st}", r.method, r.path));
        }
    }
    for (user, role) in ROLES {
        let s = app.login(user).await;
        for r in routes.iter().filter(|r| r.path != "/logout") {
            let path = concrete(&app, r.path);
            let resp = call(&app, Some(&s), r.method, &path).await;
            let st = resp.status();
            let ok = match r.permission {
                None => !st.is_server_error(),
                Some(p) if permits(role, p) => {
                    !st.is_server_error() && st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED
                }
                Some(_) => st == StatusCode::FORBIDDEN,
            };
            checked += 1;
            if !ok {
                let body = resp.text().await.unwrap_or_default();
                failures.push(format!(
                    "{user} ({role:?}) {} {} → {st} {}",
                    r.method,
                    r.path,
                    body.chars().take(120).collect::<String>()
                ));
            }
        }
        let resp = s.post_form("/logout", &[]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{user} logs out");
    }
    assert!(failures.is_empty(), "{} of {checked} combinations wrong:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= routes.len() * 10 - ROLES.len());
    app.cleanup().await;
}
dual!(every_route_every_role, super::matrix);

/// The table itself: every non-public route names a permission, and only the expected ones are public.
#[test]
fn only_the_expected_routes_are_public() {
    let public: Vec<_> = specs().into_iter().filter(|r| r.permission.is_none()).map(|r| (r.method, r.path)).collect();
    assert_eq!(
        public,
        vec![
            ("GET", "/login"),
            ("POST", "/login"),
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/static/{file}"),
            ("GET", "/api/v1/openapi.json"),
            ("GET", "/guide"),
            ("GET", "/guide/{code}"),
            ("GET", "/verify"),
            ("GET", "/api/v1/verify/{code}"),
        ]
    );
}

/// The OpenAPI document lists exactly the API routes of the table.
async fn openapi(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let doc: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut n = 0;
    for r in specs().into_iter().filter(|r| r.is_api() && !r.path.ends_with("openapi.json")) {
        let p = r.path.trim_start_matches("/api/v1");
        assert!(paths[p][r.method.to_lowercase()].is_object(), "{} {}", r.method, r.path);
        n += 1;
    }
    let listed: usize = paths.values().map(|v| v.as_object().unwrap().len()).sum();
    assert_eq!(listed, n);
    app.cleanup().await;
}
dual!(openapi_document, super::openapi);
