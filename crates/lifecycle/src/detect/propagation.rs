//! PROPAGATION: spreading to discovered victims.
//!
//! * `lateral_connection`: after a scan, a connection that exchanged data with a scanned
//!   (or sweep-answering) host on a service used for lateral movement (SSH, SMB, RDP, RPC,
//!   WinRM, VNC, VMware, databases), or on any port where SSH was recognised by its banner.
//! * `brute_force`: ≥ 9 short (< 60 s) connections to one login service within 60 s
//!   (Slips' SSH default); the service is recognised by its banner, not its port. Over an
//!   encrypted protocol the outcome is unknown, so this is an *attempt*: the victim is not
//!   put in ACCESS unless it later behaves like one.

use serde_json::json;

use super::{Found, densest, evidence, excess_score};
use crate::analyzer::{Analyzer, login_port};
use crate::model::State;

/// Ports of services used for lateral movement.
fn lateral_port(port: u16) -> bool {
    matches!(
        port,
        22 | 23 | 135 | 139 | 445 | 902 | 1433 | 2222 | 3306 | 3389 | 5900 | 5985 | 5986
    )
}

pub(crate) fn detect(a: &Analyzer, discovery: &[Found]) -> Vec<Found> {
    let cfg = &a.cfg;
    let mut out = Vec::new();
    for d in discovery {
        let Ok(src) = d.ev.host.parse() else { continue };
        for t in &d.targets {
            let Some(p) = a.pairs.get(&(src, *t)) else {
                continue;
            };
            for (&(_, port), ps) in &p.ports {
                let Some(first) = ps.first_success else {
                    continue;
                };
                if first < d.ev.window.start || !(lateral_port(port) || ps.ssh) {
                    continue;
                }
                let service = if ps.ssh {
                    "ssh".to_owned()
                } else {
                    format!("port {port}")
                };
                out.push(Found {
                    ev: evidence(
                        src,
                        Some(t.to_string()),
                        State::Propagation,
                        "lateral_connection",
                        (first, p.last),
                        0.8,
                        &ps.ok_uids,
                        format!("{src} connected to {t}:{port} ({service}) after scanning it ({})", d.ev.kind),
                        "T1021 Remote Services; T1210 Exploitation of Remote Services",
                        json!({"port": port, "service": service, "connections": ps.successes, "after": d.ev.kind}),
                    ),
                    targets: vec![*t],
                });
            }
        }
    }
    for ((src, dst), p) in &a.pairs {
        for (&(kind, port), ps) in &p.ports {
            if kind != 6 || ps.short.len() < cfg.brute_conns || !(ps.ssh || login_port(port)) {
                continue;
            }
            let mut items: Vec<(f64, ())> = ps.short.iter().map(|t| (*t, ())).collect();
            items.sort_by(|x, y| x.0.total_cmp(&y.0));
            let (i, j) = densest(&items, cfg.brute_window);
            let n = j - i;
            if n < cfg.brute_conns {
                continue;
            }
            let service = if ps.ssh { "ssh" } else { "login service" };
            let outcome = if ps.ssh {
                "unknown (encrypted)"
            } else {
                "unknown"
            };
            out.push(Found {
                ev: evidence(
                    *src,
                    Some(dst.to_string()),
                    State::Propagation,
                    "brute_force",
                    (items[i].0, items[j - 1].0),
                    excess_score(n, cfg.brute_conns),
                    &ps.ok_uids,
                    format!(
                        "Brute-force attempt: {n} short {service} connections from {src} to {dst}:{port} within {:.0} s; outcome {outcome}",
                        items[j - 1].0 - items[i].0
                    ),
                    "T1110 Brute Force; T1021.004 Remote Services: SSH",
                    json!({"port": port, "service": service, "banner": ps.banner, "connections_in_window": n,
                           "connections": ps.successes, "outcome": outcome, "attempt": true}),
                ),
                targets: vec![*dst],
            });
        }
    }
    out
}
