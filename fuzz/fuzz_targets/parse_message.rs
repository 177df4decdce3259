//! Message parsing and text sanitizing on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::parse_message(data);
});
