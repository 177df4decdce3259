//! The classifier's rule-file parser and regex compiler, then one evaluation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::rules(data);
});
