//! The official draft-ietf-lamps-pq-composite-sigs-19 test vectors (3 pure ML-DSA + 18
//! composites): keys, PKCS#8, signatures with and without context, the x5c certificates; plus
//! negative tests for every MUST on keys and signatures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use common::{TestRng, b64, vector};
use der::{Decode, Encode};
use secdispatch_pqpki::keys::KeyKind;
use secdispatch_pqpki::{Algorithm, Error, SigningKey, VerifyingKey};
use x509_cert::Certificate;

struct Case {
    name: String,
    alg: Algorithm,
    pk: Vec<u8>,
    x5c: Vec<u8>,
    sk: Vec<u8>,
    sk_pkcs8: Vec<u8>,
    s: Vec<u8>,
    s_ctx: Vec<u8>,
}

fn cases() -> (Vec<u8>, Vec<u8>, Vec<Case>) {
    let v = vector("composite_mldsa_testvectors_draft19.json");
    let m = b64(v["m"].as_str().unwrap());
    let ctx = b64(v["ctx"].as_str().unwrap());
    let cases = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let name = t["tcId"].as_str().unwrap().to_owned();
            Case {
                alg: Algorithm::from_name(&name).unwrap(),
                name,
                pk: b64(t["pk"].as_str().unwrap()),
                x5c: b64(t["x5c"].as_str().unwrap()),
                sk: b64(t["sk"].as_str().unwrap()),
                sk_pkcs8: b64(t["sk_pkcs8"].as_str().unwrap()),
                s: b64(t["s"].as_str().unwrap()),
                s_ctx: b64(t["sWithContext"].as_str().unwrap()),
            }
        })
        .collect();
    (m, ctx, cases)
}

#[test]
fn all_21_cases_are_present_and_cover_every_pq_algorithm() {
    let (_, _, cases) = cases();
    assert_eq!(cases.len(), 21);
    for a in Algorithm::all().filter(|a| !matches!(a, Algorithm::Classical(_))) {
        assert!(cases.iter().any(|c| c.alg == a), "no vector for {a}");
    }
}

#[test]
fn seed_and_traditional_key_derive_the_public_key() {
    let (_, _, cases) = cases();
    for c in &cases {
        let sk = SigningKey::from_raw(c.alg, &c.sk).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(sk.public_key().as_bytes(), &c.pk[..], "{}", c.name);
        assert_eq!(
            &sk.to_raw().unwrap()[..],
            &c.sk[..],
            "{}: raw re-encode",
            c.name
        );
    }
}

#[test]
fn pkcs8_parses_and_reencodes_byte_exact() {
    let (_, _, cases) = cases();
    for c in &cases {
        let sk =
            SigningKey::from_pkcs8_der(&c.sk_pkcs8).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(sk.algorithm(), c.alg);
        assert_eq!(sk.public_key().as_bytes(), &c.pk[..], "{}", c.name);
        assert_eq!(
            &sk.to_pkcs8_der().unwrap()[..],
            &c.sk_pkcs8[..],
            "{}",
            c.name
        );
    }
}

#[test]
fn signatures_verify_with_and_without_context() {
    let (m, ctx, cases) = cases();
    for c in &cases {
        let vk = VerifyingKey::from_raw(c.alg, &c.pk).unwrap();
        vk.verify(&m, &c.s)
            .unwrap_or_else(|e| panic!("{} s: {e}", c.name));
        vk.verify_with_context(&m, &ctx, &c.s_ctx)
            .unwrap_or_else(|e| panic!("{} sWithContext: {e}", c.name));
        // and crossed: each only under its own context
        assert!(
            vk.verify_with_context(&m, &ctx, &c.s).is_err(),
            "{}",
            c.name
        );
        assert!(vk.verify(&m, &c.s_ctx).is_err(), "{}", c.name);
    }
}

#[test]
fn x5c_certificates_verify_with_their_own_key() {
    let (_, _, cases) = cases();
    for c in &cases {
        let cert = Certificate::from_der(&c.x5c).unwrap();
        let tbs = cert.tbs_certificate();
        assert_eq!(cert.signature_algorithm().oid, c.alg.oid(), "{}", c.name);
        assert!(
            cert.signature_algorithm().parameters.is_none(),
            "{}",
            c.name
        );
        let spki = tbs.subject_public_key_info();
        assert_eq!(spki.algorithm.oid, c.alg.oid());
        assert!(spki.algorithm.parameters.is_none());
        assert_eq!(spki.subject_public_key.raw_bytes(), &c.pk[..]);
        assert!(
            tbs.subject().to_string().contains(&c.name),
            "{}",
            tbs.subject()
        );
        let vk = VerifyingKey::from_spki_der(&spki.to_der().unwrap()).unwrap();
        let msg = tbs.to_der().unwrap();
        let aid = cert.signature_algorithm().clone();
        vk.verify_x509(&aid, &msg, cert.signature().raw_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

#[test]
fn sign_verify_round_trip_for_every_vector_key() {
    let (m, ctx, cases) = cases();
    let mut rng = TestRng(1);
    for c in &cases {
        let sk = SigningKey::from_raw(c.alg, &c.sk).unwrap();
        let sig = sk.sign_with_context(&m, &ctx, &mut rng).unwrap();
        sk.public_key()
            .verify_with_context(&m, &ctx, sig.as_bytes())
            .unwrap();
        let sig = sk.sign(&m, &mut rng).unwrap();
        sk.public_key().verify(&m, sig.as_bytes()).unwrap();
        assert!(
            sk.public_key()
                .verify(b"other message", sig.as_bytes())
                .is_err()
        );
    }
}

#[test]
fn bit_flip_in_either_component_fails_naming_the_component() {
    let (m, _, cases) = cases();
    for c in cases.iter().filter(|c| c.alg.composite().is_some()) {
        let p = c.alg.composite().unwrap();
        let vk = VerifyingKey::from_raw(c.alg, &c.pk).unwrap();
        let n = p.mldsa.signature_len();
        let mut s = c.s.clone();
        s[10] ^= 1;
        match vk.verify(&m, &s) {
            Err(Error::BadSignature {
                component: Some(comp),
                ..
            }) => {
                assert!(comp.starts_with("ML-DSA"), "{}: {comp}", c.name)
            }
            other => panic!("{}: {other:?}", c.name),
        }
        let mut s = c.s.clone();
        let last = s.len() - 5;
        s[last] ^= 0x40;
        assert!(vk.verify(&m, &s).is_err(), "{}", c.name);
        let mut s = c.s.clone();
        let i = n + 40.min(s.len() - n - 1);
        s[i] ^= 0x01;
        assert!(vk.verify(&m, &s).is_err(), "{}", c.name);
    }
}

#[test]
fn truncated_oversized_and_trailing_signatures_are_errors() {
    let (m, _, cases) = cases();
    for c in &cases {
        let vk = VerifyingKey::from_raw(c.alg, &c.pk).unwrap();
        for len in [0, 1, 100, c.s.len() - 1] {
            assert!(
                vk.verify(&m, &c.s[..len]).is_err(),
                "{} truncated to {len}",
                c.name
            );
        }
        let mut long = c.s.clone();
        long.push(0);
        assert!(vk.verify(&m, &long).is_err(), "{} trailing byte", c.name);
        long.extend_from_slice(&[0u8; 5000]);
        assert!(vk.verify(&m, &long).is_err(), "{} oversized", c.name);
    }
}

#[test]
fn truncated_and_oversized_public_keys_are_errors() {
    let (_, _, cases) = cases();
    for c in &cases {
        for len in [0, 1, 32, c.pk.len() - 1] {
            assert!(
                VerifyingKey::from_raw(c.alg, &c.pk[..len]).is_err(),
                "{} {len}",
                c.name
            );
        }
        let mut long = c.pk.clone();
        long.push(0);
        assert!(
            VerifyingKey::from_raw(c.alg, &long).is_err(),
            "{} +1",
            c.name
        );
    }
}

#[test]
fn truncated_private_keys_are_errors() {
    let (_, _, cases) = cases();
    for c in &cases {
        for len in [0, 1, 31, 32, c.sk.len() - 1] {
            if len == c.sk.len() {
                continue;
            }
            assert!(
                SigningKey::from_raw(c.alg, &c.sk[..len]).is_err(),
                "{} {len}",
                c.name
            );
        }
        for len in [0, 10, c.sk_pkcs8.len() - 1] {
            assert!(
                SigningKey::from_pkcs8_der(&c.sk_pkcs8[..len]).is_err(),
                "{} {len}",
                c.name
            );
        }
    }
}

#[test]
fn components_swapped_between_algorithms_fail() {
    let (m, _, cases) = cases();
    let by = |n: &str| cases.iter().find(|c| c.name == n).unwrap();
    // Same ML-DSA-65 level and same-size traditional parts: the signatures cannot be moved
    // between algorithms because the Label is bound into M' and the ML-DSA ctx.
    let a = by("id-MLDSA65-ECDSA-P256-SHA512");
    let b = by("id-MLDSA65-ECDSA-brainpoolP256r1-SHA512");
    let vk_b = VerifyingKey::from_raw(b.alg, &b.pk).unwrap();
    assert!(vk_b.verify(&m, &a.s).is_err());
    // An ML-DSA component taken from another composite with the same level fails.
    let e = by("id-MLDSA65-Ed25519-SHA512");
    let vk_e = VerifyingKey::from_raw(e.alg, &e.pk).unwrap();
    let mut mixed = a.s[..3309].to_vec();
    mixed.extend_from_slice(&e.s[3309..]);
    assert!(vk_e.verify(&m, &mixed).is_err());
    // Keys swapped: components in the wrong order are not a valid public key.
    let mut swapped = a.pk[1952..].to_vec();
    swapped.extend_from_slice(&a.pk[..1952]);
    assert!(VerifyingKey::from_raw(a.alg, &swapped).is_err());
}

#[test]
fn stripped_mldsa_component_does_not_verify_alone() {
    let (m, _, cases) = cases();
    let c = cases
        .iter()
        .find(|c| c.name == "id-MLDSA65-ECDSA-P256-SHA512")
        .unwrap();
    let mldsa_pk = &c.pk[..1952];
    let vk =
        VerifyingKey::from_raw(Algorithm::from_name("id-ML-DSA-65").unwrap(), mldsa_pk).unwrap();
    assert!(vk.verify(&m, &c.s[..3309]).is_err());
    // it verifies only over M' with ctx = Label, as the draft specifies
    let p = c.alg.composite().unwrap();
    let mp = secdispatch_pqpki::composite::message_representative(p, &m, b"").unwrap();
    vk.verify_with_context(&mp, p.label.as_bytes(), &c.s[..3309])
        .unwrap();
}

#[test]
fn context_of_256_bytes_is_refused_on_sign_and_verify() {
    let (m, _, cases) = cases();
    let c = cases
        .iter()
        .find(|c| c.name == "id-MLDSA44-Ed25519-SHA512")
        .unwrap();
    let sk = SigningKey::from_raw(c.alg, &c.sk).unwrap();
    let mut rng = TestRng(2);
    assert!(matches!(
        sk.sign_with_context(&m, &[7u8; 256], &mut rng),
        Err(Error::ContextTooLong(256))
    ));
    assert!(sk.sign_with_context(&m, &[7u8; 255], &mut rng).is_ok());
    assert!(matches!(
        sk.public_key().verify_with_context(&m, &[7u8; 256], &c.s),
        Err(Error::ContextTooLong(256))
    ));
}

#[test]
fn spki_with_parameters_present_is_refused() {
    let (_, _, cases) = cases();
    for c in &cases {
        let cert = Certificate::from_der(&c.x5c).unwrap();
        let mut spki = cert.tbs_certificate().subject_public_key_info().clone();
        spki.algorithm.parameters = Some(der::Any::null());
        let e = VerifyingKey::from_spki_der(&spki.to_der().unwrap()).unwrap_err();
        assert!(
            matches!(e, Error::ParametersPresent { .. }),
            "{}: {e}",
            c.name
        );
        // and in a signature AlgorithmIdentifier
        let vk = VerifyingKey::from_raw(c.alg, &c.pk).unwrap();
        let aid = spki::AlgorithmIdentifierOwned {
            oid: c.alg.oid(),
            parameters: Some(der::Any::null()),
        };
        let e = vk
            .verify_x509(&aid, b"m", cert.signature().raw_bytes())
            .unwrap_err();
        assert!(
            matches!(e, Error::ParametersPresent { .. }),
            "{}: {e}",
            c.name
        );
    }
}

#[test]
fn pkcs8_with_parameters_present_is_refused() {
    let (_, _, cases) = cases();
    for c in cases.iter().filter(|c| c.alg.composite().is_some()) {
        // rebuild the PKCS#8 with NULL parameters in privateKeyAlgorithm
        let raw = SigningKey::from_raw(c.alg, &c.sk)
            .unwrap()
            .to_raw()
            .unwrap();
        let alg = spki::AlgorithmIdentifierOwned {
            oid: c.alg.oid(),
            parameters: Some(der::Any::null()),
        };
        let der = common::seq(&[&[2, 1, 0], &alg.to_der().unwrap(), &common::tlv(0x04, &raw)]);
        let e = SigningKey::from_pkcs8_der(&der).unwrap_err();
        assert!(
            matches!(e, Error::ParametersPresent { .. }),
            "{}: {e}",
            c.name
        );
    }
}

#[test]
fn prototype_oids_are_refused_by_name_in_spki() {
    let (_, _, cases) = cases();
    let c = &cases[10];
    let cert = Certificate::from_der(&c.x5c).unwrap();
    let mut spki = cert.tbs_certificate().subject_public_key_info().clone();
    spki.algorithm.oid = const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.114027.80.8.1.21");
    let e = VerifyingKey::from_spki_der(&spki.to_der().unwrap()).unwrap_err();
    assert!(matches!(e, Error::PrototypeOid { .. }));
    assert!(e.to_string().contains("2.16.840.1.114027.80.8.1.21"));
    spki.algorithm.oid = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.6.99");
    let e = VerifyingKey::from_spki_der(&spki.to_der().unwrap()).unwrap_err();
    assert!(matches!(e, Error::UnknownOid(_)));
}

#[test]
fn spki_round_trip_for_every_vector_key() {
    let (_, _, cases) = cases();
    for c in &cases {
        let vk = VerifyingKey::from_raw(c.alg, &c.pk).unwrap();
        let der = vk.to_spki_der().unwrap();
        let back = VerifyingKey::from_spki_der(&der).unwrap();
        assert_eq!(back, vk);
        let pem = vk.to_spki_pem().unwrap();
        assert_eq!(VerifyingKey::from_spki_pem(&pem).unwrap(), vk);
        if let KeyKind::Composite(_) = vk.kind() {
            let (a, b) = vk.composite_components().unwrap();
            assert_eq!(a.len() + b.len(), c.pk.len());
        }
    }
}
