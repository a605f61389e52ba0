//! Data and load for `benches/gas.sh` (issue 6, Measure): bench detectors registered in bulk, and a
//! publisher that sustains 100,000 readings a second — MQTT 3.1.1 written by hand on plain sockets,
//! several connections, payloads formatted into one reused buffer, QoS 1 with the broker's PUBACKs
//! counted — where the simulator (`simulate gas`) models each reading and pays for it.
//!
//! Bench detectors are `BENCH-000000`… (combustible gas, 0–100 %LEL, the GB/T 50493-2019 default
//! set-points 25 / 50 %LEL). Their reporting interval is an hour, so that none goes offline while a
//! benchmark feeds only some of them. The first [`LEAK_DETECTORS`] belong to the lowest-id park
//! enterprise, so that the live monitor's event stream (the first 5,000 detectors by enterprise and
//! tag) covers them: the latency probe leaks on those.

use dianxiaoer_core::gas::{DetectorConfig, DetectorSettings, Gas, MeasuringRange, Tag};
use dianxiaoer_store::{Actor, Store};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Detectors reserved for the latency probe (see the module's docs).
pub const LEAK_DETECTORS: usize = 64;

/// The tag of bench detector `i`.
pub fn tag(i: usize) -> String {
    format!("BENCH-{i:06}")
}

/// Registers `n` bench detectors over the chemical-park enterprises of a demo database.
pub async fn register(store: &Store, n: usize, now: i64) -> Result<(), String> {
    let e = |x: dianxiaoer_store::Error| x.to_string();
    let filter = dianxiaoer_store::EnterpriseFilter { project_area: Some("lushan".into()), ..Default::default() };
    let park = store.list_enterprises(&dianxiaoer_core::access::Scope::Zone, &filter, 1, 12).await.map_err(e)?;
    let mut ids: Vec<i64> = park.items.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    if ids.is_empty() {
        return Err("没有化工园区企业：请先运行 dianxiaoer demo --no-serve".into());
    }
    let settings = DetectorSettings { interval_ms: 3_600_000, ..DetectorSettings::default() };
    let range = MeasuringRange::new(0.0, 100.0).map_err(|x| x.message)?;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let tag = tag(i);
        let cfg = DetectorConfig::new(
            Tag::parse(&tag).map_err(|x| x.message)?,
            Gas::Combustible,
            Gas::Combustible.default_unit(),
            range,
            &settings,
        )
        .map_err(|x| x.message)?;
        let enterprise_id = if i < LEAK_DETECTORS { ids[0] } else { ids[i % ids.len()] };
        rows.push(dianxiaoer_store::DetectorInput {
            enterprise_id,
            tag,
            name: format!("基准测试可燃气体探测器{}", i + 1),
            location: String::new(),
            plant_area: "装置区".into(),
            position: None,
            spec: dianxiaoer_gas::spec::spec(&cfg, &settings),
            status: "active".into(),
            device_secret: None,
        });
    }
    let started = Instant::now();
    store.insert_detectors_bulk(&Actor::cli(), &rows, now).await.map_err(e)?;
    eprintln!("登记 {n} 个基准测试探测器：{} ms", started.elapsed().as_millis());
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct PublishArgs {
    /// The MQTT broker, host:port.
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub broker: String,
    /// Bench detectors fed: BENCH-<first> … BENCH-<first + detectors − 1>, in turn.
    #[arg(long)]
    pub detectors: usize,
    #[arg(long, default_value_t = LEAK_DETECTORS)]
    pub first: usize,
    /// Readings per message: 1 sends our own format on dxe/v1/readings, more a ThingsBoard gateway
    /// payload on dxe/v1/gateway/telemetry.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Readings per second in all; 0: as fast as the broker acknowledges.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Stop after this many readings per detector (0: when --seconds are over).
    #[arg(long, default_value_t = 0)]
    pub rounds: u64,
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Put before the topic, so that a bare subscriber gets the messages and the application not.
    #[arg(long, default_value = "")]
    pub topic_prefix: String,
    /// The application's metrics listener (host:port): wait until it has stored what was published,
    /// and hold publishing while more than --max-lag readings wait.
    #[arg(long)]
    pub metrics: Option<String>,
    #[arg(long, default_value_t = 400_000)]
    pub max_lag: u64,
}

/// MQTT's remaining-length encoding.
fn remaining_length(buf: &mut Vec<u8>, mut n: usize) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        buf.push(b);
        if n == 0 {
            break;
        }
    }
}

/// Connects with a clean session and no keep-alive, and waits for the CONNACK.
pub async fn mqtt_connect(broker: &str, client_id: &str) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(broker).await.map_err(|e| format!("无法连接 MQTT {broker}：{e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 0];
    body.extend_from_slice(&(client_id.len() as u16).to_be_bytes());
    body.extend_from_slice(client_id.as_bytes());
    let mut p = vec![0x10];
    remaining_length(&mut p, body.len());
    p.extend_from_slice(&body);
    s.write_all(&p).await.map_err(|e| e.to_string())?;
    let mut ack = [0u8; 4];
    s.read_exact(&mut ack).await.map_err(|e| e.to_string())?;
    if ack[0] != 0x20 || ack[3] != 0 {
        return Err(format!("MQTT 连接被拒绝：{ack:?}"));
    }
    Ok(s)
}

/// Appends a QoS 1 PUBLISH of `payload` on `topic`.
pub fn publish_packet(buf: &mut Vec<u8>, topic: &str, payload: &[u8], packet_id: u16) {
    buf.push(0x32);
    remaining_length(buf, 2 + topic.len() + 2 + payload.len());
    buf.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    buf.extend_from_slice(topic.as_bytes());
    buf.extend_from_slice(&packet_id.to_be_bytes());
    buf.extend_from_slice(payload);
}

/// Reads packets until the connection closes, counting PUBACKs.
pub async fn count_acks<R: AsyncReadExt + Unpin>(mut r: R, acked: Arc<AtomicU64>) {
    let mut buf = tokio::io::BufReader::with_capacity(64 * 1024, &mut r);
    loop {
        let Ok(head) = buf.read_u8().await else { return };
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let Ok(b) = buf.read_u8().await else { return };
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let mut rest = vec![0u8; len];
        if buf.read_exact(&mut rest).await.is_err() {
            return;
        }
        if head >> 4 == 4 {
            acked.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A clean-air value of a combustible-gas detector, 1.00–2.99 %LEL, varied by detector and round.
fn clean_value(d: usize, round: u64) -> (u64, u64) {
    let h = (d as u64).wrapping_mul(7).wrapping_add(round.wrapping_mul(13)) % 200;
    (1 + h / 100, h % 100)
}

/// One connection's share of the plan.
struct Share {
    lo: usize,
    n: usize,
    rate: f64,
}

#[derive(Default)]
struct Totals {
    readings: AtomicU64,
    messages: AtomicU64,
    acked: AtomicU64,
}

/// Most messages a connection has sent and the broker not yet acknowledged.
const WINDOW: u64 = 20_000;

async fn feed(
    a: Arc<PublishArgs>,
    s: Share,
    c: usize,
    ts_base: i64,
    until: Instant,
    hold: Arc<AtomicBool>,
    t: Arc<Totals>,
) -> Result<(), String> {
    let conn = mqtt_connect(&a.broker, &format!("dxe-bench-pub-{}-{c}", std::process::id())).await?;
    let (r, mut w) = conn.into_split();
    let acked = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn(count_acks(r, acked.clone()));
    let topic = if a.batch == 1 {
        format!("{}dxe/v1/readings", a.topic_prefix)
    } else {
        format!("{}dxe/v1/gateway/telemetry", a.topic_prefix)
    };
    let started = Instant::now();
    let (mut pos, mut round, mut readings, mut messages) = (0usize, 0u64, 0u64, 0u64);
    let mut counted = (0u64, 0u64);
    let mut buf: Vec<u8> = Vec::with_capacity(256 * 1024);
    let mut payload: Vec<u8> = Vec::with_capacity(16 * 1024);
    while Instant::now() < until {
        let allowed = if s.rate > 0.0 { (s.rate * started.elapsed().as_secs_f64()) as u64 } else { u64::MAX };
        buf.clear();
        if a.rounds > 0 && round >= a.rounds {
            break;
        }
        while readings < allowed
            && (a.rounds == 0 || round < a.rounds)
            && buf.len() < 128 * 1024
            && messages - acked.load(Ordering::Relaxed) < WINDOW
            && !hold.load(Ordering::Relaxed)
        {
            payload.clear();
            payload.extend_from_slice(if a.batch == 1 { b"{\"readings\":[" } else { b"{" });
            // A message ends with the round, so that a gateway payload names each detector once.
            let mut k = 0;
            while k < a.batch {
                let d = s.lo + pos;
                let (int, frac) = clean_value(d, round);
                let ts = ts_base + round as i64;
                let sep = if k == 0 { "" } else { "," };
                let _ = if a.batch == 1 {
                    write!(payload, "{{\"tag\":\"BENCH-{d:06}\",\"ts\":{ts},\"value\":{int}.{frac:02}}}")
                } else {
                    write!(payload, "{sep}\"BENCH-{d:06}\":[{{\"ts\":{ts},\"values\":{{\"value\":{int}.{frac:02}}}}}]")
                };
                k += 1;
                pos += 1;
                if pos == s.n {
                    pos = 0;
                    round += 1;
                    break;
                }
            }
            payload.extend_from_slice(if a.batch == 1 { b"]}" } else { b"}" });
            messages += 1;
            readings += k as u64;
            publish_packet(&mut buf, &topic, &payload, (messages % 65_535 + 1) as u16);
        }
        if buf.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        w.write_all(&buf).await.map_err(|e| format!("MQTT 发送失败：{e}"))?;
        t.readings.fetch_add(readings - counted.0, Ordering::Relaxed);
        t.messages.fetch_add(messages - counted.1, Ordering::Relaxed);
        counted = (readings, messages);
    }
    let wait = Instant::now();
    while acked.load(Ordering::Relaxed) < messages && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    t.acked.fetch_add(acked.load(Ordering::Relaxed), Ordering::Relaxed);
    let _ = w.shutdown().await;
    reader.abort();
    Ok(())
}

/// The application's count of stored readings, from its metrics listener.
pub async fn stored(metrics: &str) -> Result<u64, String> {
    let mut s = TcpStream::connect(metrics).await.map_err(|e| format!("无法连接 {metrics}：{e}"))?;
    let req = format!("GET /metrics/gas HTTP/1.1\r\nHost: {metrics}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).await.map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix("dxe_gas_ingest_all_total{result=\"accepted\"} "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("{metrics} 没有 dxe_gas_ingest_all_total"))
}

/// Publishes as `a` asks and prints one line of `key=value` figures.
pub async fn publish(a: &PublishArgs) -> Result<(), String> {
    if a.detectors == 0 || a.batch == 0 || a.connections == 0 {
        return Err("--detectors、--batch、--connections 应为正数".into());
    }
    let a = Arc::new(a.clone());
    let base = match &a.metrics {
        Some(m) => stored(m).await?,
        None => 0,
    };
    // Timestamps advance 1 ms per round over the detectors, so a run's readings stay behind the
    // clock (at most 1,000 readings a second per detector) and never meet an earlier run's.
    let ts_base = crate::now_ms();
    let started = Instant::now();
    let until = started + Duration::from_secs(a.seconds);
    let hold = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Totals::default());
    let per = a.detectors.div_ceil(a.connections);
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let lo = c * per;
        let n = per.min(a.detectors.saturating_sub(lo));
        if n == 0 {
            continue;
        }
        let share = Share { lo: a.first + lo, n, rate: a.rate as f64 * n as f64 / a.detectors as f64 };
        tasks.push(tokio::spawn(feed(a.clone(), share, c, ts_base, until, hold.clone(), totals.clone())));
    }
    let watcher = a.metrics.clone().map(|m| {
        let (hold, totals, max_lag) = (hold.clone(), totals.clone(), a.max_lag);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let Ok(n) = stored(&m).await else { continue };
                let waiting = totals.readings.load(Ordering::Relaxed).saturating_sub(n.saturating_sub(base));
                hold.store(waiting > max_lag, Ordering::Relaxed);
            }
        })
    });
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    if let Some(w) = watcher {
        w.abort();
    }
    let publish_s = started.elapsed().as_secs_f64();
    let (readings, messages, acked) = (
        totals.readings.load(Ordering::Relaxed),
        totals.messages.load(Ordering::Relaxed),
        totals.acked.load(Ordering::Relaxed),
    );
    let mut line = format!(
        "published_readings={readings} messages={messages} acked={acked} publish_s={publish_s:.3} publish_rate={:.0}",
        readings as f64 / publish_s
    );
    if let Some(m) = &a.metrics {
        let (mut last, mut last_change) = (0, Instant::now());
        let done = loop {
            let n = stored(m).await?.saturating_sub(base);
            if n >= readings {
                break n;
            }
            if n != last {
                (last, last_change) = (n, Instant::now());
            } else if last_change.elapsed() > Duration::from_secs(60) {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let stored_s = started.elapsed().as_secs_f64();
        line.push_str(&format!(
            " stored_readings={done} stored_s={stored_s:.3} stored_rate={:.0}",
            done as f64 / stored_s
        ));
    }
    println!("{line}");
    Ok(())
}
