//! `secdesk note ID TEXT`: add a team note (never sent to the reporter).

use std::process::ExitCode;

use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to add the note to (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// The note; quote it, or pass several words.
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::add_note(&mut store, &req, args.id, &args.text.join(" "))?;
    change::confirm(args.id, "note added", a.version);
    Ok(ExitCode::SUCCESS)
}
