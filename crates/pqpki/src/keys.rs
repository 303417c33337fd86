//! The one key abstraction: [`SigningKey`], [`VerifyingKey`] and [`Signature`] for pure ML-DSA,
//! composite ML-DSA and the classical algorithms, with SPKI, PKCS#8 and PEM encodings.
//!
//! [`SigningKey`] implements `signature::{Signer, RandomizedSigner, Keypair}` and
//! `spki::DynSignatureAlgorithmIdentifier`; [`VerifyingKey`] implements `spki::EncodePublicKey`
//! and `signature::Verifier`; [`Signature`] implements `spki::SignatureBitStringEncoding`. So the
//! `x509-cert` 0.3 builders accept these keys unchanged, and any DER (a TBSCertificate, a
//! tbsResponseData) can be signed with [`SigningKey::sign`].

use core::fmt;

use der::asn1::{AnyRef, BitString};
use der::{Decode, Encode};
use rand_core::TryCryptoRng;
use spki::{
    AlgorithmIdentifierOwned, AlgorithmIdentifierRef, DynSignatureAlgorithmIdentifier,
    EncodePublicKey, SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
    SubjectPublicKeyInfoRef,
};
use zeroize::Zeroizing;

use crate::alg::{Algorithm, CompositeId, Curve, HashAlg, MlDsaLevel, RsaPadding, TradAlg};
use crate::composite::{self, CompositeSigningKey};
use crate::error::{Error, Result};
use crate::mldsa::{self, MlDsaKeyPair};
use crate::oid;
use crate::pkcs8::{self, MlDsaKeyForm, MlDsaPrivate, OneAsymmetricKeyRef};
use crate::trad::{self, TradSigningKey};

/// PEM label of PKCS#8 private keys.
pub const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of SubjectPublicKeyInfo.
pub const PEM_PUBLIC_KEY: &str = "PUBLIC KEY";

/// A signature value: the exact bytes that go into a signatureValue BIT STRING.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Wrap raw signature bytes.
    pub fn from_bytes(b: &[u8]) -> Signature {
        Signature(b.to_vec())
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// Take the raw bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({} bytes)", self.0.len())
    }
}

impl AsRef<[u8]> for Signature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<&[u8]> for Signature {
    type Error = signature::Error;
    fn try_from(b: &[u8]) -> core::result::Result<Self, Self::Error> {
        Ok(Signature(b.to_vec()))
    }
}

impl TryFrom<Vec<u8>> for Signature {
    type Error = signature::Error;
    fn try_from(b: Vec<u8>) -> core::result::Result<Self, Self::Error> {
        Ok(Signature(b))
    }
}

impl From<Signature> for Vec<u8> {
    fn from(s: Signature) -> Vec<u8> {
        s.0
    }
}

impl signature::SignatureEncoding for Signature {
    type Repr = Vec<u8>;
}

impl SignatureBitStringEncoding for Signature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// What kind of public key this is (independent of the hash/padding a classical key signs with).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Pure ML-DSA.
    MlDsa(MlDsaLevel),
    /// Composite ML-DSA.
    Composite(CompositeId),
    /// EC public key on a named curve.
    Ec(Curve),
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// RSA with a modulus of `bits` bits; `pss` if the SPKI used id-RSASSA-PSS.
    Rsa {
        /// Modulus size.
        bits: usize,
        /// SPKI algorithm was id-RSASSA-PSS.
        pss: bool,
    },
}

/// A public key of any supported kind. Equality compares the key material only.
#[derive(Clone)]
pub struct VerifyingKey {
    kind: KeyKind,
    bytes: Vec<u8>,
    alg: Option<Algorithm>,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.bytes == other.bytes
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .field("len", &self.bytes.len())
            .finish()
    }
}

fn params_absent(aid: &AlgorithmIdentifierRef<'_>) -> Result<()> {
    if aid.parameters.is_some() {
        return Err(Error::ParametersPresent { oid: aid.oid });
    }
    Ok(())
}

fn params_null_or_absent(aid: &AlgorithmIdentifierRef<'_>) -> Result<()> {
    match aid.parameters {
        None => Ok(()),
        Some(p) if p == AnyRef::NULL => Ok(()),
        Some(_) => Err(Error::InvalidParameters {
            oid: aid.oid,
            reason: "expected NULL or absent",
        }),
    }
}

fn default_classical(kind: KeyKind) -> Option<Algorithm> {
    let t = match kind {
        KeyKind::Ec(Curve::P256) => TradAlg::Ecdsa {
            curve: Curve::P256,
            hash: HashAlg::Sha256,
        },
        KeyKind::Ec(Curve::P384) => TradAlg::Ecdsa {
            curve: Curve::P384,
            hash: HashAlg::Sha384,
        },
        KeyKind::Ec(Curve::P521) => TradAlg::Ecdsa {
            curve: Curve::P521,
            hash: HashAlg::Sha512,
        },
        KeyKind::Ed25519 => TradAlg::Ed25519,
        KeyKind::Rsa { bits, pss } => {
            let bits = u16::try_from(bits).ok()?;
            let hash = if bits >= 4096 {
                HashAlg::Sha384
            } else {
                HashAlg::Sha256
            };
            TradAlg::Rsa {
                bits,
                padding: if pss {
                    RsaPadding::Pss
                } else {
                    RsaPadding::Pkcs1v15
                },
                hash,
            }
        }
        _ => return None,
    };
    Algorithm::classical(t)
}

impl VerifyingKey {
    /// Decode a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<VerifyingKey> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)?;
        VerifyingKey::from_spki(&spki)
    }

    /// Decode a PEM `PUBLIC KEY`.
    pub fn from_spki_pem(pem: &str) -> Result<VerifyingKey> {
        let der = pem_decode(pem, PEM_PUBLIC_KEY)?;
        VerifyingKey::from_spki_der(&der)
    }

    /// Interpret a SubjectPublicKeyInfo: composite and ML-DSA keys MUST have absent parameters;
    /// prototype composite OIDs are refused by name.
    pub fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<VerifyingKey> {
        let aid = &spki.algorithm;
        let o = aid.oid;
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(Error::InvalidPublicKey {
                alg: "SubjectPublicKeyInfo",
                reason: "subjectPublicKey BIT STRING has unused bits",
            })?;
        if let Some(arc) = oid::prototype_arc(&o) {
            return Err(Error::PrototypeOid { oid: o, arc });
        }
        let kind = if o == oid::EC_PUBLIC_KEY {
            let curve_oid = aid
                .parameters
                .ok_or(Error::InvalidParameters {
                    oid: o,
                    reason: "id-ecPublicKey requires namedCurve parameters",
                })?
                .decode_as::<const_oid::ObjectIdentifier>()
                .map_err(|_| Error::InvalidParameters {
                    oid: o,
                    reason: "only namedCurve parameters are supported",
                })?;
            let curve = Curve::from_oid(&curve_oid).ok_or(Error::UnknownOid(curve_oid))?;
            trad::check_public_key(
                TradAlg::Ecdsa {
                    curve,
                    hash: HashAlg::Sha256,
                },
                bytes,
            )?;
            KeyKind::Ec(curve)
        } else if o == oid::ED25519 {
            params_absent(aid)?;
            trad::check_public_key(TradAlg::Ed25519, bytes)?;
            KeyKind::Ed25519
        } else if o == oid::ED448 {
            params_absent(aid)?;
            trad::check_public_key(TradAlg::Ed448, bytes)?;
            KeyKind::Ed448
        } else if o == oid::RSA_ENCRYPTION || o == oid::RSASSA_PSS {
            if o == oid::RSA_ENCRYPTION {
                params_null_or_absent(aid)?;
            }
            let bits = trad::rsa_modulus_bits(bytes).ok_or(Error::InvalidPublicKey {
                alg: "RSA",
                reason: "not a DER RSAPublicKey",
            })?;
            if !(2048..=8192).contains(&bits) {
                return Err(Error::InvalidPublicKey {
                    alg: "RSA",
                    reason: "modulus outside 2048..8192 bits",
                });
            }
            KeyKind::Rsa {
                bits,
                pss: o == oid::RSASSA_PSS,
            }
        } else {
            let alg = Algorithm::from_pq_oid(&o)?;
            params_absent(aid)?;
            match alg {
                Algorithm::MlDsa(l) => {
                    mldsa::check_public_key(l, bytes)?;
                    KeyKind::MlDsa(l)
                }
                Algorithm::Composite(c) => {
                    composite::split_public_key(c.params(), bytes)?;
                    KeyKind::Composite(c)
                }
                Algorithm::Classical(_) => return Err(Error::UnknownOid(o)),
            }
        };
        let alg = match kind {
            KeyKind::MlDsa(l) => Some(Algorithm::MlDsa(l)),
            KeyKind::Composite(c) => Some(Algorithm::Composite(c)),
            k => default_classical(k),
        };
        Ok(VerifyingKey {
            kind,
            bytes: bytes.to_vec(),
            alg,
        })
    }

    /// Build a key from its raw encoding (ML-DSA pk, composite `mldsaPK || tradPK`, EC point,
    /// Ed25519/Ed448 raw, RSA RSAPublicKey) for a known algorithm.
    pub fn from_raw(alg: Algorithm, bytes: &[u8]) -> Result<VerifyingKey> {
        let kind = match alg {
            Algorithm::MlDsa(l) => {
                mldsa::check_public_key(l, bytes)?;
                KeyKind::MlDsa(l)
            }
            Algorithm::Composite(c) => {
                composite::split_public_key(c.params(), bytes)?;
                KeyKind::Composite(c)
            }
            Algorithm::Classical(c) => {
                let t = c.params();
                trad::check_public_key(t, bytes)?;
                trad_kind(t)
            }
        };
        Ok(VerifyingKey {
            kind,
            bytes: bytes.to_vec(),
            alg: Some(alg),
        })
    }

    /// The key kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The algorithm this key signs with, when known (always for ML-DSA and composites; for
    /// classical keys from SPKI, the conventional one for the curve or RSA size).
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The raw public key (the subjectPublicKey BIT STRING contents).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// For a composite key, the ML-DSA and traditional component public keys.
    pub fn composite_components(&self) -> Option<(&[u8], &[u8])> {
        match self.kind {
            KeyKind::Composite(c) => composite::split_public_key(c.params(), &self.bytes).ok(),
            _ => None,
        }
    }

    /// The SPKI AlgorithmIdentifier of this key.
    pub fn spki_algorithm(&self) -> Result<AlgorithmIdentifierOwned> {
        Ok(match self.kind {
            KeyKind::MlDsa(l) => AlgorithmIdentifierOwned {
                oid: l.oid(),
                parameters: None,
            },
            KeyKind::Composite(c) => AlgorithmIdentifierOwned {
                oid: c.params().oid(),
                parameters: None,
            },
            KeyKind::Ec(curve) => AlgorithmIdentifierOwned {
                oid: oid::EC_PUBLIC_KEY,
                parameters: Some(der::Any::encode_from(&curve.oid())?),
            },
            KeyKind::Ed25519 => AlgorithmIdentifierOwned {
                oid: oid::ED25519,
                parameters: None,
            },
            KeyKind::Ed448 => AlgorithmIdentifierOwned {
                oid: oid::ED448,
                parameters: None,
            },
            KeyKind::Rsa { pss: false, .. } => AlgorithmIdentifierOwned {
                oid: oid::RSA_ENCRYPTION,
                parameters: Some(der::Any::null()),
            },
            KeyKind::Rsa { pss: true, .. } => AlgorithmIdentifierOwned {
                oid: oid::RSASSA_PSS,
                parameters: None,
            },
        })
    }

    /// The SubjectPublicKeyInfo.
    pub fn to_spki(&self) -> Result<SubjectPublicKeyInfoOwned> {
        Ok(SubjectPublicKeyInfoOwned {
            algorithm: self.spki_algorithm()?,
            subject_public_key: BitString::from_bytes(&self.bytes)?,
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        Ok(self.to_spki()?.to_der()?)
    }

    /// PEM `PUBLIC KEY`.
    pub fn to_spki_pem(&self) -> Result<String> {
        pem_encode(PEM_PUBLIC_KEY, &self.to_spki_der()?)
    }

    /// Verify with the key's own algorithm and an empty context.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.verify_with_context(msg, b"", sig)
    }

    /// Verify with the key's own algorithm and context `ctx` (ML-DSA and composites; classical
    /// algorithms have no context and refuse a non-empty one).
    pub fn verify_with_context(&self, msg: &[u8], ctx: &[u8], sig: &[u8]) -> Result<()> {
        match self.kind {
            KeyKind::MlDsa(l) => mldsa::verify(l, &self.bytes, msg, ctx, sig),
            KeyKind::Composite(c) => composite::verify(c.params(), &self.bytes, msg, ctx, sig),
            _ => {
                if !ctx.is_empty() {
                    return Err(Error::AlgorithmMismatch {
                        key: format!("{:?}", self.kind),
                        signature: "a signature with a context string".into(),
                    });
                }
                let alg = self.alg.ok_or(Error::AlgorithmMismatch {
                    key: format!("{:?}", self.kind),
                    signature: "(unspecified: use verify_x509 with an AlgorithmIdentifier)".into(),
                })?;
                match alg {
                    Algorithm::Classical(c) => trad::verify(c.params(), &self.bytes, msg, sig),
                    _ => Err(Error::AlgorithmMismatch {
                        key: format!("{:?}", self.kind),
                        signature: alg.name().into(),
                    }),
                }
            }
        }
    }

    /// Verify a composite signature over a pre-hashed message PH(M).
    pub fn verify_prehash(&self, ph: &[u8], ctx: &[u8], sig: &[u8]) -> Result<()> {
        match self.kind {
            KeyKind::Composite(c) => {
                composite::verify_prehash(c.params(), &self.bytes, ph, ctx, sig)
            }
            _ => Err(Error::AlgorithmMismatch {
                key: format!("{:?}", self.kind),
                signature: "composite pre-hashed verification".into(),
            }),
        }
    }

    /// The algorithm a signature with AlgorithmIdentifier `sig_alg` made by this key uses, if it
    /// is one of [`Algorithm::all`] (e.g. an RSA-2048 key with id-RSASSA-PSS/SHA-256 gives
    /// `rsa2048-pss-sha256`).
    pub fn algorithm_for(&self, sig_alg: &AlgorithmIdentifierOwned) -> Option<Algorithm> {
        let o = sig_alg.oid;
        let hash_of = |x| match x {
            x if x == oid::ECDSA_WITH_SHA256 || x == oid::SHA256_WITH_RSA => Some(HashAlg::Sha256),
            x if x == oid::ECDSA_WITH_SHA384 || x == oid::SHA384_WITH_RSA => Some(HashAlg::Sha384),
            x if x == oid::ECDSA_WITH_SHA512 || x == oid::SHA512_WITH_RSA => Some(HashAlg::Sha512),
            _ => None,
        };
        match self.kind {
            KeyKind::MlDsa(_) | KeyKind::Composite(_) => self.alg.filter(|a| a.oid() == o),
            KeyKind::Ec(curve) => Algorithm::classical(TradAlg::Ecdsa {
                curve,
                hash: hash_of(o)?,
            }),
            KeyKind::Ed25519 if o == oid::ED25519 => Algorithm::classical(TradAlg::Ed25519),
            KeyKind::Ed448 if o == oid::ED448 => Algorithm::classical(TradAlg::Ed448),
            KeyKind::Rsa { bits, .. } => {
                let bits = u16::try_from(bits).ok()?;
                let (padding, hash) = if o == oid::RSASSA_PSS {
                    let p = sig_alg.parameters.as_ref()?.to_der().ok()?;
                    (RsaPadding::Pss, trad::parse_pss_params(&p)?)
                } else {
                    (RsaPadding::Pkcs1v15, hash_of(o)?)
                };
                Algorithm::classical(TradAlg::Rsa {
                    bits,
                    padding,
                    hash,
                })
            }
            _ => None,
        }
    }

    /// Verify an X.509-style signature: `sig_alg` is the signatureAlgorithm of a certificate,
    /// CSR, CRL or OCSP response; composites and ML-DSA use ctx "".
    pub fn verify_x509(
        &self,
        sig_alg: &AlgorithmIdentifierOwned,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<()> {
        use der::referenced::OwnedToRef;
        let sig_alg = &sig_alg.owned_to_ref();
        let o = sig_alg.oid;
        let mismatch = || Error::AlgorithmMismatch {
            key: format!("{:?}", self.kind),
            signature: o.to_string(),
        };
        if let Some(arc) = oid::prototype_arc(&o) {
            return Err(Error::PrototypeOid { oid: o, arc });
        }
        let ec_hash = match o {
            x if x == oid::ECDSA_WITH_SHA256 => Some(HashAlg::Sha256),
            x if x == oid::ECDSA_WITH_SHA384 => Some(HashAlg::Sha384),
            x if x == oid::ECDSA_WITH_SHA512 => Some(HashAlg::Sha512),
            _ => None,
        };
        let rsa_hash = match o {
            x if x == oid::SHA256_WITH_RSA => Some(HashAlg::Sha256),
            x if x == oid::SHA384_WITH_RSA => Some(HashAlg::Sha384),
            x if x == oid::SHA512_WITH_RSA => Some(HashAlg::Sha512),
            _ => None,
        };
        if let Some(hash) = ec_hash {
            params_absent(sig_alg)?;
            let KeyKind::Ec(curve) = self.kind else {
                return Err(mismatch());
            };
            return trad::verify(TradAlg::Ecdsa { curve, hash }, &self.bytes, msg, sig);
        }
        if let Some(hash) = rsa_hash {
            params_null_or_absent(sig_alg)?;
            let KeyKind::Rsa { bits, pss: false } = self.kind else {
                return Err(mismatch());
            };
            let t = TradAlg::Rsa {
                bits: u16::try_from(bits).map_err(|_| mismatch())?,
                padding: RsaPadding::Pkcs1v15,
                hash,
            };
            return trad::verify(t, &self.bytes, msg, sig);
        }
        if o == oid::RSASSA_PSS {
            let KeyKind::Rsa { bits, .. } = self.kind else {
                return Err(mismatch());
            };
            let params = sig_alg.parameters.ok_or(Error::InvalidParameters {
                oid: o,
                reason: "RSASSA-PSS requires parameters",
            })?;
            let hash = trad::parse_pss_params(&params.to_der()?).ok_or(Error::InvalidParameters {
                oid: o,
                reason: "unsupported RSASSA-PSS parameters (need MGF1 with the same hash and salt = hash length)",
            })?;
            let t = TradAlg::Rsa {
                bits: u16::try_from(bits).map_err(|_| mismatch())?,
                padding: RsaPadding::Pss,
                hash,
            };
            return trad::verify(t, &self.bytes, msg, sig);
        }
        if o == oid::ED25519 || o == oid::ED448 {
            params_absent(sig_alg)?;
            let t = match self.kind {
                KeyKind::Ed25519 if o == oid::ED25519 => TradAlg::Ed25519,
                KeyKind::Ed448 if o == oid::ED448 => TradAlg::Ed448,
                _ => return Err(mismatch()),
            };
            return trad::verify(t, &self.bytes, msg, sig);
        }
        let alg = Algorithm::from_pq_oid(&o)?;
        params_absent(sig_alg)?;
        match (alg, self.kind) {
            (Algorithm::MlDsa(a), KeyKind::MlDsa(b)) if a == b => {
                mldsa::verify(a, &self.bytes, msg, b"", sig)
            }
            (Algorithm::Composite(a), KeyKind::Composite(b)) if a == b => {
                composite::verify(a.params(), &self.bytes, msg, b"", sig)
            }
            _ => Err(mismatch()),
        }
    }
}

fn trad_kind(t: TradAlg) -> KeyKind {
    match t {
        TradAlg::Ecdsa { curve, .. } => KeyKind::Ec(curve),
        TradAlg::Ed25519 => KeyKind::Ed25519,
        TradAlg::Ed448 => KeyKind::Ed448,
        TradAlg::Rsa { bits, .. } => KeyKind::Rsa {
            bits: usize::from(bits),
            pss: false,
        },
    }
}

impl EncodePublicKey for VerifyingKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        let spki = self.to_spki().map_err(|_| spki::Error::KeyMalformed)?;
        Ok(der::Document::encode_msg(&spki)?)
    }
}

impl signature::Verifier<Signature> for VerifyingKey {
    fn verify(&self, msg: &[u8], sig: &Signature) -> core::result::Result<(), signature::Error> {
        VerifyingKey::verify(self, msg, sig.as_bytes()).map_err(|_| signature::Error::new())
    }
}

impl TryFrom<SubjectPublicKeyInfoRef<'_>> for VerifyingKey {
    type Error = Error;
    fn try_from(spki: SubjectPublicKeyInfoRef<'_>) -> Result<Self> {
        VerifyingKey::from_spki(&spki)
    }
}

enum Inner {
    MlDsa(MlDsaKeyPair),
    Composite(CompositeSigningKey),
    Classical(TradSigningKey),
}

/// A private key of any supported algorithm. Secret material is zeroized on drop.
pub struct SigningKey {
    alg: Algorithm,
    inner: Inner,
    public: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn fill32<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    rng.try_fill_bytes(&mut b).map_err(|_| Error::Rng)?;
    Ok(b)
}

impl SigningKey {
    /// Generate a fresh key for `alg`, drawing randomness from `rng` (see [`crate::trad`] docs for
    /// the parts aws-lc draws itself: RSA primes).
    pub fn generate<R: TryCryptoRng + ?Sized>(alg: Algorithm, rng: &mut R) -> Result<SigningKey> {
        let inner = match alg {
            Algorithm::MlDsa(l) => {
                let seed = Zeroizing::new(fill32(rng)?);
                Inner::MlDsa(MlDsaKeyPair::from_seed(l, &seed))
            }
            Algorithm::Composite(c) => {
                Inner::Composite(CompositeSigningKey::generate(c.params(), rng)?)
            }
            Algorithm::Classical(c) => Inner::Classical(TradSigningKey::generate(c.params(), rng)?),
        };
        SigningKey::assemble(alg, inner)
    }

    /// Deterministic key generation from a seed, for the algorithms whose key generation is
    /// seed-based: ML-DSA (ξ) only.
    pub fn mldsa_from_seed(level: MlDsaLevel, seed: &[u8; 32]) -> Result<SigningKey> {
        SigningKey::assemble(
            Algorithm::MlDsa(level),
            Inner::MlDsa(MlDsaKeyPair::from_seed(level, seed)),
        )
    }

    fn assemble(alg: Algorithm, inner: Inner) -> Result<SigningKey> {
        let bytes = match &inner {
            Inner::MlDsa(k) => k.public_key().to_vec(),
            Inner::Composite(k) => k.public_bytes(),
            Inner::Classical(k) => k.public_bytes().to_vec(),
        };
        let public = VerifyingKey::from_raw(alg, &bytes)?;
        Ok(SigningKey { alg, inner, public })
    }

    /// Import the algorithm-specific raw private key: the ML-DSA 32-byte seed, the composite
    /// `seed || tradSK` (draft-19 §5.2), or the classical component encoding.
    pub fn from_raw(alg: Algorithm, bytes: &[u8]) -> Result<SigningKey> {
        let inner = match alg {
            Algorithm::MlDsa(l) => {
                let seed: &[u8; 32] = bytes.try_into().map_err(|_| Error::InvalidPrivateKey {
                    alg: l.name(),
                    reason: "seed must be 32 bytes",
                })?;
                Inner::MlDsa(MlDsaKeyPair::from_seed(l, seed))
            }
            Algorithm::Composite(c) => {
                Inner::Composite(CompositeSigningKey::from_bytes(c.params(), bytes)?)
            }
            Algorithm::Classical(c) => {
                Inner::Classical(TradSigningKey::from_private(c.params(), bytes)?)
            }
        };
        SigningKey::assemble(alg, inner)
    }

    /// The raw private key as [`SigningKey::from_raw`] reads it.
    pub fn to_raw(&self) -> Result<Zeroizing<Vec<u8>>> {
        match &self.inner {
            Inner::MlDsa(k) => Ok(Zeroizing::new(
                k.seed()
                    .ok_or(Error::InvalidPrivateKey {
                        alg: k.level().name(),
                        reason: "key was imported without its seed",
                    })?
                    .to_vec(),
            )),
            Inner::Composite(k) => k.to_bytes(),
            Inner::Classical(k) => Ok(Zeroizing::new(k.private_bytes().to_vec())),
        }
    }

    /// Decode PKCS#8 (RFC 5958) DER. For classical RSA keys under rsaEncryption (which does not
    /// say which padding the key is for) RSA-PSS is assumed; use [`SigningKey::from_pkcs8_der_as`]
    /// to choose.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey> {
        SigningKey::from_pkcs8_inner(der, None)
    }

    /// Decode PKCS#8 DER for a given algorithm (the key type must match).
    pub fn from_pkcs8_der_as(alg: Algorithm, der: &[u8]) -> Result<SigningKey> {
        SigningKey::from_pkcs8_inner(der, Some(alg))
    }

    fn from_pkcs8_inner(der: &[u8], want: Option<Algorithm>) -> Result<SigningKey> {
        let k = OneAsymmetricKeyRef::parse(der)?;
        let aid = &k.algorithm;
        let o = aid.oid;
        let pk = k.private_key.as_bytes();
        if let Some(arc) = oid::prototype_arc(&o) {
            return Err(Error::PrototypeOid { oid: o, arc });
        }
        let classical = |t: TradAlg| -> Result<Algorithm> {
            let found = Algorithm::classical(t).ok_or(Error::UnknownOid(o))?;
            match want {
                Some(w @ Algorithm::Classical(c)) if trad_kind(c.params()) == trad_kind(t) => Ok(w),
                Some(w) => Err(Error::AlgorithmMismatch {
                    key: found.name().into(),
                    signature: w.name().into(),
                }),
                None => Ok(found),
            }
        };
        let key = if o == oid::EC_PUBLIC_KEY {
            let curve_oid = aid
                .parameters
                .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
                .ok_or(Error::InvalidParameters {
                    oid: o,
                    reason: "id-ecPublicKey requires namedCurve parameters",
                })?;
            let curve = Curve::from_oid(&curve_oid).ok_or(Error::UnknownOid(curve_oid))?;
            let default =
                default_classical(KeyKind::Ec(curve)).ok_or(Error::UnknownOid(curve_oid))?;
            let alg = classical(match default {
                Algorithm::Classical(c) => c.params(),
                _ => return Err(Error::UnknownOid(curve_oid)),
            })?;
            let canon = trad::ec_private_with_curve(curve, pk)?;
            SigningKey::from_raw(alg, &canon)?
        } else if o == oid::ED25519 {
            params_absent(aid)?;
            let alg = classical(TradAlg::Ed25519)?;
            SigningKey::from_raw(alg, pkcs8::decode_curve_private(pk)?)?
        } else if o == oid::RSA_ENCRYPTION || o == oid::RSASSA_PSS {
            if o == oid::RSA_ENCRYPTION {
                params_null_or_absent(aid)?;
            }
            let kp = aws_lc_rs::signature::RsaKeyPair::from_der(pk).map_err(|_| {
                Error::InvalidPrivateKey {
                    alg: "RSA",
                    reason: "not a valid DER RSAPrivateKey",
                }
            })?;
            let bits = kp.public_modulus_len() * 8;
            let default = default_classical(KeyKind::Rsa { bits, pss: true }).ok_or(
                Error::InvalidPrivateKey {
                    alg: "RSA",
                    reason: "modulus size is not 2048, 3072 or 4096 bits",
                },
            )?;
            let alg = match default {
                Algorithm::Classical(c) => classical(c.params())?,
                _ => default,
            };
            SigningKey::from_raw(alg, pk)?
        } else {
            let alg = Algorithm::from_pq_oid(&o)?;
            params_absent(aid)?;
            if let Some(w) = want
                && w != alg
            {
                return Err(Error::AlgorithmMismatch {
                    key: alg.name().into(),
                    signature: w.name().into(),
                });
            }
            match alg {
                Algorithm::MlDsa(l) => {
                    let kp = match pkcs8::decode_mldsa_private(l, pk)? {
                        MlDsaPrivate::Seed(s) => MlDsaKeyPair::from_seed(l, s),
                        MlDsaPrivate::Expanded(e) => MlDsaKeyPair::from_expanded(l, e)?,
                        MlDsaPrivate::Both(s, e) => {
                            let kp = MlDsaKeyPair::from_seed(l, s);
                            if kp.expanded_bytes() != e {
                                return Err(Error::InvalidPrivateKey {
                                    alg: l.name(),
                                    reason: "both: seed and expandedKey do not match",
                                });
                            }
                            kp
                        }
                    };
                    SigningKey::assemble(alg, Inner::MlDsa(kp))?
                }
                _ => SigningKey::from_raw(alg, pk)?,
            }
        };
        if let Some(given) = k.public_key
            && given.as_bytes() != Some(key.public.as_bytes())
        {
            return Err(Error::InvalidPrivateKey {
                alg: key.alg.name(),
                reason: "OneAsymmetricKey publicKey does not match the private key",
            });
        }
        Ok(key)
    }

    /// Encode PKCS#8 DER (v0 PrivateKeyInfo). ML-DSA keys are written in the RFC 9881 seed form.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.to_pkcs8_der_with(MlDsaKeyForm::Seed)
    }

    /// Encode PKCS#8 DER choosing the RFC 9881 form for ML-DSA keys (ignored for other keys).
    pub fn to_pkcs8_der_with(&self, form: MlDsaKeyForm) -> Result<Zeroizing<Vec<u8>>> {
        let absent = |oid| AlgorithmIdentifierRef {
            oid,
            parameters: None,
        };
        match &self.inner {
            Inner::MlDsa(k) => {
                let body = pkcs8::encode_mldsa_private(
                    form,
                    k.seed(),
                    k.expanded_bytes(),
                    k.level().name(),
                )?;
                pkcs8::encode(absent(k.level().oid()), &body)
            }
            Inner::Composite(k) => pkcs8::encode(absent(k.params().oid()), &k.to_bytes()?),
            Inner::Classical(k) => match k.alg() {
                TradAlg::Ecdsa { curve, .. } => {
                    let curve_der = curve.oid().to_der()?;
                    let params = AnyRef::from_der(&curve_der)?;
                    pkcs8::encode(
                        AlgorithmIdentifierRef {
                            oid: oid::EC_PUBLIC_KEY,
                            parameters: Some(params),
                        },
                        k.private_bytes(),
                    )
                }
                TradAlg::Ed25519 => pkcs8::encode(
                    absent(oid::ED25519),
                    &pkcs8::encode_curve_private(k.private_bytes())?,
                ),
                TradAlg::Ed448 => pkcs8::encode(
                    absent(oid::ED448),
                    &pkcs8::encode_curve_private(k.private_bytes())?,
                ),
                TradAlg::Rsa { .. } => pkcs8::encode(
                    AlgorithmIdentifierRef {
                        oid: oid::RSA_ENCRYPTION,
                        parameters: Some(AnyRef::NULL),
                    },
                    k.private_bytes(),
                ),
            },
        }
    }

    /// Decode a PEM `PRIVATE KEY`.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey> {
        let der = Zeroizing::new(pem_decode(pem, PEM_PRIVATE_KEY)?);
        SigningKey::from_pkcs8_der(&der)
    }

    /// Encode a PEM `PRIVATE KEY`.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        Ok(Zeroizing::new(pem_encode(
            PEM_PRIVATE_KEY,
            &self.to_pkcs8_der()?,
        )?))
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Sign `msg` with empty context. ML-DSA (alone or inside a composite) uses the hedged variant
    /// with randomness from `rng`.
    pub fn sign<R: TryCryptoRng + ?Sized>(&self, msg: &[u8], rng: &mut R) -> Result<Signature> {
        self.sign_with_context(msg, b"", rng)
    }

    /// Sign `msg` with context `ctx` (≤ 255 bytes; ML-DSA and composites only).
    pub fn sign_with_context<R: TryCryptoRng + ?Sized>(
        &self,
        msg: &[u8],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Signature> {
        let rnd = fill32(rng)?;
        self.sign_rnd(msg, ctx, rnd)
    }

    /// Sign deterministically: ML-DSA with rnd = 0^32 (the FIPS 204 deterministic variant).
    /// ECDSA on NIST curves and RSA-PSS still draw their nonce/salt inside aws-lc.
    pub fn sign_deterministic(&self, msg: &[u8], ctx: &[u8]) -> Result<Signature> {
        self.sign_rnd(msg, ctx, [0u8; 32])
    }

    fn sign_rnd(&self, msg: &[u8], ctx: &[u8], rnd: [u8; 32]) -> Result<Signature> {
        match &self.inner {
            Inner::MlDsa(k) => k.sign(msg, ctx, rnd).map(Signature),
            Inner::Composite(k) => k.sign(msg, ctx, rnd).map(Signature),
            Inner::Classical(k) => {
                if !ctx.is_empty() {
                    return Err(Error::AlgorithmMismatch {
                        key: self.alg.name().into(),
                        signature: "a signature with a context string".into(),
                    });
                }
                k.sign(msg).map(Signature)
            }
        }
    }

    /// Composite `Sign_ph`: sign an already computed PH(M); the output equals signing M.
    pub fn sign_prehash<R: TryCryptoRng + ?Sized>(
        &self,
        ph: &[u8],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Signature> {
        match &self.inner {
            Inner::Composite(k) => k.sign_prehash(ph, ctx, fill32(rng)?).map(Signature),
            _ => Err(Error::AlgorithmMismatch {
                key: self.alg.name().into(),
                signature: "composite pre-hashed signing".into(),
            }),
        }
    }

    /// The signatureAlgorithm this key produces (params absent for ML-DSA, composites, ECDSA and
    /// EdDSA; NULL for PKCS#1 v1.5; RFC 4055 parameters for PSS).
    pub fn signature_algorithm(&self) -> Result<AlgorithmIdentifierOwned> {
        let o = self.alg.oid();
        let parameters = match self.alg {
            Algorithm::Classical(c) => match c.params() {
                TradAlg::Rsa {
                    padding: RsaPadding::Pss,
                    hash,
                    ..
                } => Some(der::Any::from_der(&trad::pss_params_der(hash)?)?),
                TradAlg::Rsa { .. } => Some(der::Any::null()),
                _ => None,
            },
            _ => None,
        };
        Ok(AlgorithmIdentifierOwned { oid: o, parameters })
    }

    /// For composites, the traditional component's algorithm (for `pki inspect`).
    pub fn composite_trad_alg(&self) -> Option<TradAlg> {
        match &self.inner {
            Inner::Composite(k) => Some(k.trad().alg()),
            _ => None,
        }
    }
}

impl signature::Keypair for SigningKey {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        self.public.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for SigningKey {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        self.signature_algorithm()
            .map_err(|_| spki::Error::AlgorithmParametersMissing)
    }
}

/// Deterministic signing (ML-DSA rnd = 0^32); prefer [`signature::RandomizedSigner`].
impl signature::Signer<Signature> for SigningKey {
    fn try_sign(&self, msg: &[u8]) -> core::result::Result<Signature, signature::Error> {
        self.sign_deterministic(msg, b"")
            .map_err(|_| signature::Error::new())
    }
}

impl signature::RandomizedSigner<Signature> for SigningKey {
    fn try_sign_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        msg: &[u8],
    ) -> core::result::Result<Signature, signature::Error> {
        self.sign(msg, rng).map_err(|_| signature::Error::new())
    }
}

/// Decode a PEM document with the expected label.
pub fn pem_decode(pem: &str, label: &'static str) -> Result<Vec<u8>> {
    let (got, der) = der::pem::decode_vec(pem.trim().as_bytes())?;
    if got != label {
        return Err(Error::PemLabel {
            expected: label,
            got: got.to_owned(),
        });
    }
    Ok(der)
}

/// Encode DER as PEM with `label` and LF line endings.
pub fn pem_encode(label: &'static str, der: &[u8]) -> Result<String> {
    Ok(der::pem::encode_string(
        label,
        der::pem::LineEnding::LF,
        der,
    )?)
}
