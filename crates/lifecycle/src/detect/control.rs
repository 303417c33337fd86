//! CONTROL: command and control, updates and modules.
//!
//! * `beacon`: RITA's beacon score ≥ 0.90 for a (source, name) group — TLS SNI or HTTP
//!   Host, proxied CONNECTs included, so beacons are found behind a proxy — or for a
//!   (source, external address) pair over the connections without a name.
//! * `long_connection`: ≥ 1 h of connection time between a local and an external host.
//! * `dns_tunnel`: ≥ 100 unique names below one registered domain (reputation and DNSBL
//!   zones excluded: a mail server's spamhaus lookups are not a tunnel).
//! * `nxdomain_burst`: ≥ 10 distinct NXDOMAIN names over ≥ 3 registered domains within
//!   5 min (domain-generation algorithms).
//! * `update_download`: a single inbound transfer ≥ 1 MB from a beacon's peer (T1105: an
//!   update or module, as opposed to a small command).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::json;

use super::{Found, densest, evidence, excess_score};
use crate::analyzer::{Analyzer, Uids};
use crate::beacon::round3;
use crate::dns;
use crate::model::State;

pub(crate) fn detect(a: &Analyzer) -> Vec<Found> {
    let cfg = &a.cfg;
    let mut out = Vec::new();
    for (src, peer, g, s, named) in a.beacons() {
        if s.score < cfg.beacon_threshold {
            continue;
        }
        let mut via: Vec<String> = g
            .via
            .iter()
            .map(|(ip, port)| format!("{ip}:{port}"))
            .collect();
        via.sort();
        let proxied = g.proxied > 0;
        let technique = if proxied {
            "T1071 Application Layer Protocol; T1573 Encrypted Channel; T1090 Proxy"
        } else {
            "T1071 Application Layer Protocol; T1573 Encrypted Channel"
        };
        out.push(Found {
            ev: evidence(
                src,
                Some(peer.clone()),
                State::Control,
                "beacon",
                (g.first, g.last),
                s.score,
                &g.uids,
                format!(
                    "Beacon from {src} to {peer}{}: {} connections every ~{:.0} s, score {:.3} (ts {:.3}, ds {:.3}, dur {:.3}, hist {:.3})",
                    if proxied { format!(" through proxy {}", via.join(", ")) } else { String::new() },
                    s.count,
                    s.median_interval,
                    s.score,
                    s.ts_score,
                    s.ds_score,
                    s.dur_score,
                    s.hist_score
                ),
                technique,
                json!({"grouped_by": if named { "name" } else { "address" }, "count": s.count,
                       "ts_score": s.ts_score, "ds_score": s.ds_score, "dur_score": s.dur_score, "hist_score": s.hist_score,
                       "median_interval": s.median_interval, "median_bytes": s.median_bytes, "histogram": s.histogram,
                       "threat": s.threat, "proxied": a.proxied_in_window(g), "via": via, "total_ip_bytes": g.ip_bytes,
                       "total_duration": round3(g.duration)}),
            ),
            targets: peer.parse::<IpAddr>().ok().into_iter().collect(),
        });
        for (ts, bytes, uid) in &g.big_inbound {
            let mut u = Uids::default();
            u.add(uid);
            out.push(Found {
                ev: evidence(
                    src,
                    Some(peer.clone()),
                    State::Control,
                    "update_download",
                    (*ts, *ts),
                    round3((s.score * 0.9).min(1.0)),
                    &u,
                    format!("{src} received {bytes} bytes in one connection from its control peer {peer}: update or module"),
                    "T1105 Ingress Tool Transfer",
                    json!({"bytes": bytes}),
                ),
                targets: Vec::new(),
            });
        }
    }

    for ((src, dst), p) in &a.pairs {
        if p.duration >= cfg.long_conn && cfg.local.is_local(src) && !cfg.local.is_local(dst) {
            let hours = p.duration / 3600.0;
            let score = if hours >= 12.0 {
                1.0
            } else if hours >= 8.0 {
                0.9
            } else if hours >= 4.0 {
                0.8
            } else {
                0.6
            };
            out.push(Found {
                ev: evidence(
                    *src,
                    Some(dst.to_string()),
                    State::Control,
                    "long_connection",
                    (p.first, p.last),
                    score,
                    &p.uids,
                    format!(
                        "{src} spent {hours:.1} h connected to {dst} over {} connections",
                        p.flows
                    ),
                    "T1071 Application Layer Protocol",
                    json!({"total_duration": round3(p.duration), "connections": p.flows}),
                ),
                targets: vec![*dst],
            });
        }
    }

    for (client, c) in &a.dns {
        for (domain, (names, first, last)) in &c.domains {
            if names.len() < cfg.dns_tunnel_names || (cfg.dns_allowlist && dns::allowlisted(domain))
            {
                continue;
            }
            let n = names.len();
            let score = if n >= 1000 {
                1.0
            } else if n >= 800 {
                0.9
            } else if n >= 500 {
                0.8
            } else {
                0.6
            };
            out.push(Found {
                ev: evidence(
                    *client,
                    Some(domain.clone()),
                    State::Control,
                    "dns_tunnel",
                    (*first, *last),
                    score,
                    &Uids::default(),
                    format!("{client} queried {n} unique names under {domain}: C2 over DNS"),
                    "T1071.004 Application Layer Protocol: DNS",
                    json!({"unique_names": n}),
                ),
                targets: Vec::new(),
            });
        }
        let mut nx: Vec<(f64, String)> =
            c.nx.iter()
                .filter(|(_, q)| !(cfg.dns_allowlist && dns::allowlisted(q)))
                .cloned()
                .collect();
        if nx.len() < cfg.nx_names {
            continue;
        }
        nx.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        // Keep the first failure of each name.
        let mut seen = BTreeSet::new();
        nx.retain(|(_, q)| seen.insert(q.clone()));
        let (i, j) = densest(&nx, cfg.nx_window);
        let win = &nx[i..j];
        let domains: BTreeSet<&str> = win.iter().map(|(_, q)| dns::registered_domain(q)).collect();
        if win.len() < cfg.nx_names || domains.len() < 3 {
            continue;
        }
        out.push(Found {
            ev: evidence(
                *client,
                None,
                State::Control,
                "nxdomain_burst",
                (win[0].0, win[win.len() - 1].0),
                excess_score(win.len(), cfg.nx_names),
                &Uids::default(),
                format!(
                    "{client} got NXDOMAIN for {} names under {} domains within {:.0} s: domain generation algorithm",
                    win.len(),
                    domains.len(),
                    win[win.len() - 1].0 - win[0].0
                ),
                "T1568.002 Dynamic Resolution: Domain Generation Algorithms",
                json!({"names": win.len(), "domains": domains.len(),
                       "sample": win.iter().take(10).map(|x| x.1.clone()).collect::<Vec<_>>()}),
            ),
            targets: Vec::new(),
        });
    }
    out
}
