//! Reply template parsing and rendering.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::template(data);
});
