//! The store and the output under abuse, with the real binary: a store file that is loose,
//! foreign, read-only, locked, damaged or on a full disk; a reply whose report was deleted
//! (against a real aiosmtpd); invisible and control characters in every output; and a
//! reader that closes the pipe early (`secdesk list | head -1`).

#[path = "../support/mod.rs"]
mod support;

mod desk;
mod faults;
mod orphans;
mod output;
mod pipes;
mod space;
