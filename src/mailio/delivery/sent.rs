//! The Sent mailbox over IMAP: where a delivered reply's copy goes (RFC 3501 §6.3.11,
//! APPEND), and where a crashed attempt is looked for before a reply is sent again.

use crate::core::config::Config;
use crate::mailio::imap::{account, mailbox, ImapSession};

/// Whether a message with `message_id` is in `mailbox` (RFC 3501 §6.4.4, `HEADER`). A
/// mailbox that does not exist holds nothing when `may_be_missing` (the Sent mailbox is
/// created on the first APPEND).
pub(super) fn in_mailbox(
    session: &mut ImapSession,
    mailbox: &str,
    message_id: &str,
    may_be_missing: bool,
) -> Result<bool, String> {
    match session.examine(mailbox::encode(mailbox)) {
        Ok(_) => {}
        Err(imap::Error::No(_)) if may_be_missing => return Ok(false),
        Err(e) => return Err(format!("cannot open {mailbox:?}: {e}")),
    }
    let query = format!(
        "HEADER Message-ID \"<{}>\"",
        message_id.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let hits = session
        .uid_search(&query)
        .map_err(|e| format!("cannot search {mailbox:?}: {e}"))?;
    Ok(!hits.is_empty())
}

/// `[reply] sent_mailbox` when set.
pub(super) fn configured_sent_mailbox(config: &Config) -> Option<String> {
    config
        .reply
        .sent_mailbox
        .clone()
        .filter(|m| !m.trim().is_empty())
}

/// `[reply] sent_mailbox`, default `Sent`.
pub fn sent_mailbox(config: &Config) -> String {
    configured_sent_mailbox(config).unwrap_or_else(|| "Sent".to_string())
}

/// Connects and logs in to `[imap]`.
pub(super) fn open_imap(config: &Config) -> Result<ImapSession, String> {
    let imap = config.imap.as_ref().ok_or_else(|| {
        format!(
            "config {} has no [imap] section, so secdesk cannot reach the mailbox",
            config.source.display()
        )
    })?;
    account::login(config, imap)
        .map(|(_, session)| session)
        .map_err(|e| e.to_string())
}

/// APPENDs `raw` to `mailbox` as seen, creating the mailbox when the server says it is
/// missing (RFC 3501 §6.3.11, `[TRYCREATE]`).
pub(super) fn append_sent(
    session: &mut ImapSession,
    mailbox: &str,
    raw: &[u8],
) -> Result<(), String> {
    if mailbox.contains(['"', '\\', '\r', '\n']) {
        return Err(format!(
            "the mailbox name {mailbox:?} in reply.sent_mailbox contains a quote, backslash or line break: rename it in the config"
        ));
    }
    // On the wire in modified UTF-7 (RFC 3501 §5.1.3): `Envoyés` is `Envoy&AOk-s`.
    let wire = mailbox::encode(mailbox);
    let append = |s: &mut ImapSession| {
        s.append(&wire, raw)
            .flag(imap::types::Flag::Seen)
            .finish()
            .map(|_| ())
    };
    match append(session) {
        Ok(()) => Ok(()),
        Err(first) => {
            // Most likely the mailbox does not exist yet; anything else fails again below.
            let _ = session.create(&wire);
            append(session).map_err(|e| format!("{e} (first attempt: {first})"))
        }
    }
}
