//! `r`: replying to the reporter from the desk, as `update` sees it. The steps, each an
//! action answering the request before it:
//!
//! ```text
//! r → template picker → ComposeReply (store worker: core::reply::compose)
//!   → ReplyComposed → EditReply (UI loop: terminal suspended, $VISUAL/$EDITOR)
//!   → ReplyEdited → preview (y sends, e edits again, n/Esc cancels)
//!   → QueueReply (store worker: core::outbox::queue_draft, before any SMTP)
//!   → ReplyQueued → Deliver (delivery worker: mailio::delivery::deliver_one)
//!   → ReplyDelivered → the status line says sent / queued with the error / refused
//! ```
//!
//! The edited text is read back with `core::reply::buffer::apply_buffer` and the draft is
//! built once for the preview, so the header checks (CR/LF refused, addresses parsed) run
//! before the user is asked to confirm.

use chrono::Utc;

use super::action::{Action, ReplyCheck, Request};
use super::app::{Confirm, OnYes, Overlay, PickerChoice, ReplyFlow, State};
use super::keymap::Command;
use super::text;
use crate::core::model::ReportId;
use crate::core::reply::buffer::{apply_buffer, to_buffer, with_error_note};
use crate::core::reply::message::{build, new_message_id};
use crate::core::reply::{state_change, Draft, ReplyError};
use crate::mailio::delivery::{self, Delivery, Outcome};
use crate::mailio::editor;

/// The template picker's lines: blank first, then every template by name.
pub fn template_items(state: &State) -> Vec<(String, PickerChoice)> {
    std::iter::once((
        text::BLANK_TEMPLATE.to_string(),
        PickerChoice::Template(None),
    ))
    .chain(
        state
            .templates
            .iter()
            .map(|n| (n.clone(), PickerChoice::Template(Some(n.clone())))),
    )
    .collect()
}

/// What the preview says sending will do to the report's state, judged from the state the
/// desk last loaded for it (`core::reply::state_change::plan`); `None` without a change.
pub fn after_sending(state: &State, draft: &Draft) -> Option<String> {
    let change = draft.state_change?;
    let id = draft.report_id;
    let known = match state.report.as_deref().filter(|d| d.id() == id) {
        Some(d) => Some((d.report.state, d.report.invalid_reason)),
        None => state
            .queue
            .page
            .rows
            .iter()
            .find(|r| r.summary.id == id)
            .and_then(|r| r.summary.state.parse().ok())
            .map(|s| (s, None)),
    };
    Some(match known {
        Some((current, reason)) => state_change::plan(current, reason, change).describe(id),
        // Not on screen: say what the template asks for, and that it may not apply.
        None => text::preview_then_unknown(id, &change.state.to_string()),
    })
}

/// A template was picked for report `report_id`: ask the store worker for the draft.
pub fn start(state: &mut State, report_id: ReportId, template: Option<String>) -> Vec<Request> {
    state.reply = None;
    state.info(text::COMPOSING);
    vec![Request::ComposeReply {
        report_id,
        template,
    }]
}

/// Runs the editor on `buffer` and says what came back. The caller owns the terminal: the
/// desk suspends it around this call. An editor's failure is said as it is; what it means
/// (a reply not sent, a form not saved) is for the flow that asked.
pub fn edit(buffer: &str) -> Action {
    Action::ReplyEdited(editor::edit_text(buffer).map_err(|e| e.to_string()))
}

/// The reply steps' answers.
pub fn on_action(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::ReplyComposed(Ok(draft), warning) => {
            let id = draft.report_id;
            let question = warning.as_deref().map(|who| text::write_anyway(who, id));
            let warning = warning.map(|who| text::also_replying(&who, id));
            if let Some(w) = &warning {
                state.log(w);
            }
            let buffer = to_buffer(&draft);
            state.reply = Some(ReplyFlow {
                draft: *draft,
                buffer: buffer.clone(),
                problem: None,
                previewing: false,
                check: None,
                also_replying: warning,
                scroll: 0,
            });
            match question {
                // Another member is answering: ask before the editor opens.
                Some(question) => {
                    state.overlay = Overlay::Confirm(Confirm {
                        question,
                        on_yes: OnYes::WriteReply,
                    });
                    Vec::new()
                }
                None => vec![Request::EditReply(buffer)],
            }
        }
        Action::ReplyComposed(Err(e), _) => {
            state.error(e);
            Vec::new()
        }
        Action::ReplyEdited(result) => edited(state, result),
        Action::ReplyChecked(draft, check) => {
            checked(state, &draft, check);
            Vec::new()
        }
        Action::ReplyQueued {
            outbox_id,
            report_id,
        } => {
            state.info(text::reply_queued(report_id, outbox_id));
            vec![Request::Deliver(outbox_id), Request::OutboxCount]
        }
        Action::ReplyNotSentInDemo { report_id, to } => {
            state.info(text::reply_not_sent_in_demo(report_id, &to));
            vec![Request::ReplyAbandoned(report_id)]
        }
        Action::ReplyDelivered(result) => {
            match result {
                Ok(d) => delivered(state, &d),
                Err(e) => state.error(e),
            }
            let mut out = state.reload();
            out.push(Request::OutboxCount);
            out
        }
        _ => Vec::new(),
    }
}

fn edited(state: &mut State, result: Result<String, String>) -> Vec<Request> {
    let Some(flow) = state.reply.as_mut() else {
        return Vec::new();
    };
    let edited = match result {
        Ok(t) => t,
        Err(e) => {
            let id = flow.draft.report_id;
            state.reply = None;
            state.error(text::editor_failed(&e));
            return vec![Request::ReplyAbandoned(id)];
        }
    };
    match apply_buffer(&flow.draft, &edited) {
        Ok(draft) => {
            flow.problem = check(&draft).err().map(|e| e.to_string());
            flow.buffer = match &flow.problem {
                Some(_) => edited,
                None => to_buffer(&draft),
            };
            flow.draft = draft;
        }
        Err(ReplyError::EmptyBody) => {
            let id = flow.draft.report_id;
            state.reply = None;
            state.info(text::REPLY_EMPTY);
            return vec![Request::ReplyAbandoned(id)];
        }
        Err(e) => {
            // The preview shows the draft as it was, with what is wrong; `e` opens the
            // edited text again with the problem noted on top.
            flow.buffer = with_error_note(&edited, &e);
            flow.problem = Some(e.to_string());
        }
    }
    flow.previewing = true;
    flow.scroll = 0;
    flow.check = None;
    let draft = Box::new(flow.draft.clone());
    state.status = None;
    vec![Request::CheckReply(draft)]
}

/// The store worker's checks came back: kept when they are of the draft on screen.
fn checked(state: &mut State, draft: &Draft, check: ReplyCheck) {
    if let Some(flow) = state.reply.as_mut().filter(|f| f.draft == *draft) {
        flow.check = Some(check);
    }
}

/// Builds the draft as it would be sent, for the checks alone: the outbox builds it again
/// with the Message-ID and Date it keeps.
fn check(draft: &Draft) -> Result<(), ReplyError> {
    build(draft, &new_message_id("preview.invalid"), Utc::now()).map(|_| ())
}

/// Yes to writing a reply while another member answers the report: record the start for
/// the team, then open the editor on the composed draft.
pub fn write_anyway(state: &mut State) -> Vec<Request> {
    match state.reply.as_ref() {
        Some(flow) => vec![
            Request::ReplyStarted(flow.draft.report_id),
            Request::EditReply(flow.buffer.clone()),
        ],
        None => Vec::new(),
    }
}

/// Keys on the preview.
pub fn on_preview_command(state: &mut State, command: Command) -> Vec<Request> {
    let Some(flow) = state.reply.as_mut() else {
        return Vec::new();
    };
    match command {
        Command::SendReply => {
            if flow.problem.is_some() {
                state.error(text::REPLY_FIX_FIRST);
                return Vec::new();
            }
            let Some(check) = &flow.check else {
                state.info(text::REPLY_STILL_CHECKING);
                return Vec::new();
            };
            // The report came encrypted and this reply would not be: sending it readable
            // needs a yes that says so, as `secdesk reply` asks it.
            if check.readable.is_some() {
                state.overlay = Overlay::Confirm(Confirm {
                    question: text::send_unencrypted(
                        check.over_limit.as_ref().map(|_| check.recipients),
                    ),
                    on_yes: OnYes::SendReply,
                });
                return Vec::new();
            }
            // Over `[reply] max_recipients`: sending needs a yes that names the count, as
            // `secdesk reply` asks it.
            if check.over_limit.is_some() {
                state.overlay = Overlay::Confirm(Confirm {
                    question: text::send_to_all(check.recipients),
                    on_yes: OnYes::SendReply,
                });
                return Vec::new();
            }
            send(state)
        }
        Command::EditReply => {
            flow.previewing = false;
            vec![Request::EditReply(flow.buffer.clone())]
        }
        Command::CancelReply | Command::Back => {
            let id = flow.draft.report_id;
            state.reply = None;
            state.info(text::REPLY_CANCELLED);
            vec![Request::ReplyAbandoned(id)]
        }
        // Ctrl-C quits from anywhere; the draft was never queued, so nothing is left behind.
        Command::Quit => {
            state.reply = None;
            state.quit = true;
            Vec::new()
        }
        // The motions scroll it (`motion::scroll_reply_preview`); nothing else does anything.
        _ => Vec::new(),
    }
}

/// Hands the previewed draft to the outbox. A preview that said the reply goes out
/// readable though its report came encrypted was confirmed to get here: that yes is kept
/// with the draft, so delivery sends it readable.
pub fn send(state: &mut State) -> Vec<Request> {
    match state.reply.take() {
        Some(mut flow) => {
            if flow.check.as_ref().is_some_and(|c| c.readable.is_some()) {
                flow.draft.unencrypted_ok = true;
            }
            vec![Request::QueueReply(Box::new(flow.draft))]
        }
        None => Vec::new(),
    }
}

/// What the status line says about a delivery attempt.
fn delivered(state: &mut State, d: &Delivery) {
    let r = d.report_id;
    match &d.outcome {
        Outcome::Sent {
            already_on_server,
            resent,
            states,
            state_error,
            sent_copy_error,
        } => {
            let now = states.last().map(|s| s.to_string());
            let sent = text::reply_sent(r, *already_on_server, *resent, now.as_deref());
            match state_error.as_ref().or(sent_copy_error.as_ref()) {
                Some(w) => state.error(text::reply_sent_with_warning(&sent, w)),
                None => state.info(sent),
            }
        }
        Outcome::Queued {
            error,
            next_attempt_at,
            ..
        } => state.error(text::reply_still_queued(
            r,
            d.outbox_id,
            error,
            &delivery::when(next_attempt_at),
        )),
        Outcome::Failed { error } => state.error(text::reply_refused(r, error)),
        Outcome::Unverified { error, .. } => state.error(text::reply_unverified(r, error)),
        Outcome::SentUnrecorded { error } => state.error(text::reply_sent_unrecorded(r, error)),
        Outcome::UncertainUnrecorded { error } => {
            state.error(text::reply_uncertain_unrecorded(r, d.outbox_id, error))
        }
        Outcome::NotRecorded { error, .. } => state.error(text::reply_not_recorded(r, error)),
        Outcome::Skipped { why } => state.info(text::reply_taken_elsewhere(why)),
    }
}
