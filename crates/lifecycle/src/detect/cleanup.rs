//! CLEANUP (dormant): a controlled host whose control peer fell silent for more than three
//! beacon periods (at least [`crate::Config::quiet_min`]) before the end of the data, or an
//! attacking host quiet for an hour after the attack. The network cannot tell a removed
//! implant from a sleeping one: "went quiet", not "clean".

use serde_json::json;

use super::{Found, evidence};
use crate::analyzer::{Analyzer, Uids};
use crate::model::State;

pub(crate) fn detect(a: &Analyzer, all: &[Found]) -> Vec<Found> {
    let end = a.max_ts;
    let mut out = Vec::new();
    for f in all {
        let quiet = match (f.ev.state, f.ev.kind.as_str()) {
            (State::Control, "beacon") => {
                let period =
                    f.ev.details
                        .get("median_interval")
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0);
                (3.0 * period).max(a.cfg.quiet_min)
            }
            (State::Attack, _) => 3600.0,
            _ => continue,
        };
        let silent = end - f.ev.window.end;
        if silent <= quiet {
            continue;
        }
        let Ok(host) = f.ev.host.parse() else {
            continue;
        };
        out.push(Found {
            ev: evidence(
                host,
                f.ev.peer.clone(),
                State::Cleanup,
                "went_quiet",
                (f.ev.window.end + quiet, end),
                f.ev.score,
                &Uids::default(),
                format!(
                    "{} went quiet: no {} to {} for {:.0} s before the end of the data (dormant or removed)",
                    f.ev.host,
                    f.ev.kind,
                    f.ev.peer.as_deref().unwrap_or("its peer"),
                    silent
                ),
                "T1070 Indicator Removal",
                json!({"after": f.ev.kind, "silent_seconds": silent}),
            ),
            targets: Vec::new(),
        });
    }
    out
}
