//! The MQTT listener embedded in the binary (`--mqtt-listen`): devices and gateways connect to
//! dianxiaoer itself, as they would to ThingsBoard's MQTT transport, with no broker to run.
//!
//! It is an ingest endpoint, not a general broker: it speaks MQTT 3.1.1 (protocol level 4, what
//! ThingsBoard devices use) with the packet codec of the `rumqttc` crate, takes PUBLISH on the
//! topics of [`super::route`], grants subscriptions without ever publishing (ThingsBoard firmware
//! subscribes to attribute and RPC topics), and sends nothing but acknowledgements. A full
//! embedded broker (rumqttd) would route every message through its own router and a local link
//! before the engine sees it, for fan-out this endpoint never needs.
//!
//! - **Credentials per device** ([`Store::device_login`]): a detector's secret (as ThingsBoard's
//!   access token, or with the tag as user name) feeds only that detector; an API key of an account
//!   holding `IngestReadings` makes a gateway feeding that account's enterprises. Anything else
//!   gets CONNACK 4 (bad user name or password); protocol level 5 gets CONNACK 1.
//! - **QoS 1** is acknowledged after the engine has stored the message, in the order received
//!   (MQTT 3.1.1 §4.6); if storing fails the connection is closed unacknowledged, so the device
//!   sends again. QoS 2 is acknowledged with PUBREC after storing and PUBCOMP on PUBREL. QoS 0 is
//!   fire-and-forget, as the protocol says.
//! - **Bad input**: a packet over [`ListenerOptions::max_packet`] (the 1 MiB payload limit plus
//!   headers) is refused from its fixed header without being read, counted as malformed for the
//!   device, and the connection closed; malformed payloads and unknown topics are counted, logged
//!   with the device and dropped, the connection staying up. A device sending faster than
//!   [`ListenerOptions::device_rate`] has the excess dropped and counted as throttled, so a flood
//!   from one device cannot crowd the engine's channel; gateways are not limited, the channel's
//!   back-pressure slows only their own connection.
//! - A connection that says nothing for 1.5 × its keep-alive (MQTT 3.1.1 §3.1.2.10), or sends no
//!   CONNECT within [`ListenerOptions::connect_timeout`], is closed.

use super::{Outcome, Sender, deliver};
use crate::ingest::Allowed;
use crate::{ClockFn, GasHandle, IngestError, IngestReport};
use bytes::BytesMut;
use dianxiaoer_core::gas::payload::MAX_PAYLOAD_BYTES;
use dianxiaoer_store::{DeviceLogin, Store};
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, SubAck, SubscribeReasonCode, UnsubAck,
};
use rumqttc::mqttbytes::{Error as MqttError, Protocol, QoS};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How the listener treats its connections.
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    pub connect_timeout: Duration,
    /// Messages per second one detector's connection may send, and the burst above that rate.
    pub device_rate: u32,
    pub device_burst: u32,
    /// Largest packet read: the payload limit plus room for the topic and headers.
    pub max_packet: usize,
}

impl Default for ListenerOptions {
    fn default() -> ListenerOptions {
        ListenerOptions {
            connect_timeout: Duration::from_secs(10),
            device_rate: 20,
            device_burst: 200,
            max_packet: MAX_PAYLOAD_BYTES + 64 * 1024,
        }
    }
}

struct Ctx {
    gas: GasHandle,
    store: Store,
    clock: ClockFn,
    options: ListenerOptions,
}

/// A running listener: the address it is bound to, and its accept task.
#[derive(Debug)]
pub struct Listener {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

/// [`start`] with owned arguments and the default options.
pub async fn start_owned(addr: String, gas: GasHandle, store: Store, clock: ClockFn) -> std::io::Result<Listener> {
    start(&addr, gas, store, clock, ListenerOptions::default()).await
}

/// Binds `addr` and serves MQTT connections on it until the task is aborted.
pub async fn start(
    addr: &str,
    gas: GasHandle,
    store: Store,
    clock: ClockFn,
    options: ListenerOptions,
) -> std::io::Result<Listener> {
    let socket = TcpListener::bind(addr).await?;
    let addr = socket.local_addr()?;
    let ctx = Arc::new(Ctx { gas, store, clock, options });
    let task = tokio::spawn(async move {
        loop {
            match socket.accept().await {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(stream, peer, ctx.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    tracing::info!(%addr, "MQTT listener started");
    Ok(Listener { addr, task })
}

/// Reads the next packet; `Ok(None)` at end of stream.
async fn read_packet(rd: &mut OwnedReadHalf, buf: &mut BytesMut, max: usize) -> Result<Option<Packet>, MqttError> {
    loop {
        match Packet::read(buf, max) {
            Ok(p) => return Ok(Some(p)),
            Err(MqttError::InsufficientBytes(n)) => {
                buf.reserve(n.max(4096));
                match rd.read_buf(buf).await {
                    Ok(0) | Err(_) => return Ok(None),
                    Ok(_) => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
}

async fn write_now(wr: &mut OwnedWriteHalf, packet: &Packet) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    packet.write(&mut out, usize::MAX).map_err(std::io::Error::other)?;
    wr.write_all(&out).await
}

/// What the writer sends: a packet at once, or an acknowledgement once the engine has answered.
enum Out {
    Now(Packet),
    /// (the engine's answer, packet id, exactly-once → PUBREC instead of PUBACK)
    After(oneshot::Receiver<Result<IngestReport, IngestError>>, u16, bool),
}

/// Writes acknowledgements in the order the messages came; stops (closing the connection) when
/// the engine could not store a message, leaving it unacknowledged.
async fn writer(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Out>, name: String) {
    let mut out = BytesMut::with_capacity(4096);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            let packet = match item {
                Out::Now(p) => p,
                Out::After(answer, pkid, exactly_once) => match answer.await {
                    Ok(Ok(_)) if exactly_once => Packet::PubRec(PubRec::new(pkid)),
                    Ok(Ok(_)) => Packet::PubAck(PubAck::new(pkid)),
                    Ok(Err(e)) => {
                        tracing::warn!(device = %name, error = %e, "MQTT message not stored; closing unacknowledged");
                        return;
                    }
                    Err(_) => return,
                },
            };
            if packet.write(&mut out, usize::MAX).is_err() {
                return;
            }
            if out.len() < 64 * 1024 {
                next = rx.try_recv().ok();
            }
        }
        if wr.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
    }
}

/// A token bucket: `rate` tokens a second up to `burst`.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: i64,
}

impl Bucket {
    fn new(rate: u32, burst: u32, now: i64) -> Bucket {
        Bucket { rate: f64::from(rate), burst: f64::from(burst.max(1)), tokens: f64::from(burst.max(1)), at: now }
    }

    fn take(&mut self, now: i64) -> bool {
        let elapsed = (now - self.at).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn sender_of(login: DeviceLogin) -> (Sender, bool) {
    match login {
        DeviceLogin::Detector { tag, .. } => {
            (Sender { allowed: Allowed::Detector(tag.as_str().into()), device: Some(tag.clone()), name: tag }, true)
        }
        DeviceLogin::Gateway { username, enterprises } => {
            (Sender { allowed: Allowed::of(enterprises), device: None, name: format!("网关:{username}") }, false)
        }
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, ctx: Arc<Ctx>) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(4096);
    let max = ctx.options.max_packet;
    let connect = match tokio::time::timeout(ctx.options.connect_timeout, read_packet(&mut rd, &mut buf, max)).await {
        Ok(Ok(Some(Packet::Connect(c)))) => c,
        _ => return,
    };
    let refuse = |code| Packet::ConnAck(ConnAck::new(code, false));
    if connect.protocol != Protocol::V4 {
        let _ = write_now(&mut wr, &refuse(ConnectReturnCode::RefusedProtocolVersion)).await;
        return;
    }
    if !ctx.gas.engine().is_leading() {
        // A standby instance takes no readings: the device retries, reaching the leader.
        let _ = write_now(&mut wr, &refuse(ConnectReturnCode::ServiceUnavailable)).await;
        return;
    }
    let (user, secret) = connect.login.map(|l| (l.username, l.password)).unwrap_or_default();
    let now = (ctx.clock)();
    let login = match ctx.store.device_login(&user, &secret, now).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            tracing::warn!(%peer, client = %connect.client_id, "MQTT sign-in refused: unknown device credentials");
            let _ = write_now(&mut wr, &refuse(ConnectReturnCode::BadUserNamePassword)).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "checking MQTT credentials failed");
            let _ = write_now(&mut wr, &refuse(ConnectReturnCode::ServiceUnavailable)).await;
            return;
        }
    };
    let (sender, limited) = sender_of(login);
    if write_now(&mut wr, &Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false))).await.is_err() {
        return;
    }
    let (out, rx) = mpsc::channel::<Out>(1024);
    let writer = tokio::spawn(writer(wr, rx, sender.name.clone()));
    let idle = match connect.keep_alive {
        0 => None,
        k => Some(Duration::from_millis(u64::from(k) * 1500)),
    };
    let mut bucket = Bucket::new(ctx.options.device_rate, ctx.options.device_burst, now);
    let counters = ctx.gas.engine().counters();
    loop {
        let next = read_packet(&mut rd, &mut buf, max);
        let read = match idle {
            Some(d) => match tokio::time::timeout(d, next).await {
                Ok(r) => r,
                Err(_) => break,
            },
            None => next.await,
        };
        let packet = match read {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                counters.malformed(&sender.name);
                tracing::warn!(device = %sender.name, error = %e, "MQTT packet refused; closing the connection");
                break;
            }
        };
        let reply = match packet {
            Packet::Publish(p) => {
                let ack = || match p.qos {
                    QoS::AtMostOnce => None,
                    QoS::AtLeastOnce => Some(Packet::PubAck(PubAck::new(p.pkid))),
                    QoS::ExactlyOnce => Some(Packet::PubRec(PubRec::new(p.pkid))),
                };
                let now = (ctx.clock)();
                if limited && !bucket.take(now) {
                    counters.add(&sender.name, |c| c.throttled += 1);
                    ack().map(Out::Now)
                } else {
                    match deliver(&ctx.gas, &sender, &p.topic, &p.payload, now).await {
                        Ok(Outcome::Done) => ack().map(Out::Now),
                        Ok(Outcome::Queued(answer)) => match p.qos {
                            QoS::AtMostOnce => None,
                            q => Some(Out::After(answer, p.pkid, q == QoS::ExactlyOnce)),
                        },
                        Err(_) => break,
                    }
                }
            }
            Packet::PubRel(r) => Some(Out::Now(Packet::PubComp(PubComp::new(r.pkid)))),
            Packet::Subscribe(s) => {
                let codes = s.filters.iter().map(|_| SubscribeReasonCode::Success(QoS::AtMostOnce)).collect();
                Some(Out::Now(Packet::SubAck(SubAck::new(s.pkid, codes))))
            }
            Packet::Unsubscribe(u) => Some(Out::Now(Packet::UnsubAck(UnsubAck::new(u.pkid)))),
            Packet::PingReq => Some(Out::Now(Packet::PingResp)),
            Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_) => None,
            Packet::Disconnect => break,
            other => {
                tracing::warn!(device = %sender.name, packet = ?other, "unexpected MQTT packet; closing the connection");
                break;
            }
        };
        if let Some(r) = reply
            && out.send(r).await.is_err()
        {
            break;
        }
    }
    drop(out);
    let _ = writer.await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_the_burst_then_the_rate() {
        let mut b = Bucket::new(10, 5, 0);
        assert_eq!((0..8).filter(|_| b.take(0)).count(), 5);
        assert!(!b.take(50));
        assert!(b.take(100));
        assert!(!b.take(100));
        assert_eq!((0..20).filter(|_| b.take(10_000)).count(), 5);
    }
}
