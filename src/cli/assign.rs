//! `secdesk assign ID MEMBER`: make a team member the coordinator, named by email, the
//! email's local part, name, first name or `handle`.

use std::process::ExitCode;

use crate::core::triage;

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to assign (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// A team member from `[team] members`: email, local part (`ada`), name, first name or
    /// handle; it must point at one member.
    pub member: String,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let a = triage::assign(&mut store, &req, &config, args.id, &args.member).map_err(|e| {
        // A name that is no member is a value the command does not take (exit 2), as a
        // state or a class that does not exist is.
        match e {
            triage::TriageError::UnknownMember { .. }
            | triage::TriageError::AmbiguousMember { .. } => super::exit::usage(e.to_string()),
            e => e.into(),
        }
    })?;
    report(args.id, &a)
}

/// The confirmation shared by assign, take and unassign.
pub fn report(id: i64, a: &triage::Applied<Option<String>>) -> anyhow::Result<ExitCode> {
    let who = change::or_dash(a.after.as_deref());
    if a.changed() {
        let what = format!(
            "coordinator {} → {who}",
            change::or_dash(a.before.as_deref())
        );
        change::confirm(id, &what, a.version);
    } else {
        change::unchanged(id, &format!("coordinated by {who}"), a.version);
    }
    Ok(ExitCode::SUCCESS)
}
