//! The team events step of `secdesk sync` (docs/team.md): push this desk's queued triage
//! events to `[team] events_mailbox`, fold the other desks' in, and say what was ignored.

use crate::core::config::Config;
use crate::core::store::Store;
use crate::mailio::imap::{Endpoint, ImapSession};
use crate::mailio::team::{sync_events, TeamSyncReport};

/// Runs the events sync when team sharing is on. Warnings go to stderr; the summary line
/// is returned for `--verbose`.
pub fn after_mail_sync(
    config: &Config,
    endpoint: &Endpoint,
    session: &mut ImapSession,
    store: &mut Store,
) -> anyhow::Result<Option<String>> {
    if !config.team_sharing() {
        return Ok(None);
    }
    let report = sync_events(endpoint, session, config, store)?;
    let mailbox = &config.team.events_mailbox;
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
    Ok(Some(summary_line(&report)))
}

/// `team: pushed 2 events, applied 3 (1 lost to a concurrent change)`
fn summary_line(r: &TeamSyncReport) -> String {
    let mut line = format!(
        "team: pushed {} {}, applied {}",
        r.pushed,
        if r.pushed == 1 { "event" } else { "events" },
        r.fold.applied + r.fold.caught_up
    );
    if r.fold.lost > 0 {
        line.push_str(&format!(" ({} lost to a concurrent change)", r.fold.lost));
    }
    line
}
