//! `secdesk log ID [--json]`: a report's audit log, oldest first.

use std::io::Write;
use std::process::ExitCode;

use crate::core::sanitize::terminal_line;
use crate::core::triage;

use super::{change::or_dash, output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose audit log to show (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// Print a JSON array of events.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (_config, store) = ctx.read_store()?;
    let events = triage::events(&store, args.id)
        .map_err(|e| super::Context::in_damaged(&store, args.id, e.into()))?;
    if args.json {
        output::print_json(&events)?;
        return Ok(ExitCode::SUCCESS);
    }
    write_events(&mut std::io::stdout().lock(), &events, "")?;
    Ok(ExitCode::SUCCESS)
}

/// One line an event, oldest first, each after `indent`: when, who, what, before → after,
/// and the detail.
pub fn write_events(
    out: &mut impl Write,
    events: &[triage::Event],
    indent: &str,
) -> anyhow::Result<()> {
    for e in events {
        let detail = e
            .detail
            .as_deref()
            .map(|d| format!("  ({})", terminal_line(d)))
            .unwrap_or_default();
        writeln!(
            out,
            "{indent}{}  {:<24}  {:<11}  {} → {}{detail}",
            e.at,
            terminal_line(&e.actor),
            e.kind,
            terminal_line(or_dash(e.before.as_deref())),
            terminal_line(or_dash(e.after.as_deref())),
        )?;
    }
    Ok(())
}
