//! ATTACK: the damaging function as far as the network shows it — exfiltration (≥ 10 MB
//! out to one external peer) and denial of service (≥ 10,000 packets at ≥ 1,000 packets/s
//! sustained to one peer).

use serde_json::json;

use super::{Found, evidence};
use crate::analyzer::Analyzer;
use crate::beacon::round3;
use crate::model::State;

pub(crate) fn detect(a: &Analyzer) -> Vec<Found> {
    let cfg = &a.cfg;
    let mut out = Vec::new();
    for ((src, dst), p) in &a.pairs {
        if !cfg.local.is_local(src) || cfg.local.is_local(dst) {
            continue;
        }
        if p.orig_bytes >= cfg.exfil_bytes {
            let mb = p.orig_bytes as f64 / 1e6;
            let ratio = p.orig_bytes as f64 / (p.resp_bytes.max(1)) as f64;
            let score = round3(
                (0.5 + 0.1 * (mb / 10.0).log2().max(0.0) + if ratio > 10.0 { 0.2 } else { 0.0 })
                    .min(1.0),
            );
            out.push(Found {
                ev: evidence(
                    *src,
                    Some(dst.to_string()),
                    State::Attack,
                    "exfiltration",
                    (p.first, p.last),
                    score,
                    &p.uids,
                    format!("{src} sent {mb:.1} MB to {dst} (received {:.1} MB)", p.resp_bytes as f64 / 1e6),
                    "T1041 Exfiltration Over C2 Channel; T1048 Exfiltration Over Alternative Protocol",
                    json!({"orig_bytes": p.orig_bytes, "resp_bytes": p.resp_bytes, "connections": p.flows}),
                ),
                targets: vec![*dst],
            });
        }
        let span = (p.last - p.first).max(1.0);
        let pps = p.orig_pkts as f64 / span;
        if p.orig_pkts >= cfg.dos_packets && pps >= cfg.dos_pps {
            out.push(Found {
                ev: evidence(
                    *src,
                    Some(dst.to_string()),
                    State::Attack,
                    "dos",
                    (p.first, p.last),
                    round3((0.5 + pps / (20.0 * cfg.dos_pps)).min(1.0)),
                    &p.uids,
                    format!("{src} sent {} packets to {dst} at {pps:.0} packets/s", p.orig_pkts),
                    "T1498 Network Denial of Service; T1499 Endpoint Denial of Service",
                    json!({"packets": p.orig_pkts, "packets_per_second": round3(pps), "connections": p.flows}),
                ),
                targets: vec![*dst],
            });
        }
    }
    out
}
