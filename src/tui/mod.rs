//! The desk in the terminal (ratatui + crossterm), in the Elm architecture:
//!
//! ```text
//!  input thread ──Key/Resize──┐
//!  store worker ──…Loaded─────┤                    ┌─> views::draw(&State)
//!  watcher ──StoreChanged─────┼─> Action ─> update(&mut State) ─┤
//!  sync thread ──Sync─────────┘                    └─> Request ─> store worker
//! ```
//!
//! - [`app`]: the state, [`overlay`]: what sits over the screens; [`window`]: the queue's
//!   rows asked for around the cursor and the reload after a change (methods on the state);
//!   [`view_model`]: what the store worker loads for the screens; [`action`]: actions and
//!   requests; [`update`], [`motion`], [`prompts`] and [`pickers`]: the only code that
//!   changes the state; [`keymap`]: the one table of keys (the footer and `?` come from it);
//!   [`views`]: drawing.
//! - [`worker`] and [`sync`]: the threads. The UI thread never waits on the disk or network;
//!   [`supervisor`] turns a worker's panic into a status line and starts the worker again.
//! - [`requests`] and [`triage`]: what the store worker runs, calling the same core functions as
//!   the CLI. [`reply`]: the steps of `r`, from the template picker through the editor (the
//!   UI loop suspends the terminal around it) and the preview to the delivery worker.
//!   [`advisory`]: `A`, the advisory form in the editor, the same way. [`held`]: `H`,
//!   the mailing list's hold queue, on a held worker of its own (reject reasons from
//!   templates, edited the same way; the spam sweep with its progress).
//!   [`text`]: the user-facing strings.

pub mod action;
pub mod advisory;
pub mod app;
pub mod held;
pub mod keymap;
pub mod motion;
pub mod overlay;
pub mod pgp_keys;
pub mod pickers;
pub mod prompts;
pub mod reply;
pub mod requests;
pub mod stats_data;
pub mod supervisor;
pub mod sync;
pub mod team;
pub mod text;
pub mod triage;
pub mod update;
pub mod view_model;
pub mod views;
pub mod window;
pub mod worker;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ratatui::backend::Backend;
use ratatui::Terminal;

use crate::core::config::Config;
use crate::core::reply::Templates;
use action::{Action, Request};
use app::State;

/// How the desk is started.
pub struct Options {
    pub config: Config,
    pub store_path: PathBuf,
    /// The background sync, when the desk should sync.
    pub sync: Option<Box<dyn sync::SyncSource>>,
    /// Shown in the status line at start, e.g. why sync is off.
    pub greeting: Option<String>,
}

/// The initial state for `config`, at `now`.
pub fn initial_state(config: &Config, now: chrono::DateTime<Utc>) -> State {
    let mut state = State::new(
        config.identity.clone(),
        config.members().into_iter().cloned().collect(),
        config.clocks.clone(),
        now,
    );
    // Read once at start: the UI thread does not touch the disk afterwards.
    state.templates = Templates::new(&config.dir()).names();
    state
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
    if let Some(source) = options.sync {
        sync::spawn(source, events_tx.clone());
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
    // ratatui's hook restores the terminal on any thread's panic; a worker's must not.
    supervisor::install_ui_panic_hook();
    let input = Arc::new(worker::InputControl::default());
    worker::spawn_input(events_tx, input.clone());
    let mut editor = |buffer: &str| edit_suspended(&input, buffer);
    let result = event_loop(&mut terminal, state, &events, &requests_tx, &mut editor);
    ratatui::restore();
    result
}

/// Runs the editor on the real terminal: the input thread stops reading, the desk leaves
/// raw mode and the alternate screen, and both come back afterwards, whatever the editor
/// did. The event loop then redraws the whole screen.
fn edit_suspended(input: &worker::InputControl, buffer: &str) -> Action {
    input.pause();
    ratatui::restore();
    let edited = reply::edit(buffer);
    let back = crossterm::terminal::enable_raw_mode().and_then(|()| {
        crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
    });
    input.resume();
    match back {
        Ok(()) => edited,
        Err(e) => Action::Failed(text::terminal_lost(&e.to_string())),
    }
}

/// Draws, waits for the next actions, updates; until the state says quit. Requests go to
/// the store worker, except [`Request::EditReply`], which runs `editor` here (it needs the
/// terminal) and feeds its answer back; so do [`Request::EditAdvisory`] and
/// [`Request::EditRejectReason`].
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    mut state: State,
    events: &mpsc::Receiver<Action>,
    requests: &Sender<Request>,
    editor: &mut dyn FnMut(&str) -> Action,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let size = terminal.size()?;
    let resize = Action::Resize {
        width: size.width,
        height: size.height,
    };
    let mut pending = vec![resize];
    loop {
        // Handle everything that piled up, then draw once.
        while let Some(action) = pending.pop() {
            for request in update::update(&mut state, action) {
                match request {
                    Request::EditReply(buffer) => {
                        pending.push(editor(&buffer));
                        // The editor drew over the screen: repaint every cell.
                        terminal.clear()?;
                    }
                    Request::EditAdvisory(form) => {
                        let answer = editor(&form.text);
                        pending.push(advisory::edited(form, answer));
                        terminal.clear()?;
                    }
                    Request::EditRejectReason(reason) => {
                        pending.push(held::edited(editor(&reason)));
                        terminal.clear()?;
                    }
                    // The worker only goes away with the process; a lost request is
                    // redrawn as loading.
                    other => {
                        let _ = requests.send(other);
                    }
                }
            }
        }
        if state.quit {
            break;
        }
        terminal.draw(|f| views::draw(f, &state))?;
        let first = match events.recv_timeout(Duration::from_secs(1)) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => Action::Tick(Utc::now()),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        pending.push(first);
        pending.extend(events.try_iter().take(256));
        pending.reverse();
    }
    Ok(())
}
