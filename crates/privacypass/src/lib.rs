//! # secdispatch-privacypass — Privacy Pass issuer, origin and client
//!
//! Implements, as a sans-I/O core (bytes and `http` types in, typed values out; time and
//! randomness are parameters):
//!
//! * **RFC 9577** (the `PrivateToken` HTTP authentication scheme): [`TokenChallenge`],
//!   [`Token`], a lenient RFC 9110 parser and an emitter for `WWW-Authenticate` and
//!   `Authorization` ([`auth_scheme`]);
//! * **RFC 9578** (issuance protocols): token type 0x0001 VOPRF(P-384, SHA-384)
//!   ([`type1`], RFC 9497) and 0x0002 Blind RSA 2048 ([`type2`], RFC 9474), token key
//!   ids, the issuer directory ([`directory`]);
//! * **draft-ietf-privacypass-batched-tokens-07**: amortized (type 1) and generic batches
//!   ([`wire::batch`]);
//! * the roles of **RFC 9576**: [`issuer::Issuer`] (keys, request dispatch, the status a
//!   failure maps to), [`origin::Origin`] (challenges, verification, double-spend
//!   prevention through [`secdispatch_replay::NonceStore`]), [`client`] (challenge
//!   selection, blinding, finalization), and with the default feature `tower` the origin
//!   [`layer::PrivacyPassLayer`].
//!
//! ## Example: issue and redeem a type 2 token
//!
//! ```
//! use secdispatch_privacypass::{RedemptionContext, TokenChallenge, TokenType, type2};
//!
//! # fn main() -> Result<(), secdispatch_privacypass::Error> {
//! let mut rng = getrandom::SysRng;
//! let issuer_key = type2::IssuerKey::generate(type2::Backend::AwsLc)?;
//! let challenge = TokenChallenge::new(
//!     TokenType::PUBLIC_RSA,
//!     "issuer.example",
//!     RedemptionContext::Empty,
//!     &["origin.example"],
//! )?;
//! // Client: blind; issuer: sign; client: unblind and check.
//! let (request, state) = type2::request(&mut rng, &challenge, issuer_key.public())?;
//! let response = issuer_key.issue(&request)?;
//! let token = state.finalize(&response)?;
//! // Origin: anyone with the public key verifies.
//! assert_eq!(token.challenge_digest, challenge.digest());
//! issuer_key.public().verify(&token)?;
//! # Ok(()) }
//! ```
//!
//! `unsafe` is denied everywhere except two documented aws-lc wrappers: `type2::raw_rsa`
//! (raw RSA, type 2 issuance about 6x faster than pure Rust) and `type1::group` (P-384
//! points, type 1 issuance about 5x faster than pure Rust).
#![deny(unsafe_code)]

pub mod auth_scheme;
pub mod client;
pub mod directory;
mod error;
pub mod issuer;
pub mod key_id;
#[cfg(feature = "tower")]
pub mod layer;
pub mod origin;
pub mod type1;
pub mod type2;
pub mod wire;

pub use error::{Error, Result};
pub use key_id::TokenKeyId;
pub use wire::challenge::{RedemptionContext, TokenChallenge, TokenType};
pub use wire::token::Token;
pub use wire::token_request::{TokenRequest, TokenResponse};

/// SHA-256 (aws-lc).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-384 (aws-lc).
pub(crate) fn sha384(data: &[u8]) -> [u8; 48] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, data);
    let mut out = [0u8; 48];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
