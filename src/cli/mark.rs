//! `secdesk mark ID CLASS [--reason R]`: confirm or change a report's class. Spam and invalid
//! also close the report; valid acknowledges a new one.

use std::process::ExitCode;

use crate::core::model::{Class, InvalidReason};
use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    pub id: i64,
    /// spam, invalid or valid.
    pub class: String,
    /// For invalid: not-a-vulnerability (default), third-party, support-request,
    /// working-as-intended or no-response.
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let class: Class = change::parse(&args.class)?;
    let reason: Option<InvalidReason> = args.reason.as_deref().map(change::parse).transpose()?;
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::mark(&mut store, &req, args.id, class, reason)?;
    let state = &a.after.state;
    let state_text = match state.invalid_reason {
        Some(r) => format!("{} ({r})", state.state),
        None => state.state.to_string(),
    };
    let what = format!("class {class}, state {state_text}");
    if a.changed() {
        change::confirm(args.id, &what, a.version);
    } else {
        change::unchanged(args.id, &what, a.version);
    }
    Ok(ExitCode::SUCCESS)
}
