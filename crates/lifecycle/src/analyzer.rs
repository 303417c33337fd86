//! Per-pair streaming aggregates over flows and DNS transactions, and the analysis that
//! turns them into a [`Report`].
//!
//! Memory grows with the number of distinct (source, destination) pairs, (source, name)
//! groups and ports contacted — not with the number of flows: per group, start times and
//! sizes are kept only up to RITA's per-day cap, and flow ids only as a sample of 20.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::beacon::{self, BeaconScore, Window as BeaconWindow};
use crate::covert::CovertTally;
use crate::detect;
use crate::dns;
use crate::flow::{DnsTxn, Flow, Proto};
use crate::hash::{FxHashMap, FxHashSet};
use crate::net::LocalNets;
use crate::report::{self, Report};
use crate::skip::Skipped;

/// Flow ids kept per aggregate.
pub const UID_SAMPLE: usize = 20;
/// Timestamps kept per beacon group (RITA's 86,400 per pair and day, for 7 days).
const TS_CAP: usize = 7 * 86_400;

/// Thresholds; defaults are the ones in the implementer notes (Slips / RITA values).
#[derive(Debug, Clone)]
pub struct Config {
    /// Local networks (beacons, long connections and volumes only count across them).
    pub local: LocalNets,
    /// Ignore flows starting before this time.
    pub since: Option<f64>,
    /// Ignore flows starting after this time.
    pub until: Option<f64>,
    /// Horizontal scan: distinct unanswered destinations on one port.
    pub hscan_targets: usize,
    /// Vertical scan: distinct unanswered ports on one destination.
    pub vscan_ports: usize,
    /// Scan window, seconds.
    pub scan_window: f64,
    /// ICMP/ARP sweep: distinct targets.
    pub sweep_targets: usize,
    /// Sweep window, seconds.
    pub sweep_window: f64,
    /// Brute force: short connections to one login service.
    pub brute_conns: usize,
    /// Brute-force window, seconds.
    pub brute_window: f64,
    /// A victim that starts Discovery/Control this soon after being reached is in Access.
    pub access_window: f64,
    /// Beacon score for Control evidence.
    pub beacon_threshold: f64,
    /// Long connection, total seconds per pair.
    pub long_conn: f64,
    /// DNS tunnel: unique subdomains of one registered domain.
    pub dns_tunnel_names: usize,
    /// NXDOMAIN burst: distinct failed names within `nx_window`.
    pub nx_names: usize,
    /// NXDOMAIN window, seconds.
    pub nx_window: f64,
    /// Update/module: inbound bytes of one flow from a control peer.
    pub update_bytes: u64,
    /// Exfiltration: outbound bytes to one external peer.
    pub exfil_bytes: u64,
    /// DoS: packets per second to one peer, sustained.
    pub dos_pps: f64,
    /// DoS: fewest packets.
    pub dos_packets: u64,
    /// Trigger: hosts starting the same behaviour.
    pub trigger_hosts: usize,
    /// Trigger window, seconds.
    pub trigger_window: f64,
    /// Quiet time (at least) before a controlled host counts as gone quiet, seconds; the
    /// beacon's own 3 × period applies when longer.
    pub quiet_min: f64,
    /// Use the DNSBL/reputation allowlist for DNS detectors.
    pub dns_allowlist: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            local: LocalNets::default(),
            since: None,
            until: None,
            hscan_targets: 5,
            vscan_ports: 5,
            scan_window: 3600.0,
            sweep_targets: 5,
            sweep_window: 60.0,
            brute_conns: 9,
            brute_window: 60.0,
            access_window: 600.0,
            beacon_threshold: 0.90,
            long_conn: 3600.0,
            dns_tunnel_names: 100,
            nx_names: 10,
            nx_window: 300.0,
            update_bytes: 1_000_000,
            exfil_bytes: 10_000_000,
            dos_pps: 1000.0,
            dos_packets: 10_000,
            trigger_hosts: 3,
            trigger_window: 60.0,
            quiet_min: 60.0,
            dns_allowlist: true,
        }
    }
}

/// A sample of flow ids plus a count.
#[derive(Debug, Clone, Default)]
pub(crate) struct Uids {
    pub(crate) sample: Vec<String>,
    pub(crate) count: u64,
}

impl Uids {
    pub(crate) fn add(&mut self, uid: &str) {
        self.count += 1;
        if self.sample.len() < UID_SAMPLE {
            self.sample.push(uid.to_owned());
        }
    }
    pub(crate) fn extend(&mut self, o: &Uids) {
        self.count += o.count;
        for u in &o.sample {
            if self.sample.len() < UID_SAMPLE {
                self.sample.push(u.clone());
            }
        }
    }
}

/// Per destination port of a pair.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortStats {
    pub(crate) proto: Option<Proto>,
    pub(crate) attempts: u64,
    pub(crate) failed: u64,
    pub(crate) first_fail: Option<f64>,
    pub(crate) first_success: Option<f64>,
    pub(crate) successes: u64,
    /// Start times of short established connections (brute-force candidates).
    pub(crate) short: Vec<f64>,
    pub(crate) ssh: bool,
    pub(crate) banner: Option<String>,
    pub(crate) fail_uids: Uids,
    pub(crate) ok_uids: Uids,
}

/// Per (source, destination address).
#[derive(Debug, Clone, Default)]
pub(crate) struct PairStats {
    pub(crate) flows: u64,
    pub(crate) first: f64,
    pub(crate) last: f64,
    pub(crate) orig_bytes: u64,
    pub(crate) resp_bytes: u64,
    pub(crate) orig_pkts: u64,
    pub(crate) duration: f64,
    pub(crate) ports: BTreeMap<(u8, u16), PortStats>,
    pub(crate) uids: Uids,
    /// ICMP echo requests: (first ts, answered, ttl min, ttl max).
    pub(crate) echo: Option<(f64, bool, u8, u8)>,
    /// ARP who-has: (first ts, answered).
    pub(crate) arp: Option<(f64, bool)>,
}

/// A beacon candidate group: (source, name) or (source, address).
#[derive(Debug, Clone, Default)]
pub(crate) struct Group {
    pub(crate) ts: Vec<i64>,
    pub(crate) bytes: Vec<u64>,
    pub(crate) count: u64,
    pub(crate) first: f64,
    pub(crate) last: f64,
    pub(crate) proxied: u64,
    /// Per kept timestamp: the connection went through a proxy.
    pub(crate) proxied_flags: Vec<bool>,
    pub(crate) via: FxHashSet<(IpAddr, u16)>,
    pub(crate) uids: Uids,
    /// Flows with a large inbound transfer: (ts, resp_bytes, uid).
    pub(crate) big_inbound: Vec<(f64, u64, String)>,
    pub(crate) ip_bytes: u64,
    pub(crate) duration: f64,
}

impl Group {
    fn add(&mut self, f: &Flow, update_bytes: u64) {
        if self.count == 0 {
            self.first = f.ts;
            self.last = f.ts;
        }
        self.count += 1;
        self.first = self.first.min(f.ts);
        self.last = self.last.max(f.ts);
        if self.ts.len() < TS_CAP {
            self.ts.push(f.ts.floor() as i64);
            self.bytes.push(f.orig_ip_bytes);
            self.proxied_flags.push(f.proxied);
        }
        if f.proxied {
            self.proxied += 1;
        }
        if self.via.len() < 16 {
            self.via.insert((f.resp, f.resp_port));
        }
        self.uids.add(&f.uid);
        if f.resp_bytes >= update_bytes && self.big_inbound.len() < 100 {
            self.big_inbound.push((f.ts, f.resp_bytes, f.uid.clone()));
        }
        self.ip_bytes += f.orig_ip_bytes + f.resp_ip_bytes;
        self.duration += f.duration;
    }
}

/// DNS activity of one client.
#[derive(Debug, Clone, Default)]
pub(crate) struct DnsClient {
    /// Registered domain → unique names below it (capped) and first/last ts.
    pub(crate) domains: FxHashMap<String, (FxHashSet<String>, f64, f64)>,
    /// NXDOMAIN answers: (ts, name), capped.
    pub(crate) nx: Vec<(f64, String)>,
    pub(crate) queries: u64,
}

/// The streaming state of an analysis.
#[derive(Debug, Default)]
pub struct Analyzer {
    pub(crate) cfg: Config,
    pub(crate) pairs: FxHashMap<(IpAddr, IpAddr), PairStats>,
    pub(crate) sni: FxHashMap<(IpAddr, String), Group>,
    pub(crate) ip: FxHashMap<(IpAddr, IpAddr), Group>,
    pub(crate) dns: FxHashMap<IpAddr, DnsClient>,
    pub(crate) answered: FxHashSet<IpAddr>,
    pub(crate) covert: CovertTally,
    pub(crate) min_ts: f64,
    pub(crate) max_ts: f64,
    /// Latest flow start (RITA's window uses start times only).
    pub(crate) max_start: f64,
    pub(crate) flows: u64,
    pub(crate) dns_txns: u64,
    pub(crate) filtered: u64,
}

fn ip_kind(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp => 1,
        Proto::Arp => 0,
        Proto::Other => 255,
    }
}

/// Ports of login services, where many short connections are password guessing.
pub(crate) fn login_port(port: u16) -> bool {
    matches!(
        port,
        21 | 22
            | 23
            | 25
            | 110
            | 143
            | 139
            | 445
            | 587
            | 993
            | 995
            | 1433
            | 3306
            | 3389
            | 5432
            | 5900
            | 5985
            | 5986
            | 2222
    )
}

impl Analyzer {
    /// A new analysis with the given thresholds.
    pub fn new(cfg: Config) -> Analyzer {
        Analyzer {
            cfg,
            min_ts: f64::INFINITY,
            max_ts: f64::NEG_INFINITY,
            max_start: f64::NEG_INFINITY,
            ..Analyzer::default()
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Flows accepted so far.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    fn in_range(&self, ts: f64) -> bool {
        ts.is_finite()
            && self.cfg.since.is_none_or(|s| ts >= s)
            && self.cfg.until.is_none_or(|u| ts <= u)
    }

    /// Account one flow (and the DNS transactions it carries).
    pub fn add_flow(&mut self, f: &Flow) {
        if !self.in_range(f.ts) {
            self.filtered += 1;
            return;
        }
        self.flows += 1;
        self.min_ts = self.min_ts.min(f.ts);
        self.max_ts = self.max_ts.max(f.ts + f.duration.max(0.0));
        self.max_start = self.max_start.max(f.ts);
        self.covert.add_flow(f);
        for d in &f.dns {
            self.add_dns(d);
        }
        let p = self.pairs.entry((f.orig, f.resp)).or_default();
        if p.flows == 0 {
            p.first = f.ts;
            p.last = f.ts;
        }
        p.flows += 1;
        p.first = p.first.min(f.ts);
        p.last = p.last.max(f.ts + f.duration.max(0.0));
        p.orig_bytes += f.orig_bytes;
        p.resp_bytes += f.resp_bytes;
        p.orig_pkts += f.orig_pkts;
        p.duration += f.duration.max(0.0);
        p.uids.add(&f.uid);
        match f.proto {
            Proto::Icmp if matches!(f.orig_port, 8 | 128) => {
                let answered = f.resp_pkts > 0;
                let (lo, hi) = f.orig_ttl.unwrap_or((0, 0));
                p.echo = Some(match p.echo {
                    None => (f.ts, answered, lo, hi),
                    Some((t, a, l, h)) => (t.min(f.ts), a || answered, l.min(lo), h.max(hi)),
                });
            }
            Proto::Arp => {
                let answered = f.resp_pkts > 0;
                p.arp = Some(match p.arp {
                    None => (f.ts, answered),
                    Some((t, a)) => (t.min(f.ts), a || answered),
                });
            }
            Proto::Tcp | Proto::Udp => {
                let ps = p.ports.entry((ip_kind(f.proto), f.resp_port)).or_default();
                ps.proto = Some(f.proto);
                ps.attempts += 1;
                let ssh = f.ssh.is_some()
                    || f.service
                        .as_deref()
                        .is_some_and(|s| s.split(',').any(|x| x == "ssh"));
                if ssh {
                    ps.ssh = true;
                    if ps.banner.is_none() {
                        ps.banner = f
                            .ssh
                            .as_ref()
                            .map(|s| s.1.clone())
                            .filter(|b| !b.is_empty());
                    }
                }
                if f.failed_attempt() {
                    ps.failed += 1;
                    ps.first_fail = Some(ps.first_fail.map_or(f.ts, |t: f64| t.min(f.ts)));
                    ps.fail_uids.add(&f.uid);
                } else if (f.proto == Proto::Tcp && f.established()
                    || f.proto == Proto::Udp && f.answered())
                    && (f.orig_bytes > 0 || f.resp_bytes > 0)
                {
                    ps.successes += 1;
                    ps.first_success = Some(ps.first_success.map_or(f.ts, |t: f64| t.min(f.ts)));
                    ps.ok_uids.add(&f.uid);
                    if f.proto == Proto::Tcp && f.duration < 60.0 && ps.short.len() < 100_000 {
                        ps.short.push(f.ts);
                    }
                }
            }
            Proto::Icmp | Proto::Other => {}
        }
        if matches!(f.proto, Proto::Tcp | Proto::Udp)
            && f.dns.is_empty()
            && f.service.as_deref() != Some("dns")
        {
            let upd = self.cfg.update_bytes;
            match f.fqdn() {
                Some(name) => self
                    .sni
                    .entry((f.orig, name.to_owned()))
                    .or_default()
                    .add(f, upd),
                None => self.ip.entry((f.orig, f.resp)).or_default().add(f, upd),
            }
        }
    }

    /// Account one DNS transaction.
    pub fn add_dns(&mut self, d: &DnsTxn) {
        if !self.in_range(d.ts) {
            self.filtered += 1;
            return;
        }
        self.dns_txns += 1;
        self.min_ts = self.min_ts.min(d.ts);
        self.max_ts = self.max_ts.max(d.ts);
        self.max_start = self.max_start.max(d.ts);
        self.covert.add_dns(d);
        if d.rcode == Some(0) {
            for a in &d.answers {
                if self.answered.len() < 1_000_000 {
                    self.answered.insert(*a);
                }
            }
        }
        if d.query.is_empty() {
            return;
        }
        let c = self.dns.entry(d.client).or_default();
        c.queries += 1;
        let reg = dns::registered_domain(&d.query).to_owned();
        let e = c
            .domains
            .entry(reg)
            .or_insert_with(|| (FxHashSet::default(), d.ts, d.ts));
        if e.0.len() < 10_000 {
            e.0.insert(d.query.clone());
        }
        e.1 = e.1.min(d.ts);
        e.2 = e.2.max(d.ts);
        if d.rcode == Some(3) && c.nx.len() < 100_000 {
            c.nx.push((d.ts, d.query.clone()));
        }
    }

    /// The RITA window over everything seen: from the earliest to the latest start time.
    pub(crate) fn beacon_window(&self) -> Option<BeaconWindow> {
        (self.min_ts.is_finite() && self.max_start.is_finite())
            .then(|| BeaconWindow::for_dataset(self.min_ts, self.max_start))
    }

    /// Connections of a group inside the window that went through a proxy.
    pub(crate) fn proxied_in_window(&self, g: &Group) -> u64 {
        let Some(w) = self.beacon_window() else {
            return 0;
        };
        let start = w.first_hour();
        g.ts.iter()
            .zip(&g.proxied_flags)
            .filter(|(t, p)| **p && **t >= start && **t <= w.max)
            .count() as u64
    }

    /// Score every eligible beacon group: (source, peer label, group, score, is_name).
    pub(crate) fn beacons(&self) -> Vec<(IpAddr, String, &Group, BeaconScore, bool)> {
        let Some(w) = self.beacon_window() else {
            return Vec::new();
        };
        let local = &self.cfg.local;
        let mut out = Vec::new();
        for ((src, name), g) in &self.sni {
            if !local.is_local(src) {
                continue;
            }
            if let Some(s) = beacon::score(&g.ts, &g.bytes, w) {
                out.push((*src, name.clone(), g, s, true));
            }
        }
        for ((src, dst), g) in &self.ip {
            if !local.is_local(src) || local.is_local(dst) {
                continue;
            }
            if let Some(s) = beacon::score(&g.ts, &g.bytes, w) {
                out.push((*src, dst.to_string(), g, s, false));
            }
        }
        out.sort_by(|a, b| {
            b.3.score
                .total_cmp(&a.3.score)
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        out
    }

    /// Run every detector and build the report. Does not consume the aggregates, so a live
    /// view can call it repeatedly.
    pub fn report(&self, skipped: &Skipped) -> Report {
        let evidence = detect::run_all(self);
        report::build(self, evidence, skipped)
    }
}
