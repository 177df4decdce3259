//! `update(state, action)`: the only code that changes the desk's state. It never touches
//! the store; what it needs from there it returns as [`Request`]s for the store worker.

use crossterm::event::{KeyEvent, KeyEventKind};

use super::action::{Action, Applied, Request, UndoEntry};
use super::app::{Overlay, Screen, State, Tab};
use super::keymap::{self, Command, Where};
use super::{prompts, reply, text};
use crate::core::store::queue::QueueOrder;

/// Rows loaded beyond each edge of the viewport, so scrolling rarely waits on the store.
pub const PREFETCH: usize = 40;

/// Applies one action and returns the store work it calls for.
pub fn update(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::Key(key) => on_key(state, key),
        Action::Resize { width, height } => {
            state.width = width;
            state.height = height;
            let mut out = ensure_window(state);
            if state.outbox_pending.is_none() {
                out.push(Request::OutboxCount);
            }
            out
        }
        Action::Tick(now) => {
            state.now = now;
            Vec::new()
        }
        Action::QueueLoaded { generation, page } => {
            if generation != state.queue.generation {
                return Vec::new();
            }
            state.queue.page = page;
            state.queue.loaded = true;
            ensure_window(state)
        }
        Action::ReportLoaded(detail) => {
            if state.report_id == Some(detail.id()) {
                state.report = Some(detail);
            }
            Vec::new()
        }
        Action::StatsLoaded(stats) => {
            state.stats = Some(stats);
            Vec::new()
        }
        Action::Applied(applied) => on_applied(state, applied),
        Action::StoreChanged => reload(state),
        Action::Sync(result) => {
            let changed = result.is_ok();
            state.sync = Some(result);
            if changed {
                reload(state)
            } else {
                Vec::new()
            }
        }
        Action::Failed(message) => {
            state.error(message);
            Vec::new()
        }
        Action::OutboxCount(n) => {
            state.outbox_pending = Some(n);
            Vec::new()
        }
        reply_step @ (Action::ReplyComposed(_)
        | Action::ReplyEdited(_)
        | Action::ReplyQueued { .. }
        | Action::ReplyDelivered(_)) => reply::on_action(state, reply_step),
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    match &state.overlay {
        Overlay::Input(_) => return prompts::on_input_key(state, key),
        Overlay::Picker(_) => return prompts::on_picker_key(state, key),
        Overlay::Help => {
            state.overlay = Overlay::None;
            return Vec::new();
        }
        Overlay::None => {}
    }
    if state.reply.as_ref().is_some_and(|r| r.previewing) {
        return match keymap::command_for(&key, Where::ReplyPreview) {
            Some(Command::Help) => {
                state.overlay = Overlay::Help;
                Vec::new()
            }
            Some(command) => reply::on_preview_command(state, command),
            None => Vec::new(),
        };
    }
    let at = match state.screen {
        Screen::Queue => Where::Queue,
        Screen::Report => Where::Report,
        Screen::Stats => Where::Stats,
    };
    match keymap::command_for(&key, at) {
        Some(command) => on_command(state, command),
        None => Vec::new(),
    }
}

fn on_command(state: &mut State, command: Command) -> Vec<Request> {
    match command {
        Command::Up => move_by(state, -1),
        Command::Down => move_by(state, 1),
        Command::PageUp => move_by(state, -(state.viewport() as i64)),
        Command::PageDown => move_by(state, state.viewport() as i64),
        Command::Top => move_by(state, i64::MIN / 2),
        Command::Bottom => move_by(state, i64::MAX / 2),
        Command::Open => open_current(state),
        Command::Back => back(state),
        Command::Quit => {
            state.quit = true;
            Vec::new()
        }
        Command::Help => {
            state.overlay = Overlay::Help;
            Vec::new()
        }
        Command::NextTab | Command::PrevTab => {
            let i = Tab::ALL.iter().position(|t| *t == state.tab).unwrap_or(0);
            let n = Tab::ALL.len();
            let next = if command == Command::NextTab {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            state.tab = Tab::ALL[next];
            state.selection.clear();
            new_queue(state)
        }
        Command::ToggleSort => {
            state.order = match state.order {
                QueueOrder::Age => QueueOrder::Deadline,
                QueueOrder::Deadline => QueueOrder::Age,
            };
            state.info(format!(
                "sorted {}",
                match state.order {
                    QueueOrder::Age => text::SORT_AGE,
                    QueueOrder::Deadline => text::SORT_DEADLINE,
                }
            ));
            new_queue(state)
        }
        Command::Stats => {
            state.screen = Screen::Stats;
            vec![Request::Stats]
        }
        Command::Undo => match state.undo.pop() {
            Some(entry) => vec![Request::Undo(entry)],
            None => {
                state.info(text::NOTHING_TO_UNDO);
                Vec::new()
            }
        },
        other => prompts::on_triage_command(state, other),
    }
}

/// Moves the cursor (queue) or scrolls (report) by `delta` lines.
fn move_by(state: &mut State, delta: i64) -> Vec<Request> {
    match state.screen {
        Screen::Queue => {
            let last = state.queue.page.total.saturating_sub(1) as i64;
            state.queue.cursor = (state.queue.cursor as i64)
                .saturating_add(delta)
                .clamp(0, last) as usize;
            ensure_window(state)
        }
        Screen::Report => {
            let end = state.report.as_ref().map_or(0, |d| d.lines) as i64;
            let max = (end - state.viewport() as i64 / 2).max(0);
            let next = (state.report_scroll as i64).saturating_add(delta);
            state.report_scroll = next.clamp(0, max) as u16;
            Vec::new()
        }
        Screen::Stats => Vec::new(),
    }
}

fn open_current(state: &mut State) -> Vec<Request> {
    let Some(row) = state.queue.current() else {
        state.info(text::NO_REPORT);
        return Vec::new();
    };
    let id = row.summary.id;
    state.screen = Screen::Report;
    state.report_scroll = 0;
    if state.report_id != Some(id) {
        state.report = None;
    }
    state.report_id = Some(id);
    vec![Request::Report(id)]
}

fn back(state: &mut State) -> Vec<Request> {
    match state.screen {
        Screen::Report | Screen::Stats => {
            state.screen = Screen::Queue;
            Vec::new()
        }
        Screen::Queue if state.search.is_some() => {
            state.search = None;
            new_queue(state)
        }
        Screen::Queue => {
            state.quit = true;
            Vec::new()
        }
    }
}

/// Starts a fresh queue (another tab, sort or search): the cursor goes to the top.
pub fn new_queue(state: &mut State) -> Vec<Request> {
    state.queue.generation += 1;
    state.queue.loaded = false;
    state.queue.cursor = 0;
    state.queue.top = 0;
    state.queue.requested = None;
    ensure_window(state)
}

/// Asks again for everything on screen: the store changed under it.
pub fn reload(state: &mut State) -> Vec<Request> {
    state.queue.requested = None;
    let mut out = request_window(state);
    out.push(Request::OutboxCount);
    if state.screen == Screen::Report {
        if let Some(id) = state.report_id {
            out.push(Request::Report(id));
        }
    }
    if state.screen == Screen::Stats {
        out.push(Request::Stats);
    }
    out
}

/// Keeps the cursor on screen and the rows around it loaded (or asked for).
pub fn ensure_window(state: &mut State) -> Vec<Request> {
    let vp = state.viewport();
    let q = &mut state.queue;
    if q.loaded {
        q.cursor = q.cursor.min(q.page.total.saturating_sub(1));
    }
    if q.cursor < q.top {
        q.top = q.cursor;
    } else if q.cursor >= q.top + vp {
        q.top = q.cursor + 1 - vp;
    }
    let want_end = if q.loaded {
        (q.top + vp).min(q.page.total)
    } else {
        q.top + vp
    };
    let covers = |offset: usize, len: usize| offset <= q.top && offset + len >= want_end;
    if q.loaded && covers(q.page.offset, q.page.rows.len()) {
        return Vec::new();
    }
    if let Some((offset, len)) = q.requested {
        if covers(offset, len) {
            return Vec::new();
        }
    }
    request_window(state)
}

fn request_window(state: &mut State) -> Vec<Request> {
    let vp = state.viewport();
    let offset = state.queue.top.saturating_sub(PREFETCH);
    let limit = vp + 2 * PREFETCH;
    state.queue.requested = Some((offset, limit));
    vec![Request::Queue {
        generation: state.queue.generation,
        filter: state.filter(),
        offset,
        limit,
    }]
}

fn on_applied(state: &mut State, applied: Applied) -> Vec<Request> {
    let changed_ids: Vec<i64> = applied.changed.iter().map(|c| c.0).collect();
    // The view now holds the versions our own change produced, so the next key from the
    // same view is not refused as stale while the reload is on its way.
    for (id, version, _) in &applied.changed {
        if let Some(row) = state
            .queue
            .page
            .rows
            .iter_mut()
            .find(|r| r.summary.id == *id)
        {
            row.version = *version;
        }
        if let Some(d) = state.report.as_mut().filter(|d| d.id() == *id) {
            d.report.version = *version;
        }
        state.selection.remove(id);
    }
    let mut message = String::new();
    if !changed_ids.is_empty() {
        let what = format!("{} {}", text::reports(&changed_ids), applied.label);
        if applied.undo {
            // An undo's label already names the reports it took back.
            message = text::undone(&applied.label);
        } else {
            message = format!("{what}{}", text::undo_hint());
            state.undo.push(UndoEntry {
                label: what,
                items: applied.changed.clone(),
            });
        }
    } else if !applied.unchanged.is_empty() {
        message = format!(
            "{} already {}: nothing changed",
            text::reports(&applied.unchanged),
            applied.label
        );
    }
    let error = !applied.refused.is_empty();
    for (id, why) in &applied.refused {
        if !message.is_empty() {
            message.push_str("; ");
        }
        let _ = id;
        message.push_str(why);
    }
    if error {
        state.error(message);
    } else {
        state.info(message);
    }
    reload(state)
}
