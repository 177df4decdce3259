//! `secdesk store --stats [--json]`: where the store's space goes, per table and index
//! (`core::store::space`), and what the message columns hold. Reads only.

use std::io::Write;
use std::process::ExitCode;

use crate::core::sanitize::terminal_line;
use crate::core::store::space::{space, Space};

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print where the space goes: the file against the mail it holds (as the mail came);
    /// each table and index, largest first, with its unused page space (slack); the bytes
    /// of raw messages, decoded bodies and reasons; and the raw messages' compression
    /// dictionary.
    #[arg(long)]
    pub stats: bool,
    /// With --stats: print JSON instead.
    #[arg(long, requires = "stats")]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if !args.stats {
        return Err(super::exit::usage(
            "`secdesk store` needs what to do: `secdesk store --stats` shows where the space goes",
        ));
    }
    let (_, store) = ctx.read_store()?;
    let s = space(store.conn())?;
    if args.json {
        output::print_json(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    print_summary(&mut out, &store.path().display().to_string(), &s)?;
    if s.objects.is_empty() {
        writeln!(
            out,
            "(this SQLite has no dbstat table: per-table sizes are not available)"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    print_objects(&mut out, &s)?;
    Ok(ExitCode::SUCCESS)
}

fn mb(bytes: i64) -> f64 {
    bytes as f64 / 1e6
}

/// The store's path, the file against the mail it holds, the messages, bodies, reasons and
/// the compression dictionary.
fn print_summary(out: &mut impl Write, path: &str, s: &Space) -> std::io::Result<()> {
    writeln!(out, "store      {}", terminal_line(path))?;
    // The issue-17 measure: the file against the mail it holds, as it came.
    let ratio = if s.mail_bytes > 0 {
        format!(
            " = {:.2}× the mail",
            s.file_bytes as f64 / s.mail_bytes as f64
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "file       {:.1} MB{ratio}: {} pages of {} bytes, {} free",
        mb(s.file_bytes),
        s.pages,
        s.page_size,
        s.free_pages
    )?;
    writeln!(
        out,
        "messages   {}, {} of mail as it came: raw {} compressed",
        s.messages,
        human(s.mail_bytes),
        human(s.raw_bytes),
    )?;
    if s.raw_unsized > 0 {
        writeln!(
            out,
            "           {} raw messages do not say their size (`secdesk check`): not counted",
            s.raw_unsized
        )?;
    }
    writeln!(
        out,
        "bodies     {} kept, {} (the others decoded from raw); reasons {}",
        s.bodies_kept,
        human(s.body_bytes),
        human(s.reasons_bytes)
    )?;
    if s.dictionaries > 0 {
        writeln!(
            out,
            "dictionary {} of {} for the raw messages (trained on this store's mail)",
            s.dictionaries,
            human(s.dictionary_bytes)
        )?;
    } else {
        writeln!(
            out,
            "dictionary none yet: trained once the store holds {} messages",
            crate::core::store::dictionary::TRAIN_AFTER
        )?;
    }
    Ok(())
}

/// Each table and index, largest first, with its share of the file and its slack.
fn print_objects(out: &mut impl Write, s: &Space) -> std::io::Result<()> {
    // As wide as the longest name (SQLite's own index names run past 32 characters).
    let names: Vec<String> = s.objects.iter().map(|o| terminal_line(&o.name)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(14);
    writeln!(
        out,
        "{:<width$} {:<6} {:>8} {:>6} {:>9}",
        "table or index", "kind", "MB", "share", "slack MB"
    )?;
    for (o, name) in s.objects.iter().zip(&names) {
        writeln!(
            out,
            "{:<width$} {:<6} {:>8.2} {:>5.1}% {:>9.2}",
            name,
            o.kind,
            mb(o.bytes),
            100.0 * o.bytes as f64 / s.file_bytes.max(1) as f64,
            mb(o.unused)
        )?;
    }
    Ok(())
}

/// `bytes` in kB, MB or GB (powers of 1000), one decimal.
fn human(bytes: i64) -> String {
    let b = bytes as f64;
    if bytes < 1_000_000 {
        format!("{:.1} kB", b / 1e3)
    } else if bytes < 1_000_000_000 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}
