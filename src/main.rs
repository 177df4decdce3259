//! secdesk: a terminal triage desk for security response teams.
//!
//! Data flows from the security@ mailbox to the screen and back:
//!
//! ```text
//!  IMAP (mailio::imap) ─┐
//!                       ├─> core::ingest: parse → classify → dedup → thread ─> core::store (SQLite)
//!  archives (import) ───┘                                                       │
//!                                          cli / tui  <── queries, lifecycle ───┘
//!                                          reply ──> outbox ──> SMTP + IMAP Sent copy
//! ```
//!
//! See `docs/architecture.md` for the layers and the rules between them.

fn main() -> std::process::ExitCode {
    secdesk::cli::main()
}
