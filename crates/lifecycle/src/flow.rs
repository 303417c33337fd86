//! The one flow model every input is turned into: a Zeek-style connection record.
//!
//! Pcaps are reassembled into [`Flow`]s by [`crate::tracker::FlowTracker`]; Zeek logs are
//! read into the same type by [`crate::zeek`]; live flow events by [`crate::event`]. The
//! detectors only ever see `Flow`s (and DNS transactions), so every input gets the same
//! analysis.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Seconds, as a float: Unix time for captures and most logs, relative for some Zeek logs.
pub type Ts = f64;

/// Transport of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6; as in Zeek, the "ports" carry the type (orig) and code (resp).
    Icmp,
    /// ARP request/reply pairs (sender and target protocol addresses).
    Arp,
    /// Any other IP protocol.
    Other,
}

impl Proto {
    /// Zeek's name (`tcp`, `udp`, `icmp`), `arp`, or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Arp => "arp",
            Proto::Other => "other",
        }
    }

    /// Parse Zeek's `proto` column.
    pub fn parse(s: &str) -> Proto {
        match s {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" | "icmp6" => Proto::Icmp,
            "arp" => Proto::Arp,
            _ => Proto::Other,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Zeek's `conn_state`: how a connection was set up and torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected (RST to the SYN).
    REJ,
    /// Established, close attempt by the originator only.
    S2,
    /// Established, close attempt by the responder only.
    S3,
    /// Established, the originator aborted (RST).
    RSTO,
    /// Established, the responder aborted (RST).
    RSTR,
    /// The originator sent a SYN and then a RST; no SYN-ACK seen.
    RSTOS0,
    /// The responder sent a SYN-ACK and then a RST; no SYN seen from the originator.
    RSTRH,
    /// The originator sent a SYN and then a FIN; no SYN-ACK.
    SH,
    /// The responder sent a SYN-ACK and then a FIN; no SYN.
    SHR,
    /// No SYN seen, just midstream traffic (or a non-TCP flow).
    OTH,
}

impl ConnState {
    /// Zeek's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }

    /// Parse Zeek's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<ConnState> {
        Some(match s {
            "S0" => ConnState::S0,
            "S1" => ConnState::S1,
            "SF" => ConnState::SF,
            "REJ" => ConnState::REJ,
            "S2" => ConnState::S2,
            "S3" => ConnState::S3,
            "RSTO" => ConnState::RSTO,
            "RSTR" => ConnState::RSTR,
            "RSTOS0" => ConnState::RSTOS0,
            "RSTRH" => ConnState::RSTRH,
            "SH" => ConnState::SH,
            "SHR" => ConnState::SHR,
            "OTH" => ConnState::OTH,
            _ => return None,
        })
    }
}

/// One DNS transaction (query and, when seen, its answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsTxn {
    /// When the query was sent.
    pub ts: Ts,
    /// The querying host.
    pub client: IpAddr,
    /// The server asked.
    pub server: IpAddr,
    /// The name asked for, lower case, without the trailing dot.
    pub query: String,
    /// Query type (1 = A, 28 = AAAA, 12 = PTR, ...); 0 when unknown.
    pub qtype: u16,
    /// Response code (0 NOERROR, 3 NXDOMAIN, ...); `None` when no answer was seen.
    pub rcode: Option<u8>,
    /// Addresses in A/AAAA answers.
    pub answers: Vec<IpAddr>,
}

/// What a TLS ClientHello says in the clear.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// server_name, lower case.
    pub sni: Option<String>,
    /// ALPN protocol names offered.
    pub alpn: Vec<String>,
    /// JA3 fingerprint (MD5 of version, ciphers, extensions, groups, point formats; GREASE
    /// removed), lower-case hex; empty when it could not be computed (Zeek logs).
    pub ja3: String,
    /// The ClientHello's legacy_version (or the version Zeek logged).
    pub version: u16,
    /// Length of the legacy session ID (0..=32): attacker-controllable bytes.
    pub session_id_len: u8,
    /// GREASE values offered (ciphers, extensions, groups, versions).
    pub grease: u8,
}

/// What an HTTP request line and Host header say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpInfo {
    /// Request method (`GET`, `CONNECT`, ...).
    pub method: String,
    /// Host header (or the CONNECT authority), lower case, port removed.
    pub host: Option<String>,
    /// Request target.
    pub uri: String,
    /// User-Agent header.
    pub user_agent: Option<String>,
}

/// One connection, Zeek-style. Directions are from the originator's point of view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Unique id: Zeek's `uid`, or `F<n>` for flows built from captures.
    pub uid: String,
    /// Start: the first packet.
    pub ts: Ts,
    /// Last packet minus first packet, seconds.
    pub duration: f64,
    /// Originator address.
    pub orig: IpAddr,
    /// Originator port (ICMP: type).
    pub orig_port: u16,
    /// Responder address.
    pub resp: IpAddr,
    /// Responder port (ICMP: code).
    pub resp_port: u16,
    /// Transport.
    pub proto: Proto,
    /// Application protocols recognised from payloads (Zeek's `service`: `ssl`, `http`,
    /// `dns`, `ssh`, `http,ssl` for a CONNECT tunnel).
    pub service: Option<String>,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// IP-level bytes (sum of IP total lengths) from the originator.
    pub orig_ip_bytes: u64,
    /// IP-level bytes from the responder.
    pub resp_ip_bytes: u64,
    /// TCP connection state (`OTH` for other transports).
    pub conn_state: Option<ConnState>,
    /// Zeek-style history letters (upper case: originator, lower case: responder).
    pub history: String,
    /// Smallest and largest IP TTL / hop limit of the originator's packets.
    pub orig_ttl: Option<(u8, u8)>,
    /// DNS transactions carried by this flow.
    pub dns: Vec<DnsTxn>,
    /// TLS ClientHello, if one was seen (also inside a CONNECT tunnel).
    pub tls: Option<TlsInfo>,
    /// HTTP request, if one was seen.
    pub http: Option<HttpInfo>,
    /// SSH banners (client, server), if the payload started with `SSH-`.
    pub ssh: Option<(String, String)>,
    /// The flow went through an HTTP proxy (a `CONNECT` request was seen).
    pub proxied: bool,
}

impl Flow {
    /// An empty flow between two endpoints; the readers fill in the rest.
    pub fn new(
        uid: String,
        ts: Ts,
        proto: Proto,
        orig: (IpAddr, u16),
        resp: (IpAddr, u16),
    ) -> Flow {
        Flow {
            uid,
            ts,
            duration: 0.0,
            orig: orig.0,
            orig_port: orig.1,
            resp: resp.0,
            resp_port: resp.1,
            proto,
            service: None,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_pkts: 0,
            resp_pkts: 0,
            orig_ip_bytes: 0,
            resp_ip_bytes: 0,
            conn_state: None,
            history: String::new(),
            orig_ttl: None,
            dns: Vec::new(),
            tls: None,
            http: None,
            ssh: None,
            proxied: false,
        }
    }

    /// The name this flow was addressed to: TLS SNI, else the HTTP Host / CONNECT target.
    /// Beacons are grouped by it (RITA's SNI beacons), which finds them behind a proxy.
    pub fn fqdn(&self) -> Option<&str> {
        self.tls
            .as_ref()
            .and_then(|t| t.sni.as_deref())
            .or_else(|| self.http.as_ref().and_then(|h| h.host.as_deref()))
            .filter(|s| !s.is_empty())
    }

    /// Whether the responder answered at all (any packet back, or a state that implies one).
    pub fn answered(&self) -> bool {
        match self.conn_state {
            Some(ConnState::S0 | ConnState::RSTOS0 | ConnState::SH) => false,
            Some(ConnState::REJ) => false,
            Some(ConnState::OTH) | None => self.resp_pkts > 0 || self.resp_bytes > 0,
            Some(_) => true,
        }
    }

    /// An unanswered or rejected attempt, as port-scan detectors count them: S0, REJ,
    /// RSTOS0, SH, RSTR without data, or OTH without reply.
    pub fn failed_attempt(&self) -> bool {
        match self.conn_state {
            Some(ConnState::S0 | ConnState::REJ | ConnState::RSTOS0 | ConnState::SH) => true,
            Some(ConnState::RSTR | ConnState::RSTO) => {
                self.proto == Proto::Tcp
                    && self.orig_bytes == 0
                    && self.resp_bytes == 0
                    && !self.history.contains('h')
            }
            Some(ConnState::OTH) => self.resp_pkts == 0,
            _ => false,
        }
    }

    /// A TCP connection that was established (handshake completed).
    pub fn established(&self) -> bool {
        matches!(
            self.conn_state,
            Some(
                ConnState::S1
                    | ConnState::SF
                    | ConnState::S2
                    | ConnState::S3
                    | ConnState::RSTO
                    | ConnState::RSTR
            )
        ) && (self.history.contains('h') || self.history.contains('H') || self.resp_bytes > 0)
    }
}
