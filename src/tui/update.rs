//! `update(state, action)`: the only code that changes the desk's state. It never touches
//! the store; what it needs from there it returns as [`Request`]s for the store worker.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Applied, Request, UndoEntry};
use super::app::{Confirm, InputPurpose, OnYes, Overlay, Screen, State, Tab};
use super::keymap::{self, Command, Where};
use super::motion::{
    clamp_report_scroll, find_next, move_by, move_to, scroll_overlay, scroll_reject_preview,
    scroll_reply_preview,
};
use super::{advisory, held, pickers, prompts, reply, text, views};
use crate::core::model::ReportId;
use crate::core::store::queue::{QueueOrder, QueuePage};

/// Applies one action and returns the store work it calls for.
pub fn update(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        // A terminal sends Esc and a key typed right after it as one Alt-key: take it as
        // the two keys the user pressed, so Esc-then-s never skips the Esc.
        Action::Key(key)
            if key.modifiers.contains(KeyModifiers::ALT)
                && matches!(key.code, KeyCode::Char(_))
                && !matches!(state.overlay, Overlay::Input(_)) =>
        {
            on_esc_then_key(state, key)
        }
        Action::Key(key) => on_key(state, key),
        Action::Resize { width, height } => on_resize(state, width, height),
        Action::Tick(now) => {
            state.now = now;
            Vec::new()
        }
        Action::QueueLoaded {
            generation,
            page,
            marks,
        } => on_queue_loaded(state, generation, page, marks),
        Action::ReportLoaded(detail) => {
            if state.report_id == Some(detail.id()) {
                state.report = Some(detail);
                clamp_report_scroll(state);
            }
            Vec::new()
        }
        Action::CandidatesLoaded(id, reports, similar) => {
            pickers::candidates_loaded(state, id, reports, &similar);
            Vec::new()
        }
        Action::StatsLoaded(stats) => {
            state.stats = Some(stats);
            Vec::new()
        }
        Action::Applied(applied) => on_applied(state, applied),
        Action::StoreChanged => state.reload(),
        Action::Sync(result) => on_sync(state, result),
        Action::Syncing(what) => {
            state.syncing = what;
            Vec::new()
        }
        Action::Failed(message) => {
            state.error(message);
            Vec::new()
        }
        Action::TabCounts(counts) => {
            state.tab_counts = Tab::COUNTED.into_iter().zip(counts).collect();
            Vec::new()
        }
        Action::OutboxCount(n) => {
            state.outbox_pending = Some(n);
            Vec::new()
        }
        Action::ReplyAbandoned | Action::ReplyStarted => Vec::new(),
        reply_step @ (Action::ReplyComposed(..)
        | Action::ReplyEdited(_)
        | Action::ReplyChecked(..)
        | Action::ReplyQueued { .. }
        | Action::ReplyNotSentInDemo { .. }
        | Action::ReplyDelivered(_)) => reply::on_action(state, reply_step),
        held_step @ (Action::HeldLoaded(..)
        | Action::Moderated(_)
        | Action::SweepProgress { .. }
        | Action::RejectReasons(..)
        | Action::RejectReasonEdited(_)) => held::on_action(state, held_step),
        advisory_step @ (Action::AdvisoryForm(_)
        | Action::AdvisoryEdited(..)
        | Action::AdvisorySaved(..)) => advisory::on_action(state, advisory_step),
        key_step @ (Action::KeysOffered(..) | Action::KeyImported(_)) => {
            super::pgp_keys::on_action(state, key_step)
        }
    }
}

/// An Alt-key from the terminal, taken as Esc and then the key without Alt.
fn on_esc_then_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let mut out = on_key(state, esc);
    let plain = KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT);
    out.extend(on_key(state, plain));
    out
}

/// The terminal's new size: the report's scroll and the queue's window follow it; while the
/// outbox count is still unknown (at start), it asks for that and the tab counts.
fn on_resize(state: &mut State, width: u16, height: u16) -> Vec<Request> {
    state.width = width;
    state.height = height;
    clamp_report_scroll(state);
    let mut out = state.ensure_window();
    if state.outbox_pending.is_none() {
        out.push(Request::OutboxCount);
        out.push(state.tab_counts_request());
    }
    out
}

/// A queue page from the store worker, dropped when a newer queue has replaced the one it
/// was asked for.
fn on_queue_loaded(
    state: &mut State,
    generation: u64,
    page: QueuePage,
    marks: HashMap<ReportId, String>,
) -> Vec<Request> {
    if generation != state.queue.generation {
        return Vec::new();
    }
    state.queue.page = page;
    state.queue.marks = marks;
    state.queue.loaded = true;
    land(state);
    keep(state);
    state.ensure_window()
}

/// After a reload the store asked for (new mail, another desk's change), the cursor goes
/// back onto the report it was on, wherever the queue now has it. When that report left
/// the queue, the cursor goes to the one after it, and a menu or question opened for it is
/// closed: its answer would act on whatever report now sits under the cursor.
fn keep(state: &mut State) {
    let Some((id, next)) = state.keep.take() else {
        return;
    };
    let q = &state.queue;
    let position = |id: i64| q.position_of(id);
    if let Some(pos) = position(id) {
        state.queue.cursor = pos;
        return;
    }
    if let Some(pos) = next.and_then(position) {
        state.queue.cursor = pos;
    }
    let for_the_report = match &state.overlay {
        Overlay::Picker(_) => true,
        Overlay::Input(i) => matches!(
            i.purpose,
            InputPurpose::Note | InputPurpose::InvalidReasonText
        ),
        _ => false,
    };
    if state.screen == Screen::Queue && for_the_report {
        state.overlay = Overlay::None;
        state.info(text::left_the_queue(id));
    }
}

/// A sync's outcome: a success reloads the queue, a new failure goes to the log.
fn on_sync(state: &mut State, result: Result<String, String>) -> Vec<Request> {
    let changed = result.is_ok();
    // A failing sync is shown at the right of the status line, cut to fit; the log
    // keeps it whole (only when it changes, not every retry).
    if let Err(e) = &result {
        if state.sync.as_ref() != Some(&result) {
            state.log(&text::sync_failed(e));
        }
    }
    state.sync = Some(result);
    state.syncing = None;
    if changed {
        state.reload()
    } else {
        Vec::new()
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    state.landed = None;
    match &state.overlay {
        Overlay::Input(_) => return prompts::on_input_key(state, key),
        Overlay::Picker(_) => return pickers::on_picker_key(state, key),
        Overlay::Confirm(_) => return pickers::on_confirm_key(state, key),
        Overlay::Help(_) | Overlay::Messages(_) => {
            scroll_overlay(state, key);
            return Vec::new();
        }
        Overlay::None => {}
    }
    if state.previewing() {
        return match keymap::command_for(&key, Where::ReplyPreview) {
            Some(Command::Help) => {
                state.overlay = Overlay::Help(0);
                Vec::new()
            }
            Some(command) if state.reply.as_ref().is_some_and(|r| r.previewing) => {
                if scroll_reply_preview(state, command) {
                    return Vec::new();
                }
                reply::on_preview_command(state, command)
            }
            Some(command) => {
                if scroll_reject_preview(state, command) {
                    return Vec::new();
                }
                held::on_preview_command(state, command)
            }
            None => Vec::new(),
        };
    }
    // A count before a motion, as in vi: 5j.
    if let KeyCode::Char(c @ '0'..='9') = key.code {
        if !key.modifiers.contains(KeyModifiers::CONTROL) && (c != '0' || state.count.is_some()) {
            let digit = c as usize - '0' as usize;
            let n = state
                .count
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(digit);
            state.count = Some(n.min(100_000));
            return Vec::new();
        }
    }
    let at = match state.screen {
        Screen::Queue => Where::Queue,
        Screen::Report => Where::Report,
        Screen::Stats => Where::Stats,
        Screen::Held => Where::Held,
    };
    let count = state.count.take();
    match keymap::command_for(&key, at) {
        Some(command) => on_command(state, command, count),
        None => {
            if let Some((name, what, scope)) = keymap::elsewhere(&key, at) {
                state.info(text::key_elsewhere(&name, what, place(scope)));
            }
            Vec::new()
        }
    }
}

/// Where a binding's scope applies, in the desk's words.
fn place(scope: keymap::Scope) -> &'static str {
    use keymap::Scope;
    match scope {
        Scope::Queue => text::ON_QUEUE,
        Scope::Report => text::ON_REPORT,
        Scope::Triage => text::ON_TRIAGE,
        Scope::ReplyPreview => text::ON_PREVIEW,
        Scope::Stats => text::ON_STATS,
        Scope::Held => text::ON_HELD,
        Scope::Screens | Scope::Motions | Scope::Prompt | Scope::Everywhere => text::ON_OTHER,
    }
}

fn on_command(state: &mut State, command: Command, count: Option<usize>) -> Vec<Request> {
    let n = count.unwrap_or(1).max(1) as i64;
    let page = match state.screen {
        // The stats screen pages its overdue list, the one part of it that scrolls.
        Screen::Stats => views::stats::overdue_rows(state).max(1) as i64,
        _ => state.page_lines() as i64,
    };
    match command {
        Command::Up => move_by(state, -n),
        Command::Down => move_by(state, n),
        Command::PageUp => move_by(state, -page * n),
        Command::PageDown => move_by(state, page * n),
        Command::HalfPageUp => move_by(state, -(page / 2).max(1) * n),
        Command::HalfPageDown => move_by(state, (page / 2).max(1) * n),
        // 5G goes to the fifth, as in vi.
        Command::Top | Command::Bottom if count.is_some() => {
            move_to(state, (n - 1).max(0) as usize)
        }
        Command::Top => move_by(state, i64::MIN / 2),
        Command::Bottom => move_by(state, i64::MAX / 2),
        Command::Open => open_current(state),
        Command::Close => close(state),
        Command::Back => back(state),
        Command::Quit => {
            state.quit = true;
            Vec::new()
        }
        Command::Help => {
            state.overlay = Overlay::Help(0);
            Vec::new()
        }
        Command::Messages => {
            state.overlay = Overlay::Messages(views::help::messages_max_scroll(state));
            Vec::new()
        }
        Command::ToggleReasons => {
            state.show_reasons = !state.show_reasons;
            clamp_report_scroll(state);
            Vec::new()
        }
        Command::NextMatch | Command::PrevMatch => {
            find_next(state, command == Command::NextMatch, n)
        }
        Command::NextTab | Command::PrevTab => switch_tab(state, command == Command::NextTab),
        Command::ToggleSort => toggle_sort(state),
        Command::Stats => {
            state.screen = Screen::Stats;
            state.stats_scroll = 0;
            vec![Request::Stats]
        }
        Command::Undo => match state.undo.pop() {
            Some(entry) => {
                // The cursor goes onto the report brought back (it kept its place while rows
                // came back above it, so the next key hit an unrelated report), else stays
                // on the one it was on.
                if let Some(&(restored, _, _)) = entry.items.first() {
                    state.follow = Some(super::app::Follow {
                        acted: restored,
                        next: state.queue.current().map(|r| r.summary.id),
                        landed: false,
                    });
                }
                vec![Request::Undo(entry)]
            }
            None => {
                state.info(text::NOTHING_TO_UNDO);
                Vec::new()
            }
        },
        Command::Advisory => advisory::start(state),
        Command::ImportKey => super::pgp_keys::start(state),
        Command::Held => held::open(state),
        Command::HeldAccept
        | Command::HeldDiscard
        | Command::HeldDefer
        | Command::HeldReject
        | Command::HeldSweep => held::on_command(state, command),
        Command::ToggleMonthly => {
            state.stats_monthly = !state.stats_monthly;
            Vec::new()
        }
        other => prompts::on_triage_command(state, other),
    }
}

/// Tab and shift-Tab: the next (or previous) queue tab, wrapping around, with the
/// selection cleared.
fn switch_tab(state: &mut State, forward: bool) -> Vec<Request> {
    let i = Tab::ALL.iter().position(|t| *t == state.tab).unwrap_or(0);
    let len = Tab::ALL.len();
    let next = if forward {
        (i + 1) % len
    } else {
        (i + len - 1) % len
    };
    state.tab = Tab::ALL[next];
    // A selection belongs to its queue; said, so the next s does not seem to act on it.
    if !state.selection.is_empty() {
        state.info(text::selection_cleared(state.selection.len()));
        state.selection.clear();
    }
    state.new_queue()
}

/// The queue's order flips between age and deadline, and the status line says which.
fn toggle_sort(state: &mut State) -> Vec<Request> {
    state.order = match state.order {
        QueueOrder::Age => QueueOrder::Deadline,
        QueueOrder::Deadline => QueueOrder::Age,
    };
    let sort = match state.order {
        QueueOrder::Age => text::SORT_AGE,
        QueueOrder::Deadline => text::SORT_DEADLINE,
    };
    state.info(format!(
        "sorted {}",
        text::queue_order(sort, state.filter().spam_last)
    ));
    state.new_queue()
}

fn open_current(state: &mut State) -> Vec<Request> {
    let Some(row) = state.queue.current() else {
        state.info(text::NO_REPORT);
        return Vec::new();
    };
    let id = row.summary.id;
    state.screen = Screen::Report;
    state.report_scroll = 0;
    state.show_reasons = false;
    state.find_at = None;
    if state.report_id != Some(id) {
        state.report = None;
    }
    state.report_id = Some(id);
    vec![Request::Report(id)]
}

/// Esc: closes the innermost thing open, and never quits.
fn close(state: &mut State) -> Vec<Request> {
    match state.screen {
        Screen::Report | Screen::Stats | Screen::Held => {
            state.screen = Screen::Queue;
            state.ensure_window()
        }
        Screen::Queue if !state.selection.is_empty() => {
            let n = state.selection.len();
            state.selection.clear();
            state.info(text::selection_cleared(n));
            Vec::new()
        }
        Screen::Queue if state.search.is_some() => {
            state.search = None;
            state.info(text::SEARCH_CLEARED);
            state.new_queue()
        }
        Screen::Queue => {
            state.info(text::ESC_DOES_NOT_QUIT);
            Vec::new()
        }
    }
}

/// q: back to the queue; from the queue, quits (asking first over a selection).
fn back(state: &mut State) -> Vec<Request> {
    match state.screen {
        Screen::Report | Screen::Stats | Screen::Held => {
            state.screen = Screen::Queue;
            state.ensure_window()
        }
        Screen::Queue if !state.selection.is_empty() => {
            state.overlay = Overlay::Confirm(Confirm {
                question: text::quit_with_selection(state.selection.len()),
                on_yes: OnYes::Quit,
            });
            Vec::new()
        }
        Screen::Queue => {
            state.quit = true;
            Vec::new()
        }
    }
}

/// The reload after a change has landed: the cursor goes back to the acted-on report if
/// it is still in the queue, else to the report that followed it, and the status line
/// says which report is selected now.
fn land(state: &mut State) {
    let Some(follow) = state.follow.as_ref().filter(|f| f.landed) else {
        return;
    };
    let q = &state.queue;
    let position = |id: i64| q.position_of(id);
    let (acted, next) = (follow.acted, follow.next);
    state.follow = None;
    if let Some(pos) = position(acted) {
        state.queue.cursor = pos;
        return;
    }
    if let Some(pos) = next.and_then(position) {
        state.queue.cursor = pos;
    }
    // In the report view the keys still act on the open report: only the queue's cursor
    // moved, and the status line says so when the queue is what shows.
    let now_on = state.queue.current().map(|r| r.summary.id);
    state.landed = now_on;
    if state.screen != Screen::Queue {
        return;
    }
    if let (Some(id), Some(status)) = (now_on, state.status.as_mut()) {
        status.text.push_str(&text::now_on(id));
    }
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
    // The undo stack's earlier changes were made on the versions an undo now restores:
    // without this the next `u` was refused as "changed since you loaded it" by our own undo.
    for (id, before, now) in &applied.restored {
        for item in state.undo.iter_mut().flat_map(|e| e.items.iter_mut()) {
            if item.0 == *id && item.1 == *before {
                item.1 = *now;
            }
        }
    }
    let mut message = String::new();
    if !changed_ids.is_empty() {
        let what = format!("{} {}", text::reports(&changed_ids), applied.label);
        if applied.undo {
            // An undo's label already names the reports it took back.
            message = text::undone(&applied.label);
        } else {
            message = format!(
                "{what}{}{}",
                text::near_copies(applied.near_copies),
                text::undo_hint()
            );
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
    // What was refused comes first: a status line cut to the screen's width must not keep
    // "#12 marked spam" and drop "report #13 was changed elsewhere: not marked". A refused
    // report leaves the selection: it changed since it was picked, and may have left the
    // screen, where a selection nobody sees would be acted on by the next key.
    let refused: Vec<&str> = applied
        .refused
        .iter()
        .map(|(_, why)| why.as_str())
        .collect();
    if !refused.is_empty() {
        let done = std::mem::take(&mut message);
        message = refused.join("; ");
        if !done.is_empty() {
            message.push_str("; ");
            message.push_str(&done);
        }
    }
    for (id, _) in &applied.refused {
        state.selection.remove(id);
    }
    // A refused undo is gone from the stack: say what the next `u` would take back, so a
    // second `u` pressed "to try again" does not silently undo an older change.
    if error && applied.undo {
        message.push_str(&text::next_undo(
            state.undo.last().map(|e| e.label.as_str()),
        ));
    }
    if error {
        state.error(message);
    } else {
        state.info(message);
    }
    if let Some(f) = state.follow.as_mut() {
        f.landed = true;
    }
    state.reload()
}
