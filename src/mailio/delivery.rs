//! Delivering the outbox: SMTP, then the bookkeeping that makes a reply count — the copy
//! APPENDed to the Sent mailbox (RFC 3501 §6.3.11), the message in the report's thread,
//! the `reply` audit event and the template's state change.
//!
//! Never twice: a reply whose attempt ended unconfirmed (`uncertain`: the connection was
//! lost after DATA, or a `sending` row outlived the longest an attempt can take, so it
//! crashed) is only resent once its Message-ID has been looked for, and not found, on the
//! IMAP server — in every team mailbox (the Cc copy arrives there) and in the Sent mailbox —
//! with `UID SEARCH HEADER Message-ID` (RFC 3501 §6.4.4), and only after the copy has had
//! [`outbox::MISSING_AFTER`] to arrive. A reply with no team copy to look for is never
//! resent by itself: a person decides (`secdesk outbox --resend ID`).
//!
//! Used by `secdesk reply`, `secdesk outbox --retry` and the desk's background sync; it
//! blocks on the network, so the TUI calls it from a worker thread.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::core::config::Config;
use crate::core::model::ReportState;
use crate::core::outbox::{self, OutboxEntry, OutboxError, OutboxState};
use crate::core::reply::state_change;
use crate::core::store::Store;
use crate::mailio::gpg;
use crate::mailio::imap::{account, mailbox, ImapSession};
use crate::mailio::smtp::{FailureKind, SendError, SmtpSender, SmtpSetupError, LOGIN_REFUSED};

mod sent;
mod uncertain;
pub use sent::sent_mailbox;
use sent::{append_sent, configured_sent_mailbox, in_mailbox, open_imap};

/// Why delivery could not run at all (one reply's failure is an [`Outcome`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Smtp(#[from] SmtpSetupError),
}

impl DeliveryError {
    /// SQLite's code for the store's error, when this is one.
    fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        use crate::core::store::StoreError;
        match self {
            DeliveryError::Outbox(OutboxError::Store(
                StoreError::Sql(e) | StoreError::Open { source: e, .. },
            )) => e.sqlite_error_code(),
            _ => None,
        }
    }

    /// The store refuses writes as a whole (full, read-only, busy, failing): the next
    /// reply's bookkeeping would fail the same way.
    fn store_refuses_writes(&self) -> bool {
        use rusqlite::ErrorCode as C;
        matches!(
            self.sqlite_code(),
            Some(
                C::DiskFull
                    | C::ReadOnly
                    | C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::SystemIoFailure
                    | C::CannotOpen
                    | C::DatabaseCorrupt
            )
        )
    }

    /// Only busy: another writer held the store past the busy timeout.
    fn store_busy(&self) -> bool {
        use rusqlite::ErrorCode as C;
        matches!(
            self.sqlite_code(),
            Some(C::DatabaseBusy | C::DatabaseLocked)
        )
    }
}

/// How a delivery run treats the schedule.
#[derive(Debug, Clone, Copy)]
pub struct DeliverOptions {
    /// Attempt queued replies now even if their backoff has not run out (`outbox --retry`).
    pub ignore_backoff: bool,
    /// A `sending` row older than this is taken as a crashed attempt and checked.
    pub stale_after: Duration,
}

/// Added to the longest send before a `sending` row counts as crashed: recording the
/// outcome, a busy database, a slow machine.
const STALE_MARGIN: Duration = Duration::from_secs(120);

impl DeliverOptions {
    /// The schedule for `config`. A row is claimed only once the reply is sealed and the
    /// SMTP login is ready, so an attempt lasts at most the send itself
    /// ([`SmtpSender::longest_send`]); `stale_after` is longer than that, so a live attempt
    /// (this desk's, or another's) is never taken for a crashed one.
    pub fn for_config(config: &Config, ignore_backoff: bool) -> DeliverOptions {
        let live = SmtpSender::longest_send(config) + STALE_MARGIN;
        DeliverOptions {
            ignore_backoff,
            stale_after: live.max(Duration::from_secs(10 * 60)),
        }
    }
}

/// What happened to one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent now (or found on the server after a crash: `already_on_server`).
    Sent {
        already_on_server: bool,
        /// Sent again after an uncertain attempt (the connection lost once the message was
        /// handed over, or an attempt cut off) whose team copy never arrived: taken as not
        /// delivered, but the reporter may get both. Said, never done silently.
        resent: bool,
        /// The states the template's change moved the report through.
        states: Vec<ReportState>,
        /// Why the state change did not happen, when it did not.
        state_error: Option<String>,
        /// Why the Sent copy is missing, when it is.
        sent_copy_error: Option<String>,
    },
    /// Kept queued after a transient failure; retried from `next_attempt_at`.
    Queued {
        error: String,
        next_attempt_at: String,
        /// What it waits for: time, a login, or the config.
        hold: Hold,
    },
    /// Refused for good (5xx): kept for editing.
    Failed { error: String },
    /// Left `uncertain`: whether the server got it is not known, and it is not sent again
    /// until the server shows it was not delivered, or a person resends it.
    Unverified {
        error: String,
        /// Nothing will look for it on the server (it has no team copy to look for): only a
        /// person settles it, with `secdesk outbox --resend` or `--discard`.
        needs_person: bool,
    },
    /// The server took it, but recording that failed (e.g. the disk is full): it must not
    /// be sent again.
    SentUnrecorded { error: String },
    /// The server may have taken it (the connection was lost once the message was handed
    /// over), and recording that failed: like [`Outcome::SentUnrecorded`], it must not be
    /// sent again; the row stays `sending` and is later looked for as an interrupted attempt.
    UncertainUnrecorded { error: String },
    /// Nothing reached the server in this attempt, and the store could not record what
    /// happened (a full disk, a read-only or busy store): the reply is where it was, or
    /// left `sending` to be settled as an interrupted attempt. `temporary`: the store was
    /// only busy.
    NotRecorded { error: String, temporary: bool },
    /// Another delivery has it (another desk, or this desk's sync): what it is waiting for.
    Skipped { why: String },
}

/// What a queued reply waits for, so a front end can say what to do (and `outbox --retry`
/// exit with the status that says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A server unreachable, silent or answering 4xx, a keyring to fix: retried later.
    Temporary,
    /// The SMTP server refused the login: the same credentials will be refused again.
    LoginRefused,
    /// `[smtp]` is missing, or refused as configured (plaintext to a host not on loopback),
    /// or names an `oauth2_token_command` program that does not exist or an `auth` the
    /// server does not offer.
    Config,
}

impl Hold {
    /// The hold a queued reply's error stands for (a refused login says [`LOGIN_REFUSED`]).
    pub fn of_error(error: &str) -> Hold {
        if error.contains(LOGIN_REFUSED) {
            Hold::LoginRefused
        } else {
            Hold::Temporary
        }
    }

    fn of_setup(e: &SmtpSetupError) -> Hold {
        if e.is_config() {
            Hold::Config
        } else {
            Hold::Temporary
        }
    }
}

/// One reply's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub outbox_id: i64,
    pub report_id: i64,
    pub outcome: Outcome,
}

/// Attempts every reply that is due (see [`DeliverOptions`]), then files any Sent copies
/// still missing. An SMTP or IMAP connection is only opened when needed.
///
/// One reply's trouble with the store is that reply's outcome ([`Outcome::NotRecorded`] and
/// the like), never the run's: the outcomes gathered are all returned. Once the store
/// refuses writes (a full disk), no further reply is tried (each would be sent with nothing
/// to record it), and the last outcome says how many were left.
pub fn deliver_due(
    config: &Config,
    store: &mut Store,
    options: DeliverOptions,
) -> Result<Vec<Delivery>, DeliveryError> {
    let now = Utc::now();
    let stale_before = now - chrono::Duration::from_std(options.stale_after).unwrap_or_default();
    let rows = outbox::due(store, now, options.ignore_backoff, stale_before)?;
    let mut run = Run::new(config, stale_before);
    let mut out = Vec::new();
    let mut rows = rows.into_iter();
    while let Some(row) = rows.next() {
        let (outbox_id, report_id) = (row.id, row.report_id);
        let outcome = match run.deliver(store, row) {
            Ok(d) => d.outcome,
            Err(e) => run.not_recorded(store, outbox_id, &e),
        };
        out.push(Delivery {
            outbox_id,
            report_id,
            outcome,
        });
        if run.store_refuses {
            if let Some(last) = out.last_mut() {
                note_not_tried(&mut last.outcome, rows.len());
            }
            run.close();
            return Ok(out);
        }
    }
    if let Err((id, e)) = run.file_pending_copies(store) {
        // A copy filed, or not, whose bookkeeping failed: that reply's outcome. Nothing is
        // lost: the next run looks for the copy in the Sent mailbox before filing it.
        match outbox::get(store, id) {
            Ok(row) => out.push(Delivery {
                outbox_id: id,
                report_id: row.report_id,
                outcome: run.not_recorded(store, id, &e),
            }),
            Err(_) if out.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    run.close();
    Ok(out)
}

/// Adds to an outcome's error that `left` due replies were not tried after it.
fn note_not_tried(outcome: &mut Outcome, left: usize) {
    if left == 0 {
        return;
    }
    let note = match left {
        1 => "; the 1 other due reply was not tried in this run".to_string(),
        n => format!("; the {n} other due replies were not tried in this run"),
    };
    match outcome {
        Outcome::SentUnrecorded { error }
        | Outcome::UncertainUnrecorded { error }
        | Outcome::NotRecorded { error, .. } => error.push_str(&note),
        _ => {}
    }
}

/// Attempts one queued reply now (right after `secdesk reply` queued it).
pub fn deliver_one(
    config: &Config,
    store: &mut Store,
    outbox_id: i64,
) -> Result<Delivery, DeliveryError> {
    let row = outbox::get(store, outbox_id)?;
    let stale_after = DeliverOptions::for_config(config, false).stale_after;
    let now = Utc::now();
    let mut run = Run::new(
        config,
        now - chrono::Duration::from_std(stale_after).unwrap_or_default(),
    );
    let mut delivery = run.deliver(store, row.clone())?;
    run.close();
    if let Outcome::Skipped { why } = &delivery.outcome {
        // Another delivery has it (this desk's sync round, or another desk): say what became
        // of it once that attempt is over, which the longest send bounds. A row edited or
        // discarded meanwhile is not waited for: the reason says what became of it.
        let now = outbox::get(store, outbox_id)?;
        if now.state == OutboxState::Sending && now.message_id == row.message_id {
            let wait = SmtpSender::longest_send(config) + Duration::from_secs(5);
            delivery.outcome = settled_elsewhere(config, store, outbox_id, wait, why.clone())?;
        }
    }
    Ok(delivery)
}

/// What became of a reply another delivery is sending, once it leaves `sending` (checked
/// every 100 ms, for at most `wait`); [`Outcome::Skipped`] (with `why`) when it is still at it.
fn settled_elsewhere(
    config: &Config,
    store: &Store,
    id: i64,
    wait: Duration,
    why: String,
) -> Result<Outcome, DeliveryError> {
    let until = std::time::Instant::now() + wait;
    loop {
        let row = outbox::get(store, id)?;
        let error = row.last_error.clone().unwrap_or_default();
        match row.state {
            OutboxState::Sending if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(100));
            }
            OutboxState::Sent => {
                return Ok(Outcome::Sent {
                    already_on_server: false,
                    resent: false,
                    states: Vec::new(),
                    state_error: None,
                    sent_copy_error: None,
                })
            }
            OutboxState::Queued => {
                return Ok(Outcome::Queued {
                    hold: Hold::of_error(&error),
                    error,
                    next_attempt_at: row.next_attempt_at,
                })
            }
            OutboxState::FailedPermanent | OutboxState::Failed => {
                return Ok(Outcome::Failed { error })
            }
            OutboxState::Uncertain => {
                return Ok(Outcome::Unverified {
                    error,
                    needs_person: !uncertain::copy_expected(config, &row),
                })
            }
            OutboxState::Sending | OutboxState::Discarded => return Ok(Outcome::Skipped { why }),
        }
    }
}

/// A reply as it goes on the wire and the sender for it, or why it waits and for what.
type Ready = Result<(Vec<u8>, SmtpSender), (String, Hold)>;

/// The connections of one delivery run, opened lazily and reused.
struct Run<'a> {
    config: &'a Config,
    smtp: Option<SmtpSender>,
    imap: Option<ImapSession>,
    /// Replies whose Sent copy was attempted in this run: not tried twice.
    copies_tried: Vec<i64>,
    /// The Sent mailbox, once known (configured, or found by SPECIAL-USE).
    sent: Option<String>,
    /// A `sending` row whose attempt began after this is another delivery's, still at work.
    stale_before: DateTime<Utc>,
    /// Why the SMTP server could not be had in this run (down, silent, TLS, login): the
    /// replies after it wait for the next run instead of each spending a whole timeout
    /// on the same failure (with 200 queued, 30 s each was 100 minutes of `--retry`).
    /// With what that failure waits for, which the replies left waiting share.
    unreached: Option<(String, Hold)>,
    /// The store refused a write in this run (a full disk, a read-only or busy file): no
    /// further reply is sent, as nothing could record it.
    store_refuses: bool,
}

impl<'a> Run<'a> {
    fn new(config: &'a Config, stale_before: DateTime<Utc>) -> Run<'a> {
        Run {
            config,
            stale_before,
            smtp: None,
            imap: None,
            copies_tried: Vec::new(),
            sent: None,
            unreached: None,
            store_refuses: false,
        }
    }

    fn close(mut self) {
        if let Some(mut s) = self.imap.take() {
            let _ = s.logout();
        }
    }

    /// Attempts one reply and says what became of it.
    fn deliver(&mut self, store: &mut Store, row: OutboxEntry) -> Result<Delivery, DeliveryError> {
        let outcome = self.attempt(store, &row)?;
        Ok(Delivery {
            outbox_id: row.id,
            report_id: row.report_id,
            outcome,
        })
    }

    /// One reply's attempt: settle an uncertain (or crashed) one, else make it ready, claim
    /// it, send it, record what the server said.
    fn attempt(&mut self, store: &mut Store, row: &OutboxEntry) -> Result<Outcome, DeliveryError> {
        if let Some((_, error)) = outbox::fail_orphans(store, Some(row.id))?.pop() {
            return Ok(Outcome::Failed { error });
        }
        match row.state {
            OutboxState::Sending => self.settle_interrupted(store, row),
            OutboxState::Uncertain => self.settle_uncertain(store, row),
            OutboxState::Queued => self.send(store, row),
            _ => Ok(Outcome::Skipped {
                why: format!("outbox #{} is {}", row.id, row.state),
            }),
        }
    }

    /// A row this run read but could not claim or move: what became of it meanwhile
    /// (another delivery took it, an edit replaced it, a person discarded it).
    fn taken(&self, store: &Store, row: &OutboxEntry) -> Result<Outcome, DeliveryError> {
        let now = match outbox::get(store, row.id) {
            Ok(now) => Some(now),
            Err(OutboxError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Outcome::Skipped {
            why: outbox::changed::before_claim(row, now.as_ref()),
        })
    }

    /// Makes the reply ready, then claims it and sends it. The claim comes last, so the
    /// time a row spends in `sending` is the send alone, which the deadline bounds.
    fn send(&mut self, store: &mut Store, row: &OutboxEntry) -> Result<Outcome, DeliveryError> {
        if let Some((why, hold)) = &self.unreached {
            // Left as it is (its attempts and schedule too): nothing was tried.
            let error = format!("not tried in this run, as an earlier reply found {why}");
            return self.queued(store, row.id, error, *hold);
        }
        let (raw, sender) = match self.ready_to_send(store, row)? {
            Ok(ready) => ready,
            Err((error, hold)) => {
                // The reply waits in the queue: fixing the keyring or the config is enough.
                outbox::mark_transient(store, row.id, &error, Utc::now())?;
                return self.queued(store, row.id, error, hold);
            }
        };
        if !outbox::claim(store, row, Utc::now())? {
            self.smtp = Some(sender);
            return self.taken(store, row);
        }
        let result = sender.send(&row.envelope_from, &row.recipients, &raw);
        self.smtp = Some(sender);
        self.record_send(store, row, result)
    }

    /// The reply as it goes on the wire (sealed when `[pgp]` says so) and an SMTP sender,
    /// or why the reply must wait (`Err`): a keyring or a config to fix.
    fn ready_to_send(&mut self, store: &Store, row: &OutboxEntry) -> Result<Ready, DeliveryError> {
        // A reply to a report that came encrypted goes out readable only if the user said so.
        // Whether it came encrypted is read again now (an encrypted message may have joined
        // since the reply was written; a row queued before the flag was kept says false). A
        // draft or a store that cannot say fails safe for this reply alone: sealed or not sent.
        let consent = outbox::draft(store, row.id).is_ok_and(|d| d.unencrypted_ok);
        let encrypted = crate::core::reply::came_encrypted(store, row.report_id).unwrap_or(true);
        let must_encrypt = encrypted && !consent;
        let raw = match gpg::seal_reply(
            self.config,
            &row.recipients,
            outbox::raw(store, row.id)?,
            must_encrypt,
        ) {
            Ok(raw) => raw,
            Err(e @ gpg::SealError::Readable(_)) => {
                return Ok(Err((format!(
                    "not sent: {e}; import the reporter's key (`secdesk pgp import-key {r}`), or, to send it readable on purpose, take it back with `secdesk outbox --discard {id}` and reply again with `secdesk reply {r} --unencrypted`",
                    r = row.report_id,
                    id = row.id
                ), Hold::Temporary)))
            }
            Err(e) => return Ok(Err((e.to_string(), Hold::Temporary))),
        };
        let sender = match self.smtp.take() {
            Some(s) => s,
            None => match SmtpSender::from_config(self.config) {
                Ok(s) => s,
                Err(e) => return Ok(Err((e.to_string(), Hold::of_setup(&e)))),
            },
        };
        Ok(Ok((raw, sender)))
    }

    /// Records what the SMTP server said to one reply: sent, refused for good, perhaps
    /// delivered (checked on the next run), or to be retried.
    fn record_send(
        &mut self,
        store: &mut Store,
        row: &OutboxEntry,
        result: Result<(), SendError>,
    ) -> Result<Outcome, DeliveryError> {
        match result {
            Ok(()) => Ok(self.after_send(store, row, false, false)),
            Err(e) if e.kind == FailureKind::Permanent => {
                let error = format!(
                    "{e}; the reply is kept: edit it with `secdesk outbox --edit {}` or drop it with `secdesk outbox --discard {}`",
                    row.id, row.id
                );
                if let Err(e) = outbox::mark_permanent(store, row.id, &error) {
                    return Ok(self.unsent_unrecorded(store, row, &error, e.into()));
                }
                Ok(Outcome::Failed { error })
            }
            Err(e) if e.kind == FailureKind::Uncertain => {
                // Sending again now could deliver it twice: it is looked for on the server
                // first, and resent only once its team copy is surely missing.
                let error = match self.copy_expected(row) {
                    true => format!(
                        "{e}; it is not sent again unless its team copy is still missing from the server after {} minutes (`secdesk outbox --retry` looks)",
                        outbox::MISSING_AFTER.num_minutes()
                    ),
                    false => format!(
                        "{e}; nothing can show whether it arrived (it has no team copy to look for), so it is not sent again by itself: if the reporter did not get it, send it again with `secdesk outbox --resend {id}`",
                        id = row.id
                    ),
                };
                if let Err(e) = outbox::mark_uncertain(store, row.id, &error, Utc::now()) {
                    // As a send the server took: the row stays `sending`, is taken as an
                    // interrupted attempt later and looked for, never sent again blindly.
                    let line = self.store_line(store, &e.into());
                    return Ok(Outcome::UncertainUnrecorded {
                        error: format!("{error}; recording that failed: {line}"),
                    });
                }
                Ok(Outcome::Unverified {
                    error,
                    needs_person: !self.copy_expected(row),
                })
            }
            Err(e) => {
                let error = e.to_string();
                let hold = match e.kind {
                    FailureKind::Config => Hold::Config,
                    _ => Hold::of_error(&error),
                };
                if e.unreached {
                    self.unreached = Some((error.clone(), hold));
                }
                if let Err(e) = outbox::mark_transient(store, row.id, &error, Utc::now()) {
                    return Ok(self.unsent_unrecorded(store, row, &error, e.into()));
                }
                self.queued(store, row.id, error, hold)
            }
        }
    }

    /// The store's own line for `e` (naming the file and what to do), else `e` as it says;
    /// notes when the store refuses writes, so that the run sends nothing more.
    fn store_line(&mut self, store: &Store, e: &DeliveryError) -> String {
        self.store_refuses |= e.store_refuses_writes();
        crate::core::store::describe_error_no_rerun(e, store.path())
            .unwrap_or_else(|| e.to_string())
    }

    /// A claimed reply the server did not take (`error`: what it said), whose failure could
    /// not be recorded (`e`): the row stays `sending`, and is settled as an interrupted
    /// attempt once older than the longest one.
    fn unsent_unrecorded(
        &mut self,
        store: &Store,
        row: &OutboxEntry,
        error: &str,
        e: DeliveryError,
    ) -> Outcome {
        let line = self.store_line(store, &e);
        Outcome::NotRecorded {
            error: format!(
                "outbox #{id} was not delivered ({error}), and recording that failed: {line}; it is kept unfinished (`sending`), and `secdesk outbox --retry` settles it as an interrupted attempt once that is {m} minutes old",
                id = row.id,
                m = (Utc::now() - self.stale_before).num_minutes(),
            ),
            temporary: e.store_busy(),
        }
    }

    /// Outbox row `id`, on which this run failed with `e` before anything reached the
    /// server: it is where it was.
    fn not_recorded(&mut self, store: &Store, id: i64, e: &DeliveryError) -> Outcome {
        let line = self.store_line(store, e);
        Outcome::NotRecorded {
            error: format!(
                "outbox #{id}: nothing was sent, and the outbox could not be updated: {line}"
            ),
            temporary: e.store_busy(),
        }
    }

    fn queued(
        &self,
        store: &Store,
        id: i64,
        error: String,
        hold: Hold,
    ) -> Result<Outcome, DeliveryError> {
        let row = outbox::get(store, id)?;
        Ok(Outcome::Queued {
            error,
            next_attempt_at: row.next_attempt_at,
            hold,
        })
    }

    /// Records the send, applies the state change and files the Sent copy. The server has
    /// the reply by now, so nothing here may fail as if it had not: a failure to record it
    /// is [`Outcome::SentUnrecorded`], and the row stays `sending` (later settled as
    /// uncertain, never blindly resent).
    fn after_send(
        &mut self,
        store: &mut Store,
        row: &OutboxEntry,
        already_on_server: bool,
        already_in_sent: bool,
    ) -> Outcome {
        let now = Utc::now();
        if let Err(e) = outbox::record_sent(store, row.id, now) {
            return Outcome::SentUnrecorded {
                error: self.store_line(store, &e.into()),
            };
        }
        let (states, state_error) = match outbox::draft(store, row.id).map(|d| d.state_change) {
            Ok(Some(change)) => {
                match state_change::apply(store, row.report_id, change, &row.actor, now) {
                    Ok(states) => (states, None),
                    Err(e) => (Vec::new(), Some(e.to_string())),
                }
            }
            Ok(None) => (Vec::new(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let filed = if already_in_sent {
            outbox::mark_sent_copy(store, row.id, None)
                .map(|()| None)
                .map_err(DeliveryError::from)
        } else {
            self.file_copy(store, row.id, false)
        };
        let sent_copy_error = filed.unwrap_or_else(|e| {
            Some(format!(
                "whether the copy reached the Sent mailbox could not be recorded: {e}"
            ))
        });
        Outcome::Sent {
            already_on_server,
            // The row as read before this send: uncertain only when the server search
            // found no copy and the verdict was to send it again.
            resent: !already_on_server && row.state == OutboxState::Uncertain,
            states,
            state_error,
            sent_copy_error,
        }
    }

    /// APPENDs one sent reply to the Sent mailbox; returns why not, if it failed.
    ///
    /// A copy left pending by an earlier run (`look_first`) may have been filed just before
    /// that run died: it is looked for in the Sent mailbox first, so it is never filed twice.
    fn file_copy(
        &mut self,
        store: &Store,
        id: i64,
        look_first: bool,
    ) -> Result<Option<String>, DeliveryError> {
        self.copies_tried.push(id);
        let row = outbox::get(store, id)?;
        let raw = outbox::raw(store, id)?;
        let mailbox = self.sent_name();
        // Encrypted like the reply itself, so the team key opens the Sent copy.
        // The reply itself went out as decided when it was sent; the copy is our own.
        let sealed = gpg::seal_reply(self.config, &row.recipients, raw, false);
        let result = sealed.map_err(|e| e.to_string()).and_then(|raw| {
            let s = self.session()?;
            if look_first && in_mailbox(s, &mailbox, &row.message_id, true)? {
                return Ok(());
            }
            append_sent(s, &mailbox, &raw)
        });
        let error = result.err().map(|e| {
            // The session may be unusable after an IO error; reconnect next time.
            self.imap = None;
            format!("the copy could not be filed in {mailbox:?}: {e}; `secdesk outbox --retry` tries again")
        });
        outbox::mark_sent_copy(store, id, error.as_deref())?;
        Ok(error)
    }

    /// Files the Sent copies earlier runs left pending; on a store error, which reply's
    /// (0 when the pending ones could not be listed).
    fn file_pending_copies(&mut self, store: &Store) -> Result<(), (i64, DeliveryError)> {
        let pending = outbox::sent_copies_pending(store).map_err(|e| (0, e.into()))?;
        for row in pending {
            if self.copies_tried.contains(&row.id) {
                continue;
            }
            match self.file_copy(store, row.id, true) {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(e) => return Err((row.id, e)),
            }
        }
        Ok(())
    }

    /// `[reply] sent_mailbox`; when it is not set, the mailbox the server marks `\Sent`
    /// (RFC 6154), else one with a usual name, else `Sent` (created on the first APPEND).
    fn sent_name(&mut self) -> String {
        if let Some(name) = configured_sent_mailbox(self.config).or_else(|| self.sent.clone()) {
            return name;
        }
        let endpoint = self
            .config
            .imap
            .as_ref()
            .map(|i| account::endpoint(self.config, i));
        let found = match (endpoint, self.session()) {
            (Some(endpoint), Ok(session)) => mailbox::find(&endpoint, session, mailbox::Role::Sent)
                .ok()
                .flatten(),
            _ => None,
        };
        let name = found.unwrap_or_else(|| sent_mailbox(self.config));
        self.sent = Some(name.clone());
        name
    }

    /// The IMAP session, connected on first use. Each use (a search, an APPEND) must end
    /// within `[sync] deadline_seconds` from here, however slowly the server answers.
    fn session(&mut self) -> Result<&mut ImapSession, String> {
        if self.imap.is_none() {
            self.imap = Some(open_imap(self.config)?);
        }
        let deadline = Duration::from_secs(self.config.sync.deadline_seconds.max(1));
        let session = self
            .imap
            .as_mut()
            .ok_or_else(|| "no IMAP session".to_string())?;
        session.stream_mut().set_deadline(Some(deadline));
        Ok(session)
    }
}

/// When a queued reply is next attempted, `YYYY-MM-DD HH:MM UTC`, for messages.
pub fn when(ts: &str) -> String {
    crate::core::store::parse_timestamp(ts)
        .map(|t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}
