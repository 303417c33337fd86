//! `[ocsp]`: the OCSP responder (RFC 6960 / RFC 9919 / RFC 9654) and its experimental OCSPv2
//! options.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::duration;

/// What to answer for a serial the issuer never issued (no authoritative record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownSerial {
    /// The unsigned `unauthorized` response (RFC 9919 §2.2.3; the default).
    #[default]
    Unauthorized,
    /// A signed response with status `unknown`.
    Unknown,
    /// A signed `revoked` (1970-01-01, certificateHold) with the extended-revoke extension
    /// (RFC 6960 §2.2).
    RevokedExtended,
}

/// What to do with a request that carries a nonce (RFC 9654).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NoncePolicy {
    /// Sign a fresh response that echoes the nonce (never cached; the default).
    #[default]
    Sign,
    /// Serve the pre-signed response without the nonce ("the most complete response").
    Ignore,
    /// Refuse with `unauthorized`.
    Unauthorized,
}

/// `[ocsp]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcspConfig {
    /// Address of the responder's HTTP listener; `--listen` overrides.
    pub listen: SocketAddr,
    /// Authorities (names in the CA database) answered for. Empty: every authority.
    pub issuers: Vec<String>,
    /// Authorities whose responses are signed by a delegated responder certificate
    /// (id-kp-OCSPSigning + id-pkix-ocsp-nocheck, issued from the CA key and kept in the
    /// store) instead of the CA key itself. `["*"]`: every authority.
    pub delegated: Vec<String>,
    /// More signer variants per authority (algorithm agility): each names an algorithm of
    /// `secdispatch pki algs`; a delegated responder of that algorithm is made per
    /// authority. Clients choose with PreferredSignatureAlgorithms; the default variant is
    /// the CA's (or its delegated responder's) own algorithm.
    pub signer_algorithms: Vec<String>,
    /// nextUpdate − thisUpdate of per-serial responses.
    #[serde(with = "duration")]
    pub validity: Duration,
    /// nextUpdate − thisUpdate of OCSPv2 range responses (short: a range response stays
    /// valid for every serial it covers until nextUpdate).
    #[serde(with = "duration")]
    pub range_validity: Duration,
    /// A cached response is re-signed in the background once this fraction of its validity
    /// has passed.
    pub refresh_fraction: f64,
    /// OCSPv2 range responses for authorities with sequential serials, to clients that opt
    /// in (experimental).
    pub ranges: bool,
    /// "unauthorized", "unknown" or "revoked-extended".
    pub unknown_serial: UnknownSerial,
    /// Requests with a nonce: "sign", "ignore" or "unauthorized".
    pub nonce: NoncePolicy,
    /// Largest OCSP request accepted, in bytes (POST body or decoded GET); larger gets
    /// malformedRequest.
    pub max_request_bytes: usize,
    /// Most CertIDs in one request (a chain bundle asks for several).
    pub max_requests: usize,
    /// How often the CA database is polled for issuance and revocations.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Lifetime of delegated responder certificates made by the responder.
    #[serde(with = "duration")]
    pub responder_cert_lifetime: Duration,
    /// Most responses kept pre-signed in memory; past it, misses are signed but not kept.
    pub max_cached: usize,
    /// Pre-sign every issued serial and range at start (in the background); otherwise
    /// responses are signed on first request and kept.
    pub presign: bool,
}

impl Default for OcspConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8445)),
            issuers: Vec::new(),
            delegated: Vec::new(),
            signer_algorithms: Vec::new(),
            validity: Duration::from_secs(24 * 3600),
            range_validity: Duration::from_secs(4 * 3600),
            refresh_fraction: 0.5,
            ranges: true,
            unknown_serial: UnknownSerial::Unauthorized,
            nonce: NoncePolicy::Sign,
            max_request_bytes: 16 * 1024,
            max_requests: 16,
            poll_interval: Duration::from_millis(200),
            responder_cert_lifetime: Duration::from_secs(30 * 86_400),
            max_cached: 1_000_000,
            presign: true,
        }
    }
}

impl OcspConfig {
    /// Whether `authority` is served.
    pub fn serves(&self, authority: &str) -> bool {
        self.issuers.is_empty() || self.issuers.iter().any(|i| i == authority)
    }

    /// Whether `authority` signs through a delegated responder.
    pub fn is_delegated(&self, authority: &str) -> bool {
        self.delegated.iter().any(|d| d == "*" || d == authority)
    }
}
