//! The RFC 6960 ASN.1 types, hand-rolled on `der` 0.8 / `x509-cert` 0.3 (the module uses
//! EXPLICIT tags; `version` is DEFAULT v1 and therefore omitted in DER).
//!
//! Every type implements [`der::Decode`] / [`der::Encode`]; field names follow the ASN.1.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Choice, Enumerated, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::error::{Error, Result};

/// `Version ::= INTEGER { v1(0) }` (the only version; DEFAULT, so never encoded).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum Version {
    /// v1(0).
    #[default]
    V1 = 0,
}

/// `OCSPResponseStatus ::= ENUMERATED`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash, Enumerated)]
#[repr(u32)]
pub enum OcspResponseStatus {
    /// Response has valid confirmations.
    Successful = 0,
    /// Illegal confirmation request.
    MalformedRequest = 1,
    /// Internal error in issuer.
    InternalError = 2,
    /// Try again later.
    TryLater = 3,
    /// Must sign the request.
    SigRequired = 5,
    /// Request unauthorized.
    Unauthorized = 6,
}

impl OcspResponseStatus {
    /// The 5-byte DER of an unsuccessful `OCSPResponse` with this status (`30 03 0A 01 0s`).
    pub fn unsuccessful_response(self) -> [u8; 5] {
        [0x30, 0x03, 0x0a, 0x01, self as u8]
    }
}

/// `CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertId {
    /// Hash algorithm of both hashes (parameters absent or NULL).
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// Hash of the DER of the issuer's subject Name.
    pub issuer_name_hash: OctetString,
    /// Hash of the issuer's subjectPublicKey BIT STRING value.
    pub issuer_key_hash: OctetString,
    /// The certificate's serial number (INTEGER; kept as encoded, any length).
    pub serial_number: Int,
}

/// `Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Request {
    /// The certificate asked about.
    pub req_cert: CertId,
    /// Per-request extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// `TBSRequest`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsRequest {
    /// `[0] EXPLICIT Version DEFAULT v1`.
    #[asn1(context_specific = "0", default = "Default::default")]
    pub version: Version,
    /// `[1] EXPLICIT GeneralName OPTIONAL`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<GeneralName>,
    /// The certificates asked about.
    pub request_list: Vec<Request>,
    /// `[2] EXPLICIT Extensions OPTIONAL` (nonce, AcceptableResponses, preferred algorithms, ...).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// `Signature ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT ... OPTIONAL }`
/// (the optional request signature; decoded, never required).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RequestSignature {
    /// Signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// Signature value.
    pub signature: BitString,
    /// Certificates helping to verify it.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// `OCSPRequest ::= SEQUENCE { tbsRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspRequest {
    /// The request proper.
    pub tbs_request: TbsRequest,
    /// Optional signature.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<RequestSignature>,
}

/// `ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseBytes {
    /// id-pkix-ocsp-basic, or our experimental bundle type.
    pub response_type: ObjectIdentifier,
    /// DER of the response of that type.
    pub response: OctetString,
}

/// `OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspResponse {
    /// Status.
    pub response_status: OcspResponseStatus,
    /// Present iff successful.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub response_bytes: Option<ResponseBytes>,
}

/// `ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }` (EXPLICIT tags).
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum ResponderId {
    /// The responder certificate's subject.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    /// SHA-1 of the responder's subjectPublicKey BIT STRING value (20 bytes).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// `RevokedInfo ::= SEQUENCE { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RevokedInfo {
    /// When.
    pub revocation_time: GeneralizedTime,
    /// Why.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub revocation_reason: Option<CrlReason>,
}

/// `CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }`.
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum CertStatus {
    /// Not revoked (`80 00`).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    /// Revoked (`A1 ...`).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    /// The responder does not know the issuer (`82 00`).
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

impl CertStatus {
    /// `good`.
    pub fn good() -> CertStatus {
        CertStatus::Good(Null)
    }
    /// `unknown`.
    pub fn unknown() -> CertStatus {
        CertStatus::Unknown(Null)
    }
    /// The RFC 6960 §2.2 answer for a serial known never to have been issued: revoked at
    /// 1970-01-01T00:00:00Z, reason certificateHold. The response MUST then carry the
    /// extended-revoke extension ([`crate::ResponseBuilder::extended_revoke`]).
    pub fn not_issued() -> Result<CertStatus> {
        CertStatus::revoked(UNIX_EPOCH, Some(CrlReason::CertificateHold))
    }

    /// `revoked` at `time` (whole seconds) for `reason`.
    pub fn revoked(time: SystemTime, reason: Option<CrlReason>) -> Result<CertStatus> {
        Ok(CertStatus::Revoked(RevokedInfo {
            revocation_time: generalized_time(time)?,
            revocation_reason: reason,
        }))
    }
}

/// `SingleResponse`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SingleResponse {
    /// The certificate this status is for (hash algorithm echoed from the request).
    pub cert_id: CertId,
    /// Its status.
    pub cert_status: CertStatus,
    /// Time at which the status is known to be correct.
    pub this_update: GeneralizedTime,
    /// `[0] EXPLICIT GeneralizedTime OPTIONAL`: newer information expected by then.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub next_update: Option<GeneralizedTime>,
    /// `[1] EXPLICIT Extensions OPTIONAL` (e.g. the experimental OCSPRange).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub single_extensions: Option<Extensions>,
}

/// `ResponseData` (tbsResponseData).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseData {
    /// `[0] EXPLICIT Version DEFAULT v1`.
    #[asn1(context_specific = "0", default = "Default::default")]
    pub version: Version,
    /// Who signed.
    pub responder_id: ResponderId,
    /// Signing time.
    pub produced_at: GeneralizedTime,
    /// The statuses.
    pub responses: Vec<SingleResponse>,
    /// `[1] EXPLICIT Extensions OPTIONAL` (nonce echo, extended revoke, ...).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub response_extensions: Option<Extensions>,
}

/// `BasicOCSPResponse`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct BasicOcspResponse {
    /// The signed part.
    pub tbs_response_data: ResponseData,
    /// Signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// Signature over the DER of `tbs_response_data`.
    pub signature: BitString,
    /// `[0] EXPLICIT SEQUENCE OF Certificate OPTIONAL` (a delegated responder's certificate).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// A GeneralizedTime for `t`, truncated to whole seconds (DER forbids fractions here).
pub fn generalized_time(t: SystemTime) -> Result<GeneralizedTime> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Time("before 1970"))?
        .as_secs();
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| Error::Time("not representable as GeneralizedTime"))
}

/// The magnitude of a non-negative INTEGER's big-endian bytes, without leading zeros (zero is
/// `[0]`); `None` if it is negative.
pub fn serial_magnitude(serial: &Int) -> Option<&[u8]> {
    let b = serial.as_bytes();
    if b.first().is_some_and(|x| x & 0x80 != 0) {
        return None;
    }
    match b.iter().position(|x| *x != 0) {
        Some(i) => Some(&b[i..]),
        None => Some(&[0u8][..]),
    }
}

/// An INTEGER for the non-negative big-endian magnitude `bytes` (leading zeros allowed).
pub fn serial_from_magnitude(bytes: &[u8]) -> Result<Int> {
    let trimmed = match bytes.iter().position(|x| *x != 0) {
        Some(i) => &bytes[i..],
        None => &[0u8][..],
    };
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    Int::new(&v).map_err(Error::from)
}

/// An INTEGER for a `u64` serial.
pub fn serial_from_u64(n: u64) -> Result<Int> {
    serial_from_magnitude(&n.to_be_bytes())
}

/// The value of a magnitude of at most 8 bytes as `u64`.
pub fn magnitude_to_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}
