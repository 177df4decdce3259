//! `secdesk sync`: fetch new mail from the IMAP mailboxes into the store, and fail on any gap.
//!
//! Connects and opens the mailbox before touching the database, so a wrong
//! password, an unreachable server or a bad mailbox name leaves the store as it
//! was (not even created). Quiet when stdout is not a terminal unless
//! `--verbose`; errors are one line on stderr either way.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::core::config::{Config, ConfigError, ImapConfig};
use crate::core::ingest::{IngestSummary, Ingestor};
use crate::core::store::Store;
use crate::core::triage::history;
use crate::mailio::gpg;
use crate::mailio::imap::sync::{self, SyncProgress, SyncReport, DEFAULT_BATCH_SIZE};
use crate::mailio::imap::{account, connect, Endpoint, ImapSession};

use super::output::{self, counted};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the summary line even when stdout is not a terminal.
    #[arg(long, short)]
    pub verbose: bool,
    /// UIDs fetched per IMAP command (and stored per transaction).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_name = "N", hide = true)]
    pub batch_size: usize,
}

/// The `[imap]` section `sync` needs: its absence is a config matter (exit 78).
fn imap_section(config: &Config) -> Result<&ImapConfig, ConfigError> {
    config.imap.as_ref().ok_or_else(|| ConfigError::Invalid {
        path: config.source.clone(),
        message: "it has no [imap] section: add host, username and password_command to sync"
            .to_string(),
    })
}

/// The cursors are trusted only once the server's word agrees with what is stored: a
/// server that gave stored UIDs to other messages has its mailbox listed from UID 1, said on
/// stderr. The check asks the selected mailbox (the last one examined): with several, each
/// is selected again for it, in order, so the last one is selected after as before. A check
/// that asked the server examines its mailbox again: the answer may have carried news (new
/// mail's EXISTS) that the counts `nothing_new` weighs would otherwise miss.
fn verify_cursors(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &mut [sync::Examined],
    store: &mut Store,
) -> anyhow::Result<()> {
    let several = examined.len() > 1;
    for e in examined.iter_mut() {
        if several {
            *e = sync::examine(endpoint, session, &e.mailbox)?;
        }
        let (renumbered, asked) = sync::verify_cursor(endpoint, session, e, store)?;
        if let Some(line) = renumbered {
            eprintln!("secdesk: {line}");
        }
        if asked {
            *e = sync::examine(endpoint, session, &e.mailbox)?;
        }
    }
    Ok(())
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = ctx.config()?;
    let imap = imap_section(&config)?;
    let (endpoint, mut session) = account::login(&config, imap)?;
    let mailboxes = imap.sync_mailboxes();
    // Every mailbox is opened once before the store is touched, so a wrong name leaves
    // the store as it was.
    let mut examined = mailboxes
        .iter()
        .map(|name| sync::examine(&endpoint, &mut session, name))
        .collect::<Result<Vec<_>, _>>()?;

    let mut store = ctx.open_store(&config.store_path(), Store::open)?;
    verify_cursors(&endpoint, &mut session, &mut examined, &mut store)?;

    let show_progress = output::stdout_is_terminal() && std::io::stderr().is_terminal();
    let bar = show_progress.then(|| {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} {bar:30} {pos}/{len} messages ({per_sec}, {eta})",
            )
            // The template is a constant; the fallback only guards against an indicatif change.
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    });
    let mut on_progress = |mailbox: &str, p: SyncProgress| {
        if let Some(b) = &bar {
            match p {
                SyncProgress::Planned { total } => {
                    b.set_message(format!("syncing {mailbox}"));
                    b.set_position(0);
                    b.set_length(total as u64);
                }
                SyncProgress::Stored { done } => b.set_position(done as u64),
            }
        }
    };

    // With nothing new, no message is stored: the classifier is not loaded.
    let result = if sync::nothing_new(&examined, &store)? {
        let ingestor = Ingestor::without_classifier().with_config(&config);
        sync::settle_unchanged(&endpoint, &mut session, &examined, &mut store, &ingestor)
    } else {
        let ingestor = Ingestor::from_store(&mut store, Some(&config.dir()))?
            .with_config(&config)
            .with_pgp(gpg::engine(&config));
        // A message that broke the session again is a gap: a new session goes on.
        let mut relogin = account::relogin(&config, imap);
        let remote = sync::Remote {
            endpoint: &endpoint,
            session: &mut session,
            batch_size: args.batch_size,
            relogin: Some(&mut relogin),
            // Asked for: every message recorded missing is asked for again now.
            retry: sync::Retry::EverySync,
        };
        sync::sync_mailboxes(remote, &mailboxes, &mut store, &ingestor, &mut on_progress)
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let server = format!("{}:{}", endpoint.host, endpoint.port);
    // A mailbox that failed ends the sync; the gaps of those synced before it (and of the
    // one that lost its session) are named all the same (what was stored stays, the missing
    // UIDs are asked for next time).
    if let Err(e) = &result {
        print_gaps(e.reports_so_far(), &server);
    }
    let reports = result?;
    let team = super::team::after_mail_sync(&config, &endpoint, &mut session, &mut store)?;
    // The mail is stored; a failed goodbye changes nothing.
    connect::logout(&endpoint, &mut session);
    let historical = history::close_before(&mut store, config.sync.historical_before)?;

    let complete = reports.iter().all(SyncReport::complete);
    if args.verbose || output::stdout_is_terminal() || !complete {
        println!(
            "{}{}",
            summary_line(&reports, started.elapsed()),
            history::closed_note(historical)
        );
        team.into_iter().for_each(|line| println!("{line}"));
    }
    // Replies waiting in the outbox go out on every sync, as their backoff allows.
    super::outbox::deliver_after_sync(&config, &mut store);
    if complete {
        return Ok(ExitCode::SUCCESS);
    }
    // A gap is never a success: name each one, then fail.
    print_gaps(&reports, &server);
    Ok(ExitCode::FAILURE)
}

/// Names every gap of `reports` on stderr, one line each.
fn print_gaps<'r>(reports: impl IntoIterator<Item = &'r SyncReport>, server: &str) {
    for report in reports {
        for line in gap_lines(report, server) {
            eprintln!("secdesk: {line}");
        }
    }
}

/// One line per problem and per missing UID (runs of UIDs with one reason share a line).
fn gap_lines(report: &SyncReport, server: &str) -> Vec<String> {
    let mut lines: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("IMAP server {server}, {p}"))
        .collect();
    let mut i = 0;
    while i < report.missing.len() {
        let (first, reason) = &report.missing[i];
        let mut j = i;
        while j + 1 < report.missing.len() && &report.missing[j + 1].1 == reason {
            j += 1;
        }
        let uids: Vec<u32> = report.missing[i..=j].iter().map(|(u, _)| *u).collect();
        let named = if uids.len() == 1 {
            format!("UID {first}")
        } else {
            format!("UIDs {}", sync::uid_set(&uids))
        };
        lines.push(format!(
            "IMAP server {server}, mailbox \"{}\": {named} not stored: {reason}; recorded as missing, the next sync asks again",
            report.mailbox
        ));
        i = j + 1;
    }
    lines
}

/// `fetched 120 new messages, 97 new reports in 1.4 s`, over every mailbox.
fn summary_line(reports: &[SyncReport], elapsed: Duration) -> String {
    let mut total = IngestSummary::default();
    for r in reports {
        total += r.stored;
    }
    let too_large: usize = reports.iter().map(|r| r.too_large).sum();
    let missing: usize = reports.iter().map(|r| r.missing.len()).sum();
    let mut line = format!(
        "fetched {}, {} in {:.1} s",
        counted(total.new_messages, "new message", "new messages"),
        counted(total.new_reports, "new report", "new reports"),
        elapsed.as_secs_f64()
    );
    if too_large > 0 {
        line.push_str(&format!(" ({too_large} too large, stored as headers only)"));
    }
    let expunged: usize = reports.iter().map(|r| r.expunged.len()).sum();
    if expunged > 0 {
        line.push_str(&format!(
            "; {} deleted on the server during the sync (by another client; not missing)",
            counted(expunged, "message was", "messages were")
        ));
    }
    if missing > 0 {
        line.push_str(&format!(
            "; {} listed not stored",
            counted(missing, "message", "messages")
        ));
    }
    if total.duplicates > 0 {
        let changed = reports.iter().any(|r| r.uidvalidity_changed);
        line.push_str(&format!(
            " ({} already stored{})",
            total.duplicates,
            if changed {
                ", mailbox UIDVALIDITY changed"
            } else {
                ""
            }
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_like_the_issue_example() {
        let report = SyncReport {
            fetched: 120,
            stored: IngestSummary {
                new_messages: 120,
                new_reports: 97,
                duplicates: 0,
            },
            uidvalidity_changed: false,
            ..SyncReport::default()
        };
        assert_eq!(
            summary_line(&[report], Duration::from_millis(1400)),
            "fetched 120 new messages, 97 new reports in 1.4 s"
        );
    }

    #[test]
    fn summary_mentions_refetched_mail_after_uidvalidity_change() {
        let report = SyncReport {
            fetched: 3,
            stored: IngestSummary {
                new_messages: 1,
                new_reports: 0,
                duplicates: 2,
            },
            uidvalidity_changed: true,
            ..SyncReport::default()
        };
        assert_eq!(
            summary_line(&[report], Duration::from_millis(200)),
            "fetched 1 new message, 0 new reports in 0.2 s (2 already stored, mailbox UIDVALIDITY changed)"
        );
    }
}
