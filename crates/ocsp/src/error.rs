//! Error types: [`Error`] for the crate, [`RequestError`] for requests a responder must refuse
//! (each maps to an [`OcspResponseStatus`] and an HTTP status), [`VerifyError`] for responses
//! our client rejects.

use const_oid::ObjectIdentifier;

use crate::types::OcspResponseStatus;

/// Result alias.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in `secdispatch-ocsp`. Bad input is a value, never a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// DER that could not be decoded or encoded.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// A key, certificate or signature operation of `secdispatch-pqpki` failed.
    #[error("PKI: {0}")]
    Pki(#[from] secdispatch_pqpki::Error),
    /// A time outside GeneralizedTime's range.
    #[error("time {0}")]
    Time(&'static str),
    /// A CertID hash algorithm we do not implement.
    #[error("unsupported CertID hash algorithm {0}")]
    UnsupportedHash(ObjectIdentifier),
    /// A certificate whose public key BIT STRING has unused bits.
    #[error("certificate subjectPublicKey has unused bits")]
    KeyBits,
    /// A request the responder refuses.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A response the client rejects.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// An invalid argument to a builder (e.g. an empty response list).
    #[error("invalid argument: {0}")]
    Invalid(&'static str),
}

/// Why a request is refused; [`RequestError::status`] gives the OCSPResponseStatus to answer
/// with and [`RequestError::http_status`] the HTTP status (notes §3 table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is not a DER OCSPRequest.
    #[error("undecodable OCSPRequest: {0}")]
    Decode(String),
    /// The GET path is not a (percent-encoded) base64 OCSPRequest.
    #[error("bad GET path: {0}")]
    GetPath(#[from] GetPathError),
    /// The request is larger than allowed.
    #[error("request of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// `requestList` is empty.
    #[error("requestList is empty")]
    EmptyRequestList,
    /// More entries in `requestList` than allowed.
    #[error("{count} requests in one OCSPRequest; at most {max} allowed")]
    TooManyRequests {
        /// Count.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// The nonce is outside RFC 9654's 1..128 octets.
    #[error("nonce of {0} octets; RFC 9654 allows 1..=128")]
    NonceLength(usize),
    /// An extension appears twice.
    #[error("duplicate extension {0}")]
    DuplicateExtension(ObjectIdentifier),
    /// A critical extension we do not understand.
    #[error("unsupported critical extension {0}")]
    UnsupportedCriticalExtension(ObjectIdentifier),
    /// A known extension whose value does not decode.
    #[error("extension {oid}: {reason}")]
    BadExtension {
        /// The extension.
        oid: ObjectIdentifier,
        /// What is wrong.
        reason: String,
    },
    /// A negative serial number.
    #[error("negative serialNumber in CertID")]
    NegativeSerial,
    /// The responder requires signed requests.
    #[error("the responder requires signed requests")]
    SignatureRequired,
    /// The CertID's hash algorithm is not one we answer for.
    #[error("unsupported CertID hash algorithm {0}")]
    UnsupportedHashAlgorithm(ObjectIdentifier),
    /// No issuer we serve matches the CertID's hashes.
    #[error("no issuer served for this CertID")]
    UnknownIssuer,
    /// We have no authoritative record for the serial.
    #[error("no authoritative record for the serial")]
    UnknownSerial,
}

impl RequestError {
    /// The OCSPResponseStatus to answer with.
    pub fn status(&self) -> OcspResponseStatus {
        match self {
            RequestError::SignatureRequired => OcspResponseStatus::SigRequired,
            RequestError::UnsupportedHashAlgorithm(_)
            | RequestError::UnknownIssuer
            | RequestError::UnknownSerial => OcspResponseStatus::Unauthorized,
            _ => OcspResponseStatus::MalformedRequest,
        }
    }

    /// The HTTP status: 400 for undecodable input, 200 otherwise (the OCSP status is in the body).
    pub fn http_status(&self) -> u16 {
        match self {
            RequestError::Decode(_) | RequestError::GetPath(_) => 400,
            _ => 200,
        }
    }

    /// The 5-byte unsuccessful OCSPResponse to send.
    pub fn response(&self) -> [u8; 5] {
        self.status().unsuccessful_response()
    }
}

/// Why a GET path is not an OCSP request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GetPathError {
    /// Nothing after the prefix.
    #[error("empty request path")]
    Empty,
    /// A `%` not followed by two hex digits.
    #[error("bad percent-escape at byte {0}")]
    PercentEscape(usize),
    /// No suffix of the path is base64 of one DER SEQUENCE.
    #[error("no base64-encoded DER request in the path")]
    NotBase64Der,
    /// Too long.
    #[error("path of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Length.
        len: usize,
        /// Limit.
        max: usize,
    },
}

/// Why our client rejects a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not DER.
    #[error("undecodable response: {0}")]
    Decode(String),
    /// An unsuccessful response status.
    #[error("responder answered {0:?}")]
    Unsuccessful(OcspResponseStatus),
    /// A responseType we did not ask for or do not know.
    #[error("unexpected responseType {0}")]
    ResponseType(ObjectIdentifier),
    /// No certificate we trust matches the responderID.
    #[error("no trusted responder matches the responderID")]
    UnknownResponder,
    /// The responder certificate is not authorized (not issued by the CA, no OCSPSigning EKU, expired).
    #[error("responder certificate not authorized: {0}")]
    ResponderNotAuthorized(String),
    /// The signature does not verify.
    #[error("bad response signature: {0}")]
    BadSignature(String),
    /// No SingleResponse matches the CertID asked about.
    #[error("no SingleResponse for the requested certificate")]
    NoMatchingResponse,
    /// thisUpdate is in the future (beyond the allowed skew).
    #[error("thisUpdate is in the future")]
    NotYetValid,
    /// nextUpdate has passed (beyond the allowed skew).
    #[error("response expired (nextUpdate has passed)")]
    Expired,
    /// nextUpdate is absent although required (RFC 9919).
    #[error("nextUpdate missing")]
    NoNextUpdate,
    /// Older than the allowed maximum age (responses without nextUpdate).
    #[error("response too old")]
    TooOld,
    /// We sent a nonce and the response has none.
    #[error("nonce missing in response")]
    NonceMissing,
    /// The echoed nonce differs.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// A bundle element does not match any certificate of the chain asked about.
    #[error("bundle element {0} matches no certificate of the chain")]
    BundleElement(usize),
}

impl From<der::Error> for VerifyError {
    fn from(e: der::Error) -> Self {
        VerifyError::Decode(e.to_string())
    }
}
