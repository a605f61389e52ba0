//! The dianxiaoer binary: serve, demo, migrate, user, audit, backup.

mod bench_approval;
mod bench_gas;
mod bench_gas_latency;
mod bench_revenue;
mod config;
mod demo;
mod demo_aftercare;
mod demo_approval;
mod demo_data;
mod demo_projects;
mod demo_revenue;
mod gasrun;
mod simulate;
mod usercmd;

use clap::Parser;
use config::{AuditCommand, Cli, Command, Global, ServeArgs, SimulateCommand};
use dianxiaoer_store::{Actor, DatabaseUrl, Keys, Store};
use dianxiaoer_web::{AppState, SystemClock, WebConfig};
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DXE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The database URL in force, and a note when the default SQLite file is created.
fn database_url(g: &Global, default_file: &str) -> Result<DatabaseUrl, String> {
    let raw = match &g.database_url {
        Some(u) => u.clone(),
        None => {
            let path = g.data_dir.join(default_file);
            if !path.exists() {
                eprintln!("创建数据库文件 {}", path.display());
            }
            let abs = std::path::absolute(&path).map_err(|e| e.to_string())?;
            format!("sqlite://{}", abs.display())
        }
    };
    DatabaseUrl::parse(&raw).map_err(|e| e.to_string())
}

/// The wrapping secret of the demo's seal keys when neither DXE_SEAL_KEY nor DXE_SESSION_SECRET is
/// given: the demo's session secret is random per run, and its seal must still sign after a restart.
/// Demo data only, like the demo's published passwords.
const DEMO_SEAL_SECRET: &str = "dianxiaoer-demo-seal-wrapping-secret-not-for-production";

/// The seal's wrapping secret: DXE_SEAL_KEY, else the session secret.
fn keys(g: &Global, session_secret: Option<String>) -> Keys {
    let seal = g.seal_key.clone().filter(|k| !k.is_empty()).or_else(|| session_secret.clone());
    Keys {
        audit: g.audit_key.clone().filter(|k| !k.is_empty()).map(String::into_bytes),
        token: session_secret.map(String::into_bytes),
        seal: seal.map(String::into_bytes),
    }
}

/// Refuses a weak secret (security.md: start-up refuses weak or default secrets).
fn check_strength(what: &str, s: &str) -> Result<(), String> {
    let distinct = s.chars().collect::<std::collections::BTreeSet<_>>().len();
    let lower = s.to_lowercase();
    let known = ["changeme", "secret", "password", "dianxiaoer", "123456", "default"];
    if s.chars().count() < 32 || distinct < 10 || known.iter().any(|k| lower.contains(k)) {
        return Err(format!("{what}太弱：须至少 32 个字符、足够随机，且不含常见默认词"));
    }
    Ok(())
}

/// Refuses a missing or weak session secret, and a weak seal secret, outside demo mode.
fn check_secret(g: &Global) -> Result<String, String> {
    let Some(s) = g.session_secret.as_deref() else {
        return Err("未设置会话密钥：请用 --session-secret 或环境变量 DXE_SESSION_SECRET 提供至少 32 个字符的随机字符串（例如 openssl rand -hex 32 的输出）".into());
    };
    check_strength("会话密钥", s)?;
    if let Some(seal) = g.seal_key.as_deref().filter(|k| !k.is_empty()) {
        check_strength("印章密钥保护口令（DXE_SEAL_KEY）", seal)?;
    }
    Ok(s.to_string())
}

async fn open(g: &Global, default_file: &str, session_secret: Option<String>) -> Result<Store, String> {
    let url = database_url(g, default_file)?;
    tracing::info!(database = %url.redacted(), backend = url.backend().name(), "opening database");
    Store::open(&url, keys(g, session_secret)).await.map_err(|e| e.to_string())
}

fn now_ms() -> i64 {
    use dianxiaoer_web::Clock;
    SystemClock.now_ms()
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let g = cli.global;
    match cli.command {
        Command::Serve(args) => {
            let secret = check_secret(&g)?;
            let store = open(&g, "dianxiaoer.db", Some(secret)).await?;
            store.seed_reference(now_ms()).await.map_err(|e| e.to_string())?;
            serve(store, &args, false).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { serve: args, scale, no_serve } => {
            let mut g = g;
            if g.seal_key.as_deref().is_none_or(str::is_empty) {
                g.seal_key = Some(g.session_secret.clone().unwrap_or_else(|| DEMO_SEAL_SECRET.to_owned()));
            }
            let secret = g.session_secret.clone().unwrap_or_else(dianxiaoer_store::sessions::random_demo_secret);
            let store = open(&g, "demo.db", Some(secret)).await?;
            demo::ensure(&store, scale, now_ms()).await?;
            demo::print_logins(&store).await?;
            if !no_serve {
                serve(store, &args, true).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchApprovalData { cases, open: open_cases } => {
            let store = open(&g, "demo.db", None).await?;
            bench_approval::write(&store, cases, open_cases, now_ms()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchEscalation { runs } => {
            let store = open(&g, "demo.db", None).await?;
            bench_approval::escalate(&store, runs, now_ms()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchRevenueData { year, out } => {
            let store = open(&g, "demo.db", None).await?;
            bench_revenue::write(&store, year, &out).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchGasData { detectors } => {
            let store = open(&g, "demo.db", None).await?;
            bench_gas::register(&store, detectors, now_ms()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchGasPublish(a) => {
            bench_gas::publish(&a).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchGasLatency(a) => {
            bench_gas_latency::run(&a).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let url = database_url(&g, "dianxiaoer.db")?;
            let store = Store::connect(&url, Keys::default()).await.map_err(|e| e.to_string())?;
            let n = store.migrate().await.map_err(|e| e.to_string())?;
            println!("已应用 {n} 个迁移（{}）", url.backend().name());
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => {
            let store = open(&g, "dianxiaoer.db", g.session_secret.clone()).await?;
            store.seed_reference(now_ms()).await.map_err(|e| e.to_string())?;
            usercmd::run(&store, cmd, now_ms()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = open(&g, "dianxiaoer.db", None).await?;
            let report = store.verify_audit_chain().await.map_err(|e| e.to_string())?;
            match report.problem {
                None => {
                    println!("审计链完整：已检查 {} 条记录。", report.checked);
                    Ok(ExitCode::SUCCESS)
                }
                Some(p) => {
                    println!("审计链校验未通过：{p}");
                    if let Some(seq) = report.first_bad_seq {
                        println!("第一条有问题的记录：序号 {seq}");
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Audit(AuditCommand::Prune { older_than_days }) => {
            let store = open(&g, "dianxiaoer.db", None).await?;
            let now = now_ms();
            let n = store
                .prune_audit(&Actor::cli(), now - older_than_days * 86_400_000, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("已清理 {n} 条审计记录；审计链锚点已更新。");
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(SimulateCommand::Gas(a)) => {
            let store = open(&g, "dianxiaoer.db", None).await?;
            simulate::gas(&store, &a).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { out } => {
            if database_url(&g, "dianxiaoer.db")?.backend() != dianxiaoer_store::Backend::Sqlite {
                return Err(
                    "PostgreSQL 数据库请使用 pg_dump 备份，例如：pg_dump -Fc -f dianxiaoer.dump <数据库URL>".into()
                );
            }
            let store = open(&g, "dianxiaoer.db", None).await?;
            store.backup_sqlite(&out).await.map_err(|e| e.to_string())?;
            println!("已备份到 {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(store: Store, args: &ServeArgs, demo: bool) -> Result<(), String> {
    let retention =
        dianxiaoer_core::gas::retention::Retention::new(args.gas_raw_retention_days, args.gas_minute_retention_days)
            .map_err(|e| e.to_string())?;
    let config = WebConfig {
        secure_cookies: args.behind_tls_proxy,
        trust_proxy: args.trust_proxy,
        demo,
        body_limit: args.body_limit,
    };
    let state = AppState::new(store.clone(), Arc::new(SystemClock), config).await.map_err(|e| e.to_string())?;
    // The gas alarm engine: the HTTP ingest feeds its channel, and its ticker runs the time-based
    // rules (offline, escalation, reminders) every second.
    let gas = dianxiaoer_gas::start(store.clone(), state.clock_fn(), dianxiaoer_gas::Options::default())
        .await
        .map_err(|e| format!("无法启动气体报警引擎：{e}"))?;
    let mqtt = gasrun::start(args, demo, &gas, &store, &state.clock_fn()).await?;
    if demo && let Some(addr) = mqtt {
        simulate::demo(&store, addr).await?;
    }
    let leading = gas.leading();
    let state = state.with_gas(gas);
    // Gas readings retention: PostgreSQL's daily partitions ahead, then raw readings and minute
    // aggregates past their retention, when this instance starts leading and hourly while it leads
    // (store: gas_retention).
    let every = dianxiaoer_gas::retention::EVERY;
    dianxiaoer_gas::retention::spawn(store.clone(), state.clock_fn(), retention, every, leading);
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) if demo && e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!("端口 {} 已被占用，改用一个空闲端口。", args.listen);
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?
        }
        Err(e) => return Err(format!("无法监听 {}：{e}", args.listen)),
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if let Some(m) = &args.metrics_listen {
        let ml = tokio::net::TcpListener::bind(m).await.map_err(|e| format!("无法监听 {m}：{e}"))?;
        let app = dianxiaoer_web::metrics_app(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum_serve(ml, app).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    let warm = store.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_registry_index().await {
            tracing::warn!(error = %e, "could not build the registry list index ahead of time");
        }
    });
    let janitor_store = store.clone();
    let janitor_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let p = janitor_state.policy();
            let now = now_ms();
            let idle = i64::from(p.idle_timeout_minutes) * 60_000;
            let abs = i64::from(p.absolute_timeout_minutes) * 60_000;
            if let Err(e) = janitor_store.prune_sessions(now, idle, abs).await {
                tracing::warn!(error = %e, "session pruning failed");
            }
        }
    });
    // 超期督办 and 容缺 auto-termination every minute, on the app's clock (store: approval_escalation),
    // run by the leading instance only.
    let escalation_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            // One instance escalates: the leader (crates/gas: leadership by advisory lock).
            if !escalation_state.gas.as_ref().is_some_and(|g| g.engine().is_leading()) {
                continue;
            }
            if let Err(e) = escalation_state.store.escalate_overdue(escalation_state.now()).await {
                tracing::warn!(error = %e, "approval escalation failed");
            }
        }
    });
    println!("店小二已启动：http://{addr}/");
    tracing::info!(%addr, "listening");
    let gas = state.gas.clone();
    dianxiaoer_web::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())?;
    // States the engine saves only every so often (dianxiaoer_gas::SAVE_EVERY_MS), saved now.
    if let Some(gas) = gas {
        match gas.engine().save_pending().await {
            Ok(n) => tracing::info!(states = n, "gas engine states saved"),
            Err(e) => tracing::warn!(error = %e, "saving the gas engine's states at shutdown failed"),
        }
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn axum_serve(l: tokio::net::TcpListener, app: dianxiaoer_web::Router) -> std::io::Result<()> {
    dianxiaoer_web::serve_router(l, app).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
