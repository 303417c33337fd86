//! The one error type of the crate: every variant names what was wrong with the input.

use crate::TokenType;

/// Why a Privacy Pass structure, header, key or token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input ended before a field was complete.
    #[error("{what}: truncated ({needed} more bytes needed)")]
    Truncated {
        /// The structure or field being read.
        what: &'static str,
        /// How many bytes were missing.
        needed: usize,
    },
    /// Bytes left over after a complete structure.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// The structure that was complete.
        what: &'static str,
        /// How many bytes followed it.
        extra: usize,
    },
    /// A field of fixed size had another size.
    #[error("{what} is {got} bytes, expected {expected}")]
    Length {
        /// The field.
        what: &'static str,
        /// Its size.
        got: usize,
        /// The size the token type requires.
        expected: usize,
    },
    /// A token type this implementation does not issue or redeem (RFC 9577 §2.1.1: such
    /// challenges are ignored), including the greased values of RFC 9577 §6.
    #[error("unsupported token type {0}")]
    UnsupportedTokenType(TokenType),
    /// RFC 9577 §2.1.1: `redemption_context` is either empty or 32 bytes.
    #[error("redemption_context must be 0 or 32 bytes, got {0}")]
    RedemptionContextLength(usize),
    /// `issuer_name` is empty, too long or not a plain ASCII host[:port].
    #[error("issuer_name: {0}")]
    IssuerName(&'static str),
    /// `origin_info` is too long or not ASCII.
    #[error("origin_info: {0}")]
    OriginInfo(&'static str),
    /// A challenge whose non-empty `origin_info` does not list the challenging origin
    /// (RFC 9577 §2.1.1: the client must not use it).
    #[error("origin {0:?} is not listed in the challenge's origin_info")]
    OriginNotListed(String),
    /// A QUIC-style variable-length integer that is not minimally encoded, or too large.
    #[error("variable-length integer: {0}")]
    Varint(&'static str),
    /// A base64url value that does not decode.
    #[error("{what}: invalid base64url")]
    Base64 {
        /// The parameter or field.
        what: &'static str,
    },
    /// An HTTP authentication field that is not RFC 9110 `#challenge` / `credentials`.
    #[error("authentication field syntax: {0}")]
    AuthSyntax(&'static str),
    /// A required auth-param is absent.
    #[error("missing auth-param {0:?}")]
    MissingParameter(&'static str),
    /// No `PrivateToken` credentials in an `Authorization` field.
    #[error("no PrivateToken credentials")]
    NoCredentials,
    /// An elliptic-curve element or scalar that does not decode (RFC 9497
    /// DeserializeElement / DeserializeScalar failure, the identity included).
    #[error("{0}: not a valid group element or scalar")]
    InvalidElement(&'static str),
    /// The issuer's DLEQ proof did not verify (RFC 9497 §2.2.2).
    #[error("issuer's DLEQ proof does not verify")]
    InvalidProof,
    /// A token key that cannot be used.
    #[error("token key: {0}")]
    InvalidKey(String),
    /// No issuer key has this truncated token key id (RFC 9578: answer 422).
    #[error("no issuer key with truncated token key id {0:#04x}")]
    UnknownTruncatedKeyId(u8),
    /// The token's `token_key_id` names no key the verifier accepts.
    #[error("token_key_id matches no accepted issuer key")]
    UnknownKeyId,
    /// The token's `challenge_digest` matches no challenge the origin accepts.
    #[error("challenge_digest matches no challenge this origin accepts")]
    ChallengeMismatch,
    /// The token's authenticator does not verify.
    #[error("token authenticator does not verify")]
    InvalidAuthenticator,
    /// The token was already redeemed (RFC 9576 §3.5 double spending).
    #[error("token already redeemed (double spend)")]
    DoubleSpend,
    /// The double-spend store cannot answer; redemption fails closed.
    #[error("double-spend store unavailable: {0}")]
    NonceStore(String),
    /// A batch that is empty or larger than the configured cap.
    #[error("batch of {got} token requests; allowed 1..={max}")]
    BatchSize {
        /// Requests in the batch.
        got: usize,
        /// The cap.
        max: usize,
    },
    /// A batched request mixes keys or types where one is required.
    #[error("batch: {0}")]
    Batch(&'static str),
    /// The blind signature or evaluation could not be computed.
    #[error("issuer operation failed: {0}")]
    Issuance(&'static str),
    /// The system random number generator failed.
    #[error("no randomness available")]
    Rng,
    /// An issuer directory that is not RFC 9578 §4 JSON.
    #[error("issuer directory: {0}")]
    Directory(String),
}

/// Short for `Result<T, Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
