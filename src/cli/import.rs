//! `secdesk import PATH...`: mbox files, Maildirs and folders of .eml files.
//!
//! The summary names every entry that was not imported and why; when there is one, the
//! command exits 1 after importing everything else. It also names each message over
//! `[sync] max_message_bytes`, stored as its headers and a note (as sync does), and an
//! mbox whose last message the file's end cuts mid-line.
//!
//! A Maildir import reads `cur/` and `new/`. Its Maildir++ subfolders (`.Sent`, `.Junk`)
//! are mailboxes of their own: each is named with the command that imports it, and the
//! status stays 0 for them (importing them too does not change that: a root's import always
//! has them). Files in `tmp/` are deliveries not finished: counted, and when any changed in
//! the last 36 hours (and nothing else failed) the command exits 75, run again later, as
//! for any temporary failure (cli::exit); older ones are abandoned deliveries, named only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::core::ingest::{IngestSummary, Ingestor};
use crate::core::triage::history;
use crate::mailio::gpg;
use crate::mailio::import::maildir::{import_command, Unfinished};
use crate::mailio::import::{import_path, ImportError, Skipped};

use super::output::{self, counted};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An mbox file, a Maildir, a folder of .eml files or one .eml file. Anything else (a
    /// FIFO, a device) is refused; symbolic links inside a folder are not followed, and a
    /// mail file in a folder not named .eml is named, not imported. A Maildir's cur/ and new/
    /// are imported; each Maildir++ subfolder (.Sent, .Junk) is named with the command that
    /// imports it, and files in tmp/ (deliveries not finished) are counted.
    ///
    /// Exit status: 1 when an entry was not imported; else 75 when files in tmp/ changed
    /// within 36 hours (run again once the deliveries are done); else 0.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Old mail: the new reports come in closed (resolved, or spam when the classifier says
    /// so), their clocks stopped and their class kept; `stats` leaves them out.
    #[arg(long)]
    pub historical: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let ingestor = Ingestor::from_store(&mut store, Some(&config.dir()))?
        .with_config(&config)
        .with_pgp(gpg::engine(&config));
    let started = Instant::now();
    let last_before = history::last_report(&store)?;
    let mut total = IngestSummary::default();
    let mut skipped = Vec::new();
    let mut oversized = Vec::new();
    let mut cut_short = Vec::new();
    let mut subfolders = Vec::new();
    let mut unfinished = Vec::new();
    let bar = output::stdout_is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("importing");
        bar
    });
    let messages_before = last_message(&store)?;
    for (i, path) in args.paths.iter().enumerate() {
        let limit = config.sync.max_message_bytes;
        let report = import_path(&mut store, &ingestor, path, limit, &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n as u64);
            }
        });
        let report = match report.map_err(ImportError::into_skipped) {
            Ok(r) => r,
            // The one path given: its error is the command's.
            Err(Ok(unreadable)) if args.paths.len() == 1 => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                anyhow::bail!("{unreadable}");
            }
            // One of several: named with the others skipped, and the rest go on.
            Err(Ok(unreadable)) => {
                skipped.push(unreadable);
                continue;
            }
            Err(Err(store_error)) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                let stopped = Stopped {
                    last_before,
                    messages_before,
                    not_tried: &args.paths[i + 1..],
                    skipped: &skipped,
                    historical: args.historical,
                };
                stopped.say(&mut store, &config);
                return Err(anyhow::Error::from(store_error).context("import stopped"));
            }
        };
        total += report.summary;
        skipped.extend(report.skipped);
        oversized.extend(report.oversized);
        cut_short.extend(report.cut_short);
        subfolders.extend(report.subfolders);
        unfinished.extend(report.unfinished);
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let historical = history::after_import(&mut store, &config, args.historical, last_before)?;
    print_summary(&total, started, historical);
    if !oversized.is_empty() {
        println!(
            "stored {} too large as headers and a note (over [sync] max_message_bytes; the whole message stays in the file):",
            counted(oversized.len(), "message", "messages")
        );
        for o in &oversized {
            println!("  {o}");
        }
    }
    for c in &cut_short {
        println!("{c}; what it holds of the message is stored");
    }
    print_left_out(&args.paths, &subfolders, &unfinished);
    let in_progress: usize = unfinished.iter().map(|u| u.in_progress).sum();
    Ok(status(&skipped, in_progress))
}

/// The highest message row id so far: what an import stores comes after it.
fn last_message(store: &crate::core::store::Store) -> anyhow::Result<i64> {
    Ok(store
        .conn()
        .query_row("SELECT coalesce(max(id), 0) FROM messages", [], |r| {
            r.get(0)
        })?)
}

/// An import ended by the store (full, busy, damaged): what it did until then.
struct Stopped<'a> {
    last_before: i64,
    messages_before: i64,
    not_tried: &'a [PathBuf],
    skipped: &'a [Skipped],
    historical: bool,
}

impl Stopped<'_> {
    /// Closes what it stored as history when asked (`--historical`, `[sync]
    /// historical_before`), as a whole import would: run again, those messages are already
    /// stored and would stay open. Then says what was stored, skipped and not tried.
    fn say(&self, store: &mut crate::core::store::Store, config: &crate::core::config::Config) {
        let closed = history::after_import(store, config, self.historical, self.last_before);
        let counts: rusqlite::Result<(i64, i64)> = store.conn().query_row(
            "SELECT (SELECT count(*) FROM messages WHERE id > ?1),
                    (SELECT count(*) FROM reports WHERE id > ?2)",
            rusqlite::params![self.messages_before, self.last_before],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        if let Ok((messages, reports)) = counts {
            println!(
                "stored before the import stopped: {}, {}{}",
                counted(messages as usize, "new message", "new messages"),
                counted(reports as usize, "new report", "new reports"),
                closed.map(history::closed_note).unwrap_or_default()
            );
        }
        for s in self.skipped {
            println!("skipped (not imported): {s}");
        }
        if !self.not_tried.is_empty() {
            let names: Vec<String> = self
                .not_tried
                .iter()
                .map(|p| crate::mailio::import::shell_word(p))
                .collect();
            println!("not tried: {}", names.join(" "));
        }
    }
}

/// Names the entries not imported, and gives the exit status: 1 when there is one, else
/// 75 when `in_progress` deliveries in tmp/ are worth running again for, else 0.
fn status(skipped: &[Skipped], in_progress: usize) -> ExitCode {
    if skipped.is_empty() && in_progress > 0 {
        eprintln!(
            "secdesk: {} in tmp/ not imported (deliveries not finished); everything else was: run again once they are done",
            counted(in_progress, "file", "files")
        );
        return ExitCode::from(super::exit::TEMPORARY);
    }
    if skipped.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!(
        "skipped {} (not imported):",
        counted(skipped.len(), "entry", "entries")
    );
    for s in skipped {
        println!("  {s}");
    }
    eprintln!(
        "secdesk: error: {} not imported (listed above); everything else was",
        counted(skipped.len(), "entry", "entries")
    );
    ExitCode::FAILURE
}

/// Names what a Maildir import leaves out by design: each Maildir++ subfolder (a mailbox of
/// its own, unless it was named too) with the command that imports it, and the files in
/// `tmp/`.
fn print_left_out(named: &[PathBuf], subfolders: &[PathBuf], unfinished: &[Unfinished]) {
    let named: Vec<PathBuf> = named
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let left: Vec<&PathBuf> = subfolders
        .iter()
        .filter(|s| std::fs::canonicalize(s).map_or(true, |c| !named.contains(&c)))
        .collect();
    if !left.is_empty() {
        println!(
            "not imported: {}, each a mailbox of its own; import each by its path:",
            counted(left.len(), "Maildir++ subfolder", "Maildir++ subfolders")
        );
        for s in left {
            println!("  {}", import_command(s));
        }
    }
    for u in unfinished {
        println!("{u}");
    }
}

fn print_summary(total: &IngestSummary, started: Instant, historical: usize) {
    println!(
        "imported {}, {} ({} already stored) in {:.1} s{}",
        counted(total.new_messages, "new message", "new messages"),
        counted(total.new_reports, "new report", "new reports"),
        total.duplicates,
        started.elapsed().as_secs_f64(),
        history::closed_note(historical)
    );
}
