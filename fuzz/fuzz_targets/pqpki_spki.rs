//! SubjectPublicKeyInfo decoding for every key kind (ML-DSA, composite, EC, EdDSA, RSA).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::VerifyingKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = VerifyingKey::from_spki_der(data) {
        let der = k.to_spki_der().expect("a decoded key re-encodes");
        let again = VerifyingKey::from_spki_der(&der).expect("re-encoded SPKI decodes");
        assert_eq!(again, k);
        let _ = k.verify(b"message", data);
        let _ = k.composite_components();
    }
});
