//! RFC 9421 Appendix B and §2.4/§3/§4.3 examples: byte-exact bases, verification of every
//! signature, byte-exact re-signing for the deterministic algorithms.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use bytes::Bytes;
use common::*;
use secdispatch_httpsig::base::signature_base;
use secdispatch_httpsig::fields::{
    SIGNATURE, SIGNATURE_INPUT, parse_signature, parse_signature_input,
};
use secdispatch_httpsig::message::{MessageView, RequestView, ResponseView};
use secdispatch_httpsig::resolver::StaticResolver;
use secdispatch_httpsig::sign::sign_input;
use secdispatch_httpsig::verify::{Verifier, VerifyPolicy};

const IDS: [&str; 12] = [
    "b21",
    "b22",
    "b23",
    "b24",
    "b25",
    "b26",
    "b3_ttrp",
    "b4_transform",
    "s3_2_sig1",
    "s2_4_reqres1",
    "s2_4_reqres2",
    "s4_3_proxy_sig",
];

enum Msg {
    Req(http::Request<Bytes>),
    Res(http::Response<Bytes>, Option<http::Request<Bytes>>),
}

fn message_for(id: &str) -> Msg {
    match id {
        "b24" => Msg::Res(test_response(), None),
        "s2_4_reqres1" | "s2_4_reqres2" => Msg::Res(busy_response(), Some(test_request())),
        "b3_ttrp" => Msg::Req(ttrp_request()),
        "b4_transform" => Msg::Req(b4_request()),
        "s4_3_proxy_sig" => Msg::Req(proxy_request()),
        _ => Msg::Req(test_request()),
    }
}

fn add_signature_fields(msg: &mut Msg, id: &str) {
    let si = header_value(&format!("{id}.signature-input.txt"));
    let sig = header_value(&format!("{id}.signature.txt"));
    let headers = match msg {
        Msg::Req(r) => r.headers_mut(),
        Msg::Res(r, _) => r.headers_mut(),
    };
    headers.insert(SIGNATURE_INPUT, si.parse().unwrap());
    headers.insert(SIGNATURE, sig.parse().unwrap());
}

fn with_view<T>(msg: &Msg, f: impl FnOnce(&MessageView<'_>) -> T) -> T {
    match msg {
        Msg::Req(r) => f(&MessageView::request(RequestView::of(r))),
        Msg::Res(r, req) => {
            let mut v = MessageView::response(ResponseView::of(r));
            if let Some(q) = req {
                v = v.related_request(RequestView::of(q));
            }
            f(&v)
        }
    }
}

fn input_of(id: &str) -> (String, secdispatch_httpsig::params::SignatureInput) {
    let mut v = parse_signature_input(&header_value(&format!("{id}.signature-input.txt"))).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn keyid_of(id: &str) -> String {
    input_of(id).1.params.get_keyid().unwrap().to_owned()
}

#[test]
fn every_base_is_byte_exact() {
    for id in IDS {
        let (_, input) = input_of(id);
        let msg = message_for(id);
        let base = with_view(&msg, |v| signature_base(v, &input)).unwrap();
        assert_eq!(base.as_str(), read(&format!("{id}.base.txt")), "{id}");
        // The Signature-Input member re-serializes to the exact received text.
        let si = header_value(&format!("{id}.signature-input.txt"));
        let (label, _) = input_of(id);
        assert_eq!(format!("{label}={}", base.signature_params()), si, "{id}");
    }
}

#[test]
fn every_signature_verifies() {
    for id in IDS {
        let keyid = keyid_of(id);
        let mut msg = message_for(id);
        add_signature_fields(&mut msg, id);
        let resolver = StaticResolver::new().with(keyid.clone(), verifying_key(&keyid));
        let verifier = Verifier::new(resolver, VerifyPolicy::permissive());
        let created = input_of(id).1.params.get_created().unwrap();
        let verified = with_view(&msg, |v| verifier.verify(v, at(created)))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].base.as_str(), read(&format!("{id}.base.txt")));
        assert_eq!(verified[0].keyid.as_deref(), Some(keyid.as_str()));
    }
}

#[test]
fn signatures_also_verify_with_jwk_keys() {
    for id in IDS {
        let keyid = keyid_of(id);
        if keyid == "test-shared-secret" {
            continue;
        }
        let jwk =
            secdispatch_httpsig::key::Jwk::parse(&read(&format!("{keyid}.jwk.json"))).unwrap();
        let key = jwk.verifying_key(key_alg(&keyid)).unwrap();
        let base = read(&format!("{id}.base.txt"));
        let sig = parse_signature(&header_value(&format!("{id}.signature.txt"))).unwrap();
        assert!(key.verify(base.as_bytes(), &sig[0].1), "{id}");
        // The private JWK signs, and its signature verifies with the PEM public key.
        let sk = jwk.signing_key(key_alg(&keyid)).unwrap();
        let s = sk.sign(base.as_bytes()).unwrap();
        assert!(verifying_key(&keyid).verify(base.as_bytes(), &s), "{id}");
    }
}

#[test]
fn deterministic_algorithms_re_sign_byte_exact() {
    let mut checked = 0;
    for id in IDS {
        let keyid = keyid_of(id);
        let key = signing_key(&keyid);
        let (label, input) = input_of(id);
        let msg = message_for(id);
        let signed = with_view(&msg, |v| sign_input(v, &label, input, &key)).unwrap();
        let expected = parse_signature(&header_value(&format!("{id}.signature.txt"))).unwrap();
        if key.algorithm().is_deterministic() {
            assert_eq!(signed.signature, expected[0].1, "{id}");
            checked += 1;
        } else {
            assert!(verifying_key(&keyid).verify(signed.base.as_bytes(), &signed.signature));
        }
    }
    assert_eq!(checked, 4, "b25, b26, b4_transform, s4_3_proxy_sig");
}

#[test]
fn known_signature_values() {
    let b25 = parse_signature(&header_value("b25.signature.txt")).unwrap();
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&b25[0].1),
        "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="
    );
}

#[test]
fn section_4_3_both_signatures_verify() {
    let mut req = proxy_request();
    req.headers_mut().insert(
        SIGNATURE_INPUT,
        header_value("s4_3_multi.signature-input-full.txt")
            .parse()
            .unwrap(),
    );
    req.headers_mut().insert(
        SIGNATURE,
        header_value("s4_3_multi.signature-full.txt")
            .parse()
            .unwrap(),
    );
    let resolver = StaticResolver::new()
        .with("test-key-rsa", verifying_key("test-key-rsa"))
        .with("test-key-ecc-p256", verifying_key("test-key-ecc-p256"));
    let mut policy = VerifyPolicy::permissive();
    policy.selection = secdispatch_httpsig::verify::Selection::All;
    let verifier = Verifier::new(resolver, policy);
    // The client's sig1 covers @authority example.com: it fails on the forwarded request,
    // so "all" fails while the proxy signature alone passes.
    let view = MessageView::request(RequestView::of(&req));
    assert!(verifier.verify(&view, at(1618884480)).is_err());
    let mut policy = VerifyPolicy::permissive();
    policy.label = Some("proxy_sig".into());
    let resolver = StaticResolver::new().with("test-key-rsa", verifying_key("test-key-rsa"));
    let v = Verifier::new(resolver, policy)
        .verify(&view, at(1618884480))
        .unwrap();
    assert_eq!(v[0].label, "proxy_sig");
    // The client signature verifies over the client's own view of the request.
    let client_base = read("s4_3_sig1_client.base.txt");
    let sigs = parse_signature(&header_value("s4_3_multi.signature-full.txt")).unwrap();
    assert!(verifying_key("test-key-ecc-p256").verify(client_base.as_bytes(), &sigs[0].1));
}

#[test]
fn gateway_signer_reproduces_the_b3_ttrp_base() {
    // RFC 9421 B.3 / RFC 9440: the TLS-terminating proxy signs the forwarded Client-Cert.
    use secdispatch_httpsig::sign::{Signer, SignerConfig};
    use std::sync::Arc;
    let key = Arc::new(signing_key("test-key-ecc-p256"));
    let signer = Signer::new(
        key,
        SignerConfig::new(
            "ttrp",
            secdispatch_httpsig::component::ComponentId::parse_list(
                r#""@path" "@query" "@method" "@authority" "client-cert""#,
            )
            .unwrap(),
        ),
    );
    let mut req = ttrp_request();
    let signed = signer.sign_request(&mut req, at(1618884473)).unwrap();
    assert_eq!(signed.base.as_str(), read("b3_ttrp.base.txt"));
    assert_eq!(
        req.headers()[SIGNATURE_INPUT].to_str().unwrap(),
        header_value("b3_ttrp.signature-input.txt")
    );
    // ECDSA is randomized: the signature differs from the RFC's but verifies.
    let resolver =
        StaticResolver::new().with("test-key-ecc-p256", verifying_key("test-key-ecc-p256"));
    let mut policy = VerifyPolicy::default();
    policy
        .required_components
        .push(secdispatch_httpsig::component::ComponentId::field("client-cert").unwrap());
    policy.require_content_digest = false;
    let v = Verifier::new(resolver, policy)
        .verify(&MessageView::request(RequestView::of(&req)), at(1618884473))
        .unwrap();
    assert_eq!(v[0].label, "ttrp");
}
