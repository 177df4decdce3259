//! The desk's `A` (issue 15): the advisory form in the editor, checked on save, errors shown
//! and the form opened again, saved onto the version it was made from.

mod tui_support;

use std::path::Path;

use crossterm::event::KeyCode;
use tui_support::Desk;

/// $VISUAL is one per process and tests run in parallel: each test that sets it holds this.
static VISUAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn visual(editor: &Path) -> std::sync::MutexGuard<'static, ()> {
    let guard = VISUAL.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("VISUAL", editor);
    guard
}

fn fixture_editor() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/editor/advisory-form")
}

#[test]
fn a_edits_the_advisory_form_and_shows_errors_before_saving() {
    let _visual = visual(&fixture_editor());
    let mut desk = Desk::demo();
    let id = desk.current();
    let cve = |desk: &Desk| {
        secdesk::core::advisory::load(desk.store.conn(), id)
            .unwrap()
            .cve
    };
    desk.key(KeyCode::Char('A'));
    // The first save has a bad vector: nothing is saved, the problem names its line.
    assert_eq!(cve(&desk), None);
    let status = desk.status();
    assert!(status.contains("line "), "{status}");
    assert!(status.contains("cvss"), "{status}");
    let screen = desk.screen();
    assert!(screen.contains("Edit again?"), "{screen}");
    // y opens the form again with the problems noted; the editor fixes it and it is saved.
    desk.key(KeyCode::Char('y'));
    assert_eq!(cve(&desk).as_deref(), Some("CVE-2026-41234"));
    assert!(
        desk.status().contains("advisory cve changed"),
        "{}",
        desk.status()
    );
    assert!(desk.state.advisory_kept.is_none());
    // The change is one audited action, as from the CLI.
    let events: i64 = desk
        .store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM events WHERE report_id = ?1 AND kind = 'advisory:cve'",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 1);
}

#[test]
fn a_form_from_a_stale_version_is_refused_and_kept() {
    let _visual = visual(&fixture_editor());
    let mut desk = Desk::demo();
    let id = desk.current();
    desk.key(KeyCode::Char('A'));
    // A teammate changes the report while the form is open (between the two edits).
    secdesk::core::triage::add_note(
        &mut desk.store,
        &secdesk::core::triage::Request::new("bob@demo.example"),
        id,
        "meanwhile",
    )
    .unwrap();
    desk.key(KeyCode::Char('y'));
    assert!(desk.status().contains("not saved"), "{}", desk.status());
    assert_eq!(
        secdesk::core::advisory::load(desk.store.conn(), id)
            .unwrap()
            .cve,
        None
    );
    let kept = desk.state.advisory_kept.as_ref().expect("the form is kept");
    assert!(kept.text.contains("CVE-2026-41234"));
}

#[test]
fn an_editor_that_fails_on_the_form_says_the_form_was_not_saved_not_a_reply() {
    let _visual = visual(Path::new("false"));
    let mut desk = Desk::demo();
    let id = desk.current();
    desk.key(KeyCode::Char('A'));
    let status = desk.status();
    assert!(status.contains("exited with"), "{status}");
    assert!(
        status.contains("advisory form was not saved (A opens it again)"),
        "{status}"
    );
    // It used to say "nothing was sent; the reply was not sent": no reply was ever begun.
    assert!(!status.contains("reply"), "{status}");
    assert!(!status.contains("sent"), "{status}");
    assert_eq!(
        desk.state.advisory_kept.as_ref().map(|f| f.id),
        Some(id),
        "the form is kept for the next A"
    );
}

#[test]
fn queue_and_report_view_show_the_finish_clock_and_the_embargo_countdown() {
    let mut desk = Desk::demo();
    let id = desk.current();
    let me = desk.config.identity.email.clone();
    // A coordinator set 80 days ago: 10 days left on PEP 811's 90-day finish clock.
    let then = tui_support::now() - chrono::Duration::days(80);
    let req = secdesk::core::triage::Request::new(me.as_str()).at(then);
    secdesk::core::triage::assign(&mut desk.store, &req, &desk.config, id, &me).unwrap();
    // An embargo ending on Saturday 2026-11-28, three days after the desk's "now".
    let set =
        secdesk::core::advisory::parse_set("embargo_until=2026-11-28", tui_support::now()).unwrap();
    let req = secdesk::core::triage::Request::new(me.as_str()).at(tui_support::now());
    secdesk::core::advisory::apply(&mut desk.store, &req, id, &[set]).unwrap();
    desk.act(secdesk::tui::action::Action::StoreChanged);
    let queue = desk.screen();
    let row = queue
        .lines()
        .find(|l| l.contains(&format!(" {id} ")))
        .expect("the report's row");
    assert!(row.contains("[finish in 10d · embargo 2d]"), "{queue}");
    // Still there at 60 columns, where the subject column is narrow.
    desk.resize(60, 15);
    assert!(
        desk.screen().contains("[finish in 10d"),
        "{}",
        desk.screen()
    );
    desk.resize(80, 24);
    desk.key(KeyCode::Enter);
    let report = desk.screen();
    assert!(report.contains("finish in 10d"), "{report}");
    assert!(report.contains("2d left (until 2026-11-28)"), "{report}");
    assert!(
        report.contains("Saturday"),
        "the weekend warning shows: {report}"
    );
}
