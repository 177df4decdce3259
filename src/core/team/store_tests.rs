//! The team log on real SQLite stores: triage actions queue events, folding them into
//! another desk's store changes its reports, conflicts reach both audit logs.

use chrono::{TimeZone, Utc};

use super::local::{self, Fetched, FoldSummary};
use super::replying;
use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::model::Class;
use crate::core::store::{MailboxState, Store};
use crate::core::triage::{self, Request};

const ADA: &str = "ada@example.org";
const BO: &str = "bo@example.org";

fn mail(n: std::ops::Range<usize>) -> Vec<RawIncoming> {
    n.map(|i| RawIncoming {
        raw: format!(
            "Message-ID: <r{i}@x>\nFrom: r{i}@reporter.example\nSubject: report {i}\n\
             Date: Mon, 2 Mar 2026 10:00:00 +0000\n\nbody {i}\n"
        )
        .into_bytes(),
        received_at: None,
        origin: Origin::File,
    })
    .collect()
}

pub(super) fn desk(reports: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, mail(0..reports), None)
        .unwrap();
    (dir, store)
}

fn req(actor: &str) -> Request {
    Request::new(actor).at(Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap())
}

/// Pushes `from`'s queue and folds it into `to`, as the events folder would.
pub(super) fn ship(from: &Store, to: &mut Store) -> FoldSummary {
    let fetched: Vec<Fetched> = local::queued(from)
        .unwrap()
        .into_iter()
        .map(|(seq, ev)| Fetched {
            uid: seq as u32,
            event: Ok(ev),
            by_mail: false,
        })
        .collect();
    let cursor = MailboxState {
        uidvalidity: 1,
        last_uid: fetched.len() as u32,
    };
    // A minute after the events' own time, on the receiving desk's clock.
    let arrived = Utc.with_ymd_and_hms(2026, 3, 3, 9, 1, 0).unwrap();
    local::fold_arriving(
        to,
        "secdesk",
        &fetched,
        cursor,
        &[ADA.into(), BO.into()],
        arrived,
    )
    .unwrap()
}

fn row(store: &Store, id: i64) -> (String, Option<String>, Option<String>, bool) {
    store
        .conn()
        .query_row(
            "SELECT state, coordinator, class, class_confirmed FROM reports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

fn conflicts(store: &Store) -> Vec<String> {
    let mut stmt = store
        .conn()
        .prepare("SELECT detail FROM events WHERE kind = 'conflict' ORDER BY detail")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn another_desk_sees_the_assignment_and_the_class_once() {
    let (_a, mut a) = desk(2);
    let (_b, mut b) = desk(2);
    triage::take(&mut a, &req(ADA), 1).unwrap();
    triage::mark(&mut a, &req(ADA), 1, Class::Valid, None).unwrap();
    assert_eq!(
        local::queued(&a).unwrap().len(),
        3,
        "coordinator, class, state"
    );

    let summary = ship(&a, &mut b);
    assert_eq!(summary.applied, 3);
    assert_eq!(row(&b, 1), row(&a, 1));
    assert_eq!(row(&b, 1).1.as_deref(), Some(ADA));
    // Bo's classifier learned the class Ada confirmed.
    let label: String = b
        .conn()
        .query_row("SELECT label FROM classify_trained", [], |r| r.get(0))
        .unwrap();
    assert_eq!(label, "valid");
    // Ada's change is in Bo's audit log under Ada's name.
    let actor: String = b
        .conn()
        .query_row(
            "SELECT actor FROM events WHERE kind = 'coordinator' AND report_id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, ADA);
    // The same events again change nothing.
    let again = ship(&a, &mut b);
    assert_eq!((again.applied, again.already_known), (0, 3));
    // Folding remote events queues nothing to push back.
    assert!(local::queued(&b).unwrap().is_empty());
}

#[test]
fn concurrent_changes_agree_and_the_conflict_is_in_both_audit_logs() {
    let (_a, mut a) = desk(1);
    let (_b, mut b) = desk(1);
    triage::take(&mut a, &req(ADA), 1).unwrap();
    triage::take(&mut b, &req(BO), 1).unwrap();
    let at_b = ship(&a, &mut b);
    let at_a = ship(&b, &mut a);
    // Ada is told her claim lost (her `take` had said it was hers); Bo's stands.
    let told: Vec<String> = at_a.lost_by(ADA).map(|o| o.line()).collect();
    assert_eq!(
        told,
        ["report #1: bo's change of its coordinator (who takes it), made at the same time as yours, won on every desk; yours is in its log as a conflict (secdesk log 1)"]
    );
    assert_eq!(at_b.lost_by(BO).count(), 0);
    assert_eq!(
        at_b.lost_by(ADA).count(),
        0,
        "ada's event lost at bo's: nothing replaced"
    );
    assert_eq!(row(&a, 1), row(&b, 1));
    assert_eq!(
        row(&a, 1).1.as_deref(),
        Some(BO),
        "(lamport, actor): bo > ada"
    );
    let expected = vec![
        "bo set coordinator bo@example.org; ada's coordinator ada@example.org, made at the same time, lost"
            .to_string(),
    ];
    assert_eq!(conflicts(&a), expected);
    assert_eq!(conflicts(&b), expected);
}

#[test]
fn non_members_are_counted_and_kept_until_they_are_members() {
    let (_a, mut a) = desk(1);
    let (_b, mut b) = desk(1);
    triage::take(&mut a, &req("eve@evil.example"), 1).unwrap();
    let summary = ship(&a, &mut b);
    assert_eq!(summary.applied, 0);
    assert_eq!(summary.non_members.get("eve@evil.example"), Some(&1));
    assert_eq!(row(&b, 1).1, None);
    assert_eq!(
        local::catch_up(&mut b, &[ADA.into(), BO.into()]).unwrap(),
        0
    );
    assert_eq!(row(&b, 1).1, None);
    // Eve is added to [team] members: her kept event applies at the next fold, once.
    let members = [ADA.into(), BO.into(), "Eve@Evil.Example".into()];
    assert_eq!(local::catch_up(&mut b, &members).unwrap(), 1);
    assert_eq!(row(&b, 1).1.as_deref(), Some("eve@evil.example"));
    assert_eq!(local::catch_up(&mut b, &members).unwrap(), 0);
}

#[test]
fn events_wait_for_their_reports_mail() {
    let (_a, mut a) = desk(2);
    let (_b, mut b) = desk(1);
    triage::take(&mut a, &req(ADA), 2).unwrap();
    let summary = ship(&a, &mut b);
    assert_eq!(summary.caught_up, 0);
    // Desk B's sync brings report 2's mail; the waiting assignment applies then.
    Ingestor::without_classifier()
        .ingest_batch(&mut b, mail(1..2), None)
        .unwrap();
    assert_eq!(
        local::catch_up(&mut b, &[ADA.into(), BO.into()]).unwrap(),
        1
    );
    assert_eq!(row(&b, 2).1.as_deref(), Some(ADA));
}

/// Ada marks report r1 a duplicate of r0; desk B has r1's mail but not yet r0's. The
/// duplicate cannot name its original there until r0 comes; then it does, as on Ada's desk
/// (it stayed a duplicate of nothing, and the desks disagreed for good).
#[test]
fn a_duplicate_is_linked_when_its_originals_mail_comes_later() {
    let (_a, mut a) = desk(2);
    let (_b, mut b) = desk(0);
    Ingestor::without_classifier()
        .ingest_batch(&mut b, mail(1..2), None)
        .unwrap();
    triage::mark_duplicate(&mut a, &req(ADA), 2, 1).unwrap();
    ship(&a, &mut b);
    assert_eq!(row(&b, 1).0, "duplicate");
    assert_eq!(dup_of(&b, 1), None, "r0 is not on desk B yet");
    Ingestor::without_classifier()
        .ingest_batch(&mut b, mail(0..1), None)
        .unwrap();
    local::catch_up(&mut b, &[ADA.into(), BO.into()]).unwrap();
    assert_eq!(row(&b, 1).0, "duplicate");
    assert_eq!(dup_of(&b, 1), Some(2), "r1 names r0, report 2 on desk B");
}

#[test]
fn a_reply_in_progress_shows_on_the_other_desk_until_it_ends() {
    let (_a, mut a) = desk(1);
    let (_b, mut b) = desk(1);
    let t0 = Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
    replying::start(&mut a, ADA, 1, t0).unwrap();
    ship(&a, &mut b);
    let now = t0 + chrono::Duration::minutes(4);
    let r = replying::other_replying(&b, BO, 1, now).unwrap().unwrap();
    assert_eq!((r.by.as_str(), r.minutes(now)), (ADA, 4));
    // Thirty minutes on, a start without an end no longer counts.
    let later = t0 + chrono::Duration::minutes(31);
    assert_eq!(replying::replying(b.conn(), 1, later).unwrap(), None);
    replying::end(&mut a, ADA, 1, now, replying::ReplyEnd::Sent).unwrap();
    ship(&a, &mut b);
    assert_eq!(replying::replying(b.conn(), 1, now).unwrap(), None);
}

/// Everything a store holds of the team's shared state, by report key.
fn snapshot(store: &Store) -> Vec<String> {
    let conn = store.conn();
    let mut out = Vec::new();
    for sql in [
        "SELECT 'winner ' || report_key || ' ' || register || ' ' || event_id FROM team_registers",
        "SELECT 'conflict ' || text FROM team_conflicts",
        "SELECT 'audit ' || m.message_id || ' ' || e.detail FROM events e
         JOIN messages m ON m.report_id = e.report_id WHERE e.kind = 'conflict'",
        "SELECT 'report ' || m.message_id || ' ' || r.state || ' ' ||
                coalesce(r.invalid_reason, '-') || ' ' || coalesce(r.class, '-') || ' ' ||
                r.class_confirmed || ' ' || coalesce(r.coordinator, '-') || ' ' ||
                coalesce((SELECT d.message_id FROM messages d WHERE d.report_id = r.duplicate_of), '-')
         FROM reports r JOIN messages m ON m.report_id = r.id",
        "SELECT 'note ' || m.message_id || ' ' || n.author || ' ' || n.text FROM notes n
         JOIN messages m ON m.report_id = n.report_id",
        "SELECT 'clock ' || lamport FROM team_clock",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out.sort();
    out
}

#[test]
fn sqlite_desks_converge_like_the_simulated_ones() {
    use super::tests::{arrival, fold as sim_fold, make_events, Desk, Rng, ACTORS};
    let members: Vec<String> = ACTORS.iter().map(|a| a.to_string()).collect();
    for seed in 1..=10 {
        let mut rng = Rng::seeded(seed);
        let mut sim = vec![Desk::default(), Desk::default(), Desk::default()];
        let server = make_events(&mut rng, &mut sim);
        let mut expected = Desk::default();
        sim_fold(&mut expected, &server);
        let expected_conflicts: Vec<String> = {
            let mut c: Vec<String> = expected
                .visible()
                .1
                .iter()
                .map(|t| format!("conflict {t}"))
                .collect();
            c.sort();
            c
        };
        let mut snapshots = Vec::new();
        for _ in 0..3 {
            let (_dir, mut store) = desk(0);
            Ingestor::without_classifier()
                .ingest_batch(&mut store, mail(1..4), None)
                .unwrap();
            let all = arrival(&mut rng, &server);
            let mut uid = 0;
            let mut rest = all.as_slice();
            while !rest.is_empty() {
                let n = (1 + rng.below(7)).min(rest.len());
                let (window, later) = rest.split_at(n);
                rest = later;
                let fetched: Vec<Fetched> = window
                    .iter()
                    .map(|ev| {
                        uid += 1;
                        Fetched {
                            uid,
                            event: Ok(ev.clone()),
                            by_mail: false,
                        }
                    })
                    .collect();
                let cursor = MailboxState {
                    uidvalidity: 1,
                    last_uid: uid,
                };
                local::fold(&mut store, "secdesk", &fetched, cursor, &members).unwrap();
            }
            let snap = snapshot(&store);
            let conflicts: Vec<String> = snap
                .iter()
                .filter(|l| l.starts_with("conflict "))
                .cloned()
                .collect();
            assert_eq!(
                conflicts, expected_conflicts,
                "seed {seed}: conflicts differ from the model"
            );
            snapshots.push(snap);
        }
        assert_eq!(snapshots[0], snapshots[1], "seed {seed}");
        assert_eq!(snapshots[0], snapshots[2], "seed {seed}");
    }
}

#[test]
fn advisory_fields_reach_the_other_desk() {
    use crate::core::advisory::{self, Key};
    let (_a, mut a) = desk(1);
    let (_b, mut b) = desk(1);
    let cve = serde_json::json!("CVE-2026-1234");
    advisory::set_field_json(&mut a, &req(ADA), 1, Key::Cve, &cve).unwrap();
    let queued = local::queued(&a).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1.kind, "advisory");
    ship(&a, &mut b);
    let theirs = advisory::load(b.conn(), 1).unwrap();
    assert_eq!(theirs.field_json(Key::Cve), cve);
    let (actor, after): (String, String) = b
        .conn()
        .query_row(
            "SELECT actor, after FROM events WHERE kind = 'advisory:cve'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((actor.as_str(), after.as_str()), (ADA, "\"CVE-2026-1234\""));
    assert!(
        local::queued(&b).unwrap().is_empty(),
        "folding queues nothing"
    );
}

/// Every arrival order of Ada's spam on #1 and Bo's "#2 duplicate of #1" (each event folded
/// on its own) leaves a third desk with #2 held open and the same entry; Ada's reopening of
/// #1, arriving after, links #2 to #1 again.
#[test]
fn a_duplicate_of_spam_is_held_open_whatever_the_order_of_arrival() {
    let (_a, mut a) = desk(2);
    let (_b, mut b) = desk(2);
    triage::mark(&mut a, &req(ADA), 1, Class::Spam, None).unwrap();
    triage::mark_duplicate(&mut b, &req(BO), 2, 1).unwrap();
    let first: Vec<_> = local::queued(&a)
        .unwrap()
        .into_iter()
        .chain(local::queued(&b).unwrap())
        .map(|(_, ev)| ev)
        .collect();
    assert_eq!(first.len(), 4, "class and state; state and link");
    triage::mark(&mut a, &req(ADA), 1, Class::Valid, None).unwrap();
    let reopen: Vec<_> = local::queued(&a)
        .unwrap()
        .into_iter()
        .skip(2)
        .map(|(_, ev)| ev)
        .collect();
    let fold_one = |to: &mut Store, ev: &super::Event| {
        let fetched = [Fetched {
            uid: 1,
            event: Ok(ev.clone()),
            by_mail: false,
        }];
        let cursor = MailboxState {
            uidvalidity: 1,
            last_uid: 1,
        };
        local::fold(to, "secdesk", &fetched, cursor, &[ADA.into(), BO.into()]).unwrap();
    };
    let mut seen = Vec::new();
    for order in permutations(first.len()) {
        let (_c, mut c) = desk(2);
        for &i in &order {
            fold_one(&mut c, &first[i]);
        }
        let held = (row(&c, 1).0, row(&c, 2).0, dup_of(&c, 2), conflicts(&c));
        assert_eq!(held.0, "spam", "{order:?}");
        assert_eq!(held.1, "acknowledged", "{order:?}");
        assert_eq!(held.2, None, "{order:?}");
        assert_eq!(held.3.len(), 1, "{order:?}: {:?}", held.3);
        assert!(held.3[0].starts_with("bo marked this a duplicate of 'report 0'"));
        seen.push(held);
        for ev in &reopen {
            fold_one(&mut c, ev);
        }
        assert_eq!(row(&c, 2).0, "duplicate", "{order:?}");
        assert_eq!(dup_of(&c, 2), Some(1), "{order:?}");
        assert_eq!(conflicts(&c), Vec::<String>::new(), "{order:?}");
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "every order ends the same");
}

fn dup_of(store: &Store, id: i64) -> Option<i64> {
    store
        .conn()
        .query_row(
            "SELECT duplicate_of FROM reports WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

/// Every order of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

/// When report `id` was first answered, as `store`'s clocks count it.
fn responded_at(store: &Store, id: i64) -> Option<chrono::DateTime<Utc>> {
    crate::core::clocks::milestones(store.conn(), Some(id))
        .unwrap()
        .remove(&id)
        .and_then(|m| m.responded)
}

/// A response recorded on one desk (`secdesk responded`) stopped the acknowledge clock there
/// only: the other desk kept the report due, then overdue, inviting a second answer. Now it
/// stops on both, and its undo starts it again on both.
#[test]
fn a_response_on_one_desk_stops_the_clock_on_the_other_and_its_undo_restarts_it() {
    let (_a_dir, mut a) = desk(2);
    let (_b_dir, mut b) = desk(2);
    let applied = triage::responded(&mut a, &req(ADA), 1, triage::Via::Phone).unwrap();
    assert!(responded_at(&a, 1).is_some());
    ship(&a, &mut b);
    assert_eq!(responded_at(&b, 1), responded_at(&a, 1), "bo's desk");
    assert_eq!(responded_at(&b, 2), None, "only that report");

    triage::revert(&mut a, &req(ADA), 1, &applied.undo).unwrap();
    assert_eq!(responded_at(&a, 1), None);
    ship(&a, &mut b);
    assert_eq!(responded_at(&b, 1), None, "the undo reaches bo's desk");
}

/// A reply delivered to the reporter from one desk counts as the first response on the other
/// (its `reply-sent` only said who was answering): bo's desk shows ada's reply in the log
/// and the clock met.
#[test]
fn a_reply_delivered_on_one_desk_is_the_first_response_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (_a_dir, mut a) = desk(1);
    let (_b_dir, mut b) = desk(1);
    let config = crate::core::config::Config::parse(
        &format!("[identity]\nname = \"Ada\"\nemail = \"{ADA}\"\n"),
        &dir.path().join("config.toml"),
    )
    .unwrap();
    let draft = crate::core::reply::compose(&config, &a, 1, Some("acknowledge")).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
    let built = crate::core::reply::message::build(&draft, "m1@example.org", at).unwrap();
    let id = crate::core::outbox::queue(&a, &draft, &built, ADA, at).unwrap();
    let due = crate::core::outbox::due(&a, at, false, at - chrono::Duration::minutes(10)).unwrap();
    assert!(crate::core::outbox::claim(&a, &due[0], at).unwrap());
    crate::core::outbox::record_sent(&mut a, id, at).unwrap();
    assert_eq!(responded_at(&a, 1), Some(at));

    ship(&a, &mut b);
    assert_eq!(
        responded_at(&b, 1),
        Some(at),
        "bo's desk counts ada's reply"
    );
    let replies: i64 = b
        .conn()
        .query_row(
            "SELECT count(*) FROM events WHERE report_id = 1 AND kind = 'reply'
             AND actor = ?1 AND after = 'm1@example.org'",
            [ADA],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(replies, 1, "ada's reply in bo's log, once");
    ship(&a, &mut b);
    let again: i64 = b
        .conn()
        .query_row(
            "SELECT count(*) FROM events WHERE report_id = 1 AND kind = 'reply'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(again, 1, "shipped twice, applied once");
}

/// A triage state taken back (the desk's `u`) stays taken back on the other desk: it applied
/// the undo as a plain state change, so its triage clock still counted the mistaken one.
#[test]
fn a_state_taken_back_is_taken_back_on_the_other_desks_clock() {
    let (_a_dir, mut a) = desk(1);
    let (_b_dir, mut b) = desk(1);
    let triaged = |s: &Store| {
        crate::core::clocks::milestones(s.conn(), Some(1))
            .unwrap()
            .remove(&1)
            .and_then(|m| m.triaged)
    };
    let applied = triage::set_state(
        &mut a,
        &req(ADA),
        1,
        crate::core::model::ReportState::Triaged,
        None,
        None,
    )
    .unwrap();
    ship(&a, &mut b);
    assert!(triaged(&b).is_some());
    triage::revert(&mut a, &req(ADA), 1, &applied.undo).unwrap();
    ship(&a, &mut b);
    assert_eq!(triaged(&a), None);
    assert_eq!(triaged(&b), None, "bo's desk");
}

/// The copy of a member's reply that reaches the team mailbox on Cc joins the report's
/// thread on the other desk: it was shown as "MAIL from the reporter", under the member's
/// address. It is the team's now, neither the reporter's nor another sender's.
#[test]
fn a_members_reply_copy_is_shown_as_the_teams_not_the_reporters() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::core::config::Config::parse(
        &format!(
            "[identity]\nname = \"Bo\"\nemail = \"{BO}\"\n\n[team]\naddress = \"security@example.org\"\n\
             members = [{{ name = \"Ada\", email = \"{ADA}\" }}, {{ name = \"Bo\", email = \"{BO}\" }}]\n"
        ),
        &dir.path().join("config.toml"),
    )
    .unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let copy = format!(
        "Message-ID: <m1@example.org>\nFrom: Ada <{ADA}>\nTo: r0@reporter.example\n\
         Cc: security@example.org\nIn-Reply-To: <r0@x>\nSubject: Re: report 0\n\
         Date: Mon, 2 Mar 2026 11:00:00 +0000\n\nThanks, we are looking.\n"
    );
    let mut incoming = mail(0..1);
    incoming.push(RawIncoming {
        raw: copy.into_bytes(),
        received_at: None,
        origin: Origin::File,
    });
    Ingestor::without_classifier()
        .with_config(&config)
        .ingest_batch(&mut store, incoming, None)
        .unwrap();
    let d = triage::report_detail(&store, 1, &config.clocks, Utc::now()).unwrap();
    let kinds: Vec<(bool, bool)> = d
        .messages
        .iter()
        .map(|m| (m.from_team, m.another_sender))
        .collect();
    assert_eq!(kinds, [(false, false), (true, false)], "{:?}", d.messages);
}
