//! # secdispatch-ocsp — sans-I/O OCSP with the experimental OCSPv2 pieces
//!
//! What this crate implements:
//!
//! * **RFC 6960** types, hand-rolled on `der` 0.8 / `x509-cert` 0.3 ([`types`]): OCSPRequest,
//!   TBSRequest, Request, CertID, OCSPResponse, ResponseBytes, BasicOCSPResponse, ResponseData,
//!   ResponderID (byName / byKey), SingleResponse, CertStatus, RevokedInfo; the 5-byte
//!   unsuccessful responses ([`OcspResponseStatus::unsuccessful_response`]).
//! * **CertIDs** ([`certid`]) with SHA-1, SHA-256, SHA-384 and SHA-512; an [`IssuerIndex`] that
//!   resolves a request's CertID to (issuer, hash algorithm to echo, serial).
//! * **Requests** ([`request`]): decoding with a typed [`RequestError`] that maps to the
//!   OCSPResponseStatus and HTTP status to answer with; RFC 9654 nonces of 1..128 octets (DER
//!   OCTET STRING form and the raw form of old clients); AcceptableResponses;
//!   PreferredSignatureAlgorithms; a [`RequestBuilder`] for our client.
//! * **GET paths** ([`get::decode_get_path`]) as real clients send them (RFC 9919 transport).
//! * **Responses** ([`response`]): a [`ResponseSigner`] over any `secdispatch-pqpki` key
//!   (ECDSA, Ed25519, RSA, ML-DSA, composite ML-DSA), byKey (default) or byName, optional
//!   delegated responder certificate; [`ResponseBuilder`]; framing helpers that wrap pre-signed
//!   bytes without re-encoding.
//! * **HTTP caching values** ([`cache`]): RFC 9919 ETag / max-age / Expires / Last-Modified.
//! * **Verification** for our client ([`verify`]): issuer / delegated (EKU id-kp-OCSPSigning,
//!   issued by the same CA) / locally trusted signer, freshness with skew, nonce, CertID match.
//! * **Experimental OCSPv2** (OIDs under [`oid::OCSPV2_ARC`], see the README): [`OcspRange`]
//!   range responses with the [`RangeTable`] planner ([`range`]); chain bundles
//!   ([`bundle`]); signer choice by PreferredSignatureAlgorithms ([`ext::choose_signer`]).
//!
//! No I/O, no clock, no global RNG: times and the RNG are parameters.
//!
//! ## Example: answer a request with a signed response and verify it
//!
//! ```
//! use std::str::FromStr;
//! use std::time::{Duration, SystemTime};
//! use secdispatch_ocsp::{
//!     CertStatus, HashAlgorithm, IssuerIndex, RequestBuilder, RequestPolicy, ResponseBuilder,
//!     ResponseSigner, SingleResponse, decode_request, verify_response, VerifyOptions,
//!     IssuerHashes, serial_from_u64,
//! };
//! use secdispatch_pqpki::{Algorithm, SigningKey, ca};
//! use x509_cert::name::Name;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let key = SigningKey::generate(Algorithm::from_name("ecdsa-p256-sha256")?, &mut rng)?;
//! let ca_cert = ca::self_signed_root(&key, Name::from_str("CN=Example CA")?, now,
//!     now + Duration::from_secs(86_400 * 365), None, None, &mut rng)?;
//!
//! // Client: a SHA-256 CertID for serial 42.
//! let id = IssuerHashes::from_certificate(&ca_cert)?.cert_id(HashAlgorithm::Sha256, serial_from_u64(42)?)?;
//! let req = RequestBuilder::new().cert_id(id).to_der()?;
//!
//! // Responder: decode, resolve the issuer, sign (a real one serves a pre-signed blob).
//! let mut index = IssuerIndex::new();
//! index.insert(&ca_cert, "ca")?;
//! let parsed = decode_request(&req, &RequestPolicy::default())?;
//! let cert_id = parsed.cert_ids().next().ok_or("no request")?;
//! let hit = index.lookup(cert_id)?;
//! assert_eq!((*hit.issuer, hit.serial), ("ca", &[42u8][..]));
//! let signer = ResponseSigner::new(key)?;
//! let single = SingleResponse::new(cert_id.clone(), CertStatus::good(), now,
//!     Some(now + Duration::from_secs(4 * 3600)))?;
//! let der = ResponseBuilder::new(now).response(single).sign(&signer, &mut rng)?;
//!
//! // Client: verify signature, freshness and CertID.
//! let v = verify_response(&der, &ca_cert, &[42], &VerifyOptions::at(now))?;
//! assert_eq!(v.status, CertStatus::good());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

/// The `der` version of this crate's types (use it for `Encode` / `Decode`).
pub use der;
/// The `x509-cert` version of this crate's types.
pub use x509_cert;

pub mod bundle;
pub mod cache;
pub mod certid;
pub mod error;
pub mod ext;
pub mod get;
pub mod oid;
pub mod range;
pub mod request;
pub mod response;
pub mod types;
pub mod verify;

pub use bundle::{bundle_der, bundle_elements, bundle_response, decode_bundle};
pub use cache::{CacheInfo, etag};
pub use certid::{HashAlgorithm, IssuerHashes, IssuerIndex, Lookup, cert_id_for, key_hash};
pub use error::{Error, GetPathError, RequestError, Result, VerifyError};
pub use ext::{Nonce, PreferredSignatureAlgorithm, choose_signer};
pub use get::{decode_get_path, encode_get_path};
pub use range::{
    Coverage, OcspRange, PLACEHOLDER_SERIAL, PresignedPlan, RANGE_VALIDITY, RangeMode, RangePlan,
    RangeSplit, RangeTable, plan_ranges, presign_plan, range_single_response,
};
pub use request::{ParsedRequest, RequestBuilder, RequestPolicy, decode_request};
pub use response::{
    ResponseBuilder, ResponseSigner, sign_response_data, wrap_basic, wrap_response,
};
pub use types::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, generalized_time,
    magnitude_to_u64, serial_from_magnitude, serial_from_u64, serial_magnitude,
};
pub use verify::{
    SignerKind, VerifiedStatus, VerifyOptions, verify_basic, verify_bundle, verify_response,
    verify_response_for,
};
