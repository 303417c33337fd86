//! PKCS#10 decoding, self-signature verification and SAN extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::csr;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = csr::from_der(data) {
        let _ = csr::verify(&r);
        let _ = csr::requested_sans(&r);
    }
});
