//! The desk's background threads. The UI thread only draws and runs `update`; every read and
//! write of the store happens on the store worker, which owns its own connection. A watcher
//! polls `PRAGMA data_version` on a third connection so other desks' commits (and the sync's)
//! show up within a second, and an input thread turns terminal events into actions.
//!
//! Everything reports back on one channel of [`Action`]s; the UI keeps the latest answer.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::thread;
use std::time::Duration;

use crossterm::event::Event;

use super::action::{Action, Request};
use super::desk;
use crate::core::config::Config;
use crate::core::store::Store;

/// How often the watcher looks for other connections' commits.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Starts the store worker: it answers each request with an action on `events`, dropping
/// reads that a newer read of the same kind has already replaced.
pub fn spawn_store_worker(
    path: PathBuf,
    config: Config,
    requests: Receiver<Request>,
    events: Sender<Action>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut session = match Store::open(&path) {
            Ok(s) => desk::Session::new(s, config),
            Err(e) => {
                let _ = events.send(Action::Failed(super::text::store_error(&e.to_string())));
                return;
            }
        };
        while let Ok(first) = requests.recv() {
            let mut pending = vec![first];
            pending.extend(requests.try_iter());
            for request in coalesce(pending) {
                if events
                    .send(session.handle(chrono::Utc::now(), request))
                    .is_err()
                {
                    return;
                }
            }
        }
    })
}

/// Keeps every write, and of the reads only the last of each kind: while the worker was
/// busy the cursor may have moved ten times, and only where it is now matters.
pub fn coalesce(pending: Vec<Request>) -> Vec<Request> {
    let kind = |r: &Request| match r {
        Request::Queue { .. } => Some(0),
        Request::Report(_) => Some(1),
        Request::Stats => Some(2),
        Request::Triage(_) | Request::Undo(_) => None,
    };
    let mut out = Vec::with_capacity(pending.len());
    for (i, r) in pending.iter().enumerate() {
        let superseded =
            kind(r).is_some_and(|k| pending[i + 1..].iter().any(|l| kind(l) == Some(k)));
        if !superseded {
            out.push(r.clone());
        }
    }
    out
}

/// Starts the watcher: `StoreChanged` whenever another connection commits. It stops when
/// the UI goes away.
pub fn spawn_watcher(path: &Path, events: Sender<Action>) -> thread::JoinHandle<()> {
    let path = path.to_path_buf();
    thread::spawn(move || {
        let Ok(store) = Store::open(&path) else {
            return;
        };
        let mut last = store.data_version().ok();
        loop {
            thread::sleep(WATCH_INTERVAL);
            let now = store.data_version().ok();
            if now != last {
                last = now;
                if events.send(Action::StoreChanged).is_err() {
                    return;
                }
            }
        }
    })
}

/// Starts the input thread: key presses and resizes become actions.
pub fn spawn_input(events: Sender<Action>) -> thread::JoinHandle<()> {
    thread::spawn(move || loop {
        let action = match crossterm::event::read() {
            Ok(Event::Key(key)) => Action::Key(key),
            Ok(Event::Resize(width, height)) => Action::Resize { width, height },
            Ok(_) => continue,
            Err(_) => return,
        };
        if events.send(action).is_err() {
            return;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::queue::QueueFilter;

    fn queue(offset: usize) -> Request {
        Request::Queue {
            generation: 1,
            filter: QueueFilter::default(),
            offset,
            limit: 10,
        }
    }

    #[test]
    fn only_the_latest_read_of_each_kind_runs() {
        let out = coalesce(vec![
            queue(0),
            Request::Report(1),
            queue(5),
            Request::Report(2),
        ]);
        assert_eq!(out, vec![queue(5), Request::Report(2)]);
    }
}
