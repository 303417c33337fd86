//! The VOPRF server of RFC 9497 (mode `0x01`, suite `P384-SHA384`) over aws-lc points
//! ([`super::group`]): `BlindEvaluate` with its DLEQ proof (`GenerateProof`,
//! `ComputeCompositesFast`, §2.2.1 and §3.3.2) and `Evaluate` (§3.3.2), the two operations
//! of a type 0x0001 issuer. Clients keep using `voprf-ng`, an independent implementation,
//! so every token our issuer proves is checked by other code.

use aws_lc_rs::digest::{self, SHA384};
use p384::Scalar;
use voprf::{CipherSuite, Group};

use super::group::Point;
use super::{NE, NK, NS, Suite};
use crate::error::{Error, Result};

// The domain separation tags, each a prefix and
// `contextString = "OPRFV1-" || I2OSP(mode = 0x01, 1) || "-" || "P384-SHA384"` (RFC 9497 §3.1).
const SEED_DST: &[u8] = b"Seed-OPRFV1-\x01-P384-SHA384";
const HASH_TO_GROUP_DST: &[u8] = b"HashToGroup-OPRFV1-\x01-P384-SHA384";
const HASH_TO_SCALAR_DST: &[u8] = b"HashToScalar-OPRFV1-\x01-P384-SHA384";

/// The issuer's half of one `BlindEvaluate` call: the evaluated elements in request order
/// and the proof `SerializeScalar(c) || SerializeScalar(s)`.
pub(crate) struct Evaluation {
    pub(crate) elements: Vec<[u8; NE]>,
    pub(crate) proof: [u8; 2 * NS],
}

/// `BlindEvaluate(skS, blindedElements, pkS)` with proof randomness `r`: `D_i = skS * C_i`
/// and one DLEQ proof that every `D_i` uses the key behind `pk` (the encoded `pkS`).
pub(crate) fn blind_evaluate(
    sk: &Scalar,
    pk: &[u8; NE],
    blinded: &[&[u8]],
    r: &Scalar,
) -> Result<Evaluation> {
    let mut c = Vec::with_capacity(blinded.len());
    let mut c_enc = Vec::with_capacity(blinded.len());
    let mut d_enc = Vec::with_capacity(blinded.len());
    for b in blinded {
        let ci = Point::decode(b).ok_or(Error::InvalidElement("blinded element"))?;
        // `decode` accepts only the canonical 49-byte encoding, so the request's bytes are
        // `SerializeElement(C_i)` already.
        let ci_enc: [u8; NE] = (*b)
            .try_into()
            .map_err(|_| Error::InvalidElement("blinded element"))?;
        let di = ci
            .mul(sk)
            .ok_or(Error::Issuance("P-384 scalar multiplication"))?;
        c_enc.push(ci_enc);
        d_enc.push(encode(&di)?);
        c.push(ci);
    }
    let proof = generate_proof(sk, pk, &c, &c_enc, &d_enc, r)?;
    Ok(Evaluation {
        elements: d_enc,
        proof,
    })
}

/// `GenerateProof(k, G, pkS, C, D)` (RFC 9497 §2.2.1).
fn generate_proof(
    k: &Scalar,
    pk: &[u8; NE],
    c: &[Point],
    c_enc: &[[u8; NE]],
    d_enc: &[[u8; NE]],
    r: &Scalar,
) -> Result<[u8; 2 * NS]> {
    let (m, z) = compute_composites_fast(k, pk, c, c_enc, d_enc)?;
    let t2 = Point::mul_base(r).ok_or(Error::Issuance("P-384 scalar multiplication"))?;
    let t3 = m
        .mul(r)
        .ok_or(Error::Issuance("P-384 scalar multiplication"))?;
    let (a0, a1, a2, a3) = (encode(&m)?, encode(&z)?, encode(&t2)?, encode(&t3)?);
    let len = (NE as u16).to_be_bytes();
    let challenge = hash_to_scalar(&[
        &len,
        pk,
        &len,
        &a0,
        &len,
        &a1,
        &len,
        &a2,
        &len,
        &a3,
        b"Challenge",
    ])?;
    let s = *r - challenge * k;
    let mut proof = [0u8; 2 * NS];
    proof[..NS].copy_from_slice(&Suite::serialize_scalar(challenge));
    proof[NS..].copy_from_slice(&Suite::serialize_scalar(s));
    Ok(proof)
}

/// `ComputeCompositesFast(k, pkS, C, D)`: `M = Σ d_i * C_i`, `Z = k * M` (RFC 9497
/// §2.2.1), with `d_i` bound to every element through the seed and the transcript.
fn compute_composites_fast(
    k: &Scalar,
    pk: &[u8; NE],
    c: &[Point],
    c_enc: &[[u8; NE]],
    d_enc: &[[u8; NE]],
) -> Result<(Point, Point)> {
    let len = (NE as u16).to_be_bytes();
    let seed_dst_len = (SEED_DST.len() as u16).to_be_bytes();
    let mut seed_transcript = digest::Context::new(&SHA384);
    for part in [&len[..], pk, &seed_dst_len, SEED_DST] {
        seed_transcript.update(part);
    }
    let seed = seed_transcript.finish();
    let seed_len = (seed.as_ref().len() as u16).to_be_bytes();
    let mut m: Option<Point> = None;
    for (i, ((ci, ci_enc), di_enc)) in c.iter().zip(c_enc).zip(d_enc).enumerate() {
        let index = u16::try_from(i)
            .map_err(|_| Error::Batch("more than 65535 elements"))?
            .to_be_bytes();
        let di = hash_to_scalar(&[
            &seed_len,
            seed.as_ref(),
            &index,
            &len,
            ci_enc,
            &len,
            di_enc,
            b"Composite",
        ])?;
        let term = ci
            .mul(&di)
            .ok_or(Error::Issuance("P-384 scalar multiplication"))?;
        m = Some(match m {
            None => term,
            Some(acc) => acc
                .add(&term)
                .ok_or(Error::Issuance("P-384 point addition"))?,
        });
    }
    let m = m.ok_or(Error::BatchSize { got: 0, max: 0 })?;
    let z = m
        .mul(k)
        .ok_or(Error::Issuance("P-384 scalar multiplication"))?;
    Ok((m, z))
}

/// `Evaluate(skS, input)` (RFC 9497 §3.3.2): what an honest client's `Finalize` returned.
pub(crate) fn evaluate(sk: &Scalar, input: &[u8]) -> Result<[u8; NK]> {
    let input_len = u16::try_from(input.len())
        .map_err(|_| Error::InvalidAuthenticator)?
        .to_be_bytes();
    let element =
        Point::hash_to_group(input, HASH_TO_GROUP_DST).ok_or(Error::InvalidAuthenticator)?;
    let issued = encode(&element.mul(sk).ok_or(Error::InvalidAuthenticator)?)?;
    let mut hash = digest::Context::new(&SHA384);
    for part in [
        &input_len[..],
        input,
        &(NE as u16).to_be_bytes(),
        &issued,
        b"Finalize",
    ] {
        hash.update(part);
    }
    let mut out = [0u8; NK];
    out.copy_from_slice(hash.finish().as_ref());
    Ok(out)
}

/// `HashToScalar` with DST `"HashToScalar-" || contextString` over the concatenation of
/// `parts` (RFC 9380 `hash_to_field`, `expand_message_xmd` with SHA-384).
fn hash_to_scalar(parts: &[&[u8]]) -> Result<Scalar> {
    Suite::hash_to_scalar::<<Suite as CipherSuite>::Hash>(parts, &[HASH_TO_SCALAR_DST])
        .map_err(|_| Error::Issuance("HashToScalar"))
}

fn encode(p: &Point) -> Result<[u8; NE]> {
    p.encode()
        .ok_or(Error::Issuance("the identity element cannot be serialized"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9497 Appendix A.4.2 (P384-SHA384, VOPRF mode), every vector including the
    /// batch of two: evaluated elements, the proof (byte-exact, given the vector's `r`)
    /// and `Evaluate`'s output.
    #[test]
    fn rfc9497_p384_voprf_vectors() {
        let all: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/vectors/rfc9497_voprf_allVectors.json"
        ))
        .unwrap();
        let suite = all
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["identifier"] == "P384-SHA384" && s["mode"] == 1)
            .unwrap();
        let field = |v: &serde_json::Value, k: &str| -> Vec<Vec<u8>> {
            v[k].as_str().unwrap().split(',').map(unhex).collect()
        };
        let sk = Suite::deserialize_scalar(&unhex(suite["skSm"].as_str().unwrap())).unwrap();
        let pk: [u8; NE] = unhex(suite["pkSm"].as_str().unwrap()).try_into().unwrap();
        let vectors = suite["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 3);
        for (i, v) in vectors.iter().enumerate() {
            let blinded = field(v, "BlindedElement");
            let blinded: Vec<&[u8]> = blinded.iter().map(Vec::as_slice).collect();
            let r = Suite::deserialize_scalar(&unhex(v["Proof"]["r"].as_str().unwrap())).unwrap();
            let got = blind_evaluate(&sk, &pk, &blinded, &r).unwrap();
            let want = field(v, "EvaluationElement");
            assert_eq!(got.elements.len(), want.len(), "vector {i}");
            for (g, w) in got.elements.iter().zip(&want) {
                assert_eq!(g.as_slice(), w.as_slice(), "vector {i}");
            }
            assert_eq!(
                got.proof.to_vec(),
                unhex(v["Proof"]["proof"].as_str().unwrap()),
                "vector {i}"
            );
            for (input, output) in field(v, "Input").iter().zip(field(v, "Output")) {
                assert_eq!(evaluate(&sk, input).unwrap().to_vec(), output, "vector {i}");
            }
        }
    }

    /// A bad element anywhere in a batch refuses the whole batch; an empty batch is refused.
    #[test]
    fn bad_elements_are_refused() {
        let sk = Scalar::from(7u64);
        let pk = Point::mul_base(&sk).unwrap().encode().unwrap();
        let good = Point::mul_base(&Scalar::from(11u64))
            .unwrap()
            .encode()
            .unwrap();
        let mut bad = good;
        bad[0] = 0x05;
        let r = Scalar::from(13u64);
        assert!(matches!(
            blind_evaluate(&sk, &pk, &[&good, &bad], &r),
            Err(Error::InvalidElement(_))
        ));
        assert!(matches!(
            blind_evaluate(&sk, &pk, &[&good[..48]], &r),
            Err(Error::InvalidElement(_))
        ));
        assert!(blind_evaluate(&sk, &pk, &[], &r).is_err());
    }
}
