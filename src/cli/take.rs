//! `secdesk take ID`: become the report's coordinator.

use std::process::ExitCode;

use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to take (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::take(&mut store, &req, args.id)?;
    super::assign::report(args.id, &a)
}
