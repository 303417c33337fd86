//! ML-DSA: NIST ACVP subsets (keyGen, sigGen internal deterministic + hedged, sigVer internal) and
//! the three RFC 9881 private-key forms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use common::{TestRng, hex, seq, tlv, vector};
use der::Encode;
use secdispatch_pqpki::alg::MlDsaLevel;
use secdispatch_pqpki::mldsa::acvp;
use secdispatch_pqpki::pkcs8::MlDsaKeyForm;
use secdispatch_pqpki::{Algorithm, Error, SigningKey};

fn level(s: &str) -> MlDsaLevel {
    match s {
        "ML-DSA-44" => MlDsaLevel::L44,
        "ML-DSA-65" => MlDsaLevel::L65,
        "ML-DSA-87" => MlDsaLevel::L87,
        _ => panic!("{s}"),
    }
}

#[test]
fn acvp_keygen() {
    let v = vector("mldsa_acvp_keygen_subset.json");
    let mut n = 0;
    for g in v["testGroups"].as_array().unwrap() {
        let l = level(g["parameterSet"].as_str().unwrap());
        for t in g["tests"].as_array().unwrap() {
            let seed: [u8; 32] = hex(t["seed"].as_str().unwrap()).try_into().unwrap();
            let (pk, sk) = acvp::keygen(l, &seed);
            assert_eq!(pk, hex(t["pk"].as_str().unwrap()), "tc {}", t["tcId"]);
            assert_eq!(sk, hex(t["sk"].as_str().unwrap()), "tc {}", t["tcId"]);
            // and through the public key API
            let k = SigningKey::mldsa_from_seed(l, &seed).unwrap();
            assert_eq!(k.public_key().as_bytes(), &pk[..]);
            n += 1;
        }
    }
    assert_eq!(n, 6);
}

#[test]
fn acvp_siggen_internal() {
    let v = vector("mldsa_acvp_siggen_internal_subset.json");
    let mut n = 0;
    for g in v["testGroups"].as_array().unwrap() {
        let l = level(g["parameterSet"].as_str().unwrap());
        let det = g["deterministic"].as_bool().unwrap();
        for t in g["tests"].as_array().unwrap() {
            let rnd: [u8; 32] = if det {
                [0u8; 32]
            } else {
                hex(t["rnd"].as_str().unwrap()).try_into().unwrap()
            };
            let sig = acvp::sign_internal(
                l,
                &hex(t["sk"].as_str().unwrap()),
                &hex(t["message"].as_str().unwrap()),
                rnd,
            )
            .unwrap();
            assert_eq!(
                sig,
                hex(t["signature"].as_str().unwrap()),
                "tc {}",
                t["tcId"]
            );
            n += 1;
        }
    }
    assert_eq!(n, 6);
}

#[test]
fn acvp_sigver_internal() {
    let v = vector("mldsa_acvp_sigver_internal_subset.json");
    let (mut pass, mut fail) = (0, 0);
    for g in v["testGroups"].as_array().unwrap() {
        let l = level(g["parameterSet"].as_str().unwrap());
        let pk = hex(g["pk"].as_str().unwrap());
        for t in g["tests"].as_array().unwrap() {
            let ok = acvp::verify_internal(
                l,
                &pk,
                &hex(t["message"].as_str().unwrap()),
                &hex(t["signature"].as_str().unwrap()),
            );
            let want = t["testPassed"].as_bool().unwrap();
            assert_eq!(ok, want, "tc {} ({})", t["tcId"], t["reason"]);
            if want { pass += 1 } else { fail += 1 }
        }
    }
    assert_eq!((pass, fail), (3, 6));
}

fn pkcs8(level: MlDsaLevel, body: &[u8]) -> Vec<u8> {
    let alg = seq(&[&level.oid().to_der().unwrap()]);
    seq(&[&[2, 1, 0], &alg, &tlv(0x04, body)])
}

#[test]
fn rfc9881_reads_seed_expanded_and_both_and_writes_seed() {
    for l in [MlDsaLevel::L44, MlDsaLevel::L65, MlDsaLevel::L87] {
        let seed = [7u8; 32];
        let k = SigningKey::mldsa_from_seed(l, &seed).unwrap();
        let seed_form = k.to_pkcs8_der().unwrap();
        assert_eq!(seed_form.len(), 54);
        assert_eq!(&seed_form[20..22], &[0x80, 0x20]);
        let expanded = k.to_pkcs8_der_with(MlDsaKeyForm::Expanded).unwrap();
        let both = k.to_pkcs8_der_with(MlDsaKeyForm::Both).unwrap();
        for der in [&seed_form[..], &expanded[..], &both[..]] {
            let back = SigningKey::from_pkcs8_der(der).unwrap();
            assert_eq!(back.public_key(), k.public_key(), "{l:?}");
            let sig = back.sign(b"m", &mut TestRng(1)).unwrap();
            k.public_key().verify(b"m", sig.as_bytes()).unwrap();
        }
        // both -> writes seed by default
        let back = SigningKey::from_pkcs8_der(&both).unwrap();
        assert_eq!(&back.to_pkcs8_der().unwrap()[..], &seed_form[..]);
        // an expandedKey-only key cannot produce the seed form
        let exp_only = SigningKey::from_pkcs8_der(&expanded).unwrap();
        assert!(exp_only.to_pkcs8_der().is_err());
        assert_eq!(
            &exp_only.to_pkcs8_der_with(MlDsaKeyForm::Expanded).unwrap()[..],
            &expanded[..]
        );
    }
}

#[test]
fn rfc9881_inconsistent_or_malformed_private_keys_are_refused() {
    let l = MlDsaLevel::L65;
    let a = SigningKey::mldsa_from_seed(l, &[1u8; 32]).unwrap();
    let b = SigningKey::mldsa_from_seed(l, &[2u8; 32]).unwrap();
    let a_exp = a.to_pkcs8_der_with(MlDsaKeyForm::Expanded).unwrap();
    let b_exp = b.to_pkcs8_der_with(MlDsaKeyForm::Expanded).unwrap();
    // "both" with a seed that does not match the expanded key
    let exp_a = &a_exp[a_exp.len() - 4032..];
    let both = seq(&[&tlv(0x04, &[2u8; 32]), &tlv(0x04, exp_a)]);
    let e = SigningKey::from_pkcs8_der(&pkcs8(l, &both)).unwrap_err();
    assert!(e.to_string().contains("do not match"), "{e}");
    // expanded key whose tr does not match its public key
    let mut exp_bad = b_exp[b_exp.len() - 4032..].to_vec();
    exp_bad[70] ^= 1;
    let e = SigningKey::from_pkcs8_der(&pkcs8(l, &tlv(0x04, &exp_bad))).unwrap_err();
    assert!(matches!(e, Error::InvalidPrivateKey { .. }), "{e}");
    // wrong seed lengths and unknown CHOICE tags
    for body in [
        vec![0x80, 0x1f]
            .into_iter()
            .chain([0u8; 31])
            .collect::<Vec<_>>(),
        vec![0x80, 0x21].into_iter().chain([0u8; 33]).collect(),
        tlv(0x04, &[0u8; 4031]),
        vec![0xa0, 0x00],
        vec![],
    ] {
        assert!(SigningKey::from_pkcs8_der(&pkcs8(l, &body)).is_err());
    }
}

#[test]
fn hedged_signatures_differ_and_deterministic_ones_repeat() {
    let k = SigningKey::generate(
        Algorithm::from_name("id-ML-DSA-44").unwrap(),
        &mut TestRng(3),
    )
    .unwrap();
    let s1 = k.sign(b"m", &mut TestRng(1)).unwrap();
    let s2 = k.sign(b"m", &mut TestRng(2)).unwrap();
    assert_ne!(s1, s2);
    assert_eq!(
        k.sign_deterministic(b"m", b"").unwrap(),
        k.sign_deterministic(b"m", b"").unwrap()
    );
    k.public_key().verify(b"m", s1.as_bytes()).unwrap();
    k.public_key().verify(b"m", s2.as_bytes()).unwrap();
}

#[test]
fn expanded_key_with_out_of_range_secret_coefficient_is_refused() {
    for l in [MlDsaLevel::L44, MlDsaLevel::L65, MlDsaLevel::L87] {
        let k = SigningKey::mldsa_from_seed(l, &[5u8; 32]).unwrap();
        let der = k.to_pkcs8_der_with(MlDsaKeyForm::Expanded).unwrap();
        let n = l.expanded_key_len();
        let mut exp = der[der.len() - n..].to_vec();
        exp[128] = 0xff; // first s1 coefficient = 7 (η = 2) or 15 (η = 4): outside [0, 2η]
        let e = SigningKey::from_pkcs8_der(&pkcs8(l, &tlv(0x04, &exp))).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{l:?}: {e}");
    }
}
