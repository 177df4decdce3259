//! How many new sessions one sync may open past UIDs whose FETCH breaks the session.
//!
//! A UID fetched after the others (one that already failed twice, see
//! [`super::batches`]) whose FETCH fails once more is a gap, not the end of its mailbox: the
//! sync logs in again when the failure may have left the session halfway through an answer
//! (RFC 3501 §5.5: the client cannot tell where the next response starts), and goes on. Each
//! such login costs a round trip and may have cost a timeout, so K such UIDs must not cost K
//! of them every sync: past [`MAX_RELOGINS`] the sync asks for no more of them (they are
//! recorded not reached, least-tried first they get their turn later), which keeps the
//! session usable for the mailboxes after them.

use super::connect::ImapSession;

/// A new session, logged in as the one it replaces; an error says why not.
pub type Relogin<'r> = dyn FnMut() -> Result<ImapSession, String> + 'r;

/// New sessions one sync may open past UIDs whose FETCH breaks the session (see the module
/// header).
pub const MAX_RELOGINS: u32 = 2;

/// The new logins a sync has made, and the way to make one (none: a UID that breaks the
/// session ends its mailbox's sync).
pub struct Relogins<'r> {
    login: Option<&'r mut Relogin<'r>>,
    done: u32,
}

impl<'r> Relogins<'r> {
    pub fn new(login: Option<&'r mut Relogin<'r>>) -> Relogins<'r> {
        Relogins { login, done: 0 }
    }

    /// The sync logged in again [`MAX_RELOGINS`] times: it must not ask for another UID
    /// that may break the session, or it would be left without one. False without a way
    /// to log in again: then such a UID's failure ends the mailbox, as it always did.
    pub fn spent(&self) -> bool {
        self.login.is_some() && self.done >= MAX_RELOGINS
    }

    /// A new session; None without a way to make one.
    pub fn login(&mut self) -> Option<Result<ImapSession, String>> {
        let login = self.login.as_mut()?;
        self.done += 1;
        Some(login())
    }
}

/// The reason given for a UID not asked for because the sync's new logins are spent.
pub fn spent_reason() -> String {
    format!(
        "not asked for: its FETCH broke the session before, and this sync already logged in again {MAX_RELOGINS} times past such messages (the most one sync does)"
    )
}
