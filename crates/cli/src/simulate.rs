//! `dianxiaoer simulate gas`, and the simulator the demo runs against its own MQTT listener.

use crate::config::SimulateGas;
use dianxiaoer_gas::ClockFn;
use dianxiaoer_gas::mqtt::client::BrokerUrl;
use dianxiaoer_gas::simulate::{Sent, Simulator, from_store, http_post, mqtt_publisher, run};
use dianxiaoer_store::{Actor, Store};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn clock() -> ClockFn {
    Arc::new(crate::now_ms)
}

/// Runs the simulator as the command line asks, printing progress every ten seconds.
pub async fn gas(store: &Store, a: &SimulateGas) -> Result<(), String> {
    let rows = store.engine_detectors(None).await.map_err(|e| e.to_string())?;
    let mut detectors = from_store(&rows);
    if detectors.is_empty() {
        return Err("没有可模拟的探测器：请先登记探测器（“气体探测器”页面或 Excel 导入）".into());
    }
    if detectors.len() < a.detectors {
        eprintln!("只登记了 {} 个在用探测器，按 {} 个模拟。", detectors.len(), detectors.len());
    }
    detectors.truncate(a.detectors);
    if let Some(rate) = a.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err("--rate 应为正数（每秒读数）".into());
        }
        let period = (detectors.len() as f64 * 1000.0 / rate).max(1.0) as i64;
        for d in &mut detectors {
            d.period_ms = period;
        }
    }
    let n = detectors.len();
    let transport = match &a.http {
        Some(base) => {
            let key = a.api_key.as_deref().ok_or("HTTP 方式需要 --api-key（可报送读数的账号的 API 密钥）")?;
            http_post(base, key, a.batch)?
        }
        None => {
            let url = BrokerUrl::parse(a.mqtt.as_deref().unwrap_or("mqtt://127.0.0.1:1883"))?;
            mqtt_publisher(&url, a.api_key.as_deref(), a.batch, "dianxiaoer-simulator")
        }
    };
    let sim = Simulator::new(detectors, a.leaks, a.offline_per_hour, a.seed, crate::now_ms());
    let until = a.duration.map(|s| crate::now_ms() + s as i64 * 1000);
    let sent = Arc::new(Sent::default());
    let progress = sent.clone();
    let reporter = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        tick.tick().await;
        loop {
            tick.tick().await;
            println!(
                "已发送 {} 条读数，{} 条消息，失败 {}",
                progress.readings.load(Ordering::Relaxed),
                progress.messages.load(Ordering::Relaxed),
                progress.failed.load(Ordering::Relaxed)
            );
        }
    });
    println!("模拟 {n} 个探测器，同时泄漏 {} 处；按 Ctrl+C 停止。", a.leaks);
    run(sim, transport, clock(), until, sent.clone()).await;
    reporter.abort();
    // Let the MQTT client hand over what it still holds.
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "结束：共发送 {} 条读数，{} 条消息，失败 {}",
        sent.readings.load(Ordering::Relaxed),
        sent.messages.load(Ordering::Relaxed),
        sent.failed.load(Ordering::Relaxed)
    );
    Ok(())
}

/// The account and key name the demo's simulator feeds readings as.
const DEMO_FEEDER: &str = "staff";
const DEMO_KEY_NAME: &str = "演示气体模拟器";

/// Starts the demo's simulator against its own MQTT listener: every demo detector, one leak at a
/// time, a few devices dropping offline an hour. Its API key is made afresh at each start (the
/// previous one revoked), so no key is kept anywhere but in this process.
pub async fn demo(store: &Store, listener: std::net::SocketAddr) -> Result<(), String> {
    let e = |x: dianxiaoer_store::Error| x.to_string();
    let Some(user) = store.user_by_username(DEMO_FEEDER).await.map_err(e)? else { return Ok(()) };
    let now = crate::now_ms();
    let actor = Actor::cli();
    for k in store.list_api_keys(user.id).await.map_err(e)? {
        if k.name == DEMO_KEY_NAME && k.revoked_at.is_none() {
            store.revoke_api_key(&actor, user.id, k.id, now).await.map_err(e)?;
        }
    }
    let key = format!("dxe_{}", dianxiaoer_store::sessions::random_token(24));
    store.create_api_key(&actor, user.id, DEMO_KEY_NAME, &key, now).await.map_err(e)?;
    let rows = store.engine_detectors(None).await.map_err(e)?;
    let detectors = from_store(&rows);
    let n = detectors.len();
    let url = BrokerUrl::parse(&format!("mqtt://{listener}"))?;
    let transport = mqtt_publisher(&url, Some(&key), 100, "dianxiaoer-demo-simulator");
    let sim = Simulator::new(detectors, 1, 6.0, now as u64, now);
    tokio::spawn(run(sim, transport, clock(), None, Arc::new(Sent::default())));
    println!("气体模拟器：{n} 个探测器经 MQTT 实时报送读数（每次一处泄漏，偶有设备离线）。");
    let (tag, secret) = crate::demo::DEMO_DEVICE;
    println!(
        "  自行接入试用：mosquitto_pub -h {} -p {} -u {tag} -P {secret} -t v1/devices/me/telemetry -m '{{\"h2s\": 3.2}}'",
        listener.ip(),
        listener.port()
    );
    Ok(())
}
