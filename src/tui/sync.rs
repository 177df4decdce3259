//! Background sync for the desk, on its own thread: a [`SyncSource`] runs a round (new mail
//! into the store, due replies out), reports a summary line or the error as an action, then
//! blocks until the next round is due — IMAP IDLE or a poll, as the source decides. A
//! failure never stops the desk; a panic in the source is shown in the status line and the
//! source starts over.

use std::sync::mpsc::Sender;
use std::thread;
use std::time::Duration;

use super::action::Action;
use super::supervisor;

/// What the sync worker drives. The real one (`cli::desk`) wraps `mailio::watch::Watch`;
/// tests use [`Polling`].
pub trait SyncSource: Send {
    /// One round: a summary for the status line, or what went wrong.
    fn round(&mut self) -> Result<String, String>;
    /// Blocks until the next round is due.
    fn wait(&mut self);
    /// Called after a panic: drop anything that may have been left half-used.
    fn recover(&mut self) {}
    /// What a round works on, for the status line while it runs ("INBOX"); empty for a
    /// source with nothing to name.
    fn what(&self) -> String {
        String::new()
    }
}

/// A round run every `every`: for a source with nothing to wait on.
pub struct Polling<F> {
    pub round: F,
    pub every: Duration,
}

impl<F: FnMut() -> Result<String, String> + Send> SyncSource for Polling<F> {
    fn round(&mut self) -> Result<String, String> {
        (self.round)()
    }

    fn wait(&mut self) {
        thread::sleep(self.every);
    }
}

/// Runs `source` now and then whenever it says, until the UI goes away.
pub fn spawn(mut source: Box<dyn SyncSource>, events: Sender<Action>) -> thread::JoinHandle<()> {
    thread::spawn(move || loop {
        // Said before the round: a server that does not answer keeps it running until the
        // timeout, and the status line shows it is under way rather than nothing.
        if events.send(Action::Syncing(Some(source.what()))).is_err() {
            return;
        }
        let actions = match supervisor::catch("sync", || source.round()) {
            Ok(result) => vec![Action::Sync(result)],
            Err(panicked) => {
                source.recover();
                vec![Action::Syncing(None), Action::Failed(panicked)]
            }
        };
        if actions.into_iter().any(|a| events.send(a).is_err()) {
            return;
        }
        if let Err(panicked) = supervisor::catch("sync", || source.wait()) {
            source.recover();
            if events.send(Action::Failed(panicked)).is_err() {
                return;
            }
            thread::sleep(supervisor::RESTART_DELAY);
        }
    })
}
