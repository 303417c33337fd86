//! OCSPRequest decoding and validation (the responder's parser), CertID lookup keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_ocsp::der::Encode;
use secdispatch_ocsp::{RequestPolicy, decode_request, serial_magnitude};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = decode_request(data, &RequestPolicy::default()) {
        // DER is canonical: what decodes re-encodes to the same bytes.
        assert_eq!(p.request.to_der().ok().as_deref(), Some(data));
        for id in p.cert_ids() {
            let _ = serial_magnitude(&id.serial_number);
        }
        let _ = p.wants_bundle();
    }
});
