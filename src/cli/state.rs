//! `secdesk state ID STATE [--reason R] [--note TEXT]`: move a report through the lifecycle.

use std::process::ExitCode;

use crate::core::model::{InvalidReason, ReportState};
use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report whose state to change (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// new, acknowledged, triaged, fixing, disclosed, needs-info, spam, invalid, resolved
    /// (duplicate goes through `secdesk dup`).
    pub state: String,
    /// Required for invalid: not-a-vulnerability, third-party, support-request,
    /// working-as-intended, no-response, or other (its words go in --note).
    #[arg(long)]
    pub reason: Option<String>,
    /// A team note to add with the change (never sent to the reporter).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let state: ReportState = change::parse(&args.state)?;
    let reason: Option<InvalidReason> = args.reason.as_deref().map(change::parse).transpose()?;
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::set_state(
        &mut store,
        &req,
        args.id,
        state,
        reason,
        args.note.as_deref(),
    )?;
    let after = match a.after.invalid_reason {
        Some(r) => format!("{} ({r})", a.after.state),
        None => a.after.state.to_string(),
    };
    change::confirm(args.id, &format!("{} → {after}", a.before.state), a.version);
    Ok(ExitCode::SUCCESS)
}
