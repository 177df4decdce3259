//! Moderation written back to the IMAP server (docs/team.md): carries out the changes
//! `core::team::moderation` queued. Messages are found by Message-ID (`UID SEARCH HEADER`,
//! RFC 3501 §6.4.4), flagged with the `$Junk`/`$NotJunk` keywords server-side filters learn
//! from, and moved with `UID MOVE` (RFC 6851), or `UID COPY` + `\Deleted` + `UID EXPUNGE`
//! (RFC 4315) where MOVE is missing. The Junk folder is `[imap] junk_mailbox`, else the
//! SPECIAL-USE `\Junk` folder (RFC 6154), else `Junk` (created when missing).
//!
//! A restored message comes back under a new UID; the next mail sync fetches it and the
//! content-hash dedup recognizes it, so it is not new mail.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::core::config::ImapConfig;
use crate::core::reply::message::is_valid_id;
use crate::core::store::{timestamp, Store};
use crate::core::team::moderation::{self, Action, Pending, ServerMessage};
use crate::core::team::TeamError;

use super::imap::connect::{classify, Endpoint, ImapSession};
use super::imap::error::ImapError;
use super::imap::mailbox::{self, Role};

/// What a write-back did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModerationReport {
    /// Messages moved to Junk.
    pub junked: usize,
    /// Messages moved back from Junk.
    pub restored: usize,
    /// Messages flagged `$NotJunk` in place.
    pub not_junk: usize,
    /// Changes that could not be made, with why.
    pub errors: Vec<String>,
}

/// A failure that stops the write-back (the queue stays for the next sync).
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Team(#[from] TeamError),
}

/// Carries out the queued moderation, when `[imap] junk_moderation` is on. Selects
/// mailboxes read-write, so run it after the mail sync.
pub fn write_back(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    imap: &ImapConfig,
    store: &Store,
) -> Result<ModerationReport, ModerationError> {
    let mut report = ModerationReport::default();
    if !imap.junk_moderation {
        return Ok(report);
    }
    let queue = moderation::pending(store)?;
    if queue.is_empty() {
        return Ok(report);
    }
    let junk = junk_mailbox(endpoint, session, imap)?;
    let caps = session
        .capabilities()
        .map_err(|e| classify(endpoint, "reading capabilities", e))?;
    let how = Mover {
        has_move: caps.has_str("MOVE"),
        has_uidplus: caps.has_str("UIDPLUS"),
    };
    for item in queue {
        let default = imap.sync_mailboxes().into_iter().next().unwrap_or_default();
        let mut warnings = Vec::new();
        let result = carry_out(
            endpoint,
            session,
            &how,
            &default,
            &junk,
            &item,
            &mut warnings,
        );
        for w in warnings {
            report
                .errors
                .push(format!("report #{}: {w}", item.report_id));
        }
        let error = match result {
            Ok(n) => {
                match item.action {
                    Action::Junk => report.junked += n,
                    Action::Restore => report.restored += n,
                    Action::NotJunk => report.not_junk += n,
                }
                None
            }
            // The session cannot go on: the connection is gone or out of step.
            Err(
                e @ (ImapError::ConnectionLost { .. }
                | ImapError::TimedOut { .. }
                | ImapError::NotImap { .. }),
            ) => return Err(e.into()),
            Err(e) => {
                let text = format!("report #{}: {e}", item.report_id);
                report.errors.push(text.clone());
                Some(text)
            }
        };
        moderation::finish(store, item.seq, &timestamp(Utc::now()), error.as_deref())?;
    }
    Ok(report)
}

/// `[imap] junk_mailbox`, else the folder the server marks `\Junk` (or a usual name),
/// else `Junk`; a named folder that does not exist yet is created.
fn junk_mailbox(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    imap: &ImapConfig,
) -> Result<String, ImapError> {
    let name = match imap
        .junk_mailbox
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        Some(name) => name.to_string(),
        None => match mailbox::find(endpoint, session, Role::Junk)? {
            Some(found) => return Ok(found),
            None => "Junk".to_string(),
        },
    };
    let wire = mailbox::encode(&name);
    if let Err(imap::Error::No(_)) = session.status(&wire, "(MESSAGES)") {
        session
            .create(&wire)
            .map_err(|e| classify(endpoint, "creating the Junk folder", e))?;
    }
    Ok(name)
}

struct Mover {
    has_move: bool,
    has_uidplus: bool,
}

/// One queued change; returns how many messages it touched. Messages are found in, and
/// restored to, the mailbox each was synced from (`default` for imported mail).
fn carry_out(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    how: &Mover,
    default: &str,
    junk: &str,
    item: &Pending,
    warnings: &mut Vec<String>,
) -> Result<usize, ImapError> {
    let mut groups: BTreeMap<&str, Vec<&ServerMessage>> = BTreeMap::new();
    for m in &item.messages {
        let id = &m.message_id;
        // Only ids that fit a quoted string unchanged go into a command.
        if is_valid_id(id) && !id.contains(['"', '\\']) {
            groups
                .entry(m.mailbox.as_deref().unwrap_or(default))
                .or_default()
                .push(m);
        }
    }
    let mut touched = 0;
    for (origin, ids) in groups {
        let (from, to, add, remove) = match item.action {
            Action::Junk => (origin, Some(junk), "$Junk", "$NotJunk"),
            Action::Restore => (junk, Some(origin), "$NotJunk", "$Junk"),
            Action::NotJunk => (origin, None, "$NotJunk", "$Junk"),
        };
        touched += move_flagged(
            endpoint,
            session,
            how,
            from,
            to,
            &ids,
            (add, remove),
            warnings,
        )?;
    }
    Ok(touched)
}

/// In `from`: finds the messages (by Message-ID, then by content), sets keyword `add` and
/// clears `remove`, then moves them to `to` when given.
#[allow(clippy::too_many_arguments)]
fn move_flagged(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    how: &Mover,
    from: &str,
    to: Option<&str>,
    messages: &[&ServerMessage],
    (add, remove): (&str, &str),
    warnings: &mut Vec<String>,
) -> Result<usize, ImapError> {
    session
        .select(mailbox::encode(from))
        .map_err(|e| classify(endpoint, "opening a folder to moderate", e))?;
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    let mut uids: Vec<u32> = Vec::new();
    for id in &ids {
        let found = session
            .uid_search(format!("HEADER Message-ID \"<{id}>\""))
            .map_err(|e| classify(endpoint, "finding a report's messages", e))?;
        uids.extend(found);
    }
    if uids.is_empty() {
        // Some servers (Courier) find nothing by HEADER search: read the folder's
        // Message-ID headers instead.
        uids = scan_for_ids(endpoint, session, &ids)?;
    }
    uids.sort_unstable();
    uids.dedup();
    let uids = same_content(endpoint, session, &uids, messages, warnings)?;
    if uids.is_empty() {
        return Ok(0);
    }
    let set = super::imap::sync::uid_set(&uids);
    let store = |session: &mut ImapSession, query: String| {
        session
            .uid_store(&set, query)
            .map(|_| ())
            .map_err(|e| classify(endpoint, "flagging a report's messages", e))
    };
    // Keywords are best effort: a server may refuse them (Courier without IMAP_KEYWORDS);
    // the move is what matters to the team.
    for query in [
        format!("-FLAGS.SILENT ({remove})"),
        format!("+FLAGS.SILENT ({add})"),
    ] {
        match session.uid_store(&set, &query) {
            Ok(_) => {}
            Err(e @ (imap::Error::No(_) | imap::Error::Bad(_))) => {
                warnings.push(format!(
                    "the server refused the {add} / {remove} keywords ({}); the messages were moved without them",
                    crate::core::sanitize::terminal_line(e.to_string().trim())
                ));
                break;
            }
            Err(e) => return Err(classify(endpoint, "flagging a report's messages", e)),
        }
    }
    if let Some(to) = to {
        let to = mailbox::encode(to);
        if how.has_move {
            session
                .uid_mv(&set, &to)
                .map_err(|e| classify(endpoint, "moving a report's messages", e))?;
        } else {
            session
                .uid_copy(&set, &to)
                .map_err(|e| classify(endpoint, "copying a report's messages", e))?;
            store(session, "+FLAGS.SILENT (\\Deleted)".to_string())?;
            if how.has_uidplus {
                session
                    .uid_expunge(&set)
                    .map_err(|e| classify(endpoint, "expunging moved messages", e))?;
            }
            // Without UIDPLUS an EXPUNGE could remove others' \Deleted messages: the
            // originals stay flagged \Deleted for the owner's next expunge.
        }
    }
    Ok(uids.len())
}

/// Of the `found` UIDs (found by Message-ID), those whose content is one of `messages`'
/// (RFC 3501 §6.4.5 `BODY.PEEK[]`, hashed as the mail sync stored it): anyone can send mail
/// under a real report's Message-ID, and moderating the spam must not take the report along.
fn same_content(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    found: &[u32],
    messages: &[&ServerMessage],
    warnings: &mut Vec<String>,
) -> Result<Vec<u32>, ImapError> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let fetches = session
        .uid_fetch(super::imap::sync::uid_set(found), "(UID BODY.PEEK[])")
        .map_err(|e| classify(endpoint, "reading a report's messages", e))?;
    let mut same: Vec<u32> = fetches
        .iter()
        .filter_map(|f| {
            let uid = f.uid.filter(|u| found.contains(u))?;
            let digest = crate::core::parse::content_digest(f.body()?);
            messages.iter().any(|m| m.digest == digest).then_some(uid)
        })
        .collect();
    same.sort_unstable();
    same.dedup();
    let others = found.len() - same.len();
    if others > 0 {
        warnings.push(format!(
            "{others} other {} with the same Message-ID left where {}: {} not this report's",
            if others == 1 { "message" } else { "messages" },
            if others == 1 { "it is" } else { "they are" },
            if others == 1 {
                "its content is"
            } else {
                "their content is"
            },
        ));
    }
    Ok(same)
}

/// The UIDs in the selected folder whose Message-ID is one of `ids`, from a FETCH of every
/// message's Message-ID header (RFC 3501 §6.4.5, `HEADER.FIELDS`). The answer is read one
/// response at a time and only the matches kept: a whole folder's answer as the imap crate's
/// FETCH values took about 2 KB a message.
fn scan_for_ids(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    ids: &[&str],
) -> Result<Vec<u32>, ImapError> {
    let what = "reading Message-IDs";
    let raw = session
        .run_command_and_read_response("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .map_err(|e| classify(endpoint, what, e))?;
    matching_ids(&raw, ids).map_err(|e| classify(endpoint, what, e))
}

/// The UIDs of the FETCH responses in `raw` whose Message-ID header names one of `ids`.
fn matching_ids(raw: &[u8], ids: &[&str]) -> imap::Result<Vec<u32>> {
    let mut found = Vec::new();
    crate::mailio::imap::untagged::for_each_header(raw, |uid, header| {
        let header = String::from_utf8_lossy(header);
        let Some((_, value)) = header.split_once(':') else {
            return;
        };
        let id = value.trim().trim_start_matches('<').trim_end_matches('>');
        if ids.contains(&id) {
            found.push(uid);
        }
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FETCH answer carrying `id`'s header as a literal, as Dovecot and Courier send it.
    fn answer(seq: u32, uid: u32, header: &str) -> String {
        format!(
            "* {seq} FETCH (UID {uid} BODY[HEADER.FIELDS (MESSAGE-ID)] {{{}}}\r\n{header})\r\n",
            header.len()
        )
    }

    #[test]
    fn a_folder_scan_keeps_only_the_messages_asked_for() {
        let mut raw = answer(1, 10, "Message-ID: <a@example.org>\r\n\r\n");
        raw += &answer(2, 11, "Message-ID: <b@example.org>\r\n\r\n");
        raw += "* 3 EXISTS\r\n";
        // A folded header, and a message without one.
        raw += &answer(3, 14, "Message-Id:\r\n <c@example.org>\r\n\r\n");
        raw += &answer(4, 15, "\r\n");
        raw += "* 4 FETCH (FLAGS (\\Seen))\r\n";
        let found = matching_ids(raw.as_bytes(), &["c@example.org", "a@example.org"]).unwrap();
        assert_eq!(found, vec![10, 14]);
        assert!(matching_ids(raw.as_bytes(), &["z@example.org"])
            .unwrap()
            .is_empty());
        assert!(matches!(
            matching_ids(b"not imap\r\n", &["a@example.org"]),
            Err(imap::Error::Parse(_))
        ));
    }
}
