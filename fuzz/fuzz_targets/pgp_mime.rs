//! PGP/MIME (RFC 3156) and inline PGP detection, and reply sealing, on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    secdesk::fuzzing::pgp_mime(data);
});
