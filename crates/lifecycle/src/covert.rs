//! Covert-channel capacity per observed protocol — the draft's "metrics of how far a
//! protocol supports hidden communication": attacker-controllable bits per message, and
//! what that adds up to over the traffic seen.
//!
//! | field | bits per message |
//! |---|---|
//! | IPv4 identification | 16 per IPv4 packet |
//! | TCP initial sequence number | 32 per SYN (either side) |
//! | TLS ClientHello | 256 (random) + 8 × legacy session ID length + 4 per GREASE value |
//! | DNS query name | ≈ 5.2 bits (log2 37) per character below the registered domain |
//! | ICMP echo | 32 (identifier + sequence) + 8 per payload byte |
//!
//! From Zeek logs the session ID length is not logged: TLS 1.3 clients send 32 bytes for
//! middlebox compatibility, which is what is assumed (and flagged) there.

use serde::{Deserialize, Serialize};

use crate::dns;
use crate::flow::{DnsTxn, Flow, Proto};

/// Running totals per protocol field.
#[derive(Debug, Clone, Default)]
pub struct CovertTally {
    ipv4_packets: u64,
    syns: u64,
    tcp_flows: u64,
    hellos: u64,
    hello_bits: u64,
    hello_max: u64,
    hello_assumed: bool,
    dns_queries: u64,
    dns_bits: f64,
    dns_max: f64,
    echo_msgs: u64,
    echo_bits: u64,
    echo_flows: u64,
}

/// One line of the estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CovertChannel {
    /// Protocol and field.
    pub channel: String,
    /// Messages that carried it.
    pub messages: u64,
    /// Mean attacker-controllable bits per message.
    pub bits_per_message: f64,
    /// Largest per message.
    pub max_bits_per_message: f64,
    /// Total capacity over the data, bits.
    pub total_bits: f64,
    /// Mean bits per flow of that protocol.
    pub bits_per_flow: f64,
    /// Assumptions made.
    pub note: String,
}

const DNS_BITS_PER_CHAR: f64 = 5.209; // log2(37): letters, digits, hyphen

impl CovertTally {
    /// Account one flow.
    pub fn add_flow(&mut self, f: &Flow) {
        if f.orig.is_ipv4()
            && matches!(
                f.proto,
                Proto::Tcp | Proto::Udp | Proto::Icmp | Proto::Other
            )
        {
            self.ipv4_packets += f.orig_pkts + f.resp_pkts;
        }
        if f.proto == Proto::Tcp {
            self.tcp_flows += 1;
            self.syns += u64::from(f.history.contains('S')) + u64::from(f.history.contains('h'));
        }
        if let Some(t) = &f.tls {
            let (sid, assumed) = if t.ja3.is_empty() && t.session_id_len == 0 {
                (32, true)
            } else {
                (u64::from(t.session_id_len), false)
            };
            let bits = 256 + 8 * sid + 4 * u64::from(t.grease);
            self.hellos += 1;
            self.hello_bits += bits;
            self.hello_max = self.hello_max.max(bits);
            self.hello_assumed |= assumed;
        }
        if f.proto == Proto::Icmp && matches!(f.orig_port, 8 | 128) {
            let msgs = f.orig_pkts + f.resp_pkts;
            self.echo_msgs += msgs;
            self.echo_bits += 32 * msgs + 8 * (f.orig_bytes + f.resp_bytes);
            self.echo_flows += 1;
        }
    }

    /// Account one DNS query.
    pub fn add_dns(&mut self, d: &DnsTxn) {
        let reg = dns::registered_domain(&d.query);
        let chars = d.query.len().saturating_sub(reg.len()).min(253) as f64;
        let bits = chars * DNS_BITS_PER_CHAR;
        self.dns_queries += 1;
        self.dns_bits += bits;
        self.dns_max = self.dns_max.max(bits);
    }

    /// The estimate, one line per protocol field seen.
    pub fn channels(&self) -> Vec<CovertChannel> {
        let r = |x: f64| (x * 10.0).round() / 10.0;
        let line = |channel: &str, messages: u64, total: f64, max: f64, flows: u64, note: &str| {
            CovertChannel {
                channel: channel.to_owned(),
                messages,
                bits_per_message: r(total / messages.max(1) as f64),
                max_bits_per_message: r(max),
                total_bits: r(total),
                bits_per_flow: r(total / flows.max(1) as f64),
                note: note.to_owned(),
            }
        };
        let mut out = Vec::new();
        if self.ipv4_packets > 0 {
            out.push(line(
                "ipv4.identification",
                self.ipv4_packets,
                16.0 * self.ipv4_packets as f64,
                16.0,
                self.tcp_flows.max(1),
                "16 bits in every IPv4 packet (unused when DF is set)",
            ));
        }
        if self.syns > 0 {
            out.push(line(
                "tcp.initial_sequence_number",
                self.syns,
                32.0 * self.syns as f64,
                32.0,
                self.tcp_flows,
                "32 bits per SYN and SYN-ACK",
            ));
        }
        if self.hellos > 0 {
            let note = if self.hello_assumed {
                "random 256 bits + legacy session ID (32 bytes assumed where not logged) + 4 bits per GREASE value"
            } else {
                "random 256 bits + legacy session ID + 4 bits per GREASE value"
            };
            out.push(line(
                "tls.client_hello",
                self.hellos,
                self.hello_bits as f64,
                self.hello_max as f64,
                self.hellos,
                note,
            ));
        }
        if self.dns_queries > 0 {
            out.push(line(
                "dns.query_name",
                self.dns_queries,
                self.dns_bits,
                self.dns_max,
                self.dns_queries,
                "≈5.2 bits per character below the registered domain",
            ));
        }
        if self.echo_msgs > 0 {
            out.push(line(
                "icmp.echo",
                self.echo_msgs,
                self.echo_bits as f64,
                32.0 + 8.0 * 1472.0,
                self.echo_flows,
                "identifier + sequence, plus every payload byte",
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::TlsInfo;

    #[test]
    fn tallies() {
        let mut t = CovertTally::default();
        let mut f = Flow::new(
            "F1".into(),
            0.0,
            Proto::Tcp,
            ("10.0.0.1".parse().unwrap(), 1),
            ("1.1.1.1".parse().unwrap(), 443),
        );
        f.orig_pkts = 5;
        f.resp_pkts = 5;
        f.history = "ShADadFf".into();
        f.tls = Some(TlsInfo {
            session_id_len: 32,
            grease: 2,
            ja3: "x".into(),
            ..TlsInfo::default()
        });
        t.add_flow(&f);
        let dns = DnsTxn {
            ts: 0.0,
            client: f.orig,
            server: f.resp,
            query: "abcdefgh.evil.com".into(),
            qtype: 1,
            rcode: Some(0),
            answers: vec![],
        };
        t.add_dns(&dns);
        let c = t.channels();
        let get = |n: &str| c.iter().find(|x| x.channel == n).unwrap().clone();
        assert_eq!(get("ipv4.identification").total_bits, 160.0);
        assert_eq!(get("tcp.initial_sequence_number").messages, 2);
        assert_eq!(
            get("tls.client_hello").bits_per_message,
            256.0 + 256.0 + 8.0
        );
        assert!((get("dns.query_name").bits_per_message - 9.0 * DNS_BITS_PER_CHAR).abs() < 0.1);
    }
}
