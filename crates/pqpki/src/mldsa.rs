//! ML-DSA (FIPS 204) behind one small interface, used both for pure ML-DSA (RFC 9881) and for the
//! first component of composite ML-DSA (with ctx = Label).
//!
//! Backend: `libcrux-ml-dsa` (formally verified, AVX2 at run time when available). It was chosen
//! by benchmark among the backends with a context-string API (aws-lc-rs has none): on the
//! project's 2-core VM, ML-DSA-65 keygen/sign/verify took 104/266/105 µs with libcrux 0.0.11
//! and 595/3908/198 µs with RustCrypto `ml-dsa` 0.1.2. RustCrypto `ml-dsa` is used for one job
//! libcrux cannot do: deriving the public key from an RFC 9881 `expandedKey`-only private key.

use libcrux_ml_dsa::{ml_dsa_44, ml_dsa_65, ml_dsa_87};
use shake::{ExtendableOutput, Shake256, Update, XofReader};
use zeroize::{Zeroize, Zeroizing};

use crate::alg::MlDsaLevel;
use crate::error::{Error, Result};

/// Length of the ML-DSA private seed ξ.
pub const SEED_LEN: usize = 32;

/// The expanded signing key as the backend holds it; zeroized on drop.
enum Expanded {
    L44(Box<ml_dsa_44::MLDSA44SigningKey>),
    L65(Box<ml_dsa_65::MLDSA65SigningKey>),
    L87(Box<ml_dsa_87::MLDSA87SigningKey>),
}

impl Drop for Expanded {
    fn drop(&mut self) {
        match self {
            Expanded::L44(k) => k.as_mut_slice().zeroize(),
            Expanded::L65(k) => k.as_mut_slice().zeroize(),
            Expanded::L87(k) => k.as_mut_slice().zeroize(),
        }
    }
}

impl Expanded {
    fn as_slice(&self) -> &[u8] {
        match self {
            Expanded::L44(k) => k.as_slice(),
            Expanded::L65(k) => k.as_slice(),
            Expanded::L87(k) => k.as_slice(),
        }
    }
}

/// An ML-DSA key pair: the seed when known, the expanded key, and the encoded public key.
pub(crate) struct MlDsaKeyPair {
    level: MlDsaLevel,
    seed: Option<Zeroizing<[u8; SEED_LEN]>>,
    expanded: Expanded,
    public: Vec<u8>,
}

impl core::fmt::Debug for MlDsaKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MlDsaKeyPair")
            .field("level", &self.level)
            .field("has_seed", &self.seed.is_some())
            .finish_non_exhaustive()
    }
}

impl MlDsaKeyPair {
    /// ML-DSA.KeyGen_internal(ξ): deterministic key generation from the 32-byte seed.
    pub(crate) fn from_seed(level: MlDsaLevel, seed: &[u8; SEED_LEN]) -> MlDsaKeyPair {
        let (expanded, public) = match level {
            MlDsaLevel::L44 => {
                let kp = ml_dsa_44::generate_key_pair(*seed);
                (
                    Expanded::L44(Box::new(kp.signing_key)),
                    kp.verification_key.as_slice().to_vec(),
                )
            }
            MlDsaLevel::L65 => {
                let kp = ml_dsa_65::generate_key_pair(*seed);
                (
                    Expanded::L65(Box::new(kp.signing_key)),
                    kp.verification_key.as_slice().to_vec(),
                )
            }
            MlDsaLevel::L87 => {
                let kp = ml_dsa_87::generate_key_pair(*seed);
                (
                    Expanded::L87(Box::new(kp.signing_key)),
                    kp.verification_key.as_slice().to_vec(),
                )
            }
        };
        MlDsaKeyPair {
            level,
            seed: Some(Zeroizing::new(*seed)),
            expanded,
            public,
        }
    }

    /// Import an expanded private key (RFC 9881 `expandedKey`, FIPS 204 skEncode). The public key
    /// is recomputed and checked against the key's `tr = H(pk)`.
    pub(crate) fn from_expanded(level: MlDsaLevel, bytes: &[u8]) -> Result<MlDsaKeyPair> {
        let alg = level.name();
        if bytes.len() != level.expanded_key_len() {
            return Err(Error::InvalidPrivateKey {
                alg,
                reason: "expandedKey has the wrong length",
            });
        }
        check_expanded_ranges(level, bytes)?;
        let public = derive_public_from_expanded(level, bytes)?;
        let mut tr = [0u8; 64];
        let mut h = Shake256::default();
        h.update(&public);
        h.finalize_xof().read(&mut tr);
        if bytes.get(64..128) != Some(&tr[..]) {
            return Err(Error::InvalidPrivateKey {
                alg,
                reason: "expandedKey is inconsistent (tr does not match H(pk))",
            });
        }
        let expanded = match level {
            MlDsaLevel::L44 => Expanded::L44(Box::new(ml_dsa_44::MLDSA44SigningKey::new(
                to_array(bytes, alg)?,
            ))),
            MlDsaLevel::L65 => Expanded::L65(Box::new(ml_dsa_65::MLDSA65SigningKey::new(
                to_array(bytes, alg)?,
            ))),
            MlDsaLevel::L87 => Expanded::L87(Box::new(ml_dsa_87::MLDSA87SigningKey::new(
                to_array(bytes, alg)?,
            ))),
        };
        Ok(MlDsaKeyPair {
            level,
            seed: None,
            expanded,
            public,
        })
    }

    pub(crate) fn level(&self) -> MlDsaLevel {
        self.level
    }

    pub(crate) fn seed(&self) -> Option<&[u8; SEED_LEN]> {
        self.seed.as_deref()
    }

    pub(crate) fn expanded_bytes(&self) -> &[u8] {
        self.expanded.as_slice()
    }

    pub(crate) fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// ML-DSA.Sign (FIPS 204 Algorithm 2) with context `ctx`; `rnd` all-zero gives the
    /// deterministic variant, fresh random bytes the hedged one.
    pub(crate) fn sign(&self, msg: &[u8], ctx: &[u8], rnd: [u8; 32]) -> Result<Vec<u8>> {
        if ctx.len() > 255 {
            return Err(Error::ContextTooLong(ctx.len()));
        }
        let alg = self.level.name();
        let fail = |e: libcrux_ml_dsa::SigningError| Error::Signing {
            alg,
            reason: match e {
                libcrux_ml_dsa::SigningError::RejectionSamplingError => {
                    "rejection sampling did not terminate"
                }
                libcrux_ml_dsa::SigningError::ContextTooLongError => "context too long",
            },
        };
        Ok(match &self.expanded {
            Expanded::L44(k) => ml_dsa_44::sign(k, msg, ctx, rnd)
                .map_err(fail)?
                .as_slice()
                .to_vec(),
            Expanded::L65(k) => ml_dsa_65::sign(k, msg, ctx, rnd)
                .map_err(fail)?
                .as_slice()
                .to_vec(),
            Expanded::L87(k) => ml_dsa_87::sign(k, msg, ctx, rnd)
                .map_err(fail)?
                .as_slice()
                .to_vec(),
        })
    }
}

fn to_array<const N: usize>(b: &[u8], alg: &'static str) -> Result<[u8; N]> {
    b.try_into().map_err(|_| Error::InvalidPrivateKey {
        alg,
        reason: "wrong length",
    })
}

/// Check that `pk` has the length of `level` (FIPS 204 pkEncode).
pub(crate) fn check_public_key(level: MlDsaLevel, pk: &[u8]) -> Result<()> {
    if pk.len() != level.public_key_len() {
        return Err(Error::PublicKeyLength {
            alg: level.name(),
            expected: match level {
                MlDsaLevel::L44 => "1312",
                MlDsaLevel::L65 => "1952",
                MlDsaLevel::L87 => "2592",
            },
            got: pk.len(),
        });
    }
    Ok(())
}

/// ML-DSA.Verify (FIPS 204 Algorithm 3) with context `ctx`. Any length problem is an error
/// value, as is a signature that does not verify.
pub(crate) fn verify(
    level: MlDsaLevel,
    pk: &[u8],
    msg: &[u8],
    ctx: &[u8],
    sig: &[u8],
) -> Result<()> {
    let alg = level.name();
    if ctx.len() > 255 {
        return Err(Error::ContextTooLong(ctx.len()));
    }
    check_public_key(level, pk)?;
    if sig.len() != level.signature_len() {
        return Err(Error::SignatureLength {
            alg,
            expected: match level {
                MlDsaLevel::L44 => "2420",
                MlDsaLevel::L65 => "3309",
                MlDsaLevel::L87 => "4627",
            },
            got: sig.len(),
        });
    }
    let bad = Error::BadSignature {
        alg,
        component: None,
    };
    let ok = match level {
        MlDsaLevel::L44 => {
            let vk = ml_dsa_44::MLDSA44VerificationKey::new(to_array(pk, alg)?);
            let s = ml_dsa_44::MLDSA44Signature::new(to_array(sig, alg)?);
            ml_dsa_44::verify(&vk, msg, ctx, &s).is_ok()
        }
        MlDsaLevel::L65 => {
            let vk = ml_dsa_65::MLDSA65VerificationKey::new(to_array(pk, alg)?);
            let s = ml_dsa_65::MLDSA65Signature::new(to_array(sig, alg)?);
            ml_dsa_65::verify(&vk, msg, ctx, &s).is_ok()
        }
        MlDsaLevel::L87 => {
            let vk = ml_dsa_87::MLDSA87VerificationKey::new(to_array(pk, alg)?);
            let s = ml_dsa_87::MLDSA87Signature::new(to_array(sig, alg)?);
            ml_dsa_87::verify(&vk, msg, ctx, &s).is_ok()
        }
    };
    if ok { Ok(()) } else { Err(bad) }
}

/// FIPS 204 skDecode range check: s1 and s2 are BitPack(η, η)-encoded, so every packed value
/// must lie in [0, 2η] (η = 2 → 3 bits, η = 4 → 4 bits per coefficient). Out-of-range values are
/// not a valid key (and would trip an assertion in the decoder used for the public key).
fn check_expanded_ranges(level: MlDsaLevel, bytes: &[u8]) -> Result<()> {
    let (k, l, eta, bits) = match level {
        MlDsaLevel::L44 => (4usize, 4usize, 2u32, 3usize),
        MlDsaLevel::L65 => (6, 5, 4, 4),
        MlDsaLevel::L87 => (8, 7, 2, 3),
    };
    let start = 128;
    let len = (k + l) * 256 * bits / 8;
    let packed = bytes
        .get(start..start + len)
        .ok_or(Error::InvalidPrivateKey {
            alg: level.name(),
            reason: "expandedKey has the wrong length",
        })?;
    let mut acc: u32 = 0;
    let mut nbits = 0usize;
    for &b in packed {
        acc |= u32::from(b) << nbits;
        nbits += 8;
        while nbits >= bits {
            if acc & ((1 << bits) - 1) > 2 * eta {
                return Err(Error::InvalidPrivateKey {
                    alg: level.name(),
                    reason: "expandedKey s1/s2 coefficient out of range",
                });
            }
            acc >>= bits;
            nbits -= bits;
        }
    }
    Ok(())
}

#[allow(deprecated)] // `from_expanded` is deprecated upstream only to steer users to seeds.
fn derive_public_from_expanded(level: MlDsaLevel, bytes: &[u8]) -> Result<Vec<u8>> {
    use ml_dsa::{ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87};
    let bad = || Error::InvalidPrivateKey {
        alg: level.name(),
        reason: "expandedKey does not decode",
    };
    Ok(match level {
        MlDsaLevel::L44 => {
            let enc = bytes.try_into().map_err(|_| bad())?;
            ExpandedSigningKey::<MlDsa44>::from_expanded(enc)
                .verifying_key()
                .encode()
                .to_vec()
        }
        MlDsaLevel::L65 => {
            let enc = bytes.try_into().map_err(|_| bad())?;
            ExpandedSigningKey::<MlDsa65>::from_expanded(enc)
                .verifying_key()
                .encode()
                .to_vec()
        }
        MlDsaLevel::L87 => {
            let enc = bytes.try_into().map_err(|_| bad())?;
            ExpandedSigningKey::<MlDsa87>::from_expanded(enc)
                .verifying_key()
                .encode()
                .to_vec()
        }
    })
}

/// FIPS 204 internal functions for the NIST ACVP vectors (feature `acvp`). Not for production:
/// they skip the domain separation of the external interface.
#[cfg(feature = "acvp")]
pub mod acvp {
    use super::*;

    /// ML-DSA.KeyGen_internal: `(pk, expanded sk)` from the seed.
    pub fn keygen(level: MlDsaLevel, seed: &[u8; 32]) -> (Vec<u8>, Vec<u8>) {
        let kp = MlDsaKeyPair::from_seed(level, seed);
        (kp.public.clone(), kp.expanded_bytes().to_vec())
    }

    /// ML-DSA.Sign_internal over `msg` (= M') with an expanded key.
    pub fn sign_internal(
        level: MlDsaLevel,
        sk: &[u8],
        msg: &[u8],
        rnd: [u8; 32],
    ) -> Result<Vec<u8>> {
        let alg = level.name();
        let fail = |_| Error::Signing {
            alg,
            reason: "Sign_internal failed",
        };
        Ok(match level {
            MlDsaLevel::L44 => {
                let k = ml_dsa_44::MLDSA44SigningKey::new(to_array(sk, alg)?);
                ml_dsa_44::sign_internal(&k, msg, rnd)
                    .map_err(fail)?
                    .as_slice()
                    .to_vec()
            }
            MlDsaLevel::L65 => {
                let k = ml_dsa_65::MLDSA65SigningKey::new(to_array(sk, alg)?);
                ml_dsa_65::sign_internal(&k, msg, rnd)
                    .map_err(fail)?
                    .as_slice()
                    .to_vec()
            }
            MlDsaLevel::L87 => {
                let k = ml_dsa_87::MLDSA87SigningKey::new(to_array(sk, alg)?);
                ml_dsa_87::sign_internal(&k, msg, rnd)
                    .map_err(fail)?
                    .as_slice()
                    .to_vec()
            }
        })
    }

    /// ML-DSA.Verify_internal over `msg` (= M').
    pub fn verify_internal(level: MlDsaLevel, pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let alg = level.name();
        let run = || -> Result<bool> {
            Ok(match level {
                MlDsaLevel::L44 => ml_dsa_44::verify_internal(
                    &ml_dsa_44::MLDSA44VerificationKey::new(to_array(pk, alg)?),
                    msg,
                    &ml_dsa_44::MLDSA44Signature::new(to_array(sig, alg)?),
                )
                .is_ok(),
                MlDsaLevel::L65 => ml_dsa_65::verify_internal(
                    &ml_dsa_65::MLDSA65VerificationKey::new(to_array(pk, alg)?),
                    msg,
                    &ml_dsa_65::MLDSA65Signature::new(to_array(sig, alg)?),
                )
                .is_ok(),
                MlDsaLevel::L87 => ml_dsa_87::verify_internal(
                    &ml_dsa_87::MLDSA87VerificationKey::new(to_array(pk, alg)?),
                    msg,
                    &ml_dsa_87::MLDSA87Signature::new(to_array(sig, alg)?),
                )
                .is_ok(),
            })
        };
        run().unwrap_or(false)
    }
}
