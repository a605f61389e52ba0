//! The working-day calendar over HTTP on both backends: the system admin sets 2027's 调休 and rest
//! days by form, by pasted text and by the API; the page, the year API and the deadline calculator
//! reflect them at once; bad input is refused in Chinese with nothing written; only the system admin
//! may change the calendar; every change is audited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::AuditFilter;
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn deadline(s: &Session, received: &str, days: u32) -> Value {
    let r = s.get(&format!("/api/v1/calendar/deadline?received={}&days={days}", received.replace(' ', "%20"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    app.store.list_audit(&f, 1, 1).await.unwrap().total
}

async fn stored(app: &TestApp) -> Vec<String> {
    app.store
        .calendar_days()
        .await
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {} {}", d.date, d.kind.label(), d.name, d.updated_by))
        .collect()
}

async fn admin_sets_days(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.login("admin").await;
    let staff = app.login("staff").await;

    // 2027 is provisional: the page says so, and lists the table's statutory days.
    let r = admin.get("/admin/calendar?year=2027").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"coverage-warning\"") && html.contains("2027年的节假日安排为暂定"));
    assert!(html.contains("2027-02-05") && html.contains("春节") && html.contains("内置（国务院办公厅通知）"));
    assert!(html.contains("data-testid=\"month-grid\"") && html.contains("title=\"2027-02-05 星期五 休 春节\""));
    let r = admin.get("/admin/calendar?year=2025").await.text().await.unwrap();
    assert!(!r.contains("coverage-warning"), "an official year has no warning");
    let r = admin.get("/admin/calendar?year=2031").await.text().await.unwrap();
    assert!(r.contains("内置节假日表不含2031年"));

    // Before: received Thursday 2027-02-04 after 17:00 starts on Tuesday 02-09 (春节 runs to Monday);
    // received Friday 02-19 in the morning, one working day later is Monday 02-22. This also fills
    // the app's calendar cache, which the writes below must invalidate.
    let a = deadline(&staff, "2027-02-04 17:30", 1).await;
    assert_eq!((a["start_day"].as_str(), a["deadline"].as_str()), (Some("2027-02-09"), Some("2027-02-10")));
    assert_eq!(a["after_office_close"], true);
    assert!(a["warnings"][0].as_str().unwrap().contains("暂定"));
    assert_eq!(deadline(&staff, "2027-02-19 09:00", 1).await["deadline"], "2027-02-22");

    // A rest day and a working Saturday (调休), by the page's form.
    let r = admin.post_form("/admin/calendar/days", &[("date", "2027-02-09"), ("kind", "休"), ("name", "春节")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/calendar?year=2027&ok=saved");
    let r =
        admin.post_form("/admin/calendar/days", &[("date", "2027-02-20"), ("kind", "班"), ("name", "春节调休")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, ["2027-02-09 休 春节 admin", "2027-02-20 班 春节调休 admin"]);

    let html = admin.get("/admin/calendar?year=2027&ok=saved").await.text().await.unwrap();
    assert!(html.contains("已保存。"));
    assert!(html.contains("2027-02-20") && html.contains("春节调休") && html.contains("管理员设置"));
    assert!(html.contains("action=\"/admin/calendar/days/2027-02-20/delete\""));
    assert!(html.contains("title=\"2027-02-20 星期六 班 春节调休（管理员设置）\""));
    assert!(html.contains("class=\"adjusted override\""));

    // The deadline API reflects both at once.
    let a = deadline(&staff, "2027-02-04 17:30", 1).await;
    assert_eq!((a["start_day"].as_str(), a["deadline"].as_str()), (Some("2027-02-10"), Some("2027-02-11")));
    let a = deadline(&staff, "2027-02-19 09:00", 1).await;
    assert_eq!(a["deadline"], "2027-02-20");
    assert_eq!(a["special_days"][0]["name"], "春节调休");
    assert_eq!(a["warnings"], json!([]), "once the admin entered 2027, no provisional warning");
    // The calculator page says the same, with the after-hours rule.
    let r = staff.get("/calendar/deadline?received=2027-02-04+17%3A30&days=1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"deadline\">2027-02-11<") && html.contains("17:00 以后收件"));

    // The year API marks the admin's days; PUT and POST upsert through the same operation.
    let r = admin
        .client
        .put(admin.url("/api/v1/calendar/days"))
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"date": "2027-10-09", "kind": "work", "name": "国庆节调休"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .post_json("/api/v1/calendar/days", &json!({"date": "2027-02-06", "kind": "休", "name": "春节（除夕后）"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let y: Value = staff.get("/api/v1/calendar?year=2027").await.json().await.unwrap();
    assert_eq!(y["coverage"], "provisional");
    let days = y["days"].as_array().unwrap();
    let day = |d: &str| days.iter().find(|x| x["date"] == d).cloned().unwrap_or(Value::Null);
    assert_eq!(
        (day("2027-10-09")["kind"].as_str(), day("2027-10-09")["source"].as_str()),
        (Some("work"), Some("override"))
    );
    assert_eq!(day("2027-02-06")["replaces"], "休 春节");
    assert_eq!(day("2027-02-05")["source"], "statutory");
    assert_eq!(day("2027-02-20")["updated_by"], "admin");

    // Deleting an override restores the table's rule; deleting it again says there is nothing to delete.
    let r = admin.post_form("/admin/calendar/days/2027-02-20/delete", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/calendar?year=2027&ok=deleted");
    assert_eq!(deadline(&staff, "2027-02-19 09:00", 1).await["deadline"], "2027-02-22");
    let r = admin.post_form("/admin/calendar/days/2027-02-20/delete", &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("没有管理员设置的安排"));

    // Every change is audited, with who did it.
    assert_eq!(audits(&app, "set_calendar_day").await, 4);
    assert_eq!(audits(&app, "delete_calendar_day").await, 1);
    let f = AuditFilter {
        action: Some("set_calendar_day".into()),
        object_id: Some("2027-02-06".into()),
        ..Default::default()
    };
    let row = &app.store.list_audit(&f, 1, 1).await.unwrap().items[0];
    assert_eq!((row.username.as_str(), row.result.as_str()), ("admin", "成功"));
    assert!(row.detail.contains("春节（除夕后）") && row.detail.contains("before"));
    app.cleanup().await;
}
dual!(admin_sets_days_and_deadlines_follow, super::admin_sets_days);

async fn pasted_year(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.login("admin").await;
    let staff = app.login("staff").await;
    let import = |text: &'static str| {
        let admin = &admin;
        async move { admin.post_form("/admin/calendar/import", &[("text", text), ("year", "2027")]).await }
    };

    // Bad lines are refused with the line and a Chinese reason; the text is kept; nothing is written.
    let refused = [
        ("2027-02-09 休 春节\n2027-02-30 休 春节", "第2行：2027年2月没有30日"),
        ("2027-02-09 补 春节", "第1行：类型“补”无法识别"),
        (
            "2027-02-09 休 春节\n2027-02-20 班 春节调休\n2027-02-09 班 春节调休",
            "第3行：日期2027-02-09重复（第1行已设置）",
        ),
        ("2027-02-09 休", "第1行：应为“日期 休或班 名称”三列"),
        ("# 只有注释\n", "请粘贴节假日安排"),
    ];
    for (text, message) in refused {
        let r = import(text).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{text}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{text}: expected {message}");
        assert!(html.contains("整段内容均未写入"));
        let first_line = text.lines().next().unwrap();
        assert!(html.contains(first_line), "the pasted text is shown again");
    }
    // A bad single day: each field's error beside it, typed values kept.
    let r = admin.post_form("/admin/calendar/days", &[("date", "2027-02-30"), ("kind", "x"), ("name", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    for m in ["2027年2月没有30日", "类型“x”无法识别，应为“休”或“班”", "请填写名称", "value=\"2027-02-30\""]
    {
        assert!(html.contains(m), "missing {m}");
    }
    // The API refuses the same way, as problem documents.
    let r = admin.post_json("/api/v1/calendar/days", &json!({"date": "2027-2-3x", "kind": "放", "name": "春节"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert!(p["errors"]["date"].as_str().unwrap().contains("日期格式") && p["errors"]["kind"].is_string());
    let r = staff.get("/api/v1/calendar/deadline?received=2027-02-04%2025:00&days=abc").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert!(p["errors"]["received"].as_str().unwrap().contains("时间格式") && p["errors"]["days"].is_string());
    let r = staff.get("/api/v1/calendar?year=27").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("四位数字"));
    let r = staff.get("/calendar/deadline?received=2027-02-04&days=366").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("工作日数不能超过365"));
    assert!(stored(&app).await.is_empty(), "nothing written");
    assert_eq!(audits(&app, "import_calendar_days").await + audits(&app, "set_calendar_day").await, 0);

    // A whole year pasted from the notice, with comments and tabs: all written, one audit record.
    let text = "# 国务院办公厅关于2027年部分节假日安排的通知\n2027-02-09\t休\t春节\n2027-02-20 班 春节调休\n\n2027-10-04 休 国庆节\n2027-10-09 班 国庆节调休\n";
    let r = admin.post_form("/admin/calendar/import", &[("text", text), ("year", "2027")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/calendar?year=2027&ok=imported&n=4");
    let html = admin.get("/admin/calendar?year=2027&ok=imported&n=4").await.text().await.unwrap();
    assert!(html.contains("已导入 4 个日期") && html.contains("国庆节调休"));
    assert_eq!(stored(&app).await.len(), 4);
    assert_eq!(audits(&app, "import_calendar_days").await, 1);
    let f = AuditFilter { action: Some("import_calendar_days".into()), ..Default::default() };
    let row = &app.store.list_audit(&f, 1, 1).await.unwrap().items[0];
    assert_eq!(row.object_id, "2027-02-09..2027-10-09");
    assert!(row.detail.contains("2027-10-09 班 国庆节调休"));
    assert_eq!(deadline(&staff, "2027-10-08 10:00", 1).await["deadline"], "2027-10-09");
    // Pasting again replaces; a failing paste leaves the earlier one untouched.
    let r = admin.post_form("/admin/calendar/import", &[("text", "2027-02-20 休 春节\n2027-13-01 休 x")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(stored(&app).await.contains(&"2027-02-20 班 春节调休 admin".to_string()));
    app.cleanup().await;
}
dual!(pasted_year_all_or_nothing, super::pasted_year);

async fn only_the_system_admin(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    for user in ["staff", "leader", "secadmin", "auditor", "ent_a"] {
        let s = app.login(user).await;
        assert_eq!(s.get("/admin/calendar?year=2027").await.status(), StatusCode::FORBIDDEN, "{user}");
        let day = [("date", "2027-02-20"), ("kind", "班"), ("name", "春节调休")];
        assert_eq!(s.post_form("/admin/calendar/days", &day).await.status(), StatusCode::FORBIDDEN, "{user}");
        let text = [("text", "2027-02-20 班 春节调休")];
        assert_eq!(s.post_form("/admin/calendar/import", &text).await.status(), StatusCode::FORBIDDEN, "{user}");
        let r = s.post_form("/admin/calendar/days/2027-02-20/delete", &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user}");
        let body = json!({"date": "2027-02-20", "kind": "班", "name": "春节调休"});
        assert_eq!(s.post_json("/api/v1/calendar/days", &body).await.status(), StatusCode::FORBIDDEN, "{user}");
        // Reading the calendar and the calculator is for everyone signed in.
        assert_eq!(s.get("/calendar/deadline").await.status(), StatusCode::OK, "{user}");
        assert_eq!(s.get("/api/v1/calendar?year=2027").await.status(), StatusCode::OK, "{user}");
    }
    assert!(stored(&app).await.is_empty());
    // The nav shows the calendar to the system admin only.
    let admin = app.login("admin").await;
    assert!(admin.get("/").await.text().await.unwrap().contains("href=\"/admin/calendar\""));
    let staff = app.login("staff").await;
    let home = staff.get("/").await.text().await.unwrap();
    assert!(!home.contains("href=\"/admin/calendar\"") && home.contains("href=\"/calendar/deadline\""));
    app.cleanup().await;
}
dual!(only_the_system_admin_changes_the_calendar, super::only_the_system_admin);
