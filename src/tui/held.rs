//! The "Held" screen (`H`): the mailing list's hold queue (Mailman 3, issue 18), moderated
//! from the desk with the same calls as `secdesk held`. Fetching and moderating talk to
//! Mailman, so they run on a held worker of their own (like SMTP's delivery worker), never
//! on the UI thread or the store worker; the worker keeps its own store connection for the
//! classifier and the moderation record.
//!
//! ```text
//! H → HeldFetch (held worker: held::fetch_loading, classified as ingest would) → HeldLoaded
//!   (with what the listing could not show: held entries without a usable request id, a
//!   count that disagrees; said in red above the posts, never swept)
//! a / s / z → Moderate (held worker: Moderator::act = held::moderate_seen, then
//!             held::record; discard as spam and accept train the classifier) → Moderated
//!           → the status line says what was done, and the queue is fetched again
//! r → RejectReasons (held worker: the reject templates, rendered for the post)
//!   → picker of reasons → preview of the text Mailman will mail to the sender
//!     (y: Moderate with it as `comment`; e: EditRejectReason, the UI loop runs $EDITOR
//!     → RejectReasonEdited → preview again; n/Esc: nothing is sent)
//! S → "discard N held posts classified spam? y/N" (only outcome spam: never valid,
//!     invalid or unsure) → y → HeldSweep (held worker: Moderator::sweep, one post at a
//!     time, SweepProgress after each) → Moderated → fetched again
//! ```

use super::action::{Action, Request};
use super::app::{
    Confirm, OnYes, Overlay, Picker, PickerChoice, PickerPurpose, RejectFlow, Screen, State,
};
use super::keymap::Command;
use super::text;
use crate::core::classify::load_classifier;
use crate::core::config::Config;
use crate::core::moderation::cache::Coverage;
use crate::core::moderation::{self, reject_reasons, ClassifiedPost};
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;
use crate::mailio::mailman::held::{self, Acted, Moderator};

/// `H`: the held screen, fetched afresh.
pub fn open(state: &mut State) -> Vec<Request> {
    state.screen = Screen::Held;
    state.held_loading = true;
    vec![Request::HeldFetch]
}

/// The held posts on screen (none until fetched).
fn posts(state: &State) -> &[ClassifiedPost] {
    state
        .held
        .as_ref()
        .and_then(|h| h.as_ref().ok())
        .map_or(&[], Vec::as_slice)
}

/// Keys on the held screen: the post under the cursor for a, s, z and r; every post
/// classified spam for S.
pub fn on_command(state: &mut State, command: Command) -> Vec<Request> {
    let action = match command {
        Command::HeldAccept => moderation::Action::Accept,
        Command::HeldDiscard => moderation::Action::Discard,
        Command::HeldDefer => moderation::Action::Defer,
        Command::HeldReject => moderation::Action::Reject,
        Command::HeldSweep => return ask_sweep(state),
        _ => return Vec::new(),
    };
    let Some(post) = posts(state).get(state.held_cursor).cloned() else {
        state.info(text::NO_HELD_POST);
        return Vec::new();
    };
    if action == moderation::Action::Reject {
        state.held_reject = None;
        return vec![Request::RejectReasons(Box::new(post))];
    }
    state.info(text::moderating(action.as_str(), post.post.request_id));
    vec![Request::Moderate(Box::new(post), action, None)]
}

/// `S`: the count first, as a y/N question; y discards exactly the posts classified spam.
fn ask_sweep(state: &mut State) -> Vec<Request> {
    if let Some((done, total)) = state.held_sweep {
        state.info(text::sweep_progress(done, total));
        return Vec::new();
    }
    let all = posts(state);
    let doomed: Vec<ClassifiedPost> = moderation::spam_sweep(all).into_iter().cloned().collect();
    if doomed.is_empty() {
        let n = all.len();
        state.info(text::nothing_to_sweep(n));
        return Vec::new();
    }
    let stay = all.len() - doomed.len();
    state.overlay = Overlay::Confirm(Confirm {
        question: text::confirm_sweep(doomed.len(), stay),
        on_yes: OnYes::Requests(vec![Request::HeldSweep(doomed)], None),
    });
    Vec::new()
}

/// The held worker's answers.
pub fn on_action(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::HeldLoaded(result, gaps) => {
            state.held_loading = false;
            state.held_gaps = gaps;
            if let Ok(fresh) = &result {
                state.held_cursor = follow(posts(state), state.held_cursor, fresh);
            }
            state.held = Some(result);
            Vec::new()
        }
        Action::Moderated(result) => {
            state.held_sweep = None;
            match result {
                Ok(line) => state.info(line),
                Err(e) => state.error(e),
            }
            if state.screen == Screen::Held {
                state.held_loading = true;
                vec![Request::HeldFetch]
            } else {
                Vec::new()
            }
        }
        Action::SweepProgress { done, total } => {
            state.held_sweep = Some((done, total));
            Vec::new()
        }
        Action::RejectReasons(post, reasons) => {
            offer_reasons(state, post, reasons);
            Vec::new()
        }
        Action::RejectReasonEdited(result) => reason_edited(state, result),
        _ => Vec::new(),
    }
}

/// The picker of reject reasons: each template by name, then the moderator's own words.
fn offer_reasons(
    state: &mut State,
    post: Box<ClassifiedPost>,
    reasons: Vec<reject_reasons::Reason>,
) {
    if state.screen != Screen::Held || state.overlay != Overlay::None {
        return;
    }
    let items = reasons
        .iter()
        .map(|r| {
            let label = match &r.text {
                Ok(_) => r.name.clone(),
                Err(_) => text::reason_broken(&r.name),
            };
            (label, PickerChoice::Template(Some(r.name.clone())))
        })
        .chain(std::iter::once((
            text::OWN_REASON.to_string(),
            PickerChoice::Template(None),
        )))
        .collect();
    state.held_reject = Some(RejectFlow {
        post,
        reasons,
        template: None,
        reason: String::new(),
        previewing: false,
        scroll: 0,
    });
    state.overlay = Overlay::Picker(Picker::new(PickerPurpose::RejectReason, items));
}

/// A reason was picked: its text goes to the preview; "own words" opens the editor.
pub fn reason_chosen(state: &mut State, template: Option<String>) -> Vec<Request> {
    let Some(flow) = state.held_reject.as_mut() else {
        return Vec::new();
    };
    let Some(name) = template else {
        flow.template = None;
        flow.previewing = false;
        return vec![Request::EditRejectReason(String::new())];
    };
    let text = flow
        .reasons
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.text.clone());
    match text {
        Some(Ok(reason)) => {
            flow.template = Some(name);
            flow.reason = reason;
            flow.previewing = true;
            flow.scroll = 0;
            state.status = None;
        }
        Some(Err(e)) => {
            state.held_reject = None;
            state.error(e);
        }
        None => state.held_reject = None,
    }
    Vec::new()
}

/// The editor's answer, as the reject flow takes it (the UI loop runs `reply::edit`).
pub fn edited(answer: Action) -> Action {
    match answer {
        Action::ReplyEdited(result) => Action::RejectReasonEdited(result),
        other => other,
    }
}

fn reason_edited(state: &mut State, result: Result<String, String>) -> Vec<Request> {
    let Some(flow) = state.held_reject.as_mut() else {
        return Vec::new();
    };
    match result {
        Ok(t) if t.trim().is_empty() => {
            state.held_reject = None;
            state.info(text::REJECT_EMPTY);
        }
        Ok(t) => {
            flow.reason = format!("{}\n", t.trim());
            flow.previewing = true;
            flow.scroll = 0;
            state.status = None;
        }
        // The preview comes back with the text as it was, when there was one.
        Err(e) => {
            flow.previewing = !flow.reason.trim().is_empty();
            let kept = flow.previewing;
            if !kept {
                state.held_reject = None;
            }
            state.error(text::reject_editor_failed(&e, kept));
        }
    }
    Vec::new()
}

/// Keys on the reject preview: y sends, e edits, n/Esc cancels.
pub fn on_preview_command(state: &mut State, command: Command) -> Vec<Request> {
    let Some(flow) = state.held_reject.as_mut() else {
        return Vec::new();
    };
    match command {
        Command::SendReply => {
            let Some(flow) = state.held_reject.take() else {
                return Vec::new();
            };
            let id = flow.post.post.request_id;
            state.info(text::moderating("reject", id));
            vec![Request::Moderate(
                flow.post,
                moderation::Action::Reject,
                Some(flow.reason),
            )]
        }
        Command::EditReply => {
            flow.previewing = false;
            vec![Request::EditRejectReason(flow.reason.clone())]
        }
        Command::CancelReply => {
            state.held_reject = None;
            state.info(text::REJECT_CANCELLED);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Where the cursor goes when the queue is fetched again: on the post it was on, or, when
/// that one is gone, on the first post after it that is still held. Never the same index
/// alone: posts handled above it (by another moderator, or a sweep) shift the queue, and a
/// key pressed as the new queue arrives would act on a post the moderator never aimed at.
fn follow(old: &[ClassifiedPost], cursor: usize, fresh: &[ClassifiedPost]) -> usize {
    let last = fresh.len().saturating_sub(1);
    let same = |a: &ClassifiedPost, b: &ClassifiedPost| {
        a.post.list == b.post.list
            && a.post.request_id == b.post.request_id
            && a.post.hold_date == b.post.hold_date
            && a.post.message_id == b.post.message_id
    };
    old.iter()
        .skip(cursor)
        .find_map(|was| fresh.iter().position(|now| same(was, now)))
        .unwrap_or(if old.is_empty() {
            cursor.min(last)
        } else {
            last
        })
}

/// Moves the cursor on the held screen.
pub fn move_by(state: &mut State, delta: i64) {
    let len = posts(state).len();
    let to = (state.held_cursor as i64).saturating_add(delta).max(0) as usize;
    state.held_cursor = to.min(len.saturating_sub(1));
}

/// The held worker's side of [`Request::HeldFetch`]: every configured list's held posts,
/// classified.
pub fn fetch(config: &Config, store: &mut Store) -> Action {
    let mut gaps = Vec::new();
    let mut fetched = || -> anyhow::Result<Vec<ClassifiedPost>> {
        let client = held::connect(config)?;
        let lists = held::lists(config, None);
        // A verdict not kept only costs the next refresh some time: nothing to report.
        let trusted = config.sync.trusted_authserv_ids();
        let (listed, _) = held::fetch_loading(&client, &lists, Coverage::Whole, &trusted, || {
            let classifier = load_classifier(store, Some(&config.dir()))?;
            anyhow::Ok((&mut *store, classifier))
        })?;
        gaps = listed.gaps;
        Ok(listed.posts)
    };
    let result = fetched().map_err(|e| text::held_failed(&one_line(&e)));
    Action::HeldLoaded(result, gaps)
}

/// The held worker's side of [`Request::RejectReasons`]: the templates read now, so a
/// reason added beside the config is offered without restarting the desk.
pub fn reasons(config: &Config, post: Box<ClassifiedPost>) -> Action {
    let reasons = reject_reasons::for_post(
        &config.dir(),
        &post.post,
        &config.identity.name,
        config.reply.signature.as_deref(),
    );
    Action::RejectReasons(post, reasons)
}

/// The held worker's side of [`Request::Moderate`]: acts only if Mailman still holds the
/// post the moderator saw, and records it. `comment` is a reject's reason.
pub fn moderate(
    config: &Config,
    store: &mut Store,
    seen: &ClassifiedPost,
    action: moderation::Action,
    comment: Option<&str>,
) -> Action {
    let mut acted = || -> anyhow::Result<Acted> {
        let client = held::connect(config)?;
        let mut moderator = Moderator {
            client: &client,
            store,
            moderator: &config.identity.email,
        };
        Ok(moderator.act(seen, action, comment, true)?)
    };
    let p = &seen.post;
    let what = text::held_post(
        p.request_id,
        &terminal_line(&p.subject),
        &terminal_line(&p.sender),
    );
    Action::Moderated(match acted() {
        Ok(Acted::Done(_)) => Ok(text::moderated(action.as_str(), &what)),
        Ok(Acted::AlreadyHandled) => Ok(text::already_moderated(&what)),
        Ok(Acted::Changed) => Err(text::changed_since_listing(&what)),
        Err(e) => Err(text::held_failed(&one_line(&e))),
    })
}

/// The held worker's side of [`Request::HeldSweep`]: discards each post (all classified
/// spam; `Moderator::sweep` checks again), calling `progress(done, total)` after each. An
/// error stops it: what was done stays done and recorded, and the line says how far it got.
pub fn sweep(
    config: &Config,
    store: &mut Store,
    posts: &[ClassifiedPost],
    mut progress: impl FnMut(usize, usize),
) -> Action {
    let total = posts.len();
    let mut done = 0;
    let mut swept = || -> anyhow::Result<held::SweepSummary> {
        let client = held::connect(config)?;
        let mut moderator = Moderator {
            client: &client,
            store,
            moderator: &config.identity.email,
        };
        let doomed: Vec<&ClassifiedPost> = posts.iter().collect();
        Ok(moderator.sweep(&doomed, |_, _| {
            done += 1;
            progress(done, total);
        })?)
    };
    let result = swept();
    Action::Moderated(match result {
        Ok(s) => Ok(text::swept(s.discarded, s.already_handled, s.changed)),
        Err(e) => Err(text::held_failed(&one_line(&e))),
    })
}

fn one_line(e: &anyhow::Error) -> String {
    terminal_line(&format!("{e:#}"))
}

#[cfg(test)]
mod tests;
