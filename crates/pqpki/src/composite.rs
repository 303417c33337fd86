//! Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19 §3–§5): the message representative,
//! Sign/Verify, and the raw-concatenation key and signature encodings.
//!
//! ```text
//! M' = Prefix || Label || len(ctx) || ctx || PH(M)
//! sig = ML-DSA.Sign(mldsaSK, M', ctx = Label) || Trad.Sign(tradSK, M')
//! pk  = mldsaPK || tradPK,   sk = seed(32) || tradSK
//! ```
//!
//! Security note: the composite is EUF-CMA if either component is, but **not SUF-CMA** (an ECDSA
//! component's malleability passes through). A stripped ML-DSA component does not verify on its
//! own under ctx "" (it is bound to the Label), and a stripped traditional component only verifies
//! on M', which starts with the Prefix.

use aws_lc_rs::digest;
use rand_core::TryCryptoRng;
use shake::{ExtendableOutput, Shake256, Update, XofReader};
use zeroize::Zeroizing;

use crate::alg::{CompositeParams, PreHash};
use crate::error::{Error, Result};
use crate::mldsa::{self, MlDsaKeyPair, SEED_LEN};
use crate::trad::{self, TradSigningKey};

/// The domain-separation prefix, "CompositeAlgorithmSignatures2025" (32 bytes).
pub const PREFIX: &[u8; 32] = b"CompositeAlgorithmSignatures2025";

/// Maximum context length (one length byte).
pub const MAX_CONTEXT_LEN: usize = 255;

/// PH(M) for the composite's pre-hash.
pub fn prehash(ph: PreHash, msg: &[u8]) -> Vec<u8> {
    match ph {
        PreHash::Sha256 => digest::digest(&digest::SHA256, msg).as_ref().to_vec(),
        PreHash::Sha512 => digest::digest(&digest::SHA512, msg).as_ref().to_vec(),
        PreHash::Shake256 => {
            let mut out = vec![0u8; 64];
            let mut h = Shake256::default();
            h.update(msg);
            h.finalize_xof().read(&mut out);
            out
        }
    }
}

/// The message representative M' from an already computed PH(M) (draft-19 §4.1, the
/// pre-hashed interface `Sign_ph`).
pub fn message_representative_prehashed(
    params: &CompositeParams,
    ph: &[u8],
    ctx: &[u8],
) -> Result<Vec<u8>> {
    let ctx_len = u8::try_from(ctx.len()).map_err(|_| Error::ContextTooLong(ctx.len()))?;
    let mut m = Vec::with_capacity(PREFIX.len() + params.label.len() + 1 + ctx.len() + ph.len());
    m.extend_from_slice(PREFIX);
    m.extend_from_slice(params.label.as_bytes());
    m.push(ctx_len);
    m.extend_from_slice(ctx);
    m.extend_from_slice(ph);
    Ok(m)
}

/// The message representative M' = Prefix || Label || len(ctx) || ctx || PH(M).
pub fn message_representative(params: &CompositeParams, msg: &[u8], ctx: &[u8]) -> Result<Vec<u8>> {
    if ctx.len() > MAX_CONTEXT_LEN {
        return Err(Error::ContextTooLong(ctx.len()));
    }
    message_representative_prehashed(params, &prehash(params.prehash, msg), ctx)
}

/// A composite private key: the ML-DSA seed and the traditional key.
pub(crate) struct CompositeSigningKey {
    params: &'static CompositeParams,
    mldsa: MlDsaKeyPair,
    trad: TradSigningKey,
}

impl core::fmt::Debug for CompositeSigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CompositeSigningKey")
            .field("alg", &self.params.name)
            .finish_non_exhaustive()
    }
}

impl CompositeSigningKey {
    /// Fresh, independent component keys (draft-19 §3.1 KeyGen). There is deliberately no API
    /// that combines existing keys: component keys must not be reused.
    pub(crate) fn generate<R: TryCryptoRng + ?Sized>(
        params: &'static CompositeParams,
        rng: &mut R,
    ) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        rng.try_fill_bytes(&mut seed[..]).map_err(|_| Error::Rng)?;
        let mldsa = MlDsaKeyPair::from_seed(params.mldsa, &seed);
        let trad = TradSigningKey::generate(params.trad, rng)?;
        Ok(CompositeSigningKey {
            params,
            mldsa,
            trad,
        })
    }

    /// Decode `seed(32) || tradSK` (draft-19 §5.2).
    pub(crate) fn from_bytes(params: &'static CompositeParams, sk: &[u8]) -> Result<Self> {
        let (seed, trad) = sk
            .split_first_chunk::<SEED_LEN>()
            .ok_or(Error::InvalidPrivateKey {
                alg: params.name,
                reason: "shorter than the 32-byte ML-DSA seed",
            })?;
        if trad.is_empty() {
            return Err(Error::InvalidPrivateKey {
                alg: params.name,
                reason: "traditional component is missing",
            });
        }
        let mldsa = MlDsaKeyPair::from_seed(params.mldsa, seed);
        let trad = TradSigningKey::from_private(params.trad, trad)?;
        Ok(CompositeSigningKey {
            params,
            mldsa,
            trad,
        })
    }

    pub(crate) fn params(&self) -> &'static CompositeParams {
        self.params
    }

    /// Encode `seed || tradSK`.
    pub(crate) fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let seed = self.mldsa.seed().ok_or(Error::InvalidPrivateKey {
            alg: self.params.name,
            reason: "ML-DSA component has no seed",
        })?;
        let mut out = Zeroizing::new(Vec::with_capacity(
            SEED_LEN + self.trad.private_bytes().len(),
        ));
        out.extend_from_slice(seed);
        out.extend_from_slice(self.trad.private_bytes());
        Ok(out)
    }

    /// Encode `mldsaPK || tradPK`.
    pub(crate) fn public_bytes(&self) -> Vec<u8> {
        let mut pk = self.mldsa.public_key().to_vec();
        pk.extend_from_slice(self.trad.public_bytes());
        pk
    }

    pub(crate) fn trad(&self) -> &TradSigningKey {
        &self.trad
    }

    /// Composite Sign(sk, M, ctx); `rnd` feeds the ML-DSA hedging (all-zero = deterministic).
    pub(crate) fn sign(&self, msg: &[u8], ctx: &[u8], rnd: [u8; 32]) -> Result<Vec<u8>> {
        let m = message_representative(self.params, msg, ctx)?;
        self.sign_representative(&m, rnd)
    }

    /// Composite Sign over an already pre-hashed message PH(M) (`Sign_ph`); same output as
    /// [`Self::sign`] on M.
    pub(crate) fn sign_prehash(&self, ph: &[u8], ctx: &[u8], rnd: [u8; 32]) -> Result<Vec<u8>> {
        let m = message_representative_prehashed(self.params, ph, ctx)?;
        self.sign_representative(&m, rnd)
    }

    fn sign_representative(&self, m: &[u8], rnd: [u8; 32]) -> Result<Vec<u8>> {
        let mut sig = self.mldsa.sign(m, self.params.label.as_bytes(), rnd)?;
        sig.extend_from_slice(&self.trad.sign(m)?);
        Ok(sig)
    }
}

/// Split and structurally check a composite public key (lengths, point format, RSA size, Ed448
/// point decoding).
pub(crate) fn split_public_key<'a>(
    params: &CompositeParams,
    pk: &'a [u8],
) -> Result<(&'a [u8], &'a [u8])> {
    let (a, b) = split_public_key_unchecked(params, pk)?;
    trad::check_public_key(params.trad, b)?;
    Ok((a, b))
}

/// Split at the ML-DSA public key length. Verification uses this: the component verifiers decode
/// (and reject) their keys themselves, so decoding twice (costly for Ed448) is avoided.
fn split_public_key_unchecked<'a>(
    params: &CompositeParams,
    pk: &'a [u8],
) -> Result<(&'a [u8], &'a [u8])> {
    let n = params.mldsa.public_key_len();
    if pk.len() <= n {
        return Err(Error::PublicKeyLength {
            alg: params.name,
            expected: "the ML-DSA public key followed by a non-empty traditional key",
            got: pk.len(),
        });
    }
    Ok(pk.split_at(n))
}

/// Composite Verify(pk, M, sig, ctx): valid iff both components verify over M'. Every length or
/// parse problem is an error value.
pub(crate) fn verify(
    params: &CompositeParams,
    pk: &[u8],
    msg: &[u8],
    ctx: &[u8],
    sig: &[u8],
) -> Result<()> {
    let m = message_representative(params, msg, ctx)?;
    verify_representative(params, pk, &m, sig)
}

/// Verify over a pre-hashed message PH(M).
pub(crate) fn verify_prehash(
    params: &CompositeParams,
    pk: &[u8],
    ph: &[u8],
    ctx: &[u8],
    sig: &[u8],
) -> Result<()> {
    let m = message_representative_prehashed(params, ph, ctx)?;
    verify_representative(params, pk, &m, sig)
}

/// Verify each component on its own (for the experimental policy layer): the ML-DSA component
/// over M' with ctx = Label, the traditional component over M'. The outer error reports
/// structural problems (lengths, encodings); the pair reports each component's result.
pub fn verify_components(
    params: &CompositeParams,
    pk: &[u8],
    msg: &[u8],
    ctx: &[u8],
    sig: &[u8],
) -> Result<(Result<()>, Result<()>)> {
    let m = message_representative(params, msg, ctx)?;
    let (mpk, tpk) = split_public_key(params, pk)?;
    let n = params.mldsa.signature_len();
    if sig.len() <= n {
        return Err(Error::SignatureLength {
            alg: params.name,
            expected: "the ML-DSA signature followed by a non-empty traditional signature",
            got: sig.len(),
        });
    }
    let (msig, tsig) = sig.split_at(n);
    Ok((
        mldsa::verify(params.mldsa, mpk, &m, params.label.as_bytes(), msig),
        trad::verify(params.trad, tpk, &m, tsig),
    ))
}

fn verify_representative(params: &CompositeParams, pk: &[u8], m: &[u8], sig: &[u8]) -> Result<()> {
    let (mpk, tpk) = split_public_key_unchecked(params, pk)?;
    let n = params.mldsa.signature_len();
    if sig.len() <= n {
        return Err(Error::SignatureLength {
            alg: params.name,
            expected: "the ML-DSA signature followed by a non-empty traditional signature",
            got: sig.len(),
        });
    }
    let (msig, tsig) = sig.split_at(n);
    // Both components are always evaluated, so timing does not reveal which one failed.
    let r1 = mldsa::verify(params.mldsa, mpk, m, params.label.as_bytes(), msig);
    let r2 = trad::verify(params.trad, tpk, m, tsig);
    match (r1, r2) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(Error::BadSignature { .. }), _) => Err(Error::BadSignature {
            alg: params.name,
            component: Some(params.mldsa.name()),
        }),
        (Err(e), _) => Err(e),
        (Ok(()), Err(Error::BadSignature { .. })) => Err(Error::BadSignature {
            alg: params.name,
            component: Some(params.trad.name()),
        }),
        (Ok(()), Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::COMPOSITES;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The worked example of the draft appendix (recomputed in the implementer notes).
    #[test]
    fn message_representative_worked_example() {
        let p = &COMPOSITES[8];
        assert_eq!(p.name, "id-MLDSA65-ECDSA-P256-SHA512");
        let m = message_representative(p, &hex("00010203040506070809"), &hex("0813061205162623"))
            .unwrap();
        assert_eq!(m.len(), 138);
        assert_eq!(
            &m[..32],
            &hex("436F6D706F73697465416C676F726974686D5369676E61747572657332303235")[..]
        );
        assert_eq!(
            &m[32..65],
            &hex("434f4d505349472d4d4c44534136352d45434453412d503235362d534841353132")[..]
        );
        assert_eq!(m[65], 8);
        assert_eq!(&m[66..74], &hex("0813061205162623")[..]);
        assert_eq!(&m[74..78], &hex("0f89ee1f")[..]);
        assert_eq!(&m[134..], &hex("2f903533")[..]);
    }

    #[test]
    fn empty_context_has_zero_length_byte() {
        let p = &COMPOSITES[2];
        let m = message_representative(p, b"x", b"").unwrap();
        assert_eq!(m[32 + p.label.len()], 0);
        assert_eq!(m.len(), 32 + p.label.len() + 1 + 64);
    }

    #[test]
    fn context_longer_than_255_is_refused() {
        let p = &COMPOSITES[0];
        assert!(message_representative(p, b"x", &[0u8; 255]).is_ok());
        assert!(matches!(
            message_representative(p, b"x", &[0u8; 256]),
            Err(Error::ContextTooLong(256))
        ));
    }

    #[test]
    fn shake256_prehash_is_64_bytes() {
        assert_eq!(prehash(PreHash::Shake256, b"abc").len(), 64);
        assert_eq!(prehash(PreHash::Sha256, b"abc").len(), 32);
    }
}
