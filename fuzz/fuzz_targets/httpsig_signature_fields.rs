//! Signature-Input, Signature and Accept-Signature parsers: no panic, and whatever parses
//! re-serializes to a value that parses back to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_httpsig::fields::{
    accept_signature_value, parse_accept_signature, parse_signature, parse_signature_input,
    signature_input_member, signature_member,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(inputs) = parse_signature_input(text) {
        for (label, input) in inputs {
            let member = signature_input_member(&label, &input).expect("parsed input serializes");
            let again = parse_signature_input(&member).expect("serialized input parses");
            assert_eq!(again, vec![(label, input)]);
        }
    }
    if let Ok(sigs) = parse_signature(text) {
        for (label, bytes) in sigs {
            let member = signature_member(&label, &bytes).expect("parsed signature serializes");
            assert_eq!(
                parse_signature(&member).expect("parses"),
                vec![(label, bytes)]
            );
        }
    }
    if let Ok(reqs) = parse_accept_signature(text) {
        let v = accept_signature_value(&reqs).expect("parsed request serializes");
        assert_eq!(parse_accept_signature(&v).expect("parses"), reqs);
    }
});
