//! The message-file operations behind `secdispatch sig sign|verify|base|digest`.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::*;
use secdispatch_httpsig::Error;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::digest::DigestAlgorithm;
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::offline::{
    SignOptions, VerifyOptions, add_content_digest, check_content_digest, message_base,
    sign_message, verify_message,
};

fn msg(name: &str) -> RawMessage {
    RawMessage::parse(read(name).as_bytes()).unwrap()
}

fn with_sig(id: &str, base: &str) -> RawMessage {
    let mut m = msg(base);
    m.append_field(
        "Signature-Input",
        header_value(&format!("{id}.signature-input.txt"))
            .parse()
            .unwrap(),
    );
    m.append_field(
        "Signature",
        header_value(&format!("{id}.signature.txt"))
            .parse()
            .unwrap(),
    );
    m
}

fn parse_signature_bytes(id: &str) -> Vec<u8> {
    secdispatch_httpsig::fields::parse_signature(&header_value(&format!("{id}.signature.txt")))
        .unwrap()
        .remove(0)
        .1
}

fn key_file(keyid: &str, public: bool) -> Vec<u8> {
    match keyid {
        "test-shared-secret" => read("test-shared-secret.b64").into_bytes(),
        k => read(&format!("{k}.{}.pem", if public { "pub" } else { "key" })).into_bytes(),
    }
}

#[test]
fn verify_rfc_examples_as_of_their_time() {
    for (id, file, alg) in [
        ("b21", "test-request.http", Some(Algorithm::RsaPssSha512)),
        ("b23", "test-request.http", Some(Algorithm::RsaPssSha512)),
        ("b24", "test-response.http", None),
        ("b25", "test-request.http", None),
        ("b26", "test-request.http", None),
    ] {
        let m = with_sig(id, file);
        let keyid = match id {
            "b24" => "test-key-ecc-p256",
            "b25" => "test-shared-secret",
            "b26" => "test-key-ed25519",
            _ => "test-key-rsa-pss",
        };
        let opts = VerifyOptions {
            alg,
            now: at(1618884473 + 10),
            max_age: Some(Duration::from_secs(60)),
            ..VerifyOptions::default()
        };
        let v = verify_message(&m, &key_file(keyid, true), &opts, None)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        // The message carries Content-Digest, checked against the content.
        assert_eq!(v.content_digest, Some(DigestAlgorithm::Sha512), "{id}");
        assert!(v.to_string().contains("verified"));
        // Too old as of today.
        let late = VerifyOptions {
            now: at(1618884473 + 66),
            ..opts.clone()
        };
        assert!(matches!(
            verify_message(&m, &key_file(keyid, true), &late, None).unwrap_err(),
            Error::TooOld { .. }
        ));
    }
    // RSA keys need an algorithm; the PSS private key (PSS OID) carries its own.
    let m = with_sig("b21", "test-request.http");
    let opts = VerifyOptions {
        now: at(1618884473),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_message(&m, &key_file("test-key-rsa-pss", true), &opts, None).unwrap_err(),
        Error::RsaAlgorithmUnbound
    );
    verify_message(&m, &key_file("test-key-rsa-pss", false), &opts, None).unwrap();
}

#[test]
fn verify_with_required_components_label_and_request() {
    let m = with_sig("b22", "test-request.http");
    let mut opts = VerifyOptions {
        alg: Some(Algorithm::RsaPssSha512),
        now: at(1618884473),
        required: ComponentId::parse_list(r#""@method""#).unwrap(),
        ..VerifyOptions::default()
    };
    assert!(matches!(
        verify_message(&m, &key_file("test-key-rsa-pss", true), &opts, None).unwrap_err(),
        Error::MissingRequiredComponent { .. }
    ));
    opts.required = ComponentId::parse_list(r#""@authority" "content-digest""#).unwrap();
    opts.label = Some("nope".into());
    assert!(matches!(
        verify_message(&m, &key_file("test-key-rsa-pss", true), &opts, None).unwrap_err(),
        Error::NoMatchingSignature(_)
    ));
    opts.label = Some("sig-b22".into());
    verify_message(&m, &key_file("test-key-rsa-pss", true), &opts, None).unwrap();

    // §2.4 response bound to its request.
    let mut res = RawMessage::parse(b"HTTP/1.1 503 Service Unavailable\nDate: Tue, 20 Apr 2021 02:07:56 GMT\nContent-Type: application/json\nContent-Length: 62\nContent-Digest: sha-512=:0Y6iCBzGg5rZtoXS95Ijz03mslf6KAMCloESHObfwnHJDbkkWWQz6PhhU9kxsTbARtY2PTBOzq24uJFpHsMuAg==:\n\n{\"busy\": true, \"message\": \"Your call is very important to us\"}\n").unwrap();
    res.append_field(
        "Signature-Input",
        header_value("s2_4_reqres2.signature-input.txt")
            .parse()
            .unwrap(),
    );
    res.append_field(
        "Signature",
        header_value("s2_4_reqres2.signature.txt").parse().unwrap(),
    );
    let opts = VerifyOptions {
        now: at(1618884479),
        ..VerifyOptions::default()
    };
    let request = msg("test-request.http");
    verify_message(
        &res,
        &key_file("test-key-ecc-p256", true),
        &opts,
        Some(&request),
    )
    .unwrap();
    assert_eq!(
        verify_message(&res, &key_file("test-key-ecc-p256", true), &opts, None).unwrap_err(),
        Error::MissingRelatedRequest("\"@authority\";req".into())
    );
}

#[test]
fn sign_then_verify_round_trip_every_key_format() {
    let components =
        ComponentId::parse_list(r#""@method" "@authority" "@path" "content-digest""#).unwrap();
    for (keyid, alg, key) in [
        (
            "test-key-ed25519",
            None,
            key_file("test-key-ed25519", false),
        ),
        (
            "test-key-ecc-p256",
            None,
            key_file("test-key-ecc-p256", false),
        ),
        (
            "test-key-rsa-pss",
            None,
            key_file("test-key-rsa-pss", false),
        ),
        (
            "test-key-rsa",
            Some(Algorithm::RsaV15Sha256),
            key_file("test-key-rsa", false),
        ),
        (
            "test-shared-secret",
            None,
            key_file("test-shared-secret", false),
        ),
        (
            "test-key-ed25519",
            None,
            read("test-key-ed25519.jwk.json").into_bytes(),
        ),
        (
            "test-key-ecc-p256",
            None,
            read("test-key-ecc-p256.jwk.json").into_bytes(),
        ),
        (
            "test-key-rsa",
            Some(Algorithm::RsaPssSha512),
            read("test-key-rsa.jwk.json").into_bytes(),
        ),
    ] {
        let mut m = msg("test-request.http");
        let opts = SignOptions {
            components: components.clone(),
            created: Some(1_700_000_000),
            keyid: Some(keyid.into()),
            alg,
            include_alg: true,
            tag: Some("cli".into()),
            nonce: Some("abc".into()),
            digest: vec![DigestAlgorithm::Sha256],
            ..SignOptions::default()
        };
        let signed = sign_message(&mut m, &key, &opts, None).unwrap();
        assert_eq!(signed.input.params.get_keyid(), Some(keyid));
        // Written back and parsed again, the message verifies with the public key.
        let text = m.serialize();
        let again = RawMessage::parse(&text).unwrap();
        let public = if keyid == "test-shared-secret" || !key.starts_with(b"-----") {
            key.clone()
        } else {
            key_file(keyid, true)
        };
        let v = verify_message(
            &again,
            &public,
            &VerifyOptions {
                alg: alg.or((keyid == "test-key-rsa-pss").then_some(Algorithm::RsaPssSha512)),
                now: at(1_700_000_001),
                tag: Some("cli".into()),
                require_content_digest: true,
                ..VerifyOptions::default()
            },
            None,
        )
        .unwrap_or_else(|e| panic!("{keyid}: {e}"));
        assert_eq!(v.content_digest, Some(DigestAlgorithm::Sha256));
        // The same label cannot be added twice.
        assert!(matches!(
            sign_message(&mut m, &key, &opts, None).unwrap_err(),
            Error::DuplicateLabel { .. }
        ));
    }
}

#[test]
fn base_of_existing_and_new_signatures() {
    let m = with_sig("b23", "test-request.http");
    assert_eq!(
        message_base(&m, None, None, "https", None)
            .unwrap()
            .as_str(),
        read("b23.base.txt")
    );
    assert_eq!(
        message_base(&m, Some("sig-b23"), None, "https", None)
            .unwrap()
            .as_str(),
        read("b23.base.txt")
    );
    assert!(message_base(&m, Some("x"), None, "https", None).is_err());
    let (_, input) = secdispatch_httpsig::fields::parse_signature_input(&header_value(
        "b26.signature-input.txt",
    ))
    .unwrap()
    .remove(0);
    let plain = msg("test-request.http");
    assert_eq!(
        message_base(&plain, None, Some(&input), "https", None)
            .unwrap()
            .as_str(),
        read("b26.base.txt")
    );
    assert_eq!(
        message_base(&plain, None, None, "https", None).unwrap_err(),
        Error::NoSignatureInput
    );
    // Previewing what `sign_message` would sign, from the same options.
    let opts = SignOptions {
        components: ComponentId::parse_list(
            r#""date" "@method" "@path" "@authority" "content-type" "content-length""#,
        )
        .unwrap(),
        created: Some(1618884473),
        keyid: Some("test-key-ed25519".into()),
        ..SignOptions::default()
    };
    let preview = message_base(
        &plain,
        None,
        Some(&opts.signature_input().unwrap()),
        "https",
        None,
    )
    .unwrap();
    assert_eq!(preview.as_str(), read("b26.base.txt"));
    let mut signed = msg("test-request.http");
    let s = sign_message(
        &mut signed,
        &key_file("test-key-ed25519", false),
        &SignOptions {
            label: "sig-b26".into(),
            ..opts
        },
        None,
    )
    .unwrap();
    assert_eq!(s.base, preview);
    assert_eq!(s.signature, parse_signature_bytes("b26"));
}

#[test]
fn digest_add_and_check() {
    let mut m = msg("test-request.http");
    assert_eq!(check_content_digest(&m).unwrap(), DigestAlgorithm::Sha512);
    let v = add_content_digest(&mut m, &[DigestAlgorithm::Sha256]);
    assert_eq!(v, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
    assert_eq!(
        m.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-digest"))
            .count(),
        1
    );
    assert_eq!(check_content_digest(&m).unwrap(), DigestAlgorithm::Sha256);
    m.body = bytes::Bytes::from_static(b"{\"hello\": \"World\"}");
    assert!(matches!(
        check_content_digest(&m).unwrap_err(),
        Error::DigestMismatch { .. }
    ));
    let none = RawMessage::parse(b"GET / HTTP/1.1\nHost: a\n\n").unwrap();
    assert_eq!(
        check_content_digest(&none).unwrap_err(),
        Error::MissingDigest("content-digest")
    );
}

#[test]
fn key_file_detection_errors() {
    let mut m = msg("test-request.http");
    let opts = SignOptions::default();
    for bad in [
        &b"\xff\xfe"[..],
        b"not a key !!",
        b"{\"kty\": \"RSA\"",
        b"-----BEGIN X-----\nAA==\n-----END X-----\n",
    ] {
        assert!(sign_message(&mut m, bad, &opts, None).is_err());
    }
    // A public key cannot sign; a short HMAC secret is refused.
    assert_eq!(
        sign_message(&mut m, &key_file("test-key-ed25519", true), &opts, None).unwrap_err(),
        Error::NotAPrivateKey
    );
    assert!(matches!(
        sign_message(&mut m, b"c2hvcnQ=", &opts, None).unwrap_err(),
        Error::HmacKeyTooShort { .. }
    ));
    // --alg that contradicts the key.
    let opts = SignOptions {
        alg: Some(Algorithm::EcdsaP256Sha256),
        ..SignOptions::default()
    };
    assert!(matches!(
        sign_message(&mut m, &key_file("test-key-ed25519", false), &opts, None).unwrap_err(),
        Error::AlgorithmMismatch { .. }
    ));
    let opts = SignOptions {
        alg: Some(Algorithm::RsaV15Sha256),
        ..SignOptions::default()
    };
    assert!(matches!(
        sign_message(&mut m, &key_file("test-key-rsa-pss", false), &opts, None).unwrap_err(),
        Error::AlgorithmMismatch { .. }
    ));
}
