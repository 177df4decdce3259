//! Learning from the team: when someone sets a report's class, the model trains on the
//! report's incoming messages under that label, untraining any earlier label first.
//!
//! Only the reporter's messages are learned. A message another sender put into the thread
//! (`messages.another_sender`, `core::ingest`: anyone can name a report's Message-ID in
//! In-Reply-To) says nothing about the report the team judged; learning it under the
//! report's class would let a stranger's words be taught as valid (or a reporter's as
//! spam) by a verdict on someone else's mail.
//!
//! The audit log entry for the change is written by the caller (the triage workflow), in the
//! same transaction when it uses [`learn_in`].

use rusqlite::Connection;

use super::model::Label;
use super::storage::{ensure_model_in, train_batch, untrain, TrainItem, TrainSummary};
use super::tokenize::tokenize;
use super::ClassifyError;
use crate::core::model::{Class, ReportId};
use crate::core::parse::{parse_message, AuthResults, Standing};
use crate::core::store::raw::{unpack, DamagedRaw};
use crate::core::store::{Store, StoreError};

/// What learning from one report did.
pub type LearnSummary = TrainSummary;

/// Trains the model on the reporter's incoming messages of `report_id` as `class` (never
/// another sender's, which is untrained if an older version learned it), in one transaction.
/// A message trained before under another label is untrained first; one already trained
/// under `class` is left alone. Errors with [`StoreError::NoSuchReport`] for an unknown id.
pub fn learn(
    store: &mut Store,
    report_id: ReportId,
    class: Class,
) -> Result<LearnSummary, ClassifyError> {
    let tx = store.write_transaction()?;
    let summary = learn_in(&tx, report_id, class)?;
    tx.commit()?;
    Ok(summary)
}

/// [`learn`] inside the caller's transaction (so the class change, its audit entry and the
/// training commit together).
pub fn learn_in(
    conn: &Connection,
    report_id: ReportId,
    class: Class,
) -> Result<LearnSummary, ClassifyError> {
    ensure_model_in(conn)?;
    let label = Label::from(class);
    // A message whose raw frame is damaged has nothing to learn from; it must not keep a
    // person's class change from being made (`secdesk check` reports it).
    let mut items = Vec::new();
    for m in incoming_messages(conn, report_id)? {
        if m.another_sender {
            untrain(conn, &m.content_hash)?;
            continue;
        }
        let auth = m.auth;
        items.extend(m.raw.ok().map(|raw| {
            let mut parsed = parse_message(&raw);
            // The sender authentication as ingest judged it under `[sync] authserv_id`,
            // so that what is learned is what was classified.
            parsed.auth = auth;
            TrainItem {
                content_hash: m.content_hash,
                label,
                tokens: tokenize(&parsed),
            }
        }));
    }
    train_batch(conn, &items)
}

/// Untrains every message of `report_id` (for example when a class is cleared). Returns how
/// many messages were untrained.
pub fn forget(store: &mut Store, report_id: ReportId) -> Result<usize, ClassifyError> {
    let tx = store.write_transaction()?;
    let n = forget_in(&tx, report_id)?;
    tx.commit()?;
    Ok(n)
}

/// [`forget`] inside the caller's transaction (an undone class change untrains with it).
pub fn forget_in(conn: &Connection, report_id: ReportId) -> Result<usize, ClassifyError> {
    let mut n = 0;
    for m in incoming_messages(conn, report_id)? {
        if untrain(conn, &m.content_hash)?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// How many of the report's incoming messages are kept as near-copies of mail already
/// learned under the same label, so taught the model nothing ([`super::campaign`]). The
/// desk's sweep and `secdesk mark` tell it after a change of class.
pub fn near_copies_of(conn: &Connection, report_id: ReportId) -> Result<usize, ClassifyError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM messages m
         JOIN classify_copies c ON c.content_hash = lower(hex(m.content_hash))
         WHERE m.report_id = ?1 AND m.direction = 'in'",
        [report_id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// An incoming message of a report.
struct Incoming {
    /// `messages.content_hash`, hex.
    content_hash: String,
    /// Its raw bytes, or why its frame could not be unpacked.
    raw: Result<Vec<u8>, DamagedRaw>,
    /// It joined the thread from an address that is not the reporter's.
    another_sender: bool,
    /// Its SPF, DKIM and DMARC as stored at ingest.
    auth: AuthResults,
}

/// The report's incoming messages. The team's own replies say nothing about what the report
/// is, so they are not trained.
fn incoming_messages(
    conn: &Connection,
    report_id: ReportId,
) -> Result<Vec<Incoming>, ClassifyError> {
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM reports WHERE id = ?1",
        [report_id],
        |r| r.get(0),
    )?;
    if exists == 0 {
        return Err(StoreError::NoSuchReport(report_id).into());
    }
    let mut stmt = conn.prepare(
        "SELECT lower(hex(content_hash)), raw, another_sender, spf, dkim, dmarc, authserv_id,
                auth_trusted
         FROM messages WHERE report_id = ?1 AND direction = 'in' ORDER BY id",
    )?;
    let rows = stmt.query_map([report_id], |r| {
        Ok(Incoming {
            content_hash: r.get(0)?,
            raw: unpack(r.get(1)?),
            another_sender: r.get(2)?,
            auth: AuthResults {
                spf: r.get(3)?,
                dkim: r.get(4)?,
                dmarc: r.get(5)?,
                authserv_id: r.get(6)?,
                // Stored before `[sync] authserv_id` was checked, or without it: unverified.
                standing: if r.get(7)? {
                    Standing::Configured
                } else {
                    Standing::Unverified
                },
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::classify::storage::{load_model, replace_model, ORIGIN_EMPTY};
    use crate::core::classify::Model;
    use crate::core::ingest::{Ingestor, RawIncoming};

    fn store_with_report() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let raw = "Message-ID: <a@x>\nSubject: heap overflow in zipfile\n\nreproducer attached\n";
        let reply = "Message-ID: <b@x>\nIn-Reply-To: <a@x>\nSubject: Re: heap overflow\n\nmore details here\n";
        let batch = [raw, reply].iter().map(|r| RawIncoming::file(*r)).collect();
        Ingestor::without_classifier()
            .ingest_batch(&mut store, batch, None)
            .unwrap();
        (dir, store)
    }

    fn table(store: &Store, sql: &str) -> Vec<String> {
        let mut stmt = store.conn().prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((0..r.as_ref().column_count())
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn learning_trains_and_relabelling_untrains_first() {
        let (_dir, mut store) = store_with_report();
        let mut base = Model::default();
        base.apply(Label::Ham, &["seen".to_string()], false);
        replace_model(&mut store, ORIGIN_EMPTY, &base).unwrap();

        let s = learn(&mut store, 1, Class::Spam).unwrap();
        assert_eq!((s.trained, s.relabelled), (2, 0));
        let m = load_model(&mut store).unwrap();
        assert_eq!(m.messages, [2, 1, 0, 0]);
        assert_eq!(m.tokens["subj:zipfile"], [1, 0, 0, 0]);

        // Relabel: spam counts go back, valid counts come in.
        let s = learn(&mut store, 1, Class::Valid).unwrap();
        assert_eq!((s.trained, s.relabelled), (0, 2));
        let m = load_model(&mut store).unwrap();
        assert_eq!(m.messages, [0, 1, 0, 2]);
        assert_eq!(m.tokens["subj:zipfile"], [0, 0, 0, 1]);

        // Same label again changes nothing.
        assert_eq!(learn(&mut store, 1, Class::Valid).unwrap().unchanged, 2);
        assert!(matches!(
            learn(&mut store, 99, Class::Spam),
            Err(ClassifyError::Store(StoreError::NoSuchReport(99)))
        ));
    }

    #[test]
    fn train_then_untrain_restores_the_stored_model_exactly() {
        let (_dir, mut store) = store_with_report();
        // Start from the starter model: its tables must come back byte for byte.
        crate::core::classify::storage::ensure_model(&mut store).unwrap();
        let tokens = "SELECT * FROM classify_tokens ORDER BY token";
        let counts = "SELECT spam, ham, invalid, valid, origin FROM classify_model";
        let before = (table(&store, tokens), table(&store, counts));
        learn(&mut store, 1, Class::Invalid).unwrap();
        learn(&mut store, 1, Class::Spam).unwrap();
        assert_ne!(table(&store, counts), before.1);
        assert_eq!(forget(&mut store, 1).unwrap(), 2);
        assert_eq!((table(&store, tokens), table(&store, counts)), before);
        assert!(table(&store, "SELECT * FROM classify_trained").is_empty());
    }

    /// A stranger who names the report's Message-ID joins its thread as another sender
    /// (core::ingest); the team's verdict on the report must not teach the stranger's words.
    #[test]
    fn another_senders_mail_in_the_thread_is_not_learned_with_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let report = "From: alice@reporter.example\nMessage-ID: <a@x>\nSubject: heap overflow in zipfile\n\nreproducer attached\n";
        let stranger = "From: mallory@evil.example\nMessage-ID: <m@x>\nIn-Reply-To: <a@x>\nSubject: Re: heap overflow\n\ncasinobonus cryptoairdrop\n";
        let batch = [report, stranger]
            .iter()
            .map(|r| RawIncoming::file(*r))
            .collect();
        let summary = Ingestor::without_classifier()
            .ingest_batch(&mut store, batch, None)
            .unwrap();
        assert_eq!(summary.new_reports, 1, "the stranger joined the thread");
        let mut base = Model::default();
        base.apply(Label::Ham, &["seen".to_string()], false);
        replace_model(&mut store, ORIGIN_EMPTY, &base).unwrap();

        let s = learn(&mut store, 1, Class::Valid).unwrap();
        assert_eq!((s.trained, s.relabelled), (1, 0));
        let m = load_model(&mut store).unwrap();
        assert_eq!(m.messages, [0, 1, 0, 1], "one message learned as valid");
        assert_eq!(m.tokens["subj:zipfile"], [0, 0, 0, 1]);
        assert!(
            !m.tokens.contains_key("casinobonus"),
            "the stranger's words were learned as valid: {:?}",
            m.tokens.get("casinobonus")
        );

        // A store whose older version learned the stranger's mail is cleaned up by the
        // next verdict, and forgetting the report takes everything back.
        let hash: String = store
            .conn()
            .query_row(
                "SELECT lower(hex(content_hash)) FROM messages WHERE another_sender = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let tokens = tokenize(&parse_message(stranger.as_bytes()));
        train_batch(
            store.conn(),
            &[TrainItem {
                content_hash: hash,
                label: Label::Spam,
                tokens,
            }],
        )
        .unwrap();
        assert_eq!(
            load_model(&mut store).unwrap().tokens["casinobonus"],
            [1, 0, 0, 0]
        );
        learn(&mut store, 1, Class::Spam).unwrap();
        let m = load_model(&mut store).unwrap();
        assert_eq!(m.messages, [1, 1, 0, 0]);
        assert!(
            !m.tokens.contains_key("casinobonus"),
            "{:?}",
            m.tokens.get("casinobonus")
        );
        assert_eq!(forget(&mut store, 1).unwrap(), 1);
        assert_eq!(load_model(&mut store).unwrap().messages, [0, 1, 0, 0]);
    }

    /// What is learned from a stored message is what ingest weighed: a pass read without
    /// `[sync] authserv_id` (maybe the sender's own field) is not taught as the model's
    /// evidence, the configured server's is, and a failure always is.
    #[test]
    fn learning_weighs_sender_authentication_as_ingest_did() {
        let raw = "Authentication-Results: mx.example.org; spf=fail; dkim=pass\nFrom: alice@reporter.example\nMessage-ID: <a@x>\nSubject: heap overflow\n\nreproducer attached\n";
        let configured = crate::core::config::Config::parse(
            "[identity]\nname = \"A\"\nemail = \"a@example.org\"\n[sync]\nauthserv_id = \"mx.example.org\"\n",
            std::path::Path::new("c.toml"),
        )
        .unwrap();
        let unconfigured = crate::core::config::Config {
            sync: Default::default(),
            ..configured.clone()
        };
        for (config, dkim_pass) in [(&configured, 1), (&unconfigured, 0)] {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(&dir.path().join("s.db")).unwrap();
            Ingestor::without_classifier()
                .with_config(config)
                .ingest_batch(&mut store, vec![RawIncoming::file(raw)], None)
                .unwrap();
            replace_model(&mut store, ORIGIN_EMPTY, &Model::default()).unwrap();
            learn(&mut store, 1, Class::Valid).unwrap();
            let m = load_model(&mut store).unwrap();
            let count = |t: &str| m.tokens.get(t).map_or(0, |c| c[3]);
            assert_eq!(count("auth:dkim:pass"), dkim_pass, "{:?}", config.sync);
            assert_eq!(count("auth:spf:fail"), 1, "{:?}", config.sync);
        }
    }

    /// A campaign learned one report at a time counts once, whichever label it is learned
    /// under and in whatever order its reports are relabelled or forgotten; forgetting all of
    /// it gives back the tables exactly.
    #[test]
    fn near_copies_count_once_through_relabels_and_forgetting_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let copy = |i: usize| {
            format!(
                "From: writer{i}@campaign.example\nMessage-ID: <c{i}@campaign.example>\n\
                 Subject: offer {i}\n\nheap overflow reproducer traceback tarfile zipfile \
                 asyncio pickle ctypes sanitizer segfault cpython claim your airdrop now \
                 guaranteed returns wallet token t{i}x{}\n",
                i * 31
            )
        };
        let other = "From: alice@reporter.example\nMessage-ID: <o@x>\nSubject: tarfile bug\n\n\
                     tarfile extractall follows a symlink out of the target folder\n";
        let mut batch: Vec<RawIncoming> = (0..20).map(|i| RawIncoming::file(copy(i))).collect();
        batch.push(RawIncoming::file(other));
        let summary = Ingestor::without_classifier()
            .ingest_batch(&mut store, batch, None)
            .unwrap();
        assert_eq!(summary.new_reports, 21);
        let mut base = Model::default();
        base.apply(Label::Ham, &["seen".to_string()], false);
        replace_model(&mut store, ORIGIN_EMPTY, &base).unwrap();
        let tokens = "SELECT * FROM classify_tokens ORDER BY token";
        let counts = "SELECT spam, ham, invalid, valid FROM classify_model";
        let before = (table(&store, tokens), table(&store, counts));

        let mut copies = 0;
        for id in 1..=20 {
            copies += learn(&mut store, id, Class::Valid).unwrap().near_copies;
        }
        assert_eq!(copies, 19, "all but the first were near-copies");
        assert_eq!(learn(&mut store, 21, Class::Valid).unwrap().near_copies, 0);
        let m = load_model(&mut store).unwrap();
        assert_eq!(m.messages, [0, 1, 0, 2], "the campaign and the report");
        assert_eq!(m.tokens["traceback"], [0, 0, 0, 1]);

        // Relabelling the counted report: another copy counts as valid in its place, and
        // as spam the report is the first of its kind.
        let s = learn(&mut store, 1, Class::Spam).unwrap();
        assert_eq!((s.relabelled, s.near_copies), (1, 0));
        assert_eq!(load_model(&mut store).unwrap().messages, [1, 1, 0, 2]);
        let s = learn(&mut store, 2, Class::Spam).unwrap();
        assert_eq!((s.relabelled, s.near_copies), (1, 1));
        assert_eq!(load_model(&mut store).unwrap().messages, [1, 1, 0, 2]);

        // While any copy is learned under a label, the campaign counts exactly once there.
        let mut left: Vec<i64> = (1..=21).collect();
        for id in [
            1, 7, 3, 20, 2, 21, 4, 5, 6, 8, 9, 10, 19, 11, 12, 13, 14, 15, 16, 17, 18,
        ] {
            forget(&mut store, id).unwrap();
            left.retain(|&r| r != id);
            let spam = left.iter().filter(|&&r| r <= 2).count().min(1) as u64;
            let valid = left
                .iter()
                .filter(|&&r| (3..=20).contains(&r))
                .count()
                .min(1) as u64
                + u64::from(left.contains(&21));
            let m = load_model(&mut store).unwrap();
            assert_eq!(m.messages, [spam, 1, 0, valid], "after forgetting #{id}");
        }
        assert_eq!((table(&store, tokens), table(&store, counts)), before);
        for t in ["classify_trained", "classify_bands", "classify_copies"] {
            assert!(
                table(&store, &format!("SELECT * FROM {t}")).is_empty(),
                "{t}"
            );
        }
    }
}
