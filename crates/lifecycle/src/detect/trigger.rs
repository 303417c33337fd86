//! TRIGGER: coordination of instances — the same behaviour (same detector, same peer or
//! port) starting on ≥ 3 hosts within 60 s, which points at an external command, a timer
//! or a server appearing at a name.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::json;

use super::{Found, densest, evidence, excess_score};
use crate::analyzer::{Analyzer, Uids};
use crate::model::State;

pub(crate) fn detect(a: &Analyzer, all: &[Found]) -> Vec<Found> {
    let cfg = &a.cfg;
    // signature → host → earliest start
    let mut starts: BTreeMap<(String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for f in all {
        if matches!(f.ev.state, State::Access | State::Trigger | State::Cleanup) {
            continue;
        }
        let sig = (f.ev.kind.clone(), f.ev.peer.clone().unwrap_or_default());
        let e = starts
            .entry(sig)
            .or_default()
            .entry(f.ev.host.clone())
            .or_insert(f.ev.window.start);
        *e = e.min(f.ev.window.start);
    }
    let mut out = Vec::new();
    for ((kind, peer), hosts) in starts {
        if hosts.len() < cfg.trigger_hosts {
            continue;
        }
        let mut items: Vec<(f64, String)> = hosts.into_iter().map(|(h, t)| (t, h)).collect();
        items.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let (i, j) = densest(&items, cfg.trigger_window);
        let win = &items[i..j];
        if win.len() < cfg.trigger_hosts {
            continue;
        }
        let names: Vec<&str> = win.iter().map(|x| x.1.as_str()).collect();
        for (t, h) in win {
            let Ok(host) = h.parse::<IpAddr>() else {
                continue;
            };
            out.push(Found {
                ev: evidence(
                    host,
                    (!peer.is_empty()).then(|| peer.clone()),
                    State::Trigger,
                    "synchronized_start",
                    (win[0].0, *t),
                    excess_score(win.len(), cfg.trigger_hosts),
                    &Uids::default(),
                    format!(
                        "{} hosts started {kind}{} within {:.0} s: coordinated trigger",
                        win.len(),
                        if peer.is_empty() {
                            String::new()
                        } else {
                            format!(" ({peer})")
                        },
                        win[win.len() - 1].0 - win[0].0
                    ),
                    "T1480 Execution Guardrails",
                    json!({"behaviour": kind, "hosts": names}),
                ),
                targets: Vec::new(),
            });
        }
    }
    // Trigger evidence must precede the behaviour it triggers in a host's path.
    for f in &mut out {
        f.ev.window.start -= 1e-3;
        f.ev.window.end = f.ev.window.start;
    }
    out
}
