//! OCSPResponse / BasicOCSPResponse / OCSPv2 bundle / OCSPRange decoding (the client's parsers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_ocsp::der::Decode;
use secdispatch_ocsp::{BasicOcspResponse, OcspRange, OcspResponse, decode_bundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = OcspResponse::from_der(data)
        && let Some(rb) = r.response_bytes
    {
        let inner = rb.response.as_bytes();
        if let Ok(b) = BasicOcspResponse::from_der(inner) {
            for s in &b.tbs_response_data.responses {
                let _ = s.range();
            }
        }
        let _ = decode_bundle(inner);
    }
    let _ = OcspRange::from_der(data);
});
