//! RITA-compatible beacon scoring (RITA v5's beacon analysis, reimplemented from its
//! published formulas): four sub-scores in 0..1 — timestamp regularity, data-size
//! regularity, duration/coverage, and histogram shape — averaged into one score.
//!
//! * **ts**: deltas of the whole-second connection start times (zeros dropped, ≥ 3 left):
//!   mean of `1 − |Bowley skew|` and the MAD score `(median − MAD)/median`.
//! * **ds**: the same over per-connection `orig_ip_bytes`.
//! * **hist**: 24 equal bins over the analysis window: the larger of the coefficient-of-
//!   variation score `1 − σ/μ` and, with ≥ 11 non-empty bins, a bimodal fit.
//! * **dur**: with ≥ 6 non-empty bins, the larger of coverage (span of the pair's
//!   connections over the window) and consistency (longest circular run of non-empty bins
//!   over 12).
//!
//! Bowley skew uses Tukey's hinges and is 0 when the IQR is below 10 or the median equals a
//! hinge. Values are rounded (or, where RITA does, ceiled) to three decimals so the results
//! match RITA's.

use serde::{Deserialize, Serialize};

/// Fewest unique timestamps for a beacon.
pub const MIN_UNIQUE_TS: usize = 4;
/// Most connections per pair and day (more is a strobe, not a beacon).
pub const MAX_CONNS_PER_DAY: usize = 86_400;

/// The analysis window, whole seconds, dataset-wide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// `max(minTS, maxTS − 24 h)`.
    pub min: i64,
    /// `maxTS`.
    pub max: i64,
}

impl Window {
    /// The window for a dataset spanning `[min_ts, max_ts]`.
    pub fn for_dataset(min_ts: f64, max_ts: f64) -> Window {
        let max = max_ts.floor() as i64;
        let min = (min_ts.floor() as i64).max(max - 86_400);
        Window { min, max }
    }

    /// First second of the hour containing `min`: connections from here on are used.
    pub fn first_hour(&self) -> i64 {
        self.min - self.min.rem_euclid(3600)
    }
}

/// A beacon's score and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconScore {
    /// Overall score, 0..1.
    pub score: f64,
    /// Timestamp-regularity score.
    pub ts_score: f64,
    /// Data-size score.
    pub ds_score: f64,
    /// Duration (coverage/consistency) score.
    pub dur_score: f64,
    /// Histogram score.
    pub hist_score: f64,
    /// Connections used.
    pub count: usize,
    /// Median interval between connections, seconds.
    pub median_interval: f64,
    /// Median of `orig_ip_bytes`.
    pub median_bytes: f64,
    /// The 24 histogram bars.
    pub histogram: Vec<u32>,
    /// RITA's bucketed threat score for this beacon score, 0..0.8.
    pub threat: f64,
}

/// Round half away from zero to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Round up to three decimals.
pub fn ceil3(x: f64) -> f64 {
    (x * 1000.0 - 1e-9).ceil() / 1000.0
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Bowley skewness with Tukey's hinges over sorted data; 0 when `Q3 − Q1 < 10` or the
/// median equals a hinge.
pub fn bowley_skew(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n < 3 {
        return 0.0;
    }
    let q2 = median_sorted(sorted);
    let half = n / 2;
    let q1 = median_sorted(&sorted[..half]);
    let q3 = median_sorted(&sorted[n - half..]);
    if q3 - q1 < 10.0 || q2 == q1 || q2 == q3 {
        return 0.0;
    }
    (q1 + q3 - 2.0 * q2) / (q3 - q1)
}

/// The MAD score `(median − MAD)/median`; `default` when the median is below 1; 0 when
/// negative or not a number.
pub fn mad_score(sorted: &[f64], default: f64) -> f64 {
    let med = median_sorted(sorted);
    if med < 1.0 {
        return default;
    }
    let mut dev: Vec<f64> = sorted.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_sorted(&dev);
    let s = (med - mad) / med;
    if s.is_nan() || s < 0.0 { 0.0 } else { s }
}

/// Timestamp score from sorted whole-second start times; `None` with fewer than three
/// non-zero deltas.
pub fn ts_score(ts: &[i64]) -> Option<(f64, f64)> {
    let mut d: Vec<f64> = ts
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64)
        .filter(|d| *d != 0.0)
        .collect();
    if d.len() < 3 {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let skew = 1.0 - bowley_skew(&d).abs();
    let mad = mad_score(&d, 1.0);
    Some((round3((skew + mad) / 2.0), median_sorted(&d)))
}

/// Data-size score from per-connection byte counts; `None` with fewer than three.
pub fn ds_score(bytes: &[u64]) -> Option<(f64, f64)> {
    if bytes.len() < 3 {
        return None;
    }
    let mut d: Vec<f64> = bytes.iter().map(|b| *b as f64).collect();
    d.sort_by(f64::total_cmp);
    let skew = 1.0 - bowley_skew(&d).abs();
    let mad = mad_score(&d, 0.0);
    Some((round3((skew + mad) / 2.0), median_sorted(&d)))
}

/// The 24 bars over the window; times before the first edge fall into bin 0, the window's
/// end into bin 23.
pub fn histogram(ts: &[i64], w: Window) -> Vec<u32> {
    let mut bars = vec![0u32; 24];
    let span = (w.max - w.min) as f64;
    for &t in ts {
        let i = if span <= 0.0 {
            0
        } else {
            (((t - w.min) as f64 / span * 24.0).floor().max(0.0) as usize).min(23)
        };
        bars[i] += 1;
    }
    bars
}

/// Histogram score: max of the CV score and (with ≥ 11 non-empty bins) the bimodal fit.
pub fn hist_score(bars: &[u32]) -> f64 {
    let n = bars.len() as f64;
    let mean = bars.iter().map(|&b| f64::from(b)).sum::<f64>() / n;
    let var = bars
        .iter()
        .map(|&b| (f64::from(b) - mean).powi(2))
        .sum::<f64>()
        / n;
    let cv = if mean > 0.0 {
        var.sqrt() / mean
    } else {
        f64::INFINITY
    };
    let cv_score = if cv > 1.0 { 0.0 } else { round3(1.0 - cv) };
    let nonzero: Vec<u32> = bars.iter().copied().filter(|&b| b > 0).collect();
    let mut bimodal = 0.0;
    if nonzero.len() >= 11 {
        let max = nonzero.iter().copied().max().unwrap_or(0);
        let size = ((f64::from(max) * 0.05).ceil() as u32).max(1);
        let mut freq: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
        for b in &nonzero {
            *freq.entry(b / size * size).or_insert(0) += 1;
        }
        let mut f: Vec<u32> = freq.into_values().collect();
        f.sort_unstable_by(|a, b| b.cmp(a));
        let top2 = f.iter().take(2).sum::<u32>() as f64;
        let denom = (nonzero.len() as f64 - 1.0).max(1.0);
        bimodal = round3(top2 / denom).min(1.0);
    }
    cv_score.max(bimodal)
}

/// Duration score: with ≥ 6 non-empty bins, max(coverage, consistency).
pub fn dur_score(ts: &[i64], bars: &[u32], w: Window) -> f64 {
    let nonzero = bars.iter().filter(|&&b| b > 0).count();
    if nonzero < 6 || ts.is_empty() {
        return 0.0;
    }
    let span = (w.max - w.min) as f64;
    let coverage = if span > 0.0 {
        let first = ts.first().copied().unwrap_or(0);
        let last = ts.last().copied().unwrap_or(0);
        ceil3((last - first) as f64 / span).min(1.0)
    } else {
        0.0
    };
    // Longest run of consecutive non-empty bins, wrapping around.
    let n = bars.len();
    let mut best = 0;
    let mut run = 0;
    for i in 0..2 * n {
        if bars[i % n] > 0 {
            run += 1;
            best = best.max(run.min(n));
        } else {
            run = 0;
        }
    }
    let consistency = ceil3(best as f64 / 12.0).min(1.0);
    coverage.max(consistency)
}

/// RITA's bucketed threat score for a beacon score (percent thresholds 50/70/90/100).
pub fn threat(score: f64) -> f64 {
    let p = score * 100.0;
    let lerp =
        |lo: f64, hi: f64, a: f64, b: f64| a + (b - a) * ((p - lo) / (hi - lo)).clamp(0.0, 1.0);
    let t = if p < 50.0 {
        0.0
    } else if p < 70.0 {
        lerp(50.0, 70.0, 0.2, 0.4)
    } else if p < 90.0 {
        lerp(70.0, 90.0, 0.4, 0.6)
    } else {
        lerp(90.0, 100.0, 0.6, 0.8)
    };
    round3(t)
}

/// Score one pair. `ts` are start times truncated to whole seconds (any order), `bytes`
/// the matching `orig_ip_bytes`. `None` when not eligible: fewer than four unique
/// timestamps in the window, too many connections for a beacon, or too few deltas/sizes.
pub fn score(ts: &[i64], bytes: &[u64], w: Window) -> Option<BeaconScore> {
    let start = w.first_hour();
    let mut pairs: Vec<(i64, u64)> = ts
        .iter()
        .copied()
        .zip(bytes.iter().copied())
        .filter(|(t, _)| *t >= start && *t <= w.max)
        .collect();
    pairs.sort_unstable();
    let days = (((w.max - w.min) as f64) / 86_400.0).ceil().max(1.0) as usize;
    if pairs.len() >= MAX_CONNS_PER_DAY * days {
        return None;
    }
    let ts: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    let mut uniq = ts.clone();
    uniq.dedup();
    if uniq.len() < MIN_UNIQUE_TS {
        return None;
    }
    let bytes: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let (ts_s, med_iv) = ts_score(&ts)?;
    let (ds_s, med_b) = ds_score(&bytes)?;
    let bars = histogram(&ts, w);
    let hist_s = hist_score(&bars);
    let dur_s = dur_score(&ts, &bars, w);
    let score = round3(0.25 * ts_s + 0.25 * ds_s + 0.25 * dur_s + 0.25 * hist_s);
    Some(BeaconScore {
        score,
        ts_score: ts_s,
        ds_score: ds_s,
        dur_score: dur_s,
        hist_score: hist_s,
        count: ts.len(),
        median_interval: med_iv,
        median_bytes: med_b,
        histogram: bars,
        threat: threat(score),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[f64]) -> Vec<f64> {
        let mut x = x.to_vec();
        x.sort_by(f64::total_cmp);
        x
    }

    #[test]
    fn bowley_hinges_odd_and_even() {
        // Odd n = 7: the median (40) is excluded from both halves: Q1 = med(0,10,20) = 10,
        // Q3 = med(60,100,200) = 100, Q2 = 40 → (10 + 100 − 80)/90.
        let s = bowley_skew(&v(&[0.0, 10.0, 20.0, 40.0, 60.0, 100.0, 200.0]));
        assert!((s - 30.0 / 90.0).abs() < 1e-12);
        // Even n = 6: halves of 3: Q1 = 10, Q3 = 100, Q2 = (20+60)/2 = 40.
        let s = bowley_skew(&v(&[0.0, 10.0, 20.0, 60.0, 100.0, 200.0]));
        assert!((s - 30.0 / 90.0).abs() < 1e-12);
        // IQR below 10: 0.
        assert_eq!(bowley_skew(&v(&[2.0, 2.0, 3.0, 4.0, 9.0])), 0.0);
        // Median equal to a hinge: 0.
        assert_eq!(bowley_skew(&v(&[1.0, 5.0, 5.0, 5.0, 50.0, 90.0])), 0.0);
    }

    #[test]
    fn mad_defaults_below_one() {
        assert_eq!(mad_score(&v(&[0.0, 0.0, 0.5]), 1.0), 1.0);
        assert_eq!(mad_score(&v(&[0.0, 0.0, 0.5]), 0.0), 0.0);
        // median 3, deviations 1,0,0,1 → MAD 0.5 → (3 − 0.5)/3
        assert!((mad_score(&v(&[2.0, 3.0, 3.0, 4.0]), 1.0) - 2.5 / 3.0).abs() < 1e-12);
        // median 100, MAD 99 → 0.01 (for non-negative data MAD ≤ median, so never < 0)
        assert!((mad_score(&v(&[1.0, 1.0, 100.0, 200.0, 300.0]), 1.0) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn jittered_deltas_give_0_833() {
        // Deltas 2/3/4 with median 3 and MAD 1: (1 + 2/3)/2.
        // Deltas 2,2,2,3,4,4,4: median 3, deviations 1,1,1,0,1,1,1 → MAD 1.
        let ts = [0, 2, 4, 6, 9, 13, 17, 21];
        let (s, med) = ts_score(&ts).unwrap();
        assert_eq!(s, 0.833);
        assert_eq!(med, 3.0);
        // Fewer than three non-zero deltas.
        assert!(ts_score(&[0, 0, 0, 5, 10]).is_none());
    }

    #[test]
    fn histogram_edges_and_runs() {
        let w = Window { min: 100, max: 340 };
        let bars = histogram(&[50, 100, 109, 110, 339, 340], w);
        assert_eq!(bars[0], 3, "before the first edge → bin 0");
        assert_eq!(bars[1], 1);
        assert_eq!(bars[23], 2);
        // Wrap-around run: bins 20..24 and 0..4 non-empty = run of 8.
        let mut b = vec![0u32; 24];
        for i in (20..24).chain(0..4) {
            b[i] = 1;
        }
        let ts: Vec<i64> = vec![100, 110];
        assert_eq!(dur_score(&ts, &b, w), ceil3(8.0 / 12.0));
        // Fewer than 6 non-empty bins → 0.
        let mut c = vec![0u32; 24];
        c[0] = 5;
        assert_eq!(dur_score(&ts, &c, w), 0.0);
        // Flat histogram → CV 0 → 1.
        assert_eq!(hist_score(&[3; 24]), 1.0);
        assert_eq!(hist_score(&c), 0.0);
    }

    #[test]
    fn perfect_beacon_scores_one_and_noise_scores_low() {
        let ts: Vec<i64> = (0..300).map(|i| 1_000_000 + i * 2).collect();
        let bytes = vec![1577u64; 300];
        let w = Window::for_dataset(1_000_000.0, 1_000_598.0);
        let s = score(&ts, &bytes, w).unwrap();
        assert_eq!((s.ts_score, s.ds_score, s.dur_score), (1.0, 1.0, 1.0));
        assert!(s.score > 0.95, "{s:?}");
        // Irregular: 12 connections at random-ish times, random sizes.
        let ts: Vec<i64> = vec![0, 1, 7, 40, 41, 300, 302, 303, 900, 2000, 2001, 3500];
        let bytes: Vec<u64> = vec![
            60, 5000, 120, 9000, 70, 88000, 64, 300, 12000, 40, 77000, 500,
        ];
        let s = score(&ts, &bytes, Window::for_dataset(0.0, 3600.0)).unwrap();
        assert!(s.score < 0.7, "{s:?}");
        // Ineligible: three unique timestamps.
        assert!(score(&[1, 1, 2, 3], &[1, 1, 1, 1], Window::for_dataset(0.0, 10.0)).is_none());
        assert_eq!(threat(0.95), 0.7);
        assert_eq!(threat(0.4), 0.0);
    }

    #[test]
    fn window_is_last_24h_from_the_hour() {
        let w = Window::for_dataset(1_672_800_000.0, 1_672_944_522.9);
        assert_eq!(w.max, 1_672_944_522);
        assert_eq!(w.min, 1_672_944_522 - 86_400);
        assert_eq!(w.first_hour() % 3600, 0);
        assert!(w.first_hour() <= w.min);
    }
}
