//! `secdispatch ocsp`: the OCSP responder (RFC 6960, RFC 9919 lightweight profile, RFC 9654
//! nonces) over the CA database, with the experimental OCSPv2 pieces of `secdispatch-ocsp`.
//!
//! * `GET /<any prefix>/<url-encoded base64 OCSPRequest>` (decoded the way real clients send
//!   it) and `POST` with `application/ocsp-request`; answers `application/ocsp-response`.
//!   GET answers carry the RFC 9919 caching headers (`Cache-Control: max-age=…, public,
//!   no-transform, must-revalidate`, `Expires`, `Last-Modified`, strong `ETag`) and
//!   `If-None-Match` gets 304.
//! * Answers are pre-signed ([`presigned`]): served from memory without signing, re-signed in
//!   the background once `refresh_fraction` of their validity has passed, signed once on a
//!   miss however many requests wait (single flight). Requests with a nonce are signed fresh
//!   (`nonce = "sign"`) and never cached.
//! * Status comes from the CA database ([`source`]), polled every `poll_interval` (200 ms):
//!   a `secdispatch ca revoke` in another process is answered within a second.
//! * Bad input gets the matching unsuccessful response (the 5 unsigned bytes), a log line and
//!   a metric, never a panic; a serial never issued is never `good` (`unknown_serial`).
//! * OCSPv2, experimental and negotiated: range responses (placeholder CertID + OCSPRange)
//!   for clients sending `id-ocsp-range-responses`, for authorities with sequential serials;
//!   chain bundles when AcceptableResponses lists `id-ocspv2-bundle`; signer variants chosen
//!   by PreferredSignatureAlgorithms.
//!
//! [`start_ocsp`] is what `secdispatch ocsp serve` (and `secdispatch up`) call; [`client`]
//! is the HTTP side of our client, reusable by the gateway.

pub mod client;
pub mod config;
pub mod presigned;
pub mod source;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use der::{Decode, Encode};
use http::{HeaderValue, Method, StatusCode, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use secdispatch_ocsp::{
    CertId, CertStatus, HashAlgorithm, IssuerHashes, IssuerIndex, OcspRange, OcspResponseStatus,
    ParsedRequest, RangeMode, RequestError, RequestPolicy, ResponseBuilder, ResponseSigner,
    SingleResponse, bundle_response, choose_signer, decode_get_path, decode_request,
    range_single_response, serial_from_magnitude, serial_from_u64, serial_magnitude, wrap_basic,
};
use secdispatch_pqpki::ca::{CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::Profile;
use secdispatch_pqpki::{Algorithm, SigningKey};
use secdispatch_store::{
    Authority, CertificateDb, IssuedCertificate, KeyStore, NewKey, Store, serial_hex,
};
use x509_cert::Certificate;
use x509_cert::name::Name;

pub use config::{NoncePolicy, OcspConfig, UnknownSerial};
use presigned::{Cache, Key, Presigned, Subject};
use source::{IssuerStatus, SerialStatus};

use crate::ca::Ca;
use crate::config::Config;
use crate::services::{StartError, spawn_every};
use crate::{Metrics, Shutdown, serve};

/// Media type of OCSP requests.
pub const REQUEST_MEDIA_TYPE: &str = "application/ocsp-request";
/// Media type of OCSP responses.
pub const RESPONSE_MEDIA_TYPE: &str = "application/ocsp-response";

/// thisUpdate is set this far before the signing time (clock skew of clients).
const BACKDATE: Duration = Duration::from_secs(60);

/// How often the background pool looks for responses to re-sign.
const REFRESH_CHECK: Duration = Duration::from_secs(5);

/// Most responses re-signed per refresh pass.
const REFRESH_BATCH: usize = 20_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    outcome: String,
}

/// The responder's metrics.
#[derive(Clone, Debug, Default)]
struct OcspMetrics {
    requests: Family<RequestLabels, Counter>,
    hits: Counter,
    misses: Counter,
    signatures: Counter,
    generation_age: Gauge,
    cached: Gauge,
}

impl OcspMetrics {
    fn register(&self, m: &Metrics) {
        m.register(
            "ocsp_requests",
            "OCSP requests by HTTP method and outcome (successful, not_modified, malformed_request, unauthorized, internal_error, sig_required)",
            self.requests.clone(),
        );
        m.register(
            "ocsp_cache_hits",
            "OCSP answers served pre-signed",
            self.hits.clone(),
        );
        m.register(
            "ocsp_cache_misses",
            "OCSP answers not pre-signed when asked for (signed on demand, single flight)",
            self.misses.clone(),
        );
        m.register(
            "ocsp_signatures",
            "OCSP responses signed (misses, refreshes, nonces)",
            self.signatures.clone(),
        );
        m.register(
            "ocsp_generation_age_seconds",
            "Age of the oldest pre-signed OCSP response (now - thisUpdate)",
            self.generation_age.clone(),
        );
        m.register(
            "ocsp_cached_responses",
            "OCSP responses held pre-signed",
            self.cached.clone(),
        );
    }

    fn count(&self, method: &Method, outcome: &str) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.as_str().to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// One served authority.
#[derive(Debug)]
struct Issuer {
    name: String,
    hashes: IssuerHashes,
    /// Signer variants; 0 is the default.
    variants: Vec<ResponseSigner>,
    /// The served authority that issued this one, and this one's serial under it.
    parent: Option<(usize, Box<[u8]>)>,
}

fn other(what: &str) -> impl Fn(String) -> StartError + '_ {
    move |e| StartError::Other(format!("ocsp: {what}: {e}"))
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// The id-pkix-ocsp-nocheck extension (NULL, non-critical) of delegated responder
/// certificates (RFC 6960 §4.2.2.2.1).
fn nocheck_extension() -> Result<x509_cert::ext::Extension, der::Error> {
    Ok(x509_cert::ext::Extension {
        extn_id: secdispatch_ocsp::oid::OCSP_NOCHECK,
        critical: false,
        extn_value: der::asn1::OctetString::new(der::asn1::Null.to_der()?)?,
    })
}

/// The delegated responder of `authority` for `alg`: its key (key store,
/// `ocsp-<authority>-<alg>`) and certificate (CA database, profile `ocsp`), made from the CA
/// key when absent or when less than a quarter of `lifetime` is left.
async fn delegated_signer(
    store: &Arc<Store>,
    authority: &Authority,
    ca_cert: &Certificate,
    ca_key: &SigningKey,
    alg: Algorithm,
    lifetime: Duration,
    now: SystemTime,
) -> Result<ResponseSigner, StartError> {
    let key_name = format!(
        "ocsp-{}-{}",
        authority.name,
        alg.name().to_ascii_lowercase()
    );
    let e = other("delegated responder");
    if let Some(rec) = store
        .current_key(&key_name, now)
        .await
        .map_err(|x| e(x.to_string()))?
        && rec.not_after > now + lifetime / 4
    {
        let key = SigningKey::from_pkcs8_der(&rec.material).map_err(|x| e(x.to_string()))?;
        let spki = key
            .public_key()
            .to_spki_der()
            .map_err(|x| e(x.to_string()))?;
        for c in store
            .certificates(&authority.name)
            .await
            .map_err(|x| e(x.to_string()))?
        {
            if c.profile != "ocsp" || c.revocation.is_some() || c.not_after <= now {
                continue;
            }
            let Ok(cert) = Certificate::from_der(&c.der) else {
                continue;
            };
            let same = cert
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .is_ok_and(|d| d == spki);
            if same {
                return ResponseSigner::delegated(key, cert).map_err(|x| e(x.to_string()));
            }
        }
    }
    let mut rng = rng();
    let key = SigningKey::generate(alg, &mut rng).map_err(|x| e(x.to_string()))?;
    let ca_end = ca_cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_system_time();
    let ca_start = ca_cert
        .tbs_certificate()
        .validity()
        .not_before
        .to_system_time();
    let not_before = (now - BACKDATE).max(ca_start);
    let not_after = (now + lifetime).min(ca_end);
    let subject = Name::from_str(&format!(
        "CN={} OCSP responder {}",
        authority.name,
        alg.name()
    ))
    .map_err(|x| e(x.to_string()))?;
    let mut req = IssueRequest::new(
        subject,
        key.public_key(),
        Profile::OcspSigning,
        not_before,
        not_after,
    )
    .map_err(|x| e(x.to_string()))?;
    req.extra_extensions
        .push(nocheck_extension().map_err(|x| e(x.to_string()))?);
    if authority.sequential {
        let n = store
            .take_serial(&authority.name)
            .await
            .map_err(|x| e(x.to_string()))?;
        req.serial = Some(
            serial_from_u64(n)
                .map_err(|x| e(x.to_string()))?
                .as_bytes()
                .to_vec(),
        );
    }
    let ca = CertificateAuthority::new(ca_cert.clone(), ca_key).map_err(|x| e(x.to_string()))?;
    let cert = ca.issue(&req, &mut rng).map_err(|x| e(x.to_string()))?;
    let der = cert.to_der().map_err(|x| e(x.to_string()))?;
    store
        .insert_certificate(IssuedCertificate {
            authority: authority.name.clone(),
            serial: serial_hex(cert.tbs_certificate().serial_number().as_bytes()),
            subject: cert.tbs_certificate().subject().to_string(),
            profile: "ocsp".to_owned(),
            not_before,
            not_after,
            der,
            issued_at: now,
            revocation: None,
            updated_at: now,
        })
        .await
        .map_err(|x| e(x.to_string()))?;
    store
        .insert_key(NewKey {
            name: key_name.clone(),
            algorithm: alg.name().to_owned(),
            material: key.to_pkcs8_der().map_err(|x| e(x.to_string()))?,
            public: key
                .public_key()
                .to_spki_der()
                .map_err(|x| e(x.to_string()))?,
            not_before,
            not_after,
        })
        .await
        .map_err(|x| e(x.to_string()))?;
    tracing::info!(authority = %authority.name, alg = alg.name(), key = %key_name, "ocsp: made a delegated responder certificate");
    ResponseSigner::delegated(key, cert).map_err(|x| e(x.to_string()))
}

/// What a request resolved to.
struct Resolved {
    issuer: usize,
    hash: HashAlgorithm,
    serial: Box<[u8]>,
    cert_id: CertId,
}

/// An answer before it becomes an HTTP response.
enum Answer {
    /// A pre-signed single response (cacheable; GET gets the RFC 9919 headers).
    Cached(Arc<Presigned>),
    /// Bytes made for this request (nonce, bundle, several CertIDs): not cacheable.
    Fresh(Bytes),
    /// An unsuccessful response.
    Refused(OcspResponseStatus, StatusCode),
}

/// The responder: served authorities, their status, the pre-signed responses.
#[derive(Debug)]
pub struct Responder {
    config: OcspConfig,
    policy: RequestPolicy,
    issuers: Vec<Issuer>,
    index: IssuerIndex<usize>,
    names: HashMap<String, usize>,
    status: RwLock<Vec<IssuerStatus>>,
    cache: Cache,
    metrics: OcspMetrics,
    /// Upper bound of `updated_at` seen in the database.
    seen: RwLock<SystemTime>,
}

impl Responder {
    /// Load the served authorities from `store` (making delegated responders as
    /// configured) and their issued and revoked certificates.
    pub async fn load(
        config: &OcspConfig,
        store: &Arc<Store>,
        now: SystemTime,
    ) -> Result<Responder, StartError> {
        let e = other("loading authorities");
        let all = store.authorities().await.map_err(|x| e(x.to_string()))?;
        for want in &config.issuers {
            if !all.iter().any(|a| &a.name == want) {
                return Err(StartError::Other(format!(
                    "ocsp.issuers: no authority named {want:?} (see `secdispatch ca list`)"
                )));
            }
        }
        let served: Vec<&Authority> = all.iter().filter(|a| config.serves(&a.name)).collect();
        if served.is_empty() {
            return Err(StartError::Other(
                "ocsp: no authority to answer for (create one with `secdispatch ca init`, or \
                 `secdispatch ocsp import-index`)"
                    .into(),
            ));
        }
        let extra: Vec<Algorithm> = config
            .signer_algorithms
            .iter()
            .map(|n| {
                Algorithm::from_name(n)
                    .map_err(|x| StartError::Other(format!("ocsp.signer_algorithms: {x}")))
            })
            .collect::<Result<_, _>>()?;
        let ca = Ca::new(store.clone());
        let names: HashMap<String, usize> = served
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        let mut issuers = Vec::with_capacity(served.len());
        let mut index = IssuerIndex::new();
        let mut status = Vec::with_capacity(served.len());
        for (i, a) in served.iter().enumerate() {
            let (_, cert, key) = ca.load(&a.name).await.map_err(|x| e(x.to_string()))?;
            let key = Arc::new(key);
            let alg = key.algorithm();
            let mut variants = Vec::new();
            let default = if config.is_delegated(&a.name) {
                delegated_signer(
                    store,
                    a,
                    &cert,
                    &key,
                    alg,
                    config.responder_cert_lifetime,
                    now,
                )
                .await?
            } else {
                ResponseSigner::new(key.clone()).map_err(|x| e(x.to_string()))?
            };
            variants.push(default);
            for x in &extra {
                if *x == alg {
                    continue;
                }
                variants.push(
                    delegated_signer(
                        store,
                        a,
                        &cert,
                        &key,
                        *x,
                        config.responder_cert_lifetime,
                        now,
                    )
                    .await?,
                );
            }
            let parent = a.parent.as_ref().and_then(|p| names.get(p)).and_then(|p| {
                let int =
                    der::asn1::Int::new(cert.tbs_certificate().serial_number().as_bytes()).ok()?;
                Some((*p, Box::<[u8]>::from(serial_magnitude(&int)?)))
            });
            index.insert(&cert, i).map_err(|x| e(x.to_string()))?;
            issuers.push(Issuer {
                name: a.name.clone(),
                hashes: IssuerHashes::from_certificate(&cert).map_err(|x| e(x.to_string()))?,
                variants,
                parent,
            });
            status.push(IssuerStatus::new(config.ranges && a.sequential));
        }
        // Read the database after making delegated responders, so they are included.
        let started = SystemTime::now();
        let mut records = Vec::new();
        for a in &served {
            records.extend(
                store
                    .certificates(&a.name)
                    .await
                    .map_err(|x| e(x.to_string()))?,
            );
        }
        source::apply(&mut status, &names, &records);
        let max_updated = records
            .iter()
            .map(|r| r.updated_at)
            .max()
            .unwrap_or(started)
            .max(started);
        Ok(Responder {
            policy: RequestPolicy {
                max_len: config.max_request_bytes,
                max_requests: config.max_requests,
                require_signature: false,
            },
            config: config.clone(),
            issuers,
            index,
            names,
            status: RwLock::new(status),
            cache: Cache::new(config.max_cached),
            metrics: OcspMetrics::default(),
            seen: RwLock::new(max_updated),
        })
    }

    /// Names of the served authorities and their signer variants' algorithms.
    pub fn describe(&self) -> Vec<(String, Vec<String>)> {
        self.issuers
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    i.variants
                        .iter()
                        .map(|v| v.key().algorithm().name().to_owned())
                        .collect(),
                )
            })
            .collect()
    }

    fn status_of(&self, issuer: usize, serial: &[u8]) -> Option<SerialStatus> {
        let st = self.status.read().unwrap_or_else(PoisonError::into_inner);
        st.get(issuer).and_then(|s| s.get(serial))
    }

    fn run_of(&self, issuer: usize, serial: &[u8]) -> Option<(u64, u64)> {
        let st = self.status.read().unwrap_or_else(PoisonError::into_inner);
        st.get(issuer).and_then(|s| s.run_of(serial))
    }

    /// Poll the database once: apply changes, withdraw the responses they make wrong.
    pub async fn poll(&self, store: &Store) -> Result<usize, String> {
        let since = *self.seen.read().unwrap_or_else(PoisonError::into_inner);
        let records = store
            .changed_since(since.checked_sub(source::POLL_OVERLAP).unwrap_or(since))
            .await
            .map_err(|e| e.to_string())?;
        if records.is_empty() {
            return Ok(0);
        }
        if let Some(max) = records.iter().map(|r| r.updated_at).max() {
            let mut seen = self.seen.write().unwrap_or_else(PoisonError::into_inner);
            *seen = (*seen).max(max);
        }
        let (changed, removed) = {
            let mut st = self.status.write().unwrap_or_else(PoisonError::into_inner);
            source::apply(&mut st, &self.names, &records)
        };
        if changed.is_empty() && removed.is_empty() {
            return Ok(0);
        }
        for (i, serial) in &changed {
            if let Some(s) = self.status_of(*i, serial) {
                let name = self.issuers.get(*i).map_or("?", |x| x.name.as_str());
                match s {
                    SerialStatus::Revoked(..) => {
                        tracing::info!(authority = name, serial = %serial_hex(serial), "ocsp: revocation picked up")
                    }
                    SerialStatus::Good => {
                        tracing::debug!(authority = name, serial = %serial_hex(serial), "ocsp: issuance picked up")
                    }
                }
            }
        }
        let withdrawn = self.cache.invalidate(|k| match &k.subject {
            Subject::Serial(s) => changed.iter().any(|(i, c)| *i == k.issuer && c == s),
            Subject::Range(a, b) => removed
                .iter()
                .any(|(i, r)| *i == k.issuer && *r == (*a, *b)),
        });
        tracing::debug!(
            changed = changed.len(),
            ranges = removed.len(),
            withdrawn,
            "ocsp: status changes applied"
        );
        Ok(changed.len())
    }

    /// Sign the response `key` stands for, from the status now.
    fn sign(&self, key: &Key, now: SystemTime) -> Result<Presigned, String> {
        let issuer = self.issuers.get(key.issuer).ok_or("no such issuer")?;
        let signer = issuer.variants.get(key.variant).ok_or("no such variant")?;
        let this_update = now - BACKDATE;
        let (single, extended, validity) = match &key.subject {
            Subject::Serial(serial) => {
                let (single, ext) =
                    self.single_response(key.issuer, key.hash, serial, this_update)?;
                (single, ext, self.config.validity)
            }
            Subject::Range(a, b) => {
                if self.run_of(key.issuer, &serial_bytes_u64(*a)) != Some((*a, *b)) {
                    return Err("range withdrawn".into());
                }
                let r = range_single_response(
                    &issuer.hashes,
                    key.hash,
                    &OcspRange::new(*a..=*b),
                    RangeMode::Placeholder,
                    this_update,
                    this_update + self.config.range_validity,
                )
                .map_err(|e| e.to_string())?;
                (r, false, self.config.range_validity)
            }
        };
        let next_update = this_update + validity;
        let mut b = ResponseBuilder::new(now).response(single);
        if extended {
            b = b.extended_revoke().map_err(|e| e.to_string())?;
        }
        let basic = b
            .sign_basic(signer, &mut rng())
            .map_err(|e| e.to_string())?;
        self.metrics.signatures.inc();
        let full = wrap_basic(&basic).map_err(|e| e.to_string())?;
        Ok(Presigned::new(
            full,
            basic.len(),
            this_update,
            next_update,
            self.config.refresh_fraction,
        ))
    }

    /// The SingleResponse for a serial now; `true` when it needs extended-revoke.
    fn single_response(
        &self,
        issuer: usize,
        hash: HashAlgorithm,
        serial: &[u8],
        this_update: SystemTime,
    ) -> Result<(SingleResponse, bool), String> {
        let hashes = &self.issuers.get(issuer).ok_or("no such issuer")?.hashes;
        let (status, ext) = match self.status_of(issuer, serial) {
            Some(SerialStatus::Good) => (CertStatus::good(), false),
            Some(SerialStatus::Revoked(at, reason)) => (
                CertStatus::revoked(at, reason).map_err(|e| e.to_string())?,
                false,
            ),
            None => match self.config.unknown_serial {
                UnknownSerial::Unknown => (CertStatus::unknown(), false),
                UnknownSerial::RevokedExtended => {
                    (CertStatus::not_issued().map_err(|e| e.to_string())?, true)
                }
                UnknownSerial::Unauthorized => return Err("serial not issued".into()),
            },
        };
        let id = hashes
            .cert_id(
                hash,
                serial_from_magnitude(serial).map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
        // A revocation recorded after the back-dated thisUpdate: the status is known
        // correct from the revocation on (never later than the signing time).
        let this_update = match self.status_of(issuer, serial) {
            Some(SerialStatus::Revoked(at, _)) if at > this_update => {
                at.min(this_update + BACKDATE)
            }
            _ => this_update,
        };
        let single = SingleResponse::new(
            id,
            status,
            this_update,
            Some(this_update + self.config.validity),
        )
        .map_err(|e| e.to_string())?;
        Ok((single, ext))
    }

    /// The pre-signed entry for `key` (single flight on a miss).
    async fn entry(&self, key: &Key, now: SystemTime) -> Result<Arc<Presigned>, String> {
        let (e, signed) = self
            .cache
            .get_or_sign(key, now, || self.sign(key, now))
            .await?;
        if signed {
            self.metrics.misses.inc();
        } else {
            self.metrics.hits.inc();
        }
        Ok(e)
    }

    fn variant(&self, issuer: usize, parsed: &ParsedRequest) -> usize {
        if parsed.preferred_signature_algorithms.is_empty() {
            return 0;
        }
        self.issuers.get(issuer).map_or(0, |i| {
            choose_signer(
                &parsed.preferred_signature_algorithms,
                i.variants
                    .iter()
                    .map(|v| (v.signature_algorithm(), v.key_algorithm())),
            )
            .unwrap_or(0)
        })
    }

    fn resolve(&self, parsed: &ParsedRequest) -> Result<Vec<Resolved>, RequestError> {
        parsed
            .cert_ids()
            .map(|id| {
                let hit = self.index.lookup(id)?;
                Ok(Resolved {
                    issuer: *hit.issuer,
                    hash: hit.hash,
                    serial: hit.serial.into(),
                    cert_id: id.clone(),
                })
            })
            .collect()
    }

    /// Answer the DER of an OCSPRequest.
    async fn answer(&self, der: &[u8], now: SystemTime) -> Result<Answer, RequestError> {
        let parsed = decode_request(der, &self.policy)?;
        let resolved = self.resolve(&parsed)?;
        if parsed.nonce.is_some() && self.config.nonce == NoncePolicy::Unauthorized {
            return Err(RequestError::UnknownSerial);
        }
        if self.config.unknown_serial == UnknownSerial::Unauthorized
            && resolved
                .iter()
                .any(|r| self.status_of(r.issuer, &r.serial).is_none())
        {
            return Err(RequestError::UnknownSerial);
        }
        let live = parsed.nonce.is_some() && self.config.nonce == NoncePolicy::Sign;
        let bundle = parsed.wants_bundle();
        let internal = |e: String| {
            tracing::error!(error = %e, "ocsp: signing failed");
            Answer::Refused(
                OcspResponseStatus::InternalError,
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        };
        // Several CertIDs without a bundle: one response signed for them (RFC 6960).
        if live || (resolved.len() > 1 && !bundle) {
            let leaf = match self.sign_live(&parsed, &resolved, now) {
                Ok(b) => b,
                Err(e) => return Ok(internal(e)),
            };
            if !(bundle && parsed.include_chain) {
                return Ok(wrap_basic(&leaf)
                    .map(|d| Answer::Fresh(d.into()))
                    .unwrap_or_else(|e| internal(e.to_string())));
            }
            let mut elements = vec![Bytes::from(leaf)];
            if let Some(first) = resolved.first() {
                match self.chain_elements(first, &parsed, now).await {
                    Ok(c) => elements.extend(c),
                    Err(e) => return Ok(internal(e)),
                }
            }
            return Ok(self.bundle(&elements).unwrap_or_else(internal));
        }
        let mut elements = Vec::with_capacity(resolved.len() + 2);
        for r in &resolved {
            let e = match self.lookup(r, &parsed, now).await {
                Ok(e) => e,
                Err(e) => return Ok(internal(e)),
            };
            if !bundle {
                return Ok(Answer::Cached(e));
            }
            elements.push(e.basic.clone());
        }
        if parsed.include_chain
            && let Some(first) = resolved.first()
        {
            match self.chain_elements(first, &parsed, now).await {
                Ok(c) => elements.extend(c),
                Err(e) => return Ok(internal(e)),
            }
        }
        Ok(self.bundle(&elements).unwrap_or_else(internal))
    }

    fn bundle(&self, elements: &[Bytes]) -> Result<Answer, String> {
        let refs: Vec<&[u8]> = elements.iter().map(|b| &b[..]).collect();
        bundle_response(&refs)
            .map(|d| Answer::Fresh(d.into()))
            .map_err(|e| e.to_string())
    }

    /// The cached entry for one resolved CertID: a range response for opted-in clients of
    /// range issuers when the serial is good, else the per-serial response.
    async fn lookup(
        &self,
        r: &Resolved,
        parsed: &ParsedRequest,
        now: SystemTime,
    ) -> Result<Arc<Presigned>, String> {
        let variant = self.variant(r.issuer, parsed);
        if parsed.range_opt_in
            && let Some((a, b)) = self.run_of(r.issuer, &r.serial)
        {
            let key = Key {
                issuer: r.issuer,
                variant,
                hash: r.hash,
                subject: Subject::Range(a, b),
            };
            // A range withdrawn meanwhile falls back to the per-serial response.
            if let Ok(e) = self.entry(&key, now).await {
                return Ok(e);
            }
        }
        let key = Key {
            issuer: r.issuer,
            variant,
            hash: r.hash,
            subject: Subject::Serial(r.serial.clone()),
        };
        self.entry(&key, now).await
    }

    /// Pre-signed statuses of the authorities above `leaf`'s issuer (each signed by its own
    /// parent), for a chain bundle.
    async fn chain_elements(
        &self,
        leaf: &Resolved,
        parsed: &ParsedRequest,
        now: SystemTime,
    ) -> Result<Vec<Bytes>, String> {
        let mut out = Vec::new();
        let mut at = leaf.issuer;
        for _ in 0..8 {
            let Some((parent, serial)) = self.issuers.get(at).and_then(|i| i.parent.clone()) else {
                break;
            };
            if self.status_of(parent, &serial).is_none() {
                break;
            }
            let r = Resolved {
                issuer: parent,
                hash: leaf.hash,
                serial,
                cert_id: leaf.cert_id.clone(),
            };
            let key = Key {
                issuer: parent,
                variant: self.variant(parent, parsed),
                hash: r.hash,
                subject: Subject::Serial(r.serial.clone()),
            };
            out.push(self.entry(&key, now).await?.basic.clone());
            at = parent;
        }
        Ok(out)
    }

    /// Sign one BasicOCSPResponse for every CertID of the first issuer asked about (with the
    /// nonce echoed, if any); never cached.
    fn sign_live(
        &self,
        parsed: &ParsedRequest,
        resolved: &[Resolved],
        now: SystemTime,
    ) -> Result<Vec<u8>, String> {
        let first = resolved.first().ok_or("empty request")?;
        let issuer = self.issuers.get(first.issuer).ok_or("no such issuer")?;
        let signer = issuer
            .variants
            .get(self.variant(first.issuer, parsed))
            .ok_or("no such variant")?;
        let this_update = now - BACKDATE;
        let mut b = ResponseBuilder::new(now);
        let mut extended = false;
        for r in resolved.iter().filter(|r| r.issuer == first.issuer) {
            let (mut single, ext) =
                self.single_response(r.issuer, r.hash, &r.serial, this_update)?;
            // Echo the CertID exactly as asked (serial encoding included).
            single.cert_id = r.cert_id.clone();
            extended |= ext;
            b = b.response(single);
        }
        if let Some(n) = &parsed.nonce {
            b = b.nonce(n).map_err(|e| e.to_string())?;
        }
        if extended {
            b = b.extended_revoke().map_err(|e| e.to_string())?;
        }
        let basic = b
            .sign_basic(signer, &mut rng())
            .map_err(|e| e.to_string())?;
        self.metrics.signatures.inc();
        Ok(basic)
    }

    /// Pre-sign every good range, every revoked serial and every issued serial (SHA-1 and
    /// SHA-256 CertIDs, every signer variant) up to the cache's size.
    pub async fn presign_all(&self, now: SystemTime) -> usize {
        let mut keys = Vec::new();
        {
            let st = self.status.read().unwrap_or_else(PoisonError::into_inner);
            for (i, s) in st.iter().enumerate() {
                let variants = self.issuers.get(i).map_or(0, |x| x.variants.len());
                let subjects = s
                    .runs()
                    .iter()
                    .map(|(a, b)| Subject::Range(*a, *b))
                    .chain(s.serials().map(|k| Subject::Serial(k.clone())));
                for subject in subjects {
                    for variant in 0..variants {
                        for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                            keys.push(Key {
                                issuer: i,
                                variant,
                                hash,
                                subject: subject.clone(),
                            });
                        }
                    }
                }
            }
        }
        let mut n = 0;
        for (j, key) in keys
            .iter()
            .take(self.config.max_cached.saturating_sub(self.cache.len()))
            .enumerate()
        {
            if self
                .cache
                .get_or_sign(key, now, || self.sign(key, now))
                .await
                .is_ok()
            {
                n += 1;
            }
            if j % 64 == 63 {
                tokio::task::yield_now().await;
            }
        }
        self.update_gauges(now);
        n
    }

    /// Re-sign what is due (older than `refresh_fraction` of its validity), drop what
    /// expired. Readers keep getting the old response until the new one replaces it.
    pub async fn refresh(&self, now: SystemTime) -> usize {
        let due = self.cache.due(now, REFRESH_BATCH);
        let mut n = 0;
        for (j, key) in due.iter().enumerate() {
            let epoch = self.cache.epoch();
            match self.sign(key, now) {
                Ok(e) => {
                    if self.cache.insert(key.clone(), Arc::new(e), epoch) {
                        n += 1;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "ocsp: not re-signed; withdrawn");
                    self.cache.invalidate(|k| k == key);
                }
            }
            if j % 64 == 63 {
                tokio::task::yield_now().await;
            }
        }
        self.cache.sweep(now);
        self.update_gauges(now);
        n
    }

    fn update_gauges(&self, now: SystemTime) {
        let age = self
            .cache
            .oldest()
            .and_then(|t| now.duration_since(t).ok())
            .map_or(0, |d| d.as_secs());
        self.metrics
            .generation_age
            .set(i64::try_from(age).unwrap_or(i64::MAX));
        self.metrics
            .cached
            .set(i64::try_from(self.cache.len()).unwrap_or(i64::MAX));
    }

    /// Signatures made so far.
    pub fn signatures(&self) -> u64 {
        self.metrics.signatures.get()
    }
}

fn serial_bytes_u64(n: u64) -> Box<[u8]> {
    let b = n.to_be_bytes();
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len() - 1);
    b[i..].into()
}

fn ocsp_body(status: StatusCode, body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(RESPONSE_MEDIA_TYPE),
    );
    r
}

fn refused(status: OcspResponseStatus, http: StatusCode) -> Response {
    let mut r = ocsp_body(
        http,
        Bytes::copy_from_slice(&status.unsuccessful_response()),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    r
}

fn outcome(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformed_request",
        OcspResponseStatus::InternalError => "internal_error",
        OcspResponseStatus::TryLater => "try_later",
        OcspResponseStatus::SigRequired => "sig_required",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// A pre-signed answer with the RFC 9919 caching headers (GET), or 304.
fn cached_response(
    e: &Presigned,
    get: bool,
    if_none_match: Option<&str>,
    now: SystemTime,
) -> Response {
    let not_modified = get
        && if_none_match.is_some_and(|h| {
            h.split(',')
                .any(|t| t.trim() == "*" || t.trim().as_bytes() == e.etag.as_bytes())
        });
    let mut r = if not_modified {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        ocsp_body(StatusCode::OK, e.full.clone())
    };
    if get {
        let max_age = e.next_update.duration_since(now).map_or(0, |d| d.as_secs());
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "max-age={max_age}, public, no-transform, must-revalidate"
        )) {
            h.insert(header::CACHE_CONTROL, v);
        }
        h.insert(header::ETAG, e.etag.clone());
        h.insert(header::LAST_MODIFIED, e.last_modified.clone());
        h.insert(header::EXPIRES, e.expires.clone());
    }
    r
}

async fn handle(State(r): State<Arc<Responder>>, req: Request) -> Response {
    let now = SystemTime::now();
    let method = req.method().clone();
    let get = method == Method::GET;
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = req.uri().path().to_owned();
    if get && let Some(e) = r.cache.get_path(&path, now) {
        r.metrics.hits.inc();
        let resp = cached_response(&e, true, if_none_match.as_deref(), now);
        r.metrics.count(
            &method,
            if resp.status() == StatusCode::NOT_MODIFIED {
                "not_modified"
            } else {
                "successful"
            },
        );
        return resp;
    }
    let der: Result<Vec<u8>, RequestError> = match method {
        Method::GET => decode_get_path(&path).map_err(RequestError::from),
        Method::POST => {
            match axum::body::to_bytes(req.into_body(), r.config.max_request_bytes + 1).await {
                Ok(b) => Ok(b.to_vec()),
                Err(_) => Err(RequestError::TooLarge {
                    len: r.config.max_request_bytes + 1,
                    max: r.config.max_request_bytes,
                }),
            }
        }
        _ => {
            r.metrics.count(&method, "bad_method");
            let mut resp = refused(
                OcspResponseStatus::MalformedRequest,
                StatusCode::METHOD_NOT_ALLOWED,
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            return resp;
        }
    };
    let answer = match der {
        Ok(der) => r.answer(&der, now).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(Answer::Cached(e)) => {
            if get {
                r.cache.put_path(&path, e.clone());
            }
            let resp = cached_response(&e, get, if_none_match.as_deref(), now);
            r.metrics.count(
                &method,
                if resp.status() == StatusCode::NOT_MODIFIED {
                    "not_modified"
                } else {
                    "successful"
                },
            );
            resp
        }
        Ok(Answer::Fresh(body)) => {
            r.metrics.count(&method, "successful");
            let mut resp = ocsp_body(StatusCode::OK, body);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Ok(Answer::Refused(status, http)) => {
            r.metrics.count(&method, outcome(status));
            refused(status, http)
        }
        Err(e) => {
            let status = e.status();
            r.metrics.count(&method, outcome(status));
            tracing::info!(target: "secdispatch::ocsp", %method, reason = %e, answer = outcome(status), "ocsp request refused");
            refused(
                status,
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::OK),
            )
        }
    }
}

/// The responder's HTTP application: every path, GET and POST.
pub fn router(responder: Arc<Responder>) -> Router {
    Router::new().fallback(handle).with_state(responder)
}

/// Start the responder: load the served authorities, pre-sign in the background, poll the
/// CA database every `ocsp.poll_interval`, re-sign before half the validity, listen on
/// `listen`. Returns the bound address.
pub async fn start_ocsp(
    config: &Config,
    listen: SocketAddr,
    store: Arc<Store>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    start_ocsp_responder(config, listen, store, metrics, shutdown)
        .await
        .map(|(a, _)| a)
}

/// [`start_ocsp`], also returning the responder (statistics, tests).
pub async fn start_ocsp_responder(
    config: &Config,
    listen: SocketAddr,
    store: Arc<Store>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<(SocketAddr, Arc<Responder>), StartError> {
    let oc = &config.ocsp;
    if !(oc.refresh_fraction > 0.0 && oc.refresh_fraction < 1.0) {
        return Err(StartError::Other(
            "ocsp.refresh_fraction must be between 0 and 1".into(),
        ));
    }
    let responder = Arc::new(Responder::load(oc, &store, SystemTime::now()).await?);
    responder.metrics.register(metrics);
    for (name, algs) in responder.describe() {
        tracing::info!(authority = %name, signers = %algs.join(", "), "ocsp: answering for authority");
    }
    if oc.presign {
        let r = responder.clone();
        shutdown.spawn(async move {
            let n = r.presign_all(SystemTime::now()).await;
            tracing::info!(responses = n, "ocsp: pre-signed");
        });
    }
    spawn_every(shutdown, oc.poll_interval, {
        let (r, store) = (responder.clone(), store.clone());
        move || {
            let (r, store) = (r.clone(), store.clone());
            async move {
                if let Err(e) = r.poll(&store).await {
                    tracing::warn!(error = %e, "ocsp: polling the CA database failed");
                }
            }
        }
    });
    spawn_every(shutdown, REFRESH_CHECK, {
        let r = responder.clone();
        move || {
            let r = r.clone();
            async move {
                r.refresh(SystemTime::now()).await;
            }
        }
    });
    let app = serve::with_limits(router(responder.clone()), "ocsp", &config.limits, metrics);
    let listener = serve::bind("ocsp", listen).await?;
    let addr = listener.local_addr()?;
    shutdown.spawn(serve::serve(
        listener,
        app,
        config.limits.clone(),
        shutdown.clone(),
    ));
    Ok((addr, responder))
}
