//! Revocation checking of client certificates over OCSP (RFC 6960, RFC 9919 transport).
//!
//! The TLS handshake validates the client's chain (signatures, validity, constraints); this
//! module answers the one question a chain cannot: has the CA revoked the end-entity
//! certificate since? It asks the OCSP responder (the configured URL, or the certificate's
//! authorityInfoAccess OCSP URL), verifies the answer against the issuing CA
//! (`secdispatch_ocsp::verify_response`: signature by the CA or its designated responder,
//! CertID, freshness), and remembers it until its nextUpdate, but at most
//! `cache_max_age` — the window in which a revocation may go unnoticed.
//!
//! What a failure to learn the status means is the operator's choice: `fail-closed` (the
//! default) refuses the request with 503, `fail-open` forwards it and counts it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secdispatch_ocsp::{
    CertStatus, HashAlgorithm, IssuerHashes, RequestBuilder, VerifyOptions, verify_response,
};
use secdispatch_pqpki::cert::CertInfo;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use crate::Metrics;
use crate::config::duration;
use crate::issuer::http::Client;

/// What to do when the revocation status cannot be learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FailurePolicy {
    /// Refuse the request (503).
    #[default]
    FailClosed,
    /// Forward it as if the certificate were good; counted and logged.
    FailOpen,
}

/// `[gateway.ocsp]`: checking client certificates with an OCSP responder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcspCheckConfig {
    /// Check at all.
    pub enabled: bool,
    /// The responder's URL; empty: the certificate's authorityInfoAccess OCSP URL.
    pub responder: String,
    /// When the status cannot be learned (responder down, bad answer, `unknown`).
    pub policy: FailurePolicy,
    /// An answer is reused until its nextUpdate, but at most this long.
    #[serde(with = "duration")]
    pub cache_max_age: Duration,
    /// A failure is remembered this long before the responder is asked again.
    #[serde(with = "duration")]
    pub failure_cache: Duration,
    /// Time allowed for one query.
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for OcspCheckConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            responder: String::new(),
            policy: FailurePolicy::FailClosed,
            cache_max_age: Duration::from_secs(60),
            failure_cache: Duration::from_secs(5),
            timeout: Duration::from_secs(2),
        }
    }
}

/// The status of one client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not revoked, per a verified, fresh response.
    Good,
    /// Revoked (the reason as text).
    Revoked(String),
    /// The status could not be learned (why).
    Unavailable(String),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

/// Checks client certificates, with a cache of recent answers.
#[derive(Debug)]
pub struct RevocationChecker {
    config: OcspCheckConfig,
    anchors: Vec<Certificate>,
    client: Client,
    cache: Mutex<HashMap<Vec<u8>, (Instant, Verdict)>>,
    checks: Family<ResultLabels, Counter>,
}

/// Remembered answers at most (the cache is cleared when full).
const CACHE_ENTRIES: usize = 16_384;

impl RevocationChecker {
    /// A checker that finds issuers among the presented chain and `anchors`.
    pub fn new(config: OcspCheckConfig, anchors: Vec<Certificate>, metrics: &Metrics) -> Self {
        let checks = Family::<ResultLabels, Counter>::default();
        metrics.register(
            "gateway_ocsp_checks",
            "Client certificate revocation checks, by result (good, revoked, unavailable, cached_*)",
            checks.clone(),
        );
        let client = Client::plain().timeout(config.timeout);
        Self {
            config,
            anchors,
            client,
            cache: Mutex::new(HashMap::new()),
            checks,
        }
    }

    /// The policy for [`Verdict::Unavailable`].
    pub fn policy(&self) -> FailurePolicy {
        self.config.policy
    }

    fn count(&self, result: &str) {
        self.checks
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The status of the end-entity certificate of `chain` (DER, end entity first, already
    /// validated by the handshake).
    pub async fn check(&self, chain: &[Vec<u8>]) -> Verdict {
        let Some(leaf) = chain.first() else {
            return Verdict::Unavailable("no certificate".into());
        };
        if let Some(v) = self.cached(leaf) {
            self.count(match &v {
                Verdict::Good => "cached_good",
                Verdict::Revoked(_) => "cached_revoked",
                Verdict::Unavailable(_) => "cached_unavailable",
            });
            return v;
        }
        let (verdict, fresh_until) = self.ask(chain).await;
        self.count(match &verdict {
            Verdict::Good => "good",
            Verdict::Revoked(_) => "revoked",
            Verdict::Unavailable(_) => "unavailable",
        });
        let keep = match &verdict {
            Verdict::Unavailable(why) => {
                tracing::warn!(reason = %why, "gateway: client certificate revocation status unavailable");
                self.config.failure_cache
            }
            _ => fresh_until
                .and_then(|t| t.duration_since(SystemTime::now()).ok())
                .map_or(self.config.cache_max_age, |d| {
                    d.min(self.config.cache_max_age)
                }),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(leaf.clone(), (Instant::now() + keep, verdict.clone()));
        verdict
    }

    fn cached(&self, leaf: &[u8]) -> Option<Verdict> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(leaf)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, v)| v.clone())
    }

    /// Query the responder: the verdict and, for a verified answer, its nextUpdate.
    async fn ask(&self, chain: &[Vec<u8>]) -> (Verdict, Option<SystemTime>) {
        let unavailable = |why: String| (Verdict::Unavailable(why), None);
        let parsed: Result<Vec<Certificate>, _> = chain
            .iter()
            .map(|d| secdispatch_pqpki::cert::from_der(d))
            .collect();
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return unavailable(format!("unreadable certificate: {e}")),
        };
        let Some((leaf, rest)) = parsed.split_first() else {
            return unavailable("no certificate".into());
        };
        let issuer_name = leaf.tbs_certificate().issuer();
        let Some(issuer) = rest
            .iter()
            .chain(&self.anchors)
            .find(|c| c.tbs_certificate().subject() == issuer_name)
        else {
            return unavailable(format!("issuer {issuer_name} not found"));
        };
        let url = if self.config.responder.is_empty() {
            match CertInfo::new(leaf).ocsp_urls() {
                Ok(urls) => match urls.into_iter().find(|u| u.starts_with("http://")) {
                    Some(u) => u,
                    None => {
                        return unavailable(
                            "the certificate names no http:// OCSP responder".into(),
                        );
                    }
                },
                Err(e) => return unavailable(format!("authorityInfoAccess: {e}")),
            }
        } else {
            self.config.responder.clone()
        };
        let serial_bytes = leaf.tbs_certificate().serial_number().as_bytes();
        let request = der::asn1::Int::new(serial_bytes)
            .map_err(|e| e.to_string())
            .and_then(|serial| {
                let id = IssuerHashes::from_certificate(issuer)
                    .and_then(|h| h.cert_id(HashAlgorithm::Sha1, serial))
                    .map_err(|e| e.to_string())?;
                RequestBuilder::new()
                    .cert_id(id)
                    .to_der()
                    .map_err(|e| e.to_string())
            });
        let request = match request {
            Ok(r) => r,
            Err(e) => return unavailable(format!("cannot build the OCSP request: {e}")),
        };
        let get =
            crate::ocsp::client::get_url(&url, &request).len() <= crate::ocsp::client::MAX_GET_URL;
        let der = match crate::ocsp::client::query_with(&self.client, &url, &request, get).await {
            Ok(d) => d,
            Err(e) => return unavailable(format!("{url}: {e}")),
        };
        let magnitude: &[u8] = match serial_bytes.iter().position(|b| *b != 0) {
            Some(i) => &serial_bytes[i..],
            None => &[0],
        };
        match verify_response(
            &der,
            issuer,
            magnitude,
            &VerifyOptions::at(SystemTime::now()),
        ) {
            Ok(v) => {
                let verdict = match v.status {
                    CertStatus::Good(_) => Verdict::Good,
                    CertStatus::Revoked(info) => Verdict::Revoked(match info.revocation_reason {
                        Some(r) => format!("revoked ({r:?})"),
                        None => "revoked".into(),
                    }),
                    CertStatus::Unknown(_) => {
                        return unavailable(format!("{url} does not know the certificate"));
                    }
                };
                (verdict, v.next_update)
            }
            Err(e) => unavailable(format!("{url}: {e}")),
        }
    }
}
