//! `secdesk mark ID CLASS [--reason R] [--note TEXT]`: confirm or change a report's class. Spam and invalid
//! also close the report; valid acknowledges a new one.

use std::process::ExitCode;

use crate::core::model::{Class, InvalidReason, ReportState};
use crate::core::triage::{self, StateSnapshot};

use super::change::{self, VersionCheck};
use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to mark (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// spam, invalid or valid.
    pub class: String,
    /// For invalid: not-a-vulnerability (default), third-party, support-request,
    /// working-as-intended, no-response, or other (its words go in --note).
    #[arg(long)]
    pub reason: Option<String>,
    /// A team note added with the change (never sent to the reporter); with
    /// `--reason other`, the reason in your own words.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub version_check: VersionCheck,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let class: Class = change::parse(&args.class)?;
    let reason: Option<InvalidReason> = args.reason.as_deref().map(change::parse).transpose()?;
    let (config, mut store) = ctx.store()?;
    let req = change::request(&config, &args.version_check);
    let note = args.note.as_deref();
    let a = match (class, note) {
        // Closing with a note is one change: the state, the class it confirms, the note.
        (Class::Spam, Some(_)) | (Class::Invalid, Some(_)) => {
            let (state, reason) = match class {
                Class::Spam => (ReportState::Spam, reason),
                _ => (
                    ReportState::Invalid,
                    reason.or(Some(InvalidReason::NotAVulnerability)),
                ),
            };
            let a = triage::set_state(&mut store, &req, args.id, state, reason, note)?;
            let what = format!("class {class}, state {}", state_text(&a.after));
            change::confirm(args.id, &what, a.version);
            return Ok(ExitCode::SUCCESS);
        }
        (_, Some(text)) => {
            let a = triage::mark(&mut store, &req, args.id, class, reason)?;
            let req = req.if_version(Some(a.version));
            let noted = triage::add_note(&mut store, &req, args.id, text)?;
            triage::Applied {
                version: noted.version,
                ..a
            }
        }
        (_, None) => triage::mark(&mut store, &req, args.id, class, reason)?,
    };
    let state = &a.after.state;
    let what = format!("class {class}, state {}", state_text(state));
    if a.changed() || note.is_some() {
        change::confirm(args.id, &what, a.version);
    } else {
        change::unchanged(args.id, &what, a.version);
    }
    Ok(ExitCode::SUCCESS)
}

fn state_text(state: &StateSnapshot) -> String {
    match state.invalid_reason {
        Some(r) => format!("{} ({r})", state.state),
        None => state.state.to_string(),
    }
}
