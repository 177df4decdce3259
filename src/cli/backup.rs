//! `secdesk backup FILE`: a copy of the store in a new file (mode 0600), never overwriting
//! one. A whole store is copied page by page with SQLite's online backup API, as one
//! consistent snapshot while other desks keep working. A damaged store (one that fails
//! `PRAGMA quick_check`) is salvaged instead: every row that can still be read goes into a
//! fresh store at FILE, and the rows lost are counted (`core::store::salvage`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::core::sanitize::terminal_line;
use crate::core::store::{salvage, Store, StoreError};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new file to write (it must not exist yet).
    pub file: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let path = ctx.existing_store(&config)?;
    let refuse_existing = || {
        anyhow::bail!(
            "{} already exists: secdesk never overwrites a file with a backup; choose a new name",
            args.file.display()
        )
    };
    let store = match ctx.open_store(&path, Store::open_for_reading) {
        Ok(store) => store,
        Err(e) => match e.downcast_ref::<StoreError>() {
            Some(StoreError::Unreadable { detail, .. }) => {
                if args.file.exists() {
                    return refuse_existing();
                }
                let report = salvage::salvage_unreadable(&path, &args.file)?;
                let source = path.display().to_string();
                return print_salvage(&source, detail, &report, &args.file);
            }
            _ => return Err(e),
        },
    };
    if args.file.exists() {
        return refuse_existing();
    }
    let source = store.path().display().to_string();
    let target = args.file.display().to_string();
    let mut out = std::io::stdout().lock();
    match store.damage() {
        None => {
            let pages = store.backup_to(&args.file)?;
            let bytes = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
            writeln!(
                out,
                "copied the store {} to {} ({pages} pages, {:.1} MB)",
                terminal_line(&source),
                terminal_line(&target),
                bytes as f64 / 1e6
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(detail) => {
            let report = salvage::salvage(&store, &args.file)?;
            print_salvage(&source, detail, &report, &args.file)
        }
    }
}

/// What a salvage of the damaged store `source` into `dest` copied and lost, and what to do.
fn print_salvage(
    source: &str,
    detail: &str,
    report: &salvage::SalvageReport,
    dest: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let target = dest.display().to_string();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "the store {} is damaged ({}): salvaged {} rows into a new store {}",
        terminal_line(source),
        terminal_line(detail),
        report.copied,
        terminal_line(&target),
    )?;
    for t in report.tables.iter().filter(|t| t.lost > 0 || t.unreadable) {
        if t.unreadable {
            writeln!(
                out,
                "  {}: {} rows copied; the rest could not be read at all, so how many rows were lost is not known",
                t.table, t.copied
            )?;
        } else {
            writeln!(
                out,
                "  {}: {} rows copied, at most {} lost",
                t.table, t.copied, t.lost
            )?;
        }
    }
    writeln!(
        out,
        "check the copy with `secdesk check {target}`; to use it, stop every desk, move the damaged store (and its -wal and -shm files) away and put the copy at {source}; `secdesk sync` then fetches mail the copy lacks",
        target = terminal_line(&target),
        source = terminal_line(source),
    )?;
    // The copy is whole, but not all of the store: a script that rotates backups after a
    // `secdesk backup` that exits 0 must not take it for one.
    if report.tables.iter().any(|t| t.lost > 0 || t.unreadable) {
        eprintln!(
            "secdesk: error: the copy {} lacks rows the damaged store could not give (listed above): keep the damaged store and your earlier backups",
            terminal_line(&target)
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
