//! The readings chart of a detector (issue 6, live monitor): the last 6 or 24 hours from the raw
//! readings, the last 7 or 30 days from the one-minute aggregates (a min–max band and the mean line),
//! with the set-points as lines. The detector page draws it as server-side SVG; the API returns the
//! same series as JSON (`GET /api/v1/gas/detectors/{id}/series?range=6h|24h|7d|30d`). Both read it
//! through the user's scope with [`load`].

use crate::AppState;
use crate::auth::CurrentUser;
use crate::chart::{Linear, axis, band_path, line_path, time_ticks};
use crate::error::AppError;
use dianxiaoer_store::{DetectorRow, Series};
use serde::Serialize;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// More raw readings than this in the range and the chart falls back to the minute aggregates: an
/// SVG of tens of thousands of points helps nobody.
pub const RAW_MAX: i64 = 4_000;

/// The time range of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartRange {
    H6,
    H24,
    D7,
    D30,
}

impl ChartRange {
    pub const ALL: [ChartRange; 4] = [ChartRange::H6, ChartRange::H24, ChartRange::D7, ChartRange::D30];

    /// `6h`, `24h`, `7d` or `30d`; nothing means 6 hours.
    pub fn parse(raw: Option<&str>) -> Result<ChartRange, AppError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(ChartRange::H6),
            Some(code) => ChartRange::ALL
                .into_iter()
                .find(|r| r.code() == code)
                .ok_or_else(|| AppError::BadRequest("时间范围应为 6h、24h、7d 或 30d".into())),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ChartRange::H6 => "6h",
            ChartRange::H24 => "24h",
            ChartRange::D7 => "7d",
            ChartRange::D30 => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartRange::H6 => "6 小时",
            ChartRange::H24 => "24 小时",
            ChartRange::D7 => "7 天",
            ChartRange::D30 => "30 天",
        }
    }

    fn span_ms(self) -> i64 {
        match self {
            ChartRange::H6 => 6 * HOUR_MS,
            ChartRange::H24 => 24 * HOUR_MS,
            ChartRange::D7 => 7 * 24 * HOUR_MS,
            ChartRange::D30 => 30 * 24 * HOUR_MS,
        }
    }

    /// Hours come from the raw readings, days from the aggregates.
    fn raw(self) -> bool {
        matches!(self, ChartRange::H6 | ChartRange::H24)
    }

    /// Bucket of the aggregates: about 300 to 1000 per chart.
    fn bucket_ms(self) -> i64 {
        match self {
            ChartRange::H6 => MINUTE_MS,
            ChartRange::H24 => 5 * MINUTE_MS,
            ChartRange::D7 => 10 * MINUTE_MS,
            ChartRange::D30 => HOUR_MS,
        }
    }
}

/// One raw reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PointOut {
    pub ts: i64,
    pub value: f64,
}

/// One bucket of the aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BucketOut {
    /// Start of the bucket.
    pub ts: i64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub count: i64,
}

/// The set-points drawn as lines: level 1 and 2, or oxygen low and high.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SetPointsOut {
    /// "levels" or "oxygen".
    pub kind: &'static str,
    pub first: f64,
    pub second: f64,
}

/// A detector's readings over a range, as the API returns them and the chart draws them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesOut {
    pub detector_id: i64,
    pub tag: String,
    /// Unit code ("ppm", "%LEL" …).
    pub unit: String,
    pub range: &'static str,
    pub from: i64,
    pub to: i64,
    /// "raw" (`points`) or "minutes" (`buckets` of `bucket_ms`).
    pub source: &'static str,
    pub bucket_ms: Option<i64>,
    pub set_points: SetPointsOut,
    pub points: Vec<PointOut>,
    pub buckets: Vec<BucketOut>,
}

fn unit_value(milli: i64) -> f64 {
    milli as f64 / 1000.0
}

/// The detector in scope and its series over `range` ending now.
pub async fn load(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    range: ChartRange,
) -> Result<(DetectorRow, SeriesOut), AppError> {
    let d = state.live_detector(state.store.detector(&me.scope, id).await?);
    let now = state.now();
    let bucket = range.bucket_ms();
    let from = if range.raw() { now - range.span_ms() } else { (now - range.span_ms()).div_euclid(bucket) * bucket };
    let to = now + 1;
    let series = state.store.reading_series(&me.scope, id, (from, to), range.raw(), bucket, RAW_MAX).await?;
    let set_points = SetPointsOut {
        kind: if d.spec.gas == "O2" { "oxygen" } else { "levels" },
        first: unit_value(d.spec.set_point1_milli),
        second: unit_value(d.spec.set_point2_milli),
    };
    let mut out = SeriesOut {
        detector_id: d.id,
        tag: d.tag.clone(),
        unit: d.spec.unit.clone(),
        range: range.code(),
        from,
        to: now,
        source: "raw",
        bucket_ms: None,
        set_points,
        points: Vec::new(),
        buckets: Vec::new(),
    };
    match series {
        Series::Raw(rows) => {
            out.points = rows.into_iter().map(|r| PointOut { ts: r.ts, value: unit_value(r.value_milli) }).collect();
        }
        Series::Buckets { bucket_ms, rows } => {
            out.source = "minutes";
            out.bucket_ms = Some(bucket_ms);
            out.buckets = rows
                .into_iter()
                .map(|b| BucketOut {
                    ts: b.start,
                    min: unit_value(b.min_milli),
                    max: unit_value(b.max_milli),
                    mean: b.mean_milli() / 1000.0,
                    count: b.n,
                })
                .collect();
        }
    }
    Ok((d, out))
}

/// The chart as the template draws it: every coordinate already a string.
pub struct ChartView {
    pub width: u32,
    pub height: u32,
    pub left: String,
    pub right: String,
    pub top: String,
    pub bottom: String,
    pub plot_w: String,
    pub plot_h: String,
    /// x of the value labels, y of the time labels, x of the set-point labels.
    pub y_label_x: String,
    pub x_label_y: String,
    pub ref_label_x: String,
    /// (y, label).
    pub y_ticks: Vec<(String, String)>,
    /// (x, label).
    pub x_ticks: Vec<(String, String)>,
    pub line: String,
    pub band: String,
    /// Markers when the readings are few: (x, y).
    pub dots: Vec<(String, String)>,
    /// (y, label, class).
    pub refs: Vec<(String, String, &'static str)>,
    pub empty: bool,
    pub caption: String,
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 92.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;
/// Fewer points than this get markers, so a lone reading is visible.
const DOTS_MAX: usize = 60;

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// Lays the series out: the value axis covers the data and both set-points (and the range's
/// minimum, except for oxygen, whose interesting band lies far from zero) with a little headroom
/// below the range's maximum; lines break where the detector was silent longer than it may be
/// before counting as offline.
pub fn chart(d: &DetectorRow, s: &SeriesOut) -> ChartView {
    let mut values: Vec<f64> = vec![s.set_points.first, s.set_points.second];
    if s.set_points.kind != "oxygen" {
        values.push(unit_value(d.spec.range_min_milli));
    }
    values.extend(s.points.iter().map(|p| p.value));
    values.extend(s.buckets.iter().flat_map(|b| [b.min, b.max]));
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A little headroom above the data, but not past the measuring range's top.
    let top = (hi + (hi - lo).abs() * 0.05).min(hi.max(unit_value(d.spec.range_max_milli)));
    let ax = axis(lo, top, 6);
    let (l, r, t, b) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let x = Linear { d0: s.from as f64, d1: s.to as f64, r0: l, r1: r };
    let y = Linear { d0: ax.lo, d1: ax.hi, r0: b, r1: t };
    let silent = d.spec.interval_s.max(1) * 1000 * d.spec.offline_after_missed.max(1);
    let (line, band, markers, caption) = match s.bucket_ms {
        None => {
            let pts: Vec<(i64, f64)> = s.points.iter().map(|p| (p.ts, p.value)).collect();
            let caption = format!("原始读数 {} 个", pts.len());
            (line_path(&pts, silent, &x, &y), String::new(), pts, caption)
        }
        Some(bucket) => {
            let mid = |ts: i64| ts + bucket / 2;
            let means: Vec<(i64, f64)> = s.buckets.iter().map(|b| (mid(b.ts), b.mean)).collect();
            let bands: Vec<(i64, f64, f64)> = s.buckets.iter().map(|b| (mid(b.ts), b.min, b.max)).collect();
            let gap = silent.max(bucket + bucket / 2);
            let caption = format!("分钟汇总，每 {} 分钟一段：阴影为最小–最大值，曲线为平均值", bucket / MINUTE_MS);
            (line_path(&means, gap, &x, &y), band_path(&bands, gap, &x, &y), means, caption)
        }
    };
    let dots = if markers.len() < DOTS_MAX {
        markers.iter().map(|(ts, v)| (px(x.at(*ts as f64)), px(y.at(*v)))).collect()
    } else {
        Vec::new()
    };
    let names = if s.set_points.kind == "oxygen" { ["欠氧", "过氧"] } else { ["一级", "二级"] };
    let refs = [(s.set_points.first, names[0], "level1"), (s.set_points.second, names[1], "level2")]
        .into_iter()
        .map(|(v, name, class)| (px(y.at(v)), format!("{name} {}", ax_label(v)), class))
        .collect();
    ChartView {
        width: WIDTH as u32,
        height: HEIGHT as u32,
        left: px(l),
        right: px(r),
        top: px(t),
        bottom: px(b),
        plot_w: px(r - l),
        plot_h: px(b - t),
        y_label_x: px(l - 6.0),
        x_label_y: px(b + 18.0),
        ref_label_x: px(r + 4.0),
        y_ticks: ax.ticks().into_iter().map(|v| (px(y.at(v)), ax.label(v))).collect(),
        x_ticks: time_ticks(s.from, s.to, 8).into_iter().map(|(ts, label)| (px(x.at(ts as f64)), label)).collect(),
        empty: s.points.is_empty() && s.buckets.is_empty(),
        line,
        band,
        dots,
        refs,
        caption,
    }
}

/// A set-point as written on its line: up to three decimals, no trailing zeros.
fn ax_label(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_default_to_six_hours() {
        assert_eq!(ChartRange::parse(None).unwrap(), ChartRange::H6);
        assert_eq!(ChartRange::parse(Some(" 30d ")).unwrap(), ChartRange::D30);
        assert!(ChartRange::parse(Some("1y")).is_err());
        for r in ChartRange::ALL {
            assert_eq!(ChartRange::parse(Some(r.code())).unwrap(), r);
            // Buckets are whole minutes, and no chart has more than about a thousand.
            assert_eq!(r.bucket_ms() % MINUTE_MS, 0);
            assert!(r.span_ms() / r.bucket_ms() <= 1_100, "{r:?}");
        }
        assert_eq!(ax_label(14.3), "14.3");
        assert_eq!(ax_label(25.0), "25");
    }
}
