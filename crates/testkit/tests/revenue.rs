//! The enclave economy's first slice over HTTP on both backends: investment projects and sharing
//! agreements (forms and API), the tax ledger import from the real sample export (GBK CSV) and from
//! .xlsx, all-or-nothing refusals with row and column, re-import of the same file, and scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::{EnterpriseInput, LedgerFilter, ProjectFilter};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const SAMPLE: &[u8] = include_bytes!("../../core/tests/data/tax-bureau-export-2022Q1.csv");

/// The taxpayers of the sample with the town each is registered in.
const TAXPAYERS: [(&str, &str, &str); 8] = [
    ("9137132352601815X3", "沂水县鑫源食品有限公司", "371323103"),
    ("913713239083016633", "山东沂蒙润达化工有限公司", "371323103"),
    ("91371323131860916C", "沂水华科电子科技有限公司", "371323001"),
    ("913713233909960334", "临沂市恒泰机械制造有限公司", "371323001"),
    ("91371323082462814R", "山东庐山新材料股份有限公司", "371323103"),
    ("91371323786579754D", "山东沂河生物医药有限公司", "371323103"),
    ("91371323948219939T", "沂水县宏远纺织有限公司", "371323001"),
    ("91371323518190937B", "沂水县金顺包装印刷有限公司", "371323001"),
];

fn enterprise(code: &str, name: &str, town: &str) -> EnterpriseInput {
    EnterpriseInput {
        credit_code: CreditCode::parse(code).unwrap(),
        name: name.into(),
        legal_representative: "王五".into(),
        industry_code: "C1391".into(),
        host_town: town.into(),
        introducer_town: None,
        introducer_department: None,
        project_area: None,
        grid_id: None,
        address: "沂水经济开发区".into(),
        contact_name: String::new(),
        contact_phone: String::new(),
        status: "operating".into(),
        location: None,
        land_area_centi_m2: None,
        above_scale: true,
        employees: None,
        registered_capital_fen: None,
        established: None,
        tags: String::new(),
    }
}

async fn upload(s: &Session, path: &str, bytes: Vec<u8>, name: &str, encoding: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().text("encoding", encoding.to_string()).part("file", part);
    let url = if path.starts_with("/api/") { s.url(path) } else { s.url(&format!("{path}?_csrf={}", s.csrf)) };
    s.client.post(url).header("x-csrf-token", &s.csrf).multipart(form).send().await.unwrap()
}

async fn ledger_rows(app: &TestApp) -> i64 {
    app.store.list_tax_ledger(&Scope::Zone, &LedgerFilter::default(), 1, 1).await.unwrap().total
}

async fn imports(app: &TestApp) -> usize {
    app.store.tax_imports(&Scope::Zone, 200).await.unwrap().len()
}

async fn listed(s: &Session) -> BTreeSet<i64> {
    let v: Value = s.get("/api/v1/revenue/projects?per_page=100").await.json().await.unwrap();
    v["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

fn cells(problem: &Value) -> Vec<(i64, String, String)> {
    problem["errors"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["row"].as_i64().unwrap(), c["column"].as_str().unwrap().into(), c["message"].as_str().unwrap().into())
        })
        .collect()
}

/// A one-sheet workbook of text cells; `None` leaves a row empty.
fn xlsx(rows: &[Option<Vec<&str>>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().flatten().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut ids = BTreeMap::new();
    for (code, name, town) in TAXPAYERS {
        let id = app
            .store
            .create_enterprise(&dianxiaoer_store::Actor::cli(), &Scope::Zone, &enterprise(code, name, town), 1)
            .await;
        ids.insert(code, id.unwrap());
    }
    let staff = app.login("staff").await;
    let county = app.fixture.county_department;

    // Projects through the API and the form; field errors beside the fields, nothing written.
    let body = |name: &str, code: &str, introducer: String, host: &str| {
        json!({"name": name, "credit_code": code, "introducer": introducer, "host_town": host,
               "planned_investment_wan": "120000", "planned_fixed_assets_wan": "90000", "cleared_area_mu": "56.5",
               "signed_on": "2021-03-01", "landed_on": "2021-06-18", "stage": "landed"})
    };
    let r = staff
        .post_json(
            "/api/v1/revenue/projects",
            &body("鑫源食品扩建项目", "9137132352601815X3", "371323101".into(), "371323103"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p1: Value = r.json().await.unwrap();
    let p1 = p1["id"].as_i64().unwrap();
    let r = staff
        .post_json(
            "/api/v1/revenue/projects",
            &body("润达化工新材料项目", "913713239083016633", format!("dept:{county}"), "371323001"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p2 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let bad = staff
        .post_form(
            "/revenue/projects",
            &[("name", ""), ("credit_code", "91371323MA3C00009X"), ("host_town", "371323"), ("stage", "started")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let html = bad.text().await.unwrap();
    for m in ["请填写项目名称", "请填写计划总投资", "请填写签约日期", "value=\"91371323MA3C00009X\""]
    {
        assert!(html.contains(m), "missing {m}");
    }
    let form = [
        ("name", "华科电子智能终端项目"),
        ("credit_code", "91371323131860916C"),
        ("introducer", "town:371323103"),
        ("host_town", "371323001"),
        ("planned_investment_wan", "8,000.5"),
        ("signed_on", "2021/9/1"),
        ("stage", "signed"),
    ];
    let r = staff.post_form("/revenue/projects", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let p3: i64 = r.headers()["location"].to_str().unwrap()["/revenue/projects/".len()..]
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let p = app.store.project(&Scope::Zone, p3).await.unwrap();
    assert_eq!((p.planned_investment_fen, p.signed_on.as_str()), (8_000_500_000, "2021-09-01"));
    // Editing through the form: the project lands.
    let mut edited = form.to_vec();
    edited.retain(|(k, _)| *k != "stage");
    edited.extend([("stage", "producing"), ("landed_on", "2022-01-10"), ("actual_investment_wan", "7000")]);
    let r = staff.post_form(&format!("/revenue/projects/{p3}/edit"), &edited).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = staff.get(&format!("/revenue/projects/{p3}")).await.text().await.unwrap();
    assert!(page.contains("已投产") && page.contains("7,000.00万元") && page.contains("许家湖镇"));

    // Agreements: a ratio must sum to 10, and two may not be in force in the same month.
    let agree = |ratio: &str, from: &str, to: Option<&str>| json!({"ratio": ratio, "from": from, "to": to});
    let path = format!("/api/v1/revenue/projects/{p1}/agreements");
    let r = staff.post_json(&path, &agree("5:3:3", "2022-01", None)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("三项之和应为 10"));
    assert_eq!(
        staff.post_json(&path, &agree("7：3：0", "2022-01", Some("2022-12"))).await.status(),
        StatusCode::CREATED
    );
    let r = staff.post_json(&path, &agree("5:3:2", "2022-06", None)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("有效期重叠"));
    let r = staff
        .post_form(&format!("/revenue/projects/{p1}/agreements"), &[("ratio", "6:3:2"), ("from", "2023-01")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("实际为 11"));
    let r = staff
        .post_form(&format!("/revenue/projects/{p1}/agreements"), &[("ratio", "5:3:2"), ("from", "2023-01")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let detail: Value = staff.get(&format!("/api/v1/revenue/projects/{p1}")).await.json().await.unwrap();
    let listed_agreements: Vec<(String, String)> = detail["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["ratio"].as_str().unwrap().into(), a["from_period"].as_str().unwrap().into()))
        .collect();
    assert_eq!(listed_agreements, [("7:3:0".into(), "2022-01".into()), ("5:3:2".into(), "2023-01".into())]);

    // The sample is GBK: declared UTF-8 it is refused with the reason, and nothing is written.
    let r = upload(&staff, "/api/v1/revenue/tax/import", SAMPLE.to_vec(), "2022Q1.csv", "utf8").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.text().await);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("看起来是 GBK 编码"));
    assert_eq!((ledger_rows(&app).await, imports(&app).await), (0, 0));

    // The real sample, through the page: every row, to the fen.
    let r = upload(&staff, "/revenue/tax/import", SAMPLE.to_vec(), "2022Q1.csv", "auto").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("导入完成") && html.contains("共 74 行（GBK）"), "{html}");
    assert_eq!(ledger_rows(&app).await, 74);
    let totals = app.store.tax_totals(&Scope::Zone, &LedgerFilter::default()).await.unwrap();
    let periods: Vec<&str> = totals.iter().map(|t| t.period.as_str()).collect();
    assert_eq!(periods, ["2022-03", "2022-02", "2022-01", "2021-12"]);
    assert_eq!(totals.iter().map(|t| t.total_fen).sum::<i64>(), 2_765_624_365);
    assert_eq!(totals[3].total_fen, -880_000, "the 2021 Q4 refund settles in 2021-12");
    let audit = app
        .store
        .list_audit(
            &dianxiaoer_store::AuditFilter { object_type: Some("tax_ledger".into()), ..Default::default() },
            1,
            5,
        )
        .await
        .unwrap();
    assert_eq!((audit.total, audit.items[0].username.as_str()), (1, "staff"));

    // The same file again changes nothing and says so.
    let r = upload(&staff, "/api/v1/revenue/tax/import", SAMPLE.to_vec(), "again.csv", "auto").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["outcome"], "already_imported");
    let r = upload(&staff, "/revenue/tax/import", SAMPLE.to_vec(), "again.csv", "gbk").await;
    assert!(r.text().await.unwrap().contains("本次未重复导入"));
    assert_eq!((ledger_rows(&app).await, imports(&app).await), (74, 1));

    // Bad cells, row and column named; nothing written.
    let unknown = CreditCode::with_check_digit("91371323MA3C99999").unwrap();
    let head = "纳税人识别号,纳税人名称,征收项目,税款所属期起,税款所属期止,实缴金额\r\n";
    let text_amount = format!(
        "{head}913713233909960334,恒泰,增值税,2022-04-01,2022-04-30,七千元\r\n91371323082462814R,庐山,增值税,2022-04-01,2022-04-30,100.125\r\n"
    );
    let r = upload(&staff, "/api/v1/revenue/tax/import", text_amount.into_bytes(), "bad.csv", "auto").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let found = cells(&r.json().await.unwrap());
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].0, found[0].1.as_str()), (2, "实缴金额"));
    assert_eq!((found[1].0, found[1].1.as_str(), found[1].2.as_str()), (3, "实缴金额", "金额最多两位小数"));
    let unknown_file = format!(
        "{head}913713233909960334,恒泰,增值税,2022-04-01,2022-04-30,10.00\r\n{unknown},未登记,增值税,2022-04-01,2022-04-30,20.00\r\n"
    );
    let r = upload(&staff, "/revenue/tax/import", unknown_file.into_bytes(), "unknown.csv", "utf8").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<td class=\"num\">3</td><td>纳税人识别号</td>") && html.contains("未在企业档案中登记"),
        "{html}"
    );
    // A payment of the sample in another file is not counted twice.
    let again = "纳税人识别号,征收项目,征收品目,税款所属期起,税款所属期止,实缴金额,入库日期,票证种类\r\n\
        9137132352601815X3,增值税,国内增值税,2022-01-01,2022-01-31,73857.60,2022-02-08,电子缴税付款凭证\r\n";
    let r = upload(&staff, "/api/v1/revenue/tax/import", again.as_bytes().to_vec(), "overlap.csv", "auto").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let found = cells(&r.json().await.unwrap());
    assert!(found.len() == 1 && found[0].0 == 2 && found[0].2.contains("已由第"), "{found:?}");
    assert_eq!((ledger_rows(&app).await, imports(&app).await), (74, 1));

    // .xlsx with a title above the header: rows numbered as in Excel.
    let header = vec!["纳税人识别号", "征收项目", "税款所属期", "实缴金额", "预算分配比例"];
    let title = Some(vec!["2022年4月税收明细"]);
    let bad_xlsx = xlsx(&[
        title.clone(),
        Some(header.clone()),
        Some(vec!["913713233909960334", "增值税", "2022-04", "500.00", "县30%"]),
        None,
        Some(vec!["91371323082462814R", "增值税", "2022-04", "1.005", ""]),
    ]);
    let r = upload(&staff, "/api/v1/revenue/tax/import", bad_xlsx, "2022-04.xlsx", "auto").await;
    let found = cells(&r.json().await.unwrap());
    assert!(found.len() == 2 && found[0].0 == 3 && found[1].0 == 5, "{found:?}");
    let good_xlsx = xlsx(&[
        title,
        Some(header),
        Some(vec!["913713233909960334", "增值税", "2022-04", "500.00", "中央50%,省10%,市10%,县30%"]),
    ]);
    let r = upload(&staff, "/api/v1/revenue/tax/import", good_xlsx, "2022-04.xlsx", "auto").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let done: Value = r.json().await.unwrap();
    assert_eq!(
        (done["rows"].as_i64(), done["total_fen"].as_i64(), done["format"].as_str()),
        (Some(1), Some(50_000), Some("xlsx"))
    );
    assert_eq!(ledger_rows(&app).await, 75);

    // The ledger page and API by month.
    let page = staff.get("/revenue/tax?period=2021-12").await.text().await.unwrap();
    assert!(page.contains("-8,800.00元") && page.contains("山东庐山新材料股份有限公司"));
    let v: Value = staff.get("/api/v1/revenue/tax?period=2022-01&per_page=200").await.json().await.unwrap();
    assert_eq!(v["total"].as_i64(), Some(26));
    let r = staff.get("/api/v1/revenue/tax?period=2022-13").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Scope: a town sees its projects as introducer or host, and only their enterprises' tax.
    let cases: [(&str, &[i64]); 5] = [
        ("leader", &[p1, p2, p3]),
        ("staff", &[p1, p2, p3]),
        ("xujiahu", &[p1, p3]),
        ("mazhan", &[p1]),
        ("fagai", &[p2]),
    ];
    for (user, expect) in cases {
        let s = app.login(user).await;
        let expect: BTreeSet<i64> = expect.iter().copied().collect();
        assert_eq!(listed(&s).await, expect, "{user}");
        for id in [p1, p2, p3] {
            let want = if expect.contains(&id) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(s.get(&format!("/revenue/projects/{id}")).await.status(), want, "{user} project {id}");
            assert_eq!(s.get(&format!("/api/v1/revenue/projects/{id}")).await.status(), want, "{user} api {id}");
        }
        let rows: Value = s.get("/api/v1/revenue/tax?per_page=200").await.json().await.unwrap();
        let seen: BTreeSet<i64> =
            rows["items"].as_array().unwrap().iter().map(|l| l["enterprise_id"].as_i64().unwrap()).collect();
        // The whole zone sees every taxpayer; a town or county department only its projects' enterprises.
        let mut allowed: BTreeSet<i64> = ids.values().copied().collect();
        if !matches!(user, "leader" | "staff") {
            allowed.clear();
            for id in &expect {
                allowed.insert(app.store.project(&Scope::Zone, *id).await.unwrap().enterprise_id);
            }
            assert_eq!(seen, allowed, "{user}");
        }
        assert!(!seen.is_empty() && seen.is_subset(&allowed), "{user}: {seen:?} ⊄ {allowed:?}");
        let x = s.get("/revenue/projects/export.xlsx").await;
        assert_eq!(x.status(), StatusCode::OK);
        let bytes = x.bytes().await.unwrap();
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        use calamine::Reader;
        let range = wb.worksheet_range("招商项目").unwrap();
        assert_eq!(range.height(), expect.len() + 1, "{user} export");
    }
    // A town official reads but does not write; writes outside scope are not even found.
    let town = app.login("xujiahu").await;
    assert_eq!(town.post_json("/api/v1/revenue/projects", &json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(town.get("/revenue/tax/import").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(town.get("/revenue/projects/new").await.status(), StatusCode::FORBIDDEN);
    // Enterprise users and grid officers see none of it.
    for user in ["ent_a", "grid1"] {
        let s = app.login(user).await;
        for path in ["/revenue/projects", "/revenue/tax", "/api/v1/revenue/projects", "/api/v1/revenue/tax"] {
            assert_eq!(s.get(path).await.status(), StatusCode::FORBIDDEN, "{user} {path}");
        }
        assert_eq!(s.get(&format!("/api/v1/revenue/projects/{p1}")).await.status(), StatusCode::FORBIDDEN);
    }
    let all = app.store.list_projects(&Scope::Zone, &ProjectFilter::default(), 1, 10).await.unwrap();
    assert_eq!(all.total, 3);
    app.cleanup().await;
}
dual!(projects_and_tax_ledger, super::story);
