//! RFC 9440 Appendix A, byte for byte, and property tests of the codec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use secdispatch_clientcert::{
    CLIENT_CERT, CLIENT_CERT_CHAIN, certificates_from_pem, decode, encode_client_cert,
    encode_client_cert_chain,
};

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The value after `Name: ` on the single line of a `*.header.txt` file.
fn header_value(file: &str, name: &str) -> String {
    let text = vector(file);
    text.trim_end()
        .strip_prefix(&format!("{name}: "))
        .unwrap()
        .to_owned()
}

#[test]
fn client_cert_of_appendix_a_is_byte_exact() {
    let ee = certificates_from_pem(&vector("client-ee.pem")).unwrap();
    assert_eq!(ee.len(), 1);
    assert_eq!(ee[0].len(), 428);
    let value = encode_client_cert(&ee[0]).unwrap();
    assert_eq!(
        value.to_str().unwrap(),
        header_value("client-cert.header.txt", "Client-Cert")
    );
}

#[test]
fn client_cert_chain_of_appendix_a_is_byte_exact() {
    let inter = certificates_from_pem(&vector("intermediate-ca.pem")).unwrap();
    let root = certificates_from_pem(&vector("root-ca.pem")).unwrap();
    let value = encode_client_cert_chain(&[&inter[0], &root[0]]).unwrap();
    assert_eq!(
        value.to_str().unwrap(),
        header_value("client-cert-chain.header.txt", "Client-Cert-Chain")
    );
}

#[test]
fn decoding_appendix_a_gives_the_example_chain_in_order() {
    let mut h = HeaderMap::new();
    h.insert(
        CLIENT_CERT,
        header_value("client-cert.header.txt", "Client-Cert")
            .parse()
            .unwrap(),
    );
    h.insert(
        CLIENT_CERT_CHAIN,
        header_value("client-cert-chain.header.txt", "Client-Cert-Chain")
            .parse()
            .unwrap(),
    );
    let fields = decode(&h).unwrap().unwrap();
    let expected = certificates_from_pem(&vector("example-chain.pem")).unwrap();
    assert_eq!(expected.len(), 3);
    assert_eq!(fields.end_entity, expected[0]);
    assert_eq!(fields.chain, expected[1..].to_vec());
    assert!(
        !fields.chain.contains(&fields.end_entity),
        "the EE is never in the chain"
    );
}

#[test]
fn unpadded_base64_is_accepted_url_safe_is_not() {
    // RFC 8941 §4.2.7: parsers SHOULD NOT fail on missing padding; only the standard
    // alphabet is valid.
    let mut h = HeaderMap::new();
    h.insert(CLIENT_CERT, HeaderValue::from_static(":MAMCAQc:"));
    assert_eq!(
        decode(&h).unwrap().unwrap().end_entity,
        vec![0x30, 0x03, 0x02, 0x01, 0x07]
    );
    h.insert(CLIENT_CERT, HeaderValue::from_static(":MAMC_Qc=:"));
    assert!(decode(&h).is_err());
}

/// A DER SEQUENCE around `content`.
fn der_seq(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

proptest! {
    #[test]
    fn round_trip(ee in proptest::collection::vec(any::<u8>(), 0..3000),
                  chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..4)) {
        let ee = der_seq(&ee);
        let chain: Vec<Vec<u8>> = chain.iter().map(|c| der_seq(c)).collect();
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT, encode_client_cert(&ee).unwrap());
        if !chain.is_empty() {
            h.insert(CLIENT_CERT_CHAIN, encode_client_cert_chain(&chain).unwrap());
        }
        let fields = decode(&h).unwrap().unwrap();
        prop_assert_eq!(fields.end_entity, ee);
        prop_assert_eq!(fields.chain, chain);
    }

    #[test]
    fn decode_never_panics(value in "[ -~]{0,200}", chain in proptest::option::of("[ -~]{0,200}")) {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(CLIENT_CERT, v);
        }
        if let Some(c) = chain && let Ok(v) = HeaderValue::from_str(&c) {
            h.insert(CLIENT_CERT_CHAIN, v);
        }
        let _ = decode(&h);
    }
}
