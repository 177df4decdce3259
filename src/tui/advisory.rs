//! `A`: the report's advisory fields as the TOML form of `secdesk advisory ID --edit`
//! (issue 15), as `update` sees it. The steps, each an action answering the request before:
//!
//! ```text
//! A → AdvisoryForm (store worker: record version, core::advisory::form::render)
//!   → EditAdvisory (UI loop: terminal suspended, $VISUAL/$EDITOR, as for replies)
//!   → AdvisoryEdited → form::parse: errors are shown and `y` opens the form again with
//!     them noted (form::with_errors); a good form → SaveAdvisory
//!   → store worker: core::advisory::replace onto the version the form was made from
//!   → AdvisorySaved → the status line says what changed, or why it was refused
//! ```
//!
//! A form that is not saved (errors and `n`, a stale version, an editor that failed) is kept
//! in the state: the next `A` on the same report opens it again, so nothing typed is lost.

use chrono::{DateTime, Utc};

use super::action::{Action, AdvisoryForm, Request};
use super::app::{Confirm, OnYes, Overlay, State};
use super::text;
use crate::core::advisory::{self, form, Key};
use crate::core::config::Config;
use crate::core::store::Store;
use crate::core::triage::{self, TriageError};

/// `A` on the report under the cursor (or open): its kept form, or a fresh one.
pub fn start(state: &mut State) -> Vec<Request> {
    let Some(&(id, _)) = state.targets(false).first() else {
        state.info(text::NO_REPORT);
        return Vec::new();
    };
    match state.advisory_kept.take() {
        Some(kept) if kept.id == id => vec![Request::EditAdvisory(kept)],
        other => {
            state.advisory_kept = other;
            vec![Request::AdvisoryForm(id)]
        }
    }
}

/// The UI loop's editor answer (a reply's [`Action::ReplyEdited`]) for the advisory form.
pub fn edited(form: AdvisoryForm, answer: Action) -> Action {
    match answer {
        Action::ReplyEdited(result) => Action::AdvisoryEdited(form, result),
        other => other,
    }
}

/// The advisory steps' answers.
pub fn on_action(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::AdvisoryForm(Ok(form)) => vec![Request::EditAdvisory(form)],
        Action::AdvisoryForm(Err(e)) => {
            state.error(e);
            Vec::new()
        }
        Action::AdvisoryEdited(form, Err(e)) => {
            state.advisory_kept = Some(form);
            state.error(text::advisory_editor_failed(&e));
            Vec::new()
        }
        Action::AdvisoryEdited(form, Ok(saved)) => checked(state, form, saved),
        Action::AdvisorySaved(_, Ok(message)) => {
            state.advisory_kept = None;
            state.info(message);
            state.reload()
        }
        Action::AdvisorySaved(form, Err(e)) => {
            state.advisory_kept = Some(form);
            state.error(text::advisory_refused(&e));
            state.reload()
        }
        _ => Vec::new(),
    }
}

/// Checks the saved form: a good one goes to the store worker; problems are shown, and the
/// form (with them noted at its end) is offered again.
fn checked(state: &mut State, form: AdvisoryForm, saved: String) -> Vec<Request> {
    match form::parse(&saved, state.now) {
        Ok(_) => vec![Request::SaveAdvisory(AdvisoryForm {
            text: saved,
            ..form
        })],
        Err(errors) => {
            let again = AdvisoryForm {
                text: form::with_errors(&saved, &errors),
                ..form
            };
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            for line in &lines {
                state.log(&text::advisory_form_error(again.id, line));
            }
            state.error(text::advisory_form_errors(again.id, &lines));
            state.advisory_kept = Some(again.clone());
            state.overlay = Overlay::Confirm(Confirm {
                question: text::advisory_edit_again(again.id, lines.len()),
                on_yes: OnYes::Requests(vec![Request::EditAdvisory(again)], None),
            });
            Vec::new()
        }
    }
}

/// The store worker's side of [`Request::AdvisoryForm`]: the form and the version it is of.
pub fn load_form(store: &Store, id: i64) -> Action {
    let loaded = || -> Result<AdvisoryForm, TriageError> {
        let version = triage::writes::load(store.conn(), id)?.version;
        let current = advisory::load(store.conn(), id)?;
        Ok(AdvisoryForm {
            id,
            version,
            text: form::render(id, &current),
        })
    };
    Action::AdvisoryForm(loaded().map_err(|e| super::text::triage_error(&e, store.path())))
}

/// The store worker's side of [`Request::SaveAdvisory`]: `advisory::replace` onto the
/// form's version, as `secdesk advisory ID --edit` saves it.
pub fn save(store: &mut Store, config: &Config, now: DateTime<Utc>, f: AdvisoryForm) -> Action {
    let a = match form::parse(&f.text, now) {
        Ok(a) => a,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            return Action::AdvisorySaved(f, Err(lines.join("; ")));
        }
    };
    let req = triage::Request::new(config.identity.email.clone())
        .at(now)
        .if_version(Some(f.version));
    match advisory::replace(store, &req, f.id, &a) {
        Ok(applied) => {
            let changed: Vec<&str> = Key::ALL
                .iter()
                .filter(|k| applied.before.field_json(**k) != applied.after.field_json(**k))
                .map(|k| k.as_str())
                .collect();
            Action::AdvisorySaved(f, Ok(text::advisory_saved(applied.report_id, &changed)))
        }
        Err(e) => {
            let message = super::text::triage_error(&e, store.path());
            Action::AdvisorySaved(f, Err(message))
        }
    }
}
