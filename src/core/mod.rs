//! The core: domain types, parsing, configuration and the store.
//!
//! Nothing below this module touches the terminal or the network.

pub mod address;
pub mod advisory;
pub mod advisory_fields;
pub mod classify;
pub mod clocks;
pub mod config;
pub mod durations;
pub mod ingest;
pub mod lifecycle;
pub mod model;
pub mod moderation;
pub mod oauth;
pub mod outbox;
pub mod parse;
pub mod pep811;
pub mod pgp;
pub mod reply;
pub mod report_list;
pub mod sanitize;
pub mod secret;
pub mod stats;
pub mod store;
pub mod team;
pub mod time;
pub mod triage;
pub mod zone;
