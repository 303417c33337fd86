//! The lenient RFC 9110 parser behind `WWW-Authenticate` and `Authorization`: no panic on
//! any text; supported challenges it returns re-encode to the bytes received.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::auth_scheme::{
    parse_auth_items, parse_authorization, parse_www_authenticate,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_auth_items(text);
    for c in parse_www_authenticate([text]) {
        if let Some(ch) = c.challenge() {
            assert_eq!(ch.encode(), c.raw);
        }
    }
    let _ = parse_authorization(text);
});
