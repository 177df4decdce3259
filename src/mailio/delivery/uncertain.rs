//! Replies whose fate is not known (`uncertain`, or `sending` past the longest attempt):
//! looked for on the IMAP server by Message-ID (RFC 3501 §6.4.4 `UID SEARCH HEADER`), in the
//! Sent mailbox and every team mailbox, then recorded, resent or left for a person, as
//! [`outbox::verdict`] decides.

use chrono::Utc;

use super::{when, DeliveryError, Outcome, Run};
use crate::core::config::Config;
use crate::core::outbox::{self, OutboxEntry, Verdict};
use crate::core::store::Store;
use crate::mailio::delivery::sent::in_mailbox;

/// Whether the server delivers a copy of `row` to a mailbox a delivery searches (the team
/// address is one of its recipients and IMAP is configured): else nothing can show whether
/// an uncertain send arrived, and only a person settles it.
pub(super) fn copy_expected(config: &Config, row: &OutboxEntry) -> bool {
    let team = config.team_address().map(str::trim).unwrap_or("");
    config.imap.is_some()
        && !team.is_empty()
        && row
            .recipients
            .iter()
            .any(|r| r.trim().eq_ignore_ascii_case(team))
}

impl Run<'_> {
    /// A `sending` row: another delivery's live attempt (left alone), or, once older than
    /// the longest attempt, a crashed one, which is uncertain like a lost connection.
    pub(super) fn settle_interrupted(
        &mut self,
        store: &mut Store,
        row: &OutboxEntry,
    ) -> Result<Outcome, DeliveryError> {
        if !outbox::attempt_is_stale(row, self.stale_before) {
            let since = row.last_attempt_at.as_deref().map(when).unwrap_or_default();
            return Ok(Outcome::Skipped {
                why: format!(
                    "outbox #{} is being sent by another delivery (this desk's sync, or another desk), since {since}; it is taken as interrupted, and looked for on the server, only once it is older than {} minutes",
                    row.id,
                    self.stale_after_minutes()
                ),
            });
        }
        let error = "an attempt was interrupted (the desk stopped while sending), so the server may have it";
        if !outbox::mark_interrupted(store, row, error)? {
            return self.taken(store, row);
        }
        let row = outbox::get(store, row.id)?;
        self.settle_uncertain(store, &row)
    }

    fn stale_after_minutes(&self) -> i64 {
        (Utc::now() - self.stale_before).num_minutes()
    }

    /// An `uncertain` row: looked for on the server, then recorded as sent, sent again (its
    /// copy should have arrived and has not), or left for a later look or a person.
    pub(super) fn settle_uncertain(
        &mut self,
        store: &mut Store,
        row: &OutboxEntry,
    ) -> Result<Outcome, DeliveryError> {
        let expected = self.copy_expected(row);
        let found = if expected {
            self.find_on_server(&row.message_id)
        } else {
            Ok(None)
        };
        let in_sent = match found {
            Ok(found) => found,
            Err(error) => {
                let error = format!(
                    "the server may have this reply, and it could not be searched: {error}; it is not sent again before it is, and `secdesk outbox --retry` searches again"
                );
                let later = Utc::now() + chrono::Duration::minutes(5);
                outbox::still_uncertain(store, row.id, &error, later)?;
                return Ok(Outcome::Unverified {
                    error,
                    needs_person: false,
                });
            }
        };
        let now = Utc::now();
        // When it is looked for again: the verdict's own time, else in six hours.
        let mut later = now + chrono::Duration::hours(6);
        let verdict = outbox::verdict(row, in_sent.is_some(), expected, now);
        let error = match verdict {
            Verdict::Delivered => {
                if !outbox::claim(store, row, now)? {
                    return self.taken(store, row);
                }
                return Ok(self.after_send(store, row, true, in_sent == Some(true)));
            }
            Verdict::Resend => return self.send(store, row),
            Verdict::WaitUntil(at) => {
                later = at;
                format!(
                    "the server may have this reply: the team's copy is not in {} yet, and may still be on its way; it is sent again only if still missing from {}",
                    self.team_mailboxes().join(", "),
                    when(&crate::core::store::timestamp(at))
                )
            }
            Verdict::AskPerson => format!(
                "the server may have this reply, and nothing can show whether it arrived (it has no team copy to look for), so it is not sent again by itself; if the reporter did not get it, send it again with `secdesk outbox --resend {id}`, else drop it with `secdesk outbox --discard {id}`",
                id = row.id
            ),
        };
        outbox::still_uncertain(store, row.id, &error, later)?;
        Ok(Outcome::Unverified {
            error,
            needs_person: verdict == Verdict::AskPerson,
        })
    }

    /// Whether the server delivers a copy of `row` to a mailbox [`Run::find_on_server`]
    /// searches: the team address is one of its recipients and IMAP is configured.
    pub(super) fn copy_expected(&self, row: &OutboxEntry) -> bool {
        copy_expected(self.config, row)
    }

    /// Looks for `message_id` in the Sent mailbox and every team mailbox (`[imap]
    /// mailboxes`, else `mailbox`). `Some(true)` when it is in Sent, `Some(false)` when only
    /// in a team mailbox.
    fn find_on_server(&mut self, message_id: &str) -> Result<Option<bool>, String> {
        let sent = self.sent_name();
        let mut places = vec![(sent, true)];
        places.extend(self.team_mailboxes().into_iter().map(|m| (m, false)));
        let session = self.session()?;
        for (mailbox, is_sent) in &places {
            if in_mailbox(session, mailbox, message_id, *is_sent)? {
                return Ok(Some(*is_sent));
            }
        }
        Ok(None)
    }

    /// The team mailboxes the team's copy of a reply may arrive in.
    fn team_mailboxes(&self) -> Vec<String> {
        match &self.config.imap {
            Some(imap) => imap.sync_mailboxes(),
            None => vec!["INBOX".into()],
        }
    }
}
