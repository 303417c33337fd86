//! Certificate decoding, extension accessors, chameleon reconstruction and self-validation.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::cert::{self, CertInfo};
use secdispatch_pqpki::chameleon;
use secdispatch_pqpki::validate::{self, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(c) = cert::from_der(data) else {
        return;
    };
    let info = CertInfo::new(&c);
    let _ = info.basic_constraints();
    let _ = info.key_usage();
    let _ = info.extended_key_usage();
    let _ = info.subject_alt_names();
    let _ = info.subject_key_id();
    let _ = info.authority_key_id();
    let _ = info.ocsp_urls();
    if let Ok(k) = info.public_key() {
        let _ = k.verify(b"message", data);
    }
    let _ = chameleon::descriptor(&c);
    let _ = chameleon::reconstruct(&c);
    let mut opts = Options::at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    opts.host = Some("example.test");
    let _ = validate::validate_chain(&c, &[], std::slice::from_ref(&c), &opts);
});
