//! The "Held" screen (`H`): the mailing list's hold queue (Mailman 3, issue 18), moderated
//! from the desk with the same calls as `secdesk held`. Fetching and moderating talk to
//! Mailman, so they run on a held worker of their own (like SMTP's delivery worker), never
//! on the UI thread or the store worker; the worker keeps its own store connection for the
//! classifier and the moderation record.
//!
//! ```text
//! H → HeldFetch (held worker: queue::fetch, classified as ingest would) → HeldLoaded
//! a / s / z → Moderate (held worker: Moderator::act = queue::moderate_seen, then
//!             queue::record; discard as spam and accept train the classifier) → Moderated
//!           → the status line says what was done, and the queue is fetched again
//! ```

use super::action::{Action, Request};
use super::app::{Screen, State};
use super::keymap::Command;
use super::text;
use crate::core::classify::load_classifier;
use crate::core::config::Config;
use crate::core::moderation::{self, ClassifiedPost};
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;
use crate::mailio::mailman::queue::{self, Acted, Moderator};

/// `H`: the held screen, fetched afresh.
pub fn open(state: &mut State) -> Vec<Request> {
    state.screen = Screen::Held;
    state.held_loading = true;
    vec![Request::HeldFetch]
}

/// Keys on the held screen that act on the post under the cursor.
pub fn on_command(state: &mut State, command: Command) -> Vec<Request> {
    let action = match command {
        Command::HeldAccept => moderation::Action::Accept,
        Command::HeldDiscard => moderation::Action::Discard,
        Command::HeldDefer => moderation::Action::Defer,
        _ => return Vec::new(),
    };
    let Some(post) = state
        .held
        .as_ref()
        .and_then(|h| h.as_ref().ok())
        .and_then(|posts| posts.get(state.held_cursor))
        .cloned()
    else {
        state.info(text::NO_HELD_POST);
        return Vec::new();
    };
    state.info(text::moderating(action.as_str(), post.post.request_id));
    vec![Request::Moderate(Box::new(post), action)]
}

/// The held worker's answers.
pub fn on_action(state: &mut State, action: Action) -> Vec<Request> {
    match action {
        Action::HeldLoaded(result) => {
            state.held_loading = false;
            if let Ok(posts) = &result {
                state.held_cursor = state.held_cursor.min(posts.len().saturating_sub(1));
            }
            state.held = Some(result);
            Vec::new()
        }
        Action::Moderated(result) => {
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
        _ => Vec::new(),
    }
}

/// Moves the cursor on the held screen.
pub fn move_by(state: &mut State, delta: i64) {
    let len = state
        .held
        .as_ref()
        .and_then(|h| h.as_ref().ok())
        .map_or(0, Vec::len);
    let to = (state.held_cursor as i64).saturating_add(delta).max(0) as usize;
    state.held_cursor = to.min(len.saturating_sub(1));
}

/// The held worker's side of [`Request::HeldFetch`]: every configured list's held posts,
/// classified.
pub fn fetch(config: &Config, store: &mut Store) -> Action {
    let mut fetched = || -> anyhow::Result<Vec<ClassifiedPost>> {
        let client = queue::connect(config)?;
        let lists = queue::lists(config, None);
        let classifier = load_classifier(store, Some(&config.dir()))?;
        Ok(queue::fetch(&client, &lists, &classifier)?)
    };
    Action::HeldLoaded(fetched().map_err(|e| text::held_failed(&one_line(&e))))
}

/// The held worker's side of [`Request::Moderate`]: acts only if Mailman still holds the
/// post the moderator saw, and records it.
pub fn moderate(
    config: &Config,
    store: &mut Store,
    seen: &ClassifiedPost,
    action: moderation::Action,
) -> Action {
    let mut acted = || -> anyhow::Result<Acted> {
        let client = queue::connect(config)?;
        let mut moderator = Moderator {
            client: &client,
            store,
            moderator: &config.identity.email,
        };
        Ok(moderator.act(seen, action, None, true)?)
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
        Err(e) => Err(text::held_failed(&one_line(&e))),
    })
}

fn one_line(e: &anyhow::Error) -> String {
    terminal_line(&format!("{e:#}"))
}
