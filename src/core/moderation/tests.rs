use chrono::TimeZone;

use super::*;
use crate::core::ingest::{Ingestor, RawIncoming};
use crate::core::model::Outcome;
use crate::core::triage;

const RAW: &str = "From: a@example.net\nSubject: WIN money now\nMessage-ID: <held1@example.net>\n\nclaim your prize\n";

fn post() -> HeldPost {
    HeldPost {
        list: "security@example.org".into(),
        request_id: 4,
        message_id: HeldPost::normalize_message_id("<held1@example.net>"),
        sender: "a@example.net".into(),
        subject: "WIN money now".into(),
        reason: "The message is not from a list member".into(),
        hold_date: HeldPost::parse_hold_date("2026-12-01T10:00:00.5"),
        raw: RAW.as_bytes().to_vec(),
    }
}

fn verdict(class: Class, outcome: Outcome) -> Verdict {
    Verdict {
        class,
        outcome,
        spam_score: 0.5,
        confidence: 0.5,
        reasons: vec![],
    }
}

fn decision<'a>(p: &'a HeldPost, action: Action, hour: u32) -> Decision<'a> {
    Decision {
        post: p,
        action,
        moderator: "ada@example.org",
        at: Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap(),
        comment: (action == Action::Reject).then_some("not a security report"),
        verdict: None,
        auth: None,
        train: true,
    }
}

fn trained_label(store: &Store) -> Option<String> {
    store
        .conn()
        .query_row(
            "SELECT label FROM classify_trained WHERE content_hash = ?1",
            [content_hash(RAW.as_bytes())],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
}

#[test]
fn accepted_post_that_arrives_later_carries_its_moderation_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let p = post();
    let r = record(&mut store, &decision(&p, Action::Defer, 11)).unwrap();
    assert_eq!(r, Recorded::default());
    let r = record(&mut store, &decision(&p, Action::Accept, 12)).unwrap();
    assert_eq!((r.report, r.trained), (None, Some("ham")));
    assert_eq!(trained_label(&store).as_deref(), Some("ham"));

    // The list delivers it: a changed copy (Mailman's headers), the same Message-ID.
    let delivered = format!(
        "List-Id: <security.example.org>\n{}",
        RAW.replace("Subject: ", "Subject: [Security] ")
    );
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![RawIncoming::file(delivered)], None)
        .unwrap();
    let log = triage::events(&store, 1).unwrap();
    let moderation: Vec<_> = log.iter().filter(|e| e.kind == "moderation").collect();
    assert_eq!(moderation.len(), 2, "{log:?}");
    assert_eq!(moderation[0].after.as_deref(), Some("defer"));
    assert_eq!(moderation[1].after.as_deref(), Some("accept"));
    assert_eq!(moderation[1].actor, "ada@example.org");
    assert_eq!(moderation[1].at, "2026-12-01T12:00:00Z");
    assert_eq!(
        moderation[1].detail.as_deref(),
        Some("list security@example.org, request 4")
    );
    // Attached once: a second copy of the message adds nothing.
    let again = RAW.replace("claim", "really claim");
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![RawIncoming::file(again)], None)
        .unwrap();
    let n = triage::events(&store, 1)
        .unwrap()
        .iter()
        .filter(|e| e.kind == "moderation")
        .count();
    assert_eq!(n, 2);
    assert_eq!(history(store.conn(), "held1@example.net").unwrap().len(), 2);
}

#[test]
fn action_on_a_post_already_in_the_store_goes_into_its_log_now() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![RawIncoming::file(RAW)], None)
        .unwrap();
    let p = post();
    let r = record(&mut store, &decision(&p, Action::Reject, 12)).unwrap();
    assert_eq!((r.report, r.trained), (Some(1), None));
    let log = triage::events(&store, 1).unwrap();
    let e = log.iter().find(|e| e.kind == "moderation").unwrap();
    assert_eq!(
        e.detail.as_deref(),
        Some("list security@example.org, request 4: not a security report")
    );
}

#[test]
fn discard_trains_spam_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let p = post();
    let mut d = decision(&p, Action::Discard, 12);
    d.train = false;
    assert_eq!(record(&mut store, &d).unwrap().trained, None);
    assert_eq!(trained_label(&store), None);
    d.train = true;
    assert_eq!(record(&mut store, &d).unwrap().trained, Some("spam"));
    assert_eq!(trained_label(&store).as_deref(), Some("spam"));
}

#[test]
fn sweep_takes_only_posts_classified_spam() {
    let p = post();
    let posts: Vec<ClassifiedPost> = [
        (Class::Spam, Outcome::Spam),
        (Class::Valid, Outcome::Ham),
        (Class::Invalid, Outcome::Unsure),
        (Class::Valid, Outcome::Unsure),
        (Class::Spam, Outcome::Spam),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (c, o))| ClassifiedPost {
        post: HeldPost {
            request_id: i as u64,
            ..p.clone()
        },
        verdict: verdict(c, o),
        auth: Default::default(),
        doubt: None,
    })
    .collect();
    let ids: Vec<u64> = spam_sweep(&posts)
        .iter()
        .map(|c| c.post.request_id)
        .collect();
    assert_eq!(ids, [0, 4]);
}

#[test]
fn moderation_figures_count_per_moderator_and_time_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let p = post();
    for (action, hour) in [
        (Action::Defer, 11),
        (Action::Discard, 12),
        (Action::Accept, 14),
    ] {
        record(&mut store, &decision(&p, action, hour)).unwrap();
    }
    let s = stats::compute(&store, None, None).unwrap();
    assert_eq!(s.actions["defer"], 1);
    assert_eq!(s.actions["reject"], 0);
    let ada = &s.cleared_by["ada@example.org"];
    assert_eq!((ada.accepted, ada.discarded, ada.rejected), (1, 1, 0));
    // Held at 10:00:00.5, cleared at 12:00 and 14:00 (defer does not clear).
    assert_eq!(s.time_held.count, 2);
    assert_eq!(s.time_held.median_hours, Some(3.0));
    let late = Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap();
    let s = stats::compute(&store, Some(late), None).unwrap();
    assert_eq!(s.actions["accept"], 1);
    assert_eq!(s.actions["discard"], 0);
}

#[test]
fn mailman_dates_and_ids_are_read() {
    assert_eq!(
        HeldPost::parse_hold_date("2026-12-01T18:10:08.698644")
            .map(timestamp)
            .as_deref(),
        Some("2026-12-01T18:10:08Z")
    );
    assert_eq!(
        HeldPost::parse_hold_date("2026-12-01T18:10:08+01:00")
            .map(timestamp)
            .as_deref(),
        Some("2026-12-01T17:10:08Z")
    );
    assert_eq!(HeldPost::parse_hold_date("yesterday"), None);
    assert_eq!(
        HeldPost::normalize_message_id(" <a@b> ").as_deref(),
        Some("a@b")
    );
    assert_eq!("reject".parse::<Action>(), Ok(Action::Reject));
    assert!("approve"
        .parse::<Action>()
        .unwrap_err()
        .contains("accept, discard"));
}

/// Accepting a held post teaches the classifier the sender authentication the listing
/// weighed, not the parser's own reading: a pass the sender wrote (unverified, no `[sync]
/// authserv_id`) must not become evidence that mail with such a pass is a report.
#[test]
fn accepting_a_post_does_not_teach_a_pass_the_listing_did_not_weigh() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let c = crate::core::classify::load_classifier(&mut store, None).unwrap();
    let mut p = post();
    p.raw = format!("Authentication-Results: mx.example.org; dkim=pass; dmarc=pass\n{RAW}")
        .into_bytes();
    let taught = |store: &mut Store, trusted: &[String], p: &HeldPost| {
        let seen = classify(&c, trusted, vec![p.clone()]).remove(0);
        let mut d = decision(p, Action::Accept, 10);
        d.verdict = Some(&seen.verdict);
        d.auth = Some(&seen.auth);
        record(store, &d).unwrap();
        let model = crate::core::classify::storage::load_model(store).unwrap();
        ["auth:dkim:pass", "auth:dmarc:pass"].map(|t| model.tokens.contains_key(t))
    };
    assert_eq!(taught(&mut store, &[], &p), [false, false]);
    // With the server named, its pass is the server's and is taught.
    p.raw.extend_from_slice(b"\nanother copy\n");
    assert_eq!(
        taught(&mut store, &["mx.example.org".into()], &p),
        [true, true]
    );
}

/// A real report held under the Message-ID of a spam held before it: Mailman lists it with
/// the spam's text. It must be left unsure with the reason (never swept), the spam too (the
/// two share one text), and discarding the report must teach nothing.
#[test]
fn a_post_listed_with_another_posts_text_is_unsure_never_swept_nor_learned() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let c = crate::core::classify::load_classifier(&mut store, None).unwrap();
    let spam_text = "From: Pharma <deals@pharma.example>\nSubject: Cheap viagra cialis pills, best price, order now\nMessage-ID: <report-2026@research.example>\n\nBuy cheap viagra and cialis online now! Best price, no prescription, discount offer, click here to order.\n";
    let spam = HeldPost {
        request_id: 1,
        message_id: Some("report-2026@research.example".into()),
        sender: "deals@pharma.example".into(),
        subject: "Cheap viagra cialis pills, best price, order now".into(),
        raw: spam_text.as_bytes().to_vec(),
        ..post()
    };
    let report = HeldPost {
        request_id: 2,
        sender: "alice@research.example".into(),
        subject: "Heap overflow in the tarfile module (CVE request)".into(),
        ..spam.clone()
    };
    let listed = classify(&c, &[], vec![spam.clone(), report.clone()]);
    for seen in &listed {
        assert_eq!(seen.verdict.outcome, Outcome::Unsure, "{seen:?}");
        assert_ne!(seen.verdict.class, Class::Spam, "{seen:?}");
        assert!(!is_sweepable_spam(seen));
    }
    assert!(matches!(listed[0].doubt, Some(Doubt::SharedMessageId(_))));
    assert!(listed[0].verdict.reasons[0]
        .starts_with("request 2 of security@example.org held under the same Message-ID"));
    assert!(matches!(listed[1].doubt, Some(Doubt::OtherText(_))));
    assert!(
        listed[1].verdict.reasons[0]
            .contains("its From is deals@pharma.example, not alice@research.example"),
        "{:?}",
        listed[1].verdict.reasons
    );
    assert!(spam_sweep(&listed).is_empty());
    // Alone (as `held discard ID` classifies it), the report is still in doubt, and a
    // discard of it teaches nothing, whatever the caller asked.
    let alone = classify(&c, &[], vec![report.clone()]).remove(0);
    assert!(alone.doubt.is_some());
    let d = decision(&report, Action::Discard, 12);
    assert_eq!(record(&mut store, &d).unwrap().trained, None);
    // The spam listed alone is its own text, and is judged.
    let own = classify(&c, &[], vec![spam]).remove(0);
    assert_eq!(own.doubt, None);
}
