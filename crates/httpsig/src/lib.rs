//! # secdispatch-httpsig — HTTP Message Signatures and Digest Fields
//!
//! Implements **RFC 9421** (HTTP Message Signatures, February 2024) and **RFC 9530**
//! (Digest Fields, February 2024) as a sans-I/O core over `http` 1.x types, with tower
//! layers behind the default feature `tower`.
//!
//! * [`component`]: every component identifier of RFC 9421 §2 — HTTP fields with the `sf`,
//!   `key`, `bs`, `tr` and `req` parameters, and every derived component of §2.2;
//! * [`base`]: the exact §2.5 signature base, one [`Error`] variant per failure case;
//! * [`fields`]: `Signature-Input`, `Signature` and `Accept-Signature` through the `sfv`
//!   crate (parsed in RFC 8941 mode and re-serialized, never sliced);
//! * [`params`]: `created`, `expires`, `nonce`, `alg`, `keyid`, `tag`;
//! * [`alg`] and [`key`]: the six registered algorithms through aws-lc-rs (ECDSA as raw
//!   `r‖s`), keys from PEM (PKCS#1, PKCS#8 including the RSASSA-PSS OID form, SPKI, SEC1)
//!   and JWK with RFC 7638 thumbprints; the algorithm is bound to the key;
//! * [`sign`] and [`verify`]: signers (several labels, responses bound to requests) and a
//!   verifier with policy (required components, `content-digest` with content, `tag`,
//!   `created`, max age and skew, `expires`, nonce replay through
//!   [`secdispatch_replay::NonceStore`], selection by label or tag);
//! * [`resolver`]: `KeyResolver` with a static map, JWKS documents and rotation windows;
//! * [`digest`]: `Content-Digest` / `Repr-Digest` / `Want-*`, incremental hashing, capped
//!   body collection and a verifying body wrapper;
//! * [`http1`] and [`offline`]: raw HTTP/1.1 message files and the sign / verify / base /
//!   digest operations a command line needs;
//! * `middleware` (feature `tower`): `VerifyLayer` for servers and `SignLayer` for clients.
//!
//! No function in this crate reads a clock, a file or a socket: time, keys and messages are
//! parameters.
//!
//! ## Example: sign a request, then verify it
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, UNIX_EPOCH};
//! use secdispatch_httpsig::component::ComponentId;
//! use secdispatch_httpsig::key::SigningKey;
//! use secdispatch_httpsig::message::{MessageView, RequestView};
//! use secdispatch_httpsig::resolver::StaticResolver;
//! use secdispatch_httpsig::sign::{Signer, SignerConfig};
//! use secdispatch_httpsig::verify::{Verifier, VerifyPolicy};
//!
//! # fn main() -> Result<(), secdispatch_httpsig::Error> {
//! let pem = "-----BEGIN PRIVATE KEY-----\n\
//!            MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n\
//!            -----END PRIVATE KEY-----\n";
//! let key = SigningKey::from_pem(pem, None)?.with_keyid("test-key-ed25519");
//! let public = key.verifying_key()?;
//!
//! let covered = ComponentId::parse_list(r#""@method" "@authority" "@path""#)?;
//! let signer = Signer::new(Arc::new(key), SignerConfig::new("sig1", covered));
//!
//! let mut req = http::Request::post("https://example.com/foo").body(())?;
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! signer.sign_request(&mut req, now)?;
//! assert!(req.headers().contains_key("signature-input"));
//!
//! let resolver = StaticResolver::new().with("test-key-ed25519", public);
//! let verifier = Verifier::new(resolver, VerifyPolicy::default());
//! let verified = verifier.verify(&MessageView::request(RequestView::of(&req)), now)?;
//! assert_eq!(verified[0].keyid.as_deref(), Some("test-key-ed25519"));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod alg;
pub mod base;
pub mod component;
mod derived;
pub mod digest;
pub mod error;
mod field;
pub mod fields;
pub mod http1;
pub mod key;
pub mod message;
#[cfg(feature = "tower")]
pub mod middleware;
pub mod offline;
pub mod params;
mod query;
pub mod resolver;
pub mod sign;
mod signature_input;
mod structured;
pub mod verify;

pub use alg::Algorithm;
pub use error::{Error, Result};

impl From<http::Error> for Error {
    fn from(e: http::Error) -> Self {
        Error::MalformedMessage {
            line: 0,
            reason: e.to_string(),
        }
    }
}
