//! `secdesk dup ID --of ORIGINAL`: close a report as a duplicate of another.

use std::process::ExitCode;

use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report that is a duplicate (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// The report this one duplicates.
    #[arg(long = "of", value_name = "ORIGINAL", value_parser = super::output::report_id)]
    pub original: i64,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::mark_duplicate(&mut store, &req, args.id, args.original)?;
    let what = format!("duplicate of #{}", args.original);
    if a.changed() {
        change::confirm(args.id, &format!("{} → {what}", a.before.state), a.version);
    } else {
        change::unchanged(args.id, &what, a.version);
    }
    Ok(ExitCode::SUCCESS)
}
