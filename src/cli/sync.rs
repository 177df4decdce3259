//! `secdesk sync`: fetch new mail from the IMAP mailbox into the store.
//!
//! Connects and opens the mailbox before touching the database, so a wrong
//! password, an unreachable server or a bad mailbox name leaves the store as it
//! was (not even created). Quiet when stdout is not a terminal unless
//! `--verbose`; errors are one line on stderr either way.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::core::ingest::Ingestor;
use crate::core::store::Store;
use crate::mailio::imap::account;
use crate::mailio::imap::sync::{self, Remote, SyncProgress, SyncReport, DEFAULT_BATCH_SIZE};

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the summary line even when stdout is not a terminal.
    #[arg(long, short)]
    pub verbose: bool,
    /// UIDs fetched per IMAP command (and stored per transaction).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_name = "N", hide = true)]
    pub batch_size: usize,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = ctx.config()?;
    let imap = config.imap.as_ref().with_context(|| {
        format!(
            "config {} has no [imap] section: add host, username and password_command (see config.example.toml)",
            config.source.display()
        )
    })?;
    let (endpoint, mut session) = account::login(&config, imap)?;
    let examined = sync::examine(&endpoint, &mut session, &imap.mailbox)?;

    let mut store = Store::open(&config.store_path())?;

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
    if let Some(b) = &bar {
        b.set_message(format!("syncing {}", imap.mailbox));
    }
    let mut on_progress = |p: SyncProgress| {
        if let Some(b) = &bar {
            match p {
                SyncProgress::Planned { total } => b.set_length(total as u64),
                SyncProgress::Stored { done } => b.set_position(done as u64),
            }
        }
    };

    let remote = Remote {
        endpoint: &endpoint,
        session: &mut session,
        batch_size: args.batch_size,
    };
    let ingestor = Ingestor::from_store(&mut store, Some(&config.dir()))?;
    let result = sync::fetch_new(remote, &examined, &mut store, &ingestor, &mut on_progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = result?;
    let team = super::team::after_mail_sync(&config, &endpoint, &mut session, &mut store)?;
    // The mail is stored; a failed goodbye changes nothing.
    let _ = session.logout();

    if args.verbose || output::stdout_is_terminal() {
        println!("{}", summary_line(&report, started.elapsed()));
        team.into_iter().for_each(|line| println!("{line}"));
    }
    // Replies waiting in the outbox go out on every sync, as their backoff allows.
    super::outbox::deliver_after_sync(&config, &mut store);
    Ok(ExitCode::SUCCESS)
}

/// `fetched 120 new messages, 97 new reports in 1.4 s`
fn summary_line(report: &SyncReport, elapsed: Duration) -> String {
    let mut line = format!(
        "fetched {} new {}, {} new {} in {:.1} s",
        report.stored.new_messages,
        plural(report.stored.new_messages, "message", "messages"),
        report.stored.new_reports,
        plural(report.stored.new_reports, "report", "reports"),
        elapsed.as_secs_f64()
    );
    if report.stored.duplicates > 0 {
        line.push_str(&format!(
            " ({} already stored{})",
            report.stored.duplicates,
            if report.uidvalidity_changed {
                ", mailbox UIDVALIDITY changed"
            } else {
                ""
            }
        ));
    }
    line
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ingest::IngestSummary;

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
        };
        assert_eq!(
            summary_line(&report, Duration::from_millis(1400)),
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
        };
        assert_eq!(
            summary_line(&report, Duration::from_millis(200)),
            "fetched 1 new message, 0 new reports in 0.2 s (2 already stored, mailbox UIDVALIDITY changed)"
        );
    }
}
