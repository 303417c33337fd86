//! The detectors, one module per lifecycle transition. Each reads the analyzer's
//! aggregates and returns [`Evidence`]; [`run_all`] runs them in dependency order
//! (propagation needs discovery's targets, access needs propagation, trigger and cleanup
//! look at everything before them).

pub(crate) mod access;
pub(crate) mod attack;
pub(crate) mod cleanup;
pub(crate) mod control;
pub(crate) mod discovery;
pub(crate) mod propagation;
pub(crate) mod trigger;

use std::net::IpAddr;

use crate::analyzer::{Analyzer, Uids};
use crate::model::{Evidence, State, Window};

/// Evidence plus the addresses it is about (scan targets, victims), for later detectors.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) ev: Evidence,
    pub(crate) targets: Vec<IpAddr>,
}

/// Run every detector; evidence sorted by host, then time, then kind.
pub(crate) fn run_all(a: &Analyzer) -> Vec<Evidence> {
    let disc = discovery::detect(a);
    let prop = propagation::detect(a, &disc);
    let ctrl = control::detect(a);
    let att = attack::detect(a);
    let mut all: Vec<Found> = Vec::new();
    all.extend(disc);
    all.extend(prop);
    all.extend(ctrl);
    all.extend(att);
    let acc = access::detect(a, &all);
    all.extend(acc);
    let trig = trigger::detect(a, &all);
    all.extend(trig);
    let quiet = cleanup::detect(a, &all);
    all.extend(quiet);
    let mut ev: Vec<Evidence> = all.into_iter().map(|f| f.ev).collect();
    ev.sort_by(|x, y| {
        x.host
            .cmp(&y.host)
            .then(x.window.start.total_cmp(&y.window.start))
            .then(x.kind.cmp(&y.kind))
            .then(x.peer.cmp(&y.peer))
    });
    ev
}

/// Confidence from how far a count exceeds its threshold: `1 − threshold/(2·n)` — 0.5 at
/// the threshold, 0.75 at twice it, → 1.
pub(crate) fn excess_score(n: usize, threshold: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    crate::beacon::round3((1.0 - threshold as f64 / (2.0 * n as f64)).clamp(0.0, 1.0))
}

/// The densest window of length `w` over time-sorted items: (start index, end index
/// exclusive) of the first window with the most items.
pub(crate) fn densest<T>(items: &[(f64, T)], w: f64) -> (usize, usize) {
    let (mut best, mut bi, mut bj) = (0, 0, 0);
    let mut i = 0;
    for j in 0..items.len() {
        while items[j].0 - items[i].0 > w {
            i += 1;
        }
        if j + 1 - i > best {
            best = j + 1 - i;
            bi = i;
            bj = j + 1;
        }
    }
    (bi, bj)
}

/// Build an evidence item.
#[allow(clippy::too_many_arguments)]
pub(crate) fn evidence(
    host: IpAddr,
    peer: Option<String>,
    state: State,
    kind: &str,
    window: (f64, f64),
    score: f64,
    uids: &Uids,
    reason: String,
    technique: &str,
    details: serde_json::Value,
) -> Evidence {
    Evidence {
        host: host.to_string(),
        peer,
        state,
        kind: kind.to_owned(),
        window: Window {
            start: window.0,
            end: window.1,
        },
        score,
        flows: uids.sample.clone(),
        flow_count: uids.count,
        reason,
        technique: technique.to_owned(),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn densest_window() {
        let items: Vec<(f64, u8)> = vec![
            (0.0, 0),
            (10.0, 0),
            (100.0, 0),
            (101.0, 0),
            (102.0, 0),
            (500.0, 0),
        ];
        assert_eq!(densest(&items, 5.0), (2, 5));
        assert_eq!(densest(&items, 1000.0), (0, 6));
        assert_eq!(densest::<u8>(&[], 5.0), (0, 0));
        assert_eq!(excess_score(5, 5), 0.5);
        assert_eq!(excess_score(10, 5), 0.75);
    }
}
