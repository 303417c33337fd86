//! ACCESS (a new victim): a host reached by a propagating host that starts DISCOVERY or
//! CONTROL itself within 10 minutes. Reaching alone is not enough — a brute force whose
//! outcome is unknown does not make its target a victim; its behaviour afterwards does.

use std::net::IpAddr;

use serde_json::json;

use super::{Found, evidence};
use crate::analyzer::{Analyzer, Uids};
use crate::model::State;

pub(crate) fn detect(a: &Analyzer, all: &[Found]) -> Vec<Found> {
    let mut out = Vec::new();
    for p in all.iter().filter(|f| f.ev.state == State::Propagation) {
        let Ok(attacker) = p.ev.host.parse::<IpAddr>() else {
            continue;
        };
        for victim in &p.targets {
            let reached = p.ev.window.start;
            let later = all.iter().find(|f| {
                f.ev.host == victim.to_string()
                    && matches!(f.ev.state, State::Discovery | State::Control)
                    && f.ev.window.start >= reached
                    && f.ev.window.start - reached <= a.cfg.access_window
            });
            let Some(later) = later else { continue };
            let mut uids = Uids::default();
            uids.extend(&Uids {
                sample: p.ev.flows.clone(),
                count: p.ev.flow_count,
            });
            out.push(Found {
                ev: evidence(
                    *victim,
                    Some(attacker.to_string()),
                    State::Access,
                    "new_victim",
                    (reached, later.ev.window.start),
                    p.ev.score.min(later.ev.score),
                    &uids,
                    format!(
                        "{victim} was reached by {attacker} ({}) and started {} ({}) {:.0} s later",
                        p.ev.kind,
                        later.ev.state,
                        later.ev.kind,
                        later.ev.window.start - reached
                    ),
                    "T1021 Remote Services",
                    json!({"reached_by": attacker.to_string(), "via": p.ev.kind, "then": later.ev.kind}),
                ),
                targets: vec![attacker],
            });
        }
    }
    out
}
