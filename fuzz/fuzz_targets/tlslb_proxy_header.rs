//! The backend's view of a `proxy_header` record on arbitrary bytes: sniffing, the
//! `EncryptedProxyData` decoder and `ProxyData` (the plaintext after AEAD) never panic,
//! and whatever decodes re-encodes to the same bytes' meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_tlslb::encrypted::{EncryptedProxyData, sniff};
use secdispatch_tlslb::proxy_data::ProxyData;

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data, 0);
    if let Ok(epd) = EncryptedProxyData::decode(data) {
        let again = epd.encode().unwrap();
        assert_eq!(EncryptedProxyData::decode(&again).unwrap(), epd);
    }
    if let Ok(pd) = ProxyData::decode(data) {
        let _ = pd.metadata();
        let again = pd.encode().unwrap();
        assert_eq!(ProxyData::decode(&again).unwrap(), pd);
    }
});
