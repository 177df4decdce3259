//! The held-queue figures of `secdesk stats` (JSON key `moderation.held`): actions
//! taken on the held queue in the period, what each moderator cleared, and how long posts
//! were held before someone cleared them.
//!
//! The period selects actions by when they were taken; `until` is inclusive. A deferred post
//! is not cleared, so defers count as actions but not in `cleared_by` or `time_held`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::durations::{figures, TimeFigures};
use crate::core::store::{parse_timestamp, Result, Store};

/// Moderation in a period.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ModerationStats {
    /// Actions taken, by action (`accept`, `discard`, `reject`, `defer`).
    pub actions: BTreeMap<String, usize>,
    /// Per moderator: the posts they cleared, by action.
    pub cleared_by: BTreeMap<String, ClearedPosts>,
    /// From Mailman's hold date to the action that cleared the post.
    pub time_held: TimeFigures,
}

/// The posts one moderator cleared from the queue.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ClearedPosts {
    pub accepted: usize,
    pub discarded: usize,
    pub rejected: usize,
}

/// Computes the figures for actions taken in `[from, to)` (either end open).
pub fn compute(
    store: &Store,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<ModerationStats> {
    let mut stats = ModerationStats {
        actions: super::Action::ALL
            .iter()
            .map(|a| (a.as_str().to_string(), 0))
            .collect(),
        ..ModerationStats::default()
    };
    let mut stmt = store
        .conn()
        .prepare("SELECT action, moderator, at, held_at FROM moderation ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut held_hours = Vec::new();
    for row in rows {
        let (action, moderator, at, held_at) = row?;
        let Some(at) = parse_timestamp(&at) else {
            continue;
        };
        if from.is_some_and(|f| at < f) || to.is_some_and(|t| at >= t) {
            continue;
        }
        *stats.actions.entry(action.clone()).or_default() += 1;
        let cleared = match action.as_str() {
            "accept" | "discard" | "reject" => stats.cleared_by.entry(moderator).or_default(),
            _ => continue,
        };
        match action.as_str() {
            "accept" => cleared.accepted += 1,
            "discard" => cleared.discarded += 1,
            _ => cleared.rejected += 1,
        }
        if let Some(held) = held_at.as_deref().and_then(parse_timestamp) {
            held_hours.push((at - held).num_seconds().max(0) as f64 / 3600.0);
        }
    }
    stats.time_held = figures(held_hours);
    Ok(stats)
}
