//! `TokenChallenge` decoding: no panic; what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::TokenChallenge;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = TokenChallenge::decode(data) {
        assert_eq!(c.encode(), data);
        let _ = c.digest();
        let _ = c.check_origin("origin.example");
    }
});
