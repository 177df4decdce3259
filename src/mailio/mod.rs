//! Mail IO: IMAP sync (and [`watch`], the desk's live sync), SMTP send and archive import. These run on worker threads and talk to
//! the front ends through return values and channels; the core never calls into them.

pub mod delivery;
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
