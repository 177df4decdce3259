//! mbox splitting and the parse of every message in it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::import_mbox(data);
});
