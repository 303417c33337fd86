//! RFC 9530 digest values and key loading in every supported format.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use common::*;
use secdispatch_httpsig::Error;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::digest::{DigestAlgorithm, Digests, parse_digest_field};
use secdispatch_httpsig::key::{Jwk, SigningKey, VerifyingKey, jwk_thumbprint};

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn digest_vectors() {
    let v: serde_json::Value = serde_json::from_str(&read("digest_vectors.json")).unwrap();
    let mut n = 0;
    for (name, case) in v.as_object().unwrap() {
        if name.starts_with('_') {
            continue;
        }
        let body = case["body_utf8"].as_str().unwrap().as_bytes();
        assert_eq!(body.len() as u64, case["len"].as_u64().unwrap());
        for alg in DigestAlgorithm::ALL {
            let expected = case[alg.name()].as_str().unwrap();
            let d = Digests::of(&[alg], body);
            assert_eq!(
                d.field_value(),
                format!("{}={expected}", alg.name()),
                "{name}"
            );
            // And the field verifies.
            d.check("Content-Digest", &format!("{}={expected}", alg.name()))
                .unwrap();
            n += 1;
        }
        // Deprecated algorithms present in the vectors are parsed and refused.
        for dep in ["md5", "sha", "adler"] {
            if let Some(x) = case.get(dep).and_then(|x| x.as_str()) {
                assert_eq!(
                    parse_digest_field("Content-Digest", &format!("{dep}={x}")).unwrap_err(),
                    Error::DeprecatedDigestAlgorithm(dep.into())
                );
            }
        }
    }
    assert_eq!(n, 12);
    // Both algorithms in one field: every supported entry must match.
    let both = Digests::of(&DigestAlgorithm::ALL, b"{\"hello\": \"world\"}");
    let mut value = both.field_value();
    assert_eq!(
        both.check("Content-Digest", &value).unwrap(),
        DigestAlgorithm::Sha512
    );
    value = value.replace("sha-256=:X", "sha-256=:Y");
    assert!(matches!(
        both.check("Content-Digest", &value).unwrap_err(),
        Error::DigestMismatch {
            algorithm: "sha-256",
            ..
        }
    ));
    // Repeated keys and too many entries are refused.
    assert!(parse_digest_field("Content-Digest", "a=1, a=2").is_err());
    let many: Vec<String> = (0..9).map(|i| format!("x{i}=:AA==:")).collect();
    assert!(parse_digest_field("Content-Digest", &many.join(", ")).is_err());
}

#[test]
fn rsa_pss_oid_key_is_unwrapped_and_bound() {
    let k = SigningKey::from_pem(&read("test-key-rsa-pss.key.pem"), None).unwrap();
    assert_eq!(k.algorithm(), Algorithm::RsaPssSha512);
    assert!(matches!(
        SigningKey::from_pem(
            &read("test-key-rsa-pss.key.pem"),
            Some(Algorithm::RsaV15Sha256)
        ),
        Err(Error::AlgorithmMismatch { .. })
    ));
    // PKCS#1 RSA keys need a choice; both choices work.
    assert_eq!(
        SigningKey::from_pem(&read("test-key-rsa.key.pem"), None).unwrap_err(),
        Error::RsaAlgorithmUnbound
    );
    for alg in [Algorithm::RsaPssSha512, Algorithm::RsaV15Sha256] {
        let k = SigningKey::from_pem(&read("test-key-rsa.key.pem"), Some(alg)).unwrap();
        let pk = VerifyingKey::from_pem(&read("test-key-rsa.pub.pem"), Some(alg)).unwrap();
        let sig = k.sign(b"msg").unwrap();
        assert_eq!(sig.len(), 256);
        assert!(pk.verify(b"msg", &sig));
        // The other padding does not verify it.
        let other = if alg == Algorithm::RsaPssSha512 {
            Algorithm::RsaV15Sha256
        } else {
            Algorithm::RsaPssSha512
        };
        let pk2 = VerifyingKey::from_pem(&read("test-key-rsa.pub.pem"), Some(other)).unwrap();
        assert!(!pk2.verify(b"msg", &sig));
    }
    // PSS signatures are randomized, v1.5 deterministic.
    let pss = SigningKey::from_pem(&read("test-key-rsa-pss.key.pem"), None).unwrap();
    assert_ne!(pss.sign(b"m").unwrap(), pss.sign(b"m").unwrap());
}

#[test]
fn ecdsa_signatures_are_raw_r_s() {
    let k = signing_key("test-key-ecc-p256");
    let sig = k.sign(b"m").unwrap();
    assert_eq!(sig.len(), 64);
    assert!(verifying_key("test-key-ecc-p256").verify(b"m", &sig));
    // A DER-encoded signature is not accepted.
    let der_kp = EcdsaKeyPair::from_private_key_der(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &base64::engine::general_purpose::STANDARD
            .decode(
                read("test-key-ecc-p256.key.pem")
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap(),
    )
    .unwrap();
    let der_sig = der_kp.sign(&SystemRandom::new(), b"m").unwrap();
    assert!(!verifying_key("test-key-ecc-p256").verify(b"m", der_sig.as_ref()));
}

#[test]
fn p384_and_pkcs8_v2_keys() {
    let rng = SystemRandom::new();
    let doc =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let k = SigningKey::from_pem(&pem("PRIVATE KEY", doc.as_ref()), None).unwrap();
    assert_eq!(k.algorithm(), Algorithm::EcdsaP384Sha384);
    let sig = k.sign(b"m").unwrap();
    assert_eq!(sig.len(), 96);
    assert!(k.verifying_key().unwrap().verify(b"m", &sig));
    // Ed25519 PKCS#8 v2 (with the public key) loads as well as v1.
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let k = SigningKey::from_pem(&pem("PRIVATE KEY", doc.as_ref()), None).unwrap();
    assert_eq!(k.algorithm(), Algorithm::Ed25519);
    let kp = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    let vk = VerifyingKey::public(Algorithm::Ed25519, kp.public_key().as_ref()).unwrap();
    assert!(vk.verify(b"m", &k.sign(b"m").unwrap()));
    // Wrong-length raw keys are refused.
    assert!(VerifyingKey::public(Algorithm::Ed25519, &[0u8; 31]).is_err());
    assert!(VerifyingKey::public(Algorithm::EcdsaP256Sha256, &[4u8; 65]).is_err());
}

#[test]
fn pem_format_errors() {
    for (text, expect) in [
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "encrypted",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "CERTIFICATE",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "DER",
        ),
    ] {
        let e = SigningKey::from_pem(text, None).unwrap_err().to_string();
        assert!(e.contains(expect), "{e}");
    }
    let two = format!(
        "{}{}",
        read("test-key-ed25519.key.pem"),
        read("test-key-ed25519.key.pem")
    );
    assert!(SigningKey::from_pem(&two, None).is_err());
    assert_eq!(
        SigningKey::from_pem(&read("test-key-ecc-p256.pub.pem"), None).unwrap_err(),
        Error::NotAPrivateKey
    );
    // A private key PEM also yields its verification key.
    let vk = VerifyingKey::from_pem(&read("test-key-ecc-p256.key.pem"), None).unwrap();
    assert!(vk.verify(b"m", &signing_key("test-key-ecc-p256").sign(b"m").unwrap()));
}

#[test]
fn jwk_thumbprints_match_between_private_and_public() {
    for k in [
        "test-key-ed25519",
        "test-key-ecc-p256",
        "test-key-rsa-pss",
        "test-key-rsa",
    ] {
        let private = read(&format!("{k}.jwk.json"));
        let jwk = Jwk::parse(&private).unwrap();
        assert!(jwk.is_private());
        assert_eq!(jwk.kid.as_deref(), Some(k));
        let t = jwk_thumbprint(&private).unwrap();
        assert_eq!(t.len(), 43);
        // Dropping the private members does not change the thumbprint.
        let mut v: serde_json::Value = serde_json::from_str(&private).unwrap();
        for m in ["d", "p", "q", "dp", "dq", "qi"] {
            v.as_object_mut().unwrap().remove(m);
        }
        assert_eq!(jwk_thumbprint(&v.to_string()).unwrap(), t, "{k}");
        let public = Jwk::parse(&v.to_string()).unwrap();
        assert!(!public.is_private());
        assert!(public.signing_key(Some(Algorithm::RsaPssSha512)).is_err() || k.contains("rsa"));
    }
    // JWK and PEM of the same key verify each other's signatures.
    let sk = Jwk::parse(&read("test-key-ed25519.jwk.json"))
        .unwrap()
        .signing_key(None)
        .unwrap();
    assert_eq!(sk.keyid(), Some("test-key-ed25519"));
    assert!(verifying_key("test-key-ed25519").verify(b"m", &sk.sign(b"m").unwrap()));
    // JOSE alg binds the key.
    let mut v: serde_json::Value = serde_json::from_str(&read("test-key-rsa.jwk.json")).unwrap();
    v["alg"] = "RS256".into();
    let sk = Jwk::parse(&v.to_string())
        .unwrap()
        .signing_key(None)
        .unwrap();
    assert_eq!(sk.algorithm(), Algorithm::RsaV15Sha256);
    v["alg"] = "ES256".into();
    assert!(matches!(
        Jwk::parse(&v.to_string()).unwrap().signing_key(None),
        Err(Error::AlgorithmMismatch { .. })
    ));
    // oct keys are HMAC secrets.
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hmac_secret());
    let oct = format!("{{\"kty\":\"oct\",\"k\":\"{secret}\"}}");
    let sk = Jwk::parse(&oct).unwrap().signing_key(None).unwrap();
    assert_eq!(sk.algorithm(), Algorithm::HmacSha256);
    let base = read("b25.base.txt");
    let expected =
        secdispatch_httpsig::fields::parse_signature(&header_value("b25.signature.txt")).unwrap();
    assert_eq!(sk.sign(base.as_bytes()).unwrap(), expected[0].1);
}
