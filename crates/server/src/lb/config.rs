//! `[lb]` (the load balancer) and `[gateway.front_end]` (what may precede TLS on the
//! gateway's listener).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::duration;

/// What the load balancer puts in front of the client's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LbHeader {
    /// A `proxy_header` record of draft-schwartz-tls-lb-02: encrypted, bound to the
    /// ClientHello, answered by the backend.
    #[default]
    TlsLb,
    /// PROXY protocol v2 with a CRC32C TLV (haproxy, nginx): plaintext, unauthenticated.
    ProxyV2,
    /// PROXY protocol v1 (text).
    ProxyV1,
    /// Nothing: the client's bytes only.
    None,
}

/// Whether the load balancer moves bulk transfers with `splice(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Splice {
    /// A direction whose read fills a whole 64 KiB buffer moves on to `splice`, socket to
    /// socket inside the kernel (Linux; elsewhere the same as `off`).
    #[default]
    Auto,
    /// Always copy through the load balancer's memory.
    Off,
}

/// `[lb]`: the L4 load balancer of draft-schwartz-tls-lb-02.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LbConfig {
    /// TCP listener (`--listen` overrides).
    pub listen: SocketAddr,
    /// What precedes the client's bytes on the way to a backend.
    pub header: LbHeader,
    /// TLS-LB key file (PEM `TLS-LB PROXY KEY` blocks, current key first;
    /// `secdispatch lb keygen` writes it). Unset: `tlslb.keys` in the data directory.
    pub key_file: Option<PathBuf>,
    /// Record content type of the `proxy_header` record (the draft leaves it to IANA).
    pub content_type: u8,
    /// `ProxyData` is padded to a multiple of this many bytes, so its length tells an
    /// observer nothing about the addresses inside.
    pub pad_to: usize,
    /// Time a client has to send its whole ClientHello.
    #[serde(with = "duration")]
    pub client_hello_timeout: Duration,
    /// Time to connect to a backend before the next one is tried.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// Time to wait for the backend's first bytes after the ClientHello (its downstream
    /// `proxy_header`, or its ServerHello when it does not answer); a backend silent this
    /// long is given up and the next one tried.
    #[serde(with = "duration")]
    pub answer_timeout: Duration,
    /// Most backends tried for one connection (connection failure or `rejected`).
    pub max_attempts: usize,
    /// `splice(2)` for bulk transfers.
    pub splice: Splice,
    /// Start both sides of a connection in delayed-ACK mode (Linux `TCP_QUICKACK` off), so
    /// that ACKs ride on data instead of leaving alone: haproxy's `tcp-smart-accept` and
    /// `tcp-smart-connect`, made for client-speaks-first protocols such as TLS.
    pub delayed_acks: bool,
    /// Backend pools chosen by the ClientHello's server name.
    pub pools: Vec<PoolConfig>,
    /// Send flow events (connection open/close with addresses and byte counts) to a
    /// `secdispatch lifecycle watch --flows ADDR` listener.
    pub flow_events: Option<SocketAddr>,
}

impl Default for LbConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8442)),
            header: LbHeader::TlsLb,
            key_file: None,
            content_type: 0,
            pad_to: 64,
            client_hello_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            answer_timeout: Duration::from_secs(2),
            max_attempts: 3,
            splice: Splice::Auto,
            delayed_acks: true,
            pools: Vec::new(),
            flow_events: None,
        }
    }
}

/// `[[lb.pools]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Server names (SNI) routed here: exact, or `*.example.com` for one label. Empty:
    /// the default pool (also for ClientHellos without a server name).
    #[serde(default)]
    pub server_names: Vec<String>,
    /// Backend addresses.
    pub backends: Vec<SocketAddr>,
}

/// Which front-end header the gateway's listener understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FrontEndProtocol {
    /// Clients connect directly; nothing precedes TLS.
    #[default]
    None,
    /// A `proxy_header` record of draft-schwartz-tls-lb-02 from `secdispatch lb`.
    TlsLb,
    /// PROXY protocol v1 or v2 (haproxy, nginx), from `trusted_peers` only.
    Proxy,
}

/// Whether connections without the header are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FrontEndMode {
    /// Direct TLS clients are served too (their address is the socket's).
    #[default]
    Allow,
    /// Every connection must start with a valid header: a listener only the load
    /// balancer can reach, or where an attacker must not be able to omit the header.
    Require,
}

/// `[gateway.front_end]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FrontEndConfig {
    /// `none`, `tls-lb` or `proxy`.
    pub protocol: FrontEndProtocol,
    /// `allow` or `require`.
    pub mode: FrontEndMode,
    /// TLS-LB key file; unset: `tlslb.keys` in the data directory.
    pub key_file: Option<PathBuf>,
    /// Record content type of `proxy_header` records.
    pub content_type: u8,
    /// Ratchet: recently seen indices above the floor remembered to drop exact replays
    /// (0: the floor only).
    pub ratchet_window: usize,
    /// PROXY protocol: peers whose header is believed. Empty: any peer (only on a
    /// listener no one else can reach).
    pub trusted_peers: Vec<IpAddr>,
    /// Time to read the header (and, for TLS-LB, the ClientHello it is bound to).
    #[serde(with = "duration")]
    pub header_timeout: Duration,
}

impl Default for FrontEndConfig {
    fn default() -> Self {
        Self {
            protocol: FrontEndProtocol::None,
            mode: FrontEndMode::Allow,
            key_file: None,
            content_type: 0,
            ratchet_window: 1024,
            trusted_peers: Vec::new(),
            header_timeout: Duration::from_secs(10),
        }
    }
}
