//! The alarm latency probe of `benches/gas.sh`: from the publication of a leak reading over MQTT to
//! its alarm event on the live monitor's event stream (`/gas/monitor/events`), measured on one
//! clock in one process. One leak at a time, in turn on the bench's leak detectors, each followed by
//! three clean readings that clear it, so that the next leak on the same detector raises the alarm
//! again (a `repeated` event while the first is open, `raised` otherwise).

use crate::bench_gas::{LEAK_DETECTORS, count_acks, mqtt_connect, publish_packet, tag};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

#[derive(clap::Args, Debug, Clone)]
pub struct LatencyArgs {
    /// The MQTT broker the application consumes from, host:port.
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub broker: String,
    /// The application's web listener, host:port.
    #[arg(long)]
    pub http: String,
    /// The session cookie (`dxe_session=…`) of an account that may read the monitor: the event
    /// stream is a page's, which takes sessions, not API keys.
    #[arg(long, env = "DXE_BENCH_COOKIE", hide_env_values = true)]
    pub cookie: String,
    #[arg(long, default_value_t = 200)]
    pub leaks: usize,
    /// Pause between leaks, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub every_ms: u64,
}

/// How long a leak's alarm may take before it counts as missing.
const GIVE_UP: Duration = Duration::from_secs(5);

/// Reads the event stream, sending (tag, arrival) for each `raised` or `repeated` alarm event.
async fn read_events(mut s: TcpStream, tx: mpsc::UnboundedSender<(String, Instant)>) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let Ok(n) = s.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        let at = Instant::now();
        buf.extend_from_slice(&chunk[..n]);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.strip_prefix("data:") else { continue };
            if !(data.contains("\"event\":\"raised\"") || data.contains("\"event\":\"repeated\"")) {
                continue;
            }
            let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else { continue };
            if let Some(t) = v.get("tag").and_then(|t| t.as_str()) {
                let _ = tx.send((t.to_owned(), at));
            }
        }
    }
}

/// Opens the event stream and waits for the response's head.
async fn open_stream(a: &LatencyArgs) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(&a.http).await.map_err(|e| format!("无法连接 {}：{e}", a.http))?;
    let req = format!(
        "GET /gas/monitor/events HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        a.http, a.cookie
    );
    s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = s.read_u8().await.map_err(|e| format!("事件流：{e}"))?;
        head.push(b);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("事件流未打开：{}", head.lines().next().unwrap_or("")));
    }
    Ok(s)
}

/// The value at quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// Publishes `a.leaks` leaks and prints one line of `key=value` figures.
pub async fn run(a: &LatencyArgs) -> Result<(), String> {
    let stream = open_stream(a).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_events(stream, tx));
    let conn = mqtt_connect(&a.broker, &format!("dxe-bench-latency-{}", std::process::id())).await?;
    let (r, mut w) = conn.into_split();
    let acks = tokio::spawn(count_acks(r, Arc::new(AtomicU64::new(0))));
    let mut last_ts: HashMap<usize, i64> = HashMap::new();
    let mut latencies = Vec::with_capacity(a.leaks);
    let mut missing = 0usize;
    let mut buf = Vec::new();
    for k in 0..a.leaks {
        let d = k % LEAK_DETECTORS;
        let name = tag(d);
        let ts = crate::now_ms().max(last_ts.get(&d).map_or(0, |t| t + 1));
        let leak = format!("{{\"readings\":[{{\"tag\":\"{name}\",\"ts\":{ts},\"value\":60.00}}]}}");
        buf.clear();
        publish_packet(&mut buf, "dxe/v1/readings", leak.as_bytes(), (2 * k % 65_535 + 1) as u16);
        let sent = Instant::now();
        w.write_all(&buf).await.map_err(|e| e.to_string())?;
        let got = tokio::time::timeout(GIVE_UP, async {
            while let Some((t, at)) = rx.recv().await {
                if t == name {
                    return Some(at);
                }
            }
            None
        })
        .await;
        match got {
            Ok(Some(at)) => latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0),
            _ => missing += 1,
        }
        let clean: Vec<String> =
            (1..=3).map(|i| format!("{{\"tag\":\"{name}\",\"ts\":{},\"value\":1.00}}", ts + i)).collect();
        let clean = format!("{{\"readings\":[{}]}}", clean.join(","));
        buf.clear();
        publish_packet(&mut buf, "dxe/v1/readings", clean.as_bytes(), (2 * k % 65_535 + 2) as u16);
        w.write_all(&buf).await.map_err(|e| e.to_string())?;
        last_ts.insert(d, ts + 3);
        tokio::time::sleep(Duration::from_millis(a.every_ms)).await;
    }
    reader.abort();
    acks.abort();
    latencies.sort_by(f64::total_cmp);
    println!(
        "leaks={} alarms={} missing={missing} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
        a.leaks,
        latencies.len(),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.99), quantile(&v, 1.0)), (50.0, 99.0, 100.0));
        assert_eq!(quantile(&[3.0], 0.99), 3.0);
    }
}
