//! The crate's error type: one enum, each variant naming what was wrong with the input.

use const_oid::ObjectIdentifier;

use crate::validate::ChainFailure;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in `secdispatch-pqpki`.
///
/// Bad input (keys, signatures, certificates, names) always ends here as a value; no public
/// function panics on input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An algorithm name that is not one of [`crate::Algorithm::all`].
    #[error("unknown algorithm name {0:?} (see `secdispatch pki algs` for the list)")]
    UnknownAlgorithmName(String),

    /// An OID this crate does not implement.
    #[error("unknown or unsupported algorithm OID {0}")]
    UnknownOid(ObjectIdentifier),

    /// An OID from a pre-standard prototype arc of the composite drafts.
    #[error(
        "pre-standard prototype OID {oid} ({arc}) is refused: composite ML-DSA per \
         draft-ietf-lamps-pq-composite-sigs-19 uses 1.3.6.1.5.5.7.6.37 to .54"
    )]
    PrototypeOid {
        /// The refused OID.
        oid: ObjectIdentifier,
        /// Which prototype arc it belongs to.
        arc: &'static str,
    },

    /// An AlgorithmIdentifier carried parameters where the specification requires them absent.
    #[error("AlgorithmIdentifier {oid} carries parameters but they MUST be absent")]
    ParametersPresent {
        /// The algorithm OID.
        oid: ObjectIdentifier,
    },

    /// An AlgorithmIdentifier's parameters are missing or wrong.
    #[error("AlgorithmIdentifier {oid} has invalid parameters: {reason}")]
    InvalidParameters {
        /// The algorithm OID.
        oid: ObjectIdentifier,
        /// What is wrong with them.
        reason: &'static str,
    },

    /// The key's algorithm cannot verify or produce a signature of the named algorithm.
    #[error("key of algorithm {key} cannot be used with signature algorithm {signature}")]
    AlgorithmMismatch {
        /// The key's algorithm.
        key: String,
        /// The signature algorithm that was asked for.
        signature: String,
    },

    /// A signing context string longer than 255 bytes (FIPS 204, draft-19 §4.2).
    #[error("context string is {0} bytes, at most 255 are allowed")]
    ContextTooLong(usize),

    /// A public key of the wrong length.
    #[error("{alg} public key is {got} bytes, expected {expected}")]
    PublicKeyLength {
        /// The algorithm (or component) name.
        alg: &'static str,
        /// What the specification requires.
        expected: &'static str,
        /// What was given.
        got: usize,
    },

    /// A public key that does not decode.
    #[error("invalid {alg} public key: {reason}")]
    InvalidPublicKey {
        /// The algorithm (or component) name.
        alg: &'static str,
        /// What is wrong.
        reason: &'static str,
    },

    /// A private key that does not decode or is inconsistent.
    #[error("invalid {alg} private key: {reason}")]
    InvalidPrivateKey {
        /// The algorithm (or component) name.
        alg: &'static str,
        /// What is wrong.
        reason: &'static str,
    },

    /// A signature of the wrong length.
    #[error("{alg} signature is {got} bytes, expected {expected}")]
    SignatureLength {
        /// The algorithm (or component) name.
        alg: &'static str,
        /// What the specification requires.
        expected: &'static str,
        /// What was given.
        got: usize,
    },

    /// A signature that does not verify.
    #[error("{alg} signature verification failed{}", component.map(|c| format!(" (component {c})")).unwrap_or_default())]
    BadSignature {
        /// The algorithm name.
        alg: &'static str,
        /// For composites, which component failed first.
        component: Option<&'static str>,
    },

    /// The primitive failed to produce a signature.
    #[error("signing with {alg} failed: {reason}")]
    Signing {
        /// The algorithm name.
        alg: &'static str,
        /// Why.
        reason: &'static str,
    },

    /// Key generation failed.
    #[error("key generation for {alg} failed: {reason}")]
    KeyGeneration {
        /// The algorithm name.
        alg: &'static str,
        /// Why.
        reason: &'static str,
    },

    /// The caller's random number generator reported an error.
    #[error("random number generator failed")]
    Rng,

    /// A DER structure did not decode or encode.
    #[error("DER: {0}")]
    Der(#[from] der::Error),

    /// A PEM document had an unexpected label.
    #[error("PEM label {got:?}, expected {expected:?}")]
    PemLabel {
        /// The label required here.
        expected: &'static str,
        /// The label found.
        got: String,
    },

    /// A certificate, CSR or CRL could not be built.
    #[error("cannot build {what}: {reason}")]
    Build {
        /// What was being built.
        what: &'static str,
        /// Why.
        reason: String,
    },

    /// A certificate field or extension violates the profile.
    #[error("certificate profile violation: {0}")]
    Profile(String),

    /// A PKCS#10 request failed its checks.
    #[error("certification request: {0}")]
    Csr(String),

    /// A CRL failed its checks.
    #[error("CRL: {0}")]
    Crl(String),

    /// Chain validation failed at one link.
    #[error("chain validation failed at certificate #{index} ({subject}): {reason}")]
    Chain {
        /// 0 = the end-entity certificate, counting up towards the trust anchor.
        index: usize,
        /// The subject of that certificate, RFC 4514 style.
        subject: String,
        /// What failed.
        reason: ChainFailure,
    },

    /// A chameleon (delta certificate) structure is malformed or does not reconstruct.
    #[error("delta certificate: {0}")]
    Delta(String),

    /// An RFC 9763 related-certificate binding does not hold.
    #[error("related certificate: {0}")]
    Related(String),

    /// A multi-algorithm policy was not satisfied or is malformed.
    #[error("policy: {0}")]
    Policy(String),
}

impl From<der::pem::Error> for Error {
    fn from(e: der::pem::Error) -> Self {
        Error::Der(der::Error::from(e))
    }
}

impl From<x509_cert::builder::Error> for Error {
    fn from(e: x509_cert::builder::Error) -> Self {
        Error::Build {
            what: "X.509 object",
            reason: e.to_string(),
        }
    }
}
