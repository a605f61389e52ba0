//! MQTT ingest: the listener embedded in the binary ([`listener`]) and the client of an external
//! broker ([`client`]). Both turn a PUBLISH into a [`Batch`] for the engine's channel and, for
//! QoS 1, acknowledge it only after the engine has stored it, so that a crash between receipt and
//! commit makes the sender (or the broker's persistent session) deliver it again; readings are
//! idempotent on (detector, timestamp), so a redelivery is stored once.
//!
//! # Topics
//!
//! | topic | payload ([`Format`]) | device named by |
//! |---|---|---|
//! | `v1/devices/me/telemetry` | ThingsBoard device | the connection's credentials |
//! | `v1/gateway/telemetry`, `dxe/v1/gateway/telemetry` | ThingsBoard gateway | the payload's device names (tags) |
//! | `dxe/v1/readings` | our own format | each reading's `tag` |
//! | `dxe/v1/devices/{tag}/telemetry` | ThingsBoard device | the topic |
//!
//! ThingsBoard's other device topics (attributes, RPC, claiming, gateway connect/disconnect) are
//! acknowledged and ignored, so that firmware written for ThingsBoard keeps running; any other topic
//! counts as a malformed message of its sender.

pub mod client;
pub mod listener;

use crate::ingest::Allowed;
use crate::{Batch, GasHandle, IngestError, IngestReport};
use dianxiaoer_core::gas::payload::{self, Format};
use tokio::sync::oneshot;

/// Where a topic's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Readings in `format`; `device` is the tag a topic names.
    Telemetry { format: Format, device: Option<String> },
    /// A ThingsBoard topic we accept and do not use.
    Ignored,
}

/// The topic filters the client of an external broker subscribes to.
pub const CLIENT_FILTERS: [&str; 3] = ["dxe/v1/readings", "dxe/v1/devices/+/telemetry", "dxe/v1/gateway/telemetry"];

/// The route of a topic; `None` for a topic nobody should publish to.
pub fn route(topic: &str) -> Option<Route> {
    let tel = |format, device| Some(Route::Telemetry { format, device });
    match topic {
        "v1/devices/me/telemetry" => tel(Format::ThingsBoardDevice, None),
        "v1/gateway/telemetry" | "dxe/v1/gateway/telemetry" => tel(Format::ThingsBoardGateway, None),
        "dxe/v1/readings" => tel(Format::Own, None),
        "v1/devices/me/attributes"
        | "v1/devices/me/claim"
        | "v1/gateway/attributes"
        | "v1/gateway/connect"
        | "v1/gateway/disconnect"
        | "v1/gateway/claim" => Some(Route::Ignored),
        t if t.starts_with("v1/devices/me/rpc/") || t.starts_with("v1/devices/me/attributes/") => Some(Route::Ignored),
        t => {
            let tag = t.strip_prefix("dxe/v1/devices/")?.strip_suffix("/telemetry")?;
            (!tag.is_empty() && !tag.contains('/')).then(|| tel(Format::ThingsBoardDevice, Some(tag.to_owned())))?
        }
    }
}

/// Who a message comes from: what it may feed, the device a ThingsBoard device topic means, and
/// the name its malformed messages are counted under.
#[derive(Debug, Clone)]
pub struct Sender {
    pub allowed: Allowed,
    pub device: Option<String>,
    pub name: String,
}

/// What became of one message.
#[derive(Debug)]
pub enum Outcome {
    /// Handed to the engine; the receiver answers once it is stored (or not).
    Queued(oneshot::Receiver<Result<IngestReport, IngestError>>),
    /// Nothing to store: an ignored topic, or a malformed payload (counted).
    Done,
}

/// Parses one message and hands it to the engine. Waits only for room in the channel.
pub async fn deliver(
    gas: &GasHandle,
    sender: &Sender,
    topic: &str,
    bytes: &[u8],
    now: i64,
) -> Result<Outcome, IngestError> {
    let counters = gas.engine().counters();
    let (format, topic_device) = match route(topic) {
        Some(Route::Telemetry { format, device }) => (format, device),
        Some(Route::Ignored) => return Ok(Outcome::Done),
        None => {
            counters.malformed(&sender.name);
            tracing::warn!(device = %sender.name, topic, "MQTT message on an unknown topic dropped");
            return Ok(Outcome::Done);
        }
    };
    let points = match payload::parse(bytes, format, now) {
        Ok(p) => p,
        Err(e) => {
            counters.malformed(&sender.name);
            tracing::warn!(device = %sender.name, topic, error = %e, "malformed MQTT payload dropped");
            return Ok(Outcome::Done);
        }
    };
    let (tx, rx) = oneshot::channel();
    let device = topic_device.or_else(|| sender.device.clone());
    let batch = Batch { points, device, allowed: sender.allowed.clone(), reply: Some(tx) };
    gas.ingest().send(batch).await.map_err(|_| IngestError::Unavailable)?;
    Ok(Outcome::Queued(rx))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn topics_route_to_formats() {
        let tel = |format, device: Option<&str>| Some(Route::Telemetry { format, device: device.map(str::to_owned) });
        assert_eq!(route("v1/devices/me/telemetry"), tel(Format::ThingsBoardDevice, None));
        assert_eq!(route("v1/gateway/telemetry"), tel(Format::ThingsBoardGateway, None));
        assert_eq!(route("dxe/v1/gateway/telemetry"), tel(Format::ThingsBoardGateway, None));
        assert_eq!(route("dxe/v1/readings"), tel(Format::Own, None));
        assert_eq!(route("dxe/v1/devices/GT-101/telemetry"), tel(Format::ThingsBoardDevice, Some("GT-101")));
        assert_eq!(route("v1/devices/me/attributes"), Some(Route::Ignored));
        assert_eq!(route("v1/devices/me/rpc/response/7"), Some(Route::Ignored));
        assert_eq!(route("dxe/v1/devices//telemetry"), None);
        assert_eq!(route("dxe/v1/devices/a/b/telemetry"), None);
        assert_eq!(route("foo/bar"), None);
        assert_eq!(route(""), None);
    }

    #[test]
    fn the_client_subscribes_to_routed_topics() {
        for f in CLIENT_FILTERS {
            assert!(route(&f.replace('+', "GT-1")).is_some(), "{f}");
        }
    }
}
