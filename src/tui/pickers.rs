//! The pickers' keys: the member and report pickers narrow as you type, the short ones move
//! with j/k and choose with a digit; the report picker for `d` lists what the store sent;
//! and the yes/no question's answer.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Request;
use super::app::{OnYes, Overlay, PickerChoice, PickerPurpose, State};
use super::prompts::{chosen, open_picker};
use super::text;
use crate::core::classify::similar::Similar;
use crate::core::model::ReportId;
use crate::core::triage::Candidate;

/// The store's answer to [`Request::Candidates`]: the classifier's similar earlier reports
/// first, best first and marked with their score, then every other report, newest first,
/// each as "#id subject (state)"; a duplicate is shown with its own original.
pub fn candidates_loaded(
    state: &mut State,
    for_id: ReportId,
    mut reports: Vec<Candidate>,
    similar: &[Similar],
) {
    if state.targets(false).first().map(|t| t.0) != Some(for_id) {
        return;
    }
    let score = |id: ReportId| similar.iter().position(|s| s.id == id);
    // Stable: the similar ones in score order, the rest as they came (newest first).
    reports.sort_by_key(|c| score(c.id).unwrap_or(usize::MAX));
    let items = reports
        .into_iter()
        .filter(|c| c.id != for_id)
        .map(|c| {
            let mark = score(c.id)
                .map(|i| text::similar_mark(similar[i].score))
                .unwrap_or_default();
            // Choosing a duplicate names its original: a duplicate of a duplicate would
            // hide it (the triage core refuses one).
            match c.duplicate_of {
                Some(of) => (
                    format!("{mark}#{} {} (duplicate: picks #{of})", c.id, c.subject),
                    PickerChoice::Report(of),
                ),
                None => (
                    format!("{mark}#{} {} ({})", c.id, c.subject, c.state),
                    PickerChoice::Report(c.id),
                ),
            }
        })
        .collect();
    open_picker(state, PickerPurpose::DuplicateOf, items);
}

/// Keys over a picker. The member and report pickers narrow as you type (arrows, Ctrl-N
/// and Ctrl-P move); the short ones move with j/k and choose with a digit.
pub fn on_picker_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    let Overlay::Picker(picker) = &mut state.overlay else {
        return Vec::new();
    };
    let typed = matches!(
        picker.purpose,
        PickerPurpose::Assign | PickerPurpose::DuplicateOf
    );
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shown = picker.matching().len();
    let last = shown.saturating_sub(1);
    match key.code {
        KeyCode::Down | KeyCode::Tab => picker.cursor = (picker.cursor + 1).min(last),
        KeyCode::Up | KeyCode::BackTab => picker.cursor = picker.cursor.saturating_sub(1),
        KeyCode::Char('n') if ctrl => picker.cursor = (picker.cursor + 1).min(last),
        KeyCode::Char('p') if ctrl => picker.cursor = picker.cursor.saturating_sub(1),
        KeyCode::Char('u') if ctrl && typed => {
            picker.filter.clear();
            picker.cursor = 0;
        }
        KeyCode::Char('j') if !typed => picker.cursor = (picker.cursor + 1).min(last),
        KeyCode::Char('k') if !typed => picker.cursor = picker.cursor.saturating_sub(1),
        KeyCode::Char('q') if !typed => state.overlay = Overlay::None,
        KeyCode::Char(c @ '1'..='9') if !typed => {
            let i = c as usize - '1' as usize;
            if i < shown {
                picker.cursor = i;
                return pick(state);
            }
        }
        KeyCode::Char(c) if typed && !ctrl => {
            picker.filter.push(c);
            picker.cursor = 0;
        }
        KeyCode::Backspace if typed => {
            picker.filter.pop();
            picker.cursor = 0;
        }
        KeyCode::Esc => state.overlay = Overlay::None,
        KeyCode::Enter => return pick(state),
        _ => {}
    }
    Vec::new()
}

/// Enter on a picker: the line under the cursor (in the report picker, a number typed in
/// full is the first line, even when that report is not listed: `Picker::matching`).
fn pick(state: &mut State) -> Vec<Request> {
    let Overlay::Picker(picker) = &state.overlay else {
        return Vec::new();
    };
    let choice = picker.matching().get(picker.cursor).map(|i| i.1.clone());
    let purpose = picker.purpose;
    state.overlay = Overlay::None;
    match choice {
        Some(choice) => chosen(state, purpose, choice),
        None => {
            state.info(text::NOTHING_MATCHES);
            Vec::new()
        }
    }
}

/// y answers yes; anything else no, and nothing changes.
pub fn on_confirm_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    let Overlay::Confirm(confirm) = std::mem::replace(&mut state.overlay, Overlay::None) else {
        return Vec::new();
    };
    if !matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
        if confirm.on_yes == OnYes::WriteReply {
            // Nothing was recorded for the team yet: dropping the draft is all there is.
            state.reply = None;
            state.info(text::REPLY_NOT_STARTED);
        } else {
            state.info(text::NOTHING_CHANGED);
        }
        return Vec::new();
    }
    match confirm.on_yes {
        OnYes::WriteReply => super::reply::write_anyway(state),
        OnYes::Quit => {
            state.quit = true;
            Vec::new()
        }
        OnYes::SendReply => super::reply::send(state),
        OnYes::Requests(requests, follow) => {
            state.follow = follow;
            requests
        }
    }
}
