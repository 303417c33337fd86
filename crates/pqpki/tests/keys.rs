//! Every algorithm: generate, sign/verify, PKCS#8 / SPKI / PEM round trips, raw encodings, the
//! `signature` and `spki` trait implementations, and malformed-key handling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use common::{TestRng, seq, tlv};
use der::Encode;
use proptest::prelude::*;
use secdispatch_pqpki::{Algorithm, Error, Signature, SigningKey, VerifyingKey};
use signature::{Keypair, RandomizedSigner, Signer, Verifier};
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey};

#[test]
fn every_algorithm_generates_signs_verifies_and_round_trips() {
    let mut rng = TestRng(42);
    for alg in Algorithm::all() {
        let k = SigningKey::generate(alg, &mut rng).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(k.algorithm(), alg);
        let sig = k.sign(b"hello", &mut rng).unwrap();
        k.public_key()
            .verify(b"hello", sig.as_bytes())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert!(
            k.public_key().verify(b"hellO", sig.as_bytes()).is_err(),
            "{alg}"
        );
        // through the X.509 path with the signatureAlgorithm the key advertises
        let aid = k.signature_algorithm().unwrap();
        k.public_key()
            .verify_x509(&aid, b"hello", sig.as_bytes())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(k.public_key().algorithm_for(&aid), Some(alg), "{alg}");
        // PKCS#8 DER and PEM
        let der = k.to_pkcs8_der().unwrap();
        let back = SigningKey::from_pkcs8_der_as(alg, &der).unwrap();
        assert_eq!(back.public_key(), k.public_key(), "{alg}");
        assert_eq!(&back.to_pkcs8_der().unwrap()[..], &der[..], "{alg}");
        let pem = k.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.public_key(), k.public_key(), "{alg}");
        // raw
        let raw = k.to_raw().unwrap();
        assert_eq!(
            SigningKey::from_raw(alg, &raw).unwrap().public_key(),
            k.public_key()
        );
        // SPKI
        let spki = k.public_key().to_spki_der().unwrap();
        assert_eq!(&VerifyingKey::from_spki_der(&spki).unwrap(), k.public_key());
        // the other key's signature never verifies
        let other = SigningKey::generate(alg, &mut rng).unwrap();
        assert!(
            other.public_key().verify(b"hello", sig.as_bytes()).is_err(),
            "{alg}"
        );
    }
}

#[test]
fn signature_and_spki_traits() {
    let mut rng = TestRng(7);
    for name in ["id-MLDSA44-ECDSA-P256-SHA256", "id-ML-DSA-44", "ed25519"] {
        let k = SigningKey::generate(Algorithm::from_name(name).unwrap(), &mut rng).unwrap();
        let s: Signature = Signer::sign(&k, b"m");
        Verifier::verify(&k.verifying_key(), b"m", &s).unwrap();
        let s: Signature = RandomizedSigner::sign_with_rng(&k, &mut rng, b"m");
        Verifier::verify(&k.verifying_key(), b"m", &s).unwrap();
        assert!(Verifier::verify(&k.verifying_key(), b"x", &s).is_err());
        let aid = k.signature_algorithm_identifier().unwrap();
        assert_eq!(aid.oid, k.algorithm().oid());
        assert!(aid.parameters.is_none());
        assert_eq!(
            k.verifying_key().to_public_key_der().unwrap().as_bytes(),
            &k.public_key().to_spki_der().unwrap()[..]
        );
    }
}

#[test]
fn classical_signature_algorithm_parameters() {
    let mut rng = TestRng(8);
    let pss = SigningKey::generate(
        Algorithm::from_name("rsa2048-pss-sha256").unwrap(),
        &mut rng,
    )
    .unwrap();
    let aid = pss.signature_algorithm().unwrap();
    assert_eq!(aid.oid.to_string(), "1.2.840.113549.1.1.10");
    assert!(aid.parameters.is_some());
    let pkcs1 = SigningKey::from_pkcs8_der_as(
        Algorithm::from_name("rsa2048-pkcs1-sha256").unwrap(),
        &pss.to_pkcs8_der().unwrap(),
    )
    .unwrap();
    let aid = pkcs1.signature_algorithm().unwrap();
    assert_eq!(aid.oid.to_string(), "1.2.840.113549.1.1.11");
    assert_eq!(aid.parameters, Some(der::Any::null()));
    // PSS signature does not verify as PKCS#1 and vice versa
    let s = pss.sign(b"m", &mut rng).unwrap();
    assert!(
        pkcs1
            .public_key()
            .verify_x509(&aid, b"m", s.as_bytes())
            .is_err()
    );
    let ec =
        SigningKey::generate(Algorithm::from_name("ecdsa-p384-sha384").unwrap(), &mut rng).unwrap();
    assert!(ec.signature_algorithm().unwrap().parameters.is_none());
    // a context string is refused for classical keys
    assert!(ec.sign_with_context(b"m", b"ctx", &mut rng).is_err());
    // from_pkcs8_der_as refuses a different key type
    assert!(matches!(
        SigningKey::from_pkcs8_der_as(
            Algorithm::from_name("ed25519").unwrap(),
            &ec.to_pkcs8_der().unwrap()
        ),
        Err(Error::AlgorithmMismatch { .. })
    ));
}

#[test]
fn openssl_style_ec_pkcs8_without_curve_in_ecprivatekey() {
    // OpenSSL writes ECPrivateKey inside PKCS#8 without [0] parameters and with [1] publicKey.
    let mut rng = TestRng(9);
    let k =
        SigningKey::generate(Algorithm::from_name("ecdsa-p256-sha256").unwrap(), &mut rng).unwrap();
    let raw = k.to_raw().unwrap(); // 30 31 02 01 01 04 20 <32> a0 0a 06 08 <oid>
    let scalar = &raw[7..39];
    let point = k.public_key().as_bytes();
    let mut bs = vec![0u8];
    bs.extend_from_slice(point);
    let ecpk = seq(&[&[2, 1, 1], &tlv(0x04, scalar), &tlv(0xa1, &tlv(0x03, &bs))]);
    let alg = seq(&[
        &secdispatch_pqpki::oid::EC_PUBLIC_KEY.to_der().unwrap(),
        &secdispatch_pqpki::oid::SECP256R1.to_der().unwrap(),
    ]);
    let p8 = seq(&[&[2, 1, 0], &alg, &tlv(0x04, &ecpk)]);
    let back = SigningKey::from_pkcs8_der(&p8).unwrap();
    assert_eq!(back.public_key(), k.public_key());
    // a wrong [1] publicKey is refused
    let mut bad = bs.clone();
    bad[10] ^= 1;
    let ecpk = seq(&[&[2, 1, 1], &tlv(0x04, scalar), &tlv(0xa1, &tlv(0x03, &bad))]);
    let p8 = seq(&[&[2, 1, 0], &alg, &tlv(0x04, &ecpk)]);
    assert!(SigningKey::from_pkcs8_der(&p8).is_err());
}

#[test]
fn composite_private_key_requires_ec_curve_parameters() {
    let mut rng = TestRng(10);
    let k = SigningKey::generate(Algorithm::DEFAULT, &mut rng).unwrap();
    let raw = k.to_raw().unwrap();
    // seed || ECPrivateKey(with [0]) -> strip [0]: ECPrivateKey without parameters is refused
    let ec = &raw[32..];
    let scalar = &ec[7..39];
    let no_params = seq(&[&[2, 1, 1], &tlv(0x04, scalar)]);
    let mut sk = raw[..32].to_vec();
    sk.extend_from_slice(&no_params);
    let e = SigningKey::from_raw(Algorithm::DEFAULT, &sk).unwrap_err();
    assert!(e.to_string().contains("[0]"), "{e}");
}

#[test]
fn pem_label_is_checked() {
    let k =
        SigningKey::generate(Algorithm::from_name("ed25519").unwrap(), &mut TestRng(1)).unwrap();
    let pem = k.public_key().to_spki_pem().unwrap();
    assert!(matches!(
        SigningKey::from_pkcs8_pem(&pem),
        Err(Error::PemLabel { .. })
    ));
    assert!(SigningKey::from_pkcs8_pem("not pem").is_err());
}

#[test]
fn rng_failure_is_an_error() {
    #[derive(Debug)]
    struct Broken;
    impl rand_core::TryRng for Broken {
        type Error = std::io::Error;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Err(std::io::Error::other("x"))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Err(std::io::Error::other("x"))
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
            Err(std::io::Error::other("x"))
        }
    }
    impl rand_core::TryCryptoRng for Broken {}
    assert!(matches!(
        SigningKey::generate(Algorithm::DEFAULT, &mut Broken),
        Err(Error::Rng)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes never panic any parser or verifier.
    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = SigningKey::from_pkcs8_der(&data);
        let _ = VerifyingKey::from_spki_der(&data);
        let _ = secdispatch_pqpki::cert::from_der(&data);
        let _ = secdispatch_pqpki::csr::from_der(&data);
        let _ = secdispatch_pqpki::crl::from_der(&data);
        for alg in Algorithm::all() {
            let _ = VerifyingKey::from_raw(alg, &data);
            let _ = SigningKey::from_raw(alg, &data);
        }
    }

    /// Composite verification on arbitrary signature bytes is an error value, never a panic.
    #[test]
    fn composite_verify_arbitrary_signatures(sig in proptest::collection::vec(any::<u8>(), 0..6000), msg in any::<Vec<u8>>()) {
        let k = SigningKey::mldsa_from_seed(secdispatch_pqpki::alg::MlDsaLevel::L44, &[3u8; 32]).unwrap();
        prop_assert!(k.public_key().verify(&msg, &sig).is_err());
    }

    /// Message representative: PH length and context byte, for every composite.
    #[test]
    fn message_representative_layout(msg in any::<Vec<u8>>(), ctx in proptest::collection::vec(any::<u8>(), 0..256)) {
        for p in &secdispatch_pqpki::alg::COMPOSITES {
            let m = secdispatch_pqpki::composite::message_representative(p, &msg, &ctx).unwrap();
            let ph = match p.prehash { secdispatch_pqpki::alg::PreHash::Sha256 => 32, _ => 64 };
            prop_assert_eq!(m.len(), 32 + p.label.len() + 1 + ctx.len() + ph);
            prop_assert_eq!(m[32 + p.label.len()] as usize, ctx.len());
        }
    }

    /// Sign → verify and SPKI/PKCS#8 round trips for seed-derived ML-DSA keys.
    #[test]
    fn mldsa_round_trips(seed in any::<[u8; 32]>(), msg in any::<Vec<u8>>()) {
        let k = SigningKey::mldsa_from_seed(secdispatch_pqpki::alg::MlDsaLevel::L44, &seed).unwrap();
        let s = k.sign_deterministic(&msg, b"").unwrap();
        prop_assert!(k.public_key().verify(&msg, s.as_bytes()).is_ok());
        let back = SigningKey::from_pkcs8_der(&k.to_pkcs8_der().unwrap()).unwrap();
        prop_assert_eq!(back.public_key(), k.public_key());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Arbitrary RFC 9881 expandedKey contents inside a well-formed PKCS#8: an error, never a
    /// panic (the public key is derived before the tr check).
    #[test]
    fn arbitrary_expanded_mldsa_keys_never_panic(body in proptest::collection::vec(any::<u8>(), 2560)) {
        let alg = seq(&[&secdispatch_pqpki::oid::ML_DSA_44.to_der().unwrap()]);
        let p8 = seq(&[&[2, 1, 0], &alg, &tlv(0x04, &tlv(0x04, &body))]);
        prop_assert!(SigningKey::from_pkcs8_der(&p8).is_err());
    }

    /// Every single-byte corruption of a composite PKCS#8 is an error or an equal-or-different
    /// key, never a panic.
    #[test]
    fn corrupted_composite_pkcs8_never_panics(pos in any::<prop::sample::Index>(), val in any::<u8>()) {
        let k = SigningKey::from_raw(Algorithm::from_name("id-MLDSA44-Ed25519-SHA512").unwrap(), &[7u8; 64]).unwrap();
        let mut der = k.to_pkcs8_der().unwrap().to_vec();
        let i = pos.index(der.len());
        der[i] = val;
        let _ = SigningKey::from_pkcs8_der(&der);
    }
}
