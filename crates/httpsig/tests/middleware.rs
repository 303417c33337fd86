//! The tower layers: status codes, challenge, extensions, digest checks, client signing.
#![cfg(feature = "tower")]
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http::{Request, Response, StatusCode};
use http_body::Body as _;
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::digest::{DigestAlgorithm, collect_body};
use secdispatch_httpsig::middleware::{
    BufferedBody, SignConfig, SignLayer, VerifiedRequest, VerifyConfig, VerifyLayer,
};
use secdispatch_httpsig::resolver::StaticResolver;
use secdispatch_httpsig::sign::{Signer, SignerConfig};
use secdispatch_httpsig::verify::{Verifier, VerifyPolicy};
use tower::{Layer, Service, ServiceExt, service_fn};

const T0: u64 = 1_700_000_000;

fn clock() -> secdispatch_httpsig::middleware::Clock {
    Arc::new(|| at(T0))
}

/// A handler that echoes what the layer verified.
async fn handler(req: Request<BufferedBody>) -> Result<Response<BufferedBody>, Infallible> {
    let v = req.extensions().get::<VerifiedRequest>().cloned();
    let body = collect_body(req.into_body(), 1 << 20).await.unwrap().data;
    let text = match v {
        Some(v) => format!(
            "{} {} {} {:?}",
            v.label,
            v.keyid.unwrap_or_default(),
            body.len(),
            v.content_digest
        ),
        None => "unverified".into(),
    };
    Ok(Response::new(BufferedBody::new(Bytes::from(text), None)))
}

fn verify_layer(limit: u64) -> VerifyLayer<StaticResolver> {
    let resolver =
        StaticResolver::new().with("test-key-ed25519", verifying_key("test-key-ed25519"));
    VerifyLayer::new(
        Verifier::new(resolver, VerifyPolicy::default()),
        VerifyConfig {
            body_limit: limit,
            clock: clock(),
            ..VerifyConfig::default()
        },
    )
}

fn signer() -> Signer {
    Signer::new(
        Arc::new(signing_key("test-key-ed25519")),
        SignerConfig::new(
            "sig1",
            ComponentId::parse_list(r#""@method" "@authority" "@path""#).unwrap(),
        ),
    )
}

/// Sign `req` through the client SignLayer and return what it would send.
async fn sign_via_layer(req: Request<BufferedBody>) -> Request<BufferedBody> {
    let capture = service_fn(
        |r: Request<secdispatch_httpsig::middleware::SignBody<BufferedBody>>| async move {
            let (parts, body) = r.into_parts();
            let c = collect_body(body, 1 << 20).await.unwrap();
            Ok::<_, Infallible>(Request::from_parts(
                parts,
                BufferedBody::new(c.data, c.trailers),
            ))
        },
    );
    let layer = SignLayer::new(
        signer(),
        SignConfig {
            digest: vec![DigestAlgorithm::Sha256],
            clock: clock(),
            ..SignConfig::default()
        },
    );
    layer.layer(capture).oneshot(req).await.unwrap()
}

async fn text(res: Response<impl http_body::Body<Data = Bytes, Error = Infallible>>) -> String {
    let c = collect_body(res.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(c.data.to_vec()).unwrap()
}

fn post(body: &'static [u8]) -> Request<BufferedBody> {
    Request::post("https://example.com/foo")
        .header("content-type", "application/json")
        .body(BufferedBody::new(Bytes::from_static(body), None))
        .unwrap()
}

#[tokio::test]
async fn signed_request_passes_with_extensions() {
    let req = sign_via_layer(post(b"{\"hello\": \"world\"}")).await;
    assert!(req.headers().contains_key("content-digest"));
    assert!(
        req.headers()["signature-input"]
            .to_str()
            .unwrap()
            .contains("\"content-digest\"")
    );
    let mut svc = verify_layer(1 << 20).layer(service_fn(handler));
    let res = ServiceExt::<Request<BufferedBody>>::ready(&mut svc)
        .await
        .unwrap()
        .call(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "sig1 test-key-ed25519 18 Some(Sha256)");
}

#[tokio::test]
async fn get_without_body_passes() {
    let req = sign_via_layer(
        Request::get("https://example.com/foo")
            .body(BufferedBody::default())
            .unwrap(),
    )
    .await;
    assert!(!req.headers().contains_key("content-digest"));
    let res = verify_layer(1 << 20)
        .layer(service_fn(handler))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "sig1 test-key-ed25519 0 None");
}

#[tokio::test]
async fn unsigned_request_gets_401_with_challenge() {
    let res = verify_layer(1 << 20)
        .layer(service_fn(handler))
        .oneshot(post(b"x"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let challenge = res.headers()["accept-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        challenge,
        r#"sig1=("@method" "@authority" "@path");created"#
    );
    let parsed = secdispatch_httpsig::fields::parse_accept_signature(&challenge).unwrap();
    assert!(parsed[0].created);
    assert!(text(res).await.contains("no Signature-Input"));
}

#[tokio::test]
async fn tampered_body_gets_401() {
    let req = sign_via_layer(post(b"{\"hello\": \"world\"}")).await;
    let (parts, _) = req.into_parts();
    let req = Request::from_parts(
        parts,
        BufferedBody::new(Bytes::from_static(b"{\"hello\": \"w0rld\"}"), None),
    );
    let res = verify_layer(1 << 20)
        .layer(service_fn(handler))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(text(res).await.contains("does not match"));
}

#[tokio::test]
async fn body_without_covered_digest_gets_401() {
    // Signed without digest, then a body is attached.
    let mut req = Request::post("https://example.com/foo")
        .body(BufferedBody::new(Bytes::from_static(b"abc"), None))
        .unwrap();
    signer().sign_request(&mut req, at(T0)).unwrap();
    let res = verify_layer(1 << 20)
        .layer(service_fn(handler))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(text(res).await.contains("content-digest"));
}

#[tokio::test]
async fn malformed_signature_gets_400() {
    let mut req = post(b"");
    req.headers_mut()
        .insert("signature-input", "sig1=(".parse().unwrap());
    req.headers_mut()
        .insert("signature", "sig1=:AA==:".parse().unwrap());
    let res = verify_layer(1 << 20)
        .layer(service_fn(handler))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(!res.headers().contains_key("accept-signature"));
}

#[tokio::test]
async fn oversize_body_gets_413() {
    let req = sign_via_layer(post(b"0123456789abcdef")).await;
    let res = verify_layer(8)
        .layer(service_fn(handler))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn sign_layer_respects_body_limit() {
    let capture = service_fn(
        |_r: Request<secdispatch_httpsig::middleware::SignBody<BufferedBody>>| async move {
            Ok::<_, Infallible>(())
        },
    );
    let layer = SignLayer::new(
        signer(),
        SignConfig {
            body_limit: 4,
            clock: clock(),
            ..SignConfig::default()
        },
    );
    let err = layer
        .layer(capture)
        .oneshot(post(b"too long"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exceeds the limit"));
}

#[tokio::test]
async fn streaming_digest_body() {
    use secdispatch_httpsig::digest::DigestBody;
    let good = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
    let b = DigestBody::new(
        BufferedBody::new(Bytes::from_static(b"{\"hello\": \"world\"}"), None),
        "Content-Digest",
        good,
        100,
    )
    .unwrap();
    assert_eq!(collect_body(b, 100).await.unwrap().data.len(), 18);
    let b = DigestBody::new(
        BufferedBody::new(Bytes::from_static(b"{\"hello\": \"World\"}"), None),
        "Content-Digest",
        good,
        100,
    )
    .unwrap();
    assert!(
        collect_body(b, 100)
            .await
            .unwrap_err()
            .to_string()
            .contains("does not match")
    );
    let b = DigestBody::new(
        BufferedBody::new(Bytes::from_static(b"{\"hello\": \"world\"}"), None),
        "Content-Digest",
        good,
        10,
    )
    .unwrap();
    assert!(b.size_hint().exact().is_some());
    assert!(matches!(
        collect_body(b, 100).await.unwrap_err(),
        secdispatch_httpsig::Error::BodyRead(_)
    ));
    assert!(DigestBody::new(BufferedBody::default(), "Content-Digest", "md5=:AA==:", 10).is_err());
}
