//! `secdesk responded ID --via phone|other`: the reporter was answered outside secdesk (a
//! call, a chat, another mailbox). It stops the acknowledge clock as a reply sent from
//! secdesk does; confirming a class or moving a state does not.

use std::process::ExitCode;

use crate::core::triage::{self, Via};

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report answered outside the desk (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// How the reporter was answered (a reply sent with `secdesk reply` counts by itself).
    #[arg(long, value_name = "phone|other")]
    pub via: String,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    // Checked before opening anything, so a typo gets a one-line answer.
    let via: Via = change::parse(&args.via)?;
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::responded(&mut store, &req, args.id, via)?;
    change::confirm(
        args.id,
        &format!("first response recorded (via {})", via.as_str()),
        a.version,
    );
    Ok(ExitCode::SUCCESS)
}
