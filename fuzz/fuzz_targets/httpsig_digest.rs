//! RFC 9530 field parsers: Content-Digest / Repr-Digest and Want-*-Digest. No panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_httpsig::digest::{
    DigestAlgorithm, Digests, choose_digest, parse_digest_field, parse_want_digest,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = parse_digest_field("Content-Digest", text) {
        assert!(entries.len() <= secdispatch_httpsig::digest::MAX_DIGEST_ENTRIES);
    }
    let _ = Digests::of(&DigestAlgorithm::ALL, data).check("Content-Digest", text);
    if let Ok(prefs) = parse_want_digest("Want-Content-Digest", text) {
        let _ = choose_digest(&prefs);
    }
});
