//! Panics on the desk's threads. A panic on the UI thread restores the terminal first (the
//! hook ratatui installs); a panic on a worker thread must not touch the terminal at all —
//! the desk is still drawing on it — so the hook stays silent there, and [`spawn`] turns the
//! panic into an error in the status line and starts the worker again.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::Sender;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::action::Action;
use super::text;

/// Restarts of one worker before it is given up (each one says so in the status line).
pub const MAX_RESTARTS: u32 = 5;

/// The pause before a panicked worker starts again, so a worker that panics at once does
/// not spin.
pub const RESTART_DELAY: Duration = Duration::from_millis(200);

thread_local! {
    /// Where the last panic on this thread happened, recorded by the desk's hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook (ratatui's, which restores the terminal and prints the panic)
/// with one that only does so for a panic on the calling thread, the UI thread. On any other
/// thread it records where the panic happened, for the status line, and prints nothing.
pub fn install_ui_panic_hook() {
    let ui = thread::current().id();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if thread::current().id() == ui {
            previous(info);
        } else {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(at));
        }
    }));
}

/// Runs `f`, turning a panic into the text for the status line.
pub fn catch<T>(worker: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let at = LAST_PANIC.with(|p| p.borrow_mut().take());
        text::worker_panicked(worker, &panic_message(payload.as_ref()), at.as_deref())
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

/// Starts worker thread `name` running `body` until it returns. A panic in `body` is sent
/// as [`Action::Failed`] and `body` runs again, up to [`MAX_RESTARTS`] times.
pub fn spawn<F>(name: &'static str, events: Sender<Action>, mut body: F) -> JoinHandle<()>
where
    F: FnMut() + Send + 'static,
{
    let run = move || {
        let mut restarts = 0;
        loop {
            let Err(message) = catch(name, &mut body) else {
                return;
            };
            let last = restarts >= MAX_RESTARTS;
            let message = if last {
                text::worker_given_up(&message)
            } else {
                message
            };
            if events.send(Action::Failed(message)).is_err() || last {
                return;
            }
            restarts += 1;
            thread::sleep(RESTART_DELAY);
        }
    };
    thread::spawn(run)
}
