//! Settlement and statements of the enclave economy over HTTP on both backends: the reference's cases
//! (introducer = host, a county department as introducer, no introducer, a project that moved host, a
//! refund), totals that reconcile to the fen with the ledger, four-eyes review, confirmation, a later
//! correction of a confirmed month carried as an adjustment while the confirmed entries stay exactly as
//! they were, refusal to re-draft a confirmed month, the retained-share table, and statement scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::access::Scope;
use dianxiaoer_core::money::Fen;
use dianxiaoer_core::revenue::tax::RetainedShare;
use dianxiaoer_store::{AuditFilter, DatabaseUrl, LedgerFilter};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;

const XUJIAHU: &str = "371323103";
const MAZHAN: &str = "371323101";
const YICHENG: &str = "371323001";
const VAT: &str = "\"中央50%,省10%,市10%,县30%\"";
const EIT: &str = "\"中央60%,省8%,市8%,县24%\"";

async fn upload(s: &Session, csv: String, name: &str) -> Value {
    let r = s.upload_tax_csv(csv, name).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{name}");
    r.json().await.unwrap()
}

/// Every column of a month's settlement, its entries and unshared rows, read straight from the
/// database: what "never changes" is checked against.
async fn snapshot(url: &DatabaseUrl, period: &str) -> Vec<String> {
    let s = match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut c = sqlx::AnyConnection::connect(&s).await.unwrap();
    let mut out = Vec::new();
    let queries = [
        "SELECT CAST(id AS TEXT), status, CAST(drafted_at AS TEXT), drafted_by_name, CAST(reviewed_at AS TEXT), \
         reviewed_by_name, CAST(confirmed_at AS TEXT), confirmed_by_name, CAST(total_fen AS TEXT), \
         CAST(entry_count AS TEXT), CAST(row_count AS TEXT), CAST(unshared_count AS TEXT), \
         CAST(unshared_fen AS TEXT) || '/' || CAST(ledger_through AS TEXT) FROM settlements WHERE period = $1",
        "SELECT CAST(se.id AS TEXT), CAST(se.project_id AS TEXT), CAST(se.enterprise_id AS TEXT), se.ratio, \
         CAST(se.debit_fen AS TEXT), se.adjusts_period, \
         se.unit1 || '/' || CAST(se.weight1 AS TEXT) || '/' || CAST(se.rows1 AS TEXT) || '/' || \
         CAST(se.tax1_fen AS TEXT) || '/' || CAST(se.debit1_fen AS TEXT) || '/' || CAST(se.amount1_fen AS TEXT), \
         se.unit2 || '/' || CAST(se.weight2 AS TEXT) || '/' || CAST(se.rows2 AS TEXT) || '/' || \
         CAST(se.tax2_fen AS TEXT) || '/' || CAST(se.debit2_fen AS TEXT) || '/' || CAST(se.amount2_fen AS TEXT), \
         se.unit3 || '/' || CAST(se.weight3 AS TEXT) || '/' || CAST(se.rows3 AS TEXT) || '/' || \
         CAST(se.tax3_fen AS TEXT) || '/' || CAST(se.debit3_fen AS TEXT) || '/' || CAST(se.amount3_fen AS TEXT), \
         '', '', '', '' \
         FROM settlement_entries se JOIN settlements s ON s.id = se.settlement_id WHERE s.period = $1 ORDER BY se.id",
        "SELECT CAST(t.id AS TEXT), t.unit_kind, t.unit_code, t.tax_type, CAST(t.row_count AS TEXT), \
         CAST(t.tax_fen AS TEXT), CAST(t.debit_fen AS TEXT), CAST(t.amount_fen AS TEXT), \
         CAST(t.adjustments_fen AS TEXT), '', '', '', '' \
         FROM settlement_tax_types t JOIN settlements s ON s.id = t.settlement_id WHERE s.period = $1 ORDER BY t.id",
        "SELECT 'late', CAST(x.ledger_id AS TEXT), '', '', '', '', '', '', '', '', '', '', '' \
         FROM settlement_late_rows x JOIN settlements s ON s.id = x.settlement_id WHERE s.period = $1 \
         ORDER BY x.ledger_id",
        "SELECT CAST(su.id AS TEXT), CAST(su.ledger_id AS TEXT), CAST(su.shareable_fen AS TEXT), su.reason, \
         su.adjusts_period, '', '', '', '', '', '', '', '' \
         FROM settlement_unshared su JOIN settlements s ON s.id = su.settlement_id WHERE s.period = $1 ORDER BY su.id",
    ];
    for q in queries {
        for r in sqlx::query(q).bind(period.to_string()).fetch_all(&mut c).await.unwrap() {
            let cols: Vec<String> =
                (0..13).map(|i| r.try_get::<Option<String>, _>(i).unwrap().unwrap_or_else(|| "∅".into())).collect();
            out.push(cols.join("|"));
        }
    }
    c.close().await.unwrap();
    out
}

async fn sql_count(url: &DatabaseUrl, sql: &str) -> i64 {
    let s = match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut c = sqlx::AnyConnection::connect(&s).await.unwrap();
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
    c.close().await.unwrap();
    n
}

async fn settlement_audits(app: &TestApp) -> i64 {
    let filter = AuditFilter { object_type: Some("settlement".into()), ..Default::default() };
    app.store.list_audit(&filter, 1, 50).await.unwrap().total
}

async fn json_ok(s: &Session, path: &str) -> Value {
    let r = s.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{} {path}", s.username);
    r.json().await.unwrap()
}

fn units(detail: &Value) -> BTreeMap<String, i64> {
    detail["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["key"].as_str().unwrap().to_string(), u["amount_fen"].as_i64().unwrap()))
        .collect()
}

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let f = &app.fixture;
    let county = f.county_department;
    let mut codes = BTreeMap::new();
    for k in ["a", "b", "c", "d"] {
        codes.insert(k, app.store.enterprise(&Scope::Zone, f.enterprise(k)).await.unwrap().credit_code);
    }
    let (a, b, c, d) = (codes["a"].clone(), codes["b"].clone(), codes["c"].clone(), codes["d"].clone());
    let staff = app.login("staff").await;

    // Projects for the reference's cases.
    let project = |name: &str, credit: &str, introducer: String, host: &str| {
        json!({"name": name, "credit_code": credit, "introducer": introducer, "host_town": host,
               "planned_investment_wan": "5000", "signed_on": "2021-03-01", "stage": "producing",
               "landed_on": "2021-06-01"})
    };
    let mut ids = BTreeMap::new();
    for (key, name, credit, introducer, host) in [
        ("same", "甲化工扩建（引资即落地）", &a, format!("town:{XUJIAHU}"), XUJIAHU),
        ("zone", "乙电子（开发区自主招商）", &b, "zone".to_string(), YICHENG),
        ("moved", "丙食品（迁址项目）", &c, format!("town:{XUJIAHU}"), MAZHAN),
        ("dept", "丁包装（县直部门引资）", &d, format!("dept:{county}"), YICHENG),
    ] {
        let r = staff.post_json("/api/v1/revenue/projects", &project(name, credit, introducer, host)).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{name}");
        ids.insert(key, r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    // The 丙 project moves from 马站镇 to 沂城街道 as of 2022-03.
    let path = format!("/api/v1/revenue/projects/{}/host-moves", ids["moved"]);
    let r = staff.post_json(&path, &json!({"host_town": MAZHAN, "from": "2022-03"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "moving to where it is");
    let moved: Value =
        staff.post_json(&path, &json!({"host_town": YICHENG, "from": "2022-03"})).await.json().await.unwrap();
    assert_eq!(
        (moved["host_town"].as_str(), moved["moves"][0]["to_period"].as_str()),
        (Some(YICHENG), Some("2022-02"))
    );
    let r = staff.post_json(&path, &json!({"host_town": MAZHAN, "from": "2022-02"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a move before the last one");

    // The retained-share table: an overlap is refused; 教育费附加 configured from 2022-02.
    let rules = json_ok(&staff, "/api/v1/revenue/retained-shares").await;
    assert!(rules.as_array().unwrap().iter().any(|r| r["tax_type"] == "增值税" && r["basis_points"] == 3000));
    let r = staff
        .post_json(
            "/api/v1/revenue/retained-shares",
            &json!({"tax_type": "增值税", "share": "25%", "from": "2015-01", "to": "2016-12"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("重叠"));
    let r = staff
        .post_json(
            "/api/v1/revenue/retained-shares",
            &json!({"tax_type": "教育费附加", "share": "100%", "from": "2022-02"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r =
        staff.post_form("/revenue/retained-shares", &[("tax_type", ""), ("share", "120%"), ("from", "2022-02")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("县级留成比例应在 0% 到 100% 之间"));

    // The ledger of 2022-01 to 2022-03.
    let head = "纳税人识别号,纳税人名称,征收项目,税款所属期起,税款所属期止,实缴金额,预算分配比例,票证种类\n";
    let line = |code: &str, tax: &str, month: &str, amount: &str, share: &str, voucher: &str| {
        format!("{code},x,{tax},{month}-01,{month}-28,{amount},{share},{voucher}\n")
    };
    let mut first = head.to_string();
    first += &line(&a, "增值税", "2022-01", "10000.01", VAT, "电子缴税付款凭证");
    first += &line(&a, "城镇土地使用税", "2022-01", "1234.57", "", "电子缴税付款凭证");
    first += &line(&b, "企业所得税", "2022-01", "5555.55", EIT, "电子缴税付款凭证");
    first += &line(&c, "增值税", "2022-01", "777.77", "", "电子缴税付款凭证");
    first += &line(&d, "增值税", "2022-01", "3333.33", VAT, "电子缴税付款凭证");
    first += &line(&d, "增值税", "2022-01", "100.00", VAT, "税收收入退还书");
    first += &line(&b, "教育费附加", "2022-01", "50.00", "", "电子缴税付款凭证");
    first += &line(&a, "增值税", "2022-02", "2000.00", VAT, "电子缴税付款凭证");
    first += &line(&c, "增值税", "2022-03", "900.00", "", "电子缴税付款凭证");
    let done = upload(&staff, first, "2022Q1.csv").await;
    assert_eq!((done["rows"].as_i64(), done["confirmed"].as_array().map(Vec::len)), (Some(9), Some(0)));

    // Draft 2022-01.
    app.clock.advance_ms(60_000);
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-01"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["status"], "draft");
    assert_eq!(
        [&s["total_fen"], &s["row_count"], &s["adjustment_count"], &s["unshared_count"], &s["entry_count"]],
        [&json!(677_123), &json!(7), &json!(0), &json!(1), &json!(6)]
    );
    // The totals reconcile to the fen with the ledger's shareable amounts.
    let configured = BTreeMap::from([("增值税", 3000u32), ("城镇土地使用税", 10_000), ("企业所得税", 2400)]);
    let filter = LedgerFilter { period: Some("2022-01".parse().unwrap()), ..Default::default() };
    let ledger = app.store.list_tax_ledger(&Scope::Zone, &filter, 1, 200).await.unwrap();
    let shareable: i64 = ledger
        .items
        .iter()
        .filter_map(|l| {
            let bp =
                l.retained_basis_points.map(|b| b as u32).or_else(|| configured.get(l.tax_type.as_str()).copied())?;
            Some(RetainedShare::from_basis_points(bp).unwrap().shareable(Fen::from_fen(l.amount_fen)).fen())
        })
        .sum();
    assert_eq!(shareable, 677_123);
    let detail = json_ok(&staff, "/api/v1/revenue/settlements/2022-01").await;
    let by_unit = units(&detail);
    let expect = BTreeMap::from([
        (format!("town:{XUJIAHU}"), 350_432),
        (format!("town:{MAZHAN}"), 7_000),
        (format!("town:{YICHENG}"), 69_100),
        (format!("dept:{county}"), 48_500),
        ("zone".to_string(), 202_091),
    ]);
    assert_eq!(by_unit, expect);
    assert_eq!(by_unit.values().sum::<i64>(), 677_123);
    let unshared = &detail["unshared"][0];
    assert_eq!(unshared["tax_type"], "教育费附加");
    assert!(unshared["reason"].as_str().unwrap().contains("不是分成税种"), "{unshared}");
    // Every unit's statement adds up to the settlement.
    let mut statements = 0;
    for key in expect.keys() {
        let st = json_ok(&staff, &format!("/api/v1/revenue/statements?period=2022-01&unit={key}")).await;
        assert_eq!(st["total_fen"].as_i64(), Some(expect[key]), "{key}");
        statements += st["total_fen"].as_i64().unwrap();
    }
    assert_eq!(statements, 677_123);
    // Introducer = host: one line with both shares (8/10); the county department gets the refund too.
    let st = json_ok(&staff, &format!("/api/v1/revenue/statements?period=2022-01&unit=town:{XUJIAHU}")).await;
    let same: Vec<&Value> = st["lines"].as_array().unwrap().iter().filter(|l| l["project_id"] == ids["same"]).collect();
    assert!(same.iter().all(|l| l["weight"] == 8 && l["ratio"] == "5:3:2"), "{same:?}");
    assert_eq!(same.iter().map(|l| l["amount_fen"].as_i64().unwrap()).sum::<i64>(), 240_000 + 98_766);
    let st = json_ok(&staff, &format!("/api/v1/revenue/statements?period=2022-01&unit=dept:{county}")).await;
    assert_eq!(
        (st["lines"][0]["shareable_fen"].as_i64(), st["lines"][0]["tax_fen"].as_i64()),
        (Some(97_000), Some(323_333))
    );

    // Towns see nothing before confirmation.
    let xujiahu = app.login("xujiahu").await;
    assert_eq!(xujiahu.get("/api/v1/revenue/statements?period=2022-01").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_ok(&xujiahu, "/api/v1/revenue/settlements").await.as_array().unwrap().len(), 0);

    // Four eyes: the drafter cannot review; another staff member does; leadership confirms.
    let r = staff.post_json("/api/v1/revenue/settlements/2022-01/review", &json!({})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("复核人不能是起草人"));
    let victim = app.login("victim").await;
    let leader = app.login("leader").await;
    let r = leader.post_json("/api/v1/revenue/settlements/2022-01/confirm", &json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "not reviewed yet");
    let r = victim.post_json("/api/v1/revenue/settlements/2022-01/review", &json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "reviewed");
    assert_eq!(
        victim.post_json("/api/v1/revenue/settlements/2022-01/confirm", &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        leader.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-02"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = leader.post_form("/revenue/settlements/2022-01/confirm", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = leader.get("/revenue/settlements/2022-01?ok=confirmed").await.text().await.unwrap();
    assert!(page.contains("已确认") && page.contains("6,771.23元"), "{page}");
    let confirmed = snapshot(&app.db_url, "2022-01").await;
    // One entry per project (4) crediting 10 units in all, a unit's amounts per tax type (9), the
    // unshared row.
    assert_eq!(confirmed.len(), 1 + 4 + 9 + 1, "{confirmed:?}");
    let credited = confirmed.iter().skip(1).take(4).map(|e| e.split('|').skip(6).take(3).filter(|s| *s != "∅").count());
    assert_eq!(credited.sum::<usize>(), 10);

    // A town official sees only its own statement, on the page, in Excel and in the API.
    let st = json_ok(&xujiahu, "/api/v1/revenue/statements?period=2022-01").await;
    assert_eq!((st["unit_name"].as_str(), st["total_fen"].as_i64()), (Some("许家湖镇"), Some(350_432)));
    // By tax type (对账单按税种): 增值税 of two projects and 城镇土地使用税, summing to the total.
    let by_tax = st["by_tax_type"].as_array().unwrap();
    let types: Vec<&str> = by_tax.iter().map(|t| t["tax_type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 2, "{by_tax:?}");
    assert!(types.contains(&"增值税") && types.contains(&"城镇土地使用税"), "{types:?}");
    assert_eq!(by_tax.iter().map(|t| t["amount_fen"].as_i64().unwrap()).sum::<i64>(), 350_432);
    assert_eq!(by_tax.iter().map(|t| t["tax_fen"].as_i64().unwrap()).sum::<i64>(), st["tax_fen"].as_i64().unwrap());
    for other in [format!("town:{MAZHAN}"), "zone".into(), format!("dept:{county}")] {
        for path in ["/api/v1/revenue/statements", "/revenue/statements", "/revenue/statements.xlsx"] {
            let r = xujiahu.get(&format!("{path}?period=2022-01&unit={other}")).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} {other}");
        }
    }
    assert_eq!(xujiahu.get("/revenue/settlements/2022-01").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(xujiahu.get("/api/v1/revenue/settlements/2022-01").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        xujiahu.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-02"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let list = json_ok(&xujiahu, "/api/v1/revenue/settlements").await;
    assert_eq!((list[0]["period"].as_str(), list[0]["own_fen"].as_i64()), (Some("2022-01"), Some(350_432)));
    let page = xujiahu.get("/revenue/statements").await.text().await.unwrap();
    assert!(page.contains("许家湖镇") && page.contains("3,504.32元") && !page.contains("马站镇"), "{page}");
    assert!(page.contains("@media print") || page.contains("data-print"), "print button");
    let x = xujiahu.get("/revenue/statements.xlsx?period=2022-01").await;
    assert_eq!(x.status(), StatusCode::OK);
    let bytes = x.bytes().await.unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let range = wb.worksheet_range("对账单").unwrap();
    let last = range.rows().next_back().unwrap().to_vec();
    assert_eq!(last[0].to_string(), "合计");
    assert_eq!(last[9].to_string(), "3504.32");
    let by_tax = wb.worksheet_range("按税种").unwrap();
    let last = by_tax.rows().next_back().unwrap().to_vec();
    assert_eq!((last[0].to_string(), last[4].to_string()), ("合计".to_string(), "3504.32".to_string()));
    assert_eq!(by_tax.rows().count(), 1 + 2 + 1, "header, two tax types, total");
    let page = xujiahu.get("/revenue/statements?period=2022-01").await.text().await.unwrap();
    assert!(page.contains("data-testid=\"statement-tax-types\"") && page.contains("data-tax-type=\"城镇土地使用税\""));
    let mazhan = app.login("mazhan").await;
    let st = json_ok(&mazhan, "/api/v1/revenue/statements?period=2022-01").await;
    assert_eq!(st["total_fen"].as_i64(), Some(7_000), "the host before the move keeps its share");
    let fagai = app.login("fagai").await;
    assert_eq!(json_ok(&fagai, "/api/v1/revenue/statements?period=2022-01").await["total_fen"].as_i64(), Some(48_500));

    // A correction of confirmed 2022-01 arrives later, with 2022-02 tax: imported and reported.
    app.clock.advance_ms(60_000);
    let mut second = head.to_string();
    second += &line(&a, "增值税", "2022-01", "-1000.00", VAT, "电子缴税付款凭证");
    second += &line(&b, "增值税", "2022-02", "100.00", VAT, "电子缴税付款凭证");
    second += &line(&b, "教育费附加", "2022-02", "10.00", "", "电子缴税付款凭证");
    let done = upload(&staff, second, "2022-01-correction.csv").await;
    assert_eq!(done["confirmed"], json!(["2022-01"]));

    // Re-drafting the confirmed month is refused, through the API and the page; nothing is written.
    let before = settlement_audits(&app).await;
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-01"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("已确认"));
    let r = staff.post_form("/revenue/settlements", &[("period", "2022-01")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("下一个未确认的月份"));
    assert_eq!(
        staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-13"})).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(settlement_audits(&app).await, before);

    // 2022-02 carries the correction as an adjustment; 2022-03 follows the project's new host.
    let r = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-02"})).await;
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["total_fen"].as_i64(), s["adjustment_count"].as_i64()),
        (Some(60_000 + 3_000 - 30_000 + 1_000), Some(1))
    );
    let st = json_ok(&staff, &format!("/api/v1/revenue/statements?period=2022-02&unit=town:{XUJIAHU}")).await;
    assert_eq!((st["regular_fen"].as_i64(), st["adjustments_fen"].as_i64()), (Some(48_000), Some(-24_000)));
    assert_eq!(st["adjustments"][0]["adjusts_period"], "2022-01");
    let page =
        staff.get(&format!("/revenue/statements?period=2022-02&unit=town:{XUJIAHU}")).await.text().await.unwrap();
    assert!(page.contains("以前月份调整") && page.contains("-240.00元"), "{page}");
    let s: Value =
        staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-03"})).await.json().await.unwrap();
    assert_eq!(s["total_fen"].as_i64(), Some(27_000));
    let by_unit = units(&json_ok(&staff, "/api/v1/revenue/settlements/2022-03").await);
    assert_eq!(
        by_unit,
        BTreeMap::from([
            (format!("town:{XUJIAHU}"), 13_500),
            (format!("town:{YICHENG}"), 8_100),
            ("zone".into(), 5_400)
        ])
    );
    // Re-drafting a draft replaces it.
    let again: Value =
        staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-02"})).await.json().await.unwrap();
    assert_eq!((again["total_fen"].as_i64(), again["entry_count"].as_i64()), (Some(34_000), Some(4)));
    let second_draft = snapshot(&app.db_url, "2022-02").await;
    // 3 entries crediting 6 units (one entry, two credits, an adjustment), 5 per-tax-type amounts, the
    // corrected row held as late.
    assert_eq!(second_draft.len(), 1 + 3 + 5 + 1, "{second_draft:?}");
    let adjusting: Vec<&String> = second_draft.iter().skip(1).take(3).filter(|e| e.contains("|2022-01|")).collect();
    assert_eq!(adjusting.len(), 1, "{second_draft:?}");

    // The confirmed month is byte-for-byte what it was.
    assert_eq!(snapshot(&app.db_url, "2022-01").await, confirmed);

    // Once 2022-02 is confirmed it holds the correction: a new draft of 2022-03 does not take it again.
    assert_eq!(
        victim.post_json("/api/v1/revenue/settlements/2022-02/review", &json!({})).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        leader.post_json("/api/v1/revenue/settlements/2022-02/confirm", &json!({})).await.status(),
        StatusCode::OK
    );
    let s: Value =
        staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-03"})).await.json().await.unwrap();
    assert_eq!((s["total_fen"].as_i64(), s["adjustment_count"].as_i64()), (Some(27_000), Some(0)));
    // A row of 2022-03 imported after its draft, which is then confirmed as drafted: the next month
    // settles it as an adjustment of 2022-03.
    app.clock.advance_ms(60_000);
    let late = head.to_string() + &line(&c, "增值税", "2022-03", "100.00", "", "电子缴税付款凭证");
    assert_eq!(upload(&staff, late, "2022-03-late.csv").await["confirmed"], json!([]));
    assert_eq!(
        victim.post_json("/api/v1/revenue/settlements/2022-03/review", &json!({})).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        leader.post_json("/api/v1/revenue/settlements/2022-03/confirm", &json!({})).await.status(),
        StatusCode::OK
    );
    let s: Value =
        staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-04"})).await.json().await.unwrap();
    assert_eq!((s["total_fen"].as_i64(), s["adjustment_count"].as_i64()), (Some(3_000), Some(1)));
    let st = json_ok(&staff, &format!("/api/v1/revenue/statements?period=2022-04&unit=town:{XUJIAHU}")).await;
    assert_eq!(
        (st["adjustments_fen"].as_i64(), st["adjustments"][0]["adjusts_period"].as_str()),
        (Some(1_500), Some("2022-03"))
    );
    assert_eq!(snapshot(&app.db_url, "2022-03").await.iter().filter(|r| r.starts_with("late|")).count(), 0);
    assert_eq!(snapshot(&app.db_url, "2022-04").await.iter().filter(|r| r.starts_with("late|")).count(), 1);
    // Every stored entry balances: its credits sum to its debit, and all credits to the settlement's total.
    let unbalanced = sql_count(
        &app.db_url,
        "SELECT COUNT(*) FROM settlement_entries \
         WHERE amount1_fen + COALESCE(amount2_fen, 0) + COALESCE(amount3_fen, 0) <> debit_fen",
    )
    .await;
    let off_total = sql_count(
        &app.db_url,
        "SELECT COUNT(*) FROM settlements s WHERE s.total_fen <> (SELECT COALESCE(SUM(l.amount1_fen \
         + COALESCE(l.amount2_fen, 0) + COALESCE(l.amount3_fen, 0)), 0) FROM settlement_entries l \
         WHERE l.settlement_id = s.id)",
    )
    .await;
    assert_eq!((unbalanced, off_total), (0, 0));
    let page = staff.get("/revenue/settlements").await.text().await.unwrap();
    assert!(page.contains("data-period=\"2022-03\"") && page.contains("起草结算"));
    app.cleanup().await;
}
dual!(settle_review_confirm_and_adjust, super::story);

/// A draft keeps the projects it read for the next one; a change to a project, through the
/// application or straight in the database (another instance), is seen by the next draft even when
/// the clock has not moved.
async fn kept_projects(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let code = app.store.enterprise(&Scope::Zone, app.fixture.enterprise("a")).await.unwrap().credit_code;
    let staff = app.login("staff").await;
    let project = json!({"name": "甲", "credit_code": code, "introducer": format!("town:{XUJIAHU}"),
        "host_town": YICHENG, "planned_investment_wan": "5000", "signed_on": "2021-03-01", "stage": "producing",
        "landed_on": "2021-06-01"});
    let r = staff.post_json("/api/v1/revenue/projects", &project).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let csv = format!(
        "纳税人识别号,纳税人名称,征收项目,税款所属期起,税款所属期止,实缴金额,预算分配比例,票证种类\n\
         {code},x,增值税,2022-01-01,2022-01-28,1000.00,{VAT},电子缴税付款凭证\n"
    );
    upload(&staff, csv, "2022-01.csv").await;
    let hosts = async || {
        let s = staff.post_json("/api/v1/revenue/settlements", &json!({"period": "2022-01"})).await;
        assert!(s.status().is_success(), "{}", s.status());
        units(&json_ok(&staff, "/api/v1/revenue/settlements/2022-01").await)
    };
    let town = |code: &str| format!("town:{code}");
    assert_eq!(hosts().await[&town(YICHENG)], 9_000);
    let path = format!("/api/v1/revenue/projects/{id}/host-moves");
    assert_eq!(staff.post_json(&path, &json!({"host_town": MAZHAN, "from": "2022-01"})).await.status(), StatusCode::OK);
    let after_move = hosts().await;
    assert_eq!((after_move.get(&town(YICHENG)), after_move[&town(MAZHAN)]), (None, 9_000));
    let s = match &app.db_url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut c = sqlx::AnyConnection::connect(&s).await.unwrap();
    sqlx::query("UPDATE investment_projects SET introducer_town = $1 WHERE id = $2")
        .bind(YICHENG)
        .bind(id)
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let after_update = hosts().await;
    assert_eq!((after_update.get(&town(XUJIAHU)), after_update[&town(YICHENG)]), (None, 15_000));
    app.cleanup().await;
}
dual!(kept_projects_follow_changes, super::kept_projects);
