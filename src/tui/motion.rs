//! Motions: the cursor in the queue, the scroll of the report view, the stats screen's
//! overdue list, the help and the log, with vi's counts, half and whole pages, and n/N
//! through a search's matches.

use crossterm::event::KeyEvent;

use super::app::{Overlay, Screen, State};
use super::keymap::{self, Command, Where};
use super::{text, views};
use crate::tui::action::Request;

/// Keys over the help and the message log: the motions scroll, anything else closes.
pub(super) fn scroll_overlay(state: &mut State, key: KeyEvent) {
    let (Overlay::Help(scroll) | Overlay::Messages(scroll)) = &mut state.overlay else {
        return;
    };
    let page = state.height.saturating_sub(6).max(1);
    match keymap::command_for(&key, Where::Queue) {
        Some(Command::Down) => *scroll = scroll.saturating_add(1),
        Some(Command::Up) => *scroll = scroll.saturating_sub(1),
        Some(Command::PageDown | Command::HalfPageDown) => *scroll = scroll.saturating_add(page),
        Some(Command::PageUp | Command::HalfPageUp) => *scroll = scroll.saturating_sub(page),
        Some(Command::Top) => *scroll = 0,
        Some(Command::Bottom) => *scroll = u16::MAX,
        _ => {
            state.overlay = Overlay::None;
            return;
        }
    }
    let max = match state.overlay {
        Overlay::Help(_) => views::help::help_max_scroll(state.width, state.height),
        _ => views::help::messages_max_scroll(state),
    };
    if let Overlay::Help(scroll) | Overlay::Messages(scroll) = &mut state.overlay {
        *scroll = (*scroll).min(max);
    }
}

/// A motion on a reply's preview: it scrolls by a line, half a box or a box (less a line,
/// kept for context), as far as the message's last line reaching the bottom of the box.
/// Returns false for a key that is no motion, which the preview handles itself.
pub(super) fn scroll_reply_preview(state: &mut State, motion: Command) -> bool {
    let max = views::reply::max_scroll(state);
    let page = state.height;
    match state.reply.as_mut() {
        Some(flow) => scroll_preview(&mut flow.scroll, max, page, motion),
        None => false,
    }
}

/// A motion on the reject preview, as on a reply's: the reason is read whole before `y`
/// sends it.
pub(super) fn scroll_reject_preview(state: &mut State, motion: Command) -> bool {
    let max = views::held::reject_max_scroll(state);
    let page = state.height;
    match state.held_reject.as_mut() {
        Some(flow) => scroll_preview(&mut flow.scroll, max, page, motion),
        None => false,
    }
}

/// Moves a preview's `scroll` by `motion` on a screen `height` rows high, within `max`;
/// false for a key that is no motion.
fn scroll_preview(scroll: &mut u16, max: u16, height: u16, motion: Command) -> bool {
    let max = max as i64;
    let page = (height.saturating_sub(4) as i64 - 1).max(1);
    let delta = match motion {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => page,
        Command::PageUp => -page,
        Command::HalfPageDown => (page / 2).max(1),
        Command::HalfPageUp => -(page / 2).max(1),
        Command::Top => -max - 1,
        Command::Bottom => max + 1,
        _ => return false,
    };
    *scroll = (*scroll as i64 + delta).clamp(0, max) as u16;
    true
}

/// Moves the cursor (queue) or scrolls (report) by `delta` lines.
pub(super) fn move_by(state: &mut State, delta: i64) -> Vec<Request> {
    match state.screen {
        Screen::Queue => {
            let to = (state.queue.cursor as i64).saturating_add(delta).max(0) as usize;
            move_to(state, to)
        }
        Screen::Report => {
            let next = (state.report_scroll as i64).saturating_add(delta);
            state.report_scroll = next.clamp(0, u16::MAX as i64) as u16;
            clamp_report_scroll(state);
            Vec::new()
        }
        Screen::Held => {
            super::held::move_by(state, delta);
            Vec::new()
        }
        Screen::Stats => {
            let next = (state.stats_scroll as i64).saturating_add(delta).max(0) as usize;
            state.stats_scroll = next.min(views::stats::overdue_max_scroll(state));
            Vec::new()
        }
    }
}

/// Puts the cursor (queue) or the top line (report) at `pos`, within bounds.
pub(super) fn move_to(state: &mut State, pos: usize) -> Vec<Request> {
    match state.screen {
        Screen::Queue => {
            let last = state.queue.page.total.saturating_sub(1);
            state.queue.cursor = pos.min(last);
            state.ensure_window()
        }
        Screen::Report => {
            state.report_scroll = pos.min(u16::MAX as usize) as u16;
            clamp_report_scroll(state);
            Vec::new()
        }
        Screen::Stats => {
            state.stats_scroll = pos.min(views::stats::overdue_max_scroll(state));
            Vec::new()
        }
        Screen::Held => Vec::new(),
    }
}

/// The report view stops when its last line reaches the bottom of the screen.
pub fn clamp_report_scroll(state: &mut State) {
    let max = views::report::max_scroll(state);
    state.report_scroll = state.report_scroll.min(max);
}

/// n/N: the next (previous) line of the open report holding the text searched for; in the
/// queue, where the search already narrowed the list to matches, the next (previous) match.
pub(super) fn find_next(state: &mut State, forward: bool, n: i64) -> Vec<Request> {
    match state.screen {
        Screen::Report => {
            if state.find.is_none() {
                state.info(text::NO_SEARCH);
            } else {
                for _ in 0..n.max(1) {
                    step_match(state, forward);
                }
            }
            Vec::new()
        }
        Screen::Queue if state.search.is_some() => {
            let out = move_by(state, if forward { n } else { -n });
            state.info(text::match_position(
                state.queue.cursor,
                state.queue.page.total,
            ));
            out
        }
        _ => {
            state.info(text::NO_SEARCH);
            Vec::new()
        }
    }
}

/// The next (previous) match of the report search, wrapping round at the end as vi does;
/// the page scrolls to it (as far as it can) and the status line counts.
fn step_match(state: &mut State, forward: bool) {
    let Some(find) = state.find.clone() else {
        return;
    };
    let hits = views::report::find_hits(state, &find);
    if hits.is_empty() {
        state.find_at = None;
        state.info(text::no_match_in_report(&views::safe(&find)));
        return;
    }
    let at = state.find_at;
    let next = match (at, forward) {
        (None, _) => hits
            .iter()
            .position(|(_, row)| *row >= state.report_scroll)
            .unwrap_or(0),
        (Some(a), true) => hits.iter().position(|(i, _)| *i > a).unwrap_or(0),
        (Some(a), false) => hits
            .iter()
            .rposition(|(i, _)| *i < a)
            .unwrap_or(hits.len() - 1),
    };
    let wrapped = match (at, forward) {
        (Some(a), true) => hits[next].0 <= a,
        (Some(a), false) => hits[next].0 >= a,
        (None, _) => false,
    };
    let (line, row) = hits[next];
    state.find_at = Some(line);
    // The match a few lines below the top, so it is read in its context.
    state.report_scroll = row.saturating_sub(2);
    clamp_report_scroll(state);
    state.info(text::report_match(next + 1, hits.len(), wrapped));
}

/// After a search in the report view: the first match from the top of the page shown.
pub fn find_first(state: &mut State) {
    state.find_at = None;
    step_match(state, true);
}
