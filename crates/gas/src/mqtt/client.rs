//! The client of an external MQTT broker (`--mqtt-url`), for sites that already run one (Mosquitto,
//! EMQX) and for several instances sharing the work.
//!
//! It connects with a fixed client id and a persistent session (clean session off), subscribes to
//! [`super::CLIENT_FILTERS`] at QoS 1 on every CONNACK — a broker restarted without persistence
//! has forgotten the session, and subscribing again is harmless when it has not — and acknowledges
//! each message only after the engine has stored it (manual acks). Messages the broker delivered
//! but we had not acknowledged when the connection or the process died are delivered again, to
//! whichever process next connects with the same client id; readings are idempotent on (detector,
//! timestamp), so they are stored once. The broker authenticates the devices; every message it
//! delivers may feed any detector.

use super::{CLIENT_FILTERS, Outcome, Sender, deliver};
use crate::ingest::Allowed;
use crate::{ClockFn, GasHandle, IngestError, IngestReport};
use dianxiaoer_core::gas::payload::MAX_PAYLOAD_BYTES;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{Packet, Publish, SubscribeFilter};
use rumqttc::{AsyncClient, Event, MqttOptions};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// A broker address: `mqtt://[user[:password]@]host[:port][/?client_id=id]`.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: String,
}

/// The password is left out, so that the URL can be logged.
impl std::fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mqtt://")?;
        if let Some(u) = &self.username {
            write!(f, "{u}@")?;
        }
        write!(f, "{}:{}/?client_id={}", self.host, self.port, self.client_id)
    }
}

/// The client id when the URL names none: the same for every instance, so that whichever instance
/// leads takes over the session of the one before.
pub const DEFAULT_CLIENT_ID: &str = "dianxiaoer-gas";

impl BrokerUrl {
    pub fn parse(url: &str) -> Result<BrokerUrl, String> {
        let rest = url
            .strip_prefix("mqtt://")
            .or_else(|| url.strip_prefix("tcp://"))
            .ok_or_else(|| format!("MQTT 地址应以 mqtt:// 开头：{}", url.split('@').next_back().unwrap_or("")))?;
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a.trim_end_matches('/'), Some(q)),
            None => (rest.trim_end_matches('/'), None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((n, p)) => (Some(n.to_owned()), Some(p.to_owned())),
                None => (Some(u.to_owned()), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("MQTT 端口无效：{p}"))?),
            None => (hostport, 1883),
        };
        if host.is_empty() {
            return Err("MQTT 地址缺少主机名".into());
        }
        let mut client_id = DEFAULT_CLIENT_ID.to_owned();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("client_id", v)) if !v.is_empty() => client_id = v.to_owned(),
                _ => return Err(format!("未知的 MQTT 地址参数：{pair}（只支持 client_id）")),
            }
        }
        Ok(BrokerUrl { host: host.to_owned(), port, username, password, client_id })
    }
}

type Answer = oneshot::Receiver<Result<IngestReport, IngestError>>;

/// Connects and consumes until the task is aborted; reconnects after a second on any error.
pub fn start(url: BrokerUrl, gas: GasHandle, clock: ClockFn) -> JoinHandle<()> {
    tokio::spawn(run(url, gas, clock))
}

async fn run(url: BrokerUrl, gas: GasHandle, clock: ClockFn) {
    let mut leading = gas.leading();
    loop {
        // Only the leader consumes: the broker keeps the session's messages for whichever
        // instance connects next with the same client id.
        if leading.wait_for(|l| *l).await.is_err() {
            return;
        }
        tokio::select! {
            () = consume(&url, &gas, &clock) => return,
            _ = leading.wait_for(|l| !*l) => {
                tracing::warn!(broker = ?url, "no longer leading: disconnecting from the MQTT broker");
            }
        }
    }
}

/// One connection's life, reconnecting on errors; returns only when the engine is gone.
async fn consume(url: &BrokerUrl, gas: &GasHandle, clock: &ClockFn) {
    let mut options = MqttOptions::new(url.client_id.clone(), url.host.clone(), url.port);
    options.set_clean_session(false);
    options.set_manual_acks(true);
    // A minute: the broker's answer to a ping waits behind the in-flight window of messages, which
    // a busy engine takes seconds to store; a missed answer drops the connection and the broker
    // delivers the whole window again.
    options.set_keep_alive(Duration::from_secs(60));
    options.set_max_packet_size(MAX_PAYLOAD_BYTES + 64 * 1024, 64 * 1024);
    if let Some(u) = &url.username {
        options.set_credentials(u.clone(), url.password.clone().unwrap_or_default());
    }
    let (client, mut events) = AsyncClient::new(options, 1024);
    // Unbounded, so that this loop never waits on the acknowledger: the acknowledger waits on the
    // client's request channel, which only this loop drains, and a bounded queue between them
    // deadlocks once a broker with a large in-flight window fills both. What waits here is bounded
    // by the engine's channel (deliver waits for room there) and the broker's in-flight window.
    let (acks, pending) = mpsc::unbounded_channel::<(Answer, Publish)>();
    let acker = AbortOnDrop(tokio::spawn(acknowledge(client.clone(), pending)));
    let sender = Sender { allowed: Allowed::All, device: None, name: format!("broker:{}", url.host) };
    let filters: Vec<SubscribeFilter> =
        CLIENT_FILTERS.iter().map(|f| SubscribeFilter::new((*f).to_owned(), QoS::AtLeastOnce)).collect();
    let mut failing = false;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                failing = false;
                tracing::info!(broker = ?url, session_present = ack.session_present, "connected to the MQTT broker");
                if let Err(e) = client.try_subscribe_many(filters.clone()) {
                    tracing::error!(error = %e, "subscribing at the MQTT broker failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => match deliver(gas, &sender, &p.topic, &p.payload, clock()).await
            {
                Ok(Outcome::Queued(answer)) if p.qos != QoS::AtMostOnce => {
                    if acks.send((answer, p)).is_err() {
                        break;
                    }
                }
                Ok(Outcome::Queued(_)) => {}
                Ok(Outcome::Done) => {
                    if p.qos != QoS::AtMostOnce {
                        let _ = client.try_ack(&p);
                    }
                }
                Err(_) => break,
            },
            Ok(_) => {}
            Err(e) => {
                if !failing {
                    tracing::warn!(broker = ?url, error = %e, "MQTT broker connection lost; reconnecting");
                }
                failing = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    drop(acker);
}

/// Aborts a task when dropped (the acknowledger of a connection that ended).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Acknowledges messages once stored, in the order received. A message the engine could not
/// store stays unacknowledged: the broker delivers it again after the next reconnect.
async fn acknowledge(client: AsyncClient, mut pending: mpsc::UnboundedReceiver<(Answer, Publish)>) {
    while let Some((answer, p)) = pending.recv().await {
        match answer.await {
            Ok(Ok(_)) => {
                if client.ack(&p).await.is_err() {
                    return;
                }
            }
            Ok(Err(e)) => tracing::error!(topic = %p.topic, error = %e, "MQTT message not stored; left unacknowledged"),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let u = BrokerUrl::parse("mqtt://127.0.0.1:1883").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.client_id.as_str()), ("127.0.0.1", 1883, DEFAULT_CLIENT_ID));
        let u = BrokerUrl::parse("mqtt://dxe:s3cret@broker.local/?client_id=zone-a").unwrap();
        assert_eq!(u.username.as_deref(), Some("dxe"));
        assert_eq!(u.password.as_deref(), Some("s3cret"));
        assert_eq!((u.port, u.client_id.as_str()), (1883, "zone-a"));
        assert!(!format!("{u:?}").contains("s3cret"));
        assert!(BrokerUrl::parse("http://x").is_err());
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
        assert!(BrokerUrl::parse("mqtt://h:99999").is_err());
        assert!(BrokerUrl::parse("mqtt://h?qos=2").is_err());
    }
}
