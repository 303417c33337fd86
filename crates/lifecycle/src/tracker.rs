//! Packets to flows, the way Zeek builds `conn.log`: a table of active connections keyed by
//! the canonical 5-tuple, TCP state and history letters per direction, `conn_state` at the
//! end, inactivity timeouts (TCP 5 min, others 1 min) and a close delay after FIN/RST.
//!
//! Memory is bounded by the number of *active* flows (and a hard cap, [`TrackerConfig::
//! max_flows`], beyond which the longest-idle half is finished early), never by the size of
//! the capture. Finished flows are handed out through [`FlowTracker::drain`].
//!
//! Payload inspection is limited to the first bytes of each direction: the TLS ClientHello
//! (also inside an HTTP `CONNECT` tunnel), the HTTP request head, SSH banners, and DNS
//! messages on UDP.

use std::net::IpAddr;

use crate::dns;
use crate::flow::{ConnState, DnsTxn, Flow, Proto, Ts};
use crate::hash::FxHashMap;
use crate::http;
use crate::tls::{self, Hello};

/// One decoded packet: the fields the tracker needs, borrowed from the capture buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Capture time.
    pub ts: Ts,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport.
    pub proto: Proto,
    /// Source port (ICMP: see [`Packet::icmp`]).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// IP total length on the wire.
    pub ip_len: u32,
    /// TTL / hop limit.
    pub ttl: u8,
    /// TCP flags and sequence number.
    pub tcp: Option<TcpFlags>,
    /// Transport payload as captured (may be shorter than on the wire).
    pub payload: &'a [u8],
    /// Transport payload length on the wire.
    pub payload_len: u32,
    /// The packet answers a request (ICMP echo reply, ARP reply): its destination is the
    /// flow's originator. The decoder maps such replies' ports so that they share the
    /// request's key (ICMP: type in the originator's port, code in the responder's).
    pub reply: bool,
}

/// The TCP header fields the state machine uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
    /// Sequence number.
    pub seq: u32,
}

/// Timeouts and limits.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// TCP inactivity timeout (Zeek: 5 min).
    pub tcp_timeout: f64,
    /// UDP / ICMP / other inactivity timeout (Zeek: 1 min).
    pub other_timeout: f64,
    /// How long a closed TCP connection lingers for its last ACKs (Zeek: 5 s).
    pub close_delay: f64,
    /// Hard cap on active flows.
    pub max_flows: usize,
    /// Bytes of each direction kept for payload inspection.
    pub inspect_bytes: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            tcp_timeout: 300.0,
            other_timeout: 60.0,
            close_delay: 5.0,
            max_flows: 1_000_000,
            inspect_bytes: 16 * 1024,
        }
    }
}

/// Counters about the tracking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Packets given to the tracker.
    pub packets: u64,
    /// Flows finished.
    pub flows: u64,
    /// Largest number of simultaneously active flows.
    pub peak_active: u64,
    /// Flows finished early because the table reached its cap.
    pub evicted: u64,
    /// Packets whose time was before an earlier packet's (used anyway).
    pub out_of_order: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    a: IpAddr,
    b: IpAddr,
    pa: u16,
    pb: u16,
    proto: Proto,
}

impl Key {
    fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, proto: Proto) -> Key {
        if (src, sport) <= (dst, dport) {
            Key {
                a: src,
                b: dst,
                pa: sport,
                pb: dport,
                proto,
            }
        } else {
            Key {
                a: dst,
                b: src,
                pa: dport,
                pb: sport,
                proto,
            }
        }
    }
}

// History letters, Zeek order of meaning: S SYN, H SYN-ACK, A ACK, D data, F FIN, R RST.
const H_S: u16 = 1;
const H_H: u16 = 2;
const H_A: u16 = 4;
const H_D: u16 = 8;
const H_F: u16 = 16;
const H_R: u16 = 32;

#[derive(Debug, Default)]
struct Inspect {
    orig: Vec<u8>,
    orig_next: Option<u32>,
    orig_done: bool,
    resp_done: bool,
    /// A CONNECT request was seen: the next client bytes (after the proxy's 200) are TLS.
    tunnel: bool,
}

#[derive(Debug)]
struct Entry {
    flow: Flow,
    last: Ts,
    orig_hist: u16,
    resp_hist: u16,
    first_rst_orig: Option<bool>,
    closed: bool,
    inspect: Option<Box<Inspect>>,
    dns_ids: Vec<u16>,
}

/// The flow table.
#[derive(Debug)]
pub struct FlowTracker {
    cfg: TrackerConfig,
    table: FxHashMap<Key, Entry>,
    ready: Vec<Flow>,
    next_uid: u64,
    now: Ts,
    next_sweep: Ts,
    stats: TrackerStats,
}

impl Default for FlowTracker {
    fn default() -> Self {
        FlowTracker::new(TrackerConfig::default())
    }
}

impl FlowTracker {
    /// An empty table.
    pub fn new(cfg: TrackerConfig) -> FlowTracker {
        FlowTracker {
            cfg,
            table: FxHashMap::default(),
            ready: Vec::new(),
            next_uid: 1,
            now: f64::NEG_INFINITY,
            next_sweep: f64::NEG_INFINITY,
            stats: TrackerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TrackerStats {
        let mut s = self.stats;
        s.flows = self.next_uid - 1 - self.table.len() as u64;
        s
    }

    /// Active flows right now.
    pub fn active(&self) -> usize {
        self.table.len()
    }

    /// Whether finished flows are waiting in [`FlowTracker::drain`].
    #[inline]
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Take the flows finished so far.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Flow> {
        self.ready.drain(..)
    }

    /// Finish every active flow (end of input).
    pub fn finish(&mut self) {
        let keys: Vec<Key> = self.table.keys().copied().collect();
        for k in keys {
            self.finalize(&k);
        }
        self.ready.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    }

    /// Account one packet.
    pub fn packet(&mut self, p: &Packet<'_>) {
        self.stats.packets += 1;
        if !p.ts.is_finite() {
            return;
        }
        if p.ts < self.now {
            self.stats.out_of_order += 1;
        } else {
            self.now = p.ts;
        }
        if self.now >= self.next_sweep {
            self.sweep();
            self.next_sweep = self.now + 1.0;
        }
        let key = Key::new(p.src, p.sport, p.dst, p.dport, p.proto);
        let inspect_cap = self.cfg.inspect_bytes;
        // Fast path: one lookup for a packet of a known flow.
        if let Some(e) = self.table.get_mut(&key) {
            // Port reuse: a fresh SYN on a closed TCP connection starts a new one.
            let reuse = matches!(p.tcp, Some(t) if t.syn && !t.ack) && e.closed;
            if !reuse {
                update(e, p, inspect_cap);
                return;
            }
            self.finalize(&key);
        }
        if self.table.len() >= self.cfg.max_flows {
            self.evict();
        }
        let mut entry = self.new_entry(p);
        update(&mut entry, p, inspect_cap);
        self.table.insert(key, entry);
        self.stats.peak_active = self.stats.peak_active.max(self.table.len() as u64);
    }

    fn new_entry(&mut self, p: &Packet<'_>) -> Entry {
        let uid = format!("F{}", self.next_uid);
        self.next_uid += 1;
        // The originator is the sender of the first packet, except for a SYN-ACK or a
        // reply (ICMP echo reply, ARP reply) seen first.
        let flip = match (p.proto, p.tcp) {
            (Proto::Tcp, Some(t)) => t.syn && t.ack,
            _ => p.reply,
        };
        let (orig, resp) = if flip {
            ((p.dst, p.dport), (p.src, p.sport))
        } else {
            ((p.src, p.sport), (p.dst, p.dport))
        };
        let flow = Flow::new(uid, p.ts, p.proto, orig, resp);
        let inspect = matches!(p.proto, Proto::Tcp).then(Box::<Inspect>::default);
        Entry {
            flow,
            last: p.ts,
            orig_hist: 0,
            resp_hist: 0,
            first_rst_orig: None,
            closed: false,
            inspect,
            dns_ids: Vec::new(),
        }
    }

    fn sweep(&mut self) {
        let now = self.now;
        let (tcp_to, other_to, close) = (
            self.cfg.tcp_timeout,
            self.cfg.other_timeout,
            self.cfg.close_delay,
        );
        let expired: Vec<Key> = self
            .table
            .iter()
            .filter(|(k, e)| {
                let idle = now - e.last;
                match k.proto {
                    Proto::Tcp if e.closed => idle > close,
                    Proto::Tcp => idle > tcp_to,
                    _ => idle > other_to,
                }
            })
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.finalize(&k);
        }
    }

    /// Finish the longest-idle half of the table.
    fn evict(&mut self) {
        let mut lasts: Vec<(Ts, Key)> = self.table.iter().map(|(k, e)| (e.last, *k)).collect();
        let half = lasts.len() / 2;
        if half == 0 {
            return;
        }
        lasts.select_nth_unstable_by(half, |a, b| a.0.total_cmp(&b.0));
        for (_, k) in lasts.iter().take(half) {
            self.finalize(k);
            self.stats.evicted += 1;
        }
    }

    fn finalize(&mut self, key: &Key) {
        let Some(mut e) = self.table.remove(key) else {
            return;
        };
        let f = &mut e.flow;
        f.duration = (e.last - f.ts).max(0.0);
        if f.proto == Proto::Tcp {
            f.conn_state = Some(conn_state(e.orig_hist, e.resp_hist, e.first_rst_orig));
        } else {
            f.conn_state = Some(if f.resp_pkts > 0 {
                ConnState::SF
            } else {
                ConnState::S0
            });
            if f.proto != Proto::Udp {
                f.conn_state = Some(ConnState::OTH);
            }
        }
        let mut services: Vec<&str> = Vec::new();
        if f.http.is_some() {
            services.push("http");
        }
        if f.tls.is_some() {
            services.push("ssl");
        }
        if f.ssh.is_some() {
            services.push("ssh");
        }
        if !f.dns.is_empty() {
            services.push("dns");
        }
        if !services.is_empty() {
            f.service = Some(services.join(","));
        }
        self.ready.push(e.flow);
    }
}

fn conn_state(o: u16, r: u16, first_rst_orig: Option<bool>) -> ConnState {
    let syn = o & H_S != 0;
    let synack = r & H_H != 0;
    let est = syn && synack;
    let (ofin, rfin, orst, rrst) = (o & H_F != 0, r & H_F != 0, o & H_R != 0, r & H_R != 0);
    if orst || rrst {
        if est {
            return if first_rst_orig.unwrap_or(orst) {
                ConnState::RSTO
            } else {
                ConnState::RSTR
            };
        }
        if syn && rrst && !synack {
            return ConnState::REJ;
        }
        if syn && orst && !synack {
            return ConnState::RSTOS0;
        }
        if synack && rrst && !syn {
            return ConnState::RSTRH;
        }
        return ConnState::OTH;
    }
    if est {
        return match (ofin, rfin) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S2,
            (false, true) => ConnState::S3,
            (false, false) => ConnState::S1,
        };
    }
    if syn && !synack {
        if ofin {
            return ConnState::SH;
        }
        return if r == 0 {
            ConnState::S0
        } else {
            ConnState::OTH
        };
    }
    if synack && !syn && rfin {
        return ConnState::SHR;
    }
    ConnState::OTH
}

fn update(e: &mut Entry, p: &Packet<'_>, inspect_cap: usize) {
    let from_orig = (p.src, p.sport) == (e.flow.orig, e.flow.orig_port);
    e.last = e.last.max(p.ts);
    let f = &mut e.flow;
    if from_orig {
        f.orig_pkts += 1;
        f.orig_ip_bytes += u64::from(p.ip_len);
        f.orig_bytes += u64::from(p.payload_len);
        f.orig_ttl = Some(match f.orig_ttl {
            None => (p.ttl, p.ttl),
            Some((lo, hi)) => (lo.min(p.ttl), hi.max(p.ttl)),
        });
    } else {
        f.resp_pkts += 1;
        f.resp_ip_bytes += u64::from(p.ip_len);
        f.resp_bytes += u64::from(p.payload_len);
    }
    match p.proto {
        Proto::Tcp => {
            let t = p.tcp.unwrap_or_default();
            let mut bits = 0u16;
            if t.syn && !t.ack {
                bits |= H_S;
            }
            if t.syn && t.ack {
                bits |= H_H;
            }
            if t.ack && !t.syn && !t.fin && !t.rst && p.payload_len == 0 {
                bits |= H_A;
            }
            if p.payload_len > 0 {
                bits |= H_D;
            }
            if t.fin {
                bits |= H_F;
            }
            if t.rst {
                bits |= H_R;
                if e.first_rst_orig.is_none() {
                    e.first_rst_orig = Some(from_orig);
                }
            }
            let hist = if from_orig {
                &mut e.orig_hist
            } else {
                &mut e.resp_hist
            };
            let new = bits & !*hist;
            *hist |= bits;
            if new != 0 {
                for (bit, c) in [
                    (H_S, 'S'),
                    (H_H, 'H'),
                    (H_A, 'A'),
                    (H_D, 'D'),
                    (H_F, 'F'),
                    (H_R, 'R'),
                ] {
                    if new & bit != 0 {
                        f.history
                            .push(if from_orig { c } else { c.to_ascii_lowercase() });
                    }
                }
            }
            if e.orig_hist & H_R != 0
                || e.resp_hist & H_R != 0
                || (e.orig_hist & H_F != 0 && e.resp_hist & H_F != 0)
            {
                e.closed = true;
            }
            if !p.payload.is_empty() {
                inspect_tcp(e, p, t.seq, from_orig, inspect_cap);
            }
        }
        Proto::Udp if (is_dns_port(p.sport) || is_dns_port(p.dport)) => {
            dns_packet(e, p);
        }
        _ => {}
    }
}

fn is_dns_port(port: u16) -> bool {
    matches!(port, 53 | 5353 | 5355)
}

fn dns_packet(e: &mut Entry, p: &Packet<'_>) {
    let Some(m) = dns::parse(p.payload) else {
        return;
    };
    if !m.response {
        if e.flow.dns.len() < 1000 {
            e.flow.dns.push(DnsTxn {
                ts: p.ts,
                client: p.src,
                server: p.dst,
                query: m.qname,
                qtype: m.qtype,
                rcode: None,
                answers: Vec::new(),
            });
            e.dns_ids.push(m.id);
        }
        return;
    }
    let pending = e
        .dns_ids
        .iter()
        .zip(e.flow.dns.iter())
        .position(|(id, t)| *id == m.id && t.rcode.is_none() && t.query == m.qname);
    match pending {
        Some(i) => {
            let t = &mut e.flow.dns[i];
            t.rcode = Some(m.rcode);
            t.answers = m.answers;
        }
        None if e.flow.dns.len() < 1000 => {
            e.flow.dns.push(DnsTxn {
                ts: p.ts,
                client: p.dst,
                server: p.src,
                query: m.qname,
                qtype: m.qtype,
                rcode: Some(m.rcode),
                answers: m.answers,
            });
            e.dns_ids.push(m.id);
        }
        None => {}
    }
}

fn inspect_tcp(e: &mut Entry, p: &Packet<'_>, seq: u32, from_orig: bool, cap: usize) {
    let Some(ins) = e.inspect.as_mut() else {
        return;
    };
    if from_orig {
        if ins.orig_done {
            return;
        }
        match ins.orig_next {
            Some(n) if n != seq => return, // retransmission or gap: only in-order bytes
            _ => {}
        }
        ins.orig_next = Some(seq.wrapping_add(p.payload.len() as u32));
        let room = cap.saturating_sub(ins.orig.len());
        ins.orig
            .extend_from_slice(&p.payload[..p.payload.len().min(room)]);
        let f = &mut e.flow;
        if f.http.is_none() && !ins.tunnel && http::looks_like_request(&ins.orig) {
            if let Some(req) = http::request(&ins.orig) {
                if req.method == "CONNECT" {
                    f.proxied = true;
                    ins.tunnel = true;
                }
                f.http = Some(req);
                ins.orig.clear();
                if !ins.tunnel {
                    ins.orig_done = true;
                }
            }
        } else if f.ssh.as_ref().is_none_or(|s| s.0.is_empty()) && ins.orig.starts_with(b"SSH-") {
            if let Some(b) = http::ssh_banner(&ins.orig) {
                f.ssh = Some((b, f.ssh.take().map(|s| s.1).unwrap_or_default()));
                ins.orig_done = true;
            }
        } else if f.tls.is_none() {
            match tls::client_hello(&ins.orig) {
                Hello::Found(info) => {
                    f.tls = Some(info);
                    ins.orig_done = true;
                }
                Hello::NotTls => ins.orig_done = true,
                Hello::NeedMore => {}
            }
        }
        if ins.orig.len() >= cap {
            ins.orig_done = true;
        }
    } else {
        if ins.resp_done {
            return;
        }
        if let Some(b) = http::ssh_banner(p.payload) {
            let client = e.flow.ssh.take().map(|s| s.0).unwrap_or_default();
            e.flow.ssh = Some((client, b));
        }
        ins.resp_done = true;
    }
    if ins.orig_done && ins.resp_done {
        e.inspect = None;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp<'a>(
        ts: f64,
        src: &str,
        sp: u16,
        dst: &str,
        dp: u16,
        flags: &str,
        seq: u32,
        payload: &'a [u8],
    ) -> Packet<'a> {
        Packet {
            ts,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: Proto::Tcp,
            sport: sp,
            dport: dp,
            ip_len: 40 + payload.len() as u32,
            ttl: 64,
            tcp: Some(TcpFlags {
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                fin: flags.contains('F'),
                rst: flags.contains('R'),
                seq,
            }),
            payload,
            payload_len: payload.len() as u32,
            reply: false,
        }
    }

    fn run(pkts: &[Packet<'_>]) -> Vec<Flow> {
        let mut t = FlowTracker::default();
        for p in pkts {
            t.packet(p);
        }
        t.finish();
        t.drain().collect()
    }

    #[test]
    fn full_connection_is_sf_with_sni() {
        let hello = crate::tls::tests::hello_record("testing.com");
        let c = "147.32.80.37";
        let s = "141.193.213.21";
        let flows = run(&[
            tcp(1.0, c, 5000, s, 443, "S", 100, b""),
            tcp(1.1, s, 443, c, 5000, "SA", 900, b""),
            tcp(1.2, c, 5000, s, 443, "A", 101, b""),
            tcp(1.3, c, 5000, s, 443, "A", 101, &hello),
            tcp(1.4, s, 443, c, 5000, "A", 901, b"xx"),
            tcp(1.5, c, 5000, s, 443, "FA", 101 + hello.len() as u32, b""),
            tcp(1.6, s, 443, c, 5000, "FA", 903, b""),
        ]);
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!(f.conn_state, Some(ConnState::SF));
        assert_eq!(f.history, "ShADdFf");
        assert_eq!(f.orig.to_string(), c);
        assert_eq!(f.orig_pkts, 4);
        assert_eq!(f.orig_ip_bytes, 160 + hello.len() as u64);
        assert_eq!(f.fqdn(), Some("testing.com"));
        assert_eq!(f.service.as_deref(), Some("ssl"));
        assert!((f.duration - 0.6).abs() < 1e-9);
    }

    #[test]
    fn states_of_failed_attempts() {
        let a = "10.0.2.112";
        let flows = run(&[
            tcp(1.0, a, 1000, "10.0.0.1", 80, "S", 1, b""),
            tcp(1.0, a, 1001, "10.0.0.2", 80, "S", 1, b""),
            tcp(1.1, "10.0.0.2", 80, a, 1001, "RA", 0, b""),
            tcp(1.2, a, 1002, "10.0.0.3", 22, "S", 1, b""),
            tcp(1.3, "10.0.0.3", 22, a, 1002, "SA", 1, b""),
            tcp(1.4, a, 1002, "10.0.0.3", 22, "R", 2, b""),
        ]);
        let st: Vec<_> = flows
            .iter()
            .map(|f| (f.resp_port, f.conn_state.unwrap()))
            .collect();
        assert!(st.contains(&(80, ConnState::S0)));
        assert!(st.contains(&(80, ConnState::REJ)));
        assert!(st.contains(&(22, ConnState::RSTO)));
        let open = flows.iter().find(|f| f.resp_port == 22).unwrap();
        assert!(!open.failed_attempt());
        assert_eq!(flows.iter().filter(|f| f.failed_attempt()).count(), 2);
    }

    #[test]
    fn port_reuse_and_timeouts_split_flows() {
        let c = "10.0.0.5";
        let s = "10.0.0.6";
        let flows = run(&[
            tcp(1.0, c, 5000, s, 80, "S", 1, b""),
            tcp(1.1, s, 80, c, 5000, "R", 0, b""),
            tcp(2.0, c, 5000, s, 80, "S", 7, b""),
            tcp(2.1, s, 80, c, 5000, "SA", 9, b""),
            // Idle beyond the TCP timeout, then midstream traffic.
            tcp(
                1000.0,
                c,
                5000,
                s,
                80,
                "A",
                8,
                b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            ),
        ]);
        assert_eq!(flows.len(), 3, "{flows:#?}");
        assert_eq!(flows[0].conn_state, Some(ConnState::REJ));
        assert_eq!(flows[1].conn_state, Some(ConnState::S1));
        assert_eq!(flows[2].conn_state, Some(ConnState::OTH));
    }

    #[test]
    fn connect_tunnel_exposes_inner_sni() {
        let hello = crate::tls::tests::hello_record("www.honestimnotevil.com");
        let req = b"CONNECT www.honestimnotevil.com:443 HTTP/1.1\r\nHost: www.honestimnotevil.com:443\r\n\r\n";
        let (c, s) = ("10.136.0.18", "10.136.0.16");
        let flows = run(&[
            tcp(1.0, c, 4000, s, 3128, "S", 1, b""),
            tcp(1.0, s, 3128, c, 4000, "SA", 1, b""),
            tcp(1.1, c, 4000, s, 3128, "A", 2, req),
            tcp(
                1.2,
                s,
                3128,
                c,
                4000,
                "A",
                2,
                b"HTTP/1.1 200 Connection established\r\n\r\n",
            ),
            tcp(1.3, c, 4000, s, 3128, "A", 2 + req.len() as u32, &hello),
        ]);
        let f = &flows[0];
        assert!(f.proxied);
        assert_eq!(f.service.as_deref(), Some("http,ssl"));
        assert_eq!(f.fqdn(), Some("www.honestimnotevil.com"));
    }

    #[test]
    fn ssh_banners_by_content() {
        let (c, s) = ("147.32.80.40", "147.32.80.37");
        let flows = run(&[
            tcp(1.0, c, 4000, s, 902, "S", 1, b""),
            tcp(1.0, s, 902, c, 4000, "SA", 1, b""),
            tcp(
                1.1,
                s,
                902,
                c,
                4000,
                "A",
                2,
                b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.11\r\n",
            ),
            tcp(1.2, c, 4000, s, 902, "A", 2, b"SSH-2.0-libssh2_1.11.0\r\n"),
        ]);
        let (cb, sb) = flows[0].ssh.clone().unwrap();
        assert_eq!(cb, "SSH-2.0-libssh2_1.11.0");
        assert!(sb.starts_with("SSH-2.0-OpenSSH_9.6p1"));
        assert_eq!(flows[0].service.as_deref(), Some("ssh"));
    }

    #[test]
    fn table_is_bounded() {
        let mut t = FlowTracker::new(TrackerConfig {
            max_flows: 100,
            ..TrackerConfig::default()
        });
        for i in 0..1000u16 {
            t.packet(&tcp(
                f64::from(i) * 0.001,
                "10.0.0.1",
                1024 + i,
                "10.0.0.2",
                80,
                "S",
                1,
                b"",
            ));
            assert!(t.active() <= 100);
        }
        t.finish();
        assert_eq!(t.drain().count(), 1000);
        assert!(t.stats().evicted > 0);
    }
}
