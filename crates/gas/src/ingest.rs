//! What flows into the engine: batches of parsed payload points from any transport (the HTTP batch
//! API now, MQTT later), the per-batch report, and per-device counters of what was taken and refused.

use dianxiaoer_core::gas::Gas;
use dianxiaoer_core::gas::payload::{KEY_FAULT, KEY_VALUE, Point};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Which detectors a batch may feed: a client feeds only detectors of enterprises in its scope. A
/// detector outside is refused exactly like an unknown tag, so that tags cannot be probed.
#[derive(Debug, Clone)]
pub enum Allowed {
    All,
    Enterprises(Arc<HashSet<i64>>),
    /// One detector, by tag: a device signed in with its own credentials feeds only itself.
    Detector(Arc<str>),
}

impl Allowed {
    pub fn of(enterprises: Option<Vec<i64>>) -> Allowed {
        match enterprises {
            None => Allowed::All,
            Some(ids) => Allowed::Enterprises(Arc::new(ids.into_iter().collect())),
        }
    }

    pub fn permits_detector(&self, enterprise_id: i64, tag: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Enterprises(ids) => ids.contains(&enterprise_id),
            Allowed::Detector(t) => **t == *tag,
        }
    }
}

/// One payload's points, as a transport hands them to the engine.
#[derive(Debug)]
pub struct Batch {
    pub points: Vec<Point>,
    /// The tag of points that carry no device name (ThingsBoard's device format, where the
    /// connection or the request names the device).
    pub device: Option<String>,
    pub allowed: Allowed,
    /// Where the report goes; `None` for fire-and-forget transports.
    pub reply: Option<oneshot::Sender<Result<IngestReport, IngestError>>>,
}

/// A refused reading and why, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub tag: String,
    pub reason: String,
}

/// Most refusals listed in one report; the total is counted beyond it.
pub const MAX_LISTED: usize = 200;

/// What became of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Readings stored (late ones included) and fault codes taken.
    pub accepted: u64,
    /// Readings already stored for their (detector, timestamp), or sent twice in the batch.
    pub duplicates: u64,
    /// The first [`MAX_LISTED`] refusals.
    pub rejected: Vec<Rejected>,
    pub rejected_total: u64,
}

impl IngestReport {
    pub(crate) fn reject(&mut self, tag: &str, reason: String) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_LISTED {
            self.rejected.push(Rejected { tag: tag.to_owned(), reason });
        }
    }
}

/// Why a batch could not be taken at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error("报警引擎未运行，请稍后重试")]
    Unavailable,
    #[error("读数暂时无法保存，请稍后重试")]
    Store,
}

/// What a point's key means for a detector of `gas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Value,
    Fault,
    Other,
}

/// `value`, the detector's gas code in any case ("h2s", "O2"), or `fault`.
pub(crate) fn key_of(key: &str, gas: Gas) -> Key {
    if key == KEY_VALUE || key.eq_ignore_ascii_case(gas.code()) {
        Key::Value
    } else if key == KEY_FAULT {
        Key::Fault
    } else {
        Key::Other
    }
}

/// A fault code carried as a number: an integer 0–65535.
pub(crate) fn fault_code(v: f64) -> Option<u16> {
    (v.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&v)).then_some(v as u16)
}

/// Counts of one device (a tag, or a client when the payload named none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviceCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Payloads refused whole (not JSON, wrong shape, too large, unknown topic).
    pub malformed: u64,
    /// Messages dropped because the device sent faster than its connection may.
    pub throttled: u64,
}

/// Devices counted one by one; beyond this many, the rest share [`OTHER_DEVICES`], so that a flood
/// of invented tags cannot grow the map without bound.
pub const MAX_DEVICES: usize = 50_000;
pub const OTHER_DEVICES: &str = "（其他）";

impl DeviceCounts {
    fn merge(&mut self, d: &DeviceCounts) {
        self.accepted += d.accepted;
        self.duplicates += d.duplicates;
        self.rejected += d.rejected;
        self.malformed += d.malformed;
        self.throttled += d.throttled;
    }
}

/// Per-device counters and their totals, in memory (the web layer's metrics read them).
#[derive(Debug, Default)]
pub struct Counters {
    map: Mutex<(HashMap<String, DeviceCounts>, DeviceCounts)>,
}

impl Counters {
    pub fn add(&self, device: &str, f: impl FnOnce(&mut DeviceCounts)) {
        let Ok(mut guard) = self.map.lock() else { return };
        let (map, total) = &mut *guard;
        let mut delta = DeviceCounts::default();
        f(&mut delta);
        total.merge(&delta);
        if let Some(c) = map.get_mut(device) {
            c.merge(&delta);
            return;
        }
        let key = if map.len() < MAX_DEVICES { device } else { OTHER_DEVICES };
        map.entry(key.to_owned()).or_default().merge(&delta);
    }

    /// Readings stored and duplicates of many devices, (device, accepted, duplicates), under one
    /// lock: a step of thousands of detectors takes it once.
    pub fn add_stored<'a>(&self, counts: impl IntoIterator<Item = (&'a str, u64, u64)>) {
        let Ok(mut guard) = self.map.lock() else { return };
        let (map, total) = &mut *guard;
        for (device, accepted, duplicates) in counts {
            let delta = DeviceCounts { accepted, duplicates, ..DeviceCounts::default() };
            total.merge(&delta);
            if let Some(c) = map.get_mut(device) {
                c.merge(&delta);
                continue;
            }
            let key = if map.len() < MAX_DEVICES { device } else { OTHER_DEVICES };
            map.entry(key.to_owned()).or_default().merge(&delta);
        }
    }

    /// The counts of all devices together: cheap to read at any number of devices.
    pub fn total(&self) -> DeviceCounts {
        self.map.lock().map(|m| m.1).unwrap_or_default()
    }

    /// A payload from `device` refused whole.
    pub fn malformed(&self, device: &str) {
        self.add(device, |c| c.malformed += 1);
    }

    /// Every device's counts, by name.
    pub fn snapshot(&self) -> Vec<(String, DeviceCounts)> {
        let mut v: Vec<_> = match self.map.lock() {
            Ok(m) => m.0.iter().map(|(k, c)| (k.clone(), *c)).collect(),
            Err(_) => Vec::new(),
        };
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn get(&self, device: &str) -> DeviceCounts {
        self.map.lock().ok().and_then(|m| m.0.get(device).copied()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_value_the_gas_or_a_fault() {
        assert_eq!(key_of("value", Gas::HydrogenSulfide), Key::Value);
        assert_eq!(key_of("h2s", Gas::HydrogenSulfide), Key::Value);
        assert_eq!(key_of("H2S", Gas::HydrogenSulfide), Key::Value);
        assert_eq!(key_of("fault", Gas::HydrogenSulfide), Key::Fault);
        assert_eq!(key_of("co", Gas::HydrogenSulfide), Key::Other);
        assert_eq!(key_of("temperature", Gas::Oxygen), Key::Other);
    }

    #[test]
    fn fault_codes_are_small_integers() {
        assert_eq!(fault_code(3.0), Some(3));
        assert_eq!(fault_code(0.0), Some(0));
        assert_eq!(fault_code(65_535.0), Some(65_535));
        assert_eq!(fault_code(65_536.0), None);
        assert_eq!(fault_code(1.5), None);
        assert_eq!(fault_code(-1.0), None);
    }

    #[test]
    fn counters_are_bounded() {
        let c = Counters::default();
        for i in 0..MAX_DEVICES + 10 {
            c.add(&format!("T{i}"), |d| d.rejected += 1);
        }
        assert_eq!(c.snapshot().len(), MAX_DEVICES + 1);
        assert_eq!(c.get(OTHER_DEVICES).rejected, 10);
        assert_eq!(c.total().rejected, MAX_DEVICES as u64 + 10);
        c.add_stored([("T0", 2, 1), ("T1", 1, 0)]);
        assert_eq!((c.get("T0").accepted, c.get("T0").duplicates, c.total().accepted), (2, 1, 3));
        c.malformed("T0");
        assert_eq!(
            c.get("T0"),
            DeviceCounts { accepted: 2, duplicates: 1, rejected: 1, malformed: 1, ..DeviceCounts::default() }
        );
    }

    #[test]
    fn reports_list_a_bounded_number_of_refusals() {
        let mut r = IngestReport::default();
        for _ in 0..MAX_LISTED + 5 {
            r.reject("GT-1", "x".into());
        }
        assert_eq!((r.rejected.len(), r.rejected_total), (MAX_LISTED, MAX_LISTED as u64 + 5));
    }

    #[test]
    fn allowed_enterprises() {
        assert!(Allowed::of(None).permits_detector(7, "GT-1"));
        let a = Allowed::of(Some(vec![1, 2]));
        assert!(a.permits_detector(2, "GT-1") && !a.permits_detector(3, "GT-1"));
        let d = Allowed::Detector("GT-1".into());
        assert!(d.permits_detector(9, "GT-1") && !d.permits_detector(9, "GT-2"));
    }
}
