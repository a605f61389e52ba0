//! Server-drawn SVG charts (DESIGN.md, the browser UI: charts are SVG drawn on the server, no
//! script library): linear scales with round ticks, time ticks on Beijing clock boundaries, and the
//! path data of a line, a min/max band and horizontal reference lines. Pure functions producing
//! numbers and SVG path strings; templates place them, so markup stays escaped by askama.

use dianxiaoer_core::when::format_ms;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const OFFSET_MS: i64 = 8 * HOUR_MS;

/// A value axis: from `lo` to `hi` with a tick every `step`, all round numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

/// The round step (1, 2 or 5 × 10ⁿ) that cuts `span` into at most `max_ticks` intervals.
pub fn nice_step(span: f64, max_ticks: u32) -> f64 {
    let raw = (span.abs() / f64::from(max_ticks.max(1))).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|k| k * mag).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * mag)
}

/// An axis covering `lo..=hi` with round ends; a flat or empty range is widened so it has height.
pub fn axis(lo: f64, hi: f64, max_ticks: u32) -> Axis {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        let pad = if lo.abs() < 1e-9 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step(hi - lo, max_ticks);
    Axis { lo: (lo / step).floor() * step, hi: (hi / step).ceil() * step, step }
}

impl Axis {
    /// The tick values from `lo` to `hi`.
    pub fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round().max(0.0) as i64;
        (0..=n).map(|k| self.lo + k as f64 * self.step).collect()
    }

    /// A tick's label with as many decimals as the step needs (at most 3).
    pub fn label(&self, v: f64) -> String {
        let decimals = (-self.step.log10().floor()).clamp(0.0, 3.0) as usize;
        let s = format!("{v:.decimals$}");
        if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() { s[1..].to_owned() } else { s }
    }
}

/// Maps a domain interval onto a pixel interval (which may run backwards, as y does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    pub fn at(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span.abs() < f64::EPSILON { self.r0 } else { self.r0 + (v - self.d0) / span * (self.r1 - self.r0) }
    }
}

/// Steps a time axis may use, smallest first.
const TIME_STEPS: [i64; 12] = [
    10 * 60_000,
    30 * 60_000,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    5 * DAY_MS,
    7 * DAY_MS,
    30 * DAY_MS,
];

/// Time ticks between `from` and `to` (epoch ms), at most `max_ticks`, on Beijing clock boundaries
/// (whole hours, midnights), each with its label: "HH:MM", "MM-DD" at midnight or for day steps.
pub fn time_ticks(from: i64, to: i64, max_ticks: i64) -> Vec<(i64, String)> {
    let span = (to - from).max(1);
    let step = TIME_STEPS.into_iter().find(|s| span / s <= max_ticks.max(1)).unwrap_or(30 * DAY_MS);
    let local = from + OFFSET_MS;
    let mut t = local.div_euclid(step) * step - OFFSET_MS;
    if t < from {
        t += step;
    }
    let mut out = Vec::new();
    while t <= to {
        let text = format_ms(t);
        // "YYYY-MM-DD HH:MM:SS"
        let label = if step >= DAY_MS || (t + OFFSET_MS).rem_euclid(DAY_MS) == 0 {
            text.get(5..10).unwrap_or_default().to_owned()
        } else {
            text.get(11..16).unwrap_or_default().to_owned()
        };
        out.push((t, label));
        t += step;
    }
    out
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// Path data of a polyline through `points` (x domain, y domain), broken wherever consecutive x
/// differ by more than `gap` (the detector was silent: no line is drawn across the hole).
pub fn line_path(points: &[(i64, f64)], gap: i64, x: &Linear, y: &Linear) -> String {
    let mut d = String::new();
    let mut last: Option<i64> = None;
    for &(t, v) in points {
        let cmd = match last {
            Some(p) if t - p <= gap => 'L',
            _ => 'M',
        };
        if !d.is_empty() {
            d.push(' ');
        }
        d.push(cmd);
        d.push_str(&px(x.at(t as f64)));
        d.push(',');
        d.push_str(&px(y.at(v)));
        last = Some(t);
    }
    d
}

/// Path data of a band between `lo` and `hi` per x (`(x, lo, hi)`), one closed shape per run of
/// points no further apart than `gap`. A lone point becomes a thin vertical bar.
pub fn band_path(points: &[(i64, f64, f64)], gap: i64, x: &Linear, y: &Linear) -> String {
    let mut runs: Vec<&[(i64, f64, f64)]> = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > gap {
            if start < i {
                runs.push(&points[start..i]);
            }
            start = i;
        }
    }
    let mut parts = Vec::new();
    for run in runs {
        let mut d = String::new();
        for (i, &(t, _, hi)) in run.iter().enumerate() {
            d.push_str(if i == 0 { "M" } else { " L" });
            d.push_str(&format!("{},{}", px(x.at(t as f64)), px(y.at(hi))));
        }
        for &(t, lo, _) in run.iter().rev() {
            d.push_str(&format!(" L{},{}", px(x.at(t as f64)), px(y.at(lo))));
        }
        d.push_str(" Z");
        parts.push(d);
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn steps_are_round() {
        for (span, n, step) in [(10.0, 5, 2.0), (100.0, 5, 20.0), (7.0, 5, 2.0), (0.3, 6, 0.05), (1000.0, 10, 100.0)] {
            assert!(close(nice_step(span, n), step), "{span}/{n}: {}", nice_step(span, n));
        }
        assert!(close(nice_step(3.0, 6), 0.5));
    }

    #[test]
    fn axes_cover_the_data_with_round_ends() {
        let a = axis(0.0, 57.3, 6);
        assert!(close(a.lo, 0.0) && close(a.hi, 60.0) && close(a.step, 10.0), "{a:?}");
        assert_eq!(a.ticks().len(), 7);
        // Oxygen between its set-points.
        let o = axis(19.5, 23.5, 6);
        assert!(o.lo <= 19.5 && o.hi >= 23.5 && close(o.step, 1.0), "{o:?}");
        assert_eq!(o.label(20.0), "20");
        // A flat series still gets height; reversed input is put right.
        let f = axis(5.0, 5.0, 5);
        assert!(f.lo < 5.0 && f.hi > 5.0);
        assert_eq!(axis(10.0, 0.0, 5), axis(0.0, 10.0, 5));
        let z = axis(0.0, 0.0, 4);
        assert!(z.lo <= -1.0 && z.hi >= 1.0);
        assert_eq!(axis(f64::NAN, 1.0, 4), axis(0.0, 1.0, 4));
    }

    #[test]
    fn labels_have_the_decimals_of_the_step() {
        let a = axis(0.0, 0.69, 6);
        assert!(close(a.step, 0.2));
        assert_eq!(a.label(0.4), "0.4");
        assert_eq!(axis(0.0, 0.03, 6).label(0.005), "0.005");
        assert_eq!(axis(-1.0, 1.0, 4).label(-0.0), "0.0");
        assert_eq!(axis(0.0, 100.0, 5).label(40.0), "40");
    }

    #[test]
    fn scales_map_and_invert() {
        let y = Linear { d0: 0.0, d1: 60.0, r0: 200.0, r1: 20.0 };
        assert_eq!(y.at(0.0), 200.0);
        assert_eq!(y.at(60.0), 20.0);
        assert_eq!(y.at(30.0), 110.0);
        assert_eq!(Linear { d0: 1.0, d1: 1.0, r0: 5.0, r1: 9.0 }.at(3.0), 5.0);
    }

    #[test]
    fn time_ticks_fall_on_beijing_boundaries() {
        // 2026-03-02 09:00 Beijing, 6 hours.
        let from = 1_772_413_200_000 + 17 * 60_000;
        let ticks = time_ticks(from, from + 6 * HOUR_MS, 8);
        assert_eq!(ticks[0].1, "10:00");
        assert!(ticks.iter().all(|(t, _)| (t + OFFSET_MS) % HOUR_MS == 0 && *t >= from));
        assert!(ticks.len() <= 8 && ticks.len() >= 5);
        // 7 days: midnights, labelled by date.
        let week = time_ticks(from, from + 7 * DAY_MS, 8);
        assert_eq!(week[0].1, "03-03");
        assert!(week.iter().all(|(t, _)| (t + OFFSET_MS) % DAY_MS == 0));
        // 24 hours crossing midnight: the midnight tick shows the date.
        let day = time_ticks(from, from + DAY_MS, 8);
        assert!(day.iter().any(|(_, l)| l == "03-03"), "{day:?}");
    }

    #[test]
    fn lines_break_at_gaps_and_bands_close() {
        let x = Linear { d0: 0.0, d1: 100.0, r0: 0.0, r1: 100.0 };
        let y = Linear { d0: 0.0, d1: 10.0, r0: 10.0, r1: 0.0 };
        let d = line_path(&[(0, 0.0), (10, 5.0), (50, 10.0), (60, 0.0)], 20, &x, &y);
        assert_eq!(d, "M0.0,10.0 L10.0,5.0 M50.0,0.0 L60.0,10.0");
        let b = band_path(&[(0, 1.0, 3.0), (10, 2.0, 4.0), (80, 5.0, 5.0)], 20, &x, &y);
        assert_eq!(b, "M0.0,7.0 L10.0,6.0 L10.0,8.0 L0.0,9.0 Z M80.0,5.0 L80.0,5.0 Z");
        assert_eq!(line_path(&[], 20, &x, &y), "");
        assert_eq!(band_path(&[], 20, &x, &y), "");
    }
}
