//! Approval plans of investment projects (压茬审批) on both backends: plan edits checked by the core's
//! rules with nothing written on a refusal; the gate in the decision's transaction (a stage-2 item is
//! pre-reviewed, accepted and reviewed while its stage-1 prerequisite is open, but 准予 and 不予 wait,
//! with nothing written); a refused prerequisite blocking its dependant; the page, the API, the export,
//! and the scope of the project's enterprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::approval::project_plan::Edge;
use dianxiaoer_core::area::Area;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::party::{TownCode, Unit};
use dianxiaoer_core::revenue::stage::Stage;
use dianxiaoer_store::{Actor, AuditFilter, Error, PlanChange, PlanFilter, ProjectInput};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 建设项目用地预审与选址意见书核发 (stage 1, promised 5 days).
const SITE: &str = "371323-GH-001";
/// 建设用地规划许可证核发 (stage 1).
const LAND: &str = "371323-GH-002";
/// 建设工程设计方案审查 (stage 2).
const DESIGN: &str = "371323-GH-005";
/// 建筑工程施工许可证核发 (stage 3).
const PERMIT: &str = "371323-GC-001";

/// The critical path of the typical plan on statutory limits: 选址 20, 用地规划许可 20, 设计方案审查 20,
/// 工程规划许可 20, 消防设计审查 15, 施工许可 7, 规划条件核实 20, 竣工验收备案 5 (the sequential sum is
/// 212, the target 120).
const TYPICAL_PATH: u32 = 127;

fn now(app: &TestApp) -> i64 {
    use dianxiaoer_web::Clock;
    app.clock.now_ms()
}

async fn project(app: &TestApp, enterprise: &str, name: &str) -> i64 {
    let input = ProjectInput {
        name: name.into(),
        enterprise_id: app.fixture.enterprise(enterprise),
        introducer: Unit::Zone,
        host_town: TownCode::parse("371323103").unwrap(),
        planned_investment: Fen::from_fen(0),
        planned_fixed_assets: Fen::from_fen(0),
        actual_investment: Fen::from_fen(0),
        actual_fixed_assets: Fen::from_fen(0),
        cleared_area: Area::from_m2_centi(0),
        signed_on: "2025-06-01".into(),
        landed_on: None,
        stage: Stage::parse("signed").unwrap(),
    };
    app.store.create_project(&Actor::cli(), &Scope::Zone, &input, now(app)).await.unwrap()
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    app.store.list_audit(&f, 1, 1).await.unwrap().total
}

fn invalid(r: Result<(), Error>) -> String {
    match r {
        Err(Error::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The store's plan edits on the zone's scope: the rules, nothing written when refused, scope.
async fn plan_edits(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (store, actor, t) = (&app.store, Actor::cli(), now(&app));
    let zone = Scope::Zone;
    let p = project(&app, "a", "甲化工新材料项目").await;
    let add = |codes: &[&str]| PlanChange::AddItems(codes.iter().map(|c| (*c).to_owned()).collect());

    store.change_plan(&actor, &zone, p, &add(&[SITE, DESIGN]), t).await.unwrap();
    let plan = store.approval_plan(&zone, p, &store.calendar().await.unwrap(), t).await.unwrap();
    assert_eq!(plan.edges, vec![Edge::new(DESIGN, SITE)], "the default edge comes with the items");
    assert_eq!(plan.sequential_days, 40);
    assert_eq!((plan.projected_days, plan.meets_target, plan.elapsed_days), (40, true, None));
    assert_eq!(plan.critical, vec![SITE.to_owned(), DESIGN.to_owned()]);

    // Refusals name the items; nothing is written.
    let audits_before = audits(&app, "change_approval_plan").await;
    let m = invalid(store.change_plan(&actor, &zone, p, &PlanChange::AddEdge(Edge::new(SITE, DESIGN)), t).await);
    assert!(m.contains("不能以后一阶段的") && m.contains(DESIGN), "{m}");
    let m = invalid(store.change_plan(&actor, &zone, p, &PlanChange::AddEdge(Edge::new(SITE, SITE)), t).await);
    assert!(m.contains("不能以自身为前置事项"), "{m}");
    let m = invalid(store.change_plan(&actor, &zone, p, &add(&["371323-GS-001"]), t).await);
    assert!(m.contains("不属于工程建设项目审批阶段"), "{m}");
    let m = invalid(store.change_plan(&actor, &zone, p, &add(&["371323-GH-999"]), t).await);
    assert!(m.contains("不在审批事项目录中"), "{m}");
    let m = invalid(store.change_plan(&actor, &zone, p, &add(&[SITE]), t).await);
    assert!(m.contains("已在计划中"), "{m}");
    // A cycle within a stage: 用地规划许可 after 选址 (default), then 选址 after 用地规划许可.
    store.change_plan(&actor, &zone, p, &add(&[LAND]), t).await.unwrap();
    let m = invalid(store.change_plan(&actor, &zone, p, &PlanChange::AddEdge(Edge::new(SITE, LAND)), t).await);
    assert!(m.starts_with("前置关系形成循环：") && m.contains(SITE) && m.contains(LAND), "{m}");
    let plan = store.approval_plan(&zone, p, &store.calendar().await.unwrap(), t).await.unwrap();
    assert_eq!(plan.items.len(), 3);
    assert_eq!(
        plan.edges,
        vec![Edge::new(LAND, SITE), Edge::new(DESIGN, SITE), Edge::new(DESIGN, LAND)],
        "the added item brings its default edges; the edges there before stay"
    );
    assert_eq!(audits(&app, "change_approval_plan").await, audits_before + 1, "only the accepted change is audited");

    // Removing an item takes its edges; the default plan only into an empty plan.
    store.change_plan(&actor, &zone, p, &PlanChange::RemoveItem(LAND.into()), t).await.unwrap();
    let plan = store.approval_plan(&zone, p, &store.calendar().await.unwrap(), t).await.unwrap();
    assert_eq!(plan.edges, vec![Edge::new(DESIGN, SITE)]);
    let r = store.change_plan(&actor, &zone, p, &PlanChange::AddItems(Vec::new()), t).await;
    assert!(matches!(r, Err(Error::Refused(_))), "{r:?}");
    let q = project(&app, "b", "乙电子厂房项目").await;
    store.change_plan(&actor, &zone, q, &PlanChange::AddItems(Vec::new()), t).await.unwrap();
    let typical = store.approval_plan(&zone, q, &store.calendar().await.unwrap(), t).await.unwrap();
    assert_eq!((typical.items.len(), typical.sequential_days), (15, 212));
    // Nothing accepted yet: every item counts its statutory limit along the critical path.
    assert_eq!((typical.projected_days, typical.meets_target), (TYPICAL_PATH, false));

    // Two edits at once that together would close a cycle: the project row orders them, one is refused.
    let r = project(&app, "c", "丙食品冷链项目").await;
    store.change_plan(&actor, &zone, r, &add(&[SITE, "371323-LX-001"]), t).await.unwrap();
    let (forth, back) =
        (PlanChange::AddEdge(Edge::new(SITE, "371323-LX-001")), PlanChange::AddEdge(Edge::new("371323-LX-001", SITE)));
    let (one, two) =
        tokio::join!(store.change_plan(&actor, &zone, r, &forth, t), store.change_plan(&actor, &zone, r, &back, t));
    assert!(one.is_ok() != two.is_ok(), "{one:?} {two:?}");
    let cal = store.calendar().await.unwrap();
    assert_eq!(store.approval_plan(&zone, r, &cal, t).await.unwrap().edges.len(), 1);

    // Scope: the project's enterprise decides; another enterprise's account sees nothing.
    let ent_b = Scope::Enterprise(app.fixture.enterprise("b"));
    let cal = store.calendar().await.unwrap();
    assert!(matches!(store.approval_plan(&ent_b, p, &cal, t).await, Err(Error::NotFound)));
    assert!(matches!(store.change_plan(&actor, &ent_b, p, &add(&[PERMIT]), t).await, Err(Error::NotFound)));
    let list = store.approval_projects(&ent_b, &PlanFilter::default(), 1, 20).await.unwrap();
    assert_eq!(list.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![q]);
    let all = store.approval_projects(&zone, &PlanFilter { all: true, ..Default::default() }, 1, 20).await.unwrap();
    assert_eq!(all.total, 3);
    app.cleanup().await;
}
dual!(plan_edits_follow_the_rules, super::plan_edits);

async fn item_materials(s: &Session, code: &str) -> Vec<String> {
    let v: Value = s.get(&format!("/api/v1/approval/items/{code}")).await.json().await.unwrap();
    v["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect()
}

async fn file(s: &Session, code: &str, enterprise: i64, project: i64) -> i64 {
    let materials = item_materials(s, code).await;
    let r = s
        .post_json(
            "/api/v1/approval/cases",
            &json!({"item_code": code, "enterprise_id": enterprise, "materials": materials, "project_id": project}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["case"]["id"].as_i64().unwrap()
}

async fn act(s: &Session, id: i64, action: &str, comment: &str) -> (StatusCode, Value) {
    let r = s
        .post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": action, "comment": comment}))
        .await;
    (r.status(), r.json().await.unwrap())
}

async fn run(s: &Session, id: i64, actions: &[&str]) {
    for a in actions {
        let (st, v) = act(s, id, a, "").await;
        assert_eq!(st, StatusCode::OK, "{a}: {v}");
    }
}

async fn events(s: &Session, id: i64) -> (String, usize) {
    let v: Value = s.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap();
    (v["case"]["state"].as_str().unwrap().to_owned(), v["events"].as_array().unwrap().len())
}

/// The gate over HTTP, the page, the API and the export.
async fn gate(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, ent) = (app.login("staff").await, app.login("ent_a").await);
    let a = app.fixture.enterprise("a");
    let p = project(&app, "a", "甲化工新材料项目").await;
    let r = ent.post_json(&format!("/api/v1/approval/projects/{p}/items"), &json!({"items": [SITE, DESIGN]})).await;
    assert_eq!(r.status(), StatusCode::OK, "the enterprise plans its own project");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["edges"], json!([{"item": DESIGN, "requires": SITE}]));

    // The stage-2 item is filed (with the project selected) and runs to the decision while the
    // stage-1 item is still in review: overlapped, not decided.
    let site = file(&ent, SITE, a, p).await;
    let design = file(&ent, DESIGN, a, p).await;
    run(&ent, site, &["submit"]).await;
    run(&staff, site, &["accept"]).await;
    run(&ent, design, &["submit"]).await;
    run(&staff, design, &["accept", "submit_for_decision"]).await;
    let before = events(&staff, design).await;
    let certs_before = audits(&app, "approval_action").await;
    let (st, v) = act(&staff, design, "approve", "").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.contains("前置事项尚未准予") && detail.contains(SITE) && detail.contains("审查"), "{detail}");
    let (st, _) = act(&staff, design, "refuse", "不符合规划条件").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "不予 is a decision too");
    assert_eq!(events(&staff, design).await, before, "nothing written");
    assert_eq!(audits(&app, "approval_action").await, certs_before);

    // The page shows the overlap.
    let html = staff.get(&format!("/approval/projects/{p}")).await.text().await.unwrap();
    assert!(html.contains("待前置准予") && html.contains("关键路径") && html.contains("法定时限顺序累加"), "{html}");
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    let item = |code: &str| plan["items"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
    assert_eq!(item(DESIGN)["waiting_for"], json!([SITE]));
    assert_eq!(item(DESIGN)["progress"]["status"], "open");
    assert_eq!(item(SITE)["may_decide"], true);
    let case: Value = staff.get(&format!("/api/v1/approval/cases/{design}")).await.json().await.unwrap();
    assert_eq!(case["plan"]["project_id"], p);
    assert!(case["plan"]["waiting_for"][0].as_str().unwrap().contains(SITE), "{case}");
    let html = ent.get(&format!("/approval/cases/{design}")).await.text().await.unwrap();
    assert!(html.contains("待前置准予后方可决定"), "the case page names the wait");
    assert_eq!(plan["elapsed_days"], 0);

    // The prerequisite granted, the decision goes through.
    run(&staff, site, &["submit_for_decision", "approve"]).await;
    run(&staff, design, &["approve", "complete"]).await;
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    assert_eq!(item_of(&plan, DESIGN)["progress"]["status"], "granted");
    assert_eq!(item_of(&plan, SITE)["progress"]["status"], "granted");
    assert_eq!((plan["complete"].as_bool(), plan["elapsed_days"].as_i64()), (Some(true), Some(0)));
    app.cleanup().await;
}
dual!(decisions_wait_for_prerequisites, super::gate);

/// A refused prerequisite blocks its dependant; a new case may then take the plan item.
async fn refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, ent) = (app.login("staff").await, app.login("ent_a").await);
    let a = app.fixture.enterprise("a");
    let p = project(&app, "a", "甲化工仓储项目").await;
    let r = staff.post_json(&format!("/api/v1/approval/projects/{p}/items"), &json!({"items": [SITE, DESIGN]})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let site = file(&ent, SITE, a, p).await;
    let design = file(&ent, DESIGN, a, p).await;
    run(&ent, site, &["submit"]).await;
    run(&staff, site, &["accept", "submit_for_decision"]).await;
    let (st, _) = act(&staff, site, "refuse", "选址不符合国土空间规划").await;
    assert_eq!(st, StatusCode::OK);
    run(&ent, design, &["submit"]).await;
    run(&staff, design, &["accept", "submit_for_decision"]).await;
    let (st, v) = act(&staff, design, "approve", "").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("不予"), "{v}");
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    let item = |code: &str| plan["items"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
    assert_eq!(item(SITE)["progress"]["status"], "closed");
    assert_eq!(item(DESIGN)["blocked"], true);

    // A second case of the refused item may not take a plan item still held by an open case, but
    // may take the refused one's place.
    let r = ent
        .post_json(
            "/api/v1/approval/cases",
            &json!({"item_code": DESIGN, "enterprise_id": a, "materials": item_materials(&ent, DESIGN).await, "project_id": p}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "the design item still has its open case");
    let again = file(&ent, SITE, a, p).await;
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    assert_eq!(item_of(&plan, SITE)["case_id"], again);
    assert_eq!(item_of(&plan, SITE)["progress"]["status"], "not_started");
    app.cleanup().await;
}
dual!(a_refused_prerequisite_blocks_its_dependants, super::refused);

fn item_of(plan: &Value, code: &str) -> Value {
    plan["items"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone()
}

/// Pages, forms, the export, attaching a case filed before the plan, and scope over HTTP.
async fn pages(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, ent_b, grid2) = (app.login("staff").await, app.login("ent_b").await, app.login("grid2").await);
    let a = app.fixture.enterprise("a");
    let p = project(&app, "a", "甲化工新材料项目").await;
    let r = staff.post_form(&format!("/approval/projects/{p}/default"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = staff.get(&format!("/approval/projects/{p}")).await.text().await.unwrap();
    for label in ["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收", "建筑工程施工许可证核发"]
    {
        assert!(html.contains(label), "{label}");
    }
    // A refused edit shows the page again with the reason.
    let r = staff.post_form(&format!("/approval/projects/{p}/edges"), &[("item", SITE), ("requires", PERMIT)]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("不能以后一阶段的"));
    let r =
        staff.post_form(&format!("/approval/projects/{p}/edges/delete"), &[("item", LAND), ("requires", SITE)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = staff.post_form(&format!("/approval/projects/{p}/items/{PERMIT}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    assert_eq!(plan["items"].as_array().unwrap().len(), 14);
    let r = staff.post_form(&format!("/approval/projects/{p}/items"), &[("item", PERMIT)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "put back through the page");
    let r = staff.post_form(&format!("/approval/projects/{p}/items/{PERMIT}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!plan["edges"].as_array().unwrap().iter().any(|e| e["item"] == LAND && e["requires"] == SITE));

    // A case filed before (without the project) is attached afterwards.
    let materials = item_materials(&staff, SITE).await;
    let r = staff
        .post_json("/api/v1/approval/cases", &json!({"item_code": SITE, "enterprise_id": a, "materials": &materials}))
        .await;
    let case: Value = r.json().await.unwrap();
    let case_id = case["case"]["id"].as_i64().unwrap();
    // Another enterprise's case cannot serve this project's plan.
    let b = app.fixture.enterprise("b");
    let r = staff
        .post_json(
            "/api/v1/approval/cases",
            &json!({"item_code": SITE, "enterprise_id": b, "materials": materials, "project_id": p}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("不是项目"), "{v}");
    let r = staff.post_form(&format!("/approval/projects/{p}/cases"), &[("case_id", &case_id.to_string())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    assert_eq!(item_of(&plan, SITE)["case_id"], case_id);

    // The filing page offers the enterprise's planned projects and links the case it files.
    let html =
        staff.get(&format!("/approval/cases/new?item={DESIGN}&enterprise={a}&project={p}")).await.text().await.unwrap();
    assert!(html.contains("data-testid=\"filing-project\"") && html.contains("甲化工新材料项目"), "{html}");
    let mut form: Vec<(&str, &str)> = vec![("item", DESIGN), ("enterprise_id", ""), ("project_id", "")];
    let (a_text, p_text) = (a.to_string(), p.to_string());
    form[1].1 = &a_text;
    form[2].1 = &p_text;
    let design_materials = item_materials(&staff, DESIGN).await;
    form.extend(design_materials.iter().map(|m| ("materials", m.as_str())));
    let r = staff.post_form("/approval/cases", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan: Value = staff.get(&format!("/api/v1/approval/projects/{p}")).await.json().await.unwrap();
    assert!(item_of(&plan, DESIGN)["case_id"].is_i64());

    // List, export, and scope: another enterprise and another grid see nothing of it.
    let list: Value = staff.get("/api/v1/approval/projects").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let html = staff.get("/approval/projects").await.text().await.unwrap();
    assert!(html.contains("甲化工新材料项目"));
    let r = staff.get("/approval/projects/export.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    for s in [&ent_b, &grid2] {
        assert_eq!(s.get(&format!("/approval/projects/{p}")).await.status(), StatusCode::NOT_FOUND);
        let list: Value = s.get("/api/v1/approval/projects").await.json().await.unwrap();
        assert_eq!(list["total"], 0);
        let r = s.post_json(&format!("/api/v1/approval/projects/{p}/items"), &json!({"items": [PERMIT]})).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // The town official reads projects, not approvals.
    let town = app.login("xujiahu").await;
    assert_eq!(town.get(&format!("/approval/projects/{p}")).await.status(), StatusCode::FORBIDDEN);
    app.cleanup().await;
}
dual!(plan_pages_api_and_scope, super::pages);
