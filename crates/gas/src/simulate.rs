//! The gas simulator (`dianxiaoer simulate gas`, and the demo's live park): realistic readings for
//! registered detectors — noise around a clean-air baseline, slow drift, leaks that rise past the
//! set-points and fall back, and devices that drop offline for a few minutes — published over MQTT
//! ([`mqtt_publisher`]) or the HTTP batch API ([`http_post`]).
//!
//! [`Simulator`] is deterministic for a seed: the same detectors, seed and times give the same
//! readings, so a run can be repeated.

use dianxiaoer_core::gas::{Gas, GasKind};
use serde_json::{Map, Value, json};

/// One detector as the simulator drives it: its tag, gas and set-points in its unit.
#[derive(Debug, Clone)]
pub struct SimDetector {
    pub tag: String,
    pub gas: Gas,
    pub range_max: f64,
    /// Level 1 / level 2, or the oxygen low / high set-points.
    pub set_point1: f64,
    pub set_point2: f64,
    /// How often it reports, in milliseconds.
    pub period_ms: i64,
}

/// A leak in progress on one detector: rises for 40 s, holds for 20 s, falls for 60 s.
#[derive(Debug, Clone, Copy)]
struct Leak {
    detector: usize,
    start: i64,
    peak: f64,
}

const RISE_MS: i64 = 40_000;
const HOLD_MS: i64 = 20_000;
const FALL_MS: i64 = 60_000;

impl Leak {
    fn end(&self) -> i64 {
        self.start + RISE_MS + HOLD_MS + FALL_MS
    }

    /// The leak's share of its peak at `t` (0 outside it).
    fn shape(&self, t: i64) -> f64 {
        let dt = t - self.start;
        if dt < 0 || t >= self.end() {
            0.0
        } else if dt < RISE_MS {
            dt as f64 / RISE_MS as f64
        } else if dt < RISE_MS + HOLD_MS {
            1.0
        } else {
            1.0 - (dt - RISE_MS - HOLD_MS) as f64 / FALL_MS as f64
        }
    }
}

#[derive(Debug, Clone)]
struct Live {
    next_due: i64,
    /// Silent (offline) until then.
    silent_until: i64,
    drift_phase: f64,
}

/// The simulation: detectors, their schedule, the leaks in progress and the random source.
#[derive(Debug, Clone)]
pub struct Simulator {
    detectors: Vec<SimDetector>,
    live: Vec<Live>,
    leaks: Vec<Leak>,
    /// Leaks kept in progress at once.
    concurrent_leaks: usize,
    /// Chance per detector per report of going silent for 2–5 minutes.
    offline_chance: f64,
    rng: SplitMix,
}

/// SplitMix64: small, fast and good enough for noise; no dependency.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of four uniforms), mean 0, standard deviation ≈ 1.
    fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 1.732
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

impl Simulator {
    /// `leaks`: leaks kept in progress at once; `offline_per_hour`: detectors dropping offline per
    /// hour across the whole park.
    pub fn new(detectors: Vec<SimDetector>, leaks: usize, offline_per_hour: f64, seed: u64, now: i64) -> Simulator {
        let mut rng = SplitMix(seed);
        let live = detectors
            .iter()
            .map(|d| Live {
                // Spread the first reports over one period, as real devices are not in step.
                next_due: now + (rng.unit() * d.period_ms as f64) as i64,
                silent_until: 0,
                drift_phase: rng.unit() * std::f64::consts::TAU,
            })
            .collect();
        let reports_per_hour: f64 = detectors.iter().map(|d| 3_600_000.0 / d.period_ms.max(1) as f64).sum();
        let offline_chance = if reports_per_hour > 0.0 { offline_per_hour / reports_per_hour } else { 0.0 };
        Simulator {
            concurrent_leaks: leaks.min(detectors.len()),
            detectors,
            live,
            leaks: Vec::new(),
            offline_chance,
            rng,
        }
    }

    pub fn detectors(&self) -> &[SimDetector] {
        &self.detectors
    }

    /// Detectors with a leak at `t`.
    pub fn leaking(&self, t: i64) -> Vec<&str> {
        self.leaks.iter().filter(|l| l.shape(t) > 0.0).map(|l| self.detectors[l.detector].tag.as_str()).collect()
    }

    fn clean_air(&mut self, d: &SimDetector, phase: f64, t: i64) -> f64 {
        let drift = (phase + t as f64 / 3_600_000.0 * std::f64::consts::TAU).sin();
        let v = match d.gas.kind() {
            GasKind::Oxygen => 20.9 + 0.05 * drift + 0.03 * self.rng.normal(),
            GasKind::Combustible => 1.0 + 0.5 * drift + 0.3 * self.rng.normal(),
            GasKind::Toxic => d.set_point1 * (0.05 + 0.02 * drift) + d.set_point1 * 0.01 * self.rng.normal(),
        };
        v.max(0.0)
    }

    /// Starts leaks so that `concurrent_leaks` are in progress, each on a detector without one.
    fn start_leaks(&mut self, t: i64) {
        self.leaks.retain(|l| t < l.end());
        let mut tries = 0;
        while self.leaks.len() < self.concurrent_leaks && tries < 32 {
            tries += 1;
            let i = self.rng.below(self.detectors.len());
            if self.leaks.iter().any(|l| l.detector == i) {
                continue;
            }
            let d = &self.detectors[i];
            // Half the leaks stop between the levels, half pass level 2; oxygen falls instead.
            let target = if self.rng.unit() < 0.5 { d.set_point1 * 1.3 } else { d.set_point2 * 1.3 };
            let peak = match d.gas.kind() {
                GasKind::Oxygen => (d.set_point1 - 1.0) - 20.9,
                _ => target.min(d.range_max),
            };
            // Staggered starts: the next one begins within the coming minute.
            let start = t + (self.rng.unit() * 60_000.0) as i64;
            self.leaks.push(Leak { detector: i, start, peak });
        }
    }

    /// The readings due by `now`: (tag, timestamp, value) in the detector's unit, rounded to 0.01.
    pub fn due(&mut self, now: i64) -> Vec<(String, i64, f64)> {
        self.start_leaks(now);
        let mut out = Vec::new();
        for i in 0..self.detectors.len() {
            while self.live[i].next_due <= now {
                let t = self.live[i].next_due;
                self.live[i].next_due += self.detectors[i].period_ms.max(100);
                if t < self.live[i].silent_until {
                    continue;
                }
                if self.rng.unit() < self.offline_chance && !self.leaks.iter().any(|l| l.detector == i) {
                    self.live[i].silent_until = t + 120_000 + (self.rng.unit() * 180_000.0) as i64;
                    continue;
                }
                let d = self.detectors[i].clone();
                let base = self.clean_air(&d, self.live[i].drift_phase, t);
                let leak: f64 = self.leaks.iter().filter(|l| l.detector == i).map(|l| l.peak * l.shape(t)).sum();
                let v = (base + leak).clamp(0.0, d.range_max);
                out.push((d.tag, t, (v * 100.0).round() / 100.0));
            }
        }
        out
    }
}

/// The simulator's view of stored detectors (inactive ones and unknown gases left out).
pub fn from_store(rows: &[dianxiaoer_store::EngineDetector]) -> Vec<SimDetector> {
    rows.iter()
        .filter(|r| r.active)
        .filter_map(|r| {
            let gas = Gas::parse(&r.spec.gas).ok()?;
            Some(SimDetector {
                tag: r.tag.clone(),
                gas,
                range_max: r.spec.range_max_milli as f64 / 1000.0,
                set_point1: r.spec.set_point1_milli as f64 / 1000.0,
                set_point2: r.spec.set_point2_milli as f64 / 1000.0,
                period_ms: r.spec.interval_s.max(1) * 1000,
            })
        })
        .collect()
}

/// Readings as one ThingsBoard gateway payload (`v1/gateway/telemetry`).
pub fn gateway_payload(readings: &[(String, i64, f64)]) -> Vec<u8> {
    let mut by_tag: Map<String, Value> = Map::new();
    for (tag, ts, v) in readings {
        let entry = by_tag.entry(tag.clone()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(json!({"ts": ts, "values": {"value": v}}));
        }
    }
    serde_json::to_vec(&Value::Object(by_tag)).unwrap_or_default()
}

/// One reading in our own format (`dxe/v1/readings`).
pub fn own_payload(tag: &str, ts: i64, v: f64) -> Vec<u8> {
    serde_json::to_vec(&json!({"readings": [{"tag": tag, "ts": ts, "value": v}]})).unwrap_or_default()
}

pub use transport::{Sent, Transport, http_post, mqtt_publisher, run};

mod transport;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn det(tag: &str, gas: Gas, sp1: f64, sp2: f64) -> SimDetector {
        SimDetector { tag: tag.into(), gas, range_max: 100.0, set_point1: sp1, set_point2: sp2, period_ms: 5_000 }
    }

    /// Runs the simulator in one-second steps, as the publisher does in real time.
    fn run(s: &mut Simulator, until: i64) -> Vec<(String, i64, f64)> {
        (1..=until / 1000).flat_map(|k| s.due(k * 1000)).collect()
    }

    fn park() -> Vec<SimDetector> {
        vec![
            det("H2S-1", Gas::HydrogenSulfide, 7.2, 14.3),
            det("EX-1", Gas::Combustible, 25.0, 50.0),
            det("O2-1", Gas::Oxygen, 19.5, 23.5),
        ]
    }

    #[test]
    fn every_detector_reports_on_its_period() {
        let mut s = Simulator::new(park(), 0, 0.0, 7, 0);
        let r = run(&mut s, 60_000);
        for d in park() {
            let n = r.iter().filter(|x| x.0 == d.tag).count();
            assert!((12..=13).contains(&n), "{} reported {n} times", d.tag);
        }
        assert!(r.iter().all(|x| x.2 >= 0.0 && x.2 <= 100.0));
    }

    #[test]
    fn clean_air_stays_below_the_set_points() {
        let mut s = Simulator::new(park(), 0, 0.0, 11, 0);
        for (tag, _, v) in run(&mut s, 3_600_000) {
            match tag.as_str() {
                "H2S-1" => assert!(v < 7.2, "{v}"),
                "EX-1" => assert!(v < 25.0, "{v}"),
                _ => assert!((19.5..23.5).contains(&v), "{v}"),
            }
        }
    }

    #[test]
    fn leaks_rise_past_a_set_point_and_fall_back() {
        let mut s = Simulator::new(park(), 1, 0.0, 3, 0);
        s.start_leaks(0);
        let tag = s.detectors()[s.leaks[0].detector].tag.clone();
        let end = s.leaks[0].end();
        let r = run(&mut s, 200_000);
        let mine: Vec<f64> = r.iter().filter(|x| x.0 == tag && x.1 < end + 5_000).map(|x| x.2).collect();
        let d = park().into_iter().find(|d| d.tag == tag).unwrap();
        if d.gas == Gas::Oxygen {
            assert!(mine.iter().any(|v| *v < d.set_point1), "{mine:?}");
        } else {
            assert!(mine.iter().any(|v| *v > d.set_point1), "{mine:?}");
        }
        let last = *mine.last().unwrap();
        assert!(last < d.set_point1 || d.gas == Gas::Oxygen && last > d.set_point1, "recovered: {last}");
    }

    #[test]
    fn the_same_seed_gives_the_same_readings() {
        let a = run(&mut Simulator::new(park(), 1, 6.0, 42, 0), 300_000);
        let b = run(&mut Simulator::new(park(), 1, 6.0, 42, 0), 300_000);
        assert_eq!(a, b);
    }

    #[test]
    fn devices_drop_offline_and_come_back() {
        let one = vec![det("H2S-1", Gas::HydrogenSulfide, 7.2, 14.3)];
        // 720 reports an hour, 60 outages an hour: nearly one in twelve reports starts one.
        let mut s = Simulator::new(one, 0, 60.0, 5, 0);
        let ts: Vec<i64> = run(&mut s, 3_600_000).into_iter().map(|x| x.1).collect();
        let longest = ts.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(longest >= 120_000, "an outage of at least two minutes: {longest}");
        assert!(ts.len() > 100, "but it reports again");
    }

    #[test]
    fn payloads_parse_as_the_ingest_reads_them() {
        use dianxiaoer_core::gas::payload::{Format, parse};
        let r = vec![("A".to_owned(), 1, 1.5), ("B".to_owned(), 2, 2.0), ("A".to_owned(), 3, 0.5)];
        let points = parse(&gateway_payload(&r), Format::ThingsBoardGateway, 0).unwrap();
        assert_eq!(points.len(), 3);
        let points = parse(&own_payload("A", 9, 1.25), Format::Own, 0).unwrap();
        assert_eq!((points[0].ts, points[0].value), (9, 1.25));
    }
}
