//! A server that gave stored UIDs to other messages without changing UIDVALIDITY.
//!
//! The cursor trusts `(UIDVALIDITY, last UID)`: a server must never give a UID to a second
//! message within one UIDVALIDITY (RFC 3501 §2.3.1.1), so the mail below the cursor is
//! stored and only what is above it is asked for. A server that broke this (Courier did,
//! its UID file rewritten after its process was killed mid-write) renumbers its mail under
//! the cursor: a new message took a UID already stored, and the sync would never ask for it.
//!
//! So before each sync of a mailbox, two claims are checked against what the store holds:
//! UIDNEXT must be above every UID stored, and the few highest UIDs stored must still name
//! the same messages (their Message-ID, Date, From and Subject, asked for with
//! `UID FETCH … BODY.PEEK[HEADER.FIELDS (…)]`, one round trip). When either fails, the
//! store forgets which UID each message of the mailbox had and the mailbox is listed again
//! from UID 1: what was stored is kept (the content hash knows it), what took an old UID is
//! fetched.

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;
use crate::core::store::{Store, StoreError};

/// The highest stored UIDs asked for again: enough to see a shift, one round trip.
const SAMPLE: usize = 3;

/// Only messages up to this size (as they came) are compared: each sync unpacks them.
const SAMPLE_MAX_BYTES: i64 = 1 << 20;

/// The header fields that tell two messages apart when their UIDs are the same.
const FIELDS: [&str; 4] = ["message-id", "date", "from", "subject"];

/// A message's [`FIELDS`], as [`fields`] reads them.
type Fields = Vec<(String, String)>;

/// Why the mailbox was listed again from UID 1, when the server's word and the store's
/// disagree.
#[derive(Debug)]
pub enum Checked {
    /// Nothing stored to compare, or everything compared agrees.
    Agrees,
    /// The server renumbered its mail; the store forgot the mailbox's UIDs. One line, for
    /// the sync's report.
    Renumbered(String),
}

/// What EXAMINE said of the mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Said<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub uid_next: Option<u32>,
}

/// What [`check`] found, and whether it asked the server anything.
#[derive(Debug)]
pub struct Verdict {
    pub checked: Checked,
    /// A command went to the server: its answer may have carried the mailbox's news (an
    /// EXISTS for mail that arrived, an EXPUNGE), which the listing after it would not see,
    /// so the caller examines the mailbox again before trusting EXAMINE's counts.
    pub asked: bool,
}

/// Compares what the server says of the mailbox (examined, selected on `session`) with
/// what the store holds of it, and on a disagreement makes the store list it again from UID 1
/// (see the module documentation). A server that refuses the FETCH leaves the cursor
/// trusted: it is only the evidence that is missing.
pub fn check(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: Said<'_>,
    store: &mut Store,
) -> Result<Verdict, CheckError> {
    let mut asked = false;
    let checked = compare(endpoint, session, examined, store, &mut asked)?;
    Ok(Verdict { checked, asked })
}

fn compare(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: Said<'_>,
    store: &mut Store,
    asked: &mut bool,
) -> Result<Checked, CheckError> {
    let Some(state) = store.mailbox_state(examined.mailbox)? else {
        return Ok(Checked::Agrees);
    };
    if state.uidvalidity != examined.uidvalidity || state.last_uid == 0 {
        return Ok(Checked::Agrees);
    }
    let latest = store.latest_stored(
        examined.mailbox,
        examined.uidvalidity,
        state.last_uid,
        SAMPLE,
        SAMPLE_MAX_BYTES,
    )?;
    let highest_stored = latest.first().map(|(uid, _)| *uid);
    let why = match (examined.uid_next, highest_stored) {
        (Some(next), Some(stored)) if next <= stored => Some(format!(
            "the server's UIDNEXT {next} is at or below UID {stored}, which is stored from it"
        )),
        _ if latest.is_empty() => None,
        _ => {
            *asked = true;
            let on_server = fetch_fields(endpoint, session, &latest)?;
            latest.iter().find_map(|(uid, raw)| {
                let now = on_server.iter().find(|(u, _)| u == uid)?;
                (now.1 != fields(header_part(raw))).then(|| {
                    format!("the server now gives UID {uid} to another message than the one stored under it")
                })
            })
        }
    };
    let Some(why) = why else {
        return Ok(Checked::Agrees);
    };
    store.forget_uids(examined.mailbox, examined.uidvalidity)?;
    Ok(Checked::Renumbered(format!(
        "mailbox \"{}\": {why}, with the same UIDVALIDITY {} (a server must never give a UID \
         to another message, RFC 3501 §2.3.1.1): listed again from UID 1, so no message is \
         skipped; what was stored is kept",
        examined.mailbox, examined.uidvalidity
    )))
}

/// A check that could not be made: the server's side or the store's.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The fields of each of `latest`'s UIDs as the server has them now. A refusal is no
/// evidence (an empty answer); a broken session is an error.
fn fetch_fields(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    latest: &[(u32, Vec<u8>)],
) -> Result<Vec<(u32, Fields)>, ImapError> {
    let set = latest
        .iter()
        .map(|(uid, _)| uid.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let what = "checking the stored UIDs";
    let command = format!(
        "UID FETCH {set} (UID BODY.PEEK[HEADER.FIELDS ({})])",
        FIELDS.join(" ").to_ascii_uppercase()
    );
    let raw = match within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response(&command)
    }) {
        Ok(raw) => raw,
        Err(imap::Error::No(_) | imap::Error::Bad(_)) => return Ok(Vec::new()),
        Err(e) => return Err(classify(endpoint, what, e)),
    };
    answers(&raw).map_err(|e| classify(endpoint, what, e))
}

/// The FETCH answers in `raw`: each UID with the fields of its header section.
fn answers(raw: &[u8]) -> imap::Result<Vec<(u32, Fields)>> {
    let mut found = Vec::new();
    // A server that answers with more than the header is read as far as it.
    super::untagged::for_each_header(raw, |uid, header| {
        found.push((uid, fields(header_part(header))));
    })?;
    Ok(found)
}

/// The header section of a message: up to the first empty line.
fn header_part(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 1));
    &raw[..end.unwrap_or(raw.len())]
}

/// The [`FIELDS`] of a header section, unfolded, with runs of white space made one space,
/// sorted (only the Message-ID when there is one): the same for a message as stored (or
/// kept as headers only, when too large) and as a server quotes its fields.
fn fields(header: &[u8]) -> Fields {
    let text = String::from_utf8_lossy(header);
    let mut unfolded: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = unfolded.last_mut() {
                last.push(' ');
                last.push_str(line);
            }
        } else if !line.is_empty() {
            unfolded.push(line.to_string());
        }
    }
    let mut out: Fields = unfolded
        .iter()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim().to_ascii_lowercase();
            FIELDS.contains(&name.as_str()).then(|| {
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                (name, value)
            })
        })
        .collect();
    out.sort();
    // The Message-ID alone, when there is one: servers that rebuild a message for each
    // answer (re-encoding a Subject, reformatting a Date) keep it as sent, and a false
    // alarm would fetch the whole mailbox again at every sync.
    if out.iter().any(|(name, _)| name == "message-id") {
        out.retain(|(name, _)| name == "message-id");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_read_alike_from_a_stored_message_and_a_servers_quote() {
        let stored = b"Received: by mx\r\nMessage-ID: <a@x>\r\nSubject: a long\r\n\tsubject\r\nFrom: Rita <r@x>\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nbody\r\nSubject: not a header\r\n";
        let quoted = b"Date: Mon, 1 Dec 2026 10:00:00 +0000\r\nFrom: Rita <r@x>\r\nMessage-ID: <a@x>\r\nSubject: a long\r\n subject\r\n\r\n";
        assert_eq!(fields(header_part(stored)), fields(quoted));
        let other = b"Message-ID: <b@x>\r\nSubject: a long subject\r\nFrom: Rita <r@x>\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n\r\n";
        assert_ne!(fields(header_part(stored)), fields(other));
        // A server that rebuilds the other fields is no alarm while the Message-ID holds.
        let rebuilt = b"Message-ID: <a@x>\r\nSubject: =?utf-8?q?a_long_subject?=\r\nDate: 1 Dec 2026 10:00 GMT\r\n\r\n";
        assert_eq!(fields(header_part(stored)), fields(rebuilt));
        // Without one, all four fields tell the messages apart.
        let bare = |subject: &str| {
            format!(
                "From: r@x\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\nSubject: {subject}\r\n\r\n"
            )
        };
        assert_eq!(fields(bare("x").as_bytes()).len(), 3);
        assert_ne!(fields(bare("x").as_bytes()), fields(bare("y").as_bytes()));
        // Bare line feeds, as some stores keep mail.
        let lf = b"Message-ID: <a@x>\nSubject: a long\n subject\nFrom: Rita <r@x>\nDate: Mon, 1 Dec 2026 10:00:00 +0000\n\nSubject: body\n";
        assert_eq!(fields(header_part(lf)), fields(quoted));
    }

    #[test]
    fn a_fetch_answer_gives_each_uid_its_fields() {
        let header = "Message-ID: <a@x>\r\nSubject: hi\r\n\r\n";
        let raw = format!(
            "* 3 FETCH (UID 21 BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)] {{{}}}\r\n{header})\r\n* 4 FETCH (UID 22 BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM SUBJECT)] {{2}}\r\n\r\n)\r\n",
            header.len()
        );
        let found = answers(raw.as_bytes()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 21);
        assert_eq!(
            found[0].1,
            vec![("message-id".to_string(), "<a@x>".to_string())]
        );
        assert_eq!(found[1], (22, Vec::new()));
    }
}
