//! Who else is answering a report (issue 13's team sync): "Ada is replying (4 min)" on the
//! queue's rows and in the report view, and the desk's `r` recorded as a reply start and end
//! (`core::team::replying`, as `secdesk reply` records it). The events go out with the next
//! sync round: the store worker never waits on the network for them.

use chrono::{DateTime, Utc};

use crate::core::config::Config;
use crate::core::store::Store;
use crate::core::team::replying::{self, ReplyEnd, Replying};

/// "Ada is replying (4 min)" when a member is answering report `id`. A store that cannot
/// say has nothing to show: the line is a courtesy, the report still opens.
pub fn replying(config: &Config, store: &Store, id: i64, now: DateTime<Utc>) -> Option<String> {
    let r = replying::replying(store.conn(), id, now).ok().flatten()?;
    Some(describe(config, &r, now))
}

fn describe(config: &Config, r: &Replying, now: DateTime<Utc>) -> String {
    let who = config
        .member(&r.by)
        .map_or(r.by.as_str(), |m| m.name.as_str());
    super::text::is_replying(who, r.minutes(now))
}

/// `r` on report `id`: who else is answering it ("Ada is replying (4 min)"), or `None`
/// when nobody else is.
pub fn other_replying(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Option<String> {
    let me = &config.identity.email;
    replying::other_replying(store, me, id, now)
        .ok()
        .flatten()
        .map(|r| describe(config, &r, now))
}

/// Records that I am replying to report `id`, for the other desks. Best effort: a failure
/// here must not stop the reply.
pub fn start(config: &Config, store: &mut Store, id: i64, now: DateTime<Utc>) {
    let _ = replying::start(store, &config.identity.email, id, now);
}

/// The reply was queued (`sent`) or cancelled.
pub fn end(config: &Config, store: &mut Store, id: i64, sent: bool) {
    let how = if sent {
        ReplyEnd::Sent
    } else {
        ReplyEnd::Abandoned
    };
    let _ = replying::end(store, &config.identity.email, id, Utc::now(), how);
}
