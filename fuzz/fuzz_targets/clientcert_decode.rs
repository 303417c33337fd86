//! `Client-Cert` / `Client-Cert-Chain` decoding on arbitrary field values: never panics, and
//! whatever decodes re-encodes to values that decode to the same certificates.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use secdispatch_clientcert::{
    CLIENT_CERT, CLIENT_CERT_CHAIN, decode, encode_client_cert, encode_client_cert_chain,
};

fuzz_target!(|data: &[u8]| {
    // First byte splits the input into the two fields.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (cert, chain) = rest.split_at(at);
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(cert) {
        h.insert(CLIENT_CERT, v);
    }
    if let Ok(v) = HeaderValue::from_bytes(chain) {
        h.insert(CLIENT_CERT_CHAIN, v);
    }
    if let Ok(Some(fields)) = decode(&h) {
        let mut again = HeaderMap::new();
        again.insert(CLIENT_CERT, encode_client_cert(&fields.end_entity).unwrap());
        if !fields.chain.is_empty() {
            again.insert(
                CLIENT_CERT_CHAIN,
                encode_client_cert_chain(&fields.chain).unwrap(),
            );
        }
        assert_eq!(decode(&again).unwrap(), Some(fields));
    }
});
