//! Flow-event lines (the JSON-lines format `lifecycle watch` listens for) on arbitrary
//! text: never panics; whatever parses re-serialises to a line that parses to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_lifecycle::FlowEvent;
use secdispatch_lifecycle::live::LiveView;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut view = LiveView::new(secdispatch_lifecycle::Config::default());
    for line in text.lines() {
        if let Ok(e) = FlowEvent::parse_line(line) {
            let again = FlowEvent::parse_line(&e.to_line()).expect("own output parses");
            assert_eq!(again.id, e.id);
            assert_eq!(again.src, e.src);
        }
        view.line("fuzz", line);
    }
    let _ = view.refresh();
});
