//! The gateway's reading of upstream responses: the response head parser and the chunked
//! decoder, fed in pieces. Never panic, never take more than the input, never lose bytes:
//! a complete head takes at most what it was given, and decoded data plus what is left in
//! the buffer never exceeds what was fed.
#![no_main]

use bytes::BytesMut;
use http::Method;
use libfuzzer_sys::fuzz_target;
use secdispatch_http1::{Chunk, ChunkedDecoder, parse_response_head};

fuzz_target!(|data: &[u8]| {
    let method = if data.first().is_some_and(|b| b & 1 == 1) {
        Method::HEAD
    } else {
        Method::GET
    };
    if let Ok(Some((_, used))) = parse_response_head(data, &method, 4096) {
        assert!(used <= data.len());
    }
    // The chunked decoder, with the input arriving in pieces of 1..=16 bytes.
    let mut decoder = ChunkedDecoder::default();
    let mut buf = BytesMut::new();
    let (mut fed, mut decoded) = (0usize, 0usize);
    let mut rest = data;
    loop {
        match decoder.decode(&mut buf, 1024) {
            Ok(Chunk::Data(d)) => {
                assert!(!d.is_empty());
                decoded += d.len();
            }
            Ok(Chunk::End(_)) | Err(_) => break,
            Ok(Chunk::NeedMore) => {
                if rest.is_empty() {
                    break;
                }
                let n = usize::from(rest[0] % 16 + 1).min(rest.len());
                buf.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                fed += n;
            }
        }
        assert!(decoded + buf.len() <= fed);
    }
});
