//! Keys for the six algorithms: loading (PEM, JWK, base64 HMAC secrets), signing and
//! verification through aws-lc-rs.
//!
//! A key is always bound to exactly one [`Algorithm`] when it is loaded: the algorithm of a
//! signature is taken from the key, never from the message (RFC 9421 §3.2 step 6, §7.3.6).
//! EC, Ed25519 and HMAC keys imply their algorithm. An RSA key implies RSASSA-PSS only when
//! it is wrapped with the id-RSASSA-PSS OID (as the RFC's own `test-key-rsa-pss` is);
//! otherwise the caller must choose PSS or PKCS#1 v1.5 ([`Error::RsaAlgorithmUnbound`]).
//!
//! Formats: PEM `PRIVATE KEY` (PKCS#8 v1/v2, including the RSASSA-PSS OID form that
//! aws-lc-rs itself refuses: the inner PKCS#1 key is unwrapped here), `RSA PRIVATE KEY`
//! (PKCS#1; unbalanced primes are fine), `EC PRIVATE KEY` (SEC1), `PUBLIC KEY` (SPKI),
//! `RSA PUBLIC KEY` (PKCS#1); JWK `RSA`, `EC`, `OKP` (Ed25519), `oct`; a file holding the
//! base64 of an HMAC secret. Secret bytes held by this crate are zeroized on drop; the
//! aws-lc key objects clear their own memory when freed.

mod der;
pub mod jwk;
mod pem;

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey, RsaKeyPair,
};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::alg::Algorithm;
use crate::error::{Error, Result};
use der::Reader;

pub use jwk::{Jwk, jwk_thumbprint};

/// Shortest HMAC secret accepted, in bytes (the SHA-256 output size, RFC 2104 §3).
pub const MIN_HMAC_KEY_LEN: usize = 32;

/// What a key is, independent of its algorithm binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA, any size aws-lc accepts (2048–8192 bits for verification).
    Rsa,
    /// ECDSA over P-256.
    EcP256,
    /// ECDSA over P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
    /// A shared HMAC secret.
    Hmac,
}

impl KeyType {
    /// The algorithm a key of this type implies, if only one is possible.
    fn implied(self) -> Option<Algorithm> {
        match self {
            KeyType::Rsa => None,
            KeyType::EcP256 => Some(Algorithm::EcdsaP256Sha256),
            KeyType::EcP384 => Some(Algorithm::EcdsaP384Sha384),
            KeyType::Ed25519 => Some(Algorithm::Ed25519),
            KeyType::Hmac => Some(Algorithm::HmacSha256),
        }
    }

    fn allows(self, alg: Algorithm) -> bool {
        match self {
            KeyType::Rsa => matches!(alg, Algorithm::RsaPssSha512 | Algorithm::RsaV15Sha256),
            other => other.implied() == Some(alg),
        }
    }
}

/// Settle the algorithm of a key of type `ty` from: what the key's encoding implies
/// (`bound`, e.g. the PSS OID or a JWK `alg`), and what the caller asked for (`requested`).
/// All that are given must agree.
fn settle(
    ty: KeyType,
    bound: Option<Algorithm>,
    requested: Option<Algorithm>,
) -> Result<Algorithm> {
    let implied = ty.implied().or(bound);
    for a in [bound, requested].into_iter().flatten() {
        if !ty.allows(a) {
            return Err(Error::AlgorithmMismatch {
                key: implied.unwrap_or(a),
                requested: a.name().into(),
            });
        }
    }
    match (implied, requested) {
        (Some(k), Some(r)) if k != r => Err(Error::AlgorithmMismatch {
            key: k,
            requested: r.name().into(),
        }),
        (Some(k), _) => Ok(k),
        (None, Some(r)) => Ok(r),
        (None, None) => Err(Error::RsaAlgorithmUnbound),
    }
}

fn rejected(format: &'static str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> Error {
    move |e| Error::InvalidKey {
        format,
        reason: e.to_string(),
    }
}

fn verification_alg(alg: Algorithm) -> Option<&'static dyn signature::VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::RsaV15Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::Ed25519 => &signature::ED25519,
        Algorithm::HmacSha256 => return None,
    })
}

enum SignInner {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Hmac(Box<hmac::Key>),
}

/// A private (or shared HMAC) key bound to one algorithm.
pub struct SigningKey {
    alg: Algorithm,
    inner: SignInner,
    keyid: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

enum VerifyInner {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

/// A public (or shared HMAC) key bound to one algorithm.
pub struct VerifyingKey {
    alg: Algorithm,
    inner: VerifyInner,
    keyid: Option<String>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

/// A key parsed from PEM or DER before its algorithm is settled.
enum Parsed {
    RsaPrivate {
        pkcs1: Zeroizing<Vec<u8>>,
        pss: bool,
    },
    EcPrivate {
        ty: KeyType,
        der: Zeroizing<Vec<u8>>,
    },
    Ed25519Private {
        pkcs8: Zeroizing<Vec<u8>>,
    },
    RsaPublic {
        pkcs1: Vec<u8>,
        pss: bool,
    },
    EcPublic {
        ty: KeyType,
        point: Vec<u8>,
    },
    Ed25519Public {
        raw: Vec<u8>,
    },
}

fn der_err(reason: &str) -> Error {
    Error::InvalidKey {
        format: "DER",
        reason: reason.to_owned(),
    }
}

fn curve_type(oid: &[u8]) -> Result<KeyType> {
    if oid == der::OID_P256 {
        Ok(KeyType::EcP256)
    } else if oid == der::OID_P384 {
        Ok(KeyType::EcP384)
    } else {
        Err(Error::UnsupportedKey(
            "elliptic curve other than P-256 or P-384".into(),
        ))
    }
}

/// PSS keys must have absent parameters: parameters that pin another hash or salt length
/// would contradict `rsa-pss-sha512`, and are not worth a parser.
fn check_pss_params(params: Option<(u8, &[u8])>) -> Result<()> {
    match params {
        None => Ok(()),
        Some((der::TAG_SEQUENCE, [])) => Ok(()),
        Some(_) => Err(Error::UnsupportedKey(
            "RSASSA-PSS key with explicit parameters (only the unrestricted form is supported)"
                .into(),
        )),
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<Parsed> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    let version = seq.small_uint()?;
    if version > 1 {
        return Err(der_err("unknown PKCS#8 version"));
    }
    let alg = der::algorithm_id(&mut seq)?;
    let private = seq.expect(der::TAG_OCTET_STRING)?;
    if alg.oid == der::OID_RSA_ENCRYPTION || alg.oid == der::OID_RSASSA_PSS {
        let pss = alg.oid == der::OID_RSASSA_PSS;
        if pss {
            check_pss_params(alg.params)?;
        }
        Ok(Parsed::RsaPrivate {
            pkcs1: Zeroizing::new(private.to_vec()),
            pss,
        })
    } else if alg.oid == der::OID_EC_PUBLIC_KEY {
        let Some((der::TAG_OID, curve)) = alg.params else {
            return Err(der_err("EC key without a named curve"));
        };
        Ok(Parsed::EcPrivate {
            ty: curve_type(curve)?,
            der: Zeroizing::new(der.to_vec()),
        })
    } else if alg.oid == der::OID_ED25519 {
        Ok(Parsed::Ed25519Private {
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    } else {
        Err(Error::UnsupportedKey(
            "PKCS#8 key of an unsupported algorithm".into(),
        ))
    }
}

fn parse_sec1(der: &[u8]) -> Result<Parsed> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    if seq.small_uint()? != 1 {
        return Err(der_err("SEC1 ECPrivateKey version must be 1"));
    }
    let d = seq.expect(der::TAG_OCTET_STRING)?;
    let ty = if seq.peek_tag() == Some(der::TAG_CONTEXT_0) {
        let mut params = Reader::new(seq.expect(der::TAG_CONTEXT_0)?);
        curve_type(params.expect(der::TAG_OID)?)?
    } else {
        match d.len() {
            32 => KeyType::EcP256,
            48 => KeyType::EcP384,
            _ => return Err(der_err("SEC1 key without curve and of unknown size")),
        }
    };
    Ok(Parsed::EcPrivate {
        ty,
        der: Zeroizing::new(der.to_vec()),
    })
}

fn parse_spki(der: &[u8]) -> Result<Parsed> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence()?;
    let alg = der::algorithm_id(&mut seq)?;
    let key = seq.bit_string()?;
    if alg.oid == der::OID_RSA_ENCRYPTION || alg.oid == der::OID_RSASSA_PSS {
        let pss = alg.oid == der::OID_RSASSA_PSS;
        if pss {
            check_pss_params(alg.params)?;
        } else if !matches!(alg.params, None | Some((der::TAG_NULL, []))) {
            return Err(der_err("rsaEncryption parameters must be NULL"));
        }
        Ok(Parsed::RsaPublic {
            pkcs1: key.to_vec(),
            pss,
        })
    } else if alg.oid == der::OID_EC_PUBLIC_KEY {
        let Some((der::TAG_OID, curve)) = alg.params else {
            return Err(der_err("EC key without a named curve"));
        };
        Ok(Parsed::EcPublic {
            ty: curve_type(curve)?,
            point: key.to_vec(),
        })
    } else if alg.oid == der::OID_ED25519 {
        Ok(Parsed::Ed25519Public { raw: key.to_vec() })
    } else {
        Err(Error::UnsupportedKey(
            "public key of an unsupported algorithm".into(),
        ))
    }
}

fn parse_pem(text: &str) -> Result<Parsed> {
    let blocks = pem::decode_all(text)?;
    let mut keys = blocks.iter().filter(|b| b.label != "EC PARAMETERS");
    let block = keys.next().ok_or_else(|| Error::InvalidKey {
        format: "PEM",
        reason: "no key block".into(),
    })?;
    if keys.next().is_some() {
        return Err(Error::InvalidKey {
            format: "PEM",
            reason: "more than one key in the file".into(),
        });
    }
    match block.label.as_str() {
        "PRIVATE KEY" => parse_pkcs8(&block.der),
        "RSA PRIVATE KEY" => Ok(Parsed::RsaPrivate {
            pkcs1: block.der.clone(),
            pss: false,
        }),
        "EC PRIVATE KEY" => parse_sec1(&block.der),
        "PUBLIC KEY" => parse_spki(&block.der),
        "RSA PUBLIC KEY" => Ok(Parsed::RsaPublic {
            pkcs1: block.der.to_vec(),
            pss: false,
        }),
        "ENCRYPTED PRIVATE KEY" => Err(Error::UnsupportedKey(
            "encrypted private key: decrypt it first".into(),
        )),
        other => Err(Error::UnsupportedKey(format!("PEM block \"{other}\""))),
    }
}

fn ec_signing(ty: KeyType) -> &'static signature::EcdsaSigningAlgorithm {
    if ty == KeyType::EcP384 {
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING
    } else {
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING
    }
}

impl SigningKey {
    /// Load a private key from PEM. `alg` is required for RSA keys that are not wrapped with
    /// the RSASSA-PSS OID and must agree with the key otherwise.
    pub fn from_pem(pem: &str, alg: Option<Algorithm>) -> Result<Self> {
        match parse_pem(pem)? {
            Parsed::RsaPrivate { pkcs1, pss } => {
                let bound = pss.then_some(Algorithm::RsaPssSha512);
                let alg = settle(KeyType::Rsa, bound, alg)?;
                let kp = RsaKeyPair::from_der(&pkcs1).map_err(rejected("RSA"))?;
                Ok(Self::new(alg, SignInner::Rsa(kp)))
            }
            Parsed::EcPrivate { ty, der } => {
                let alg = settle(ty, None, alg)?;
                let kp = EcdsaKeyPair::from_private_key_der(ec_signing(ty), &der)
                    .map_err(rejected("EC"))?;
                Ok(Self::new(alg, SignInner::Ecdsa(kp)))
            }
            Parsed::Ed25519Private { pkcs8 } => {
                let alg = settle(KeyType::Ed25519, None, alg)?;
                let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
                    .map_err(rejected("Ed25519"))?;
                Ok(Self::new(alg, SignInner::Ed25519(kp)))
            }
            Parsed::RsaPublic { .. } | Parsed::EcPublic { .. } | Parsed::Ed25519Public { .. } => {
                Err(Error::NotAPrivateKey)
            }
        }
    }

    /// An HMAC-SHA256 key from the raw secret (at least [`MIN_HMAC_KEY_LEN`] bytes).
    pub fn hmac(secret: &[u8]) -> Result<Self> {
        Ok(Self::new(
            Algorithm::HmacSha256,
            SignInner::Hmac(Box::new(hmac_key(secret)?)),
        ))
    }

    fn new(alg: Algorithm, inner: SignInner) -> Self {
        SigningKey {
            alg,
            inner,
            keyid: None,
        }
    }

    /// Attach the key id used in the `keyid` parameter.
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = Some(keyid.into());
        self
    }

    /// The key id, if any.
    pub fn keyid(&self) -> Option<&str> {
        self.keyid.as_deref()
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Sign `msg` (a signature base). ECDSA gives raw `r‖s`; RSA-PSS uses a 64-byte salt.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.inner {
            SignInner::Rsa(kp) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::RsaPssSha512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(padding, &rng, msg, &mut sig)
                    .map_err(|_| Error::SigningFailed)?;
                Ok(sig)
            }
            SignInner::Ecdsa(kp) => kp
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SigningFailed),
            SignInner::Ed25519(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
            SignInner::Hmac(k) => Ok(hmac::sign(k, msg).as_ref().to_vec()),
        }
    }

    /// The matching verification key (for HMAC, the same secret).
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        let inner = match &self.inner {
            SignInner::Hmac(k) => VerifyInner::Hmac(k.clone()),
            other => {
                let public: Vec<u8> = match other {
                    SignInner::Rsa(kp) => kp.public_key().as_ref().to_vec(),
                    SignInner::Ecdsa(kp) => kp.public_key().as_ref().to_vec(),
                    SignInner::Ed25519(kp) => kp.public_key().as_ref().to_vec(),
                    SignInner::Hmac(_) => Vec::new(),
                };
                let Some(va) = verification_alg(self.alg) else {
                    return Err(Error::UnsupportedKey("HMAC has no public key".into()));
                };
                VerifyInner::Public(ParsedPublicKey::new(va, public).map_err(rejected("public"))?)
            }
        };
        Ok(VerifyingKey {
            alg: self.alg,
            inner,
            keyid: self.keyid.clone(),
        })
    }

    /// Load from key-file contents, detecting the format: PEM, JWK (JSON object), or the
    /// base64 (standard or URL-safe alphabet) of an HMAC secret.
    pub fn from_key_file(contents: &[u8], alg: Option<Algorithm>) -> Result<Self> {
        match detect(contents)? {
            Detected::Pem(t) => Self::from_pem(t, alg),
            Detected::Jwk(t) => Jwk::parse(t)?.signing_key(alg),
            Detected::Secret(s) => {
                settle(KeyType::Hmac, None, alg)?;
                Self::hmac(&s)
            }
        }
    }
}

impl VerifyingKey {
    /// Load a public key from PEM (SPKI or PKCS#1); a private key PEM is accepted too and its
    /// public half is used. `alg` as for [`SigningKey::from_pem`].
    pub fn from_pem(pem: &str, alg: Option<Algorithm>) -> Result<Self> {
        match parse_pem(pem)? {
            Parsed::RsaPublic { pkcs1, pss } => {
                let bound = pss.then_some(Algorithm::RsaPssSha512);
                let alg = settle(KeyType::Rsa, bound, alg)?;
                Self::public(alg, &pkcs1)
            }
            Parsed::EcPublic { ty, point } => {
                let alg = settle(ty, None, alg)?;
                Self::public(alg, &point)
            }
            Parsed::Ed25519Public { raw } => {
                let alg = settle(KeyType::Ed25519, None, alg)?;
                Self::public(alg, &raw)
            }
            Parsed::RsaPrivate { .. }
            | Parsed::EcPrivate { .. }
            | Parsed::Ed25519Private { .. } => SigningKey::from_pem(pem, alg)?.verifying_key(),
        }
    }

    /// A public key from its raw encoding for `alg`: PKCS#1 `RSAPublicKey` DER or SPKI for
    /// RSA, the uncompressed SEC1 point for ECDSA, the 32 raw bytes for Ed25519.
    pub fn public(alg: Algorithm, bytes: &[u8]) -> Result<Self> {
        let Some(va) = verification_alg(alg) else {
            return Err(Error::UnsupportedKey(
                "hmac-sha256 keys are secrets: use VerifyingKey::hmac".into(),
            ));
        };
        let parsed = ParsedPublicKey::new(va, bytes).map_err(rejected("public"))?;
        Ok(VerifyingKey {
            alg,
            inner: VerifyInner::Public(parsed),
            keyid: None,
        })
    }

    /// An HMAC-SHA256 key from the raw secret (at least [`MIN_HMAC_KEY_LEN`] bytes).
    pub fn hmac(secret: &[u8]) -> Result<Self> {
        Ok(VerifyingKey {
            alg: Algorithm::HmacSha256,
            inner: VerifyInner::Hmac(Box::new(hmac_key(secret)?)),
            keyid: None,
        })
    }

    /// Load from key-file contents (PEM, JWK or base64 HMAC secret), like
    /// [`SigningKey::from_key_file`].
    pub fn from_key_file(contents: &[u8], alg: Option<Algorithm>) -> Result<Self> {
        match detect(contents)? {
            Detected::Pem(t) => Self::from_pem(t, alg),
            Detected::Jwk(t) => Jwk::parse(t)?.verifying_key(alg),
            Detected::Secret(s) => {
                settle(KeyType::Hmac, None, alg)?;
                Self::hmac(&s)
            }
        }
    }

    /// Attach the key id this key answers to.
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = Some(keyid.into());
        self
    }

    /// The key id, if any.
    pub fn keyid(&self) -> Option<&str> {
        self.keyid.as_deref()
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Check `sig` over `msg`. HMAC tags are compared in constant time.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.inner {
            VerifyInner::Public(k) => k.verify_sig(msg, sig).is_ok(),
            VerifyInner::Hmac(k) => hmac::verify(k, msg, sig).is_ok(),
        }
    }

    /// Wrap in an `Arc` for resolvers.
    pub fn into_shared(self) -> Arc<VerifyingKey> {
        Arc::new(self)
    }
}

fn hmac_key(secret: &[u8]) -> Result<hmac::Key> {
    if secret.len() < MIN_HMAC_KEY_LEN {
        return Err(Error::HmacKeyTooShort {
            len: secret.len(),
            min: MIN_HMAC_KEY_LEN,
        });
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, secret))
}

enum Detected<'a> {
    Pem(&'a str),
    Jwk(&'a str),
    Secret(Zeroizing<Vec<u8>>),
}

fn detect(contents: &[u8]) -> Result<Detected<'_>> {
    let text = std::str::from_utf8(contents).map_err(|_| Error::InvalidKey {
        format: "key file",
        reason: "not UTF-8 text (binary DER is not accepted: convert it to PEM)".into(),
    })?;
    let t = text.trim();
    if t.contains("-----BEGIN ") {
        Ok(Detected::Pem(text))
    } else if t.starts_with('{') {
        Ok(Detected::Jwk(t))
    } else {
        let compact: Zeroizing<String> =
            Zeroizing::new(t.chars().filter(|c| !c.is_ascii_whitespace()).collect());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .or_else(|_| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(compact.trim_end_matches('=').as_bytes())
            })
            .map_err(|_| Error::InvalidKey {
                format: "key file",
                reason: "neither PEM, JWK, nor a base64 HMAC secret".into(),
            })?;
        Ok(Detected::Secret(Zeroizing::new(decoded)))
    }
}

/// Whether `alg` can use a key of this RSA modulus size etc. is enforced by aws-lc; this
/// is the key type of an algorithm, for callers that pre-check configuration.
pub fn key_type_of(alg: Algorithm) -> KeyType {
    match alg {
        Algorithm::RsaPssSha512 | Algorithm::RsaV15Sha256 => KeyType::Rsa,
        Algorithm::EcdsaP256Sha256 => KeyType::EcP256,
        Algorithm::EcdsaP384Sha384 => KeyType::EcP384,
        Algorithm::Ed25519 => KeyType::Ed25519,
        Algorithm::HmacSha256 => KeyType::Hmac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<SigningKey>();
        is::<VerifyingKey>();
    }

    #[test]
    fn settle_rules() {
        assert_eq!(
            settle(KeyType::Rsa, None, None),
            Err(Error::RsaAlgorithmUnbound)
        );
        assert_eq!(
            settle(KeyType::Rsa, None, Some(Algorithm::RsaV15Sha256)),
            Ok(Algorithm::RsaV15Sha256)
        );
        assert!(
            settle(
                KeyType::Rsa,
                Some(Algorithm::RsaPssSha512),
                Some(Algorithm::RsaV15Sha256)
            )
            .is_err()
        );
        assert!(settle(KeyType::EcP256, None, Some(Algorithm::Ed25519)).is_err());
        assert_eq!(settle(KeyType::Hmac, None, None), Ok(Algorithm::HmacSha256));
    }

    #[test]
    fn short_hmac_secret_is_refused() {
        assert_eq!(
            SigningKey::hmac(&[1u8; 16]).unwrap_err(),
            Error::HmacKeyTooShort { len: 16, min: 32 }
        );
    }
}
