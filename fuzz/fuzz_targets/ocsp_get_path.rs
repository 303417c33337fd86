//! The GET path decoder (percent escapes, base64 variants, path prefixes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_ocsp::decode_get_path;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = decode_get_path(s);
    }
});
