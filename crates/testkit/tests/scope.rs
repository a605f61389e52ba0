//! Object-level scope through the pages and the API: another enterprise's or another town's record by
//! id is 404, lists hold only what the scope allows, and writes outside scope change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, TestApp, dual};
use reqwest::StatusCode;
use std::collections::BTreeSet;

async fn listed(s: &dianxiaoer_testkit::Session) -> BTreeSet<i64> {
    let v: serde_json::Value = s.get("/api/v1/enterprises?per_page=100").await.json().await.unwrap();
    v["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn ids_in_page(html: &str) -> BTreeSet<i64> {
    html.match_indices("data-enterprise-id=\"")
        .map(|(i, k)| {
            let rest = &html[i + k.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

async fn scopes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let f = &app.fixture;
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|k| f.enterprise(k));
    let cases: [(&str, &[i64]); 8] = [
        ("leader", &[a, b, c, d]),
        ("staff", &[a, b, c, d]),
        ("grid1", &[a, c]),
        ("grid2", &[b, d]),
        ("xujiahu", &[a, c]),
        ("mazhan", &[c]),
        ("fagai", &[d]),
        ("ent_a", &[a]),
    ];
    for (user, expect) in cases {
        let s = app.login(user).await;
        let expect: BTreeSet<i64> = expect.iter().copied().collect();
        assert_eq!(listed(&s).await, expect, "{user} via the API");
        let html = s.get("/enterprises").await.text().await.unwrap();
        assert_eq!(ids_in_page(&html), expect, "{user} via the page");
        for id in [a, b, c, d] {
            let page = s.get(&format!("/enterprises/{id}")).await.status();
            let api = s.get(&format!("/api/v1/enterprises/{id}")).await.status();
            let want = if expect.contains(&id) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!((page, api), (want, want), "{user} reading enterprise {id}");
        }
        // The export holds exactly the scope too.
        let r = s.get("/enterprises/export.xlsx").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
    let s = app.login("supervisor").await;
    assert_eq!(listed(&s).await, BTreeSet::from([b]));
    for admin in ["admin", "secadmin", "auditor"] {
        let s = app.login(admin).await;
        assert_eq!(s.get("/enterprises").await.status(), StatusCode::FORBIDDEN, "{admin} sees no business data");
        assert_eq!(s.get(&format!("/api/v1/enterprises/{a}")).await.status(), StatusCode::FORBIDDEN);
    }

    // Enterprise A cannot write B's file by id, through the page or the API; nothing changes.
    let s = app.login("ent_a").await;
    let form = [("address", "篡改路1号"), ("contact_name", "某"), ("contact_phone", "13800000000")];
    assert_eq!(s.post_form(&format!("/enterprises/{b}/contact"), &form).await.status(), StatusCode::NOT_FOUND);
    let body = serde_json::json!({"address": "篡改路1号", "contact_name": "某", "contact_phone": "13800000000"});
    assert_eq!(s.post_json(&format!("/api/v1/enterprises/{b}/contact"), &body).await.status(), StatusCode::NOT_FOUND);
    let eb = app.store.enterprise(&dianxiaoer_core::access::Scope::Zone, b).await.unwrap();
    assert_eq!(eb.address, "沂水经济开发区");
    // Its own file it may edit, and the edit is audited with before and after.
    let r = s.post_json(&format!("/api/v1/enterprises/{a}/contact"), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let audit = app
        .store
        .list_audit(
            &dianxiaoer_store::AuditFilter {
                object_id: Some(a.to_string()),
                action: Some("update_enterprise".into()),
                ..Default::default()
            },
            1,
            5,
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    assert!(audit.items[0].detail.contains("篡改路1号") && audit.items[0].username == "ent_a");

    // Phone numbers are masked for roles that do not serve the enterprise directly.
    let s = app.login("leader").await;
    let e: serde_json::Value = s.get(&format!("/api/v1/enterprises/{a}")).await.json().await.unwrap();
    assert_eq!(e["contact_phone"], "138****0000");
    let s = app.login("staff").await;
    let e: serde_json::Value = s.get(&format!("/api/v1/enterprises/{a}")).await.json().await.unwrap();
    assert_eq!(e["contact_phone"], "13800000000");
    app.cleanup().await;
}
dual!(object_level_scope, super::scopes);
