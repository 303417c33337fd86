//! CRL decoding and serial lookup.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::crl;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = crl::from_der(data) {
        if let Some(first) = list
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .and_then(|v| v.first())
        {
            let _ = crl::lookup(&list, &first.serial_number);
        }
    }
});
