//! Verification policy (RFC 9421 §3.2.1, §7): one test per rule, replay protection through
//! the NonceStore, key resolution and rotation, algorithm binding.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use secdispatch_httpsig::Error;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::fields::{SIGNATURE, SIGNATURE_INPUT};
use secdispatch_httpsig::key::SigningKey;
use secdispatch_httpsig::message::{MessageView, RequestView};
use secdispatch_httpsig::params::{SignatureInput, SignatureParams};
use secdispatch_httpsig::resolver::{JwksResolver, KeyResolver, StaticResolver};
use secdispatch_httpsig::sign::{Signer, SignerConfig, sign_input};
use secdispatch_httpsig::verify::{Selection, Verifier, VerifyPolicy};
use secdispatch_replay::{MemoryNonceStore, NonceStore};

const T0: u64 = 1_700_000_000;

fn ed_key() -> SigningKey {
    signing_key("test-key-ed25519")
}

fn resolver() -> StaticResolver {
    StaticResolver::new()
        .with("test-key-ed25519", verifying_key("test-key-ed25519"))
        .with("test-key-ecc-p256", verifying_key("test-key-ecc-p256"))
}

fn base_request() -> http::Request<Bytes> {
    http::Request::post("https://example.com/foo?x=1")
        .header("content-type", "application/json")
        .body(Bytes::new())
        .unwrap()
}

/// Sign `req` under `label` with `components` and `params` using `key`.
fn sign_with(
    req: &mut http::Request<Bytes>,
    label: &str,
    key: &SigningKey,
    components: &str,
    params: SignatureParams,
) {
    // Built by hand (not with sign_input) so tests can also make signatures whose `alg`
    // disagrees with the key, as an attacker would.
    let input = SignatureInput::new(ComponentId::parse_list(components).unwrap(), params);
    let base = secdispatch_httpsig::base::signature_base(
        &MessageView::request(RequestView::of(req)),
        &input,
    )
    .unwrap();
    let signature = key.sign(base.as_bytes()).unwrap();
    secdispatch_httpsig::fields::append_signature(req.headers_mut(), label, &input, &signature)
        .unwrap();
}

fn std_params() -> SignatureParams {
    SignatureParams::new()
        .created(T0)
        .unwrap()
        .keyid("test-key-ed25519")
        .unwrap()
}

const STD: &str = r#""@method" "@authority" "@path""#;

fn signed_request(params: SignatureParams) -> http::Request<Bytes> {
    let mut r = base_request();
    sign_with(&mut r, "sig1", &ed_key(), STD, params);
    r
}

fn check(req: &http::Request<Bytes>, policy: VerifyPolicy, now: u64) -> Result<(), Error> {
    Verifier::new(resolver(), policy)
        .verify(&MessageView::request(RequestView::of(req)), at(now))
        .map(|_| ())
}

#[test]
fn default_policy_accepts_a_good_signature() {
    check(
        &signed_request(std_params()),
        VerifyPolicy::default(),
        T0 + 10,
    )
    .unwrap();
}

#[test]
fn required_components() {
    let mut r = base_request();
    sign_with(
        &mut r,
        "sig1",
        &ed_key(),
        r#""@method" "@path""#,
        std_params(),
    );
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::MissingRequiredComponent {
            label: "sig1".into(),
            component: "\"@authority\"".into()
        }
    );
}

#[test]
fn content_digest_required_when_there_is_content() {
    let r = signed_request(std_params());
    let view = MessageView::request(RequestView::of(&r)).has_content(true);
    let err = Verifier::new(resolver(), VerifyPolicy::default())
        .verify(&view, at(T0))
        .unwrap_err();
    assert_eq!(
        err,
        Error::MissingRequiredComponent {
            label: "sig1".into(),
            component: "\"content-digest\"".into()
        }
    );
}

#[test]
fn created_required() {
    let r = signed_request(SignatureParams::new().keyid("test-key-ed25519").unwrap());
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::MissingCreated("sig1".into())
    );
}

#[test]
fn max_age_and_skew() {
    let r = signed_request(std_params());
    check(&r, VerifyPolicy::default(), T0 + 305).unwrap();
    assert!(matches!(
        check(&r, VerifyPolicy::default(), T0 + 306).unwrap_err(),
        Error::TooOld { .. }
    ));
    check(&r, VerifyPolicy::default(), T0 - 5).unwrap();
    assert!(matches!(
        check(&r, VerifyPolicy::default(), T0 - 6).unwrap_err(),
        Error::CreatedInFuture { .. }
    ));
}

#[test]
fn expires() {
    let r = signed_request(std_params().expires(T0 + 60).unwrap());
    check(&r, VerifyPolicy::default(), T0 + 65).unwrap();
    assert!(matches!(
        check(&r, VerifyPolicy::default(), T0 + 66).unwrap_err(),
        Error::Expired { .. }
    ));
    let r = signed_request(std_params().expires(T0).unwrap());
    assert!(matches!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::ExpiresBeforeCreated { .. }
    ));
    let mut p = VerifyPolicy::default();
    p.require_expires = true;
    assert_eq!(
        check(&signed_request(std_params()), p, T0).unwrap_err(),
        Error::MissingExpires("sig1".into())
    );
}

#[test]
fn required_parameters() {
    let r = signed_request(std_params());
    let mut p = VerifyPolicy::default();
    p.require_nonce = true;
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::MissingNonce("sig1".into())
    );
    let mut p = VerifyPolicy::default();
    p.require_alg = true;
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::MissingAlg("sig1".into())
    );
    let mut p = VerifyPolicy::default();
    p.require_keyid = true;
    let mut no_keyid = base_request();
    sign_with(
        &mut no_keyid,
        "sig1",
        &ed_key(),
        STD,
        SignatureParams::new().created(T0).unwrap(),
    );
    assert_eq!(
        check(&no_keyid, p, T0).unwrap_err(),
        Error::MissingKeyId("sig1".into())
    );
    // Without keyid and without a default key, resolution fails.
    assert_eq!(
        check(&no_keyid, VerifyPolicy::default(), T0).unwrap_err(),
        Error::UnknownKey(String::new())
    );
}

#[test]
fn unknown_parameters_policy() {
    let r = signed_request(
        std_params()
            .other("ext", sfv::BareItem::Integer(sfv::integer(5)))
            .unwrap(),
    );
    check(&r, VerifyPolicy::default(), T0).unwrap();
    let mut p = VerifyPolicy::default();
    p.reject_unknown_parameters = true;
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::UnexpectedParameter("ext".into())
    );
}

#[test]
fn tag_and_label_selection() {
    let mut r = base_request();
    sign_with(
        &mut r,
        "a",
        &ed_key(),
        STD,
        std_params().tag("app-1").unwrap(),
    );
    sign_with(
        &mut r,
        "b",
        &signing_key("test-key-ecc-p256"),
        STD,
        SignatureParams::new()
            .created(T0)
            .unwrap()
            .keyid("test-key-ecc-p256")
            .unwrap()
            .tag("app-2")
            .unwrap(),
    );
    let v = Verifier::new(
        resolver(),
        VerifyPolicy {
            tag: Some("app-2".into()),
            ..VerifyPolicy::default()
        },
    )
    .verify(&MessageView::request(RequestView::of(&r)), at(T0))
    .unwrap();
    assert_eq!(v[0].label, "b");
    assert_eq!(v[0].algorithm, Algorithm::EcdsaP256Sha256);
    let v = Verifier::new(
        resolver(),
        VerifyPolicy {
            label: Some("a".into()),
            ..VerifyPolicy::default()
        },
    )
    .verify(&MessageView::request(RequestView::of(&r)), at(T0))
    .unwrap();
    assert_eq!(v[0].tag(), Some("app-1"));
    let all = Verifier::new(
        resolver(),
        VerifyPolicy {
            selection: Selection::All,
            ..VerifyPolicy::default()
        },
    )
    .verify(&MessageView::request(RequestView::of(&r)), at(T0))
    .unwrap();
    assert_eq!(all.len(), 2);
    for p in [
        VerifyPolicy {
            tag: Some("app-3".into()),
            ..VerifyPolicy::default()
        },
        VerifyPolicy {
            label: Some("c".into()),
            ..VerifyPolicy::default()
        },
    ] {
        assert!(matches!(
            check(&r, p, T0).unwrap_err(),
            Error::NoMatchingSignature(_)
        ));
    }
}

#[test]
fn any_skips_a_bad_signature_all_does_not() {
    let mut r = base_request();
    sign_with(&mut r, "good", &ed_key(), STD, std_params());
    // A second signature with the right key id but made with another key.
    let other = SigningKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n",
        None,
    )
    .unwrap();
    sign_with(&mut r, "forged", &other, STD, std_params());
    check(&r, VerifyPolicy::default(), T0).unwrap();
    let p = VerifyPolicy {
        selection: Selection::All,
        ..VerifyPolicy::default()
    };
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::BadSignature("forged".into())
    );
    let p = VerifyPolicy {
        label: Some("forged".into()),
        ..VerifyPolicy::default()
    };
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::BadSignature("forged".into())
    );
}

#[test]
fn too_many_signatures() {
    let mut r = base_request();
    for i in 0..3 {
        sign_with(&mut r, &format!("s{i}"), &ed_key(), STD, std_params());
    }
    let p = VerifyPolicy {
        max_signatures: 2,
        ..VerifyPolicy::default()
    };
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::TooManySignatures { count: 3, limit: 2 }
    );
}

#[test]
fn algorithm_comes_from_the_key() {
    // `alg` that disagrees with the key.
    let r = signed_request(std_params().alg("ecdsa-p256-sha256").unwrap());
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::AlgorithmMismatch {
            key: Algorithm::Ed25519,
            requested: "ecdsa-p256-sha256".into()
        }
    );
    // The signer refuses to write an `alg` its key does not have.
    let input = SignatureInput::new(vec![], std_params().alg("hmac-sha256").unwrap());
    let req = base_request();
    assert!(matches!(
        sign_input(
            &MessageView::request(RequestView::of(&req)),
            "s",
            input,
            &ed_key()
        ),
        Err(Error::AlgorithmMismatch { .. })
    ));
    // Unregistered names, including JOSE names and `none`.
    for bad in ["RS256", "none", "hs2019"] {
        let r = signed_request(std_params().alg(bad).unwrap());
        assert_eq!(
            check(&r, VerifyPolicy::default(), T0).unwrap_err(),
            Error::UnknownAlgorithm(bad.into())
        );
    }
    // Matching `alg` is fine; the allowlist is enforced.
    let r = signed_request(std_params().alg("ed25519").unwrap());
    check(&r, VerifyPolicy::default(), T0).unwrap();
    let p = VerifyPolicy {
        allowed_algorithms: vec![Algorithm::EcdsaP256Sha256],
        ..VerifyPolicy::default()
    };
    assert_eq!(
        check(&r, p, T0).unwrap_err(),
        Error::AlgorithmNotAllowed(Algorithm::Ed25519)
    );
    // An HMAC secret under the same key id cannot verify an Ed25519 signature.
    let hmac_resolver = StaticResolver::new().with(
        "test-key-ed25519",
        secdispatch_httpsig::key::VerifyingKey::hmac(&hmac_secret()).unwrap(),
    );
    let r = signed_request(std_params());
    assert_eq!(
        Verifier::new(hmac_resolver, VerifyPolicy::default())
            .verify(&MessageView::request(RequestView::of(&r)), at(T0))
            .unwrap_err(),
        Error::BadSignature("sig1".into())
    );
}

#[test]
fn tampering_is_detected() {
    let mut r = signed_request(std_params());
    *r.uri_mut() = "https://example.com/bar?x=1".parse().unwrap();
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::BadSignature("sig1".into())
    );
    let mut r = signed_request(std_params());
    let si = r.headers()[SIGNATURE_INPUT]
        .to_str()
        .unwrap()
        .replace(&T0.to_string(), &(T0 + 1).to_string());
    r.headers_mut().insert(SIGNATURE_INPUT, si.parse().unwrap());
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::BadSignature("sig1".into())
    );
    let mut r = signed_request(std_params());
    r.headers_mut()
        .insert(SIGNATURE, "sig1=:AAAA:".parse().unwrap());
    assert_eq!(
        check(&r, VerifyPolicy::default(), T0).unwrap_err(),
        Error::BadSignature("sig1".into())
    );
}

#[test]
fn malformed_fields_are_400() {
    for (si, sig) in [
        ("sig1=(\"@method\"", "sig1=:AA==:"),
        ("sig1=();created=\"x\"", "sig1=:AA==:"),
        ("sig1=();created=-1", "sig1=:AA==:"),
        ("sig1=(@method)", "sig1=:AA==:"),
        ("sig1=();created=1", "sig1=AA"),
    ] {
        let mut r = base_request();
        r.headers_mut().insert(SIGNATURE_INPUT, si.parse().unwrap());
        r.headers_mut().insert(SIGNATURE, sig.parse().unwrap());
        let e = check(&r, VerifyPolicy::default(), T0).unwrap_err();
        assert_eq!(
            e.status(),
            http::StatusCode::BAD_REQUEST,
            "{si} / {sig}: {e}"
        );
    }
    let r = base_request();
    let e = check(&r, VerifyPolicy::default(), T0).unwrap_err();
    assert_eq!(e, Error::NoSignatureInput);
    assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn nonce_replay_is_rejected() {
    let store = Arc::new(MemoryNonceStore::new());
    let verifier = Verifier::new(resolver(), VerifyPolicy::default())
        .with_nonce_store(store.clone() as Arc<dyn NonceStore>);
    let r = signed_request(std_params().nonce("n-1").unwrap());
    let view = MessageView::request(RequestView::of(&r));
    verifier.verify_async(&view, at(T0)).await.unwrap();
    assert_eq!(
        verifier.verify_async(&view, at(T0 + 1)).await.unwrap_err(),
        Error::Replayed
    );
    // The sync API refuses to skip the replay check.
    assert_eq!(
        verifier.verify(&view, at(T0)).unwrap_err(),
        Error::ReplayCheckNeedsAsync
    );
    // A forged message with a fresh nonce does not burn it: the real one still passes.
    let mut forged = signed_request(std_params().nonce("n-2").unwrap());
    forged
        .headers_mut()
        .insert(SIGNATURE, "sig1=:AAAA:".parse().unwrap());
    assert_eq!(
        verifier
            .verify_async(&MessageView::request(RequestView::of(&forged)), at(T0))
            .await
            .unwrap_err(),
        Error::BadSignature("sig1".into())
    );
    let real = signed_request(std_params().nonce("n-2").unwrap());
    verifier
        .verify_async(&MessageView::request(RequestView::of(&real)), at(T0))
        .await
        .unwrap();
    // After the acceptance window the nonce may be reused (the signature is too old anyway).
    let later = verifier
        .verify_async(&view, at(T0 + 400))
        .await
        .unwrap_err();
    assert!(matches!(later, Error::TooOld { .. }));
    // Nonces are scoped by key id.
    let check_scope = store
        .reserve("httpsig:test-key-ed25519", b"n-1", at(T0 + 2), at(T0 + 3))
        .await;
    assert!(check_scope.is_err());
}

#[test]
fn rotation_windows() {
    let mut r = StaticResolver::new();
    r.insert_window(
        "k",
        verifying_key("test-key-ed25519"),
        Some(at(T0 - 100)),
        Some(at(T0 + 100)),
    );
    assert!(r.resolve(Some("k"), at(T0)).is_ok());
    assert_eq!(
        r.resolve(Some("k"), at(T0 + 101)).unwrap_err(),
        Error::KeyNotValidNow("k".into())
    );
    assert_eq!(
        r.resolve(Some("k"), at(T0 - 101)).unwrap_err(),
        Error::KeyNotValidNow("k".into())
    );
    // Overlap: old and new key under one id during the grace period.
    r.insert_window(
        "k",
        verifying_key("test-key-ecc-p256"),
        Some(at(T0 + 50)),
        None,
    );
    assert_eq!(r.resolve(Some("k"), at(T0 + 60)).unwrap().len(), 2);
    assert_eq!(r.resolve(Some("k"), at(T0 + 200)).unwrap().len(), 1);
    assert_eq!(
        r.resolve(Some("x"), at(T0)).unwrap_err(),
        Error::UnknownKey("x".into())
    );
}

#[test]
fn jwks_resolver_by_kid_and_thumbprint() {
    let keys: Vec<String> = ["test-key-ed25519", "test-key-ecc-p256", "test-key-rsa-pss"]
        .iter()
        .map(|k| read(&format!("{k}.jwk.json")))
        .collect();
    let jwks = format!("{{\"keys\": [{}]}}", keys.join(","));
    // RSA keys without `alg` need a binding.
    assert!(JwksResolver::from_json(jwks.as_bytes(), None).is_err());
    let r = JwksResolver::from_json(jwks.as_bytes(), Some(Algorithm::RsaPssSha512)).unwrap();
    let k = r.resolve(Some("test-key-ecc-p256"), at(T0)).unwrap();
    assert_eq!(k[0].algorithm(), Algorithm::EcdsaP256Sha256);
    let thumb = secdispatch_httpsig::key::jwk_thumbprint(&keys[0]).unwrap();
    let k = r.resolve(Some(&thumb), at(T0)).unwrap();
    assert_eq!(k[0].algorithm(), Algorithm::Ed25519);
    // The whole b21 vector verifies through the JWKS.
    let mut req = test_request();
    req.headers_mut().insert(
        SIGNATURE_INPUT,
        header_value("b21.signature-input.txt").parse().unwrap(),
    );
    req.headers_mut().insert(
        SIGNATURE,
        header_value("b21.signature.txt").parse().unwrap(),
    );
    Verifier::new(r, VerifyPolicy::permissive())
        .verify(&MessageView::request(RequestView::of(&req)), at(1618884473))
        .unwrap();
    // Replacement is all-or-nothing.
    let r = JwksResolver::from_json(jwks.as_bytes(), Some(Algorithm::RsaPssSha512)).unwrap();
    assert!(r.replace(b"{\"keys\": [{\"kty\": \"nope\"}]}").is_err());
    assert!(r.resolve(Some("test-key-ed25519"), at(T0)).is_ok());
    r.replace(b"{\"keys\": []}").unwrap();
    assert!(r.resolve(Some("test-key-ed25519"), at(T0)).is_err());
}

#[test]
fn signer_adds_parameters_and_several_labels() {
    let key = Arc::new(ed_key());
    let mut cfg = SignerConfig::new("first", ComponentId::parse_list(STD).unwrap());
    cfg.expires_in = Some(30);
    cfg.alg = true;
    cfg.random_nonce = true;
    cfg.tag = Some("t".into());
    let signer = Signer::new(key.clone(), cfg);
    let mut r = base_request();
    let s = signer.sign_request(&mut r, at(T0)).unwrap();
    let p = &s.input.params;
    assert_eq!(p.get_created(), Some(T0));
    assert_eq!(p.get_expires(), Some(T0 + 30));
    assert_eq!(p.get_alg(), Some("ed25519"));
    assert_eq!(p.get_keyid(), Some("test-key-ed25519"));
    assert_eq!(p.get_nonce().map(str::len), Some(22));
    let second = Signer::new(key, SignerConfig::new("second", vec![]));
    second.sign_request(&mut r, at(T0)).unwrap();
    assert!(signer.sign_request(&mut r, at(T0)).is_err(), "label reuse");
    let mut p = VerifyPolicy::default();
    p.selection = Selection::All;
    p.required_components.clear();
    let v = Verifier::new(resolver(), p)
        .verify(&MessageView::request(RequestView::of(&r)), at(T0 + 1))
        .unwrap();
    assert_eq!(v.len(), 2);
    let _ = Duration::ZERO;
}
