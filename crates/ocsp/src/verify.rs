//! Response verification for our client: signature by the issuer, a locally trusted responder,
//! or a CA-designated responder (certificate issued by the same CA, EKU id-kp-OCSPSigning,
//! attached in `certs`); freshness with clock skew; nonce echo; and CertID matching (a
//! SingleResponse is used only if its CertID is the one asked about — never "the first").

use std::time::{Duration, SystemTime};

use der::asn1::AnyRef;
use der::{Decode, Encode, Header, Reader, SliceReader};
use secdispatch_pqpki::VerifyingKey;
use secdispatch_pqpki::cert::CertInfo;
use x509_cert::Certificate;

use crate::bundle::bundle_elements;
use crate::certid::{HashAlgorithm, IssuerHashes, key_hash};
use crate::error::VerifyError;
use crate::ext::Nonce;
use crate::oid;
use crate::range::OcspRange;
use crate::types::{
    BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId, SingleResponse,
    magnitude_to_u64, serial_magnitude,
};

/// How to judge a response.
#[derive(Clone, Debug)]
pub struct VerifyOptions<'a> {
    /// The verifier's clock.
    pub now: SystemTime,
    /// Allowed clock skew on thisUpdate / nextUpdate / responder certificate validity.
    pub skew: Duration,
    /// Reject responses without nextUpdate (RFC 9919 requires it).
    pub require_next_update: bool,
    /// Without nextUpdate (when allowed): maximum age of thisUpdate.
    pub max_age: Duration,
    /// The nonce octets we sent, if any.
    pub nonce: Option<&'a [u8]>,
    /// Reject a response that does not echo our nonce (else an absent echo is accepted: a
    /// responder may serve a pre-signed response; a *different* nonce is always rejected).
    pub require_nonce: bool,
    /// Locally trusted responder certificates (`-VAfile`), accepted without CA designation.
    pub trusted_responders: &'a [Certificate],
    /// Accept OCSPRange (experimental) responses covering the serial.
    pub accept_ranges: bool,
}

impl<'a> VerifyOptions<'a> {
    /// Defaults at `now`: 5 min skew, nextUpdate required, no nonce, ranges accepted.
    pub fn at(now: SystemTime) -> VerifyOptions<'a> {
        VerifyOptions {
            now,
            skew: Duration::from_secs(300),
            require_next_update: true,
            max_age: Duration::from_secs(7 * 86_400),
            nonce: None,
            require_nonce: false,
            trusted_responders: &[],
            accept_ranges: true,
        }
    }
}

/// Who signed an accepted response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerKind {
    /// The issuing CA's key.
    Issuer,
    /// A CA-designated responder (certificate in `certs`).
    Delegated,
    /// A locally trusted responder.
    Trusted,
}

/// A verified status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatus {
    /// The status.
    pub status: CertStatus,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate.
    pub next_update: Option<SystemTime>,
    /// producedAt.
    pub produced_at: SystemTime,
    /// The OCSPRange the status was asserted for, if it came from a range response.
    pub range: Option<OcspRange>,
    /// Who signed.
    pub signer: SignerKind,
    /// Whether our nonce was echoed.
    pub nonce_echoed: bool,
    /// Whether the response carries the extended-revoke extension.
    pub extended_revoke: bool,
}

/// Verify a complete OCSPResponse (type basic) about the certificate with serial magnitude
/// `serial` issued by `issuer`.
pub fn verify_response(
    der: &[u8],
    issuer: &Certificate,
    serial: &[u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedStatus, VerifyError> {
    let resp = OcspResponse::from_der(der)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(VerifyError::Unsuccessful(resp.response_status));
    }
    let rb = resp
        .response_bytes
        .ok_or_else(|| VerifyError::Decode("successful response without responseBytes".into()))?;
    if rb.response_type != oid::OCSP_BASIC {
        return Err(VerifyError::ResponseType(rb.response_type));
    }
    verify_basic(rb.response.as_bytes(), issuer, serial, opts)
}

/// Verify a complete OCSPResponse about `leaf` (issued by `issuer`).
pub fn verify_response_for(
    der: &[u8],
    issuer: &Certificate,
    leaf: &Certificate,
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedStatus, VerifyError> {
    let serial = leaf_serial(leaf)?;
    verify_response(der, issuer, &serial, opts)
}

fn leaf_serial(leaf: &Certificate) -> Result<Vec<u8>, VerifyError> {
    let int = der::asn1::Int::new(leaf.tbs_certificate().serial_number().as_bytes())?;
    serial_magnitude(&int)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| VerifyError::Decode("negative certificate serial".into()))
}

/// The exact DER of the first element (tbsResponseData) of a BasicOCSPResponse.
fn tbs_bytes(basic_der: &[u8]) -> Result<&[u8], VerifyError> {
    let mut r = SliceReader::new(basic_der)?;
    let _outer = Header::decode(&mut r)?;
    let start = usize::try_from(r.position())?;
    let _tbs = AnyRef::decode(&mut r)?;
    let end = usize::try_from(r.position())?;
    basic_der
        .get(start..end)
        .ok_or_else(|| VerifyError::Decode("tbsResponseData bounds".into()))
}

/// Verify the DER of a BasicOCSPResponse about serial magnitude `serial` issued by `issuer`.
pub fn verify_basic(
    basic_der: &[u8],
    issuer: &Certificate,
    serial: &[u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedStatus, VerifyError> {
    let basic = BasicOcspResponse::from_der(basic_der)?;
    let tbs = tbs_bytes(basic_der)?;
    let (key, signer) = find_signer(&basic, issuer, opts)?;
    let sig = basic
        .signature
        .as_bytes()
        .ok_or_else(|| VerifyError::BadSignature("signature BIT STRING has unused bits".into()))?;
    key.verify_x509(&basic.signature_algorithm, tbs, sig)
        .map_err(|e| VerifyError::BadSignature(e.to_string()))?;

    let hashes =
        IssuerHashes::from_certificate(issuer).map_err(|e| VerifyError::Decode(e.to_string()))?;
    let data = &basic.tbs_response_data;
    let single = pick_single(&data.responses, &hashes, serial, opts.accept_ranges)
        .ok_or(VerifyError::NoMatchingResponse)?;

    let this_update = single.this_update.to_system_time();
    let next_update = single.next_update.map(|t| t.to_system_time());
    if next_update.is_some_and(|n| n < this_update) {
        return Err(VerifyError::Decode("nextUpdate before thisUpdate".into()));
    }
    if this_update > opts.now + opts.skew {
        return Err(VerifyError::NotYetValid);
    }
    match next_update {
        Some(n) if n + opts.skew < opts.now => return Err(VerifyError::Expired),
        Some(_) => {}
        None if opts.require_next_update => return Err(VerifyError::NoNextUpdate),
        None if this_update + opts.max_age < opts.now => return Err(VerifyError::TooOld),
        None => {}
    }

    let exts = data.response_extensions.as_deref().unwrap_or(&[]);
    let echoed = exts.iter().find(|e| e.extn_id == oid::OCSP_NONCE);
    let mut nonce_echoed = false;
    if let Some(sent) = opts.nonce {
        match echoed {
            Some(e) => {
                let n = Nonce::from_extn_value(e.extn_value.as_bytes())
                    .map_err(|_| VerifyError::NonceMismatch)?;
                if n.value() != sent {
                    return Err(VerifyError::NonceMismatch);
                }
                nonce_echoed = true;
            }
            None if opts.require_nonce => return Err(VerifyError::NonceMissing),
            None => {}
        }
    }
    Ok(VerifiedStatus {
        status: single.cert_status.clone(),
        this_update,
        next_update,
        produced_at: data.produced_at.to_system_time(),
        range: single.range(),
        signer,
        nonce_echoed,
        extended_revoke: exts.iter().any(|e| e.extn_id == oid::OCSP_EXTENDED_REVOKE),
    })
}

/// The SingleResponse about (`hashes`' issuer, `serial`): exact CertID matches first; with
/// `accept_ranges`, one whose OCSPRange covers the serial. Among several matches (e.g. SHA-1 and
/// SHA-256 CertIDs) a revoked one wins.
fn pick_single<'r>(
    responses: &'r [SingleResponse],
    hashes: &IssuerHashes,
    serial: &[u8],
    accept_ranges: bool,
) -> Option<&'r SingleResponse> {
    let issuer_ok = |r: &SingleResponse| {
        HashAlgorithm::from_algorithm_identifier(&r.cert_id.hash_algorithm).is_some_and(|h| {
            hashes.name_hash(h) == r.cert_id.issuer_name_hash.as_bytes()
                && hashes.key_hash(h) == r.cert_id.issuer_key_hash.as_bytes()
        })
    };
    let exact: Vec<&SingleResponse> = responses
        .iter()
        .filter(|r| issuer_ok(r) && serial_magnitude(&r.cert_id.serial_number) == Some(serial))
        .collect();
    let candidates = if exact.is_empty() && accept_ranges {
        let n = magnitude_to_u64(serial)?;
        responses
            .iter()
            .filter(|r| issuer_ok(r) && r.range().is_some_and(|g| g.contains(n)))
            .collect()
    } else {
        exact
    };
    candidates
        .iter()
        .find(|r| matches!(r.cert_status, CertStatus::Revoked(_)))
        .or(candidates.first())
        .copied()
}

fn responder_matches(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(n) => cert.tbs_certificate().subject() == n,
        ResponderId::ByKey(h) => key_hash(cert).is_ok_and(|k| k.as_slice() == h.as_bytes()),
    }
}

fn public_key(cert: &Certificate) -> Result<VerifyingKey, VerifyError> {
    CertInfo::new(cert)
        .public_key()
        .map_err(|e| VerifyError::ResponderNotAuthorized(e.to_string()))
}

fn find_signer(
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    opts: &VerifyOptions<'_>,
) -> Result<(VerifyingKey, SignerKind), VerifyError> {
    let id = &basic.tbs_response_data.responder_id;
    if responder_matches(id, issuer) {
        return Ok((public_key(issuer)?, SignerKind::Issuer));
    }
    if let Some(t) = opts
        .trusted_responders
        .iter()
        .find(|t| responder_matches(id, t))
    {
        return Ok((public_key(t)?, SignerKind::Trusted));
    }
    let certs = basic.certs.as_deref().unwrap_or(&[]);
    let mut last_err = None;
    for c in certs.iter().filter(|c| responder_matches(id, c)) {
        match authorize_delegate(c, issuer, opts) {
            Ok(k) => return Ok((k, SignerKind::Delegated)),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or(VerifyError::UnknownResponder))
}

/// RFC 6960 §4.2.2.2: issued directly by the CA (same key), EKU id-kp-OCSPSigning, valid now.
fn authorize_delegate(
    c: &Certificate,
    issuer: &Certificate,
    opts: &VerifyOptions<'_>,
) -> Result<VerifyingKey, VerifyError> {
    let deny = |s: &str| VerifyError::ResponderNotAuthorized(s.to_string());
    if c.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err(deny("not issued by the certificate's issuer"));
    }
    let tbs = c.tbs_certificate().to_der()?;
    let sig = c
        .signature()
        .as_bytes()
        .ok_or_else(|| deny("signature BIT STRING has unused bits"))?;
    public_key(issuer)?
        .verify_x509(c.signature_algorithm(), &tbs, sig)
        .map_err(|_| deny("signature by the issuing CA does not verify"))?;
    let eku = CertInfo::new(c)
        .extended_key_usage()
        .map_err(|e| VerifyError::ResponderNotAuthorized(e.to_string()))?;
    if !eku.is_some_and(|e| e.0.contains(&oid::KP_OCSP_SIGNING)) {
        return Err(deny("no id-kp-OCSPSigning extended key usage"));
    }
    let v = c.tbs_certificate().validity();
    if opts.now + opts.skew < v.not_before.to_system_time()
        || v.not_after.to_system_time() + opts.skew < opts.now
    {
        return Err(deny("responder certificate outside its validity period"));
    }
    public_key(c)
}

/// Verify an OCSPv2 bundle (or a plain basic response, treated as a one-element bundle) about
/// `chain` = leaf, intermediates…, and the anchor that issued the last one. Returns one status
/// per certificate except the anchor, leaf first; each is found by CertID in whichever element
/// matches it. The nonce (if any) is checked on the leaf's element only.
pub fn verify_bundle(
    der: &[u8],
    chain: &[Certificate],
    opts: &VerifyOptions<'_>,
) -> Result<Vec<VerifiedStatus>, VerifyError> {
    if chain.len() < 2 {
        return Err(VerifyError::Decode(
            "a chain needs a leaf and its issuer".into(),
        ));
    }
    let resp = OcspResponse::from_der(der)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(VerifyError::Unsuccessful(resp.response_status));
    }
    let rb = resp
        .response_bytes
        .ok_or_else(|| VerifyError::Decode("successful response without responseBytes".into()))?;
    let elements = match rb.response_type {
        t if t == oid::OCSPV2_BUNDLE => bundle_elements(rb.response.as_bytes())
            .map_err(|e| VerifyError::Decode(e.to_string()))?,
        t if t == oid::OCSP_BASIC => vec![rb.response.as_bytes().to_vec()],
        t => return Err(VerifyError::ResponseType(t)),
    };
    let mut out = Vec::with_capacity(chain.len() - 1);
    for (k, pair) in chain.windows(2).enumerate() {
        let serial = leaf_serial(&pair[0])?;
        let mut o = opts.clone();
        if k > 0 {
            o.nonce = None;
        }
        let mut last = VerifyError::NoMatchingResponse;
        let mut found = None;
        for e in &elements {
            match verify_basic(e, &pair[1], &serial, &o) {
                Ok(s) => {
                    found = Some(s);
                    break;
                }
                Err(err) => {
                    if err != VerifyError::NoMatchingResponse
                        && err != VerifyError::UnknownResponder
                    {
                        last = err;
                    }
                }
            }
        }
        out.push(found.ok_or(last)?);
    }
    Ok(out)
}
