//! `secdesk mark ID CLASS [--reason R] [--note TEXT]`: confirm or change a report's class. Spam and invalid
//! also close the report; valid acknowledges a new one.

use std::process::ExitCode;

use crate::core::model::{Class, InvalidReason};
use crate::core::triage;

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
    let a = triage::mark_noted(&mut store, &req, args.id, class, reason, note)?;
    let state = &a.after.state;
    let state_text = match state.invalid_reason {
        Some(r) => format!("{} ({r})", state.state),
        None => state.state.to_string(),
    };
    let what = format!("class {class}, state {state_text}");
    if a.changed() || note.is_some_and(|n| !n.trim().is_empty()) {
        change::confirm(args.id, &what, a.version);
    } else {
        change::unchanged(args.id, &what, a.version);
    }
    // A campaign counts once (docs/classifier.md, "Campaigns count once"): say so, or a
    // moderator may wonder why marking the next copy did not teach the model.
    let copies = crate::core::classify::near_copies_of(store.conn(), args.id)?;
    let learned = a.before.class != Some(class) || !a.before.confirmed;
    if learned && copies > 0 {
        println!(
            "#{}: learned as a near-copy of mail already learned as {class}: counted once",
            args.id
        );
    }
    Ok(ExitCode::SUCCESS)
}
