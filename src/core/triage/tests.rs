//! Actions, their audit events, the stale-view check, undo and the needs-info return.

use super::*;
use crate::core::config::Config;
use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::store::Store;
use chrono::TimeZone;

const ADA: &str = "ada@example.org";
const BOB: &str = "bob@example.org";

fn store(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let batch = (0..n)
        .map(|i| RawIncoming {
            raw: format!(
                "Message-ID: <r{i}@x>\nFrom: r{i}@reporter.example\nSubject: report {i}\n\
                 Date: Mon, 2 Mar 2026 10:00:00 +0000\n\nbody {i}\n"
            )
            .into_bytes(),
            received_at: None,
            origin: Origin::File,
        })
        .collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    (dir, store)
}

fn config() -> Config {
    Config::parse(
        r#"
[identity]
name = "Ada"
email = "ada@example.org"
[team]
members = [{ name = "Bob", email = "bob@example.org" }]
"#,
        std::path::Path::new("c.toml"),
    )
    .unwrap()
}

fn ada() -> Request {
    Request::new(ADA).at(Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap())
}

fn detail(store: &Store, id: i64) -> ReportDetail {
    report_detail(store, id, &Default::default(), Utc::now()).unwrap()
}

fn kinds(store: &Store, id: i64) -> Vec<(String, Option<String>, Option<String>)> {
    events(store, id)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.before, e.after))
        .collect()
}

fn ev(
    kind: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (kind.into(), before.map(Into::into), after.map(Into::into))
}

#[test]
fn state_change_is_recorded_with_actor_and_bumps_version() {
    let (_d, mut s) = store(1);
    let a = set_state(&mut s, &ada(), 1, ReportState::Acknowledged, None, None).unwrap();
    assert_eq!(a.before.state, ReportState::New);
    assert_eq!(a.after.state, ReportState::Acknowledged);
    assert_eq!(a.version, 1);
    let e = events(&s, 1).unwrap();
    let last = e.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.at.as_str(), last.kind.as_str()),
        (ADA, "2026-03-03T09:00:00Z", "state")
    );
    assert_eq!(detail(&s, 1).version, 1);
}

#[test]
fn refused_transition_lists_what_is_allowed_and_changes_nothing() {
    let (_d, mut s) = store(1);
    let err = set_state(&mut s, &ada(), 1, ReportState::Fixing, None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("report #1 cannot move from new to fixing"),
        "{err}"
    );
    assert!(
        err.contains("acknowledged, triaged, spam, invalid, duplicate, resolved"),
        "{err}"
    );
    assert_eq!(detail(&s, 1).state, ReportState::New);
    assert_eq!(detail(&s, 1).version, 0);
}

#[test]
fn invalid_needs_a_reason_and_duplicate_an_original() {
    let (_d, mut s) = store(1);
    let err = set_state(&mut s, &ada(), 1, ReportState::Invalid, None, None).unwrap_err();
    assert!(err.to_string().contains("third-party"), "{err}");
    let err = set_state(&mut s, &ada(), 1, ReportState::Duplicate, None, None).unwrap_err();
    assert!(err.to_string().contains("--of"), "{err}");
    let ok = set_state(
        &mut s,
        &ada(),
        1,
        ReportState::Invalid,
        Some(InvalidReason::ThirdParty),
        Some("upstream's bug"),
    )
    .unwrap();
    assert_eq!(ok.after.invalid_reason, Some(InvalidReason::ThirdParty));
    let d = detail(&s, 1);
    assert_eq!(
        d.class,
        Some(Class::Invalid),
        "closing as invalid confirms the class"
    );
    assert!(d.class_confirmed);
    assert_eq!(d.notes[0].text, "upstream's bug");
}

#[test]
fn mark_spam_closes_and_mark_valid_acknowledges() {
    let (_d, mut s) = store(2);
    let a = mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    assert_eq!(a.after.state.state, ReportState::Spam);
    assert_eq!(
        kinds(&s, 1)[1..],
        [
            ev("class", None, Some("spam")),
            ev("state", Some("new"), Some("spam"))
        ]
    );
    let v = mark(&mut s, &ada(), 2, Class::Valid, None).unwrap();
    assert_eq!(v.after.state.state, ReportState::Acknowledged);
    set_state(&mut s, &ada(), 2, ReportState::Triaged, None, None).unwrap();
    let again = mark(&mut s, &ada(), 2, Class::Valid, None).unwrap();
    assert_eq!(
        again.after.state.state,
        ReportState::Triaged,
        "valid leaves triaged alone"
    );
    assert!(!again.changed());
}

#[test]
fn mark_with_a_note_is_one_change_and_other_takes_the_note_as_its_words() {
    let (_d, mut s) = store(2);
    let refused = crate::core::triage::mark_noted(
        &mut s,
        &ada(),
        1,
        Class::Invalid,
        Some(InvalidReason::Other),
        Some("  "),
    )
    .unwrap_err();
    assert!(
        matches!(refused, TriageError::OtherReasonNeedsText { id: 1 }),
        "{refused}"
    );
    let a = crate::core::triage::mark_noted(
        &mut s,
        &ada(),
        1,
        Class::Invalid,
        Some(InvalidReason::Other),
        Some("a public CVE"),
    )
    .unwrap();
    assert_eq!(a.after.state.invalid_reason, Some(InvalidReason::Other));
    assert_eq!(
        a.version, 1,
        "the class, the state and the note: one version"
    );
    let d = detail(&s, 1);
    assert!(d.class_confirmed);
    assert_eq!(d.notes[0].text, "a public CVE");
    // From a stale view nothing is written, the note neither.
    let stale = ada().if_version(Some(0));
    crate::core::triage::mark_noted(&mut s, &stale, 1, Class::Spam, None, Some("late"))
        .unwrap_err();
    assert_eq!(detail(&s, 1).notes.len(), 1);
    // A note alone, with nothing else to change, still makes a change.
    crate::core::triage::mark(&mut s, &ada(), 2, Class::Valid, None).unwrap();
    let n = crate::core::triage::mark_noted(&mut s, &ada(), 2, Class::Valid, None, Some("seen"))
        .unwrap();
    assert!(!n.changed());
    assert_eq!(n.version, 2);
    assert_eq!(detail(&s, 2).notes[0].text, "seen");
}

#[test]
fn mark_invalid_defaults_its_reason() {
    let (_d, mut s) = store(1);
    let a = mark(&mut s, &ada(), 1, Class::Invalid, None).unwrap();
    assert_eq!(
        a.after.state.invalid_reason,
        Some(InvalidReason::NotAVulnerability)
    );
}

#[test]
fn stale_view_is_refused_naming_who_changed_it() {
    let (_d, mut s) = store(1);
    let loaded = detail(&s, 1).version;
    take(&mut s, &Request::new(BOB), 1).unwrap();
    let err = set_state(
        &mut s,
        &ada().if_version(Some(loaded)),
        1,
        ReportState::Acknowledged,
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("report #1 was changed by bob@example.org at "),
        "{err}"
    );
    assert!(
        err.ends_with("since you loaded it (version 0, now 1): nothing was changed; look at it as it is now, then act again"),
        "{err}"
    );
    assert_eq!(detail(&s, 1).state, ReportState::New);
}

#[test]
fn assign_refuses_strangers_and_lists_members() {
    let (_d, mut s) = store(1);
    let c = config();
    let err = assign(&mut s, &ada(), &c, 1, "eve@evil.example")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Bob <bob@example.org>, Ada <ada@example.org>"),
        "{err}"
    );
    let a = assign(&mut s, &ada(), &c, 1, "bob").unwrap();
    assert_eq!(a.after.as_deref(), Some(BOB));
    let t = take(&mut s, &ada(), 1).unwrap();
    assert_eq!(
        (t.before.as_deref(), t.after.as_deref()),
        (Some(BOB), Some(ADA))
    );
    unassign(&mut s, &ada(), 1).unwrap();
    assert_eq!(detail(&s, 1).coordinator, None);
    assert_eq!(
        kinds(&s, 1)[1..],
        [
            ev("coordinator", None, Some(BOB)),
            ev("coordinator", Some(BOB), Some(ADA)),
            ev("coordinator", Some(ADA), None)
        ]
    );
}

#[test]
fn members_answer_to_any_of_their_names_unambiguously() {
    let c = Config::parse(
        "[identity]\nname = \"Ada Lovelace\"\nemail = \"ada@example.org\"\n\
         [team]\nmembers = [{ name = \"Ada Byron\", email = \"abyron@example.org\", handle = \"ab\" },\
         { name = \"Grace Hopper\", email = \"grace@example.org\" }]\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    let email = |who: &str| resolve_member(&c, who).map(|m| m.email);
    assert_eq!(email("ADA@example.org").unwrap(), "ada@example.org");
    assert_eq!(email("grace").unwrap(), "grace@example.org", "local part");
    assert_eq!(email("Grace Hopper").unwrap(), "grace@example.org", "name");
    assert_eq!(email("ab").unwrap(), "abyron@example.org", "handle");
    assert_eq!(email("abyron").unwrap(), "abyron@example.org");
    // "ada" is a local part before it is a first name (and as a first name, two people).
    assert_eq!(email("ada").unwrap(), "ada@example.org");
    assert_eq!(email("Ada Lovelace").unwrap(), "ada@example.org");
    assert!(email("hopper")
        .unwrap_err()
        .to_string()
        .contains("no team member"));
    // Here "ada" is only a first name, of two members: ambiguous, and the error says who.
    let c2 = Config::parse(
        "[identity]\nname = \"Ada Lovelace\"\nemail = \"lovelace@example.org\"\n\
         [team]\nmembers = [{ name = \"Ada Byron\", email = \"byron@example.org\" }]\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    let err = resolve_member(&c2, "ada").unwrap_err().to_string();
    assert!(
        err.contains("could be")
            && err.contains("byron@example.org")
            && err.contains("lovelace@example.org"),
        "{err}"
    );
}

#[test]
fn duplicates_link_both_ways_and_refuse_self_and_loops() {
    let (_d, mut s) = store(3);
    assert!(mark_duplicate(&mut s, &ada(), 1, 1)
        .unwrap_err()
        .to_string()
        .contains("itself"));
    mark_duplicate(&mut s, &ada(), 2, 1).unwrap();
    // A duplicate of a duplicate is refused, naming the original to use instead.
    let err = mark_duplicate(&mut s, &ada(), 3, 2)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("#2 is itself a duplicate of #1: mark #3 a duplicate of #1"),
        "{err}"
    );
    assert_eq!(detail(&s, 3).state, ReportState::New);
    let err = set_state(&mut s, &ada(), 1, ReportState::Acknowledged, None, None)
        .and_then(|_| mark_duplicate(&mut s, &ada(), 1, 2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("#2 → #1"), "{err}");
    assert_eq!(detail(&s, 1).duplicates, vec![2]);
    assert_eq!(detail(&s, 2).duplicate_of, Some(1));
    assert!(matches!(
        mark_duplicate(&mut s, &ada(), 2, 99),
        Err(TriageError::NoSuchReport(99))
    ));
    // Reopening a duplicate drops its link.
    set_state(&mut s, &ada(), 2, ReportState::Acknowledged, None, None).unwrap();
    assert_eq!(detail(&s, 2).duplicate_of, None);
    assert!(detail(&s, 1).duplicates.is_empty());
}

/// Takes back `applied`, made on report `id`, from the view that made it.
fn undo<T>(s: &mut Store, id: i64, applied: &Applied<T>) -> Result<i64, TriageError> {
    revert(
        s,
        &ada().if_version(Some(applied.version)),
        id,
        &applied.undo,
    )
}

/// A real report is never closed behind spam: not by linking it to spam, not by closing its
/// original as spam, not by undoing the reopening of an original it was linked to since.
#[test]
fn nothing_is_closed_as_a_duplicate_behind_spam() {
    let (_d, mut s) = store(2);
    mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    let err = mark_duplicate(&mut s, &ada(), 2, 1).unwrap_err();
    assert!(
        matches!(err, TriageError::OriginalIsSpam { id: 2, original: 1 }),
        "{err}"
    );
    let reopened = mark(&mut s, &ada(), 1, Class::Valid, None).unwrap();
    mark_duplicate(&mut s, &ada(), 2, 1).unwrap();
    let err = undo(&mut s, 1, &reopened).unwrap_err();
    assert!(
        err.to_string()
            .contains("original of #2, closed as its duplicates"),
        "{err}"
    );
    assert_eq!(detail(&s, 1).state, ReportState::Acknowledged);
    let err = set_state(&mut s, &ada(), 1, ReportState::Spam, None, None).unwrap_err();
    assert!(
        matches!(err, TriageError::DuplicatesBehindSpam { id: 1, .. }),
        "{err}"
    );
}

/// Undoing a re-link puts the earlier link back only while its original is not spam: #3
/// was a duplicate of #1, then of #2; #1 was closed as spam since (nothing pointed at it),
/// so undoing the re-link would hide #3 behind spam.
#[test]
fn undoing_a_relink_never_puts_a_report_back_behind_spam() {
    let (_d, mut s) = store(3);
    mark_duplicate(&mut s, &ada(), 3, 1).unwrap();
    let relinked = mark_duplicate(&mut s, &ada(), 3, 2).unwrap();
    mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    let err = undo(&mut s, 3, &relinked).unwrap_err();
    assert!(
        matches!(err, TriageError::OriginalIsSpam { id: 3, original: 1 }),
        "{err}"
    );
    assert_eq!(detail(&s, 3).duplicate_of, Some(2));
    assert_eq!(detail(&s, 1).state, ReportState::Spam);
}

/// Undoing a reopening puts the earlier link back only while it makes no loop: #2 was a
/// duplicate of #1 and was reopened; #1 was marked a duplicate of #2 since, so undoing the
/// reopening would close #1 and #2 as duplicates of each other, neither open.
#[test]
fn undoing_a_reopening_never_closes_a_loop_of_duplicates() {
    let (_d, mut s) = store(2);
    mark_duplicate(&mut s, &ada(), 2, 1).unwrap();
    let reopened = set_state(&mut s, &ada(), 2, ReportState::Acknowledged, None, None).unwrap();
    mark_duplicate(&mut s, &ada(), 1, 2).unwrap();
    let err = undo(&mut s, 2, &reopened).unwrap_err();
    assert!(
        matches!(
            err,
            TriageError::DuplicateCycle {
                id: 2,
                original: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(detail(&s, 2).state, ReportState::Acknowledged);
    assert_eq!(detail(&s, 1).duplicate_of, Some(2));
}

/// Marking, re-marking, undoing and marking again leaves the model as one verdict made
/// once: a report is never learned twice, and an undone verdict is unlearned.
#[test]
fn a_verdict_is_learned_once_and_its_undo_unlearned() {
    let (_d, mut s) = store(1);
    crate::core::classify::storage::ensure_model(&mut s).unwrap();
    let model =
        |s: &Store| -> (Vec<String>, Vec<String>) {
            let rows = |sql: &str| -> Vec<String> {
                let mut stmt = s.conn().prepare(sql).unwrap();
                let out = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                out
            };
            (
            rows("SELECT spam || ',' || ham || ',' || invalid || ',' || valid FROM classify_model"),
            rows("SELECT token || ',' || spam || ',' || valid FROM classify_tokens
                  WHERE token IN ('subj:report', 'body') ORDER BY token"),
        )
        };
    let before = model(&s);
    let spam = mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    let once = model(&s);
    assert_ne!(once, before);
    let valid = mark(&mut s, &ada(), 1, Class::Valid, None).unwrap();
    revert(
        &mut s,
        &ada().if_version(Some(valid.version)),
        1,
        &valid.undo,
    )
    .unwrap();
    assert_eq!(model(&s), once, "back to spam, learned once");
    mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    assert_eq!(model(&s), once, "marked spam again: not learned twice");
    let current = detail(&s, 1).version;
    revert(&mut s, &ada().if_version(Some(current)), 1, &spam.undo).unwrap();
    assert_eq!(model(&s), before, "the undone verdict is unlearned");
}

#[test]
fn undo_restores_the_previous_value_and_is_audited() {
    let (_d, mut s) = store(1);
    let a = mark(&mut s, &ada(), 1, Class::Spam, None).unwrap();
    revert(&mut s, &ada().if_version(Some(a.version)), 1, &a.undo).unwrap();
    let d = detail(&s, 1);
    assert_eq!(
        (d.state, d.class, d.class_confirmed),
        (ReportState::New, None, false)
    );
    let n = add_note(&mut s, &ada(), 1, "looks real").unwrap();
    let v = revert(&mut s, &ada().if_version(Some(n.version)), 1, &n.undo).unwrap();
    assert!(detail(&s, 1).notes.is_empty());
    assert_eq!(detail(&s, 1).version, v);
    // An undo from a stale view is refused like any change.
    let t = take(&mut s, &ada(), 1).unwrap();
    add_note(&mut s, &Request::new(BOB), 1, "mine").unwrap();
    assert!(matches!(
        revert(&mut s, &ada().if_version(Some(t.version)), 1, &t.undo),
        Err(TriageError::StaleView { .. })
    ));
}

#[test]
fn empty_note_is_refused() {
    let (_d, mut s) = store(1);
    assert!(matches!(
        add_note(&mut s, &ada(), 1, "  "),
        Err(TriageError::EmptyNote { id: 1 })
    ));
}

#[test]
fn reporter_reply_brings_needs_info_back_and_flags_it() {
    let (_d, mut s) = store(1);
    set_state(&mut s, &ada(), 1, ReportState::Acknowledged, None, None).unwrap();
    set_state(&mut s, &ada(), 1, ReportState::Triaged, None, None).unwrap();
    set_state(&mut s, &ada(), 1, ReportState::NeedsInfo, None, None).unwrap();
    let reply = "Message-ID: <re@x>\nIn-Reply-To: <r0@x>\nFrom: r0@reporter.example\n\
                 Subject: Re: report 0\nDate: Wed, 4 Mar 2026 10:00:00 +0000\n\nhere it is\n";
    Ingestor::without_classifier()
        .ingest_batch(&mut s, vec![RawIncoming::file(reply)], None)
        .unwrap();
    let d = detail(&s, 1);
    assert_eq!(d.state, ReportState::Triaged);
    assert!(d.flagged);
    let last = &d.events[d.events.len() - 2];
    assert_eq!(
        (
            last.actor.as_str(),
            last.before.as_deref(),
            last.after.as_deref()
        ),
        ("secdesk", Some("needs-info"), Some("triaged"))
    );
    let c = clear_flag(&mut s, &ada(), 1).unwrap();
    assert!(c.before && !detail(&s, 1).flagged);
}

#[test]
fn invalid_for_another_reason_takes_the_words_as_its_note() {
    let (_d, mut s) = store(1);
    let other = Some(InvalidReason::Other);
    let err = set_state(&mut s, &ada(), 1, ReportState::Invalid, other, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs its words"), "{err}");
    set_state(
        &mut s,
        &ada(),
        1,
        ReportState::Invalid,
        other,
        Some("a feature request"),
    )
    .unwrap();
    let d = detail(&s, 1);
    assert_eq!(d.invalid_reason, other);
    assert_eq!(d.notes[0].text, "a feature request");
}
