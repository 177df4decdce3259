//! Fetching message bodies by UID, in the batches [`super::batches`] plans.
//!
//! Sizes come from the listing (`RFC822.SIZE`, RFC 3501 §6.4.5), and are claims. A message
//! claimed larger than `[sync] max_message_bytes` is fetched capped, `BODY.PEEK[]<0.N>`
//! with N one byte over the limit (§6.4.5 partial fetch): if it comes whole it was smaller
//! than claimed and is stored whole; if not, it is stored as its headers plus a note, "too
//! large, N bytes, kept on the server", so one huge message never blocks the mailbox nor
//! fills memory.
//!
//! Every FETCH in an answer is checked: a UID that was not asked for is refused; a UID
//! asked for but sent without its body, with two different bodies, or with fewer bytes
//! than its size claims is reported missing and asked for again by the next sync. (A body
//! short of its claim a second time is stored as sent, and named.) So is a server's
//! stand-in for a message it could not read (`COURIER_STAND_IN`), every time: it is not
//! the message, and storing it would move the cursor past the real one for good.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use imap_proto::{AttributeValue, Response};

use crate::core::ingest::{Origin, RawIncoming};

pub use super::batches::{batches, Batch, Planned};
use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;
pub use super::uids::BATCH_BYTES;

/// What Courier-IMAP sends as the body of a message whose file it cannot open (no read
/// permission, an I/O error, or the file moved away by another client since the session
/// listed it), with an RFC822.SIZE to match, so no size check catches it. Stored, it became
/// a report "message unavailable" from root@localhost and the real report was never fetched.
const COURIER_STAND_IN: &[u8] = b"From: System Administrator <root@localhost>\r\n\
Subject: message unavailable\r\n\r\nThis message is no longer available on the server.\r\n";

/// Why a UID asked for is not stored when the answer held no body for it. A message
/// expunged by another client since the listing comes back this way too; the sync asks
/// the server again about these (see [`super::expunged`]).
pub const NO_BODY: &str = "the server answered the FETCH without this message's body";

/// What one FETCH brought.
pub struct FetchedBatch {
    /// In UID order, with their UIDs.
    pub messages: Vec<(u32, RawIncoming)>,
    /// Asked for, not sent, with why.
    pub missing: Vec<(u32, String)>,
    /// Answers refused, and messages stored as sent although they fell short of their
    /// size, one line each.
    pub refused: Vec<String>,
    /// Messages stored as their headers and a note, over `max_message_bytes`.
    pub too_large: usize,
    /// `* N EXPUNGE` responses that came with the answer (RFC 3501 §7.4.1 allows them
    /// during a UID command): messages another client deleted.
    pub expunges: usize,
}

/// Where the fetched messages come from.
pub struct Source<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub max_message_bytes: u64,
}

/// Fetches one batch (RFC 3501 §6.4.8 UID FETCH, §6.4.5 BODY.PEEK never sets \Seen).
///
/// The answer is read response by response: besides the FETCHes, a server may send
/// warnings (an untagged `NO`, §7.1.2), errors it cannot tie to a command (an untagged
/// `BAD`, §7.1.3), and news of the mailbox (`OK`, `EXISTS`, `EXPUNGE`, `FLAGS`) at any
/// time. None of them changes what was fetched; the imap crate's own `uid_fetch` refused
/// the whole answer on a `NO` or `BAD`, so a server warning of its quota in every answer
/// kept its mail out of the store for good.
pub fn fetch_batch(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    source: &Source<'_>,
    batch: &Batch,
) -> Result<FetchedBatch, ImapError> {
    let during = "fetching messages";
    let items = fetch_items(batch, source.max_message_bytes);
    let command = format!("UID FETCH {} {items}", super::sync::uid_set(&batch.uids));
    let raw = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response(command)
    })
    .map_err(|e| classify(endpoint, during, e))?;
    let (answers, expunges) = FetchAnswer::all(&raw).map_err(|e| classify(endpoint, during, e))?;
    let claims: BTreeMap<u32, Option<u32>> = batch
        .uids
        .iter()
        .copied()
        .zip(batch.sizes.iter().copied())
        .collect();
    let mut out = FetchedBatch {
        messages: Vec::new(),
        missing: Vec::new(),
        refused: Vec::new(),
        too_large: 0,
        expunges: 0,
    };
    let mut got: BTreeMap<u32, usize> = BTreeMap::new();
    let mut unfit: BTreeMap<u32, String> = BTreeMap::new();
    for f in &answers {
        // Unsolicited FETCH responses (flag changes) carry no UID and no body.
        let Some(uid) = f.uid else { continue };
        let Some(content) = f.body.as_deref() else {
            continue;
        };
        let Some(&listed) = claims.get(&uid) else {
            out.refused.push(format!(
                "mailbox \"{}\": the server sent UID {uid}, which was not asked for; refused",
                source.mailbox
            ));
            continue;
        };
        if let Some(&at) = got.get(&uid) {
            if out.messages[at].1.raw != content {
                unfit.insert(
                    uid,
                    "the server sent two different bodies for this UID".to_string(),
                );
            }
            continue;
        }
        let Some(raw) = checked(
            source,
            batch,
            uid,
            content,
            [listed, f.size],
            &mut out,
            &mut unfit,
        ) else {
            continue;
        };
        got.insert(uid, out.messages.len());
        out.messages.push((
            uid,
            RawIncoming {
                raw,
                received_at: f.internal_date,
                origin: Origin::Imap {
                    mailbox: source.mailbox.to_string(),
                    uidvalidity: source.uidvalidity,
                    uid,
                },
            },
        ));
    }
    drop(answers);
    drop(raw);
    // Expunges are kept as a count, with any the session held from before; never let
    // the session's other unsolicited responses pile up.
    out.expunges = expunges + super::expunged::count_expunges(session);
    out.messages.retain(|(uid, _)| !unfit.contains_key(uid));
    // Threading links a reply to an earlier message; UID order is arrival order.
    out.messages.sort_by_key(|(uid, _)| *uid);
    out.missing = not_stored(batch, &got, &unfit);
    Ok(out)
}

/// What one FETCH response of a body FETCH says, borrowed from the answer.
struct FetchAnswer<'a> {
    uid: Option<u32>,
    size: Option<u32>,
    /// `BODY[]` (or `BODY[]<0>`, partial), or `RFC822`: the message.
    body: Option<Cow<'a, [u8]>>,
    /// INTERNALDATE (RFC 3501 §2.3.3), when it reads as one.
    internal_date: Option<DateTime<Utc>>,
}

impl<'a> FetchAnswer<'a> {
    /// The FETCH responses of an answer, and how many `* N EXPUNGE` came with them.
    fn all(raw: &'a [u8]) -> imap::Result<(Vec<FetchAnswer<'a>>, usize)> {
        let mut answers = Vec::new();
        let mut expunges = 0;
        super::untagged::for_each(raw, |response| match response {
            Response::Fetch(_, attributes) => answers.push(FetchAnswer::of(attributes)),
            Response::Expunge(_) => expunges += 1,
            _ => {}
        })?;
        Ok((answers, expunges))
    }

    fn of(attributes: Vec<AttributeValue<'a>>) -> FetchAnswer<'a> {
        let mut answer = FetchAnswer {
            uid: None,
            size: None,
            body: None,
            internal_date: None,
        };
        for a in attributes {
            match a {
                AttributeValue::Uid(u) => answer.uid = Some(u),
                AttributeValue::Rfc822Size(n) => answer.size = Some(n),
                AttributeValue::BodySection {
                    section: None,
                    data: Some(body),
                    ..
                }
                | AttributeValue::Rfc822(Some(body)) => {
                    answer.body.get_or_insert(body);
                }
                AttributeValue::InternalDate(date) => {
                    answer.internal_date = DateTime::parse_from_str(&date, "%d-%b-%Y %H:%M:%S %z")
                        .ok()
                        .map(|d| d.to_utc());
                }
                _ => {}
            }
        }
        answer
    }
}

/// What to FETCH for `batch`: whole bodies, or capped one byte over the limit.
fn fetch_items(batch: &Batch, max_message_bytes: u64) -> String {
    if batch.capped {
        let cap = max_message_bytes.saturating_add(1).min(u64::from(u32::MAX));
        format!("(UID INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{cap}>)")
    } else {
        "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[])".to_string()
    }
}

/// The UIDs of `batch` not stored, each with why: no body came, or one that was unfit.
fn not_stored(
    batch: &Batch,
    got: &BTreeMap<u32, usize>,
    unfit: &BTreeMap<u32, String>,
) -> Vec<(u32, String)> {
    batch
        .uids
        .iter()
        .filter(|uid| !got.contains_key(uid) || unfit.contains_key(uid))
        .map(|&uid| {
            let why = unfit
                .get(&uid)
                .cloned()
                .unwrap_or_else(|| NO_BODY.to_string());
            (uid, why)
        })
        .collect()
}

/// The message to store for `uid` from the `content` the server sent, checked against
/// its size claims (the listing's and the answer's), or None when it is recorded unfit.
/// RFC822.SIZE is the message's size in octets (RFC 3501 §2.3.4): a body short of it was
/// cut, or the claim is false; asked for again, the same answer is stored as sent, named.
fn checked(
    source: &Source<'_>,
    batch: &Batch,
    uid: u32,
    content: &[u8],
    claims: [Option<u32>; 2],
    out: &mut FetchedBatch,
    unfit: &mut BTreeMap<u32, String>,
) -> Option<Vec<u8>> {
    if content == COURIER_STAND_IN {
        unfit.insert(
            uid,
            "the server sent its stand-in \"message unavailable\" instead of the message: it \
             could not read it (Courier does so for a message file it cannot open, or one moved \
             away since the listing); if it is still there, check its permissions on the server"
                .to_string(),
        );
        return None;
    }
    let claimed = claims.into_iter().flatten().map(u64::from).max();
    let len = content.len() as u64;
    let whole = len <= source.max_message_bytes;
    if whole && claimed.is_some_and(|c| len < c) {
        let why = format!(
            "the server sent {len} bytes of a message it says has {}",
            claimed.unwrap_or(0)
        );
        if !batch.retry {
            unfit.insert(uid, why);
            return None;
        }
        out.refused.push(format!(
            "mailbox \"{}\": UID {uid}: {why}, a second time; stored as sent",
            source.mailbox
        ));
    }
    Some(if whole {
        content.to_vec()
    } else {
        out.too_large += 1;
        too_large(
            header_part(content),
            claimed.unwrap_or(len).max(len),
            source,
            uid,
        )
    })
}

/// The header section of a message: up to and including the first empty line.
fn header_part(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
    &raw[..end.unwrap_or(raw.len())]
}

/// The message kept for one too large to store: its own headers (its MIME structure
/// renamed away, so the note is what a reader sees) and a plain-text note as the body.
fn too_large(headers: &[u8], size: u64, source: &Source<'_>, uid: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len() + 512);
    for line in headers.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.trim_ascii_end();
        if trimmed.is_empty() {
            continue;
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with(b"content-type:")
            || lower.starts_with(b"content-transfer-encoding:")
            || lower.starts_with(b"mime-version:")
        {
            out.extend_from_slice(b"X-Secdesk-Original-");
        }
        out.extend_from_slice(trimmed);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    out.extend_from_slice(
        format!(
            "[secdesk] too large, {size} bytes, kept on the server (mailbox \"{}\", UID {uid}): \
             only its headers are stored here, as it is over [sync] max_message_bytes ({}).\r\n",
            source.mailbox, source.max_message_bytes
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_too_large_message_keeps_headers_and_says_so() {
        let source = Source {
            mailbox: "INBOX",
            uidvalidity: 1,
            max_message_bytes: 100,
        };
        let headers = b"From: a@example.org\r\nSubject: big\r\nContent-Type: multipart/mixed;\r\n boundary=x\r\n\r\n";
        let raw = too_large(header_part(headers), 62_914_560, &source, 7);
        let text = String::from_utf8(raw).unwrap();
        assert!(text.contains("Subject: big\r\n"));
        assert!(
            text.contains("X-Secdesk-Original-Content-Type: multipart/mixed;\r\n boundary=x\r\n")
        );
        assert!(text.contains("too large, 62914560 bytes, kept on the server"));
    }

    #[test]
    fn an_answer_is_read_whatever_the_order_of_its_items_and_its_warnings() {
        let raw =
            b"* 1 FETCH (BODY[] {2}\r\nhi UID 4 INTERNALDATE \" 3-Dec-2026 10:00:00 +0100\")\r\n\
                    * NO [ALERT] Mailbox is at 95% of its quota\r\n\
                    * 2 FETCH (UID 5 BODY[] NIL)\r\n\
                    * BAD Line ignored\r\n\
                    * 3 EXPUNGE\r\n\
                    * 2 FETCH (UID 6 RFC822 {2}\r\nyo)\r\n";
        let (answers, expunges) = FetchAnswer::all(raw).unwrap();
        let got: Vec<_> = answers
            .iter()
            .map(|a| {
                (
                    a.uid,
                    a.body.as_deref(),
                    a.internal_date.map(|d| d.to_rfc3339()),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(4),
                    Some(&b"hi"[..]),
                    Some("2026-12-03T09:00:00+00:00".to_string())
                ),
                (Some(5), None, None),
                (Some(6), Some(&b"yo"[..]), None),
            ]
        );
        assert_eq!(expunges, 1);
        assert!(FetchAnswer::all(b"* 1 FETCH (UID 4)\r\nHTTP/1.1 200 OK\r\n").is_err());
    }
}
