//! The config file parser and validator.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::config(data);
});
