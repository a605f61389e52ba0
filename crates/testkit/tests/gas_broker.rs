//! The client of an external MQTT broker, on both backends, against real Mosquitto: readings
//! published to the broker are stored once; a broker restarted without persistence (its sessions
//! and subscriptions forgotten) is rejoined and subscribed again; readings published while our
//! client was away are delivered to the next process with the same client id (persistent session,
//! QoS 1). Runs when `DXE_TEST_MQTT_URL` names the broker (CI: mqtt://127.0.0.1:1883); the restart
//! scenario starts its own `mosquitto` on a free port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_gas::mqtt::client::{self, BrokerUrl};
use dianxiaoer_testkit::{Backend, TestApp, dual};
use dianxiaoer_web::Clock;
use reqwest::StatusCode;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static N: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A publisher whose QoS 1 messages the broker has taken once `publish` returns.
struct Publisher {
    client: AsyncClient,
    acks: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl Publisher {
    async fn connect(url: &BrokerUrl) -> Publisher {
        let o = MqttOptions::new(unique("dxe-test-pub"), url.host.clone(), url.port);
        let (client, mut ev) = AsyncClient::new(o, 1024);
        let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match ev.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        Publisher { client, acks }
    }

    async fn publish(&mut self, tag: &str, ts: i64, value: f64) {
        let body = json!({"readings": [{"tag": tag, "ts": ts, "value": value}]}).to_string();
        self.client.publish("dxe/v1/readings", QoS::AtLeastOnce, false, body).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.acks.recv()).await.expect("the broker took the message");
    }
}

async fn count(_app: &TestApp, s: &dianxiaoer_testkit::Session, id: i64) -> usize {
    let v: Value = s.get(&format!("/api/v1/gas/detectors/{id}/readings?limit=1000")).await.json().await.unwrap();
    v.as_array().unwrap().len()
}

async fn wait_for(app: &TestApp, s: &dianxiaoer_testkit::Session, id: i64, n: usize) {
    let r = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if count(app, s, id).await >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(r.is_ok(), "expected {n} readings, have {}", count(app, s, id).await);
}

/// Publishes probes until the client has subscribed and stored one; returns the next timestamp.
async fn until_subscribed(
    app: &TestApp,
    s: &dianxiaoer_testkit::Session,
    p: &mut Publisher,
    tag: &str,
    id: i64,
    mut ts: i64,
) -> i64 {
    let before = count(app, s, id).await;
    for _ in 0..100 {
        p.publish(tag, ts, 0.5).await;
        ts += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if count(app, s, id).await > before {
            return ts;
        }
    }
    panic!("the client never subscribed");
}

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mosquitto(port: u16) -> Mosquitto {
    let child = Command::new("mosquitto")
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto on PATH");
    std::thread::sleep(Duration::from_millis(500));
    Mosquitto(child)
}

async fn story(backend: Backend) {
    let Some(url) = dianxiaoer_testkit::mqtt_url() else { return };
    let Some(app) = TestApp::spawn(backend).await else { return };
    let staff = app.login("staff").await;
    // Both backends' tests share the broker's topic: each its own tag.
    let tag = format!("BRK{}-H2S", N.fetch_add(1, Ordering::SeqCst));
    let tag = tag.as_str();
    let r = staff
        .post_json(
            "/api/v1/gas/detectors",
            &json!({"enterprise": app.fixture.enterprise("a"), "tag": tag, "name": "经代理", "gas": "H2S"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.gas.engine().reload_all().await.unwrap();
    let mut ts = app.clock.now_ms() - 600_000;

    // The shared broker: every reading published is stored, once, after redelivery too.
    let mut shared = BrokerUrl::parse(&url).unwrap();
    shared.client_id = unique("dxe-test-gas");
    let task = client::start(shared.clone(), app.gas.clone(), app.state.clock_fn());
    let mut p = Publisher::connect(&shared).await;
    ts = until_subscribed(&app, &staff, &mut p, tag, id, ts).await;
    let base = count(&app, &staff, id).await;
    for i in 0..100 {
        p.publish(tag, ts + i, 1.0).await;
    }
    p.publish(tag, ts, 1.0).await;
    wait_for(&app, &staff, id, base + 100).await;
    ts += 100;

    // Away and back: what was published meanwhile waits in the persistent session.
    task.abort();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..50 {
        p.publish(tag, ts + i, 2.0).await;
    }
    let task = client::start(shared.clone(), app.gas.clone(), app.state.clock_fn());
    wait_for(&app, &staff, id, base + 150).await;
    assert_eq!(count(&app, &staff, id).await, base + 150, "stored once each");
    ts += 50;
    task.abort();

    // A broker restarted without persistence forgets the subscription; the client subscribes again.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let own = BrokerUrl::parse(&format!("mqtt://127.0.0.1:{port}/?client_id={}", unique("dxe-test-own"))).unwrap();
    let broker = mosquitto(port);
    let task = client::start(own.clone(), app.gas.clone(), app.state.clock_fn());
    let mut p = Publisher::connect(&own).await;
    ts = until_subscribed(&app, &staff, &mut p, tag, id, ts).await;
    drop(broker);
    let _broker = mosquitto(port);
    let mut p = Publisher::connect(&own).await;
    ts = until_subscribed(&app, &staff, &mut p, tag, id, ts).await;
    let n = count(&app, &staff, id).await;
    for i in 0..20 {
        p.publish(tag, ts + i, 3.0).await;
    }
    wait_for(&app, &staff, id, n + 20).await;
    task.abort();
    clear_session(&shared).await;
}

/// Ends the persistent session on the shared broker, so that it does not keep queueing for us.
async fn clear_session(url: &BrokerUrl) {
    let mut o = MqttOptions::new(url.client_id.clone(), url.host.clone(), url.port);
    o.set_clean_session(true);
    let (client, mut ev) = AsyncClient::new(o, 10);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(e) = ev.poll().await {
            if matches!(e, Event::Incoming(Packet::ConnAck(_))) {
                let _ = client.disconnect().await;
                let _ = ev.poll().await;
                return;
            }
        }
    })
    .await;
}

dual!(broker_client, super::story);
