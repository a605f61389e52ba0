//! How the simulator's readings leave it: MQTT (QoS 1, gateway batches on `v1/gateway/telemetry`
//! or one reading per message on `dxe/v1/readings`) or the HTTP batch API.

use super::{Simulator, gateway_payload, own_payload};
use crate::ClockFn;
use crate::mqtt::client::BrokerUrl;
use rumqttc::mqttbytes::QoS;
use rumqttc::{AsyncClient, MqttOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where readings go, and how many go in one message (1: our own format, one reading each).
pub enum Transport {
    Mqtt { client: AsyncClient, batch: usize },
    Http { addr: String, host: String, key: String, batch: usize, conn: Option<TcpStream> },
}

/// Connects to an MQTT server; `password` (an API key for the embedded listener's gateways)
/// overrides the URL's.
pub fn mqtt_publisher(url: &BrokerUrl, password: Option<&str>, batch: usize, id: &str) -> Transport {
    let mut o = MqttOptions::new(id, url.host.clone(), url.port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_max_packet_size(2 << 20, 2 << 20);
    o.set_inflight(1000);
    let user = url.username.clone().unwrap_or_else(|| "simulator".into());
    if let Some(p) = password.map(str::to_owned).or_else(|| url.password.clone()) {
        o.set_credentials(user, p);
    } else if url.username.is_some() {
        o.set_credentials(user, String::new());
    }
    let (client, mut events) = AsyncClient::new(o, 4096);
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            match events.poll().await {
                Ok(_) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "simulator: MQTT connection failed; retrying");
                    }
                    failing = true;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Transport::Mqtt { client, batch: batch.max(1) }
}

/// Posts to `base` (`http://host:port`) with an API key.
pub fn http_post(base: &str, key: &str, batch: usize) -> Result<Transport, String> {
    let addr = base
        .strip_prefix("http://")
        .ok_or_else(|| "HTTP 地址应以 http:// 开头（模拟器不支持 https）".to_owned())?
        .trim_end_matches('/')
        .to_owned();
    Ok(Transport::Http { host: addr.clone(), addr, key: key.to_owned(), batch: batch.max(1), conn: None })
}

/// Counts of what the simulator sent.
#[derive(Debug, Default)]
pub struct Sent {
    pub readings: AtomicU64,
    pub messages: AtomicU64,
    pub failed: AtomicU64,
}

impl Transport {
    async fn send(&mut self, readings: &[(String, i64, f64)], sent: &Sent) {
        let batch = match self {
            Transport::Mqtt { batch, .. } | Transport::Http { batch, .. } => *batch,
        };
        for chunk in readings.chunks(batch) {
            let ok = match self {
                Transport::Mqtt { client, .. } if batch == 1 => {
                    let (tag, ts, v) = &chunk[0];
                    client.publish("dxe/v1/readings", QoS::AtLeastOnce, false, own_payload(tag, *ts, *v)).await.is_ok()
                }
                Transport::Mqtt { client, .. } => client
                    .publish("v1/gateway/telemetry", QoS::AtLeastOnce, false, gateway_payload(chunk))
                    .await
                    .is_ok(),
                Transport::Http { addr, host, key, conn, .. } => {
                    post(addr, host, key, conn, &gateway_payload(chunk)).await.is_ok()
                }
            };
            let counter = if ok { &sent.messages } else { &sent.failed };
            counter.fetch_add(1, Ordering::Relaxed);
            if ok {
                sent.readings.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }
    }
}

/// One POST on a kept-alive connection (opened again when it was closed).
async fn post(addr: &str, host: &str, key: &str, conn: &mut Option<TcpStream>, body: &[u8]) -> std::io::Result<()> {
    for attempt in 0..2 {
        if conn.is_none() {
            *conn = Some(TcpStream::connect(addr).await?);
        }
        let Some(stream) = conn.as_mut() else { continue };
        let head = format!(
            "POST /api/v1/gas/readings?format=thingsboard-gateway HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let result = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            read_response(stream).await
        }
        .await;
        match result {
            Ok(status) if (200..300).contains(&status) => return Ok(()),
            Ok(status) => return Err(std::io::Error::other(format!("HTTP {status}"))),
            Err(e) => {
                *conn = None;
                if attempt == 1 {
                    return Err(e);
                }
            }
        }
    }
    Err(std::io::Error::other("no connection"))
}

/// Reads one response with a Content-Length body; returns its status.
async fn read_response(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        have += n;
    }
    Ok(status)
}

/// Publishes the simulator's readings as they fall due, every 100 ms, until `until` (epoch ms) or
/// for ever, counting into `sent`.
pub async fn run(mut sim: Simulator, mut transport: Transport, clock: ClockFn, until: Option<i64>, sent: Arc<Sent>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let now = clock();
        if until.is_some_and(|u| now >= u) {
            break;
        }
        let due = sim.due(now);
        if !due.is_empty() {
            transport.send(&due, &sent).await;
        }
    }
}
