//! Key-file loading (PEM, DER inside PEM, JWK, JWKS, base64 secrets). No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_httpsig::key::{SigningKey, VerifyingKey};
use secdispatch_httpsig::resolver::JwksResolver;

fuzz_target!(|data: &[u8]| {
    let _ = SigningKey::from_key_file(data, None);
    let _ = VerifyingKey::from_key_file(data, None);
    let _ = JwksResolver::from_json(data, None);
});
