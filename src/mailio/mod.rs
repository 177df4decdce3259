//! Mail IO and the processes around it: IMAP sync (and [`watch`], the desk's live sync), SMTP send,
//! archive import, and the helper programs (gpg, token commands, the user's [`editor`]). These
//! run on worker threads (the editor on the UI thread with the terminal suspended) and talk to
//! the front ends through return values and channels; the core never calls into them.

pub mod delivery;
pub mod editor;
pub mod gpg;
pub mod imap;
pub mod import;
pub mod mailman;
pub mod moderation;
pub mod oauth;
pub mod pgp_keys;
pub mod process;
pub mod secret;
pub mod smtp;
pub mod team;
pub mod tls;
pub mod watch;
