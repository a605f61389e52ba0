//! Assessment points over HTTP on both backends: the dated rule table and quotas kept by staff, the
//! year's board with explanations within scope, the top-500 flag, Excel export, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_testkit::{Backend, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    let county = app.fixture.county_department;
    let mut codes = std::collections::HashMap::new();
    for k in ["a", "b", "d"] {
        codes.insert(k, app.store.credit_code_of(app.fixture.enterprise(k)).await.unwrap().unwrap());
    }
    let code = |k: &str| codes[k].clone();
    let project = |name: &str, credit: String, introducer: String, host: &str, wan: &str, mu: &str, landed: &str| {
        json!({"name": name, "credit_code": credit, "introducer": introducer, "host_town": host,
               "planned_investment_wan": wan, "actual_investment_wan": wan, "cleared_area_mu": mu,
               "signed_on": "2024-03-01", "landed_on": landed, "stage": "landed"})
    };
    // 许家湖镇 attracts a 12亿元 project hosted by 沂城街道 on 120 mu; the county department a 1.5亿元
    // project; a project landed in 2024 does not count for 2025.
    let mut ids = Vec::new();
    for body in [
        project("甲化工扩建项目", code("a"), "371323103".into(), "371323001", "120000", "120", "2025-05-01"),
        project("丁包装新厂项目", code("d"), format!("dept:{county}"), "371323001", "15000", "10", "2025-08-01"),
        project("乙电子旧项目", code("b"), "371323103".into(), "371323001", "900000", "300", "2024-06-01"),
    ] {
        let r = staff.post_json("/api/v1/revenue/projects", &body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let r = staff.post_form(&format!("/revenue/projects/{}/top500", ids[0]), &[("top500", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A quota of 2 for 马站镇 (371323101), which landed nothing.
    let r = staff
        .post_form("/revenue/assessment/quotas", &[("unit", "town:371323101"), ("year", "2025"), ("projects", "2")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let board: Value = staff.get("/api/v1/revenue/assessment?year=2025").await.json().await.unwrap();
    let rows = board.as_array().unwrap();
    let find = |kind: &str, id: &str| {
        let code = |r: &Value| {
            r["unit"]["code"].as_str().map(str::to_string).or(r["unit"]["code"].as_i64().map(|v| v.to_string()))
        };
        rows.iter()
            .find(|r| r["unit"]["kind"] == kind && code(r).as_deref() == Some(id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let xujiahu = find("town", "371323103");
    assert_eq!(xujiahu["total"], 140, "≥10亿 tier (4) + top-500 (10), in tenths: {board}");
    assert_eq!(xujiahu["rank"], 1);
    assert_eq!(xujiahu["landed"], 1);
    let yicheng = find("town", "371323001");
    assert_eq!(yicheng["total"], 20, "≥100 mu cleared, to the host");
    let dept = find("department", &county.to_string());
    assert_eq!(dept["total"], 10, "≥1亿 tier");
    let mazhan = find("town", "371323101");
    assert_eq!(mazhan["total"], -40, "two missing quota projects");

    // A town official sees the whole board but only its own explanation.
    let town = app.login("xujiahu").await;
    let board: Value = town.get("/api/v1/revenue/assessment?year=2025").await.json().await.unwrap();
    for r in board.as_array().unwrap() {
        let own = r["unit"]["code"] == "371323103";
        assert_eq!(r["lines"].is_array(), own, "{r}");
    }
    let page = town.get("/revenue/assessment?year=2025").await.text().await.unwrap();
    assert!(page.contains("甲化工扩建项目") && page.contains("仅本单位可见"));
    assert_eq!(town.get("/revenue/assessment/rules").await.status(), StatusCode::FORBIDDEN);
    let r = town.get("/revenue/assessment.xlsx?year=2025").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    for user in ["ent_a", "grid1"] {
        assert_eq!(app.login(user).await.get("/revenue/assessment").await.status(), StatusCode::FORBIDDEN);
    }

    // Excel import of projects: names for towns and departments, all rows or none.
    let dept_name = app.store.departments().await.unwrap().into_iter().find(|d| d.id == county).unwrap().name;
    let sheet = |rows: &[Vec<String>]| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let headers =
            ["项目名称", "企业统一社会信用代码", "引资单位", "落地乡镇", "计划总投资（万元）", "签约日期", "阶段"];
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    };
    let upload = |bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("项目.xlsx");
        staff
            .client
            .post(staff.url("/api/v1/revenue/projects/import"))
            .header("x-csrf-token", &staff.csrf)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let row = |name: &str, code: String, intro: &str, stage: &str| {
        vec![
            name.to_string(),
            code,
            intro.to_string(),
            "沂城街道".into(),
            "8000".into(),
            "2026/2/1".into(),
            stage.to_string(),
        ]
    };
    let before =
        app.store.list_projects(&dianxiaoer_core::access::Scope::Zone, &Default::default(), 1, 1).await.unwrap().total;
    let bad = sheet(&[row("甲二期", code("a"), "许家湖镇", "已签约"), row("丁二期", code("d"), &dept_name, "在建")]);
    let r = upload(bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"]["cells"][0]["row"], 3, "{p}");
    assert_eq!(p["errors"]["cells"][0]["column"], "阶段");
    let good = sheet(&[row("甲二期", code("a"), "许家湖镇", "已签约"), row("丁二期", code("d"), &dept_name, "已签约")]);
    let r = upload(good.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = upload(good).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the same projects are not registered twice");
    let after =
        app.store.list_projects(&dianxiaoer_core::access::Scope::Zone, &Default::default(), 1, 1).await.unwrap().total;
    assert_eq!(after, before + 2);
    let t = staff.get("/revenue/projects/import/template.xlsx").await;
    assert!(t.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(town.get("/revenue/projects/import").await.status(), StatusCode::FORBIDDEN);

    // Coverage: all 18 towns and streets, each with its enterprises and projects; shares only within scope.
    let towns: Value = staff.get("/api/v1/revenue/coverage?year=2025").await.json().await.unwrap();
    let towns = towns.as_array().unwrap();
    assert_eq!(towns.len(), 18);
    let row = |code: &str| towns.iter().find(|t| t["code"] == code).unwrap().clone();
    assert_eq!(row("371323103")["projects_introduced"], 3);
    assert_eq!(row("371323001")["projects_hosted"], 5);
    assert!(towns.iter().all(|t| t["share_fen"].is_i64()), "staff see every share");
    let theirs: Value = town.get("/api/v1/revenue/coverage?year=2025").await.json().await.unwrap();
    for t in theirs.as_array().unwrap() {
        assert_eq!(t["share_fen"].is_i64(), t["code"] == "371323103", "{t}");
    }
    let page = town.get("/revenue/coverage?year=2025").await.text().await.unwrap();
    assert!(page.contains("18 个乡镇（街道）中"), "summary line");

    // Ending the 1亿 tier after 2024 drops it from 2025 but keeps 2024 as it was.
    let rules: Value = staff.get("/api/v1/revenue/assessment/rules").await.json().await.unwrap();
    let one_yi = rules.as_array().unwrap().iter().find(|r| r["kind"]["min"] == 10_000_000_000i64).unwrap()["id"]
        .as_i64()
        .unwrap();
    let before_2024: Value = staff.get("/api/v1/revenue/assessment?year=2024").await.json().await.unwrap();
    let r =
        staff.post_form("/revenue/assessment/rules/end", &[("id", &one_yi.to_string()), ("last_year", "2024")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let board: Value = staff.get("/api/v1/revenue/assessment?year=2025").await.json().await.unwrap();
    assert!(
        !board
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["unit"]["kind"] == "department" && r["unit"]["code"] == county && r["total"] == 10)
    );
    let after_2024: Value = staff.get("/api/v1/revenue/assessment?year=2024").await.json().await.unwrap();
    assert_eq!(before_2024, after_2024, "a past year keeps its score");

    // Bad input: each refused with a message, nothing written.
    let n = app.store.assessment_rules().await.unwrap().len();
    for (form, message) in [
        (vec![("kind", "investment_tier"), ("threshold", "十亿"), ("points", "4"), ("from_year", "2025")], "投资门槛"),
        (vec![("kind", "top500"), ("points", "0"), ("from_year", "2025")], "大于 0"),
        (vec![("kind", "quota_shortfall"), ("points", "3"), ("from_year", "2025")], "负数"),
        (vec![("kind", "top500"), ("points", "2.25"), ("from_year", "2025")], "一位小数"),
        (vec![("kind", "top500"), ("points", "2"), ("from_year", "2026"), ("to_year", "2025")], "止年"),
    ] {
        let r = staff.post_form("/revenue/assessment/rules", &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains(message), "{message}");
    }
    let r = staff
        .post_json("/api/v1/revenue/assessment/quotas", &json!({"unit": "zone", "year": "2025", "projects": "1"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.assessment_rules().await.unwrap().len(), n);
    let r = staff
        .post_json(
            "/api/v1/revenue/assessment/rules",
            &json!({"kind": "cleared_area", "threshold": "200", "points": "3", "from_year": "2025"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let audit = app
        .store
        .list_audit(
            &dianxiaoer_store::AuditFilter { object_type: Some("assessment_rule".into()), ..Default::default() },
            1,
            10,
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 2, "the end and the addition are audited");
    app.cleanup().await;
}
dual!(assessment_points, super::story);
