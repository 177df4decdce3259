//! Keeping the store live for the desk: one logged-in IMAP session, kept between rounds.
//! Each round syncs new mail (the same [`sync::sync_mailboxes`] as `secdesk sync`) and delivers
//! the replies that are due. Between rounds it IDLEs (RFC 2177) when the server announces
//! IDLE, waking on `EXISTS` and at least every `[sync] poll_seconds` (so due replies go
//! out); otherwise it sleeps `poll_seconds`. After an error the session is dropped and the
//! next round logs in again, after a backoff that grows with each failure in a row.
//!
//! Blocking by design: it runs on the desk's sync worker thread, never the UI thread.

use std::time::Duration;

use crate::core::config::{Config, ImapConfig};
use crate::core::ingest::Ingestor;
use crate::core::store::Store;
use crate::mailio::delivery::{self, DeliverOptions, Delivery, Outcome};
use crate::mailio::imap::idle;
use crate::mailio::imap::sync::{self, DEFAULT_BATCH_SIZE};
use crate::mailio::imap::{account, connect, Endpoint, ImapSession};

/// RFC 2177 §3: re-issue IDLE at least every 29 minutes; stay well inside that.
pub const IDLE_LIMIT: Duration = Duration::from_secs(25 * 60);

/// The longest wait before logging in again after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub new_messages: usize,
    /// Replies sent (or found already sent) from the outbox.
    pub replies_sent: usize,
    /// Of those, replies sent again after an uncertain attempt whose team copy never
    /// arrived (`Outcome::Sent::resent`): the reporter may get both.
    pub replies_resent: usize,
    /// Replies still queued or refused after this round's attempt, with the last error.
    pub replies_failed: Vec<String>,
    /// Whether the next wait is an IDLE (the server has it) rather than a poll.
    pub idle: bool,
    /// Mail listed on the server but not stored this round (a message whose FETCH keeps
    /// failing), named: the sync is incomplete. Not a failure of the round: the session is
    /// kept and the next round comes as usual, and asks for it again.
    pub gap: Option<String>,
    /// This member's changes that other members' concurrent changes replaced this round
    /// (a claim lost to one made at the same time), one line each.
    pub overwritten: Vec<String>,
    /// Mailboxes listed again from UID 1 because the server gave stored UIDs to other
    /// messages (see `imap::renumbered`), one line each: nothing is missing, but the
    /// server broke its word and the moderator should know.
    pub renumbered: Vec<String>,
}

/// The logged-in session and what the server offers.
struct Connection {
    endpoint: Endpoint,
    session: ImapSession,
    idle: bool,
}

/// The desk's background sync: see the module header.
pub struct Watch {
    config: Config,
    connection: Option<Connection>,
    store: Option<Store>,
    /// Failed rounds in a row.
    failures: u32,
    /// The server refused the login: the answer of `password_command` is kept for the
    /// process, so logging in again would only send the same refused password (or token)
    /// every backoff, for as long as the desk is open, and a server that locks an account
    /// after repeated failures would lock the team out. Set, no round contacts the server.
    login_refused: Option<String>,
}

impl Watch {
    pub fn new(config: Config) -> Watch {
        Watch {
            config,
            connection: None,
            store: None,
            failures: 0,
            login_refused: None,
        }
    }

    /// Syncs new mail into the store and delivers due replies. On an error the session is
    /// dropped (the next round logs in again) and the error says what to do. A gap in the
    /// mail (a message listed, not stored) is no such error: it is [`Round::gap`].
    pub fn round(&mut self) -> Result<Round, String> {
        match self.try_round() {
            Ok(round) => {
                self.failures = 0;
                Ok(round)
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                self.reset();
                Err(e)
            }
        }
    }

    /// Blocks until the next round is due: new mail (IDLE), the poll interval, or the
    /// backoff after a failure.
    pub fn wait(&mut self) {
        let mut poll = Duration::from_secs(self.config.sync.poll_seconds.max(1));
        if self.config.team_sharing() {
            poll = poll.min(crate::mailio::team::DESK_POLL); // Other desks' events: a short poll.
        }
        if self.failures > 0 {
            std::thread::sleep(backoff(self.failures));
            return;
        }
        match self.connection.as_mut().filter(|c| c.idle) {
            Some(c) => {
                if idle::wait(&c.endpoint, &mut c.session, poll.min(IDLE_LIMIT)).is_err() {
                    // The session is unusable: the next round logs in again, and says why
                    // if it cannot.
                    self.reset();
                }
            }
            None => std::thread::sleep(poll),
        }
    }

    /// Failed rounds in a row: the next [`Watch::wait`] backs off when there is one.
    pub fn failures_in_a_row(&self) -> u32 {
        self.failures
    }

    /// Forgets the session and the store connection (after an error or a panic): the next
    /// round starts afresh.
    pub fn reset(&mut self) {
        if let Some(mut c) = self.connection.take() {
            connect::logout(&c.endpoint, &mut c.session);
        }
        self.store = None;
    }

    fn try_round(&mut self) -> Result<Round, String> {
        let Some(imap) = self.config.imap.clone() else {
            return Ok(Round::default());
        };
        if let Some(refused) = &self.login_refused {
            return Err(refused.clone());
        }
        if self.connection.is_none() {
            let (endpoint, mut session) = account::login(&self.config, &imap).map_err(|e| {
                let Some(line) = not_retried(&e) else {
                    return e.to_string();
                };
                self.login_refused = Some(line.clone());
                line
            })?;
            let idle = idle::supported(&endpoint, &mut session).map_err(|e| e.to_string())?;
            self.connection = Some(Connection {
                endpoint,
                session,
                idle,
            });
        }
        if self.store.is_none() {
            self.store = Some(Store::open(&self.config.store_path()).map_err(|e| e.to_string())?);
        }
        let (Some(c), Some(store)) = (self.connection.as_mut(), self.store.as_mut()) else {
            // Both were filled in just above.
            return Err("internal error: no session".to_string());
        };
        // Classified on the way in, like `secdesk import`: rules and overrides beside the config.
        let ingestor = Ingestor::from_store(store, Some(&self.config.dir()))
            .map_err(|e| e.to_string())?
            .with_config(&self.config)
            .with_pgp(crate::mailio::gpg::engine(&self.config));
        let mailboxes = imap.sync_mailboxes();
        let reports = sync_all(&self.config, &imap, c, &mailboxes, store, &ingestor)?;
        // A gap is shown with the round, not as its failure: what was stored stays, the rest
        // is retried next round, and a message that never arrives must not hold back
        // moderation or replies, nor make every round a failure (logged out, backing off).
        let gap = reports.iter().find(|r| !r.complete()).map(gap_summary);
        let renumbered = reports
            .iter()
            .filter_map(|r| r.renumbered.clone())
            .collect();
        // Moderation written back, other desks' events folded (docs/team.md).
        let overwritten =
            crate::mailio::team::desk_round(&self.config, &c.endpoint, &mut c.session, store)?;
        if mailboxes.len() > 1 {
            // IDLE watches the selected mailbox: make it the first one (the team's inbox);
            // the others are synced at least every poll_seconds.
            sync::examine(&c.endpoint, &mut c.session, &mailboxes[0]).map_err(|e| e.to_string())?;
        }
        let report_new: usize = reports.iter().map(|r| r.stored.new_messages).sum();
        crate::core::triage::history::close_before(store, self.config.sync.historical_before)
            .map_err(|e| e.to_string())?;
        let mut round = Round {
            new_messages: report_new,
            idle: c.idle,
            overwritten,
            renumbered,
            ..Round::default()
        };
        if self.config.smtp.is_some() {
            match delivery::deliver_due(
                &self.config,
                store,
                DeliverOptions::for_config(&self.config, false),
            ) {
                Ok(done) => tally(&mut round, &done),
                Err(e) => round.replies_failed.push(e.to_string()),
            }
        }
        round.gap = gap;
        Ok(round)
    }
}

/// The line for a login failure that trying again cannot mend, so the desk stops trying
/// until it is restarted: credentials refused (a server may lock the account after repeated
/// failures), or a config that must change (a server that takes no LOGIN on this
/// connection, a password or token program that does not exist). `None`: worth retrying.
fn not_retried(e: &account::LoginError) -> Option<String> {
    use crate::mailio::imap::error::ImapError;
    use account::LoginError;
    match e {
        LoginError::Imap(ImapError::LoginRefused { .. }) | LoginError::TokenRefused { .. } => {
            Some(format!(
                "{e}; the desk does not log in again with it (a server may lock the account after repeated failures): fix it, then restart secdesk"
            ))
        }
        LoginError::Imap(ImapError::LoginDisabled { .. }) => Some(config_line(e)),
        LoginError::Secret(s) if s.is_config() => Some(config_line(e)),
        LoginError::Token(t) if t.is_config() => Some(config_line(e)),
        _ => None,
    }
}

fn config_line(e: &account::LoginError) -> String {
    format!("{e}; the desk does not try again until the config is changed and secdesk restarted")
}

/// Syncs `mailboxes` of `imap` on `c`'s session, as `secdesk sync` does. A message that
/// broke the session once more is a gap of the round, and a new session (logged in again)
/// goes on with the rest.
fn sync_all(
    config: &Config,
    imap: &ImapConfig,
    c: &mut Connection,
    mailboxes: &[String],
    store: &mut Store,
    ingestor: &Ingestor,
) -> Result<Vec<sync::SyncReport>, String> {
    let mut relogin = account::relogin(config, imap);
    let remote = sync::Remote {
        endpoint: &c.endpoint,
        session: &mut c.session,
        batch_size: DEFAULT_BATCH_SIZE,
        relogin: Some(&mut relogin),
        // Rounds come every poll and at each new mail: a message that always breaks the
        // FETCH is asked for again after a growing wait, not each time with a new login.
        retry: sync::Retry::Paced,
    };
    sync::sync_mailboxes(remote, mailboxes, store, ingestor, &mut |_, _| {})
        .map_err(|e| e.to_string())
}

/// `2 messages of mailbox "INBOX" not stored (UID 4: ...); later rounds ask again`
fn gap_summary(report: &sync::SyncReport) -> String {
    let mailbox = &report.mailbox;
    let first = report
        .missing
        .first()
        .map(|(uid, why)| format!("UID {uid}: {why}"))
        .or_else(|| report.problems.first().cloned())
        .unwrap_or_default();
    format!(
        "{} listed in mailbox \"{mailbox}\" not stored, {} answers refused ({first}); later rounds ask again",
        report.missing.len(),
        report.problems.len()
    )
}

fn tally(round: &mut Round, done: &[Delivery]) {
    for d in done {
        match &d.outcome {
            Outcome::Sent { resent, .. } => {
                round.replies_sent += 1;
                round.replies_resent += usize::from(*resent);
            }
            Outcome::Queued { error, .. }
            | Outcome::Failed { error }
            | Outcome::Unverified { error, .. }
            | Outcome::UncertainUnrecorded { error }
            | Outcome::NotRecorded { error, .. } => round.replies_failed.push(error.clone()),
            Outcome::SentUnrecorded { error } => {
                round.replies_sent += 1;
                round.replies_failed.push(error.clone());
            }
            Outcome::Skipped { .. } => {}
        }
    }
}

/// 2, 4, 8 … seconds after 1, 2, 3 … failures in a row, at most `MAX_BACKOFF`.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.clamp(1, 16)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
