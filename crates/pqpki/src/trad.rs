//! Traditional (pre-quantum) signature components: ECDSA (NIST and brainpool curves), Ed25519,
//! Ed448 and RSA (PSS, PKCS#1 v1.5). Used as the second component of a composite and as the
//! standalone classical algorithms.
//!
//! Backends: aws-lc-rs for P-256/P-384/P-521, Ed25519 and RSA; RustCrypto `bp256`/`bp384` for
//! brainpool and `ed448-goldilocks` for Ed448 (aws-lc-rs has neither).
//!
//! Encodings (draft-19 §5): ECDSA public key = uncompressed point `04||X||Y`, signature = DER
//! Ecdsa-Sig-Value, private key = DER ECPrivateKey (RFC 5915) with `[0]` named-curve parameters
//! and without `[1]` publicKey; Ed25519/Ed448 raw (RFC 8032); RSA public key = DER RSAPublicKey,
//! private key = DER RSAPrivateKey, signature = k-byte I2OSP.
//!
//! Randomness: EC and EdDSA private keys are drawn from the caller's RNG. RSA primes, ECDSA
//! nonces on NIST curves and PSS salts come from aws-lc's own DRBG (its API takes no RNG); brainpool
//! ECDSA uses deterministic RFC 6979 nonces.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as awssig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, UintRef};
use der::{Decode, Encode, Sequence};
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::alg::{Curve, HashAlg, RsaPadding, TradAlg};
use crate::error::{Error, Result};
use crate::oid;

/// RFC 5915 ECPrivateKey.
#[derive(Sequence)]
struct EcPrivateKey {
    version: u8,
    private_key: OctetString,
    #[asn1(context_specific = "0", optional = "true")]
    parameters: Option<ObjectIdentifier>,
    #[asn1(context_specific = "1", optional = "true")]
    public_key: Option<BitString>,
}

/// RFC 8017 RSAPublicKey (only what we need to check the modulus size).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// PKCS#8 PrivateKeyInfo, to pull RSAPrivateKey out of aws-lc's export.
#[derive(Sequence)]
struct PrivateKeyInfoLite {
    version: u8,
    algorithm: spki::AlgorithmIdentifierOwned,
    private_key: OctetString,
}

enum Inner {
    Ec(EcdsaKeyPair),
    Bp256(Box<ecdsa::SigningKey<bp256::BrainpoolP256r1>>),
    Bp384(Box<ecdsa::SigningKey<bp384::BrainpoolP384r1>>),
    Ed25519(Ed25519KeyPair),
    Ed448(Box<ed448_goldilocks::SigningKey>),
    Rsa(RsaKeyPair),
}

/// A traditional signing key with its component encodings (zeroized on drop). Composite keys
/// hold one; it is public for inspection and benchmarks, not for building composites from
/// existing keys.
pub struct TradSigningKey {
    alg: TradAlg,
    inner: Inner,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl core::fmt::Debug for TradSigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TradSigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn aws_ec_signing(curve: Curve, hash: HashAlg) -> Option<&'static awssig::EcdsaSigningAlgorithm> {
    Some(match (curve, hash) {
        (Curve::P256, HashAlg::Sha256) => &awssig::ECDSA_P256_SHA256_ASN1_SIGNING,
        (Curve::P384, HashAlg::Sha384) => &awssig::ECDSA_P384_SHA384_ASN1_SIGNING,
        (Curve::P521, HashAlg::Sha512) => &awssig::ECDSA_P521_SHA512_ASN1_SIGNING,
        (Curve::P521, HashAlg::Sha384) => &awssig::ECDSA_P521_SHA384_ASN1_SIGNING,
        (Curve::P521, HashAlg::Sha256) => &awssig::ECDSA_P521_SHA256_ASN1_SIGNING,
        _ => return None,
    })
}

fn aws_ec_verify(
    curve: Curve,
    hash: HashAlg,
) -> Option<&'static awssig::EcdsaVerificationAlgorithm> {
    Some(match (curve, hash) {
        (Curve::P256, HashAlg::Sha256) => &awssig::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, HashAlg::Sha384) => &awssig::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, HashAlg::Sha512) => &awssig::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, HashAlg::Sha256) => &awssig::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, HashAlg::Sha384) => &awssig::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, HashAlg::Sha512) => &awssig::ECDSA_P384_SHA512_ASN1,
        (Curve::P521, HashAlg::Sha256) => &awssig::ECDSA_P521_SHA256_ASN1,
        (Curve::P521, HashAlg::Sha384) => &awssig::ECDSA_P521_SHA384_ASN1,
        (Curve::P521, HashAlg::Sha512) => &awssig::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

fn aws_rsa_signing(padding: RsaPadding, hash: HashAlg) -> &'static dyn awssig::RsaEncoding {
    match (padding, hash) {
        (RsaPadding::Pss, HashAlg::Sha256) => &awssig::RSA_PSS_SHA256,
        (RsaPadding::Pss, HashAlg::Sha384) => &awssig::RSA_PSS_SHA384,
        (RsaPadding::Pss, HashAlg::Sha512) => &awssig::RSA_PSS_SHA512,
        (RsaPadding::Pkcs1v15, HashAlg::Sha256) => &awssig::RSA_PKCS1_SHA256,
        (RsaPadding::Pkcs1v15, HashAlg::Sha384) => &awssig::RSA_PKCS1_SHA384,
        (RsaPadding::Pkcs1v15, HashAlg::Sha512) => &awssig::RSA_PKCS1_SHA512,
    }
}

fn aws_rsa_verify(padding: RsaPadding, hash: HashAlg) -> &'static awssig::RsaParameters {
    match (padding, hash) {
        (RsaPadding::Pss, HashAlg::Sha256) => &awssig::RSA_PSS_2048_8192_SHA256,
        (RsaPadding::Pss, HashAlg::Sha384) => &awssig::RSA_PSS_2048_8192_SHA384,
        (RsaPadding::Pss, HashAlg::Sha512) => &awssig::RSA_PSS_2048_8192_SHA512,
        (RsaPadding::Pkcs1v15, HashAlg::Sha256) => &awssig::RSA_PKCS1_2048_8192_SHA256,
        (RsaPadding::Pkcs1v15, HashAlg::Sha384) => &awssig::RSA_PKCS1_2048_8192_SHA384,
        (RsaPadding::Pkcs1v15, HashAlg::Sha512) => &awssig::RSA_PKCS1_2048_8192_SHA512,
    }
}

fn fill<R: TryCryptoRng + ?Sized>(rng: &mut R, buf: &mut [u8]) -> Result<()> {
    rng.try_fill_bytes(buf).map_err(|_| Error::Rng)
}

fn encode_ec_private_key(curve: Curve, scalar: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let k = EcPrivateKey {
        version: 1,
        private_key: OctetString::new(scalar)?,
        parameters: Some(curve.oid()),
        public_key: None,
    };
    Ok(Zeroizing::new(k.to_der()?))
}

impl TradSigningKey {
    /// Fresh key for `alg`.
    pub fn generate<R: TryCryptoRng + ?Sized>(alg: TradAlg, rng: &mut R) -> Result<Self> {
        let name = alg.name();
        match alg {
            TradAlg::Ecdsa { curve, .. } => {
                // Rejection sampling of the scalar: values >= n or zero are refused by the
                // backends; for every supported curve the chance of 64 rejections is negligible.
                for _ in 0..64 {
                    let mut s = Zeroizing::new(vec![0u8; curve.scalar_len()]);
                    fill(rng, &mut s)?;
                    if curve == Curve::P521 {
                        // n of P-521 is just below 2^521: keep the top 7 bits clear.
                        if let Some(b) = s.first_mut() {
                            *b &= 0x01;
                        }
                    }
                    let der = encode_ec_private_key(curve, &s)?;
                    if let Ok(k) = Self::from_private(alg, &der) {
                        return Ok(k);
                    }
                }
                Err(Error::KeyGeneration {
                    alg: name,
                    reason: "no valid scalar after 64 draws",
                })
            }
            TradAlg::Ed25519 => {
                let mut s = Zeroizing::new([0u8; 32]);
                fill(rng, &mut s[..])?;
                Self::from_private(alg, &s[..])
            }
            TradAlg::Ed448 => {
                let mut s = Zeroizing::new([0u8; 57]);
                fill(rng, &mut s[..])?;
                Self::from_private(alg, &s[..])
            }
            TradAlg::Rsa { bits, .. } => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    _ => {
                        return Err(Error::KeyGeneration {
                            alg: name,
                            reason: "unsupported RSA modulus size",
                        });
                    }
                };
                let kp = RsaKeyPair::generate(size).map_err(|_| Error::KeyGeneration {
                    alg: name,
                    reason: "aws-lc RSA key generation failed",
                })?;
                let pkcs8: Pkcs8V1Der<'_> = kp.as_der().map_err(|_| Error::KeyGeneration {
                    alg: name,
                    reason: "aws-lc RSA key export failed",
                })?;
                let info = PrivateKeyInfoLite::from_der(pkcs8.as_ref())?;
                let private = Zeroizing::new(info.private_key.as_bytes().to_vec());
                Self::from_private(alg, &private)
            }
        }
    }

    /// Import the component private key encoding (see module docs) for `alg`.
    pub fn from_private(alg: TradAlg, bytes: &[u8]) -> Result<Self> {
        let name = alg.name();
        let invalid = |reason| Error::InvalidPrivateKey { alg: name, reason };
        match alg {
            TradAlg::Ecdsa { curve, hash } => {
                let k =
                    EcPrivateKey::from_der(bytes).map_err(|_| invalid("not a DER ECPrivateKey"))?;
                if k.version != 1 {
                    return Err(invalid("ECPrivateKey version is not 1"));
                }
                match k.parameters {
                    Some(p) if p == curve.oid() => {}
                    Some(_) => return Err(invalid("ECPrivateKey names a different curve")),
                    None => {
                        return Err(invalid("ECPrivateKey lacks the [0] named-curve parameters"));
                    }
                }
                let scalar = Zeroizing::new(k.private_key.as_bytes().to_vec());
                if scalar.len() != curve.scalar_len() {
                    return Err(invalid("ECPrivateKey scalar has the wrong length"));
                }
                let canonical = encode_ec_private_key(curve, &scalar)?;
                let (inner, public) = match curve {
                    Curve::BrainpoolP256r1 => {
                        let sk = ecdsa::SigningKey::<bp256::BrainpoolP256r1>::from_slice(&scalar)
                            .map_err(|_| invalid("scalar out of range"))?;
                        let pk = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                        (Inner::Bp256(Box::new(sk)), pk)
                    }
                    Curve::BrainpoolP384r1 => {
                        let sk = ecdsa::SigningKey::<bp384::BrainpoolP384r1>::from_slice(&scalar)
                            .map_err(|_| invalid("scalar out of range"))?;
                        let pk = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                        (Inner::Bp384(Box::new(sk)), pk)
                    }
                    _ => {
                        let signing =
                            aws_ec_signing(curve, hash).ok_or(invalid("unsupported curve/hash"))?;
                        let kp = EcdsaKeyPair::from_private_key_der(signing, &canonical)
                            .map_err(|_| invalid("scalar out of range"))?;
                        let pk = kp.public_key().as_ref().to_vec();
                        (Inner::Ec(kp), pk)
                    }
                };
                if let Some(given) = &k.public_key
                    && given.as_bytes() != Some(&public[..])
                {
                    return Err(invalid(
                        "ECPrivateKey [1] publicKey does not match the scalar",
                    ));
                }
                Ok(TradSigningKey {
                    alg,
                    inner,
                    private: canonical,
                    public,
                })
            }
            TradAlg::Ed25519 => {
                if bytes.len() != 32 {
                    return Err(invalid("Ed25519 private key must be 32 raw bytes"));
                }
                let kp = Ed25519KeyPair::from_seed_unchecked(bytes)
                    .map_err(|_| invalid("rejected by aws-lc"))?;
                let public = kp.public_key().as_ref().to_vec();
                Ok(TradSigningKey {
                    alg,
                    inner: Inner::Ed25519(kp),
                    private: Zeroizing::new(bytes.to_vec()),
                    public,
                })
            }
            TradAlg::Ed448 => {
                if bytes.len() != 57 {
                    return Err(invalid("Ed448 private key must be 57 raw bytes"));
                }
                let sk = ed448_goldilocks::SigningKey::try_from(bytes)
                    .map_err(|_| invalid("Ed448 key rejected"))?;
                let public = sk.verifying_key().to_bytes().to_vec();
                Ok(TradSigningKey {
                    alg,
                    inner: Inner::Ed448(Box::new(sk)),
                    private: Zeroizing::new(bytes.to_vec()),
                    public,
                })
            }
            TradAlg::Rsa { bits, .. } => {
                let kp = RsaKeyPair::from_der(bytes)
                    .map_err(|_| invalid("not a valid DER RSAPrivateKey"))?;
                if kp.public_modulus_len() * 8 != usize::from(bits) {
                    return Err(invalid("RSA modulus has the wrong size for this algorithm"));
                }
                let public = kp.public_key().as_ref().to_vec();
                Ok(TradSigningKey {
                    alg,
                    inner: Inner::Rsa(kp),
                    private: Zeroizing::new(bytes.to_vec()),
                    public,
                })
            }
        }
    }

    pub fn alg(&self) -> TradAlg {
        self.alg
    }

    /// The component private key encoding.
    pub fn private_bytes(&self) -> &[u8] {
        &self.private
    }

    /// The component public key encoding.
    pub fn public_bytes(&self) -> &[u8] {
        &self.public
    }

    /// Trad.Sign(sk, msg): the algorithm hashes `msg` itself.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let alg = self.alg.name();
        let fail = |reason| Error::Signing { alg, reason };
        match (&self.inner, self.alg) {
            (Inner::Ec(kp), _) => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let s = kp
                    .sign(&rng, msg)
                    .map_err(|_| fail("aws-lc ECDSA failed"))?;
                Ok(s.as_ref().to_vec())
            }
            (Inner::Bp256(sk), _) => {
                let s: bp256::r1::ecdsa::DerSignature =
                    signature::Signer::try_sign(sk.as_ref(), msg)
                        .map_err(|_| fail("brainpool ECDSA failed"))?;
                Ok(s.as_bytes().to_vec())
            }
            (Inner::Bp384(sk), _) => {
                let s: bp384::r1::ecdsa::DerSignature =
                    signature::Signer::try_sign(sk.as_ref(), msg)
                        .map_err(|_| fail("brainpool ECDSA failed"))?;
                Ok(s.as_bytes().to_vec())
            }
            (Inner::Ed25519(kp), _) => Ok(kp.sign(msg).as_ref().to_vec()),
            (Inner::Ed448(sk), _) => Ok(sk.sign_raw(msg).to_bytes().to_vec()),
            (Inner::Rsa(kp), TradAlg::Rsa { padding, hash, .. }) => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(aws_rsa_signing(padding, hash), &rng, msg, &mut out)
                    .map_err(|_| fail("aws-lc RSA failed"))?;
                Ok(out)
            }
            (Inner::Rsa(_), _) => Err(fail("RSA key with non-RSA parameters")),
        }
    }
}

/// Check the structure of a component public key for `alg` (length, point format, RSA size).
pub fn check_public_key(alg: TradAlg, pk: &[u8]) -> Result<()> {
    let name = alg.name();
    let invalid = |reason| Error::InvalidPublicKey { alg: name, reason };
    match alg {
        TradAlg::Ecdsa { curve, .. } => {
            if pk.len() != curve.point_len() {
                return Err(Error::PublicKeyLength {
                    alg: name,
                    expected: "an uncompressed point (1 + 2 field elements)",
                    got: pk.len(),
                });
            }
            if pk.first() != Some(&0x04) {
                return Err(invalid("not an uncompressed point (04||X||Y)"));
            }
            Ok(())
        }
        TradAlg::Ed25519 => {
            if pk.len() != 32 {
                return Err(Error::PublicKeyLength {
                    alg: name,
                    expected: "32",
                    got: pk.len(),
                });
            }
            Ok(())
        }
        TradAlg::Ed448 => {
            let arr: &[u8; 57] = pk.try_into().map_err(|_| Error::PublicKeyLength {
                alg: name,
                expected: "57",
                got: pk.len(),
            })?;
            ed448_goldilocks::VerifyingKey::from_bytes(arr)
                .map_err(|_| invalid("not a valid Ed448 point"))?;
            Ok(())
        }
        TradAlg::Rsa { bits, .. } => {
            let n = rsa_modulus_bits(pk).ok_or(invalid("not a DER RSAPublicKey"))?;
            if n != usize::from(bits) {
                return Err(invalid("RSA modulus has the wrong size for this algorithm"));
            }
            Ok(())
        }
    }
}

/// Bit length of the modulus of a DER RSAPublicKey.
pub(crate) fn rsa_modulus_bits(pk: &[u8]) -> Option<usize> {
    let k = RsaPublicKey::from_der(pk).ok()?;
    let m = k.modulus.as_bytes();
    let first = *m.first()?;
    let _ = k.public_exponent;
    Some((m.len() - 1) * 8 + (8 - first.leading_zeros() as usize))
}

/// Trad.Verify(pk, msg, sig). RSA keys of any size from 2048 to 8192 bits verify here; callers
/// that need an exact size check it with [`check_public_key`].
pub fn verify(alg: TradAlg, pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<()> {
    let name = alg.name();
    let bad = Error::BadSignature {
        alg: name,
        component: None,
    };
    match alg {
        TradAlg::Ecdsa { curve, hash } => match curve {
            Curve::BrainpoolP256r1 => {
                use signature::Verifier;
                let vk = ecdsa::VerifyingKey::<bp256::BrainpoolP256r1>::from_sec1_bytes(pk)
                    .map_err(|_| Error::InvalidPublicKey {
                        alg: name,
                        reason: "not a point on brainpoolP256r1",
                    })?;
                let s = bp256::r1::ecdsa::DerSignature::try_from(sig)
                    .map_err(|_| bad_len(name, sig))?;
                if hash != HashAlg::Sha256 {
                    return Err(bad);
                }
                vk.verify(msg, &s).map_err(|_| bad)
            }
            Curve::BrainpoolP384r1 => {
                use signature::Verifier;
                let vk = ecdsa::VerifyingKey::<bp384::BrainpoolP384r1>::from_sec1_bytes(pk)
                    .map_err(|_| Error::InvalidPublicKey {
                        alg: name,
                        reason: "not a point on brainpoolP384r1",
                    })?;
                let s = bp384::r1::ecdsa::DerSignature::try_from(sig)
                    .map_err(|_| bad_len(name, sig))?;
                if hash != HashAlg::Sha384 {
                    return Err(bad);
                }
                vk.verify(msg, &s).map_err(|_| bad)
            }
            _ => {
                let v = aws_ec_verify(curve, hash).ok_or(Error::AlgorithmMismatch {
                    key: name.to_owned(),
                    signature: format!("{hash:?}"),
                })?;
                awssig::UnparsedPublicKey::new(v, pk)
                    .verify(msg, sig)
                    .map_err(|_| bad)
            }
        },
        TradAlg::Ed25519 => {
            if sig.len() != 64 {
                return Err(Error::SignatureLength {
                    alg: name,
                    expected: "64",
                    got: sig.len(),
                });
            }
            awssig::UnparsedPublicKey::new(&awssig::ED25519, pk)
                .verify(msg, sig)
                .map_err(|_| bad)
        }
        TradAlg::Ed448 => {
            let arr: &[u8; 57] = pk.try_into().map_err(|_| Error::PublicKeyLength {
                alg: name,
                expected: "57",
                got: pk.len(),
            })?;
            let vk = ed448_goldilocks::VerifyingKey::from_bytes(arr).map_err(|_| {
                Error::InvalidPublicKey {
                    alg: name,
                    reason: "not a valid Ed448 point",
                }
            })?;
            let s =
                ed448_goldilocks::Signature::try_from(sig).map_err(|_| Error::SignatureLength {
                    alg: name,
                    expected: "114",
                    got: sig.len(),
                })?;
            vk.verify_raw(&s, msg).map_err(|_| bad)
        }
        TradAlg::Rsa { padding, hash, .. } => {
            let bits = rsa_modulus_bits(pk).ok_or(Error::InvalidPublicKey {
                alg: name,
                reason: "not a DER RSAPublicKey",
            })?;
            if sig.len() != bits.div_ceil(8) {
                return Err(Error::SignatureLength {
                    alg: name,
                    expected: "the modulus length",
                    got: sig.len(),
                });
            }
            awssig::UnparsedPublicKey::new(aws_rsa_verify(padding, hash), pk)
                .verify(msg, sig)
                .map_err(|_| bad)
        }
    }
}

fn bad_len(alg: &'static str, sig: &[u8]) -> Error {
    Error::SignatureLength {
        alg,
        expected: "a DER Ecdsa-Sig-Value",
        got: sig.len(),
    }
}

/// The RSASSA-PSS AlgorithmIdentifier parameters (RFC 4055) for `hash`, salt = hash length.
pub(crate) fn pss_params_der(hash: HashAlg) -> Result<Vec<u8>> {
    use der::TagNumber;
    use der::asn1::ContextSpecific;
    use spki::AlgorithmIdentifierOwned as Aid;
    let h = Aid {
        oid: hash.oid(),
        parameters: Some(der::Any::null()),
    };
    let mgf = Aid {
        oid: oid::MGF1,
        parameters: Some(der::Any::encode_from(&h)?),
    };
    #[derive(Sequence)]
    struct PssParams {
        hash: ContextSpecific<Aid>,
        mgf: ContextSpecific<Aid>,
        salt: ContextSpecific<u32>,
    }
    let p = PssParams {
        hash: ContextSpecific {
            tag_number: TagNumber(0),
            tag_mode: der::TagMode::Explicit,
            value: h,
        },
        mgf: ContextSpecific {
            tag_number: TagNumber(1),
            tag_mode: der::TagMode::Explicit,
            value: mgf,
        },
        salt: ContextSpecific {
            tag_number: TagNumber(2),
            tag_mode: der::TagMode::Explicit,
            value: hash.output_len() as u32,
        },
    };
    Ok(p.to_der()?)
}

/// Parse RSASSA-PSS parameters; returns the hash if they are the profile this crate supports
/// (MGF1 with the same hash, salt length = hash length, trailer field 1).
pub(crate) fn parse_pss_params(params: &[u8]) -> Option<HashAlg> {
    use der::asn1::ContextSpecific;
    use spki::AlgorithmIdentifierOwned as Aid;
    #[derive(Sequence)]
    struct PssParams {
        #[asn1(context_specific = "0", optional = "true")]
        hash: Option<Aid>,
        #[asn1(context_specific = "1", optional = "true")]
        mgf: Option<Aid>,
        #[asn1(context_specific = "2", optional = "true")]
        salt: Option<u32>,
        #[asn1(context_specific = "3", optional = "true")]
        trailer: Option<u32>,
    }
    let _ = core::marker::PhantomData::<ContextSpecific<u8>>;
    let p = PssParams::from_der(params).ok()?;
    let h = p.hash?;
    let hash = [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512]
        .into_iter()
        .find(|x| x.oid() == h.oid)?;
    let mgf = p.mgf?;
    if mgf.oid != oid::MGF1 {
        return None;
    }
    let inner = mgf.parameters?.decode_as::<Aid>().ok()?;
    if inner.oid != hash.oid() {
        return None;
    }
    if p.salt? as usize != hash.output_len() {
        return None;
    }
    if p.trailer.is_some_and(|t| t != 1) {
        return None;
    }
    Some(hash)
}

/// Put the `[0]` named-curve parameters into an ECPrivateKey that lacks them (PKCS#8 carries the
/// curve in the AlgorithmIdentifier instead, as OpenSSL writes it). Refuses a different curve.
pub(crate) fn ec_private_with_curve(curve: Curve, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let invalid = |reason| Error::InvalidPrivateKey {
        alg: curve.name(),
        reason,
    };
    let mut k = EcPrivateKey::from_der(bytes).map_err(|_| invalid("not a DER ECPrivateKey"))?;
    match k.parameters {
        Some(p) if p != curve.oid() => return Err(invalid("ECPrivateKey names a different curve")),
        _ => k.parameters = Some(curve.oid()),
    }
    Ok(Zeroizing::new(k.to_der()?))
}
