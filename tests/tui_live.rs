//! Live updates: the threads behind the desk. Another desk's commit reaches this one within
//! 2 seconds, new mail shows without a keypress, and a failing sync is shown, not fatal.

mod tui_support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use secdesk::core::triage;
use secdesk::tui::action::{Action, Request};
use secdesk::tui::{sync, worker};
use tui_support::{now, Desk};

#[test]
fn another_desks_change_appears_within_two_seconds() {
    let mut desk = Desk::demo();
    let (tx, rx) = mpsc::channel();
    worker::spawn_watcher(desk.store.path(), tx);
    std::thread::sleep(Duration::from_millis(100));
    let mut other = secdesk::core::store::Store::open(desk.store.path()).unwrap();
    triage::mark(
        &mut other,
        &triage::Request::new("grace@demo.example").at(now()),
        4,
        secdesk::core::model::Class::Spam,
        None,
    )
    .unwrap();
    // The clock starts when the other desk's change is committed: opening a
    // store in a debug build under a loaded test run is not the watcher's time.
    let started = Instant::now();
    let action = rx
        .recv_timeout(Duration::from_secs(2))
        .expect("a change notice");
    assert!(matches!(action, Action::StoreChanged));
    assert!(started.elapsed() < Duration::from_secs(2));
    desk.act(action);
    assert!(!desk.queue_ids().contains(&4), "the spam left Needs triage");
    assert_eq!(desk.state.queue.page.total, 8);
}

#[test]
fn a_failing_sync_shows_in_the_status_line_and_the_desk_goes_on() {
    let mut desk = Desk::demo();
    let (tx, rx) = mpsc::channel();
    sync::spawn(
        Box::new(sync::Polling {
            round: || Err("cannot connect to mail.example.org:993: connection refused".into()),
            every: Duration::from_secs(3600),
        }),
        tx,
    );
    let action = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(&action, Action::Syncing(Some(_))), "{action:?}");
    desk.act(action);
    let action = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    desk.act(action);
    let screen = desk.screen();
    assert!(screen.contains("sync failed: cannot connect"), "{screen}");
    assert!(!screen.contains("syncing"), "the round is over: {screen}");
    desk.key(crossterm::event::KeyCode::Char('j'));
    assert_eq!(desk.state.queue.cursor, 1, "keys still work");
}

/// A sync round waiting on a server that does not answer shows as under way, from its start
/// until its outcome replaces it: the status line was blank for the whole 30 s timeout.
#[test]
fn a_sync_round_under_way_shows_in_the_status_line() {
    let mut desk = Desk::demo();
    let (tx, rx) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    struct Silent<F>(sync::Polling<F>);
    impl<F: FnMut() -> Result<String, String> + Send> sync::SyncSource for Silent<F> {
        fn round(&mut self) -> Result<String, String> {
            self.0.round()
        }
        fn wait(&mut self) {
            self.0.wait()
        }
        fn what(&self) -> String {
            "INBOX".into()
        }
    }
    sync::spawn(
        Box::new(Silent(sync::Polling {
            round: move || {
                // The server says nothing until the test lets it.
                let _ = released.lock().unwrap().recv();
                Err("reading from mail.example.org:993: timed out after 30 s".into())
            },
            every: Duration::from_secs(3600),
        })),
        tx,
    );
    let action = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    desk.act(action);
    let screen = desk.screen();
    assert!(screen.contains("syncing INBOX…"), "{screen}");
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "the round is still waiting"
    );
    release.send(()).unwrap();
    let action = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    desk.act(action);
    let screen = desk.screen();
    assert!(!screen.contains("syncing"), "{screen}");
    assert!(screen.contains("sync failed: reading from"), "{screen}");
}

#[test]
fn the_store_worker_answers_off_the_ui_thread() {
    let desk = Desk::demo();
    let (req_tx, req_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    worker::spawn_store_worker(
        desk.store.path().to_path_buf(),
        desk.config.clone(),
        req_rx,
        tx,
    );
    req_tx.send(Request::Report(1)).unwrap();
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        Action::ReportLoaded(d) => {
            assert_eq!(d.id(), 1);
            assert_eq!(d.report.messages.len(), 3, "the thread with our reply");
        }
        other => panic!("expected the report, got {other:?}"),
    }
}
