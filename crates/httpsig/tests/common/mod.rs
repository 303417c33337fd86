//! Shared helpers for the integration tests: vector files, keys, messages.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::key::{SigningKey, VerifyingKey};

pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

pub fn read(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The value of a one-line `Name: value` file.
pub fn header_value(name: &str) -> String {
    let text = read(name);
    let line = text.trim_end_matches('\n');
    let (_, v) = line.split_once(": ").expect("Name: value");
    v.to_owned()
}

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The RFC's algorithm binding for each test key.
pub fn key_alg(keyid: &str) -> Option<Algorithm> {
    match keyid {
        "test-key-rsa-pss" => Some(Algorithm::RsaPssSha512),
        "test-key-rsa" => Some(Algorithm::RsaV15Sha256),
        _ => None,
    }
}

pub fn hmac_secret() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(read("test-shared-secret.b64").trim())
        .unwrap()
}

pub fn signing_key(keyid: &str) -> SigningKey {
    let k = if keyid == "test-shared-secret" {
        SigningKey::hmac(&hmac_secret()).unwrap()
    } else {
        SigningKey::from_pem(&read(&format!("{keyid}.key.pem")), key_alg(keyid)).unwrap()
    };
    k.with_keyid(keyid)
}

pub fn verifying_key(keyid: &str) -> VerifyingKey {
    let k = if keyid == "test-shared-secret" {
        VerifyingKey::hmac(&hmac_secret()).unwrap()
    } else {
        VerifyingKey::from_pem(&read(&format!("{keyid}.pub.pem")), key_alg(keyid)).unwrap()
    };
    k.with_keyid(keyid)
}

pub fn test_request() -> http::Request<Bytes> {
    RawMessage::parse(read("test-request.http").as_bytes())
        .unwrap()
        .to_request()
        .unwrap()
}

pub fn test_response() -> http::Response<Bytes> {
    RawMessage::parse(read("test-response.http").as_bytes())
        .unwrap()
        .to_response()
        .unwrap()
}

fn request_from(text: &str) -> http::Request<Bytes> {
    RawMessage::parse(text.as_bytes())
        .unwrap()
        .to_request()
        .unwrap()
}

/// The B.3 request as the TTRP forwards it.
pub fn ttrp_request() -> http::Request<Bytes> {
    let base = read("b3_ttrp.base.txt");
    let cert = base
        .lines()
        .find_map(|l| l.strip_prefix("\"client-cert\": "))
        .unwrap()
        .to_owned();
    request_from(&format!(
        "POST /foo?param=Value&Pet=dog HTTP/1.1\nHost: service.internal.example\nDate: Tue, 20 Apr 2021 02:07:55 GMT\nContent-Type: application/json\nContent-Length: 18\nClient-Cert: {cert}\n\n{{\"hello\": \"world\"}}\n"
    ))
}

/// The B.4 original request.
pub const B4_REQUEST: &str = "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\n\n";

pub fn b4_request() -> http::Request<Bytes> {
    request_from(B4_REQUEST)
}

/// The §4.3 request as forwarded by the proxy.
pub fn proxy_request() -> http::Request<Bytes> {
    request_from(
        "POST /foo HTTP/1.1\nHost: origin.host.internal.example\nDate: Tue, 20 Apr 2021 02:07:55 GMT\nContent-Type: application/json\nContent-Length: 18\nContent-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\nForwarded: for=192.0.2.123;host=example.com;proto=https\n\n{\"hello\": \"world\"}\n",
    )
}

/// The §2.4 503 response.
pub fn busy_response() -> http::Response<Bytes> {
    RawMessage::parse(
        b"HTTP/1.1 503 Service Unavailable\nDate: Tue, 20 Apr 2021 02:07:56 GMT\nContent-Type: application/json\nContent-Length: 62\nContent-Digest: sha-512=:0Y6iCBzGg5rZtoXS95Ijz03mslf6KAMCloESHObfwnHJDbkkWWQz6PhhU9kxsTbARtY2PTBOzq24uJFpHsMuAg==:\n\n{\"busy\": true, \"message\": \"Your call is very important to us\"}\n",
    )
    .unwrap()
    .to_response()
    .unwrap()
}
