//! `TokenRequest` / `TokenResponse` decoding and the issuer's request handling (type 1
//! element decoding, type 2 range checks): no panic, decoded requests round-trip.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::issuer::Issuer;
use secdispatch_privacypass::wire::token_request::MEDIA_TYPE_TOKEN_REQUEST;
use secdispatch_privacypass::{TokenRequest, TokenResponse, TokenType, type1, type2};

fn issuer() -> &'static Issuer {
    static ISSUER: OnceLock<Issuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let mut i = Issuer::new(8);
        let k1 = type1::IssuerKey::derive(&[7u8; 48]).expect("derive");
        i.add_type1(Arc::new(k1)).expect("add");
        let k2 = type2::IssuerKey::generate(type2::Backend::AwsLc).expect("keygen");
        i.add_type2(Arc::new(k2)).expect("add");
        i
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = TokenRequest::decode(data) {
        assert_eq!(r.encode(), data);
    }
    for t in [TokenType::PRIVATE_P384, TokenType::PUBLIC_RSA] {
        let _ = TokenResponse::decode(t, data);
    }
    let _ = issuer().handle(&mut getrandom::SysRng, Some(MEDIA_TYPE_TOKEN_REQUEST), data);
});
