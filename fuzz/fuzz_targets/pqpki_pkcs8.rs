//! PKCS#8 OneAsymmetricKey decoding: composite `seed || tradSK`, RFC 9881 ML-DSA CHOICE,
//! ECPrivateKey, CurvePrivateKey, RSAPrivateKey.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::SigningKey;
use secdispatch_pqpki::pkcs8::MlDsaKeyForm;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = SigningKey::from_pkcs8_der(data) {
        for form in [
            MlDsaKeyForm::Seed,
            MlDsaKeyForm::Expanded,
            MlDsaKeyForm::Both,
        ] {
            if let Ok(der) = k.to_pkcs8_der_with(form) {
                let again = SigningKey::from_pkcs8_der_as(k.algorithm(), &der)
                    .expect("re-encoded PKCS#8 decodes");
                assert_eq!(again.public_key(), k.public_key());
            }
        }
    }
});
