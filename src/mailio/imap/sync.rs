//! Incremental sync of one IMAP mailbox into the store.
//!
//! Owns the cursor logic (RFC 3501 §2.3.1.1, RFC 9051 §2.3.1.1): UIDs are only
//! meaningful within one UIDVALIDITY, so the store keeps `(uidvalidity,
//! last_uid)` per mailbox and asks only for `last_uid+1:*`. When UIDVALIDITY
//! changed, everything is fetched again and the content-hash dedup in
//! [`crate::core::ingest`] keeps what is already stored from being duplicated.
//!
//! Messages are fetched with `BODY.PEEK[]` (RFC 3501 §6.4.5), which never sets
//! `\Seen`, from a mailbox opened with EXAMINE (§6.3.2, read-only), in batches
//! of UIDs. One thread fetches, another parses and classifies, and the calling
//! thread stores;
//! bounded channels between them keep memory flat. Each batch is committed in
//! one transaction together with the cursor it reaches, so a process killed at
//! any moment resumes exactly where the last commit ended.

use std::sync::mpsc;
use std::thread;

use crate::core::ingest::{IngestSummary, Ingestor, MailboxCursor, Origin, Prepared, RawIncoming};
use crate::core::store::{MailboxState, Store, StoreError};

use super::connect::{classify, Endpoint, ImapSession};
use super::error::ImapError;

/// UIDs per `UID FETCH`: large enough that round trips do not dominate, small
/// enough that a batch of ordinary mail stays a few megabytes.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// Batches fetched ahead of the one being stored.
const PIPELINE_DEPTH: usize = 2;

/// The mailbox as EXAMINE reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    pub mailbox: String,
    pub uidvalidity: u32,
    /// The UID the next message will get, when the server says (RFC 3501 §7.1).
    pub uid_next: Option<u32>,
    pub exists: u32,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Messages downloaded (including ones already stored, after a UIDVALIDITY change).
    pub fetched: usize,
    pub stored: IngestSummary,
    /// The server's UIDVALIDITY differed from the stored one, so all mail was fetched again.
    pub uidvalidity_changed: bool,
}

/// Progress for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProgress {
    /// This many messages will be fetched.
    Planned { total: usize },
    /// This many have been stored so far.
    Stored { done: usize },
}

/// A sync failure: the server's side or the store's.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start a sync worker thread: {error}; the system is out of threads or memory, try again")]
    Thread { error: std::io::Error },
}

/// Opens `mailbox` read-only with EXAMINE (RFC 3501 §6.3.2).
pub fn examine(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    mailbox: &str,
) -> Result<Examined, ImapError> {
    let bad = |detail: String| ImapError::BadMailbox {
        mailbox: mailbox.to_string(),
        host: endpoint.host.clone(),
        detail: detail.trim().trim_end_matches('.').to_string(),
    };
    let status = session.examine(mailbox).map_err(|e| match e {
        imap::Error::No(no) => bad(no.information),
        imap::Error::Bad(b) => bad(b.information),
        imap::Error::Validate(_) => bad("the name contains a line break".to_string()),
        other => classify(endpoint, "opening the mailbox", other),
    })?;
    let uidvalidity = status
        .uid_validity
        .ok_or_else(|| ImapError::NoUidValidity {
            mailbox: mailbox.to_string(),
            host: endpoint.host.clone(),
        })?;
    Ok(Examined {
        mailbox: mailbox.to_string(),
        uidvalidity,
        uid_next: status.uid_next,
        exists: status.exists,
    })
}

/// Where to start fetching, given what the store remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The first UID to ask for.
    pub first_uid: u32,
    /// The cursor must be rewritten even if no message arrives (new mailbox or
    /// UIDVALIDITY change), so the next sync is incremental.
    pub reset: bool,
    /// The server's UIDNEXT proves there is nothing new: skip the search.
    pub up_to_date: bool,
}

/// Decides what to fetch (RFC 3501 §2.3.1.1).
pub fn plan(examined: &Examined, stored: Option<MailboxState>) -> Plan {
    match stored {
        Some(st) if st.uidvalidity == examined.uidvalidity => {
            let first_uid = st.last_uid.saturating_add(1);
            let up_to_date =
                examined.exists == 0 || examined.uid_next.is_some_and(|next| next <= first_uid);
            Plan {
                first_uid,
                reset: false,
                up_to_date,
            }
        }
        _ => Plan {
            first_uid: 1,
            reset: true,
            up_to_date: examined.exists == 0,
        },
    }
}

/// The server side of a sync: a session with the mailbox examined.
pub struct Remote<'a> {
    pub endpoint: &'a Endpoint,
    /// Must have the examined mailbox selected (see [`examine`]).
    pub session: &'a mut ImapSession,
    /// UIDs per `UID FETCH`; see [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
}

/// Fetches what `plan` calls for and stores it, batch by batch.
pub fn run(
    remote: Remote<'_>,
    examined: &Examined,
    plan: Plan,
    store: &mut Store,
    ingestor: &Ingestor,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<SyncReport, SyncError> {
    let Remote {
        endpoint,
        session,
        batch_size,
    } = remote;
    let mut report = SyncReport {
        uidvalidity_changed: plan.reset,
        ..SyncReport::default()
    };
    let cursor_at = |last_uid| MailboxCursor {
        mailbox: examined.mailbox.clone(),
        uidvalidity: examined.uidvalidity,
        last_uid,
    };

    let uids = if plan.up_to_date {
        Vec::new()
    } else {
        new_uids(endpoint, session, plan.first_uid)?
    };
    progress(SyncProgress::Planned { total: uids.len() });

    if uids.is_empty() {
        if plan.reset {
            ingestor.ingest_batch(store, Vec::new(), Some(&cursor_at(0)))?;
        }
        return Ok(report);
    }

    // Three stages, each on its own thread, joined by bounded channels:
    // fetch (network, TLS) -> prepare (MIME parse, classify) -> store (SQLite, this thread).
    let (fetched_tx, fetched_rx) = mpsc::sync_channel::<Fetched>(PIPELINE_DEPTH);
    let (parsed_tx, parsed_rx) = mpsc::sync_channel::<Parsed>(PIPELINE_DEPTH);
    let mailbox = examined.mailbox.as_str();
    let uidvalidity = examined.uidvalidity;
    thread::scope(|scope| -> Result<(), SyncError> {
        let spawn_err = |error| SyncError::Thread { error };
        thread::Builder::new()
            .name("sync-fetch".into())
            .spawn_scoped(scope, move || {
                for chunk in uids.chunks(batch_size.max(1)) {
                    let batch = fetch_batch(endpoint, session, mailbox, uidvalidity, chunk);
                    let failed = batch.is_err();
                    // A closed channel means a later stage stopped; so do we.
                    if fetched_tx.send(batch).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(spawn_err)?;
        thread::Builder::new()
            .name("sync-prepare".into())
            .spawn_scoped(scope, move || {
                for batch in fetched_rx {
                    let parsed = batch.map(|b| {
                        let messages = b
                            .messages
                            .into_iter()
                            .map(|m| ingestor.prepare(m))
                            .collect();
                        (messages, b.last_uid)
                    });
                    if parsed_tx.send(parsed).is_err() {
                        break;
                    }
                }
            })
            .map_err(spawn_err)?;
        // Returning early drops `parsed_rx`, which unblocks and ends the other stages.
        for batch in parsed_rx {
            let (messages, last_uid) = batch?;
            report.fetched += messages.len();
            let summary = ingestor.store_prepared(store, messages, Some(&cursor_at(last_uid)))?;
            report.stored += summary;
            progress(SyncProgress::Stored {
                done: report.fetched,
            });
        }
        Ok(())
    })?;
    Ok(report)
}

type Fetched = Result<FetchedBatch, ImapError>;
type Parsed = Result<(Vec<Prepared>, u32), ImapError>;

/// One fetched batch and the cursor it brings the store to.
struct FetchedBatch {
    messages: Vec<RawIncoming>,
    /// The highest UID asked for: a message expunged in between is gone for
    /// good (UIDs are never reused within a UIDVALIDITY), so skipping it is safe.
    last_uid: u32,
}

/// The UIDs at or above `first_uid`, ascending (RFC 3501 §6.4.4, §6.4.8).
fn new_uids(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    first_uid: u32,
) -> Result<Vec<u32>, ImapError> {
    let found = session
        .uid_search(format!("UID {first_uid}:*"))
        .map_err(|e| classify(endpoint, "searching for new mail", e))?;
    // `N:*` always matches the highest UID, even when it is below N
    // (RFC 3501 §6.4.8), so filter rather than trust the range.
    let mut uids: Vec<u32> = found.into_iter().filter(|&u| u >= first_uid).collect();
    uids.sort_unstable();
    Ok(uids)
}

fn fetch_batch(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    mailbox: &str,
    uidvalidity: u32,
    uids: &[u32],
) -> Result<FetchedBatch, ImapError> {
    let fetches = session
        .uid_fetch(uid_set(uids), "(UID INTERNALDATE BODY.PEEK[])")
        .map_err(|e| classify(endpoint, "fetching messages", e))?;
    let mut messages: Vec<(u32, RawIncoming)> = fetches
        .iter()
        .filter_map(|f| {
            // Unsolicited FETCH responses (flag changes) carry no body; skip them.
            let uid = f.uid?;
            let raw = f.body()?.to_vec();
            Some((
                uid,
                RawIncoming {
                    raw,
                    received_at: f.internal_date().map(|d| d.to_utc()),
                    origin: Origin::Imap {
                        mailbox: mailbox.to_string(),
                        uidvalidity,
                        uid,
                    },
                },
            ))
        })
        .collect();
    // Threading links a reply to an earlier message; UID order is arrival order.
    messages.sort_by_key(|(uid, _)| *uid);
    Ok(FetchedBatch {
        messages: messages.into_iter().map(|(_, m)| m).collect(),
        // `uids` comes from one `chunks()` slice and is never empty.
        last_uid: uids.last().copied().unwrap_or(0),
    })
}

/// Formats ascending UIDs as a compact sequence set (RFC 3501 §9,
/// `sequence-set`), e.g. `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    fn examined(uidvalidity: u32, uid_next: u32, exists: u32) -> Examined {
        Examined {
            mailbox: "INBOX".into(),
            uidvalidity,
            uid_next: Some(uid_next),
            exists,
        }
    }

    #[test]
    fn same_uidvalidity_continues_after_last_uid() {
        let st = MailboxState {
            uidvalidity: 7,
            last_uid: 40,
        };
        let p = plan(&examined(7, 45, 44), Some(st));
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (41, false, false));
        let p = plan(&examined(7, 41, 40), Some(st));
        assert!(p.up_to_date, "UIDNEXT 41 means nothing after 40");
    }

    #[test]
    fn new_or_changed_uidvalidity_fetches_everything() {
        let st = MailboxState {
            uidvalidity: 7,
            last_uid: 40,
        };
        let p = plan(&examined(8, 41, 40), Some(st));
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (1, true, false));
        let p = plan(&examined(8, 1, 0), None);
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (1, true, true));
    }
}
