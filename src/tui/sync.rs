//! Background sync for the desk: one round of IMAP sync every `sync.poll_seconds` on its own
//! thread and its own store connection. Each round reports a summary line or the error as an
//! action; a failure never stops the desk, and the next round retries.

use std::thread;
use std::time::Duration;

use std::sync::mpsc::Sender;

use super::action::Action;

/// One round of sync: a summary for the status line, or what went wrong.
pub type SyncRound = Box<dyn FnMut() -> Result<String, String> + Send>;

/// Runs `round` now and then every `every`, until the UI goes away.
pub fn spawn(
    mut round: SyncRound,
    every: Duration,
    events: Sender<Action>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || loop {
        if events.send(Action::Sync(round())).is_err() {
            return;
        }
        thread::sleep(every);
    })
}
