//! The embedded MQTT listener end to end, on both backends, with a real MQTT client: per-device
//! credentials (ThingsBoard access token, tag + secret, a gateway's API key), QoS 1 acknowledged
//! after storing, ThingsBoard device and gateway payloads, a device confined to its own tag,
//! malformed payloads and oversized packets counted per device, and a flooding device throttled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_gas::mqtt::listener::{self, ListenerOptions};
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;

async fn api_key(app: &TestApp, user: &str) -> String {
    let s = app.login(user).await;
    let r = s.post_json("/api/v1/api-keys", &json!({"name": "采集网关"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned()
}

async fn create_detector(s: &Session, body: Value) -> i64 {
    let r = s.post_json("/api/v1/gas/detectors", &body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn readings(s: &Session, id: i64) -> Vec<(i64, i64)> {
    let v: Value = s.get(&format!("/api/v1/gas/detectors/{id}/readings?limit=1000")).await.json().await.unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ts"].as_i64().unwrap(), (r["value"].as_f64().unwrap() * 1000.0).round() as i64))
        .collect()
}

/// A connected client: its handle and the events of its loop (an `Err` ends the stream).
struct Device {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Event, String>>,
}

impl Device {
    async fn connect(addr: SocketAddr, id: &str, user: &str, password: &str) -> Result<Device, ConnectionError> {
        let mut o = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        o.set_max_packet_size(4 << 20, 4 << 20);
        if !user.is_empty() {
            o.set_credentials(user, password);
        }
        let (client, mut ev) = AsyncClient::new(o, 1024);
        loop {
            match ev.poll().await? {
                Event::Incoming(Packet::ConnAck(_)) => break,
                _ => continue,
            }
        }
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let e = ev.poll().await.map_err(|e| e.to_string());
                let end = e.is_err();
                if tx.send(e).is_err() || end {
                    return;
                }
            }
        });
        Ok(Device { client, events })
    }

    /// Publishes at QoS 1 and waits for its PUBACK.
    async fn publish(&mut self, topic: &str, payload: Vec<u8>) {
        self.client.publish(topic, QoS::AtLeastOnce, false, payload).await.unwrap();
        let acked = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.events.recv().await {
                    Some(Ok(Event::Incoming(Packet::PubAck(_)))) => return,
                    Some(Ok(_)) => continue,
                    other => panic!("connection ended before PUBACK: {other:?}"),
                }
            }
        })
        .await;
        assert!(acked.is_ok(), "no PUBACK within 10 s");
    }

    /// Waits until the connection ends.
    async fn closed(&mut self) {
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.events.recv().await {
                    Some(Ok(_)) => continue,
                    _ => return,
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the listener kept the connection open");
    }
}

fn refused(r: Result<Device, ConnectionError>) -> bool {
    matches!(r, Err(ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword)))
}

async fn story(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (a, b) = (app.fixture.enterprise("a"), app.fixture.enterprise("b"));
    let staff = app.login("staff").await;
    let h2s = create_detector(
        &staff,
        json!({"enterprise": a, "tag": "A-H2S-01", "name": "罐区硫化氢", "gas": "H2S", "device_secret": "tok-a-h2s-01-secret"}),
    )
    .await;
    let ex = create_detector(
        &staff,
        json!({"enterprise": b, "tag": "B-EX-01", "name": "可燃气体", "gas": "EX", "device_secret": "tok-b-ex-01-secret"}),
    )
    .await;
    app.gas.engine().reload_all().await.unwrap();
    let l = listener::start(
        "127.0.0.1:0",
        app.gas.clone(),
        app.store.clone(),
        app.state.clock_fn(),
        ListenerOptions::default(),
    )
    .await
    .unwrap();
    let counters = || app.gas.engine().counters();
    let t0 = app.clock.now_ms();

    // Credentials: unknown secrets, a secret under another tag, and no login are refused.
    assert!(refused(Device::connect(l.addr, "x1", "no-such-token", "").await));
    assert!(refused(Device::connect(l.addr, "x2", "B-EX-01", "tok-a-h2s-01-secret").await));
    assert!(refused(Device::connect(l.addr, "x3", "", "").await));

    // A ThingsBoard device: its access token as user name, telemetry on v1/devices/me/telemetry.
    let mut dev = Device::connect(l.addr, "tb-dev", "tok-a-h2s-01-secret", "").await.unwrap();
    dev.client.subscribe("v1/devices/me/attributes", QoS::AtLeastOnce).await.unwrap();
    dev.publish("v1/devices/me/telemetry", json!({"ts": t0, "values": {"h2s": 3.5}}).to_string().into_bytes()).await;
    assert_eq!(readings(&staff, h2s).await, vec![(t0, 3500)], "stored before the PUBACK");
    // Attributes are taken and ignored; a malformed payload is counted and the connection stays.
    dev.publish("v1/devices/me/attributes", br#"{"firmware":"1.2"}"#.to_vec()).await;
    dev.publish("v1/devices/me/telemetry", b"not json".to_vec()).await;
    dev.publish("no/such/topic", b"{}".to_vec()).await;
    assert_eq!(counters().get("A-H2S-01").malformed, 2);
    // Its own format may not feed another detector.
    dev.publish(
        "dxe/v1/readings",
        json!({"readings": [{"tag": "B-EX-01", "ts": t0, "value": 10}]}).to_string().into_bytes(),
    )
    .await;
    assert!(readings(&staff, ex).await.is_empty());
    // A rising leak raises one alarm at level 2.
    for (i, v) in [9.0, 16.0, 18.0].into_iter().enumerate() {
        let body = json!({"ts": t0 + 1000 * (i as i64 + 1), "values": {"h2s": v}});
        dev.publish("v1/devices/me/telemetry", body.to_string().into_bytes()).await;
    }
    let alarms: Value = staff.get(&format!("/api/v1/gas/alarms?detector={h2s}")).await.json().await.unwrap();
    let gas_alarms: Vec<&Value> = alarms["items"].as_array().unwrap().iter().filter(|a| a["kind"] == "gas").collect();
    assert_eq!(gas_alarms.len(), 1);
    assert_eq!(gas_alarms[0]["level"], 2);
    // An oversized packet closes the connection and is counted against the device.
    dev.client.publish("v1/devices/me/telemetry", QoS::AtLeastOnce, false, vec![b' '; 2 << 20]).await.unwrap();
    dev.closed().await;
    assert_eq!(counters().get("A-H2S-01").malformed, 3);

    // Tag and secret as user name and password; a redelivered reading is stored once.
    let mut dev = Device::connect(l.addr, "tag-dev", "B-EX-01", "tok-b-ex-01-secret").await.unwrap();
    let body = json!({"readings": [{"tag": "B-EX-01", "ts": t0, "value": 12}]}).to_string().into_bytes();
    dev.publish("dxe/v1/readings", body.clone()).await;
    dev.publish("dxe/v1/readings", body).await;
    assert_eq!(readings(&staff, ex).await, vec![(t0, 12_000)]);
    assert_eq!(counters().get("B-EX-01").duplicates, 1);

    // A gateway with an API key feeds its account's enterprises; an enterprise's key only its own.
    let key = api_key(&app, "staff").await;
    let mut gw = Device::connect(l.addr, "gw", &key, "").await.unwrap();
    let body = json!({"A-H2S-01": [{"ts": t0 + 10_000, "values": {"h2s": 1.0}}], "B-EX-01": [{"ts": t0 + 10_000, "values": {"value": 2}}]});
    gw.publish("v1/gateway/telemetry", body.to_string().into_bytes()).await;
    assert_eq!(readings(&staff, ex).await.len(), 2);
    let ent_key = api_key(&app, "ent_a").await;
    let mut gw_a = Device::connect(l.addr, "gw-a", "gateway", &ent_key).await.unwrap();
    let body = json!({"B-EX-01": [{"ts": t0 + 20_000, "values": {"value": 3}}]});
    gw_a.publish("v1/gateway/telemetry", body.to_string().into_bytes()).await;
    assert_eq!(readings(&staff, ex).await.len(), 2, "enterprise a's gateway cannot feed enterprise b");
    // Accounts without IngestReadings cannot sign in as gateways.
    let leader_key = api_key(&app, "leader").await;
    assert!(refused(Device::connect(l.addr, "gw-l", &leader_key, "").await));

    // A flood from one device: the burst is taken, the rest dropped and counted as throttled.
    let flood = Device::connect(l.addr, "flood", "tok-a-h2s-01-secret", "").await.unwrap();
    let before = counters().get("A-H2S-01");
    let n = 400u64;
    for i in 0..n {
        let body = json!({"ts": t0 + 100_000 + i as i64, "values": {"h2s": 0.5}});
        flood.client.publish("v1/devices/me/telemetry", QoS::AtMostOnce, false, body.to_string()).await.unwrap();
    }
    let settled = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let c = counters().get("A-H2S-01");
            if c.accepted + c.throttled - before.accepted - before.throttled >= n {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("every flooded message accepted or throttled");
    assert!(settled.throttled - before.throttled >= n - 250, "{settled:?}");
    // Meanwhile another device is served.
    dev.publish(
        "dxe/v1/readings",
        json!({"readings": [{"tag": "B-EX-01", "ts": t0 + 30_000, "value": 1}]}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(readings(&staff, ex).await.len(), 3);
    l.task.abort();
}

dual!(mqtt_listener, super::story);
