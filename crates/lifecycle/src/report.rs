//! The analysis result: hosts with their lifecycle state, path and evidence; beacon
//! candidates; the infection chain; what to contain; the covert-channel estimate; what was
//! skipped. Serialises to the JSON the CLI prints (`{"hosts": [...], ..., "skipped": {...}}`)
//! and renders as text, nftables rules and Graphviz DOT; [`crate::html`] renders HTML.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::analyzer::Analyzer;
use crate::covert::CovertChannel;
use crate::model::{Evidence, State, Transition, implied_states};
use crate::net::format_time;
use crate::skip::Skipped;

/// One host's lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    /// The address.
    pub host: String,
    /// Current state.
    pub state: State,
    /// States entered, in order.
    pub path: Vec<State>,
    /// Strongest evidence score of the current state, 0..1.
    pub score: f64,
    /// First evidence.
    pub first_seen: f64,
    /// Last evidence.
    pub last_seen: f64,
    /// State changes, with the draft edge check.
    pub transitions: Vec<Transition>,
    /// Every evidence item, in time order.
    pub evidence: Vec<Evidence>,
}

/// A scored beacon candidate (eligible group), above or below the Control threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconReport {
    /// Source.
    pub src: String,
    /// Name (SNI / Host / CONNECT) or address.
    pub peer: String,
    /// Grouped by `name` or `address`.
    pub grouped_by: String,
    /// RITA score.
    pub score: f64,
    /// Timestamp sub-score.
    pub ts_score: f64,
    /// Data-size sub-score.
    pub ds_score: f64,
    /// Duration sub-score.
    pub dur_score: f64,
    /// Histogram sub-score.
    pub hist_score: f64,
    /// Connections in the window.
    pub count: usize,
    /// Connections through a proxy (CONNECT).
    pub proxy_count: u64,
    /// Median interval, seconds.
    pub median_interval: f64,
    /// Sum of IP bytes both ways.
    pub total_ip_bytes: u64,
    /// Sum of connection durations.
    pub total_duration: f64,
    /// The 24-bin connection histogram.
    pub histogram: Vec<u32>,
    /// Whether it reached the Control threshold.
    pub control: bool,
}

/// An edge of the infection chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEdge {
    /// Who reached.
    pub from: String,
    /// Who was reached.
    pub to: String,
    /// When.
    pub at: f64,
    /// How (`lateral_connection`, `brute_force`).
    pub via: String,
    /// The reached host then started behaving like a victim (ACCESS evidence).
    pub confirmed: bool,
}

/// What to isolate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Containment {
    /// Hosts in propagation, control, trigger, attack or cleanup.
    pub hosts: Vec<String>,
    /// Their external peers by address.
    pub peer_addresses: Vec<String>,
    /// Their peers by name (block at the resolver or proxy).
    pub peer_names: Vec<String>,
}

/// Totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Flows analysed.
    pub flows: u64,
    /// DNS transactions analysed.
    pub dns_transactions: u64,
    /// Records outside `--since`/`--until`.
    pub filtered: u64,
    /// First time in the data.
    pub first_ts: Option<f64>,
    /// Last time in the data.
    pub last_ts: Option<f64>,
    /// Local networks used.
    pub local_nets: Vec<String>,
}

/// The whole result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Hosts with evidence, most severe first.
    pub hosts: Vec<HostReport>,
    /// Beacon candidates, best first (at most 100).
    pub beacons: Vec<BeaconReport>,
    /// Who reached whom.
    pub chain: Vec<ChainEdge>,
    /// What to isolate.
    pub containment: Containment,
    /// Covert-channel capacity per protocol field.
    pub covert_channels: Vec<CovertChannel>,
    /// Totals.
    pub summary: Summary,
    /// Skipped records.
    pub skipped: Skipped,
}

/// Build a host's path, transitions, current state and score from its evidence.
pub fn host_report(host: &str, mut ev: Vec<Evidence>) -> HostReport {
    ev.sort_by(|a, b| {
        a.window
            .start
            .total_cmp(&b.window.start)
            .then(a.kind.cmp(&b.kind))
    });
    let mut path: Vec<State> = Vec::new();
    let mut transitions = Vec::new();
    let mut cur = State::Unknown;
    for e in &ev {
        if e.state != cur {
            transitions.push(Transition {
                from: cur,
                to: e.state,
                at: e.window.start,
                draft_edge: crate::model::draft_edge(cur, e.state),
                implied: implied_states(cur, e.state),
            });
            path.push(e.state);
            cur = e.state;
        }
    }
    // Current: the state whose evidence reaches furthest in time; ties to the more severe.
    let current = ev
        .iter()
        .max_by(|a, b| {
            a.window
                .end
                .total_cmp(&b.window.end)
                .then(a.state.severity().cmp(&b.state.severity()))
        })
        .map_or(State::Unknown, |e| e.state);
    if path.last() != Some(&current) && current != State::Unknown {
        transitions.push(Transition {
            from: cur,
            to: current,
            at: ev
                .iter()
                .filter(|e| e.state == current)
                .map(|e| e.window.end)
                .fold(f64::NEG_INFINITY, f64::max),
            draft_edge: crate::model::draft_edge(cur, current),
            implied: implied_states(cur, current),
        });
        path.push(current);
    }
    let score = ev
        .iter()
        .filter(|e| e.state == current)
        .map(|e| e.score)
        .fold(0.0, f64::max);
    HostReport {
        host: host.to_owned(),
        state: current,
        path,
        score,
        first_seen: ev
            .iter()
            .map(|e| e.window.start)
            .fold(f64::INFINITY, f64::min),
        last_seen: ev
            .iter()
            .map(|e| e.window.end)
            .fold(f64::NEG_INFINITY, f64::max),
        transitions,
        evidence: ev,
    }
}

pub(crate) fn build(a: &Analyzer, evidence: Vec<Evidence>, skipped: &Skipped) -> Report {
    let mut by_host: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
    for e in evidence {
        by_host.entry(e.host.clone()).or_default().push(e);
    }
    let mut hosts: Vec<HostReport> = by_host
        .into_iter()
        .map(|(h, ev)| host_report(&h, ev))
        .collect();
    hosts.sort_by(|x, y| {
        y.state
            .severity()
            .cmp(&x.state.severity())
            .then(y.score.total_cmp(&x.score))
            .then(x.host.cmp(&y.host))
    });

    let threshold = a.cfg.beacon_threshold;
    let beacons = a
        .beacons()
        .into_iter()
        .take(100)
        .map(|(src, peer, g, s, named)| BeaconReport {
            src: src.to_string(),
            peer,
            grouped_by: if named { "name" } else { "address" }.to_owned(),
            score: s.score,
            ts_score: s.ts_score,
            ds_score: s.ds_score,
            dur_score: s.dur_score,
            hist_score: s.hist_score,
            count: s.count,
            proxy_count: a.proxied_in_window(g),
            median_interval: s.median_interval,
            total_ip_bytes: g.ip_bytes,
            total_duration: crate::beacon::round3(g.duration),
            histogram: s.histogram,
            control: s.score >= threshold,
        })
        .collect();

    let mut chain = Vec::new();
    for h in &hosts {
        for e in &h.evidence {
            if e.state == State::Propagation
                && let Some(peer) = &e.peer
            {
                let confirmed = hosts.iter().any(|v| {
                    &v.host == peer
                        && v.evidence
                            .iter()
                            .any(|x| x.kind == "new_victim" && x.peer.as_deref() == Some(&h.host))
                });
                chain.push(ChainEdge {
                    from: h.host.clone(),
                    to: peer.clone(),
                    at: e.window.start,
                    via: e.kind.clone(),
                    confirmed,
                });
            }
        }
    }
    chain.sort_by(|x, y| {
        x.at.total_cmp(&y.at)
            .then(x.from.cmp(&y.from))
            .then(x.to.cmp(&y.to))
    });
    chain.dedup_by(|x, y| x.from == y.from && x.to == y.to && x.via == y.via);

    let mut cont_hosts = BTreeSet::new();
    let mut addrs = BTreeSet::new();
    let mut names = BTreeSet::new();
    for h in &hosts {
        if !matches!(
            h.state,
            State::Propagation | State::Control | State::Trigger | State::Attack | State::Cleanup
        ) {
            continue;
        }
        cont_hosts.insert(h.host.clone());
        for e in &h.evidence {
            if !matches!(e.state, State::Control | State::Attack) {
                continue;
            }
            if let Some(p) = &e.peer {
                match p.parse::<IpAddr>() {
                    Ok(ip) if !a.cfg.local.is_local(&ip) => {
                        addrs.insert(p.clone());
                    }
                    Ok(_) => {}
                    Err(_) => {
                        names.insert(p.clone());
                    }
                }
            }
        }
    }

    Report {
        hosts,
        beacons,
        chain,
        containment: Containment {
            hosts: cont_hosts.into_iter().collect(),
            peer_addresses: addrs.into_iter().collect(),
            peer_names: names.into_iter().collect(),
        },
        covert_channels: a.covert.channels(),
        summary: Summary {
            flows: a.flows,
            dns_transactions: a.dns_txns,
            filtered: a.filtered,
            first_ts: a.min_ts.is_finite().then_some(a.min_ts),
            last_ts: a.max_ts.is_finite().then_some(a.max_ts),
            local_nets: a.cfg.local.nets().iter().map(ToString::to_string).collect(),
        },
        skipped: skipped.clone(),
    }
}

impl Report {
    /// The host entry for an address.
    pub fn host(&self, host: &str) -> Option<&HostReport> {
        self.hosts.iter().find(|h| h.host == host)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The text summary: hosts by severity with their path and top evidence.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let span = match (self.summary.first_ts, self.summary.last_ts) {
            (Some(a), Some(b)) => format!("{} .. {}", format_time(a), format_time(b)),
            _ => "no data".to_owned(),
        };
        let _ = writeln!(
            s,
            "{} flows, {} DNS transactions, {span}",
            self.summary.flows, self.summary.dns_transactions
        );
        if self.hosts.is_empty() {
            let _ = writeln!(s, "no lifecycle evidence");
        }
        for h in &self.hosts {
            let path: Vec<&str> = h.path.iter().map(|p| p.as_str()).collect();
            let _ = writeln!(
                s,
                "\n{}  {}  score {:.3}  path {}",
                h.host,
                h.state.as_str().to_uppercase(),
                h.score,
                path.join(" → ")
            );
            let mut top: Vec<&Evidence> = h.evidence.iter().collect();
            top.sort_by(|a, b| {
                b.state
                    .severity()
                    .cmp(&a.state.severity())
                    .then(b.score.total_cmp(&a.score))
            });
            for e in top.iter().take(5) {
                let _ = writeln!(
                    s,
                    "  [{}] {:.3} {}  ({} flows)",
                    e.kind, e.score, e.reason, e.flow_count
                );
            }
            if h.evidence.len() > 5 {
                let _ = writeln!(
                    s,
                    "  ... {} more evidence items (--format json)",
                    h.evidence.len() - 5
                );
            }
        }
        let below: Vec<&BeaconReport> =
            self.beacons.iter().filter(|b| !b.control).take(5).collect();
        if !below.is_empty() {
            let _ = writeln!(s, "\nbeacon candidates below the control threshold:");
            for b in below {
                let _ = writeln!(
                    s,
                    "  {} → {}  score {:.3} (ts {:.3} ds {:.3} dur {:.3} hist {:.3}, {} connections)",
                    b.src,
                    b.peer,
                    b.score,
                    b.ts_score,
                    b.ds_score,
                    b.dur_score,
                    b.hist_score,
                    b.count
                );
            }
        }
        if !self.chain.is_empty() {
            let _ = writeln!(s, "\ninfection chain:");
            for c in &self.chain {
                let _ = writeln!(
                    s,
                    "  {} → {}  {} at {}{}",
                    c.from,
                    c.to,
                    c.via,
                    format_time(c.at),
                    if c.confirmed {
                        " (victim confirmed)"
                    } else {
                        ""
                    }
                );
            }
        }
        if self.skipped.any() {
            let _ = writeln!(s, "\nskipped {} records:", self.skipped.count);
            for (k, v) in &self.skipped.by_reason {
                let _ = writeln!(s, "  {v} × {k}");
            }
            for e in &self.skipped.examples {
                let _ = writeln!(s, "  e.g. {} {}: {}", e.source, e.location, e.reason);
            }
        }
        s
    }

    /// The containment list as text.
    pub fn containment_text(&self) -> String {
        let c = &self.containment;
        let mut s = String::new();
        if c.hosts.is_empty() {
            s.push_str("containment: nothing to isolate\n");
            return s;
        }
        let _ = writeln!(s, "containment: isolate {} host(s)", c.hosts.len());
        for h in &c.hosts {
            let st = self.host(h).map_or("", |x| x.state.as_str());
            let _ = writeln!(s, "  host {h} ({st})");
        }
        for p in &c.peer_addresses {
            let _ = writeln!(s, "  peer {p}");
        }
        for n in &c.peer_names {
            let _ = writeln!(s, "  name {n} (block at the resolver or proxy)");
        }
        s
    }

    /// nftables rules dropping traffic of the hosts to contain and to their peers.
    pub fn nftables(&self) -> String {
        let c = &self.containment;
        let split = |v: &[String]| -> (Vec<String>, Vec<String>) {
            let mut v4 = Vec::new();
            let mut v6 = Vec::new();
            for a in v {
                match a.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => v4.push(a.clone()),
                    Ok(IpAddr::V6(_)) => v6.push(a.clone()),
                    Err(_) => {}
                }
            }
            (v4, v6)
        };
        let (h4, h6) = split(&c.hosts);
        let (p4, p6) = split(&c.peer_addresses);
        let mut s = String::from(
            "#!/usr/sbin/nft -f\n# secdispatch lifecycle containment: isolate suspected hosts, keep the rest running.\n",
        );
        for n in &c.peer_names {
            let _ = writeln!(
                s,
                "# peer name {n}: block at the resolver or proxy (nftables matches addresses only)"
            );
        }
        s.push_str("table inet secdispatch_lifecycle {\n");
        let set = |s: &mut String, name: &str, ty: &str, v: &[String]| {
            let _ = writeln!(
                s,
                "  set {name} {{\n    type {ty}\n{}  }}",
                if v.is_empty() {
                    String::new()
                } else {
                    format!("    elements = {{ {} }}\n", v.join(", "))
                }
            );
        };
        set(&mut s, "hosts4", "ipv4_addr", &h4);
        set(&mut s, "hosts6", "ipv6_addr", &h6);
        set(&mut s, "peers4", "ipv4_addr", &p4);
        set(&mut s, "peers6", "ipv6_addr", &p6);
        for hook in ["forward", "input", "output"] {
            let _ = writeln!(
                s,
                "  chain {hook} {{\n    type filter hook {hook} priority filter - 10; policy accept;"
            );
            s.push_str("    ip saddr @hosts4 drop\n    ip daddr @hosts4 drop\n    ip6 saddr @hosts6 drop\n    ip6 daddr @hosts6 drop\n");
            s.push_str("    ip daddr @peers4 drop\n    ip saddr @peers4 drop\n    ip6 daddr @peers6 drop\n    ip6 saddr @peers6 drop\n  }\n");
        }
        s.push_str("}\n");
        s
    }

    /// The infection chain (and control peers) as Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph lifecycle {\n  rankdir=LR;\n");
        for h in &self.hosts {
            let _ = writeln!(s, "  \"{}\" [label=\"{}\\n{}\"];", h.host, h.host, h.state);
        }
        for c in &self.chain {
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"{}\"{}];",
                c.from,
                c.to,
                c.via,
                if c.confirmed { "" } else { ", style=dashed" }
            );
        }
        s.push_str("}\n");
        s
    }
}
