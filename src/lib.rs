//! secdesk: a terminal triage desk for security response teams.
//!
//! The crate has three layers, visible in the folder tree (see `docs/architecture.md`):
//!
//! - [`core`]: domain types, triage lifecycle, classifier, parsing and the SQLite store.
//!   No terminal and no network code lives here.
//! - [`mailio`]: IMAP sync, SMTP send and archive import. It runs on worker threads.
//! - [`cli`] (and the TUI): thin front ends that call the same core functions.

// A function over 80 lines (clippy.toml) is split along a real seam.
#![warn(clippy::too_many_lines)]

pub mod cli;
pub mod core;
pub mod fuzzing;
pub mod mailio;
pub mod tui;
