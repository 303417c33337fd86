//! The load balancer's ClientHello reader (records reassembled, SNI and ALPN) on arbitrary
//! bytes, and the PROXY protocol v1/v2 decoder: never panic, never read past the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_tlslb::{client_hello, proxy_protocol};

fuzz_target!(|data: &[u8]| {
    let _ = client_hello::parse(data);
    if let Ok(Some((_, used))) = proxy_protocol::decode(data) {
        assert!(used <= data.len());
    }
});
