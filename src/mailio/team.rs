//! The team events folder on the IMAP server (docs/team.md): push this desk's queued events
//! with APPEND (RFC 3501 §6.3.11), then read the others' incrementally by UID and fold them
//! into the store (core::team).
//!
//! The cursor discipline is the mail sync's (RFC 3501 §2.3.1.1): `(UIDVALIDITY, last UID)`
//! per folder, moved only in the transaction that stores what it covers; a changed
//! UIDVALIDITY reads everything again (event ids make that harmless). A STATUS (§6.3.10)
//! answers "anything new?" in one round trip, so a sync with no change costs almost nothing.

use std::collections::{BTreeMap, HashSet};

use crate::core::config::Config;
use crate::core::store::{MailboxState, Store};
use crate::core::team::refill::{self, FolderLoss};
use crate::core::team::{local, message, store as team_store, Fetched, FoldSummary, TeamError};

use super::imap::connect::{classify, Endpoint, ImapSession};
use super::imap::error::ImapError;
use super::imap::sync::examine;

/// UIDs per `UID FETCH` of the events folder; events are a few hundred bytes each.
const BATCH: u32 = 1000;

/// What one events sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamSyncReport {
    /// Queued local events now on the server.
    pub pushed: usize,
    /// Messages read from the folder.
    pub fetched: usize,
    pub fold: FoldSummary,
    /// Events this desk put back because the folder had lost them, and why it looked.
    pub refilled: Option<(FolderLoss, usize)>,
}

impl TeamSyncReport {
    /// The line saying this desk put back events the folder had lost, if it did.
    pub fn refill_line(&self, mailbox: &str) -> Option<String> {
        let (loss, n) = self.refilled.filter(|(_, n)| *n > 0)?;
        Some(format!(
            "the team events folder {mailbox} {}: this desk put back {n} team {} it holds that the folder no longer had, so members who had not read them still get them",
            loss.describe(),
            if n == 1 { "event" } else { "events" },
        ))
    }

    /// The warning line for events from people outside `[team] members`, if any.
    pub fn non_member_warning(&self, mailbox: &str) -> Option<String> {
        let counts: &BTreeMap<String, usize> = &self.fold.non_members;
        if counts.is_empty() {
            return None;
        }
        let total: usize = counts.values().sum();
        let who: Vec<String> = counts
            .iter()
            .map(|(actor, n)| format!("{} ({n})", crate::core::sanitize::terminal_line(actor)))
            .collect();
        Some(format!(
            "kept {total} team {} in {mailbox} from non-members without applying {}: {}; add them to [team] members if they belong to the team, and the next sync applies {}",
            if total == 1 { "event" } else { "events" },
            if total == 1 { "it" } else { "them" },
            who.join(", "),
            if total == 1 { "it" } else { "them" },
        ))
    }
}

/// A failure of the events sync.
#[derive(Debug, thiserror::Error)]
pub enum TeamSyncError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Team(#[from] TeamError),
    #[error("cannot create the team events folder {mailbox:?} on {host}: {detail}; create it by hand or set [team] events_mailbox")]
    Create {
        mailbox: String,
        host: String,
        detail: String,
    },
    #[error(transparent)]
    Build(#[from] message::BuildError),
}

/// Pushes, then pulls. Leaves the events folder selected.
pub fn sync_events(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    config: &Config,
    store: &mut Store,
) -> Result<TeamSyncReport, TeamSyncError> {
    let mailbox = config.team.events_mailbox.as_str();
    let (status, created) = status_or_create(endpoint, session, mailbox)?;
    let mut report = TeamSyncReport {
        pushed: push(endpoint, session, config, store, mailbox)?,
        ..TeamSyncReport::default()
    };
    let cursor = local::cursor(store, mailbox)?;
    let loss = match cursor {
        Some(c) => folder_loss(store, c, &status, created)?,
        None => None,
    };
    let up_to_date = report.pushed == 0
        && loss.is_none()
        && cursor.is_some_and(|c| {
            Some(c.uidvalidity) == status.uid_validity
                && status.uid_next.is_some_and(|next| next <= c.last_uid + 1)
        });
    if up_to_date {
        let members: Vec<String> = config.members().iter().map(|m| m.email.clone()).collect();
        report.fold.caught_up = local::catch_up(store, &members)?;
        return Ok(report);
    }
    // Read from the start: the folder is new to this desk, or it lost events.
    let whole = loss.is_some() || cursor.is_none();
    let mut present = HashSet::new();
    let from = if whole { None } else { cursor };
    pull(
        endpoint,
        session,
        config,
        store,
        mailbox,
        from,
        &mut report,
        &mut present,
    )?;
    if whole {
        let requeued = refill::requeue_absent(store, &present)?;
        report.pushed += push(endpoint, session, config, store, mailbox)?;
        report.refilled = Some((loss.unwrap_or(FolderLoss::Unread), requeued));
    }
    Ok(report)
}

/// Whether the folder may have lost events this desk read or wrote there: it had to be
/// created, its UIDVALIDITY changed, or it holds fewer messages than this desk knows
/// events from it. STATUS gives all three with no extra round trip.
fn folder_loss(
    store: &Store,
    cursor: MailboxState,
    status: &imap::types::Mailbox,
    created: bool,
) -> Result<Option<FolderLoss>, TeamSyncError> {
    if created {
        return Ok(Some(FolderLoss::Recreated));
    }
    if status.uid_validity != Some(cursor.uidvalidity) {
        return Ok(Some(FolderLoss::Renumbered));
    }
    let known = refill::known_in_folder(store)?;
    Ok(
        (u64::from(status.exists) < known).then_some(FolderLoss::Fewer {
            messages: status.exists,
            known,
        }),
    )
}

/// STATUS of the folder; CREATEs it first when the server says it does not exist (then
/// `true`).
fn status_or_create(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    mailbox: &str,
) -> Result<(imap::types::Mailbox, bool), TeamSyncError> {
    const ITEMS: &str = "(UIDNEXT UIDVALIDITY MESSAGES)";
    // On the wire in modified UTF-7 (RFC 3501 §5.1.3).
    let wire = super::imap::mailbox::encode(mailbox);
    match session.status(&wire, ITEMS) {
        Ok(s) => Ok((s, false)),
        Err(imap::Error::No(_)) => {
            session.create(&wire).map_err(|e| TeamSyncError::Create {
                mailbox: mailbox.to_string(),
                host: endpoint.host.clone(),
                detail: e.to_string(),
            })?;
            session
                .status(&wire, ITEMS)
                .map(|s| (s, true))
                .map_err(|e| classify(endpoint, "reading the team events folder", e).into())
        }
        Err(e) => Err(classify(endpoint, "reading the team events folder", e).into()),
    }
}

/// APPENDs queued events oldest first; each leaves the queue only once the server has it,
/// so a kill in between pushes it again, and its id makes the copy harmless.
fn push(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    config: &Config,
    store: &Store,
    mailbox: &str,
) -> Result<usize, TeamSyncError> {
    let queued = local::queued(store)?;
    let wire = super::imap::mailbox::encode(mailbox);
    for (seq, ev) in &queued {
        let report_id = team_store::resolve(store.conn(), &ev.report).map_err(TeamError::from)?;
        let subject: Option<String> = match report_id {
            Some(id) => store
                .conn()
                .query_row(
                    "SELECT subject FROM messages WHERE report_id = ?1 ORDER BY id LIMIT 1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(TeamError::from)?,
            None => None,
        };
        let ctx = message::Context {
            actor_name: config.member(&ev.actor).map(|m| m.name.as_str()),
            report_id,
            report_subject: subject.as_deref(),
        };
        let raw = message::build(ev, &ctx)?;
        session
            .append(&wire, &raw)
            .flag(imap::types::Flag::Seen)
            .finish()
            .map_err(|e| classify(endpoint, "adding a team event", e))?;
        local::mark_pushed(store, *seq)?;
    }
    Ok(queued.len())
}

/// Reads the folder from the cursor on, in UID windows, folding each window in with the
/// cursor it reaches. The ids of the team events read are added to `present`.
#[allow(clippy::too_many_arguments)] // One sync's context, passed through as is.
fn pull(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    config: &Config,
    store: &mut Store,
    mailbox: &str,
    cursor: Option<MailboxState>,
    report: &mut TeamSyncReport,
    present: &mut HashSet<String>,
) -> Result<(), TeamSyncError> {
    let examined = examine(endpoint, session, mailbox)?;
    let mut first = match cursor {
        Some(c) if c.uidvalidity == examined.uidvalidity => c.last_uid + 1,
        _ => 1,
    };
    // Everything below UIDNEXT is already assigned; later APPENDs wait for the next sync.
    let last = examined.uid_next.map(|n| n.saturating_sub(1));
    let members: Vec<String> = config.members().iter().map(|m| m.email.clone()).collect();
    loop {
        if examined.exists == 0 || last.is_some_and(|l| first > l) {
            // Nothing (more) to read; still record the folder's UIDVALIDITY.
            let at = MailboxState {
                uidvalidity: examined.uidvalidity,
                last_uid: first.saturating_sub(1),
            };
            let summary = local::fold(store, mailbox, &[], at, &members)?;
            report.fold.caught_up += summary.caught_up;
            return Ok(());
        }
        let (range, end) = match last {
            Some(l) => {
                let end = first.saturating_add(BATCH - 1).min(l);
                (format!("{first}:{end}"), Some(end))
            }
            None => (format!("{first}:*"), None),
        };
        let mut batch = read_window(endpoint, session, &range, |u| {
            u >= first && end.is_none_or(|e| u <= e)
        })?;
        batch.sort_by_key(|f| f.uid);
        report.fetched += batch.len();
        // A copy that came by mail is never applied: it does not keep an event in the team.
        present.extend(
            batch
                .iter()
                .filter(|f| !f.by_mail)
                .filter_map(|f| f.event.as_ref().ok().map(|e| e.id.clone())),
        );
        let reached = end.unwrap_or_else(|| batch.last().map_or(first - 1, |f| f.uid));
        let at = MailboxState {
            uidvalidity: examined.uidvalidity,
            last_uid: reached,
        };
        let summary = local::fold(store, mailbox, &batch, at, &members)?;
        add(&mut report.fold, summary);
        if end.is_none() || end == last {
            return Ok(());
        }
        first = reached + 1;
    }
}

/// The largest message read as a possible event. Events are a few hundred bytes (a long
/// note a few KB); anything larger is not one, and reading it could exceed what the
/// connection accepts from the server (`[sync] max_message_bytes`), which would stop every
/// sync at the same message.
const EVENT_MAX_BYTES: u32 = 256 * 1024;

/// Bodies fetched with one command: at most this many bytes by the listed sizes.
const BODIES_PER_FETCH: u64 = 4 * 1024 * 1024;

/// Reads one window of the events folder: sizes first (RFC822.SIZE, RFC 3501 §6.4.5), then
/// the bodies of the messages small enough to be events, in fetches of bounded size. A larger
/// message is counted as unreadable and passed, like any other message that is no event.
fn read_window(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    range: &str,
    in_window: impl Fn(u32) -> bool,
) -> Result<Vec<Fetched>, TeamSyncError> {
    let what = "reading team events";
    let listed = session
        .uid_fetch(range, "(UID RFC822.SIZE)")
        .map_err(|e| classify(endpoint, what, e))?;
    // `N:*` answers with the highest UID even when it is below N (RFC 3501 §6.4.8);
    // unsolicited FETCHes carry no UID.
    let mut sizes: Vec<(u32, u32)> = listed
        .iter()
        .filter_map(|f| Some((f.uid.filter(|u| in_window(*u))?, f.size.unwrap_or(0))))
        .collect();
    drop(listed);
    sizes.sort_unstable();
    sizes.dedup_by_key(|(uid, _)| *uid);
    let mut out: Vec<Fetched> = Vec::new();
    let mut chunk: Vec<u32> = Vec::new();
    let mut chunk_bytes = 0u64;
    for (i, &(uid, size)) in sizes.iter().enumerate() {
        if size > EVENT_MAX_BYTES {
            out.push(Fetched {
                uid,
                event: Err(format!("{size} bytes, too large to be a team event")),
                by_mail: false,
            });
        } else {
            chunk.push(uid);
            chunk_bytes += u64::from(size);
        }
        if !chunk.is_empty() && (chunk_bytes >= BODIES_PER_FETCH || i + 1 == sizes.len()) {
            out.extend(read_bodies(endpoint, session, &chunk)?);
            chunk.clear();
            chunk_bytes = 0;
        }
    }
    Ok(out)
}

/// The bodies of `uids`, each read as an event (or why it is none).
fn read_bodies(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    uids: &[u32],
) -> Result<Vec<Fetched>, TeamSyncError> {
    // Capped: a message that grew past its listed size still cannot exceed the bound.
    let items = format!("(UID BODY.PEEK[]<0.{}>)", EVENT_MAX_BYTES + 1);
    let fetches = session
        .uid_fetch(super::imap::sync::uid_set(uids), items)
        .map_err(|e| classify(endpoint, "reading team events", e))?;
    Ok(fetches
        .iter()
        .filter_map(|f| {
            let uid = f.uid.filter(|u| uids.contains(u))?;
            let raw = f.body()?;
            Some(Fetched {
                uid,
                event: message::parse(raw),
                by_mail: message::came_by_mail(raw),
            })
        })
        .collect())
}

fn add(total: &mut FoldSummary, more: FoldSummary) {
    total.applied += more.applied;
    total.already_known += more.already_known;
    total.lost += more.lost;
    total.unreadable += more.unreadable;
    total.by_mail += more.by_mail;
    total.caught_up += more.caught_up;
    for (actor, n) in more.non_members {
        *total.non_members.entry(actor).or_default() += n;
    }
}

/// How often the desk's background sync looks at the events folder when sharing is on, so
/// another desk's change shows within about this long (docs/team.md).
pub const DESK_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The team part of a desk's background sync round, after the mail: moderation written
/// back, events pushed and folded, then the mail folder examined again so IDLE watches it.
/// Returns a line for each change of this desk's member that another member's concurrent
/// change replaced, and one when this desk put back events the folder had lost.
pub fn desk_round(
    config: &Config,
    endpoint: &Endpoint,
    session: &mut ImapSession,
    store: &mut Store,
) -> Result<Vec<String>, String> {
    let mut lost = Vec::new();
    let Some(imap) = &config.imap else {
        return Ok(lost);
    };
    let moderated =
        super::moderation::write_back(endpoint, session, imap, store).map_err(|e| e.to_string())?;
    let mut reselect = moderated.junked + moderated.restored + moderated.not_junk > 0;
    if config.team_sharing() {
        let report = sync_events(endpoint, session, config, store).map_err(|e| e.to_string())?;
        lost.extend(report.refill_line(&config.team.events_mailbox));
        lost.extend(
            report
                .fold
                .lost_by(&config.identity.email)
                .map(crate::core::team::local::Overwritten::line),
        );
        if report.fold.applied + report.fold.caught_up > 0 {
            // Another member's change may call for a restore from Junk by this desk.
            super::moderation::write_back(endpoint, session, imap, store)
                .map_err(|e| e.to_string())?;
        }
        reselect = true;
    }
    if reselect {
        // IDLE watches the selected mailbox: the first synced one again.
        let first = imap.sync_mailboxes().into_iter().next().unwrap_or_default();
        examine(endpoint, session, &first).map_err(|e| e.to_string())?;
    }
    Ok(lost)
}
