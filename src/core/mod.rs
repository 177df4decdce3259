//! The core: domain types, parsing, configuration and the store.
//!
//! Nothing below this module touches the terminal or the network.

pub mod classify;
pub mod config;
pub mod ingest;
pub mod model;
pub mod parse;
pub mod sanitize;
pub mod store;
