//! Batched tokens draft: amortized and generic batch requests and responses (varints,
//! optional<T>): no panic; what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_privacypass::TokenType;
use secdispatch_privacypass::wire::batch::{
    AmortizedBatchTokenRequest, AmortizedBatchTokenResponse, GenericBatchTokenRequest,
    GenericBatchTokenResponse,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = AmortizedBatchTokenRequest::decode(data) {
        assert_eq!(r.encode().expect("encodes"), data);
    }
    if let Ok(r) = AmortizedBatchTokenResponse::decode(TokenType::PRIVATE_P384, data) {
        assert_eq!(r.encode().expect("encodes"), data);
    }
    if let Ok(r) = GenericBatchTokenRequest::decode(data) {
        assert_eq!(r.encode().expect("encodes"), data);
    }
    if let Ok(r) = GenericBatchTokenResponse::decode(data) {
        assert_eq!(r.encode().expect("encodes"), data);
    }
});
