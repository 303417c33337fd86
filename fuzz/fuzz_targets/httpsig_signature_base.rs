//! The signature-base builder over arbitrary messages and Signature-Input values: input is
//! `<raw HTTP/1.1 message> NUL <Signature-Input value>`. No panic; every base is ASCII and
//! ends with the `@signature-params` line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_httpsig::base::signature_base;
use secdispatch_httpsig::fields::parse_signature_input;
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::message::{MessageView, RequestView, ResponseView};

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|b| *b == 0) else {
        return;
    };
    let (msg, rest) = data.split_at(split);
    let Ok(si) = std::str::from_utf8(&rest[1..]) else {
        return;
    };
    let (Ok(m), Ok(inputs)) = (RawMessage::parse(msg), parse_signature_input(si)) else {
        return;
    };
    let trailers = m.trailer_map().unwrap_or_default();
    for (_, input) in inputs {
        let result = if m.is_request() {
            let Ok(req) = m.to_request() else { return };
            signature_base(
                &MessageView::request(RequestView::of(&req).trailers(&trailers)),
                &input,
            )
        } else {
            let Ok(res) = m.to_response() else { return };
            // A fixed related request so `req` components are exercised too.
            let related = http::Request::post("https://example.com/a?b=c")
                .header("content-type", "x")
                .body(())
                .expect("static request");
            signature_base(
                &MessageView::response(ResponseView::of(&res).trailers(&trailers))
                    .related_request(RequestView::of(&related)),
                &input,
            )
        };
        if let Ok(base) = result {
            assert!(base.as_str().is_ascii());
            let last = base.as_str().rsplit('\n').next().unwrap_or_default();
            assert!(last.starts_with("\"@signature-params\": "));
        }
    }
});
