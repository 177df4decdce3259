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

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::thread;

use crate::core::ingest::{IngestSummary, Ingestor, MailboxCursor, Prepared};
use crate::core::store::{Store, StoreError, BULK_PAGE_CACHE_BYTES, DEFAULT_PAGE_CACHE_BYTES};

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::cursor::{plan, Plan, Walk};
use super::error::{server_text, ImapError};
use super::fetch::{self, Batch, FetchedBatch, Source};
use super::listing::{self, Listed, Listing};
use super::relogin::Relogins;
pub use super::relogin::{Relogin, MAX_RELOGINS};
use super::renumbered::{CheckError, Checked, Said};
pub use super::uids::{uid_set, Examined};

/// UIDs per `UID FETCH`: large enough that round trips do not dominate, small
/// enough that a batch of ordinary mail stays a few megabytes.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// Batches fetched ahead of the one being stored.
const PIPELINE_DEPTH: usize = 2;

/// How the reason of a UID recorded missing starts when the sync stopped before asking
/// for it: it is fetched with the others next time, not alone. The store's migration 32
/// matches this wording (rows an earlier version counted an attempt for): keep it.
const NOT_REACHED: &str = "not reached, an earlier FETCH failed: ";

/// Syncs that try a UID recorded missing in its place in UID order; after that it is
/// fetched after the rest (see `list_new`).
const RETRIES_IN_PLACE: u32 = 2;

/// The longest wait of [`Retry::Paced`] before a UID whose FETCH keeps failing is asked
/// for again.
const MAX_RETRY_WAIT_MINUTES: i64 = 60;

/// When a sync asks again for a UID that is fetched after the others (its FETCH failed in
/// its place in UID order, see `list_new`) and failed there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// At every sync: `secdesk sync`, which a user or a timer runs when mail is wanted now.
    EverySync,
    /// After a wait that doubles with each failure, 1 minute to an hour ([`retry_wait`]):
    /// the desk's rounds, which come every poll and at every new mail. A message whose
    /// every FETCH breaks the session would otherwise cost a new login each round, all day.
    /// A UID not asked for is still a gap of the sync, named with when it is asked again.
    Paced,
}

/// How long [`Retry::Paced`] waits after the last try of a UID recorded missing with
/// `attempts` tries: nothing while it has not been tried after the others yet, then 1, 2,
/// 4 … minutes, at most an hour.
pub fn retry_wait(attempts: u32) -> chrono::Duration {
    match attempts.checked_sub(RETRIES_IN_PLACE + 1) {
        None => chrono::Duration::zero(),
        Some(n) => chrono::Duration::minutes((1i64 << n.min(6)).min(MAX_RETRY_WAIT_MINUTES)),
    }
}

/// Listings tried while the mailbox keeps changing under them (each after examining it
/// again), before the sync settles for the cursor staying where it was.
const LISTING_TRIES: usize = 3;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The mailbox, as configured.
    pub mailbox: String,
    /// Messages downloaded (including ones already stored, after a UIDVALIDITY change).
    pub fetched: usize,
    pub stored: IngestSummary,
    /// The server's UIDVALIDITY differed from the stored one, so all mail was fetched again.
    pub uidvalidity_changed: bool,
    /// The server had given stored UIDs to other messages under the same UIDVALIDITY, so
    /// the mailbox was listed again from UID 1 (see [`super::renumbered`]): one line, said
    /// with the sync. Not a gap: what the listing announced is stored as ever.
    pub renumbered: Option<String>,
    /// Messages over `max_message_bytes`, stored as headers and a note.
    pub too_large: usize,
    /// UIDs the server listed whose body was not stored, with why; also recorded in the
    /// store, and asked for again by the next sync (with [`Retry::Paced`], once its wait is
    /// over: those left for later are here too, with when).
    pub missing: Vec<(u32, String)>,
    /// UIDs the server listed, then no longer had when asked for their bodies: deleted by
    /// another client during the sync (see [`super::expunged`]). Not missing.
    pub expunged: Vec<u32>,
    /// Server answers refused and counts that did not add up, one line each.
    pub problems: Vec<String>,
}

impl SyncReport {
    /// Every UID the server announced is stored: nothing missing, nothing refused.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.problems.is_empty()
    }
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
    /// A failure in one mailbox of several, named; `also`: the other mailboxes that
    /// failed, each as `; mailbox "NAME": ERROR`; `synced`: the mailboxes synced before
    /// the sync ended, whose gaps the caller still names.
    #[error("mailbox \"{mailbox}\": {error}{also}")]
    InMailbox {
        mailbox: String,
        error: Box<SyncError>,
        also: String,
        synced: Vec<SyncReport>,
    },
    /// The FETCH `error` of a UID fetched after the others, and why the sync could not go
    /// on past it (no new session, the mailbox changed); `report`: what the mailbox's sync
    /// did until then, its gaps (that UID and those not reached) named.
    #[error("{error}; {why}")]
    NotResumed {
        error: Box<SyncError>,
        why: String,
        report: Box<SyncReport>,
        /// A new session was logged in and can still serve the mailboxes after this one
        /// (it was this mailbox that could not be examined again, or changed UIDVALIDITY).
        session_usable: bool,
    },
}

impl SyncError {
    /// The reports of the mailboxes synced, or partly synced, before this error ended the
    /// sync: their gaps are still to be named.
    pub fn reports_so_far(&self) -> Vec<&SyncReport> {
        match self {
            SyncError::InMailbox { error, synced, .. } => {
                synced.iter().chain(error.reports_so_far()).collect()
            }
            SyncError::NotResumed { report, .. } => vec![report],
            _ => Vec::new(),
        }
    }

    /// The session is still usable after this error: the server refused a command for
    /// this mailbox, not the connection. Other mailboxes can still be synced.
    fn leaves_session_usable(&self) -> bool {
        match self {
            SyncError::Imap(e) => refused_only(e),
            SyncError::NotResumed { session_usable, .. } => *session_usable,
            _ => false,
        }
    }
}

/// The server refused a command for one mailbox, not the connection: the session can still
/// serve the others.
fn refused_only(e: &ImapError) -> bool {
    matches!(
        e,
        ImapError::Protocol { .. } | ImapError::BadMailbox { .. } | ImapError::NoUidValidity { .. }
    )
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
        detail: server_text(&detail).trim_end_matches('.').to_string(),
    };
    // On the wire in modified UTF-7 (RFC 3501 §5.1.3); everywhere else as configured.
    let wire = super::mailbox::encode(mailbox);
    let status = within_deadline(endpoint, session, |s| s.examine(&wire)).map_err(|e| match e {
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
    // Some servers (Courier) leave UIDNEXT out of EXAMINE's answer but give it to STATUS
    // (RFC 3501 §6.3.10). Without it the cursor cannot move and every sync lists the whole
    // mailbox again, so ask; a refusal leaves it unknown, which is safe, only slower.
    let uid_next = status.uid_next.or_else(|| {
        within_deadline(endpoint, session, |s| {
            s.status(&wire, "(UIDNEXT UIDVALIDITY)")
        })
        .ok()
        .filter(|st| st.uid_validity == Some(uidvalidity))
        .and_then(|st| st.uid_next)
    });
    Ok(Examined {
        mailbox: mailbox.to_string(),
        uidvalidity,
        uid_next,
        exists: status.exists,
    })
}

/// The server side of a sync: a session with the mailbox examined.
pub struct Remote<'a> {
    pub endpoint: &'a Endpoint,
    /// Must have the examined mailbox selected (see [`examine`]).
    pub session: &'a mut ImapSession,
    /// UIDs per `UID FETCH`; see [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
    /// Logs in again, when a UID fetched after the others (one that already broke its
    /// FETCH twice) broke the session once more: the sync goes on with a new session, and
    /// that UID is a gap, not the end of the mailbox (see `run`). Without it, such a
    /// failure ends the mailbox's sync.
    pub relogin: Option<&'a mut Relogin<'a>>,
    /// When UIDs whose FETCH keeps failing are asked for again.
    pub retry: Retry,
}

/// Syncs each of `mailboxes` in order, each with its own cursor, on one session: the one
/// code path of `secdesk sync` and the desk's sync worker. Earlier mailboxes are stored
/// first, so a reply filed in a later one joins the report it answers. Stops at the first
/// error; what was stored stays, and the reports of the mailboxes synced go with the error
/// ([`SyncError::InMailbox`]), so their gaps are named too. A UID fetched after the others
/// whose FETCH fails again is a gap in its report, not such an error (with
/// [`Remote::relogin`], even when it broke the session: `session` is then a new one). Past
/// [`MAX_RELOGINS`] new logins, such UIDs left in any mailbox are not asked for: gaps too,
/// so the session stays usable for the mailboxes after them.
pub fn sync_mailboxes(
    remote: Remote<'_>,
    mailboxes: &[String],
    store: &mut Store,
    ingestor: &Ingestor,
    progress: &mut dyn FnMut(&str, SyncProgress),
) -> Result<Vec<SyncReport>, SyncError> {
    let Remote {
        endpoint,
        session,
        batch_size,
        relogin,
        retry,
    } = remote;
    // One budget of new logins for the whole sync, every mailbox (see `super::relogin`).
    let mut relogins = Relogins::new(relogin);
    let mut reports = Vec::with_capacity(mailboxes.len());
    let mut failed: Vec<(String, SyncError)> = Vec::new();
    for name in mailboxes {
        let synced = examine(endpoint, session, name)
            .map_err(SyncError::from)
            .and_then(|examined| {
                let link = Link {
                    endpoint,
                    session: &mut *session,
                    batch_size,
                    relogins: &mut relogins,
                    retry,
                };
                let (renumbered, asked) = verify_cursor(endpoint, link.session, &examined, store)?;
                // The check's answer may have carried the mailbox's news (new mail's
                // EXISTS), which the listing would then miss: its counts are asked again.
                let examined = if asked {
                    examine(endpoint, link.session, name)?
                } else {
                    examined
                };
                let plan = plan_for(&examined, store)?;
                let mut report = run(link, &examined, plan, store, ingestor, &mut |p| {
                    progress(name, p)
                })?;
                report.renumbered = renumbered;
                Ok(report)
            });
        match synced {
            Ok(report) => reports.push(report),
            // One mailbox the server refuses must not keep mail from the others.
            Err(e) if e.leaves_session_usable() => failed.push((name.clone(), e)),
            Err(e) => {
                failed.push((name.clone(), e));
                break;
            }
        }
    }
    let mut failed = failed.into_iter();
    match failed.next() {
        None => Ok(reports),
        Some((mailbox, error)) if mailboxes.len() > 1 => {
            let rest: Vec<(String, SyncError)> = failed.collect();
            // A later mailbox that failed too may have named gaps (one that could not go
            // on past a message, after an earlier one left its new session usable): they
            // go with the reports, so they are named as well.
            let mut synced = reports;
            synced.extend(
                rest.iter()
                    .flat_map(|(_, e)| e.reports_so_far().into_iter().cloned()),
            );
            Err(SyncError::InMailbox {
                mailbox,
                error: Box::new(error),
                also: rest
                    .iter()
                    .map(|(name, e)| format!("; mailbox \"{name}\": {e}"))
                    .collect(),
                synced,
            })
        }
        Some((_, error)) => Err(error),
    }
}

/// Whether the store's cursors prove that none of the `examined` mailboxes has anything
/// new (RFC 3501 §2.3.1.1: UIDNEXT at or below the cursor). Then a sync stores no message
/// and needs no classifier, whose loading (model, rules) costs more than the rest of such
/// a sync.
pub fn nothing_new(examined: &[Examined], store: &Store) -> Result<bool, StoreError> {
    for e in examined {
        if !plan_for(e, store)?.up_to_date {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The sync of mailboxes that [`nothing_new`] found unchanged, from the answers EXAMINE
/// gave (not asked again, so mail arriving since waits for the next sync): the cursors
/// settle, no message is fetched.
pub fn settle_unchanged(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &[Examined],
    store: &mut Store,
    ingestor: &Ingestor,
) -> Result<Vec<SyncReport>, SyncError> {
    let mut reports = Vec::with_capacity(examined.len());
    for e in examined {
        let plan = plan_for(e, store)?;
        let link = Link {
            endpoint,
            session: &mut *session,
            batch_size: DEFAULT_BATCH_SIZE,
            relogins: &mut Relogins::new(None),
            retry: Retry::EverySync,
        };
        reports.push(run(link, e, plan, store, ingestor, &mut |_| {})?);
    }
    Ok(reports)
}

/// Checks the cursor of `examined`'s mailbox against the server's word (see
/// [`super::renumbered`]): when the server renumbered its mail, the store forgets the
/// mailbox's UIDs, so it is listed again from UID 1, and the line saying so is returned;
/// with whether a command went to the server (its answer may hold news EXAMINE's counts
/// miss: examine again before listing).
pub fn verify_cursor(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    store: &mut Store,
) -> Result<(Option<String>, bool), SyncError> {
    let said = Said {
        mailbox: &examined.mailbox,
        uidvalidity: examined.uidvalidity,
        uid_next: examined.uid_next,
    };
    match super::renumbered::check(endpoint, session, said, store) {
        Ok(v) => match v.checked {
            Checked::Agrees => Ok((None, v.asked)),
            Checked::Renumbered(line) => Ok((Some(line), v.asked)),
        },
        Err(CheckError::Imap(e)) => Err(e.into()),
        Err(CheckError::Store(e)) => Err(e.into()),
    }
}

/// The plan for `examined` from what the store keeps of it: its cursor, and whether UIDs
/// of it are still recorded missing.
fn plan_for(examined: &Examined, store: &Store) -> Result<Plan, StoreError> {
    let state = store.mailbox_state(&examined.mailbox)?;
    let unsettled = store.has_missing(&examined.mailbox, examined.uidvalidity)?;
    Ok(plan(examined, state, unsettled))
}

/// The server side of a sync of one mailbox among others: the session, and the new logins
/// the whole sync may still make.
struct Link<'a, 'r> {
    endpoint: &'a Endpoint,
    session: &'a mut ImapSession,
    batch_size: usize,
    relogins: &'a mut Relogins<'r>,
    retry: Retry,
}

/// Fetches what `plan` calls for and stores it, batch by batch. Every UID the server lists
/// ends stored, or recorded missing with its reason (in the report and in the store); the
/// cursor only moves past UIDs that are stored.
fn run(
    link: Link<'_, '_>,
    examined: &Examined,
    plan: Plan,
    store: &mut Store,
    ingestor: &Ingestor,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<SyncReport, SyncError> {
    let Link {
        endpoint,
        session,
        batch_size,
        relogins,
        retry,
    } = link;
    let mut report = SyncReport {
        mailbox: examined.mailbox.clone(),
        uidvalidity_changed: plan.uidvalidity_changed,
        ..SyncReport::default()
    };
    let todo = list_new(endpoint, session, examined, &plan, store, batch_size, retry)?;
    // The mailbox as last examined: examined again when it changed during the listing.
    let examined = &todo.examined.clone();
    report
        .problems
        .extend(todo.listing.problems.iter().cloned());
    report.missing.extend(todo.later.iter().cloned());
    let todo_total = todo.total;
    progress(SyncProgress::Planned { total: todo_total });
    super::expunged::pause_before_fetch_for_tests(todo_total);
    let Todo {
        listing,
        planned,
        mut walk,
        ..
    } = todo;
    // The UIDs fetched after the others, each alone, each its own run of the pipeline (see
    // `list_new`): their failure is a gap, not the end of the mailbox.
    let runs = std::iter::once(planned.in_order).chain(planned.last.into_iter().map(|b| vec![b]));
    let source = Source {
        mailbox: &examined.mailbox,
        uidvalidity: examined.uidvalidity,
        max_message_bytes: endpoint.max_message_bytes,
    };
    // A bigger page cache while many messages arrive keeps the cost per message flat as
    // the store grows (see `BULK_PAGE_CACHE_BYTES`); back to the default afterwards, so a
    // desk's long-lived connection does not keep it.
    let bulk = todo_total > 0;
    if bulk {
        store.set_page_cache(BULK_PAGE_CACHE_BYTES)?;
    }
    let mut sink = Sink {
        store: &mut *store,
        ingestor,
        examined,
        walk: &mut walk,
        report: &mut report,
        progress: &mut *progress,
        expunges: 0,
    };
    let piped = fetch_runs(endpoint, session, relogins, &source, runs, &mut sink);
    let expunges = sink.expunges;
    if bulk {
        store.set_page_cache(DEFAULT_PAGE_CACHE_BYTES)?;
    }
    if let Err(stopped) = piped {
        return Err(stopped_at(store, examined, &walk, report, *stopped));
    }
    let settled = settle_expunged(
        endpoint,
        session,
        examined,
        store,
        &mut walk,
        &mut report,
        expunges,
    );
    // What was stored is kept whatever the check's fate: the cursor stays below the UIDs
    // still missing.
    finish(store, ingestor, examined, &plan, &walk, &listing)?;
    settled?;
    // A first sync leaves the full-text index in many segments: merged into one
    // (core::store::search_index). Only space and search speed are at stake, so a failure
    // (a full disk, another desk writing) does not fail a sync that stored everything.
    let _ = store.merge_search_index(report.stored.new_messages);
    Ok(report)
}

/// The error that ends a mailbox's sync where [`fetch_runs`] stopped, with what it left
/// recorded in the store; past a UID fetched after the others, with the mailbox's gaps named.
fn stopped_at(
    store: &mut Store,
    examined: &Examined,
    walk: &Walk,
    mut report: SyncReport,
    stopped: Stopped,
) -> SyncError {
    let Stopped { error, failed, why } = stopped;
    if let Err(e) = record_unfetched(store, examined, walk, &failed, &error) {
        return e;
    }
    // The rows of UIDs stored meanwhile go, also those after the failure (a UID fetched
    // last, see `list_new`).
    if let Err(e) = store.settle_missing(&examined.mailbox, examined.uidvalidity, walk.at) {
        return e.into();
    }
    let Some(Halt {
        why,
        session_usable,
    }) = why
    else {
        return error;
    };
    // The mailbox's sync ends: its gaps go with the error, so they are named.
    name_unfetched(&mut report, walk, &failed, &error);
    SyncError::NotResumed {
        error: Box::new(error),
        why,
        report: Box::new(report),
        session_usable,
    }
}

/// Asks the server again about the UIDs whose FETCH came back without a body: those it no
/// longer has were expunged by another client since the listing (`super::expunged`), so
/// they leave the missing list and the store's `imap_missing`, and the cursor may pass them.
/// When the answer cannot be believed they stay missing, with why; when it does not come
/// (a timeout, a lost connection) they stay missing and the sync ends with that error.
fn settle_expunged(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    store: &mut Store,
    walk: &mut Walk,
    report: &mut SyncReport,
    expunges: usize,
) -> Result<(), SyncError> {
    let mut no_body: Vec<u32> = report
        .missing
        .iter()
        .filter(|(_, why)| why == fetch::NO_BODY)
        .map(|(uid, _)| *uid)
        .collect();
    if no_body.is_empty() {
        return Ok(());
    }
    no_body.sort_unstable();
    no_body.dedup();
    let gone = match super::expunged::expunged_since_listing(endpoint, session, &no_body, expunges)
    {
        Ok(gone) => gone,
        Err(super::expunged::Recheck::CutOff(e)) => return Err(e.into()),
        Err(super::expunged::Recheck::Refused(why)) => {
            let named = match no_body.as_slice() {
                [one] => format!("UID {one} came without its body"),
                _ => format!("UIDs {} came without their bodies", uid_set(&no_body)),
            };
            report.problems.push(format!(
                "mailbox \"{}\": {named}; {why}: recorded as missing",
                examined.mailbox
            ));
            return Ok(());
        }
    };
    if gone.is_empty() {
        return Ok(());
    }
    report.missing.retain(|(uid, _)| !gone.contains(uid));
    let gone: Vec<u32> = gone.into_iter().collect();
    store.forget_missing(&examined.mailbox, examined.uidvalidity, &gone)?;
    walk.done.extend(gone.iter().copied());
    walk.advance();
    report.expunged = gone;
    Ok(())
}

/// Where a sync's fetched batches go, as they come: the store, the cursor's walk, the
/// report and the progress.
struct Sink<'s> {
    store: &'s mut Store,
    ingestor: &'s Ingestor,
    examined: &'s Examined,
    walk: &'s mut Walk,
    report: &'s mut SyncReport,
    progress: &'s mut dyn FnMut(SyncProgress),
    /// EXPUNGE responses seen since the listing (see `super::expunged`).
    expunges: usize,
}

/// Fetches `runs` in order, each through the [`pipeline`] into `sink`: first the batches
/// in UID order, then each UID fetched after the others, alone. The failure of one of
/// those is a gap of this sync, named, and the sync goes on (see [`go_on_after`]); any
/// other failure ends it, with the UIDs of the FETCH that failed. Once the sync's new
/// logins are spent, the UIDs fetched after the others that are left are not asked for:
/// gaps, named, and the session stays usable for the mailboxes after this one.
fn fetch_runs(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    relogins: &mut Relogins<'_>,
    source: &Source<'_>,
    runs: impl Iterator<Item = Vec<Batch>>,
    sink: &mut Sink<'_>,
) -> Result<(), Box<Stopped>> {
    let ingestor = sink.ingestor;
    let mut runs = runs.enumerate();
    while let Some((i, batches)) = runs.next() {
        if i > 0 && relogins.spent() {
            let left: Vec<u32> = batches
                .into_iter()
                .chain(runs.flat_map(|(_, run)| run))
                .flat_map(|b| b.uids)
                .collect();
            return not_asked(sink, &left).map_err(Stopped::bare);
        }
        let mut stored = |batch: PreparedBatch| {
            sink.expunges += batch.expunges;
            let Sink {
                store,
                examined,
                walk,
                report,
                ..
            } = &mut *sink;
            store_batch(store, ingestor, examined, walk, report, batch)?;
            (sink.progress)(SyncProgress::Stored {
                done: sink.report.fetched,
            });
            Ok(())
        };
        let mut failed = Vec::new();
        let Err(error) = pipeline(
            endpoint,
            session,
            source,
            batches,
            ingestor,
            &mut stored,
            &mut failed,
        ) else {
            continue;
        };
        let why = match failed.as_slice() {
            [uid] if i > 0 => {
                match go_on_after(endpoint, session, relogins, sink, (*uid, &error)) {
                    Ok(Ok(())) => continue,
                    Ok(Err(why)) => why,
                    Err(store) => return Err(Stopped::bare(store)),
                }
            }
            _ => None,
        };
        return Err(Box::new(Stopped { error, failed, why }));
    }
    Ok(())
}

/// Why [`fetch_runs`] ended a mailbox's sync: the error, the UIDs of the FETCH that failed
/// (none when the store failed), and, when that FETCH was of a UID fetched after the others,
/// why the sync could not go on past it.
struct Stopped {
    error: SyncError,
    failed: Vec<u32>,
    why: Option<Halt>,
}

/// Why the sync of a mailbox could not go on past a UID fetched after the others, and
/// whether the session it leaves can serve the mailboxes after it.
struct Halt {
    why: String,
    session_usable: bool,
}

impl Stopped {
    fn bare(error: SyncError) -> Box<Stopped> {
        Box::new(Stopped {
            error,
            failed: Vec::new(),
            why: None,
        })
    }
}

/// Records `uids` (fetched after the others, not asked for: the sync's new logins are
/// spent) as gaps of this sync: not reached in the store, so a real failure recorded
/// before keeps its reason and count (`Store::record_not_reached`), and named in the report.
fn not_asked(sink: &mut Sink<'_>, uids: &[u32]) -> Result<(), SyncError> {
    if uids.is_empty() {
        return Ok(());
    }
    let reason = super::relogin::spent_reason();
    let examined = sink.examined;
    sink.store.record_not_reached(
        &examined.mailbox,
        examined.uidvalidity,
        uids,
        &format!("{NOT_REACHED}{reason}"),
    )?;
    sink.report
        .missing
        .extend(uids.iter().map(|&uid| (uid, reason.clone())));
    Ok(())
}

/// After the FETCH of `failed` (a UID fetched after the others) failed with its error:
/// records the UID as a gap of this sync, and readies the session for the next FETCH (a new
/// one, logged in again, when the error may have left it halfway through an answer, with
/// the mailbox examined again). An error, and nothing recorded, when the sync cannot go
/// on: no new session is to be had (without a way to log in again: no reason), or the
/// mailbox changed UIDVALIDITY meanwhile; the reason is for the user, after the FETCH error.
fn go_on_after(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    relogins: &mut Relogins<'_>,
    sink: &mut Sink<'_>,
    (failed, error): (u32, &SyncError),
) -> Result<Result<(), Option<Halt>>, SyncError> {
    let examined = sink.examined;
    if !error.leaves_session_usable() {
        let new = match relogins.login() {
            None => return Ok(Err(None)),
            Some(Ok(new)) => new,
            Some(Err(why)) => {
                return Ok(Err(Some(Halt {
                    why: format!("the sync could not go on past UID {failed}: {why}"),
                    session_usable: false,
                })))
            }
        };
        *session = new;
        let halt = match examine(endpoint, session, &examined.mailbox) {
            Ok(again) if again.uidvalidity == examined.uidvalidity => None,
            Ok(_) => Some(Halt {
                why: format!(
                    "the sync could not go on past UID {failed}: the mailbox's UIDVALIDITY changed during the sync; run the sync again"
                ),
                session_usable: true,
            }),
            // Opened a moment ago: the name is right, the server refused it this time.
            Err(ImapError::BadMailbox { detail, .. }) => Some(Halt {
                why: format!(
                    "the sync could not go on past UID {failed}: the server refused to open the mailbox again in a new session ({detail}); run the sync again"
                ),
                session_usable: true,
            }),
            Err(e) => Some(Halt {
                session_usable: refused_only(&e),
                why: format!(
                    "the sync could not go on past UID {failed}: examining the mailbox again in a new session failed: {e}"
                ),
            }),
        };
        if let Some(halt) = halt {
            return Ok(Err(Some(halt)));
        }
    }
    let reason = format!("not fetched: {error}");
    sink.store.record_missing(
        &examined.mailbox,
        examined.uidvalidity,
        &[(failed, reason.clone())],
    )?;
    sink.report.missing.push((failed, reason));
    Ok(Ok(()))
}

/// Records the listed UIDs a failed FETCH left unstored, with the cause. Only the UIDs of
/// the FETCH that failed were tried (one of them may be what broke it): they are asked for
/// one by one next time. The others were not reached, which is no attempt: one that an
/// earlier sync (or an earlier batch of this one) recorded missing keeps that reason and its
/// count (`Store::record_not_reached`), so it keeps its place next time.
fn record_unfetched(
    store: &mut Store,
    examined: &Examined,
    walk: &Walk,
    failed_uids: &[u32],
    error: &SyncError,
) -> Result<(), SyncError> {
    let reason = format!("not fetched: {error}");
    let tried: Vec<(u32, String)> = walk
        .pending()
        .filter(|u| failed_uids.contains(u))
        .map(|u| (u, reason.clone()))
        .collect();
    let not_reached: Vec<u32> = walk
        .pending()
        .filter(|u| !failed_uids.contains(u))
        .collect();
    let (mailbox, uidvalidity) = (examined.mailbox.as_str(), examined.uidvalidity);
    store.record_missing(mailbox, uidvalidity, &tried)?;
    store.record_not_reached(
        mailbox,
        uidvalidity,
        &not_reached,
        &format!("{NOT_REACHED}{reason}"),
    )?;
    Ok(())
}

/// Adds to `report` the listed UIDs not stored and not named yet, as [`record_unfetched`]
/// records them.
fn name_unfetched(report: &mut SyncReport, walk: &Walk, failed_uids: &[u32], error: &SyncError) {
    let reason = format!("not fetched: {error}");
    let named: BTreeSet<u32> = report.missing.iter().map(|(uid, _)| *uid).collect();
    let left: Vec<(u32, String)> = walk
        .pending()
        .filter(|u| !named.contains(u))
        .map(|u| match failed_uids.contains(&u) {
            true => (u, reason.clone()),
            false => (u, format!("{NOT_REACHED}{reason}")),
        })
        .collect();
    report.missing.extend(left);
}

/// What a sync has to fetch: the server's listing, the batches of UIDs not yet stored,
/// and the walk that moves the cursor over them.
struct Todo {
    /// The mailbox as examined for the listing that was used.
    examined: Examined,
    listing: Listing,
    /// The FETCHes: in UID order, then each UID fetched after the others.
    planned: fetch::Planned,
    walk: Walk,
    /// Messages to fetch.
    total: usize,
    /// UIDs whose FETCH keeps failing, left for a later sync ([`Retry::Paced`]), each with
    /// why and when it is asked for again: gaps of this sync.
    later: Vec<(u32, String)>,
}

/// Lists the UIDs from the plan's first one (unless the plan says nothing is new) and
/// leaves out those stored already.
fn list_new(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    plan: &Plan,
    store: &Store,
    batch_size: usize,
    retry: Retry,
) -> Result<Todo, SyncError> {
    let (examined, listing) = if plan.up_to_date {
        (examined.clone(), Listing::default())
    } else {
        list_settled(endpoint, session, examined, plan.first_uid)?
    };
    let examined = &examined;
    let already = store.stored_uids(&examined.mailbox, examined.uidvalidity, plan.first_uid)?;
    let to_fetch: Vec<Listed> = listing
        .uids
        .iter()
        .filter(|l| !already.contains(&l.uid))
        .copied()
        .collect();
    let mut tried =
        store.missing_uid_attempts(&examined.mailbox, examined.uidvalidity, NOT_REACHED)?;
    let listed: BTreeSet<u32> = to_fetch.iter().map(|l| l.uid).collect();
    let later = match retry {
        Retry::EverySync => Vec::new(),
        Retry::Paced => not_due(&mut tried, &listed, chrono::Utc::now()),
    };
    let later_uids: BTreeSet<u32> = later.iter().map(|(uid, _)| *uid).collect();
    let to_fetch: Vec<Listed> = to_fetch
        .into_iter()
        .filter(|l| !later_uids.contains(&l.uid))
        .collect();
    let again: BTreeSet<u32> = tried.keys().copied().collect();
    // Tried again already (alone, after the FETCH it was in failed) and still not stored:
    // it comes after the rest, so it cannot keep them out (see `fetch::batches`). A UID
    // retried for the first time keeps its place, so a reply after a cut connection still
    // comes after the report it answers.
    // The one tried least comes first among them: with two such UIDs, the first in UID
    // order would otherwise end every sync before the second is asked for again.
    let mut last: Vec<(u32, u32)> = tried
        .iter()
        .filter(|(_, t)| t.attempts >= RETRIES_IN_PLACE)
        .map(|(&uid, t)| (t.attempts, uid))
        .collect();
    last.sort_unstable();
    let last: Vec<u32> = last.into_iter().map(|(_, uid)| uid).collect();
    let planned = fetch::batches(
        &to_fetch,
        batch_size,
        endpoint.max_message_bytes,
        &again,
        &last,
    );
    let mut walk = Walk {
        listed: listing.uids.iter().map(|l| l.uid).collect(),
        pos: 0,
        done: already,
        at: plan.first_uid.saturating_sub(1),
        // Without UIDNEXT nothing bounds the UIDs a server may list (one could say
        // 4294967295), so the cursor stays and each sync lists again; stored UIDs are skipped.
        frozen: listing.incomplete || examined.uid_next.is_none(),
    };
    walk.advance();
    Ok(Todo {
        examined: examined.clone(),
        listing,
        planned,
        walk,
        total: to_fetch.len(),
        later,
    })
}

/// Takes out of `tried` the UIDs of `listed` that [`Retry::Paced`] does not ask for yet at
/// `now`, and names each with why and when it is asked for again. A UID whose last try has
/// no readable time, or one later than `now`, is due.
fn not_due(
    tried: &mut std::collections::BTreeMap<u32, crate::core::store::missing::Tried>,
    listed: &BTreeSet<u32>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(u32, String)> {
    let waiting: Vec<(u32, chrono::DateTime<chrono::Utc>)> = tried
        .iter()
        .filter(|(uid, _)| listed.contains(uid))
        .filter_map(|(&uid, t)| {
            // Unreadable, or later than now (a clock set back, a store from another
            // machine): due, or it could wait for ever, its time never written again.
            let last = t.last_tried.filter(|&l| l <= now)?;
            Some((uid, last + retry_wait(t.attempts)))
        })
        .filter(|&(_, due)| due > now)
        .collect();
    waiting
        .into_iter()
        .filter_map(|(uid, due)| {
            let t = tried.remove(&uid)?;
            Some((
                uid,
                format!(
                    "{}; its FETCH failed {} times, the desk asks for it again after {} UTC (`secdesk sync` asks at once)",
                    t.reason,
                    t.attempts,
                    // Rounded up: a round within the named minute does not ask yet.
                    (due + chrono::Duration::seconds(59)).format("%H:%M")
                ),
            ))
        })
        .collect()
}

/// Lists the mailbox from `first_uid`; while the server announces changes during the
/// listing (new mail, expunges), examines it again and lists again, up to
/// [`LISTING_TRIES`] times. A mailbox that never holds still leaves the listing incomplete,
/// named: what it listed is fetched, and the cursor stays for the next sync.
fn list_settled(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    first_uid: u32,
) -> Result<(Examined, Listing), SyncError> {
    let mut examined = examined.clone();
    let mut listing = listing::list(endpoint, session, &examined, first_uid)?;
    for _ in 1..LISTING_TRIES {
        if !listing.changed {
            return Ok((examined, listing));
        }
        let again = examine(endpoint, session, &examined.mailbox)?;
        if again.uidvalidity != examined.uidvalidity {
            break;
        }
        examined = again;
        listing = listing::list(endpoint, session, &examined, first_uid)?;
    }
    if listing.changed {
        let gap = format!(
            "mailbox \"{}\": the server announced new mail or expunges during each of {LISTING_TRIES} listings, so its counts could not be checked; what it listed is fetched, the cursor stays where it was and the next sync lists them again",
            examined.mailbox
        );
        listing.problems.push(gap.clone());
        listing.count_gap = Some(gap);
        listing.incomplete = true;
    }
    Ok((examined, listing))
}

/// The cursor of `examined`'s mailbox at `last_uid`.
fn cursor_at(examined: &Examined, last_uid: u32) -> MailboxCursor {
    MailboxCursor {
        mailbox: examined.mailbox.clone(),
        uidvalidity: examined.uidvalidity,
        last_uid,
    }
}

/// Stores one prepared batch with the cursor it reaches, and records what it lacked.
fn store_batch(
    store: &mut Store,
    ingestor: &Ingestor,
    examined: &Examined,
    walk: &mut Walk,
    report: &mut SyncReport,
    batch: PreparedBatch,
) -> Result<(), SyncError> {
    report.problems.extend(batch.refused);
    if !batch.missing.is_empty() {
        store.record_missing(&examined.mailbox, examined.uidvalidity, &batch.missing)?;
        report.missing.extend(batch.missing);
    }
    report.fetched += batch.messages.len();
    report.too_large += batch.too_large;
    walk.done.extend(batch.messages.iter().map(|(uid, _)| *uid));
    let at = walk.advance();
    let messages = batch.messages.into_iter().map(|(_, m)| m).collect();
    report.stored += ingestor.store_prepared(store, messages, Some(&cursor_at(examined, at)))?;
    Ok(())
}

/// Moves the cursor as far as what was stored allows, and settles the missing UIDs.
fn finish(
    store: &mut Store,
    ingestor: &Ingestor,
    examined: &Examined,
    plan: &Plan,
    walk: &Walk,
    listing: &Listing,
) -> Result<(), SyncError> {
    // Everything listed is stored and the counts add up: nothing below UIDNEXT is left
    // (UIDs are never reused, RFC 3501 §2.3.1.1), so the next sync can skip the listing.
    let mut last = walk.at;
    if !walk.frozen && walk.pos == walk.listed.len() {
        if let Some(next) = examined.uid_next {
            last = last.max(next.saturating_sub(1));
        }
    }
    if plan.reset || last != plan.first_uid.saturating_sub(1) {
        ingestor.ingest_batch(store, Vec::new(), Some(&cursor_at(examined, last)))?;
    }
    let (mailbox, uidvalidity) = (examined.mailbox.as_str(), examined.uidvalidity);
    store.settle_missing(mailbox, uidvalidity, last)?;
    // A gap no UID names is kept as UID 0 until a listing adds up.
    store.record_count_gap(mailbox, uidvalidity, listing.count_gap.as_deref())?;
    Ok(())
}

/// A fetched batch, parsed and classified.
struct PreparedBatch {
    messages: Vec<(u32, Prepared)>,
    missing: Vec<(u32, String)>,
    refused: Vec<String>,
    too_large: usize,
    /// EXPUNGE responses that came with the FETCH.
    expunges: usize,
}

/// Three stages, each on its own thread, joined by bounded channels:
/// fetch (network, TLS) -> prepare (MIME parse, classify) -> `store` (SQLite, this thread).
fn pipeline(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    source: &Source<'_>,
    batches: Vec<Batch>,
    ingestor: &Ingestor,
    store: &mut dyn FnMut(PreparedBatch) -> Result<(), SyncError>,
    failed_uids: &mut Vec<u32>,
) -> Result<(), SyncError> {
    if batches.is_empty() {
        return Ok(());
    }
    let (fetched_tx, fetched_rx) =
        mpsc::sync_channel::<Result<FetchedBatch, Failed>>(PIPELINE_DEPTH);
    let (parsed_tx, parsed_rx) =
        mpsc::sync_channel::<Result<PreparedBatch, Failed>>(PIPELINE_DEPTH);
    thread::scope(|scope| -> Result<(), SyncError> {
        let spawn_err = |error| SyncError::Thread { error };
        thread::Builder::new()
            .name("sync-fetch".into())
            .spawn_scoped(scope, move || {
                for batch in &batches {
                    let fetched = fetch::fetch_batch(endpoint, session, source, batch)
                        .map_err(|e| (e, batch.uids.clone()));
                    let failed = fetched.is_err();
                    // A closed channel means a later stage stopped; so do we.
                    if fetched_tx.send(fetched).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(spawn_err)?;
        thread::Builder::new()
            .name("sync-prepare".into())
            .spawn_scoped(scope, move || {
                for batch in fetched_rx {
                    let parsed = batch.map(|b| PreparedBatch {
                        too_large: b.too_large,
                        expunges: b.expunges,
                        messages: b
                            .messages
                            .into_iter()
                            .map(|(uid, m)| (uid, ingestor.prepare(m)))
                            .collect(),
                        missing: b.missing,
                        refused: b.refused,
                    });
                    if parsed_tx.send(parsed).is_err() {
                        break;
                    }
                }
            })
            .map_err(spawn_err)?;
        // Returning early drops `parsed_rx`, which unblocks and ends the other stages.
        for batch in parsed_rx {
            match batch {
                Ok(batch) => store(batch)?,
                Err((e, uids)) => {
                    *failed_uids = uids;
                    return Err(e.into());
                }
            }
        }
        Ok(())
    })
}

/// A FETCH that failed, with the UIDs it asked for.
type Failed = (ImapError, Vec<u32>);
