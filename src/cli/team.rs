//! The team events step of `secdesk sync` (docs/team.md): push this desk's queued triage
//! events to `[team] events_mailbox`, fold the other desks' in, and say what was ignored.

use chrono::{DateTime, Utc};

use crate::core::config::Config;
use crate::core::sanitize::terminal_line;
use crate::core::store::Store;
use crate::core::team::replying::{self, Replying};
use crate::mailio::imap::{account, Endpoint, ImapSession};
use crate::mailio::moderation;
use crate::mailio::team::{sync_events, TeamSyncReport};

/// Writes moderation back (`[imap] junk_moderation`), then runs the events sync when team
/// sharing is on, then writes back what the other members' changes called for (a report
/// this desk moved to Junk that the team settled as not spam). Warnings go to stderr;
/// summary lines are returned for `--verbose`.
pub fn after_mail_sync(
    config: &Config,
    endpoint: &Endpoint,
    session: &mut ImapSession,
    store: &mut Store,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    write_back(config, endpoint, session, store, &mut lines)?;
    if !config.team_sharing() {
        return Ok(lines);
    }
    let started = std::time::Instant::now();
    let report = sync_events(endpoint, session, config, store)?;
    let took = started.elapsed();
    if report.fold.applied + report.fold.caught_up > 0 {
        write_back(config, endpoint, session, store, &mut lines)?;
    }
    let mailbox = &config.team.events_mailbox;
    if let Some(line) = report.refill_line(mailbox) {
        eprintln!("secdesk: {}", terminal_line(&line));
    }
    if let Some(warning) = report.non_member_warning(mailbox) {
        eprintln!("secdesk: {warning}");
    }
    if report.fold.unreadable > 0 {
        eprintln!(
            "secdesk: skipped {} {} in {mailbox} that {} not secdesk team events",
            report.fold.unreadable,
            if report.fold.unreadable == 1 {
                "message"
            } else {
                "messages"
            },
            if report.fold.unreadable == 1 {
                "is"
            } else {
                "are"
            },
        );
    }
    if report.fold.by_mail > 0 {
        eprintln!("secdesk: {}", by_mail_warning(report.fold.by_mail, mailbox));
    }
    // A claim or a state of ours that another member's concurrent change replaced: said,
    // so nobody goes on believing a report is theirs.
    for o in report.fold.lost_by(&config.identity.email) {
        eprintln!("secdesk: {}", terminal_line(&o.line()));
    }
    lines.push(summary_line(&report, took));
    Ok(lines)
}

/// Carries out the queued moderation; errors go to stderr, a summary line to `lines`.
fn write_back(
    config: &Config,
    endpoint: &Endpoint,
    session: &mut ImapSession,
    store: &mut Store,
    lines: &mut Vec<String>,
) -> anyhow::Result<()> {
    let Some(imap) = &config.imap else {
        return Ok(());
    };
    let m = moderation::write_back(endpoint, session, imap, store)?;
    for e in &m.errors {
        eprintln!("secdesk: moderation on the server: {}", terminal_line(e));
    }
    if m.junked + m.restored + m.not_junk > 0 {
        lines.push(format!(
            "moderation: {} moved to Junk, {} restored, {} marked not junk",
            m.junked, m.restored, m.not_junk
        ));
    }
    Ok(())
}

/// The warning for messages in the events folder that came by mail (docs/team.md, Trust).
fn by_mail_warning(n: usize, mailbox: &str) -> String {
    format!(
        "ignored {n} {} in {mailbox} that came by mail, not from a desk (delivered with Received/Return-Path trace fields): anyone can send mail, so it is never a team event; check what files mail into {mailbox}",
        if n == 1 { "message" } else { "messages" },
    )
}

/// `team: pushed 2 events, applied 3 (1 lost to a concurrent change) in 0.012 s`
fn summary_line(r: &TeamSyncReport, took: std::time::Duration) -> String {
    let mut line = format!(
        "team: pushed {} {}, applied {}",
        r.pushed,
        if r.pushed == 1 { "event" } else { "events" },
        r.fold.applied + r.fold.caught_up
    );
    if r.fold.lost > 0 {
        line.push_str(&format!(" ({} lost to a concurrent change)", r.fold.lost));
    }
    line.push_str(&format!(" in {:.3} s", took.as_secs_f64()));
    line
}

/// `show --json`'s report with `replying: {"by", "since"}` or `null` added.
pub fn with_replying<T: serde::Serialize>(
    store: &Store,
    id: i64,
    detail: &T,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(detail)?;
    let replying = replying::replying(store.conn(), id, now)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("replying".into(), serde_json::to_value(replying)?);
    }
    Ok(value)
}

/// `Ada is replying (4 min)`, for the report view, when someone is.
pub fn replying_line(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    Ok(replying::replying(store.conn(), id, now)?.map(|r| describe(config, &r, now)))
}

fn describe(config: &Config, r: &Replying, now: DateTime<Utc>) -> String {
    let who = config
        .member(&r.by)
        .map_or(r.by.as_str(), |m| m.name.as_str());
    format!(
        "{} is replying ({} min)",
        terminal_line(who),
        r.minutes(now)
    )
}

/// A reply recorded as started, for [`end_reply`].
#[derive(Debug)]
pub struct ReplyStarted {
    /// Whether the start could not be shared with the team (and the user was told so).
    unshared: bool,
}

/// Before `secdesk reply` opens the editor: warns when another member is already replying
/// (and asks, when `ask` is set), then records "reply started". `None` when the user
/// chose not to go on.
pub fn start_reply(
    config: &Config,
    store: &mut Store,
    id: i64,
    ask: impl FnOnce(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<Option<ReplyStarted>> {
    let now = Utc::now();
    let me = &config.identity.email;
    if let Some(other) = replying::other_replying(store, me, id, now)? {
        eprintln!(
            "secdesk: {} to report #{id}: two replies may reach the reporter",
            describe(config, &other, now)
        );
        if !ask("Reply anyway? [y/N] ")? {
            return Ok(None);
        }
    }
    replying::start(store, me, id, now)?;
    let unshared = !share_now(config, store, true);
    Ok(Some(ReplyStarted { unshared }))
}

/// Records how `secdesk reply` ended. When the start could not be shared either, the user
/// has heard why once already: the same line again would only repeat it.
pub fn end_reply(
    config: &Config,
    store: &mut Store,
    started: &ReplyStarted,
    id: i64,
    sent: bool,
) -> anyhow::Result<()> {
    let how = if sent {
        replying::ReplyEnd::Sent
    } else {
        replying::ReplyEnd::Abandoned
    };
    replying::end(store, &config.identity.email, id, Utc::now(), how)?;
    share_now(config, store, !started.unshared);
    Ok(())
}

/// Shares queued events at once, so other desks see "replying" on their next sync rather
/// than after ours. Best effort: offline, the events stay queued for the next sync, which
/// is said when `warn` is set. `false` when they could not be shared.
fn share_now(config: &Config, store: &mut Store, warn: bool) -> bool {
    let Some(imap) = config.imap.as_ref().filter(|_| config.team_sharing()) else {
        return true;
    };
    let shared = account::login(config, imap)
        .map_err(anyhow::Error::from)
        .and_then(|(endpoint, mut session)| {
            let r = sync_events(&endpoint, &mut session, config, store);
            let _ = session.logout();
            r.map_err(anyhow::Error::from)
        });
    let Err(e) = shared else {
        return true;
    };
    if warn {
        eprintln!(
            "secdesk: {}; the team hears about this reply with the next sync",
            terminal_line(&e.to_string())
        );
    }
    false
}
