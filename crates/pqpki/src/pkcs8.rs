//! PKCS#8 OneAsymmetricKey (RFC 5958) and the per-algorithm privateKey contents:
//! composite `seed || tradSK` (draft-19 §5.3), RFC 9881 ML-DSA CHOICE {seed, expandedKey, both},
//! RFC 5915 ECPrivateKey, RFC 8410 CurvePrivateKey, RFC 8017 RSAPrivateKey.
//!
//! Decoding borrows from the input so no unzeroized copy of the secret is made; encoding writes
//! into a [`Zeroizing`] buffer.

use der::asn1::{BitStringRef, OctetStringRef};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use crate::alg::MlDsaLevel;
use crate::error::{Error, Result};

/// OneAsymmetricKey (RFC 5958), borrowed.
#[derive(Sequence)]
pub(crate) struct OneAsymmetricKeyRef<'a> {
    pub(crate) version: u8,
    pub(crate) algorithm: AlgorithmIdentifierRef<'a>,
    pub(crate) private_key: &'a OctetStringRef,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(crate) attributes: Option<der::asn1::SetOfVec<der::Any>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) public_key: Option<BitStringRef<'a>>,
}

impl<'a> OneAsymmetricKeyRef<'a> {
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self> {
        let k = OneAsymmetricKeyRef::from_der(der)?;
        if k.version > 1 {
            return Err(Error::InvalidPrivateKey {
                alg: "PKCS#8",
                reason: "OneAsymmetricKey version is neither v1 (0) nor v2 (1)",
            });
        }
        if k.version == 0 && k.public_key.is_some() {
            return Err(Error::InvalidPrivateKey {
                alg: "PKCS#8",
                reason: "publicKey present in a version 0 PrivateKeyInfo",
            });
        }
        Ok(k)
    }
}

/// Encode a v0 PrivateKeyInfo.
pub(crate) fn encode(
    algorithm: AlgorithmIdentifierRef<'_>,
    private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let k = OneAsymmetricKeyRef {
        version: 0,
        algorithm,
        private_key: OctetStringRef::new(private_key)?,
        attributes: None,
        public_key: None,
    };
    let mut out = Zeroizing::new(Vec::new());
    k.encode_to_vec(&mut out)?;
    Ok(out)
}

/// Which RFC 9881 private-key form to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MlDsaKeyForm {
    /// `seed [0] IMPLICIT OCTET STRING (SIZE (32))`: what this crate writes by default.
    #[default]
    Seed,
    /// `expandedKey OCTET STRING`: the FIPS 204 skEncode form.
    Expanded,
    /// `both SEQUENCE { seed, expandedKey }`: what OpenSSL 3.5 writes.
    Both,
}

/// A decoded RFC 9881 ML-DSA private key.
pub(crate) enum MlDsaPrivate<'a> {
    Seed(&'a [u8; 32]),
    Expanded(&'a [u8]),
    Both(&'a [u8; 32], &'a [u8]),
}

#[derive(Sequence)]
struct Both<'a> {
    seed: &'a OctetStringRef,
    expanded: &'a OctetStringRef,
}

/// Decode the RFC 9881 `ML-DSA-PrivateKey` CHOICE.
pub(crate) fn decode_mldsa_private(level: MlDsaLevel, b: &[u8]) -> Result<MlDsaPrivate<'_>> {
    let alg = level.name();
    let invalid = |reason| Error::InvalidPrivateKey { alg, reason };
    match b.first() {
        Some(0x80) => {
            // [0] IMPLICIT OCTET STRING of 32 bytes: 80 20 <seed>
            match b {
                [0x80, 0x20, rest @ ..] if rest.len() == 32 => {
                    let seed: &[u8; 32] = rest.try_into().map_err(|_| invalid("seed length"))?;
                    Ok(MlDsaPrivate::Seed(seed))
                }
                _ => Err(invalid("seed must be exactly 32 bytes")),
            }
        }
        Some(0x04) => {
            let os = <&OctetStringRef>::from_der(b)
                .map_err(|_| invalid("expandedKey is not an OCTET STRING"))?;
            let e = os.as_bytes();
            if e.len() != level.expanded_key_len() {
                return Err(invalid("expandedKey has the wrong length"));
            }
            Ok(MlDsaPrivate::Expanded(e))
        }
        Some(0x30) => {
            let both = Both::from_der(b)
                .map_err(|_| invalid("both is not SEQUENCE { seed, expandedKey }"))?;
            let seed: &[u8; 32] = both
                .seed
                .as_bytes()
                .try_into()
                .map_err(|_| invalid("seed must be exactly 32 bytes"))?;
            let e = both.expanded.as_bytes();
            if e.len() != level.expanded_key_len() {
                return Err(invalid("expandedKey has the wrong length"));
            }
            Ok(MlDsaPrivate::Both(seed, e))
        }
        _ => Err(invalid("not one of seed [0], expandedKey, both")),
    }
}

/// Encode the RFC 9881 `ML-DSA-PrivateKey` CHOICE.
pub(crate) fn encode_mldsa_private(
    form: MlDsaKeyForm,
    seed: Option<&[u8; 32]>,
    expanded: &[u8],
    alg: &'static str,
) -> Result<Zeroizing<Vec<u8>>> {
    let no_seed = || Error::InvalidPrivateKey {
        alg,
        reason: "key was imported without its seed; only the expandedKey form can be written",
    };
    let mut out = Zeroizing::new(Vec::new());
    match form {
        MlDsaKeyForm::Seed => {
            let s = seed.ok_or_else(no_seed)?;
            out.extend_from_slice(&[0x80, 0x20]);
            out.extend_from_slice(s);
        }
        MlDsaKeyForm::Expanded => {
            OctetStringRef::new(expanded)?.encode_to_vec(&mut out)?;
        }
        MlDsaKeyForm::Both => {
            let s = seed.ok_or_else(no_seed)?;
            Both {
                seed: OctetStringRef::new(s)?,
                expanded: OctetStringRef::new(expanded)?,
            }
            .encode_to_vec(&mut out)?;
        }
    }
    Ok(out)
}

/// RFC 8410 CurvePrivateKey: an OCTET STRING wrapping the raw key.
pub(crate) fn decode_curve_private(b: &[u8]) -> Result<&[u8]> {
    Ok(<&OctetStringRef>::from_der(b)?.as_bytes())
}

/// RFC 8410 CurvePrivateKey encoding.
pub(crate) fn encode_curve_private(raw: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::new());
    OctetStringRef::new(raw)?.encode_to_vec(&mut out)?;
    Ok(out)
}
