//! DISCOVERY: horizontal scans (one port, many hosts), vertical scans (one host, many
//! ports), ICMP echo and ARP sweeps; each told blind (contiguous or broadcast targets,
//! randomised TTLs, mostly unanswered) or targeted.
//!
//! Thresholds (Slips defaults): ≥ 5 distinct unanswered/rejected destinations on one port
//! within 1 h, ignoring destinations that had a DNS answer (the host looked them up, so it
//! knew them); ≥ 5 distinct unanswered ports on one destination within 1 h; ≥ 5 echo or ARP
//! targets within 60 s.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::json;

use super::{Found, densest, evidence, excess_score};
use crate::analyzer::{Analyzer, Uids};
use crate::flow::Proto;
use crate::model::State;

fn proto_name(kind: u8) -> &'static str {
    match kind {
        6 => "tcp",
        17 => "udp",
        _ => "ip",
    }
}

/// Network (.0) or broadcast (.255) address of a /24.
fn edge_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => matches!(v.octets()[3], 0 | 255),
        IpAddr::V6(_) => false,
    }
}

/// Share of IPv4 targets that have a neighbour (±1) among the targets.
fn contiguity(targets: &[IpAddr]) -> f64 {
    let v4: Vec<u32> = targets
        .iter()
        .filter_map(|t| match t {
            IpAddr::V4(v) => Some(u32::from(*v)),
            IpAddr::V6(_) => None,
        })
        .collect();
    if v4.len() < 2 {
        return 0.0;
    }
    let set: std::collections::HashSet<u32> = v4.iter().copied().collect();
    let n = v4
        .iter()
        .filter(|a| set.contains(&a.wrapping_add(1)) || set.contains(&a.wrapping_sub(1)))
        .count();
    n as f64 / v4.len() as f64
}

pub(crate) fn detect(a: &Analyzer) -> Vec<Found> {
    let cfg = &a.cfg;
    let mut out = Vec::new();

    // Horizontal: (src, proto, port) → failed destinations.
    type HKey = (IpAddr, u8, u16);
    type Failed = (IpAddr, Uids, u64);
    let mut horiz: BTreeMap<HKey, Vec<(f64, Failed)>> = BTreeMap::new();
    let mut contacted: BTreeMap<HKey, u64> = BTreeMap::new();
    for ((src, dst), p) in &a.pairs {
        for (&(kind, port), ps) in &p.ports {
            *contacted.entry((*src, kind, port)).or_insert(0) += 1;
            if let Some(t) = ps.first_fail
                && !a.answered.contains(dst)
            {
                horiz
                    .entry((*src, kind, port))
                    .or_default()
                    .push((t, (*dst, ps.fail_uids.clone(), ps.failed)));
            }
        }
    }
    for (key @ (src, kind, port), mut items) in horiz {
        if items.len() < cfg.hscan_targets {
            continue;
        }
        items.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.0.cmp(&y.1.0)));
        let (i, j) = densest(&items, cfg.scan_window);
        let win = &items[i..j];
        if win.len() < cfg.hscan_targets {
            continue;
        }
        let targets: Vec<IpAddr> = win.iter().map(|x| x.1.0).collect();
        let mut uids = Uids::default();
        let mut attempts = 0;
        for x in win {
            uids.extend(&x.1.1);
            attempts += x.1.2;
        }
        let total = contacted.get(&key).copied().unwrap_or(0);
        let failed_ratio = win.len() as f64 / total.max(1) as f64;
        let blind = (targets.iter().any(edge_address) || contiguity(&targets) >= 0.5)
            && failed_ratio >= 0.5;
        let strategy = if blind { "blind" } else { "targeted" };
        let proto = proto_name(kind);
        let mut sample: Vec<String> = targets.iter().take(20).map(ToString::to_string).collect();
        sample.sort();
        out.push(Found {
            ev: evidence(
                src,
                Some(format!("{port}/{proto}")),
                State::Discovery,
                "horizontal_scan",
                (win[0].0, win[win.len() - 1].0),
                excess_score(win.len(), cfg.hscan_targets),
                &uids,
                format!(
                    "Horizontal port scan to port {port}/{} from {src}: {} unanswered destinations ({} contacted), {strategy}",
                    proto.to_uppercase(),
                    win.len(),
                    total
                ),
                "T1046 Network Service Discovery",
                json!({"port": port, "proto": proto, "unanswered_targets": win.len(), "attempts": attempts,
                       "targets_contacted": total, "failed_ratio": crate::beacon::round3(failed_ratio),
                       "strategy": strategy, "targets": sample}),
            ),
            targets,
        });
    }

    // Vertical: (src, dst) → failed ports.
    for ((src, dst), p) in &a.pairs {
        let mut items: Vec<(f64, (u16, u8, Uids, u64))> = p
            .ports
            .iter()
            .filter_map(|(&(kind, port), ps)| {
                ps.first_fail
                    .map(|t| (t, (port, kind, ps.fail_uids.clone(), ps.failed)))
            })
            .collect();
        if items.len() < cfg.vscan_ports {
            continue;
        }
        items.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.0.cmp(&y.1.0)));
        let (i, j) = densest(&items, cfg.scan_window);
        let win = &items[i..j];
        if win.len() < cfg.vscan_ports {
            continue;
        }
        let mut uids = Uids::default();
        for x in win {
            uids.extend(&x.1.2);
        }
        let mut ports: Vec<u16> = win.iter().map(|x| x.1.0).collect();
        ports.sort_unstable();
        ports.dedup();
        let open: Vec<u16> = p
            .ports
            .iter()
            .filter(|(_, ps)| ps.first_fail.is_none() && ps.attempts > 0)
            .map(|(&(_, port), _)| port)
            .collect();
        let n = ports.len();
        let blind = n >= 100 || ports.windows(2).filter(|w| w[1] == w[0] + 1).count() * 2 >= n;
        let strategy = if blind { "blind" } else { "targeted" };
        out.push(Found {
            ev: evidence(
                *src,
                Some(dst.to_string()),
                State::Discovery,
                "vertical_scan",
                (win[0].0, win[win.len() - 1].0),
                excess_score(n, cfg.vscan_ports),
                &uids,
                format!("Vertical port scan to IP {dst} from {src}: {n} unanswered or rejected ports, {} answered", open.len()),
                "T1046 Network Service Discovery",
                json!({"unanswered_ports": n, "ports": ports.iter().take(50).collect::<Vec<_>>(), "open_ports": open, "strategy": strategy}),
            ),
            targets: vec![*dst],
        });
    }

    // ICMP echo and ARP sweeps: src → targets.
    type Target = (IpAddr, bool, u8, u8, Uids);
    let mut echo: BTreeMap<IpAddr, Vec<(f64, Target)>> = BTreeMap::new();
    let mut arp: BTreeMap<IpAddr, Vec<(f64, Target)>> = BTreeMap::new();
    for ((src, dst), p) in &a.pairs {
        if let Some((t, ans, lo, hi)) = p.echo {
            echo.entry(*src)
                .or_default()
                .push((t, (*dst, ans, lo, hi, p.uids.clone())));
        }
        if let Some((t, ans)) = p.arp {
            arp.entry(*src)
                .or_default()
                .push((t, (*dst, ans, 0, 0, p.uids.clone())));
        }
    }
    for (kind, map, proto) in [
        ("icmp_sweep", echo, Proto::Icmp),
        ("arp_sweep", arp, Proto::Arp),
    ] {
        for (src, mut items) in map {
            if items.len() < cfg.sweep_targets {
                continue;
            }
            items.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.0.cmp(&y.1.0)));
            let (i, j) = densest(&items, cfg.sweep_window);
            let win = &items[i..j];
            if win.len() < cfg.sweep_targets {
                continue;
            }
            let targets: Vec<IpAddr> = win.iter().map(|x| x.1.0).collect();
            let mut live: Vec<IpAddr> = win.iter().filter(|x| x.1.1).map(|x| x.1.0).collect();
            live.sort();
            let mut uids = Uids::default();
            for x in win {
                uids.extend(&x.1.4);
            }
            let edges = targets.iter().filter(|t| edge_address(t)).count();
            let ttl_lo = win.iter().map(|x| x.1.2).min().unwrap_or(0);
            let ttl_hi = win.iter().map(|x| x.1.3).max().unwrap_or(0);
            let random_ttl = proto == Proto::Icmp && ttl_hi.saturating_sub(ttl_lo) >= 8;
            let unanswered = 1.0 - live.len() as f64 / targets.len() as f64;
            let blind = edges > 0 || random_ttl || contiguity(&targets) >= 0.5 || unanswered >= 0.5;
            let strategy = if blind { "blind" } else { "targeted" };
            let what = if proto == Proto::Icmp {
                "ICMP echo"
            } else {
                "ARP"
            };
            out.push(Found {
                ev: evidence(
                    src,
                    None,
                    State::Discovery,
                    kind,
                    (win[0].0, win[win.len() - 1].0),
                    excess_score(targets.len(), cfg.sweep_targets),
                    &uids,
                    format!(
                        "{what} sweep from {src}: {} targets, {} answered{}{}; {strategy}",
                        targets.len(),
                        live.len(),
                        if edges > 0 { format!(", {edges} network/broadcast probes") } else { String::new() },
                        if random_ttl { format!(", randomised TTL {ttl_lo}–{ttl_hi}") } else { String::new() },
                    ),
                    "T1018 Remote System Discovery",
                    json!({"targets": targets.len(), "live_hosts": live.iter().map(ToString::to_string).collect::<Vec<_>>(),
                           "broadcast_probes": edges, "ttl_min": ttl_lo, "ttl_max": ttl_hi, "strategy": strategy}),
                ),
                targets: live,
            });
        }
    }
    out
}
