//! The desk in the terminal (ratatui + crossterm), in the Elm architecture:
//!
//! ```text
//!  input thread ──Key/Resize──┐
//!  store worker ──…Loaded─────┤                    ┌─> views::draw(&State)
//!  watcher ──StoreChanged─────┼─> Action ─> update(&mut State) ─┤
//!  sync thread ──Sync─────────┘                    └─> Request ─> store worker
//! ```
//!
//! - [`app`]: the state; [`action`]: actions and requests; [`update`] and [`prompts`]: the
//!   only code that changes the state; [`keymap`]: the one table of keys; [`views`]: drawing.
//! - [`worker`] and [`sync`]: the threads. The UI thread never waits on the disk or network.
//! - [`desk`] and [`triage`]: what the store worker runs, calling the same core functions as
//!   the CLI. [`text`]: the user-facing strings.

pub mod action;
pub mod app;
pub mod desk;
pub mod keymap;
pub mod prompts;
pub mod sync;
pub mod text;
pub mod triage;
pub mod update;
pub mod views;
pub mod worker;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use chrono::Utc;
use ratatui::backend::Backend;
use ratatui::Terminal;

use crate::core::config::Config;
use action::{Action, Request};
use app::State;

/// How the desk is started.
pub struct Options {
    pub config: Config,
    pub store_path: PathBuf,
    /// One round of background sync, when the desk should sync.
    pub sync: Option<sync::SyncRound>,
    /// Shown in the status line at start, e.g. why sync is off.
    pub greeting: Option<String>,
}

/// The initial state for `config`, at `now`.
pub fn initial_state(config: &Config, now: chrono::DateTime<Utc>) -> State {
    State::new(
        config.identity.clone(),
        config.members().into_iter().cloned().collect(),
        config.clocks.clone(),
        now,
    )
}

/// Opens the desk on the terminal and runs it until the user quits. The terminal is put
/// back as it was on the way out, and by a panic hook if anything panics.
pub fn run(options: Options) -> anyhow::Result<()> {
    // Open (and migrate) the store before taking over the terminal, so a bad path is a plain
    // error message rather than a flash of an empty screen.
    drop(crate::core::store::Store::open(&options.store_path)?);
    let (events_tx, events) = mpsc::channel();
    let (requests_tx, requests) = mpsc::channel();
    worker::spawn_store_worker(
        options.store_path.clone(),
        options.config.clone(),
        requests,
        events_tx.clone(),
    );
    worker::spawn_watcher(&options.store_path, events_tx.clone());
    if let Some(round) = options.sync {
        let every = Duration::from_secs(options.config.sync.poll_seconds.max(1));
        sync::spawn(round, every, events_tx.clone());
    }
    let mut state = initial_state(&options.config, Utc::now());
    if let Some(g) = options.greeting {
        state.info(g);
    }
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(text::NOT_A_TERMINAL);
    }
    // try_init enters raw mode and the alternate screen and installs a panic hook that
    // restores the terminal before the panic message is printed.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            anyhow::bail!("{}: {e}", text::NOT_A_TERMINAL);
        }
    };
    worker::spawn_input(events_tx);
    let result = event_loop(&mut terminal, state, &events, &requests_tx);
    ratatui::restore();
    result
}

/// Draws, waits for the next actions, updates; until the state says quit. Used by the real
/// desk and by the benchmark (on a test backend).
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    mut state: State,
    events: &mpsc::Receiver<Action>,
    requests: &Sender<Request>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let size = terminal.size()?;
    send_all(
        requests,
        update::update(
            &mut state,
            Action::Resize {
                width: size.width,
                height: size.height,
            },
        ),
    );
    loop {
        terminal.draw(|f| views::draw(f, &state))?;
        let first = match events.recv_timeout(Duration::from_secs(1)) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => Action::Tick(Utc::now()),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Handle everything that piled up, then draw once.
        for action in std::iter::once(first).chain(events.try_iter().take(256)) {
            send_all(requests, update::update(&mut state, action));
        }
        if state.quit {
            break;
        }
    }
    Ok(())
}

fn send_all(requests: &Sender<Request>, out: Vec<Request>) {
    for r in out {
        // The worker only goes away with the process; a lost request is redrawn as loading.
        let _ = requests.send(r);
    }
}
