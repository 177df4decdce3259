//! A panic in a worker thread must not break the desk: the terminal is left alone (the
//! restoring hook only runs for the UI thread), the panic shows in the status line, the
//! worker starts again, and keys keep working. Its own test binary, because it replaces the
//! process-wide panic hook.

mod tui_support;

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crossterm::event::KeyCode;
use secdesk::tui::action::Action;
use secdesk::tui::{supervisor, sync};
use tui_support::Desk;

/// Stands in for ratatui's hook, which would leave the alternate screen and raw mode.
static TERMINAL_RESTORED: AtomicUsize = AtomicUsize::new(0);

#[test]
fn a_worker_panic_is_a_status_line_and_the_desk_goes_on() {
    let mut desk = Desk::demo();
    panic::set_hook(Box::new(|_| {
        TERMINAL_RESTORED.fetch_add(1, Ordering::SeqCst);
    }));
    supervisor::install_ui_panic_hook();

    // The sync worker panics in its first round, then works.
    let (tx, rx) = mpsc::channel();
    let rounds = Arc::new(AtomicUsize::new(0));
    let counted = rounds.clone();
    sync::spawn(
        Box::new(sync::Polling {
            round: move || {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("index out of bounds in the test round");
                }
                Ok("synced: no new mail".to_string())
            },
            every: Duration::from_millis(20),
        }),
        tx.clone(),
    );
    // The round's start, its end without an outcome, and the panic.
    for _ in 0..3 {
        let action = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        desk.act(action);
    }
    let screen = desk.screen();
    assert!(
        screen.contains("the sync worker panicked (index out of bounds in the test round at"),
        "{screen}"
    );
    assert!(desk.state.status.as_ref().unwrap().error);
    assert_eq!(TERMINAL_RESTORED.load(Ordering::SeqCst), 0);

    // Keys still work, and the worker came back.
    desk.key(KeyCode::Char('j'));
    assert_eq!(desk.state.queue.cursor, 1);
    let next = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(&next, Action::Syncing(Some(_))), "{next:?}");
    desk.act(next);
    let next = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(&next, Action::Sync(Ok(_))), "{next:?}");
    desk.act(next);
    assert!(desk.screen().contains("synced: no new mail"));

    // Any other worker under the supervisor: reported, restarted, and given up after a few.
    let starts = Arc::new(AtomicUsize::new(0));
    let started = starts.clone();
    let handle = supervisor::spawn("store", tx, move || {
        started.fetch_add(1, Ordering::SeqCst);
        panic!("the store worker broke");
    });
    handle.join().unwrap();
    // The sync worker keeps polling on the same channel, so pick out the supervisor's reports.
    let reports: Vec<Action> = rx
        .try_iter()
        .filter(|action| matches!(action, Action::Failed(_)))
        .collect();
    assert_eq!(
        starts.load(Ordering::SeqCst) as u32,
        supervisor::MAX_RESTARTS + 1
    );
    assert_eq!(reports.len() as u32, supervisor::MAX_RESTARTS + 1);
    let last = reports.last().cloned().unwrap();
    desk.act(last);
    let status = desk.status();
    assert!(
        status.contains("store worker panicked (the store worker broke")
            && status.contains("restart secdesk"),
        "{status}"
    );
    desk.key(KeyCode::Char('k'));
    assert_eq!(desk.state.queue.cursor, 0);
    assert_eq!(TERMINAL_RESTORED.load(Ordering::SeqCst), 0);
}
