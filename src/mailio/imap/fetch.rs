//! Fetching message bodies by UID, in batches bounded by count and by bytes.
//!
//! Sizes come from the listing (`RFC822.SIZE`, RFC 3501 §6.4.5). A message larger than
//! `[sync] max_message_bytes` is fetched as `BODY.PEEK[HEADER]` only and stored as its
//! headers plus a note, "too large, N bytes, kept on the server", so one huge message never
//! blocks the mailbox nor fills memory. Every FETCH in an answer is checked: a UID that was
//! not asked for is refused; a UID asked for but sent without its body is reported missing.

use std::collections::BTreeSet;

use crate::core::ingest::{Origin, RawIncoming};

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;
use super::listing::Listed;
pub use super::uids::BATCH_BYTES;

/// UIDs fetched with one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub uids: Vec<u32>,
    /// Too large to store whole: fetch the headers only.
    pub headers_only: bool,
}

/// Splits `listed` (ascending) into batches of at most `max_count` UIDs and about
/// [`BATCH_BYTES`], keeping UID order; messages over `max_message_bytes` go in batches of
/// their own that fetch headers only.
pub fn batches(listed: &[Listed], max_count: usize, max_message_bytes: u64) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    let mut bytes = 0u64;
    for l in listed {
        let size = l.size.map_or(0, u64::from);
        let headers_only = size > max_message_bytes;
        let cost = if headers_only { 0 } else { size };
        let fits = out.last().is_some_and(|b| {
            b.headers_only == headers_only
                && b.uids.len() < max_count.max(1)
                && (bytes + cost <= BATCH_BYTES || b.uids.is_empty())
        });
        if !fits {
            out.push(Batch {
                uids: Vec::new(),
                headers_only,
            });
            bytes = 0;
        }
        if let Some(b) = out.last_mut() {
            b.uids.push(l.uid);
        }
        bytes += cost;
    }
    out
}

/// What one FETCH brought.
pub struct FetchedBatch {
    /// In UID order, with their UIDs.
    pub messages: Vec<(u32, RawIncoming)>,
    /// Asked for, not sent, with why.
    pub missing: Vec<(u32, String)>,
    /// Answers refused, one line each.
    pub refused: Vec<String>,
}

/// Where the fetched messages come from.
pub struct Source<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub max_message_bytes: u64,
}

/// Fetches one batch (RFC 3501 §6.4.8 UID FETCH, §6.4.5 BODY.PEEK never sets \Seen).
pub fn fetch_batch(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    source: &Source<'_>,
    batch: &Batch,
) -> Result<FetchedBatch, ImapError> {
    let items = if batch.headers_only {
        "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])"
    } else {
        "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[])"
    };
    let fetches = within_deadline(endpoint, session, |s| {
        s.uid_fetch(super::sync::uid_set(&batch.uids), items)
    })
    .map_err(|e| classify(endpoint, "fetching messages", e))?;
    let asked: BTreeSet<u32> = batch.uids.iter().copied().collect();
    let mut got = BTreeSet::new();
    let mut out = FetchedBatch {
        messages: Vec::new(),
        missing: Vec::new(),
        refused: Vec::new(),
    };
    for f in fetches.iter() {
        // Unsolicited FETCH responses (flag changes) carry no UID and no body.
        let Some(uid) = f.uid else { continue };
        let content = if batch.headers_only {
            f.header()
        } else {
            f.body()
        };
        if !asked.contains(&uid) {
            if content.is_some() {
                out.refused.push(format!(
                    "mailbox \"{}\": the server sent UID {uid}, which was not asked for; refused",
                    source.mailbox
                ));
            }
            continue;
        }
        let Some(content) = content else { continue };
        if !got.insert(uid) {
            continue;
        }
        let size = f.size.map_or(content.len() as u64, u64::from);
        let raw = if batch.headers_only || content.len() as u64 > source.max_message_bytes {
            too_large(
                header_part(content),
                size.max(content.len() as u64),
                source,
                uid,
            )
        } else {
            content.to_vec()
        };
        out.messages.push((
            uid,
            RawIncoming {
                raw,
                received_at: f.internal_date().map(|d| d.to_utc()),
                origin: Origin::Imap {
                    mailbox: source.mailbox.to_string(),
                    uidvalidity: source.uidvalidity,
                    uid,
                },
            },
        ));
    }
    drop(fetches);
    // Unsolicited responses are not needed here; never let them pile up.
    session.take_all_unsolicited().for_each(drop);
    // Threading links a reply to an earlier message; UID order is arrival order.
    out.messages.sort_by_key(|(uid, _)| *uid);
    out.missing = asked
        .difference(&got)
        .map(|&uid| {
            (
                uid,
                "the server answered the FETCH without this message's body".to_string(),
            )
        })
        .collect();
    Ok(out)
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

    fn listed(uid: u32, size: u32) -> Listed {
        Listed {
            uid,
            size: Some(size),
        }
    }

    #[test]
    fn batches_keep_uid_order_and_put_huge_messages_apart() {
        let l = [listed(1, 10), listed(2, 10), listed(3, 900), listed(4, 10)];
        let b = batches(&l, 500, 100);
        let shape: Vec<(Vec<u32>, bool)> =
            b.into_iter().map(|b| (b.uids, b.headers_only)).collect();
        assert_eq!(
            shape,
            vec![(vec![1, 2], false), (vec![3], true), (vec![4], false)]
        );
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        let big = (BATCH_BYTES / 2 + 1) as u32;
        let l = [listed(1, big), listed(2, big), listed(3, 1)];
        let b = batches(&l, 500, u64::MAX);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].uids, vec![2, 3]);
    }

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
}
