//! The one pipeline every message goes through, whether it comes from IMAP sync or from an
//! archive import: parse, classify, deduplicate, thread, store.
//!
//! A batch is stored in one transaction together with the IMAP cursor that produced it, so a
//! process killed at any moment leaves either the whole batch or none of it, and the next
//! sync resumes exactly where the last commit ended.

mod evidence;

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::core::classify::{load_classifier, ClassifyError};
use crate::core::model::{Direction, Verdict};
use crate::core::parse::{
    check_date, content_digest, parse_message, parse_received, CheckedDate, DateNote, Mailbox,
    ParsedMessage, Standing,
};
use crate::core::pgp::{self, PgpEngine, PgpInfo};
use crate::core::store::search_terms::index_terms;
use crate::core::store::{timestamp, Result, Store};

/// One message as it arrives, before parsing.
#[derive(Debug, Clone)]
pub struct RawIncoming {
    pub raw: Vec<u8>,
    /// When it arrived, as our side recorded it: IMAP INTERNALDATE, an mbox `From ` line,
    /// a file's mtime. It orders the thread and starts the clocks; the Date header is
    /// checked against it (`core::parse::dates`) and shown when it fits.
    pub received_at: Option<DateTime<Utc>>,
    pub origin: Origin,
}

impl RawIncoming {
    /// A message with no known arrival (the demo, tests): its Date header is used unless it
    /// lies in the future.
    pub fn file(raw: impl Into<Vec<u8>>) -> RawIncoming {
        RawIncoming {
            raw: raw.into(),
            received_at: None,
            origin: Origin::File,
        }
    }

    /// A message imported from an archive that arrived at `arrival` (its mbox `From ` line,
    /// else the file's mtime, else the time of the import).
    pub fn imported(raw: impl Into<Vec<u8>>, arrival: DateTime<Utc>) -> RawIncoming {
        RawIncoming {
            raw: raw.into(),
            received_at: Some(arrival),
            origin: Origin::File,
        }
    }
}

/// Where a message came from.
#[derive(Debug, Clone)]
pub enum Origin {
    Imap {
        mailbox: String,
        uidvalidity: u32,
        uid: u32,
    },
    File,
    /// A reply the team sent from the desk.
    Sent,
}

/// The IMAP position a batch brings the store to, committed with the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxCursor {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// What a batch added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new_messages: usize,
    pub new_reports: usize,
    /// Messages already in the store (same content), skipped.
    pub duplicates: usize,
}

impl std::ops::AddAssign for IngestSummary {
    fn add_assign(&mut self, o: Self) {
        self.new_messages += o.new_messages;
        self.new_reports += o.new_reports;
        self.duplicates += o.duplicates;
    }
}

/// Suggests a class for a parsed message.
/// `Sync` so that IMAP sync can parse and classify on one thread while another stores.
pub type ClassifyFn = Box<dyn Fn(&ParsedMessage) -> Verdict + Send + Sync>;

/// Parses, classifies and stores batches of messages.
pub struct Ingestor {
    classify: Option<ClassifyFn>,
    /// The team's own addresses, lowercase: their mail in a thread is not "another sender".
    team: Vec<String>,
    /// Decrypts and verifies OpenPGP mail (`mailio::gpg`); without it, encrypted mail is
    /// only marked.
    pgp: Option<Box<dyn PgpEngine>>,
    /// `[sync] authserv_id`, lowercase: whose `Authentication-Results` are believed. Empty:
    /// the topmost field's verdicts are kept as unverified (`core::parse::auth_results`).
    authserv: Vec<String>,
}

impl Ingestor {
    /// An ingestor that stores messages without suggesting a class.
    pub fn without_classifier() -> Ingestor {
        Ingestor {
            classify: None,
            team: Vec::new(),
            pgp: None,
            authserv: Vec::new(),
        }
    }

    pub fn with_classifier(classify: ClassifyFn) -> Ingestor {
        Ingestor {
            classify: Some(classify),
            team: Vec::new(),
            pgp: None,
            authserv: Vec::new(),
        }
    }

    /// Takes what ingest needs from the config: the team's own addresses (members, the
    /// team address, `[reply] cc`), so that a colleague's mail in a report's thread is not
    /// marked "another sender", and the receiving server's authserv-ids (`[sync]
    /// authserv_id`), whose `Authentication-Results` alone are believed.
    pub fn with_config(mut self, config: &crate::core::config::Config) -> Ingestor {
        self.team = crate::core::reply::our_addresses(config);
        self.authserv = config.sync.trusted_authserv_ids();
        self
    }

    /// Decrypts and verifies OpenPGP mail with `engine` before it is classified and stored.
    pub fn with_pgp(mut self, engine: Option<Box<dyn PgpEngine>>) -> Ingestor {
        self.pgp = engine;
        self
    }

    /// An ingestor that classifies with the store's model (the starter model on a fresh
    /// store) and the rules in force: `rules.toml` in `config_dir` if present, else the
    /// shipped ones. Fails on a broken rule file, naming the file and the line.
    pub fn from_store(
        store: &mut Store,
        config_dir: Option<&Path>,
    ) -> std::result::Result<Ingestor, ClassifyError> {
        let classifier = load_classifier(store, config_dir)?;
        Ok(Ingestor::with_classifier(Box::new(move |m| {
            classifier.classify(m)
        })))
    }

    /// Stores a batch in one transaction, with the cursor when given.
    pub fn ingest_batch(
        &self,
        store: &mut Store,
        batch: Vec<RawIncoming>,
        cursor: Option<&MailboxCursor>,
    ) -> Result<IngestSummary> {
        let prepared = batch.into_iter().map(|m| self.prepare(m)).collect();
        self.store_prepared(store, prepared, cursor)
    }

    /// Hashes, parses and classifies one message: the slow part of ingest, which needs no
    /// store, so a caller (IMAP sync) may run it on another thread than
    /// [`Ingestor::store_prepared`].
    pub fn prepare(&self, incoming: RawIncoming) -> Prepared {
        let hash = content_digest(&incoming.raw);
        // Only the configured receiving server's verdicts count (RFC 8601 §5); the
        // classifier, the follow-up check and the store all read them from here.
        let mut parsed = parse_received(&incoming.raw, &self.authserv);
        // The decrypted text is what is classified, stored and searched; `raw` stays as fetched.
        let opened = pgp::open(&incoming.raw, &mut parsed, self.pgp.as_deref());
        let verdict = self.classify.as_ref().map(|f| f(&parsed));
        Prepared {
            incoming,
            hash,
            text_from_raw: opened.as_ref().is_none_or(|o| !o.text_replaced),
            parsed,
            verdict,
            pgp: opened.map(|o| o.info),
        }
    }

    /// Stores messages made by [`Ingestor::prepare`] in one transaction, with the cursor
    /// when given.
    pub fn store_prepared(
        &self,
        store: &mut Store,
        prepared: Vec<Prepared>,
        cursor: Option<&MailboxCursor>,
    ) -> Result<IngestSummary> {
        let tx = store.write_transaction()?;
        let mut summary = IngestSummary::default();
        let mut unindexed = Vec::with_capacity(prepared.len());
        for p in &prepared {
            let (stored, row) = store_unindexed(&tx, p, Direction::In, None, &self.team)?;
            match stored {
                Stored::Duplicate => summary.duplicates += 1,
                Stored::Joined(_) => summary.new_messages += 1,
                Stored::NewReport(_) => {
                    summary.new_messages += 1;
                    summary.new_reports += 1;
                }
            }
            unindexed.extend(row.map(|row| (row, p)));
        }
        // The batch's full-text rows go in last, one after another. FTS5 keeps new rows in
        // memory until the commit, but writes them out as a segment of their own whenever
        // a statement opens a savepoint (any INSERT into `messages`, whose trigger
        // `moderation_attach` makes it one): indexed between the messages, each message
        // was a one-row segment for FTS5's merges to read back, a third of storing.
        for (row, p) in unindexed {
            index_message(&tx, p, row)?;
        }
        if let Some(c) = cursor {
            tx.prepare_cached(
                "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?1, ?2, ?3)
                 ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                 last_uid = excluded.last_uid",
            )?
            .execute(params![c.mailbox, c.uidvalidity, c.last_uid])?;
        }
        tx.commit()?;
        // The batch that brings the store to 1,000 messages trains its dictionary and
        // re-packs them with it (core::store::dictionary); later batches only check.
        // The batch is committed: failing to train (a full disk, another desk writing) only
        // costs space, so it does not fail the sync; the next batch or open tries again.
        if crate::core::store::repack::train_if_due(store.conn_mut()).unwrap_or(0) > 0 {
            // Re-packing shrank rows in place and left their pages part empty; compacting
            // the 1,000-message file now is quick. Another desk reading the store may keep
            // it from running: the space is then reused by later batches.
            let _ = store.vacuum();
        }
        Ok(summary)
    }
}

/// A message hashed, parsed and classified, not yet stored.
pub struct Prepared {
    incoming: RawIncoming,
    /// `messages.content_hash`: the 32 bytes of [`content_digest`].
    hash: [u8; 32],
    parsed: ParsedMessage,
    verdict: Option<Verdict>,
    pgp: Option<PgpInfo>,
    /// The text is the one `raw` gives back (gpg did not replace it): the store keeps no
    /// copy of it (core::store::body).
    text_from_raw: bool,
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Duplicate,
    Joined(i64),
    NewReport(i64),
}

/// Stores a reply the team sent from the desk in report `report_id`'s thread, with direction
/// `out`, inside the caller's transaction (the outbox records the send in the same one).
///
/// When the copy sent to the team address later arrives by sync, [`Ingestor::store_prepared`]
/// recognises its Message-ID and skips it, so a reply is never mistaken for the reporter's.
pub fn store_sent(
    tx: &Transaction<'_>,
    report_id: i64,
    raw: &[u8],
    sent_at: DateTime<Utc>,
) -> Result<Stored> {
    let p = Prepared {
        incoming: RawIncoming {
            raw: raw.to_vec(),
            received_at: Some(sent_at),
            origin: Origin::Sent,
        },
        hash: content_digest(raw),
        parsed: parse_message(raw),
        verdict: None,
        pgp: None,
        text_from_raw: true,
    };
    let (stored, row) = store_unindexed(tx, &p, Direction::Out, Some(report_id), &[])?;
    if let Some(row) = row {
        index_message(tx, &p, row)?;
    }
    Ok(stored)
}

/// Stores one message of a batch inside the caller's transaction, in report `report` when
/// given, else in the thread its headers point to (or a new report). Returns with it the
/// new `messages` row, which the caller adds to the full-text index ([`index_message`])
/// before the transaction ends.
fn store_unindexed(
    tx: &Transaction<'_>,
    p: &Prepared,
    direction: Direction,
    report: Option<i64>,
    team: &[String],
) -> Result<(Stored, Option<i64>)> {
    if already_stored(tx, p)? {
        return Ok((Stored::Duplicate, None));
    }
    let m = &p.parsed;
    // Our side's arrival time (INTERNALDATE, an mbox `From ` line, a file's mtime, the time
    // a reply was sent) orders the thread and starts the report's clocks whenever there is
    // one, however the mail came in: a Date header a week old that fits the arrival is
    // still the sender's word, and believed it made a report imported today overdue at
    // once, first in the queue and a week late in `stats` (synced, the same mail was not).
    // The Date header, when it fits the arrival, is the message's shown date.
    let now = Utc::now();
    // The arrival is believed up to now: one in the future (a server whose clock runs
    // ahead, an archive file whose mtime or `From ` line says 2099) would start the report's
    // clocks, and count it in a period, that has not come yet. The desk saw it by now.
    let arrival = p.incoming.received_at.map(|a| a.min(now));
    let date = check_date(m.date, m.header("Date"), arrival, now);
    let received = timestamp(arrival.unwrap_or(date.at));
    let placement = match report {
        Some(id) => evidence::Placement {
            report: Some(id),
            ..Default::default()
        },
        None => evidence::place(tx, m, team)?,
    };
    let (report_id, is_new) = match placement.report {
        Some(id) => (id, false),
        None => (new_report(tx, p.verdict.as_ref(), &received)?, true),
    };
    let row = Row {
        report_id,
        direction,
        received: &received,
        date: &date,
        placement: &placement,
    };
    let message_row = insert_message(tx, p, &row)?;
    if !is_new {
        tx.prepare_cached("UPDATE reports SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![report_id, timestamp(Utc::now())])?;
        if direction == Direction::In && placement.from_reporter {
            // A reporter answering a question brings a needs-info report back (issue 4);
            // someone else writing into the thread does not, nor does a teammate (whose
            // From, like anyone's, a stranger can also write).
            crate::core::triage::reporter::reply_arrived(tx, report_id, Utc::now())?;
        }
    }
    let stored = if is_new {
        Stored::NewReport(report_id)
    } else {
        Stored::Joined(report_id)
    };
    Ok((stored, Some(message_row)))
}

/// The same content is stored already, or this is our own reply coming back (the team
/// address is on Cc), stored as sent. Only from our own address: someone else reusing the
/// id is stored (`evidence` notes it).
fn already_stored(tx: &Transaction<'_>, p: &Prepared) -> Result<bool> {
    // Every statement is prepared once per connection (`prepare_cached`): parsing the SQL
    // again for each message of a sync was a tenth of the store's time.
    let exists: Option<i64> = tx
        .prepare_cached("SELECT id FROM messages WHERE content_hash = ?1")?
        .query_row([&p.hash[..]], |r| r.get(0))
        .optional()?;
    if let Some(id) = exists {
        // Fetched again after its server renumbered the mailbox (`forget_uids`): the row
        // takes the UID it has now, so the next sync's check has it to compare.
        if let Origin::Imap {
            mailbox,
            uidvalidity,
            uid,
        } = &p.incoming.origin
        {
            tx.prepare_cached(
                "UPDATE messages SET uid = ?4 WHERE id = ?1 AND uid IS NULL
                 AND mailbox = ?2 AND uidvalidity = ?3",
            )?
            .execute(params![id, mailbox, uidvalidity, uid])?;
        }
        return Ok(true);
    }
    let m = &p.parsed;
    let Some(id) = m.message_id.as_deref() else {
        return Ok(false);
    };
    let from = m.from.as_ref().map(|f| f.addr.as_str()).unwrap_or_default();
    let ours: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM messages WHERE message_id = ?1 AND direction = 'out'
             AND secdesk_address_key(from_addr) = secdesk_address_key(?2) LIMIT 1",
        )?
        .query_row([id, from], |r| r.get(0))
        .optional()?;
    Ok(ours.is_some())
}

/// Opens a report for a message that joins none, with its verdict and a `created` event.
fn new_report(tx: &Transaction<'_>, v: Option<&Verdict>, received: &str) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO reports (created_at, class, outcome, spam_score, confidence, reasons, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?1)",
    )?
    .execute(params![
        received,
        v.map(|v| v.class.as_str()),
        v.map(|v| v.outcome.as_str()),
        v.map(|v| v.spam_score),
        v.map(|v| v.confidence),
        v.map(|v| crate::core::store::reasons::encode(&v.reasons)),
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO events (report_id, actor, at, kind, before, after)
         VALUES (?1, 'secdesk', ?2, 'created', NULL, ?3)",
    )?
    .execute(params![id, received, v.map(|v| v.class.as_str())])?;
    Ok(id)
}

/// Where a message goes and what was decided about it on the way.
struct Row<'a> {
    report_id: i64,
    direction: Direction,
    received: &'a str,
    date: &'a CheckedDate,
    placement: &'a evidence::Placement,
}

/// Inserts the `messages` row (and its attachments); returns its id.
fn insert_message(tx: &Transaction<'_>, p: &Prepared, row: &Row<'_>) -> Result<i64> {
    let m = &p.parsed;
    let date = row.date;
    // Why the Date header was not used is kept as a code (`date_note`), written out
    // when the message is shown (core::triage::view).
    let mut notes = m.notes.clone();
    notes.extend(row.placement.notes.iter().cloned());
    let (mailbox, uidvalidity, uid) = match &p.incoming.origin {
        Origin::Imap {
            mailbox,
            uidvalidity,
            uid,
        } => (Some(mailbox.as_str()), Some(*uidvalidity), Some(*uid)),
        _ => (None, None, None),
    };
    let v = p.verdict.as_ref();
    tx.prepare_cached(
        // To, Cc, Reply-To, References and the Date header as written are read from `raw`
        // when needed (core::store::header_columns), not stored twice.
        "INSERT INTO messages (report_id, content_hash, message_id, direction, received_at, date,
            from_name, from_addr, subject, in_reply_to, body,
            notes, spf, dkim, dmarc, class, outcome, spam_score, confidence,
            mailbox, uidvalidity, uid, raw, another_sender, pgp, date_note,
            authserv_id, auth_trusted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
    )?
    .execute(params![
        row.report_id,
        &p.hash[..],
        m.message_id,
        row.direction.as_str(),
        row.received,
        // NULL when it is the arrival, which the reader then shows (core::triage::view).
        (m.date.is_some() || date.note.is_some())
            .then(|| timestamp(date.at))
            .filter(|at| at != row.received),
        m.from.as_ref().and_then(|f| f.name.clone()),
        m.from.as_ref().map(|f| f.addr.clone()),
        m.subject,
        m.in_reply_to.first(),
        // Decoded again from `raw` on read unless it cannot be (core::store::body).
        crate::core::store::body::stored(&m.body_text, p.text_from_raw),
        (!notes.is_empty()).then(|| json(&notes)),
        m.auth.spf,
        m.auth.dkim,
        m.auth.dmarc,
        v.map(|v| v.class.as_str()),
        v.map(|v| v.outcome.as_str()),
        v.map(|v| v.spam_score),
        v.map(|v| v.confidence),
        // The reasons are kept on the report (reports.reasons, which the desk shows), for
        // the message that opened it; nothing reads a later message's (migration 23).
        mailbox,
        uidvalidity,
        uid,
        crate::core::store::raw::pack_with(
            &p.incoming.raw,
            crate::core::store::dictionary::current(tx)?.as_deref()
        ),
        row.placement.another_sender,
        p.pgp
            .as_ref()
            .map(|info| crate::core::store::body::pgp_column(
                serde_json::to_value(info).unwrap_or_default(),
                p.text_from_raw
            )),
        date.note.map(DateNote::code),
        m.auth.authserv_id,
        m.auth.standing == Standing::Configured,
    ])?;
    let message_row = tx.last_insert_rowid();
    for a in &m.attachments {
        tx.prepare_cached(
            "INSERT INTO attachments (message_id, name, content_type, size) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![message_row, a.name, a.content_type, a.size as i64])?;
    }
    Ok(message_row)
}

/// Adds the message's subject, sender and text to the full-text index, as the terms it
/// holds (core::store::search_terms).
fn index_message(tx: &Transaction<'_>, p: &Prepared, message_row: i64) -> Result<()> {
    let m = &p.parsed;
    let sender = m.from.as_ref().map(Mailbox::display).unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO messages_fts (rowid, subject, sender, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        message_row,
        index_terms(&m.subject),
        index_terms(&sender),
        index_terms(&m.body_text)
    ])?;
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Serialising strings and plain structs to JSON cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod date_tests;
#[cfg(test)]
mod tests;
