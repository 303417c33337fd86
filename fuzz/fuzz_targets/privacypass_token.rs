//! `Token` decoding: no panic; what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::Token;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Token::decode(data) {
        assert_eq!(t.encode(), data);
        t.check_lengths().expect("decoded tokens have their type's sizes");
    }
});
