//! The held queue as the CLI (`secdesk held`) and the desk use it: fetch every configured
//! list's held posts with the classifier's verdict, moderate one post safely, sweep the spam.
//!
//! Safety: Mailman reuses request ids, so an action re-reads the post first and goes ahead
//! only when it is still the one the moderator saw (same Message-ID, sender, subject and hold
//! date); otherwise, as when Mailman answers 404, it is "already handled". The same post with
//! another text than the listing showed (Mailman gives the text of whichever post holds its
//! Message-ID, or "Message content lost" once that one was handled) is "changed since the
//! listing" and left held. Every action Mailman carried out is recorded
//! (`core::moderation::record`), with the classifier trained on discards and accepts of
//! posts whose text is their own.

use std::borrow::BorrowMut;
use std::time::{Duration, UNIX_EPOCH};

use chrono::Utc;

use super::{Client, HeldQueue, MailmanError, Moderated};
use crate::core::classify::Classifier;
use crate::core::config::Config;
use crate::core::moderation::cache::{Classified, Coverage};
use crate::core::moderation::gaps;
use crate::core::moderation::{
    self, Action, ClassifiedPost, Decision, HeldPost, ModerationError, Recorded,
};
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;

/// Why the held queue cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{path} has no [mailman] section: add rest_url, username, password_command and lists (see config.example.toml) to moderate the list's held queue")]
    NotConfigured { path: String },
    #[error(transparent)]
    Mailman(#[from] MailmanError),
    #[error("Mailman did {action} request {request_id} of {list}, but the desk could not record it: {source}")]
    NotRecorded {
        action: Action,
        request_id: u64,
        list: String,
        source: Box<ModerationError>,
    },
}

/// The client for `config`'s `[mailman]`, each request bounded by `[sync] timeout_seconds`.
pub fn connect(config: &Config) -> Result<Client, QueueError> {
    let mailman = config
        .mailman
        .as_ref()
        .ok_or_else(|| QueueError::NotConfigured {
            path: config.source.display().to_string(),
        })?;
    let timeout = Duration::from_secs(config.sync.timeout_seconds.max(1));
    Ok(Client::new(mailman, timeout)?)
}

/// The lists to look at: `only` when given, else every configured list.
pub fn lists<'a>(config: &'a Config, only: Option<&'a str>) -> Vec<&'a str> {
    match only {
        Some(l) => vec![l],
        None => config
            .mailman
            .iter()
            .flat_map(|m| m.lists.iter().map(String::as_str))
            .collect(),
    }
}

/// Every held post of `lists`, classified, with its sender authentication read as ingest
/// reads it (`trusted`: `[sync] authserv_id`). Mailman builds every held entry slowly
/// (docs/benchmarks.md), so `load` (opening the store and loading its classifier) runs on
/// this thread while another fetches. Verdicts this classifier gave before under the same
/// `trusted` are reused from the store (`moderation::cache`); `coverage` says whether
/// `lists` is the whole queue. Gives the store back with the posts; what the listing could
/// not show is in `Classified::gaps`.
pub fn fetch_loading<S: BorrowMut<Store>, E: From<QueueError>>(
    client: &Client,
    lists: &[&str],
    coverage: Coverage,
    trusted: &[String],
    load: impl FnOnce() -> Result<(S, Classifier), E>,
) -> Result<(Classified, S), E> {
    let (held, loaded) = std::thread::scope(|s| {
        let fetching = s.spawn(|| held_posts(client, lists));
        let loaded = load();
        (fetching.join(), loaded)
    });
    // The fetch only panics on a bug: surface it, as the classifier's workers do.
    let HeldQueue { posts: held, gaps } =
        held.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let (mut store, classifier) = loaded?;
    // A listing that may miss posts does not cover the queue: the verdicts of posts it
    // did not show are kept.
    let coverage = if gaps::incomplete(&gaps) {
        Coverage::Part
    } else {
        coverage
    };
    let mut classified = match build_identity() {
        Some(build) => moderation::cache::classify_cached(
            store.borrow_mut(),
            &classifier,
            trusted,
            &build,
            held,
            coverage,
        ),
        None => Classified {
            posts: moderation::classify(&classifier, trusted, held),
            reused: 0,
            cache_error: None,
            gaps: Vec::new(),
        },
    };
    classified.gaps = gaps;
    Ok((classified, store))
}

/// Names the running executable (path, size, modification time), so that verdicts kept by
/// one build are never reused by another; `None` when it cannot be told.
fn build_identity() -> Option<Vec<u8>> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{} {} {}", exe.display(), meta.len(), modified.as_nanos()).into_bytes())
}

/// Every held post of `lists`, in each list's order, not yet classified, and what the
/// listing could not show (entries without a usable request id, a count that disagrees).
pub fn held_posts(client: &Client, lists: &[&str]) -> Result<HeldQueue, QueueError> {
    let mut queue = HeldQueue::default();
    for list in lists {
        let one = client.held(list)?;
        queue.posts.extend(one.posts);
        queue.gaps.extend(one.gaps);
    }
    Ok(queue)
}

/// The held posts with this request id, looked up in each of `lists` (request ids are
/// per Mailman, but a moderator may name several lists). When none holds it, a list Mailman
/// does not have is an error: its 404 would otherwise read as "no longer held", and a
/// command with a mistyped `--list` would say "already handled" and exit 0 with the post
/// still held. (Asked only then: a post found needs no such check.)
pub fn find(client: &Client, lists: &[&str], request_id: u64) -> Result<Vec<HeldPost>, QueueError> {
    let mut found = Vec::new();
    for list in lists {
        found.extend(client.held_post(list, request_id)?);
    }
    if found.is_empty() {
        for list in lists {
            if !client.has_list(list)? {
                return Err(MailmanError::NoSuchList {
                    list: terminal_line(list),
                }
                .into());
            }
        }
    }
    Ok(found)
}

/// Who acts, and on what store.
pub struct Moderator<'a> {
    pub client: &'a Client,
    pub store: &'a mut Store,
    /// The `[identity]` email, recorded with each action.
    pub moderator: &'a str,
}

/// What became of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acted {
    Done(Recorded),
    /// No longer held (Mailman's 404), or its request id now holds another post.
    AlreadyHandled,
    /// Still held, but Mailman now gives another text for it than the listing showed:
    /// nothing was done, it stays held for a person to look at again.
    Changed,
}

/// What Mailman made of an action on the post the moderator saw ([`moderate_seen`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Mailman carried it out: record it.
    Done,
    /// No longer held, or its request id now holds another post: nothing done.
    AlreadyHandled,
    /// The same post with another text than the listing showed: nothing done.
    Changed,
}

/// The network half of an action, for a caller that keeps the store on another thread
/// (the desk): re-reads the post, and acts only if it still holds the message the moderator
/// saw, with the text it showed. Record an [`Attempt::Done`] with [`record`].
pub fn moderate_seen(
    client: &Client,
    seen: &ClassifiedPost,
    action: Action,
    comment: Option<&str>,
) -> Result<Attempt, QueueError> {
    let p = &seen.post;
    match client.held_post(&p.list, p.request_id)? {
        Some(now) if same_post(&now, p) => {
            // The text is what a discard judged and teaches: another text than the one
            // shown (another post's, or Mailman's stand-in once it was handled) is not it.
            if now.raw != p.raw {
                return Ok(Attempt::Changed);
            }
        }
        _ => return Ok(Attempt::AlreadyHandled),
    }
    Ok(
        match client.moderate(&p.list, p.request_id, action, comment)? {
            Moderated::Done => Attempt::Done,
            Moderated::AlreadyHandled => Attempt::AlreadyHandled,
        },
    )
}

/// Whether the post now held under a request id is the one the moderator saw. Mailman
/// reuses a freed request id for the next post; the Message-ID, sender and subject are the
/// sender's to choose (spam can copy a real report's Message-ID), so the hold date, which
/// Mailman sets, must match too. The text is compared apart ([`moderate_seen`]): the same
/// post with another text is "changed", not "already handled".
fn same_post(now: &HeldPost, seen: &HeldPost) -> bool {
    now.message_id == seen.message_id
        && now.sender == seen.sender
        && now.subject == seen.subject
        && now.hold_date == seen.hold_date
}

/// The store half of an action Mailman carried out: the record, the report event and the
/// training (a discard as spam, an accept as not spam, when `train` and the post's text is
/// its own: never one in doubt, `ClassifiedPost::doubt`).
pub fn record(
    store: &mut Store,
    moderator: &str,
    seen: &ClassifiedPost,
    action: Action,
    comment: Option<&str>,
    train: bool,
) -> Result<Recorded, QueueError> {
    let p = &seen.post;
    let decision = Decision {
        post: p,
        action,
        moderator,
        at: Utc::now(),
        comment,
        verdict: Some(&seen.verdict),
        auth: Some(&seen.auth),
        train: train && seen.doubt.is_none(),
    };
    moderation::record(store, &decision).map_err(|source| QueueError::NotRecorded {
        action,
        request_id: p.request_id,
        list: p.list.clone(),
        source: Box::new(source),
    })
}

impl Moderator<'_> {
    /// Moderates the post the moderator saw ([`moderate_seen`], then [`record`]). `comment`
    /// is a reject's reason, mailed to the sender; `train` teaches the classifier.
    pub fn act(
        &mut self,
        seen: &ClassifiedPost,
        action: Action,
        comment: Option<&str>,
        train: bool,
    ) -> Result<Acted, QueueError> {
        match moderate_seen(self.client, seen, action, comment)? {
            Attempt::Done => {}
            Attempt::AlreadyHandled => return Ok(Acted::AlreadyHandled),
            Attempt::Changed => return Ok(Acted::Changed),
        }
        record(self.store, self.moderator, seen, action, comment, train).map(Acted::Done)
    }

    /// Discards each post (all classified spam by [`moderation::spam_sweep`]), training the
    /// classifier, and calls `progress` after each. Stops at the first error that is not
    /// "already handled": what was done so far stays done and recorded, and the error says
    /// exactly how much that was.
    pub fn sweep(
        &mut self,
        posts: &[&ClassifiedPost],
        mut progress: impl FnMut(&ClassifiedPost, Acted),
    ) -> Result<SweepSummary, SweepStopped> {
        let mut summary = SweepSummary::default();
        for (at, post) in posts.iter().enumerate() {
            // Belt and braces: a sweep never touches a post not classified spam.
            if !moderation::is_sweepable_spam(post) {
                continue;
            }
            let acted = self
                .act(post, Action::Discard, None, true)
                .map_err(|source| SweepStopped {
                    at: at + 1,
                    total: posts.len(),
                    done: summary,
                    post: format!(
                        "request {} (\"{}\" from {})",
                        post.post.request_id,
                        terminal_line(&post.post.subject),
                        terminal_line(&post.post.sender)
                    ),
                    source: Box::new(source),
                })?;
            match acted {
                Acted::Done(_) => summary.discarded += 1,
                Acted::AlreadyHandled => summary.already_handled += 1,
                Acted::Changed => summary.changed += 1,
            }
            progress(post, acted);
        }
        Ok(summary)
    }
}

/// A sweep stopped by an error: how far it got, what it did, and the post it was at, whose
/// fate is unknown when Mailman did not answer (it may have discarded it).
#[derive(Debug, thiserror::Error)]
#[error(
    "the sweep stopped at post {at} of {total}: {} discarded and recorded, {} already handled, {} changed since the listing and left held, the rest still held; at {post}: {source}; list the held posts again to see whether Mailman discarded it",
    done.discarded,
    done.already_handled,
    done.changed
)]
pub struct SweepStopped {
    /// The post it stopped at, counted from 1.
    pub at: usize,
    pub total: usize,
    /// What the posts before it came to.
    pub done: SweepSummary,
    /// The post it stopped at, terminal-safe: `request 7 ("…" from …)`.
    pub post: String,
    #[source]
    pub source: Box<QueueError>,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub discarded: usize,
    pub already_handled: usize,
    /// Posts Mailman now gives another text for than the listing showed: left held.
    pub changed: usize,
}
