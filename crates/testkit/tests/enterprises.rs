//! The enterprise registry over HTTP on both backends: forms with field errors, the JSON API, Excel
//! export and import (template, round trip, bad cells, bad sheets), all within scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use rust_xlsxwriter::{Formula, Workbook};

const HEADERS: [&str; 10] = [
    "统一社会信用代码",
    "企业名称",
    "法定代表人",
    "行业代码",
    "落地乡镇",
    "地址",
    "从业人数",
    "注册资本（万元）",
    "成立日期",
    "经度",
];

fn code(n: u32) -> String {
    CreditCode::with_check_digit(&format!("91371323MA3D{n:05}")).unwrap().as_str().to_string()
}

/// A sheet with HEADERS (in the given order) and rows of text cells.
fn sheet(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn row(n: u32) -> Vec<String> {
    [
        code(n),
        format!("沂水测试{n}号机械有限公司"),
        "王强".into(),
        "C3484".into(),
        "许家湖镇".into(),
        "沂水经济开发区振华路1号".into(),
        "120".into(),
        "500".into(),
        "2016-05-18".into(),
        String::new(),
    ]
    .to_vec()
}

async fn upload(s: &Session, path: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("企业.xlsx");
    let form = reqwest::multipart::Form::new().part("file", part);
    let url = if path.starts_with("/api/") { s.url(path) } else { s.url(&format!("{path}?_csrf={}", s.csrf)) };
    s.client.post(url).header("x-csrf-token", &s.csrf).multipart(form).send().await.unwrap()
}

async fn total(app: &TestApp) -> i64 {
    app.store.list_enterprises(&Scope::Zone, &Default::default(), 1, 1).await.unwrap().total
}

async fn forms_and_api(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    // Field errors beside each field, typed values kept, nothing written.
    let r = staff
        .post_form(
            "/enterprises",
            &[
                ("credit_code", "91110000600037341l"),
                ("name", ""),
                ("industry_code", "C26"),
                ("host_town", "371323"),
                ("address", "x"),
                ("employees", "-3"),
                ("lon", "200"),
                ("lat", "35"),
                ("established", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    for m in [
        "包含小写字母",
        "请填写企业名称",
        "请填写到小类",
        "不是县的代码",
        "从业人数不能为负数",
        "坐标不在中国境内",
        "成立日期应在",
    ] {
        assert!(html.contains(m), "missing message {m}");
    }
    assert!(html.contains("value=\"91110000600037341l\""));
    assert_eq!(total(&app).await, 4);
    // A valid enterprise.
    let c = code(1);
    let fields = [
        ("credit_code", c.as_str()),
        ("name", "沂水新建机械有限公司"),
        ("legal_representative", "赵刚"),
        ("industry_code", "3484"),
        ("host_town", "371323001"),
        ("address", "沂水经济开发区长安路8号"),
        ("employees", "88"),
        ("registered_capital_wan", "1,200.5"),
        ("land_area_mu", "30"),
        ("scale", "above"),
        ("established", "2018-03-02"),
        ("tags", "规上工业，高新技术企业"),
        ("lon", "118.66"),
        ("lat", "35.77"),
    ];
    let r = staff.post_form("/enterprises", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/enterprises/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let e = app.store.enterprise(&Scope::Zone, id).await.unwrap();
    assert_eq!(
        (e.industry_code.as_str(), e.registered_capital_fen, e.employees, e.above_scale),
        ("C3484", Some(1_200_500_000), Some(88), true)
    );
    assert_eq!(e.tags, "规上工业,高新技术企业");
    assert_eq!(e.land_area_centi_m2, Some(2_000_000));
    let page = staff.get(&format!("/enterprises/{id}")).await.text().await.unwrap();
    assert!(
        page.contains("机械零部件加工")
            && page.contains("30.00亩")
            && page.contains("1,200.50万元")
            && page.contains("登记")
    );
    // The same code again is a conflict beside the field.
    let r = staff.post_form("/enterprises", &fields).await;
    assert!(r.text().await.unwrap().contains("统一社会信用代码已登记"));
    // Edit.
    let mut edited = fields.to_vec();
    edited[1] = ("name", "沂水新建精密机械有限公司");
    let r = staff.post_form(&format!("/enterprises/{id}/edit"), &edited).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = staff.get(&format!("/enterprises/{id}")).await.text().await.unwrap();
    assert!(page.contains("沂水新建精密机械有限公司") && page.contains("修改"), "history shows the edit");

    // The JSON API: numbers accepted as numbers; errors as a problem document with field errors.
    let body = serde_json::json!({"credit_code": code(2), "name": "沂水接口测试食品有限公司", "legal_representative": "孙丽", "industry_code": "C1419", "host_town": "371323001", "address": "城北片区富民路2号", "employees": 35});
    let r = staff.post_json("/api/v1/enterprises", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = staff.post_json("/api/v1/enterprises", &serde_json::json!({"credit_code": "X", "employees": "many"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["errors"]["credit_code"].is_string() && p["errors"]["employees"].is_string());

    // Filters: industry at any level, scale.
    let list: serde_json::Value = staff.get("/api/v1/enterprises?industry=C34").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let list: serde_json::Value = staff.get("/api/v1/enterprises?industry=C&scale=above").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let r = staff.get("/api/v1/enterprises?industry=C99").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A grid officer cannot register an enterprise outside its grid.
    let grid = app.login("grid1").await;
    let mut other = fields.to_vec();
    let c3 = code(3);
    other[0] = ("credit_code", c3.as_str());
    other.push(("grid_id", "999"));
    let r = grid.post_form("/enterprises", &other).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let g2 = app.fixture.grids[1].to_string();
    other.pop();
    other.push(("grid_id", g2.as_str()));
    let r = grid.post_form("/enterprises", &other).await;
    assert!(r.text().await.unwrap().contains("只能登记本人数据范围内的企业"));
    // An enterprise user edits only its contact fields: the full edit is forbidden.
    let ent = app.login("ent_a").await;
    assert_eq!(
        ent.get(&format!("/enterprises/{}/edit", app.fixture.enterprise("a"))).await.status(),
        StatusCode::FORBIDDEN
    );
    // Further contacts: the enterprise keeps its own list; others see it within scope, phones masked
    // for roles that do not need them.
    let a = app.fixture.enterprise("a");
    let r = ent
        .post_form(
            &format!("/enterprises/{a}/contacts"),
            &[("name", "周敏"), ("position", "安全负责人"), ("phone", "13905390001")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = ent.post_form(&format!("/enterprises/{a}/contacts"), &[("name", "周敏"), ("phone", "12ab")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("联系电话应为手机号"));
    let r = ent
        .post_json(
            &format!("/api/v1/enterprises/{a}/contacts"),
            &serde_json::json!({"name": "吴刚", "phone": "0539-2251234"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let list: serde_json::Value = ent.get(&format!("/api/v1/enterprises/{a}/contacts")).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["phone"], "13905390001", "the enterprise sees its own numbers");
    let leader = app.login("leader").await;
    let list: serde_json::Value = leader.get(&format!("/api/v1/enterprises/{a}/contacts")).await.json().await.unwrap();
    assert_eq!(list[0]["phone"], "139****0001", "masked for leadership");
    let page = ent.get(&format!("/enterprises/{a}")).await.text().await.unwrap();
    assert!(page.contains("安全负责人") && page.contains("添加联系人"));
    // Another enterprise can neither read nor change them.
    let other = app.login("ent_b").await;
    assert_eq!(other.get(&format!("/api/v1/enterprises/{a}/contacts")).await.status(), StatusCode::NOT_FOUND);
    let r = other.post_json(&format!("/api/v1/enterprises/{a}/contacts/{second}/delete"), &serde_json::json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = ent.post_json(&format!("/api/v1/enterprises/{a}/contacts/{second}/delete"), &serde_json::json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let list: serde_json::Value = ent.get(&format!("/api/v1/enterprises/{a}/contacts")).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Both changes are in the history, without the phone number.
    let history = app.store.enterprise_history(&Scope::Zone, a, 20).await.unwrap();
    assert!(
        history.iter().any(|h| h.action == "add_contact" && h.detail.contains("吴刚") && !h.detail.contains("2251234"))
    );
    assert!(history.iter().any(|h| h.action == "remove_contact"));
    app.cleanup().await;
}
dual!(enterprise_forms_and_api, super::forms_and_api);

async fn excel(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    // The template imports as it is (its example row is valid).
    let r = staff.get("/enterprises/import/template.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    let template = r.bytes().await.unwrap().to_vec();
    let r = upload(&staff, "/enterprises/import", template).await;
    assert!(r.text().await.unwrap().contains("新增 1 家"));
    assert_eq!(total(&app).await, 5);

    // Export → import: everything updates by credit code, nothing is duplicated.
    let r = staff.get("/enterprises/export.xlsx").await;
    let exported = r.bytes().await.unwrap().to_vec();
    let r = upload(&staff, "/api/v1/enterprises/import", exported).await;
    assert_eq!(r.status(), StatusCode::OK);
    let counts: serde_json::Value = r.json().await.unwrap();
    assert_eq!((counts["inserted"].as_i64(), counts["updated"].as_i64()), (Some(0), Some(5)));
    assert_eq!(total(&app).await, 5);
    // The enterprise's history names both imports: the one that created it and the one that updated it.
    let example = app
        .store
        .enterprise_id_by_credit_code(&CreditCode::with_check_digit("91371323MA3C12345").unwrap())
        .await
        .unwrap()
        .unwrap();
    let history = app.store.enterprise_history(&Scope::Zone, example, 20).await.unwrap();
    let imports: Vec<_> = history.iter().filter_map(|h| h.import.clone()).collect();
    assert_eq!(imports.len(), 2, "{history:?}");
    assert!(!imports[0].2 && imports[1].2, "newest first: the update, then the creation");
    assert_eq!(imports[0].1, "企业.xlsx");
    let page = staff.get(&format!("/enterprises/{example}")).await.text().await.unwrap();
    assert!(page.contains("新增登记") && page.contains("按统一社会信用代码更新"), "history on the file");
    // Outside scope, the history is not there either.
    assert!(app.store.enterprise_history(&Scope::Enterprise(-1), example, 20).await.is_err());

    // Reordered columns, dates as text and as Excel serial numbers, a formula's cached value.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let headers =
        ["企业名称", "统一社会信用代码*", "行业代码", "法定代表人", "地址", "落地乡镇", "成立日期", "从业人数"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (date_text, serial)) in
        [("2015/3/2", None), ("", Some(42_000.0)), ("2015年3月2日", None)].iter().enumerate()
    {
        let r = r as u32 + 1;
        ws.write_string(r, 0, format!("沂水排序测试{r}有限公司")).unwrap();
        ws.write_string(r, 1, code(100 + r)).unwrap();
        ws.write_string(r, 2, "C1419").unwrap();
        ws.write_string(r, 3, "李明").unwrap();
        ws.write_string(r, 4, "城北片区").unwrap();
        ws.write_string(r, 5, "371323001").unwrap();
        match serial {
            Some(s) => {
                let f = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                ws.write_number_with_format(r, 6, *s, &f).unwrap();
            }
            None => {
                ws.write_string(r, 6, *date_text).unwrap();
            }
        }
        ws.write_formula(r, 7, Formula::new("=40+2").set_result("42")).unwrap();
    }
    let r = upload(&staff, "/api/v1/enterprises/import", wb.save_to_buffer().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let list = app
        .store
        .list_enterprises(
            &Scope::Zone,
            &dianxiaoer_store::EnterpriseFilter { q: Some("排序测试".into()), ..Default::default() },
            1,
            10,
        )
        .await
        .unwrap();
    let dates: Vec<_> = list.items.iter().map(|e| e.established.clone().unwrap()).collect();
    assert_eq!(dates, vec!["2015-03-02", "2014-12-27", "2015-03-02"]);
    assert!(list.items.iter().all(|e| e.employees == Some(42)));

    // Bad cells: each listed with row, column, value and message; nothing written.
    let before = total(&app).await;
    let mut rows = vec![row(1), row(2), row(3), row(4), row(5), row(6), row(7)];
    rows[0][0] = code(1).to_lowercase();
    rows[1][3] = "C9999".into();
    rows[2][4] = "火星镇".into();
    rows[3][6] = "-5".into();
    rows[4][9] = "10.5".into();
    rows[5][0] = code(7);
    rows[6][7] = "abc".into();
    let r = upload(&staff, "/enterprises/import", sheet(&HEADERS, &rows)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    for m in [
        "包含小写字母",
        "未知的行业代码",
        "未知的行政区划代码",
        "从业人数不能为负数",
        "经度和纬度须同时填写",
        "与第 7 行重复",
        "金额格式错误",
    ] {
        assert!(html.contains(m), "missing {m}");
    }
    assert!(html.contains("<td class=\"num\">3</td><td>行业代码</td><td><code>C9999</code>"), "row, column, value");
    assert_eq!(total(&app).await, before, "nothing half-written");
    // A bad row after more than one written chunk: the rows already written are rolled back.
    let mut rows: Vec<Vec<String>> = (0..1200).map(|i| row(2000 + i)).collect();
    rows[1150][3] = "X".into();
    let r = upload(&staff, "/api/v1/enterprises/import", sheet(&HEADERS, &rows)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(total(&app).await, before, "nothing half-written after streamed chunks");
    let mut imports_before = None;
    for _ in 0..2 {
        let n = app.store.enterprise_history(&Scope::Zone, example, 100).await.unwrap().len();
        assert!(imports_before.is_none_or(|b| b == n));
        imports_before = Some(n);
    }
    rows[1150][3] = "C3484".into();
    let r = upload(&staff, "/api/v1/enterprises/import", sheet(&HEADERS, &rows)).await;
    let counts: serde_json::Value = r.json().await.unwrap();
    assert_eq!(counts["inserted"].as_i64(), Some(1200), "{counts}");
    assert_eq!(total(&app).await, before + 1200);

    // Bad sheets.
    let r = upload(&staff, "/api/v1/enterprises/import", b"credit,name\n1,2\n".to_vec()).await;
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("不是 .xlsx"));
    let r = upload(&staff, "/api/v1/enterprises/import", sheet(&HEADERS[..3], &[])).await;
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("缺少必填列：行业代码、落地乡镇、地址"), "{p}");
    // Merged cells leave the rows below the merge empty, and say so.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=2u32 {
        for (c, v) in row(200 + r).iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    ws.merge_range(1, 2, 2, 2, "王强", &rust_xlsxwriter::Format::new()).unwrap();
    let r = upload(&staff, "/api/v1/enterprises/import", wb.save_to_buffer().unwrap()).await;
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["errors"]["cells"][0]["row"], 3, "{p}");
    assert_eq!(p["errors"]["cells"][0]["column"], "法定代表人");

    // Only department staff import.
    let grid = app.login("grid1").await;
    assert_eq!(
        upload(&grid, "/api/v1/enterprises/import", sheet(&HEADERS, &[row(9)])).await.status(),
        StatusCode::FORBIDDEN
    );
    app.cleanup().await;
}
dual!(excel_import_and_export, super::excel);
