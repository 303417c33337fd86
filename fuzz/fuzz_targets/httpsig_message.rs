//! Raw HTTP/1.1 message parser: no panic, and a parsed message written back parses to the
//! same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_httpsig::http1::RawMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = RawMessage::parse(data) else {
        return;
    };
    let again = RawMessage::parse(&m.serialize()).expect("serialized message parses");
    assert_eq!(again.start, m.start);
    assert_eq!(again.fields, m.fields);
    assert_eq!(again.body, m.body);
    assert_eq!(again.trailers, m.trailers);
    let _ = m.to_request();
    let _ = m.to_response();
});
