//! The desk's background threads. The UI thread only draws and runs `update`; every read and
//! write of the store happens on the store worker, which owns its own connection. A watcher
//! polls `PRAGMA data_version` on a third connection so other desks' commits (and the sync's)
//! show up within a second, and an input thread turns terminal events into actions. A
//! delivery worker sends replies, so SMTP never holds up the store worker.
//!
//! Each runs under [`supervisor::spawn`]: a panic becomes an error in the status line and the
//! worker starts again.
//!
//! Everything reports back on one channel of [`Action`]s; the UI keeps the latest answer.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossterm::event::Event;

use super::action::{Action, Request};
use super::{requests, supervisor};
use crate::core::config::Config;
use crate::core::store::Store;

/// How often the watcher looks for other connections' commits.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Starts the store worker: it answers each request with an action on `events`, dropping
/// reads that a newer read of the same kind has already replaced. Delivery requests go on
/// to a delivery worker of its own, so SMTP never holds up the reads.
pub fn spawn_store_worker(
    path: PathBuf,
    config: Config,
    requests: Receiver<Request>,
    events: Sender<Action>,
) -> thread::JoinHandle<()> {
    let (deliveries, jobs) = mpsc::channel();
    spawn_delivery_worker(path.clone(), config.clone(), jobs, events.clone());
    let (held_jobs, held_queue) = mpsc::channel();
    spawn_held_worker(path.clone(), config.clone(), held_queue, events.clone());
    supervisor::spawn("store", events.clone(), move || {
        let mut session = match Store::open(&path) {
            Ok(s) => requests::Session::new(s, config.clone()),
            Err(e) => {
                let _ = events.send(Action::Failed(super::text::store_error(&e, &path)));
                return;
            }
        };
        while let Ok(first) = requests.recv() {
            let mut pending = vec![first];
            pending.extend(requests.try_iter());
            for request in coalesce(pending) {
                let answer = match request {
                    Request::Deliver(id) => {
                        // The delivery worker lives as long as this one.
                        let _ = deliveries.send(id);
                        continue;
                    }
                    held @ (Request::HeldFetch
                    | Request::Moderate(..)
                    | Request::RejectReasons(_)
                    | Request::HeldSweep(_)) => {
                        // So does the held worker.
                        let _ = held_jobs.send(held);
                        continue;
                    }
                    // The UI loop runs the editor; it never comes here.
                    Request::EditReply(_)
                    | Request::EditAdvisory(_)
                    | Request::EditRejectReason(_) => continue,
                    other => session.handle(chrono::Utc::now(), other),
                };
                if events.send(answer).is_err() {
                    return;
                }
            }
        }
    })
}

/// Starts the delivery worker: each outbox id it is given is attempted now (SMTP, then the
/// Sent copy), on its own store connection, and the outcome comes back as an action.
pub fn spawn_delivery_worker(
    path: PathBuf,
    config: Config,
    jobs: Receiver<i64>,
    events: Sender<Action>,
) -> thread::JoinHandle<()> {
    supervisor::spawn("delivery", events.clone(), move || {
        let mut store = match Store::open(&path) {
            Ok(s) => s,
            Err(e) => {
                let _ = events.send(Action::Failed(super::text::store_error(&e, &path)));
                return;
            }
        };
        while let Ok(id) = jobs.recv() {
            if events
                .send(requests::deliver(&config, &mut store, id))
                .is_err()
            {
                return;
            }
        }
    })
}

/// Starts the held worker: Mailman's hold queue is fetched and moderated here (network),
/// on a store connection of its own, and each answer comes back as an action.
pub fn spawn_held_worker(
    path: PathBuf,
    config: Config,
    jobs: Receiver<Request>,
    events: Sender<Action>,
) -> thread::JoinHandle<()> {
    supervisor::spawn("held", events.clone(), move || {
        let mut store = match Store::open(&path) {
            Ok(s) => s,
            Err(e) => {
                let _ = events.send(Action::Failed(super::text::store_error(&e, &path)));
                return;
            }
        };
        while let Ok(job) = jobs.recv() {
            let answer = match job {
                Request::Moderate(post, action, comment) => {
                    super::held::moderate(&config, &mut store, &post, action, comment.as_deref())
                }
                Request::RejectReasons(post) => super::held::reasons(&config, post),
                Request::HeldSweep(posts) => {
                    super::held::sweep(&config, &mut store, &posts, |done, total| {
                        let _ = events.send(Action::SweepProgress { done, total });
                    })
                }
                _ => super::held::fetch(&config, &mut store),
            };
            if events.send(answer).is_err() {
                return;
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
        Request::OutboxCount => Some(3),
        Request::Candidates(_) => Some(4),
        Request::TabCounts(_) => Some(5),
        Request::Triage(_)
        | Request::Undo(_)
        | Request::ComposeReply { .. }
        | Request::EditReply(_)
        | Request::AdvisoryForm(_)
        | Request::FindKeys(_)
        | Request::ImportKey(_)
        | Request::EditAdvisory(_)
        | Request::SaveAdvisory(_)
        | Request::QueueReply(_)
        | Request::CheckReply(_)
        | Request::ReplyAbandoned(_)
        | Request::ReplyStarted(_)
        | Request::HeldFetch
        | Request::Moderate(..)
        | Request::RejectReasons(_)
        | Request::EditRejectReason(_)
        | Request::HeldSweep(_)
        | Request::Deliver(_) => None,
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
    supervisor::spawn("watcher", events.clone(), move || {
        let Ok(store) = Store::open(&path) else {
            return;
        };
        let mut last = store.data_version().ok();
        loop {
            thread::sleep(WATCH_INTERVAL);
            let now = store.data_version().ok();
            if now != last {
                last = now;
                // Another process may have trained the store's first dictionary and re-packed
                // every raw message with it: this process must know it to read them. The
                // registry is process-wide, so every worker's connection can then. A failure
                // shows where a raw message is read.
                let _ = store.refresh_dictionaries();
                if events.send(Action::StoreChanged).is_err() {
                    return;
                }
            }
        }
    })
}

/// Lets the UI take the keyboard away from the input thread while an editor runs.
#[derive(Debug, Default)]
pub struct InputControl {
    paused: AtomicBool,
    /// The input thread has seen `paused` and is not reading.
    parked: AtomicBool,
}

/// How often a paused input thread looks whether it may read again, and how long one poll
/// for input lasts.
const INPUT_TICK: Duration = Duration::from_millis(20);

impl InputControl {
    /// Stops the input thread reading, and waits (briefly) until it has: keys typed from
    /// now on are the editor's.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while !self.parked.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// Starts the input thread: key presses and resizes become actions. While `control` is
/// paused it reads nothing.
pub fn spawn_input(events: Sender<Action>, control: Arc<InputControl>) -> thread::JoinHandle<()> {
    supervisor::spawn("input", events.clone(), move || loop {
        if control.paused.load(Ordering::SeqCst) {
            control.parked.store(true, Ordering::SeqCst);
            thread::sleep(INPUT_TICK);
            continue;
        }
        control.parked.store(false, Ordering::SeqCst);
        match crossterm::event::poll(INPUT_TICK) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        // Paused between the poll and here: leave the input to the editor.
        if control.paused.load(Ordering::SeqCst) {
            continue;
        }
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
