//! Outbox state machine against a real (temporary) store.

use chrono::TimeZone;

use super::*;
use crate::core::config::Config;
use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::reply::{compose, message};

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap() + Duration::minutes(min)
}

fn setup() -> (tempfile::TempDir, Store, Draft, BuiltMessage) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![RawIncoming {
                raw: b"Message-ID: <r1@x.example>\nFrom: r@x.example\nSubject: bug\n\nA bug\n"
                    .to_vec(),
                received_at: None,
                origin: Origin::File,
            }],
            None,
        )
        .unwrap();
    let config = Config::parse(
        "[identity]\nname = \"Me\"\nemail = \"me@team.example\"\n",
        &dir.path().join("config.toml"),
    )
    .unwrap();
    let draft = compose(&config, &store, 1, Some("acknowledge")).unwrap();
    let built = message::build(&draft, "m1@team.example", t(0)).unwrap();
    (dir, store, draft, built)
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn queued_reply_is_claimed_once_and_recorded_when_sent() {
    let (_d, mut store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me@team.example", t(0)).unwrap();
    let due_now = due(&store, t(0), false, t(-10)).unwrap();
    assert_eq!(due_now.len(), 1);
    assert_eq!(raw(&store, id).unwrap(), built.raw);
    assert!(claim(&store, &due_now[0], t(0)).unwrap());
    // A second desk holding the same stale view cannot claim it again.
    assert!(!claim(&store, &due_now[0], t(0)).unwrap());
    assert!(due(&store, t(1), true, t(-10)).unwrap().is_empty());

    let sent = record_sent(&mut store, id, t(1)).unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.sent_copy.as_deref(), Some("pending"));
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM messages WHERE report_id = 1 AND direction = 'out'
             AND message_id = 'm1@team.example'"
        ),
        1
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM events WHERE report_id = 1 AND kind = 'reply'
             AND after = 'm1@team.example' AND detail = 'acknowledge'"
        ),
        1
    );
    assert_eq!(pending(&store).unwrap().len(), 1);
    mark_sent_copy(&store, id, None).unwrap();
    assert!(pending(&store).unwrap().is_empty());
    // Recording twice is refused: the row is no longer sending.
    assert!(matches!(
        record_sent(&mut store, id, t(2)),
        Err(OutboxError::WrongState { .. })
    ));
}

#[test]
fn transient_failures_back_off_and_keep_the_error() {
    let (_d, store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    let row = get(&store, id).unwrap();
    assert!(claim(&store, &row, t(0)).unwrap());
    mark_transient(&store, id, "connection refused", t(0)).unwrap();
    let row = get(&store, id).unwrap();
    assert_eq!(row.state, OutboxState::Queued);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error.as_deref(), Some("connection refused"));
    assert_eq!(next_attempt(&row), Some(t(1)));
    assert!(due(&store, t(0), false, t(-10)).unwrap().is_empty());
    assert_eq!(due(&store, t(0), true, t(-10)).unwrap().len(), 1);
    assert_eq!(due(&store, t(1), false, t(-10)).unwrap().len(), 1);
    assert!(claim(&store, &row, t(1)).unwrap());
    mark_transient(&store, id, "421 try later", t(1)).unwrap();
    assert_eq!(next_attempt(&get(&store, id).unwrap()), Some(t(3)));
    assert_eq!(backoff(30), Duration::hours(6));
}

#[test]
fn a_crashed_attempt_is_due_only_once_stale_and_then_is_uncertain() {
    let (_d, store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    assert!(claim(&store, &get(&store, id).unwrap(), t(0)).unwrap());
    // Another desk may be sending right now: not due before the stale limit.
    assert!(due(&store, t(1), true, t(-5)).unwrap().is_empty());
    let stale = due(&store, t(30), true, t(20)).unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].state, OutboxState::Sending);
    // A crashed attempt may have reached the server: uncertain, not queued again.
    assert!(mark_interrupted(&store, &stale[0], "interrupted").unwrap());
    assert!(!mark_interrupted(&store, &stale[0], "interrupted").unwrap());
    let row = get(&store, id).unwrap();
    assert_eq!(row.state, OutboxState::Uncertain);
    assert_eq!(row.last_attempt_at, stale[0].last_attempt_at);
    assert_eq!(get(&store, id).unwrap().attempts, 1);
}

#[test]
fn an_uncertain_reply_is_resent_only_when_its_copy_is_surely_missing() {
    let (_d, store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    assert!(claim(&store, &get(&store, id).unwrap(), t(0)).unwrap());
    mark_uncertain(&store, id, "connection lost after DATA", t(0)).unwrap();
    let row = get(&store, id).unwrap();
    assert_eq!(row.state, OutboxState::Uncertain);
    // The attempt time is kept: the wait for the team copy counts from it.
    assert_eq!(row.last_attempt_at.as_deref(), Some(&*timestamp(t(0))));
    assert_eq!(
        unsettled_for_report(&store, 1).unwrap()[0].id,
        id,
        "a new reply to the report is warned about this one"
    );
    // Due for a look on the server (never a blind resend: the verdict decides).
    assert_eq!(due(&store, t(1), false, t(-10)).unwrap().len(), 1);
    assert_eq!(verdict(&row, true, true, t(1)), Verdict::Delivered);
    assert_eq!(
        verdict(&row, false, true, t(1)),
        Verdict::WaitUntil(t(0) + MISSING_AFTER),
        "the team copy may still be in an MTA queue"
    );
    assert_eq!(
        verdict(&row, false, true, t(0) + MISSING_AFTER),
        Verdict::Resend
    );
    assert_eq!(
        verdict(&row, false, false, t(10_000)),
        Verdict::AskPerson,
        "with no copy to look for, only a person may resend it"
    );
    still_uncertain(&store, id, "ask", t(600)).unwrap();
    assert!(due(&store, t(1), false, t(-10)).unwrap().is_empty());
    assert_eq!(due(&store, t(1), true, t(-10)).unwrap().len(), 1);

    // A person's word: queued again, and the claim clears the old error.
    assert!(matches!(
        resend_by_hand(&store, 999, t(2)),
        Err(OutboxError::NotFound(999))
    ));
    resend_by_hand(&store, id, t(2)).unwrap();
    let row = get(&store, id).unwrap();
    assert_eq!(row.state, OutboxState::Queued);
    assert!(matches!(
        resend_by_hand(&store, id, t(2)),
        Err(OutboxError::WrongState { .. })
    ));
    assert!(claim(&store, &row, t(3)).unwrap());
    assert_eq!(get(&store, id).unwrap().last_error, None);
}

#[test]
fn permanent_failure_is_kept_for_editing() {
    let (_d, store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    assert!(claim(&store, &get(&store, id).unwrap(), t(0)).unwrap());
    mark_permanent(&store, id, "550 no such user").unwrap();
    assert!(due(&store, t(100), true, t(50)).unwrap().is_empty());
    let listed = pending(&store).unwrap();
    assert_eq!(listed[0].state, OutboxState::FailedPermanent);
    assert_eq!(self::draft(&store, id).unwrap(), draft);

    let mut edited = draft.clone();
    edited.to = vec!["fixed@x.example".into()];
    let rebuilt = message::build(&edited, "m2@team.example", t(5)).unwrap();
    let before = get(&store, id).unwrap();
    requeue_edited(&store, &before, &edited, &rebuilt, t(5)).unwrap();
    let row = get(&store, id).unwrap();
    assert_eq!(
        (row.state.as_str(), row.attempts, row.message_id.as_str()),
        ("queued", 0, "m2@team.example")
    );
    assert_eq!(row.recipients[0], "fixed@x.example");
    discard(&store, id).unwrap();
    assert!(pending(&store).unwrap().is_empty());
}

#[test]
fn queue_draft_builds_with_a_fresh_id_on_the_identity_domain() {
    let (d, store, draft, _) = setup();
    let config = Config::parse(
        "[identity]\nname = \"Me\"\nemail = \"me@team.example\"\n",
        &d.path().join("config.toml"),
    )
    .unwrap();
    let (id, built) = queue_draft(&config, &store, &draft).unwrap();
    let (id2, built2) = queue_draft(&config, &store, &draft).unwrap();
    assert_ne!(id, id2);
    assert_ne!(built.message_id, built2.message_id);
    assert!(built.message_id.ends_with("@team.example"));
    let row = get(&store, id).unwrap();
    assert_eq!(
        (row.state.as_str(), row.actor.as_str()),
        ("queued", "me@team.example")
    );
    let mut bad = draft.clone();
    bad.to.clear();
    assert!(matches!(
        queue_draft(&config, &store, &bad),
        Err(OutboxError::Reply(ReplyError::NoRecipients))
    ));
}

/// Deletes report 1 and everything of it but its outbox rows, as a person with the sqlite3
/// shell might.
fn delete_report(store: &Store) {
    store
        .conn()
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             DELETE FROM attachments; DELETE FROM messages; DELETE FROM events;
             DELETE FROM notes; DELETE FROM reports WHERE id = 1;
             PRAGMA foreign_keys = ON;",
        )
        .unwrap();
}

#[test]
fn a_reply_whose_report_is_gone_fails_for_good_and_can_be_discarded() {
    let (_d, store, draft, built) = setup();
    let queued = queue(&store, &draft, &built, "me", t(0)).unwrap();
    let mut other = built.clone();
    other.message_id = "m2@team.example".into();
    let sending = queue(&store, &draft, &other, "me", t(0)).unwrap();
    assert!(claim(&store, &get(&store, sending).unwrap(), t(0)).unwrap());
    delete_report(&store);

    // Never due again, neither the queued one nor the interrupted attempt.
    assert!(due(&store, t(100), true, t(50)).unwrap().is_empty());
    for id in [queued, sending] {
        let row = get(&store, id).unwrap();
        assert_eq!(row.state, OutboxState::Failed);
        let why = row.last_error.unwrap();
        assert!(why.contains("report #1 no longer exists"), "{why}");
        assert!(why.contains(&format!("--discard {id}")), "{why}");
        // Still listed (someone must decide), and never claimable.
        assert!(pending(&store).unwrap().iter().any(|r| r.id == id));
        assert!(!claim(&store, &get(&store, id).unwrap(), t(200)).unwrap());
        discard(&store, id).unwrap();
        assert_eq!(get(&store, id).unwrap().state, OutboxState::Discarded);
    }
    assert!(pending(&store).unwrap().is_empty());
}

#[test]
fn a_new_report_never_takes_a_deleted_reports_id() {
    let (_d, mut store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    delete_report(&store);
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![RawIncoming::file(
                "Message-ID: <r2@x.example>\nFrom: s@y.example\nSubject: other\n\nB\n",
            )],
            None,
        )
        .unwrap();
    let new_id: i64 = count(&store, "SELECT max(id) FROM reports");
    assert_eq!(new_id, 2);
    // The old reply still points at the report that is gone, not at the new one.
    assert_eq!(get(&store, id).unwrap().report_id, 1);
    assert!(due(&store, t(100), true, t(50)).unwrap().is_empty());
    assert_eq!(get(&store, id).unwrap().state, OutboxState::Failed);
}

/// Editing a queued reply races delivery safely: a delivery that read the row before the
/// edit cannot claim it after (its bytes are the old reply), and an edit that began before
/// a claim is refused after it, leaving the reply as it went out.
#[test]
fn a_queued_reply_edited_while_delivery_runs_is_never_sent_twice_or_half_edited() {
    let (_d, store, draft, built) = setup();
    let id = queue(&store, &draft, &built, "me", t(0)).unwrap();
    let mut edited = draft.clone();
    edited.body = "Fixed a typo.\n".into();
    let rebuilt = message::build(&edited, "m2@team.example", t(1)).unwrap();

    // Delivery read the row, then the edit went in: the stale claim fails, a fresh one works.
    let read_by_delivery = get(&store, id).unwrap();
    requeue_edited(&store, &read_by_delivery, &edited, &rebuilt, t(1)).unwrap();
    assert!(!claim(&store, &read_by_delivery, t(2)).unwrap());
    assert_eq!(raw(&store, id).unwrap(), rebuilt.raw);
    let fresh = get(&store, id).unwrap();
    // The delivery says it was edited, not "taken up by another delivery" (before).
    let why = changed::before_claim(&read_by_delivery, Some(&fresh));
    assert!(
        why.contains("was edited meanwhile") && why.contains("is queued now"),
        "{why}"
    );
    assert_eq!(fresh.message_id, "m2@team.example");

    // The editor opened on `fresh`; delivery claimed it meanwhile: the edit is refused.
    assert!(claim(&store, &fresh, t(3)).unwrap());
    let again = message::build(&draft, "m3@team.example", t(4)).unwrap();
    let err = requeue_edited(&store, &fresh, &draft, &again, t(4)).unwrap_err();
    assert!(
        matches!(
            err,
            OutboxError::ChangedWhileEditing {
                state: OutboxState::Sending,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("was not applied, and none of it was sent: while you edited it, a delivery")
            && err.to_string().contains("is sending it as it stood"),
        "{err}"
    );
    // A claim by a delivery that read the row before that one's: taken up, as it is.
    let why = changed::before_claim(&fresh, Some(&get(&store, id).unwrap()));
    assert!(why.contains("was just taken up by a delivery"), "{why}");
    assert_eq!(get(&store, id).unwrap().message_id, "m2@team.example");
    assert_eq!(raw(&store, id).unwrap(), rebuilt.raw);
}
