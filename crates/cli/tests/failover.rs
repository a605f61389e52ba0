//! Two `serve` instances on one PostgreSQL database and one Mosquitto broker: the first leads (runs
//! the alarm engine and consumes the broker's session), the second stands by. The leader is killed
//! (SIGKILL) in the middle of a stream of readings and of a leak; the standby takes over, and in
//! the end every reading published is stored exactly once and every injected leak raised exactly
//! one alarm. Runs when both `DXE_TEST_POSTGRES_URL` and `DXE_TEST_MQTT_URL` are given.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_core::gas::{DetectorConfig, DetectorSettings, Gas, MeasuringRange, Tag};
use dianxiaoer_store::{Actor, DatabaseUrl, DetectorInput, Keys, Store};
use dianxiaoer_testkit::{Backend, fresh_database};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_dianxiaoer");
const SECRET: &str = "4f1c9a7e2b8d6053a1e4c7f9b2d8e6a0";
/// Readings per detector, and where each detector's leak is (steps, value above level 2).
const STEPS: i64 = 400;
const LEAKS: [(i64, i64); 3] = [(60, 90), (195, 225), (330, 360)];
/// The leader dies after this many steps: in the middle of the second leak.
const KILL_AT: i64 = 205;

/// Starts `serve`; returns it once it answers.
fn serve(db: &str, broker: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db, "--mqtt-url", broker])
        .env("DXE_SESSION_SECRET", SECRET)
        .env("DXE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("店小二已启动") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("server started");
    child
}

async fn detectors(store: &Store, enterprise: i64, now: i64) -> Vec<String> {
    let mut tags = Vec::new();
    for i in 1..=3 {
        let tag = format!("FO-{i}-H2S");
        let settings = DetectorSettings::default();
        let range = MeasuringRange::new(0.0, 100.0).unwrap();
        let cfg = DetectorConfig::new(
            Tag::parse(&tag).unwrap(),
            Gas::HydrogenSulfide,
            Gas::HydrogenSulfide.default_unit(),
            range,
            &settings,
        )
        .unwrap();
        let input = DetectorInput {
            enterprise_id: enterprise,
            tag: tag.clone(),
            name: format!("切换测试{i}"),
            location: String::new(),
            plant_area: String::new(),
            position: None,
            spec: dianxiaoer_gas::spec::spec(&cfg, &settings),
            status: "active".into(),
            device_secret: None,
        };
        store.create_detector(&Actor::cli(), &dianxiaoer_core::access::Scope::Zone, &input, now).await.unwrap();
        tags.push(tag);
    }
    tags
}

async fn stored(db: &DatabaseUrl) -> (i64, Vec<(String, i64)>) {
    let store = Store::connect(db, Keys::default()).await.unwrap();
    let readings = store.count_gas_readings().await.unwrap();
    let alarms = store.gas_alarm_counts().await.unwrap();
    store.close().await;
    (readings, alarms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_without_losing_or_repeating() {
    let Some(broker) = dianxiaoer_testkit::mqtt_url() else { return };
    let Some((db, pg, _dir)) = fresh_database(Backend::Postgres).await else { return };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    {
        let keys = Keys { seal: Some(b"failover-test-seal-secret".to_vec()), ..Keys::default() };
        let store = Store::open(&db, keys).await.unwrap();
        store.seed_reference(now).await.unwrap();
        let fixture = dianxiaoer_testkit::seed(&store, now).await;
        detectors(&store, fixture.enterprise("a"), now).await;
        store.close().await;
    }
    let client_id = format!("dxe-failover-{}", std::process::id());
    let broker_url = format!("{}/?client_id={client_id}", broker.trim_end_matches('/'));
    let (server, name) = pg.clone().unwrap();
    let db_string = format!("{}/{name}", server.split('?').next().unwrap().rsplit_once('/').unwrap().0);
    let leader = serve(&db_string, &broker_url);
    let standby = serve(&db_string, &broker_url);
    // Give the leader time to subscribe before the stream starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let url = dianxiaoer_gas::mqtt::client::BrokerUrl::parse(&broker).unwrap();
    let url2 = url.clone();
    let (client, mut ev) = AsyncClient::new(MqttOptions::new(format!("{client_id}-pub"), url.host, url.port), 1024);
    let (acked, mut acks) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(e) = ev.poll().await {
            if let Event::Incoming(Packet::PubAck(_)) = e {
                let _ = acked.send(());
            }
        }
    });
    let base = now - STEPS * 1000 - 60_000;
    let mut leader = Some(leader);
    for step in 0..STEPS {
        if step == KILL_AT
            && let Some(mut l) = leader.take()
        {
            l.kill().unwrap();
            l.wait().unwrap();
        }
        for (d, (from, to)) in LEAKS.iter().enumerate() {
            let value = if (*from..*to).contains(&step) { 20.0 } else { 0.5 };
            let body =
                json!({"readings": [{"tag": format!("FO-{}-H2S", d + 1), "ts": base + step * 1000, "value": value}]});
            client.publish("dxe/v1/readings", QoS::AtLeastOnce, false, body.to_string()).await.unwrap();
            tokio::time::timeout(Duration::from_secs(10), acks.recv()).await.expect("the broker took it");
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let expected = STEPS * 3;
    let mut last = (0, Vec::new());
    for _ in 0..300 {
        last = stored(&db).await;
        if last.0 >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut standby = standby;
    standby.kill().unwrap();
    standby.wait().unwrap();
    assert_eq!(last.0, expected, "every reading stored exactly once");
    let alarms = last.1;
    assert_eq!(alarms.len(), 3, "{alarms:?}");
    for (tag, n) in alarms {
        assert_eq!(n, 1, "{tag}: one alarm per leak");
    }
    // End the persistent session, so that the shared broker stops keeping messages for it.
    let mut o = MqttOptions::new(client_id, url2.host, url2.port);
    o.set_clean_session(true);
    let (c, mut ev) = AsyncClient::new(o, 10);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(e) = ev.poll().await {
            if matches!(e, Event::Incoming(Packet::ConnAck(_))) {
                let _ = c.disconnect().await;
                let _ = ev.poll().await;
                return;
            }
        }
    })
    .await;
    dianxiaoer_testkit::drop_database(&pg).await;
}
