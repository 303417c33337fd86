//! Issuer directory JSON and the token keys it carries: no panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::directory::IssuerDirectory;
use secdispatch_privacypass::{TokenType, type1, type2};

fuzz_target!(|data: &[u8]| {
    // The raw bytes as token keys of each type.
    let _ = type1::PublicKey::from_token_key(data);
    let _ = type2::PublicKey::from_token_key(data);
    if let Ok(d) = IssuerDirectory::from_json(data) {
        let _ = d.request_uri("https://issuer.example");
        for t in [TokenType::PRIVATE_P384, TokenType::PUBLIC_RSA] {
            if let Some(k) = d.select(t, 1_700_000_000)
                && let Ok(bytes) = k.key_bytes()
            {
                let _ = type1::PublicKey::from_token_key(&bytes);
                let _ = type2::PublicKey::from_token_key(&bytes);
            }
        }
    }
});
