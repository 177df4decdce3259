//! The triage keys and the prompts some of them open: the reason picker for `i`, the member
//! picker for `a`, the transition picker for `S`, the template picker for `r`, and the note,
//! duplicate and search inputs.

use crossterm::event::{Event, KeyCode, KeyEvent};

use super::action::{Batch, Change, Request, TriageOp};
use super::app::{
    Confirm, Follow, Input, InputPurpose, OnYes, Overlay, Picked, Picker, PickerChoice,
    PickerPurpose, Screen, State,
};
use super::keymap::Command;
use super::text;
use crate::core::model::{Class, InvalidReason, ReportId, ReportState};
use crate::core::triage::Via;

/// The state of the report a single-report key acts on.
fn target_state(state: &State) -> Option<ReportState> {
    match state.screen {
        Screen::Report if state.report.as_ref().map(|d| d.id()) == state.report_id => {
            state.report.as_ref().map(|d| d.report.state)
        }
        _ => state.queue.current()?.summary.state.parse().ok(),
    }
}

pub(super) fn batch(state: &mut State, bulk: bool, label: String, change: Change) -> Vec<Request> {
    let ops: Vec<TriageOp> = state
        .targets(bulk)
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
    let follow = follow(state, &ops);
    let requests = vec![Request::Triage(Batch { label, ops })];
    // A bulk verdict over reports the classifier did not suggest as that class asks first.
    let class = match &change {
        Change::Mark(class, _) => Some(class.as_str()),
        Change::InvalidBecause(_) => Some("invalid"),
        _ => None,
    };
    let question = match (&change, class) {
        (_, Some(class)) => overruled(state, bulk, class),
        (Change::Take, None) => taken_over(state, &state.me.email.clone()),
        (Change::Assign(to), None) => taken_over(state, to),
        _ => None,
    };
    if let Some(question) = question {
        state.overlay = Overlay::Confirm(Confirm {
            question,
            on_yes: OnYes::Requests(requests, follow),
        });
        return Vec::new();
    }
    state.follow = follow;
    requests
}

/// The question before taking (or assigning to `to`) a report another member has taken:
/// `t` took it over without a word, while a verdict on it asked.
fn taken_over(state: &State, to: &str) -> Option<String> {
    let picked = picked(state, false);
    let p = picked.first()?;
    // Another member's: not the one it goes to, and not mine (giving away my own report
    // needs no question).
    let who = p
        .coordinator
        .as_deref()
        .filter(|c| !c.eq_ignore_ascii_case(to) && !c.eq_ignore_ascii_case(&state.me.email))?;
    let id = state.targets(false).first()?.0;
    Some(text::take_over(id, who, to, &state.me.email))
}

/// The reports a key acts on, with what the view knows of each (see [`State::targets`]).
fn picked(state: &State, bulk: bool) -> Vec<Picked> {
    match state.screen {
        Screen::Queue if bulk && !state.selection.is_empty() => {
            state.selection.values().cloned().collect()
        }
        Screen::Queue => state.queue.current().map(Picked::of).into_iter().collect(),
        Screen::Report => state
            .report
            .as_ref()
            .filter(|d| Some(d.id()) == state.report_id)
            .map(|d| Picked {
                version: d.report.version,
                class: d.report.class.map(|c| c.as_str().to_string()),
                outcome: d.report.classifier.outcome.clone(),
                confirmed: d.report.class_confirmed,
                coordinator: d.report.coordinator.clone(),
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The question before a verdict of `class` that overrules what is known of its reports:
/// "mark 40 as spam: 15 suggested valid, 10 unsure, 1 taken by grace? y/N". A selection
/// (`bulk`) is asked about every report the classifier did not suggest as `class`; one
/// report only when a person confirmed another class. Either way, one another member has
/// taken: a moderator clearing a screen must not close a report a triager is working on.
/// `None` when nothing is overruled.
fn overruled(state: &State, bulk: bool, class: &str) -> Option<String> {
    let picked = picked(state, bulk);
    let whole_selection = bulk && state.screen == Screen::Queue && !state.selection.is_empty();
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut count = |what: String| match counts.iter_mut().find(|(w, _)| *w == what) {
        Some((_, n)) => *n += 1,
        None => counts.push((what, 1)),
    };
    for p in &picked {
        let other_class = !p.says(class) && (whole_selection || (p.confirmed && p.class.is_some()));
        if other_class {
            count(p.suggestion());
        }
        if let Some(who) = p
            .coordinator
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case(&state.me.email))
        {
            count(text::taken_by(who));
        }
    }
    if counts.is_empty() {
        return None;
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Some(text::confirm_bulk(picked.len(), class, &counts))
}

/// Where the cursor goes after a change from the queue: onto the first report after the
/// cursor that the change leaves alone.
fn follow(state: &State, ops: &[TriageOp]) -> Option<Follow> {
    let q = &state.queue;
    let acted = match state.screen {
        Screen::Report => state.report_id?,
        _ => q.current()?.summary.id,
    };
    let touched = |id: i64| ops.iter().any(|o| o.id == id);
    let after = (q.cursor + 1..q.page.offset + q.page.rows.len()).filter_map(|p| q.row(p));
    let before = (q.page.offset..q.cursor).rev().filter_map(|p| q.row(p));
    let next = after
        .chain(before)
        .map(|r| r.summary.id)
        .find(|id| !touched(*id));
    Some(Follow {
        acted,
        next,
        landed: false,
    })
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
                    let handle = m
                        .handle
                        .as_deref()
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    (
                        format!("{} <{}>{handle}", m.name, m.email),
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
        Command::Answered => {
            let items = [Via::Phone, Via::Other]
                .into_iter()
                .map(|v| (v.as_str().to_string(), PickerChoice::Via(v)))
                .collect();
            open_picker(state, PickerPurpose::Answered, items)
        }
        Command::Note => open_input(state, InputPurpose::Note, String::new()),
        Command::Duplicate => ask_original(state),
        Command::Search if state.screen == Screen::Report => {
            let current = state.find.clone().unwrap_or_default();
            open_input(state, InputPurpose::FindInReport, current)
        }
        Command::Search => {
            let current = state.search.clone().unwrap_or_default();
            open_input(state, InputPurpose::Search, current)
        }
        Command::CommandLine => open_input(state, InputPurpose::Command, String::new()),
        Command::ToggleSelect => toggle_select(state),
        Command::SelectScreen => select_screen(state),
        _ => Vec::new(),
    }
}

pub(super) fn open_picker(
    state: &mut State,
    purpose: PickerPurpose,
    items: Vec<(String, PickerChoice)>,
) -> Vec<Request> {
    if state
        .targets(purpose == PickerPurpose::InvalidReason)
        .is_empty()
    {
        state.info(text::NO_REPORT);
        return Vec::new();
    }
    state.overlay = Overlay::Picker(Picker::new(purpose, items));
    Vec::new()
}

pub(super) fn open_input(state: &mut State, purpose: InputPurpose, text: String) -> Vec<Request> {
    let on_report = matches!(
        purpose,
        InputPurpose::Note | InputPurpose::InvalidReasonText
    );
    if on_report
        && state
            .targets(purpose == InputPurpose::InvalidReasonText)
            .is_empty()
    {
        state.info(text::NO_REPORT);
        return Vec::new();
    }
    state.overlay = Overlay::Input(Input::new(purpose, text));
    Vec::new()
}

fn toggle_select(state: &mut State) -> Vec<Request> {
    let Some(row) = state.queue.current() else {
        return Vec::new();
    };
    let (id, picked) = (row.summary.id, Picked::of(row));
    let on = if state.selection.remove(&id).is_some() {
        false
    } else {
        state.selection.insert(id, picked);
        true
    };
    state.info(text::selection_toggled(id, on, state.selection.len()));
    // Like a mail client: selecting moves on, so x x x selects a run.
    let last = state.queue.page.total.saturating_sub(1);
    state.queue.cursor = (state.queue.cursor + 1).min(last);
    state.ensure_window()
}

/// Selects every report on screen (or unselects them when all already are): `X` then `s`
/// clears a screen of spam.
fn select_screen(state: &mut State) -> Vec<Request> {
    let vp = state.viewport();
    let visible: Vec<(ReportId, Picked)> = (state.queue.top..state.queue.top + vp)
        .filter_map(|pos| state.queue.row(pos))
        .map(|r| (r.summary.id, Picked::of(r)))
        .collect();
    let all = visible
        .iter()
        .all(|(id, _)| state.selection.contains_key(id));
    for (id, picked) in visible {
        if all {
            state.selection.remove(&id);
        } else {
            state.selection.insert(id, picked);
        }
    }
    state.info(text::selected(state.selection.len()));
    Vec::new()
}

pub(super) fn chosen(
    state: &mut State,
    purpose: PickerPurpose,
    choice: PickerChoice,
) -> Vec<Request> {
    match (purpose, choice) {
        (PickerPurpose::InvalidReason, PickerChoice::Reason(r)) => batch(
            state,
            true,
            format!("marked invalid ({})", text::invalid_reason_label(r)),
            Change::Mark(Class::Invalid, Some(r)),
        ),
        (PickerPurpose::Answered, PickerChoice::Via(via)) => batch(
            state,
            false,
            text::answered(via.as_str()),
            Change::Responded(via),
        ),
        (PickerPurpose::InvalidReason, PickerChoice::OtherReason) => {
            open_input(state, InputPurpose::InvalidReasonText, String::new())
        }
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
        (PickerPurpose::State, PickerChoice::State(ReportState::Duplicate)) => ask_original(state),
        (PickerPurpose::DuplicateOf, PickerChoice::Report(of)) => batch(
            state,
            false,
            format!("marked duplicate of #{of}"),
            Change::DuplicateOf(of),
        ),
        (PickerPurpose::Template, PickerChoice::Template(template)) => {
            match state.targets(false).first() {
                Some((id, _)) => super::reply::start(state, *id, template),
                None => {
                    state.info(text::NO_REPORT);
                    Vec::new()
                }
            }
        }
        (PickerPurpose::RejectReason, PickerChoice::Template(name)) => {
            super::held::reason_chosen(state, name)
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

/// Keys over a prompt: readline editing (`tui-input`), Enter submits, Esc cancels.
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
                return state.new_queue();
            }
        }
        KeyCode::Enter => {
            let typed = input.text().trim().to_string();
            state.overlay = Overlay::None;
            return submit(state, purpose, typed);
        }
        _ => {
            let changed = tui_input::backend::crossterm::to_input_request(&Event::Key(key))
                .and_then(|r| input.field.handle(r))
                .is_some_and(|c| c.value);
            if changed && purpose == InputPurpose::Search {
                return search_as_typed(state);
            }
        }
    }
    Vec::new()
}

/// The queue follows the search as it is typed, from the second letter on.
fn search_as_typed(state: &mut State) -> Vec<Request> {
    let Overlay::Input(input) = &state.overlay else {
        return Vec::new();
    };
    let q = input.text().trim();
    // One letter matches nearly everything: wait for the second (Enter searches anyway).
    if q.chars().count() == 1 {
        return Vec::new();
    }
    state.search = (!q.is_empty()).then(|| q.to_string());
    state.new_queue()
}

fn submit(state: &mut State, purpose: InputPurpose, typed: String) -> Vec<Request> {
    match purpose {
        InputPurpose::Search => {
            state.search = (!typed.is_empty()).then_some(typed);
            if let Some(q) = &state.search {
                state.info(text::search_active(q));
            }
            state.new_queue()
        }
        InputPurpose::Note if typed.is_empty() => {
            state.info(text::EMPTY_NOTE);
            Vec::new()
        }
        InputPurpose::Note => batch(state, false, "noted".into(), Change::Note(typed)),
        InputPurpose::FindInReport => {
            state.find = (!typed.is_empty()).then_some(typed);
            super::motion::find_first(state);
            Vec::new()
        }
        InputPurpose::InvalidReasonText if typed.is_empty() => {
            state.info(text::EMPTY_REASON);
            Vec::new()
        }
        InputPurpose::InvalidReasonText => batch(
            state,
            true,
            format!("marked invalid ({typed})"),
            Change::InvalidBecause(typed),
        ),
        InputPurpose::Command => match typed.trim_start_matches(':') {
            "messages" | "mes" | "messages!" => {
                state.overlay = Overlay::Messages(super::views::help::messages_max_scroll(state));
                Vec::new()
            }
            // As `q` in the queue: a selection is not dropped without a question (`:q!` is).
            "q" | "quit" if !state.selection.is_empty() => {
                state.overlay = Overlay::Confirm(Confirm {
                    question: text::quit_with_selection(state.selection.len()),
                    on_yes: OnYes::Quit,
                });
                Vec::new()
            }
            "q" | "quit" | "q!" | "quit!" => {
                state.quit = true;
                Vec::new()
            }
            "" => Vec::new(),
            other => {
                state.error(text::unknown_command(other));
                Vec::new()
            }
        },
    }
}

/// `d`: the picker of reports to name as the original, once the store has listed them.
pub(super) fn ask_original(state: &mut State) -> Vec<Request> {
    let Some((id, _)) = state.targets(false).first().copied() else {
        state.info(text::NO_REPORT);
        return Vec::new();
    };
    vec![Request::Candidates(id)]
}

pub(super) fn reason_items() -> Vec<(String, PickerChoice)> {
    InvalidReason::ALL
        .iter()
        .filter(|r| **r != InvalidReason::Other)
        .map(|r| {
            (
                text::invalid_reason_label(*r).to_string(),
                PickerChoice::Reason(*r),
            )
        })
        .chain(std::iter::once((
            text::OTHER_REASON.to_string(),
            PickerChoice::OtherReason,
        )))
        .collect()
}
