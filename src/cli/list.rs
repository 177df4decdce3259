//! `secdesk list`: reports, newest first.

use std::io::Write;
use std::process::ExitCode;

use crate::core::sanitize::terminal_line;
use crate::core::store::reports::{ListFilter, ReportSummary};

use super::{output, Context};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only reports whose subject, sender or body match these words.
    #[arg(long, value_name = "WORDS")]
    pub search: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.store()?;
    let filter = ListFilter {
        search: args.search,
        ..ListFilter::default()
    };
    let reports = store.list_reports(&filter)?;
    if args.json {
        output::print_json(&reports)?;
    } else {
        print_table(&reports)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A plain table; every field from mail is made terminal-safe.
pub fn print_table(reports: &[ReportSummary]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for r in reports {
        let class = r.class.as_deref().unwrap_or("-");
        writeln!(
            out,
            "{:>5}  {:<10}  {:<12}  {:<7}  {:>3}  {:<30.30}  {}",
            r.id,
            &r.received_at[..10.min(r.received_at.len())],
            r.state,
            class,
            r.messages,
            terminal_line(&r.from),
            terminal_line(&r.subject),
        )?;
    }
    Ok(())
}
