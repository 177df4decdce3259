//! The triage keys and the prompts some of them open: the reason picker for `i`, the member
//! picker for `a`, the transition picker for `S`, the template picker for `r`, and the note,
//! duplicate and search inputs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Batch, Change, Request, TriageOp};
use super::app::{
    Input, InputPurpose, Overlay, Picker, PickerChoice, PickerPurpose, Screen, State,
};
use super::keymap::Command;
use super::text;
use super::update::new_queue;
use crate::core::model::{Class, InvalidReason, ReportId, ReportState};

/// The reports a triage key acts on, each with the version the view loaded: the open report
/// in the report view; in the queue, the selection for bulk keys (`s`, `i`) or the cursor's.
fn targets(state: &State, bulk: bool) -> Vec<(ReportId, i64)> {
    match state.screen {
        // Until the report has loaded, the queue line it was opened from stands in for it.
        Screen::Report => match state.report.as_ref() {
            Some(d) if Some(d.id()) == state.report_id => vec![(d.id(), d.report.version)],
            _ => state
                .queue
                .current()
                .map(|r| vec![(r.summary.id, r.version)])
                .unwrap_or_default(),
        },
        Screen::Queue if bulk && !state.selection.is_empty() => {
            state.selection.iter().map(|(id, v)| (*id, *v)).collect()
        }
        Screen::Queue => state
            .queue
            .current()
            .map(|r| vec![(r.summary.id, r.version)])
            .unwrap_or_default(),
        Screen::Stats => Vec::new(),
    }
}

/// The state of the report a single-report key acts on.
fn target_state(state: &State) -> Option<ReportState> {
    match state.screen {
        Screen::Report if state.report.as_ref().map(|d| d.id()) == state.report_id => {
            state.report.as_ref().map(|d| d.report.state)
        }
        _ => state.queue.current()?.summary.state.parse().ok(),
    }
}

fn batch(state: &mut State, bulk: bool, label: String, change: Change) -> Vec<Request> {
    let ops: Vec<TriageOp> = targets(state, bulk)
        .into_iter()
        .map(|(id, version)| TriageOp {
            id,
            version,
            change: change.clone(),
        })
        .collect();
    if ops.is_empty() {
        state.info(text::NO_REPORT);
        return Vec::new();
    }
    vec![Request::Triage(Batch { label, ops })]
}

pub fn on_triage_command(state: &mut State, command: Command) -> Vec<Request> {
    match command {
        Command::MarkSpam => batch(
            state,
            true,
            "marked spam".into(),
            Change::Mark(Class::Spam, None),
        ),
        Command::MarkValid => batch(
            state,
            false,
            "marked valid".into(),
            Change::Mark(Class::Valid, None),
        ),
        Command::Take => batch(state, false, "taken by you".into(), Change::Take),
        Command::MarkInvalid => open_picker(state, PickerPurpose::InvalidReason, reason_items()),
        Command::Assign => {
            let items = state
                .members
                .iter()
                .map(|m| {
                    (
                        format!("{} <{}>", m.name, m.email),
                        PickerChoice::Member(m.email.clone()),
                    )
                })
                .collect();
            open_picker(state, PickerPurpose::Assign, items)
        }
        Command::ChangeState => {
            let Some(current) = target_state(state) else {
                state.info(text::NO_REPORT);
                return Vec::new();
            };
            let items: Vec<_> = crate::core::lifecycle::allowed_from(current)
                .iter()
                .map(|s| (s.to_string(), PickerChoice::State(*s)))
                .collect();
            if items.is_empty() {
                state.info(text::NO_TRANSITIONS);
                return Vec::new();
            }
            open_picker(state, PickerPurpose::State, items)
        }
        Command::Reply => {
            let items = super::reply::template_items(state);
            open_picker(state, PickerPurpose::Template, items)
        }
        Command::Note => open_input(state, InputPurpose::Note, String::new()),
        Command::Duplicate => open_input(state, InputPurpose::DuplicateOf, String::new()),
        Command::Search => {
            let current = state.search.clone().unwrap_or_default();
            open_input(state, InputPurpose::Search, current)
        }
        Command::ToggleSelect => toggle_select(state),
        Command::SelectScreen => select_screen(state),
        _ => Vec::new(),
    }
}

fn reason_items() -> Vec<(String, PickerChoice)> {
    InvalidReason::ALL
        .iter()
        .map(|r| {
            (
                text::invalid_reason_label(*r).to_string(),
                PickerChoice::Reason(*r),
            )
        })
        .collect()
}

fn open_picker(
    state: &mut State,
    purpose: PickerPurpose,
    items: Vec<(String, PickerChoice)>,
) -> Vec<Request> {
    if targets(state, purpose == PickerPurpose::InvalidReason).is_empty() {
        state.info(text::NO_REPORT);
        return Vec::new();
    }
    state.overlay = Overlay::Picker(Picker {
        purpose,
        items,
        cursor: 0,
    });
    Vec::new()
}

fn open_input(state: &mut State, purpose: InputPurpose, text: String) -> Vec<Request> {
    if purpose != InputPurpose::Search && targets(state, false).is_empty() {
        state.info(text::NO_REPORT);
        return Vec::new();
    }
    state.overlay = Overlay::Input(Input { purpose, text });
    Vec::new()
}

fn toggle_select(state: &mut State) -> Vec<Request> {
    let Some(row) = state.queue.current() else {
        return Vec::new();
    };
    let (id, version) = (row.summary.id, row.version);
    let on = if state.selection.remove(&id).is_some() {
        false
    } else {
        state.selection.insert(id, version);
        true
    };
    state.info(text::selection_toggled(id, on, state.selection.len()));
    // Like a mail client: selecting moves on, so x x x selects a run.
    let last = state.queue.page.total.saturating_sub(1);
    state.queue.cursor = (state.queue.cursor + 1).min(last);
    super::update::ensure_window(state)
}

/// Selects every report on screen (or unselects them when all already are): `X` then `s`
/// clears a screen of spam.
fn select_screen(state: &mut State) -> Vec<Request> {
    let vp = state.viewport();
    let visible: Vec<(ReportId, i64)> = (state.queue.top..state.queue.top + vp)
        .filter_map(|pos| state.queue.row(pos))
        .map(|r| (r.summary.id, r.version))
        .collect();
    let all = visible
        .iter()
        .all(|(id, _)| state.selection.contains_key(id));
    for (id, version) in &visible {
        if all {
            state.selection.remove(id);
        } else {
            state.selection.insert(*id, *version);
        }
    }
    state.info(text::selected(state.selection.len()));
    Vec::new()
}

pub fn on_picker_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    let Overlay::Picker(picker) = &mut state.overlay else {
        return Vec::new();
    };
    let last = picker.items.len().saturating_sub(1);
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => picker.cursor = (picker.cursor + 1).min(last),
        KeyCode::Char('k') | KeyCode::Up => picker.cursor = picker.cursor.saturating_sub(1),
        KeyCode::Esc | KeyCode::Char('q') => state.overlay = Overlay::None,
        KeyCode::Enter => {
            let choice = picker.items.get(picker.cursor).map(|i| i.1.clone());
            let purpose = picker.purpose;
            state.overlay = Overlay::None;
            if let Some(choice) = choice {
                return chosen(state, purpose, choice);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn chosen(state: &mut State, purpose: PickerPurpose, choice: PickerChoice) -> Vec<Request> {
    match (purpose, choice) {
        (PickerPurpose::InvalidReason, PickerChoice::Reason(r)) => batch(
            state,
            true,
            format!("marked invalid ({})", text::invalid_reason_label(r)),
            Change::Mark(Class::Invalid, Some(r)),
        ),
        (PickerPurpose::Assign, PickerChoice::Member(email)) => batch(
            state,
            false,
            format!("assigned to {email}"),
            Change::Assign(email),
        ),
        // Invalid needs its reason and duplicate its original: ask for them next.
        (PickerPurpose::State, PickerChoice::State(ReportState::Invalid)) => {
            open_picker(state, PickerPurpose::InvalidReason, reason_items())
        }
        (PickerPurpose::State, PickerChoice::State(ReportState::Duplicate)) => {
            open_input(state, InputPurpose::DuplicateOf, String::new())
        }
        (PickerPurpose::Template, PickerChoice::Template(template)) => {
            match targets(state, false).first() {
                Some((id, _)) => super::reply::start(state, *id, template),
                None => {
                    state.info(text::NO_REPORT);
                    Vec::new()
                }
            }
        }
        (PickerPurpose::State, PickerChoice::State(s)) => batch(
            state,
            false,
            format!("moved to {s}"),
            Change::State(s, None),
        ),
        _ => Vec::new(),
    }
}

pub fn on_input_key(state: &mut State, key: KeyEvent) -> Vec<Request> {
    let Overlay::Input(input) = &mut state.overlay else {
        return Vec::new();
    };
    let purpose = input.purpose;
    match key.code {
        KeyCode::Esc => {
            state.overlay = Overlay::None;
            if purpose == InputPurpose::Search && state.search.is_some() {
                state.search = None;
                return new_queue(state);
            }
        }
        KeyCode::Enter => {
            let typed = input.text.trim().to_string();
            state.overlay = Overlay::None;
            return submit(state, purpose, typed);
        }
        KeyCode::Backspace => {
            input.text.pop();
            if purpose == InputPurpose::Search {
                return search_as_typed(state);
            }
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.text.push(c);
            if purpose == InputPurpose::Search {
                return search_as_typed(state);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The queue follows the search as it is typed, from the second letter on.
fn search_as_typed(state: &mut State) -> Vec<Request> {
    let Overlay::Input(input) = &state.overlay else {
        return Vec::new();
    };
    let q = input.text.trim();
    // One letter matches nearly everything: wait for the second (Enter searches anyway).
    if q.chars().count() == 1 {
        return Vec::new();
    }
    state.search = (!q.is_empty()).then(|| q.to_string());
    new_queue(state)
}

fn submit(state: &mut State, purpose: InputPurpose, typed: String) -> Vec<Request> {
    match purpose {
        InputPurpose::Search => {
            state.search = (!typed.is_empty()).then_some(typed);
            if let Some(q) = &state.search {
                state.info(text::search_active(q));
            }
            new_queue(state)
        }
        InputPurpose::Note if typed.is_empty() => {
            state.info(text::EMPTY_NOTE);
            Vec::new()
        }
        InputPurpose::Note => batch(state, false, "noted".into(), Change::Note(typed)),
        InputPurpose::DuplicateOf => match typed.trim_start_matches('#').parse::<ReportId>() {
            Ok(of) => batch(
                state,
                false,
                format!("marked duplicate of #{of}"),
                Change::DuplicateOf(of),
            ),
            Err(_) => {
                state.error(text::NOT_A_NUMBER);
                Vec::new()
            }
        },
    }
}
