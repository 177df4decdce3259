//! IMAP client side (RFC 3501, IMAP4rev1; RFC 9051 where it agrees): connecting
//! with TLS, STARTTLS or loopback-only plaintext, incremental sync of a mailbox
//! into the store, waiting for new mail with IDLE (RFC 2177), and the errors a user
//! can see.

pub mod account;
pub mod batches;
pub mod connect;
pub mod cursor;
pub mod error;
pub mod expunged;
pub mod fetch;
pub mod idle;
pub mod listing;
pub mod login;
pub mod mailbox;
pub mod relogin;
pub mod renumbered;
pub mod stream;
pub mod sync;
pub mod uids;
pub mod untagged;

pub use connect::{Endpoint, ImapSession, ImapStream, Security};
pub use error::ImapError;
pub use login::connect;
