//! Chain validation (the RFC 5280 §6 subset that matters in practice).

use const_oid::ObjectIdentifier;

/// Why one link of a chain failed; carried in [`crate::Error::Chain`] with the link's index and
/// subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainFailure {
    /// The certificate's signature does not verify with its issuer's key.
    #[error("signature does not verify with the issuer's key: {0}")]
    BadSignature(String),
    /// The validation time is before notBefore.
    #[error("not yet valid (notBefore {0})")]
    NotYetValid(String),
    /// The validation time is after notAfter.
    #[error("expired (notAfter {0})")]
    Expired(String),
    /// The issuer name does not equal the next certificate's subject.
    #[error("issuer {issuer} does not match the subject {expected} of the next certificate")]
    IssuerMismatch {
        /// This certificate's issuer.
        issuer: String,
        /// The subject it should have matched.
        expected: String,
    },
    /// The issuing certificate is not a CA (basicConstraints cA absent or FALSE).
    #[error("issuer is not a CA (basicConstraints cA is not TRUE)")]
    NotCa,
    /// A CA's pathLenConstraint is exceeded.
    #[error("pathLenConstraint {path_len} exceeded: {below} intermediate CA certificate(s) follow it")]
    PathLenExceeded {
        /// The constraint.
        path_len: u8,
        /// Non-self-issued intermediates below.
        below: usize,
    },
    /// keyUsage does not permit what the certificate is used for, or is inconsistent with the key.
    #[error("keyUsage: {0}")]
    KeyUsage(String),
    /// extendedKeyUsage lacks the purpose asked for.
    #[error("extendedKeyUsage does not include {0}")]
    ExtendedKeyUsage(ObjectIdentifier),
    /// No subjectAltName matches the host name.
    #[error("no subjectAltName matches host {0:?}")]
    HostMismatch(String),
    /// The certificate is revoked by a CRL.
    #[error("revoked (serial {serial}, reason {reason})")]
    Revoked {
        /// Serial number, hex.
        serial: String,
        /// CRL reason code name.
        reason: String,
    },
    /// A CRL for this certificate's issuer could not be used.
    #[error("CRL: {0}")]
    Crl(String),
    /// An unrecognised critical extension.
    #[error("unrecognised critical extension {0}")]
    UnknownCriticalExtension(ObjectIdentifier),
    /// The chain does not end at a configured trust anchor.
    #[error("no trust anchor issued or equals this certificate")]
    NoTrustAnchor,
    /// The certificate is structurally unusable (bad extension encoding, unsupported key).
    #[error("malformed: {0}")]
    Malformed(String),
}
