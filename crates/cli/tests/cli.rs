//! The binary as an operator uses it: start-up checks, migrate, user, audit verify, backup, demo, metrics,
//! graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dianxiaoer");
const SECRET: &str = "4f1c9a7e2b8d6053a1e4c7f9b2d8e6a0";

fn dxe(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).env_remove("DXE_DATABASE_URL").env_remove("DXE_SESSION_SECRET").env("DXE_LOG", "warn");
    c
}

fn out(c: &mut Command) -> (i32, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
    )
}

/// Starts a server and returns it with its base URL, read from the "已启动" line.
fn start(mut c: Command) -> (Child, String) {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("店小二已启动：") {
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).expect("server started");
    (child, url)
}

fn get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn stop(mut child: Child) -> i32 {
    terminate(child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(pid: u32) {
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
}

#[test]
fn serve_refuses_missing_weak_secrets_and_unknown_urls() {
    let dir = dianxiaoer_testkit::temp_dir();
    let (code, text) = out(dxe(&dir.0).arg("serve"));
    assert_eq!(code, 2);
    assert!(text.contains("未设置会话密钥"), "{text}");
    let (code, text) = out(dxe(&dir.0).arg("serve").env("DXE_SESSION_SECRET", "changeme-changeme-changeme-changeme"));
    assert_eq!(code, 2);
    assert!(text.contains("会话密钥太弱"), "{text}");
    let (code, text) = out(dxe(&dir.0).args(["migrate", "--database-url", "mysql://x@y/z"]));
    assert_eq!(code, 2);
    assert!(text.contains("不支持的数据库类型“mysql”"), "{text}");
    let (code, text) = out(dxe(&dir.0).args(["migrate", "--database-url", "sqlite://"]));
    assert_eq!(code, 2);
    assert!(text.contains("缺少文件路径"), "{text}");
}

#[test]
fn migrate_user_and_audit_verify_catch_tampering() {
    let dir = dianxiaoer_testkit::temp_dir();
    let (code, text) = out(dxe(&dir.0).arg("migrate"));
    assert_eq!(code, 0, "{text}");
    // Every migration file of the store applies to a new database.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../store/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .count();
    assert!(text.contains(&format!("已应用 {migrations} 个迁移")) && text.contains("创建数据库文件"), "{text}");
    let (_, text) = out(dxe(&dir.0).arg("migrate"));
    assert!(text.contains("已应用 0 个迁移"), "{text}");
    let (code, text) =
        out(dxe(&dir.0).args(["user", "add", "--username", "sys", "--name", "系统管理员", "--role", "system_admin"]));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("初始密码：") && text.contains("绑定动态口令"), "{text}");
    let (code, text) = out(dxe(&dir.0).args(["user", "add", "--username", "sys", "--name", "x", "--role", "leader"]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("用户名已存在"));
    for args in [
        ["user", "disable", "--username", "sys"],
        ["user", "enable", "--username", "sys"],
        ["user", "reset-password", "--username", "sys"],
        ["user", "end-sessions", "--username", "sys"],
    ] {
        let (code, text) = out(dxe(&dir.0).args(args));
        assert_eq!(code, 0, "{args:?}: {text}");
    }
    let (code, text) = out(dxe(&dir.0).args(["audit", "verify"]));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("审计链完整：已检查 5 条记录"), "{text}");

    // Edit record 3 directly in the database file.
    let db = dir.0.join("dianxiaoer.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::raw_sql("UPDATE audit_log SET result = '失败' WHERE seq = 3").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    });
    let (code, text) = out(dxe(&dir.0).args(["audit", "verify"]));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("第一条有问题的记录：序号 3"), "{text}");
    let (code, text) = out(dxe(&dir.0).args(["audit", "prune", "--older-than-days", "30"]));
    assert_eq!(code, 2);
    assert!(text.contains("至少保留 180 天"), "{text}");
}

#[test]
fn demo_backup_metrics_and_graceful_shutdown() {
    let dir = dianxiaoer_testkit::temp_dir();
    // The demo starts even when its port is taken (here by a listener of ours).
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mport = metrics.local_addr().unwrap().port();
    drop(metrics);
    let mut c = dxe(&dir.0);
    c.args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--metrics-listen", &format!("127.0.0.1:{mport}")]);
    let (child, url) = start(c);
    assert_ne!(url, format!("http://127.0.0.1:{port}"));
    assert_eq!(get(&format!("{url}/readyz")), (200, "ready".into()));
    let (status, page) = get(&format!("{url}/login"));
    assert_eq!(status, 200);
    assert!(page.contains("演示环境") && page.contains("Demo@2026"));
    let (status, m) = get(&format!("http://127.0.0.1:{mport}/metrics"));
    assert_eq!(status, 200);
    assert!(m.contains("dxe_http_requests_total") && m.contains("dxe_gas_ingest_all_total"), "{m}");
    let (status, g) = get(&format!("http://127.0.0.1:{mport}/metrics/gas"));
    assert_eq!(status, 200);
    assert!(g.contains("dxe_gas_ingest_all_total{result=\"accepted\"}") && !g.contains("dxe_http"), "{g}");
    let (status, _) = get(&format!("{url}/metrics"));
    assert_eq!(status, 404, "metrics are not on the public listener");
    let (status, _) = get(&format!("{url}/metrics/gas"));
    assert_eq!(status, 404);
    // A consistent copy while serving.
    let copy = dir.0.join("copy.db");
    let (code, text) = out(dxe(&dir.0).args([
        "backup",
        "--out",
        copy.to_str().unwrap(),
        "--database-url",
        &format!("sqlite://{}", dir.0.join("demo.db").display()),
    ]));
    assert_eq!(code, 0, "{text}");
    let (code, text) =
        out(dxe(&dir.0).args(["audit", "verify", "--database-url", &format!("sqlite://{}", copy.display())]));
    assert_eq!(code, 0, "the copy is a working database: {text}");
    let (code, text) = out(dxe(&dir.0).args([
        "backup",
        "--out",
        copy.to_str().unwrap(),
        "--database-url",
        &format!("sqlite://{}", dir.0.join("demo.db").display()),
    ]));
    assert_eq!(code, 2);
    assert!(text.contains("备份文件已存在"));
    assert_eq!(stop(child), 0, "SIGTERM stops the server cleanly");
    drop(taken);
}

#[test]
fn serve_with_a_strong_secret_and_backup_on_postgres() {
    let dir = dianxiaoer_testkit::temp_dir();
    let mut c = dxe(&dir.0);
    c.args(["serve", "--listen", "127.0.0.1:0"]).env("DXE_SESSION_SECRET", SECRET);
    let (child, url) = start(c);
    assert_eq!(get(&format!("{url}/healthz")).0, 200);
    let (status, page) = get(&format!("{url}/login"));
    assert_eq!(status, 200);
    assert!(!page.contains("演示环境"), "not a demo");
    assert_eq!(stop(child), 0);
    let Some(server) = dianxiaoer_testkit::postgres_url() else { return };
    let (code, text) = out(dxe(&dir.0).args(["backup", "--out", "/tmp/x.db", "--database-url", &server]));
    assert_eq!(code, 2);
    assert!(text.contains("pg_dump"), "{text}");
}
