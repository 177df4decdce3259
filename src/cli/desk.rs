//! `secdesk` with no command: the desk in the terminal on the configured store, with
//! background sync when an `[imap]` section is configured.

use std::process::ExitCode;

use crate::core::config::Config;
use crate::tui::{self, sync::SyncRound};

use super::Context;

pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let (sync, greeting) = sync_round(&config);
    tui::run(tui::Options {
        store_path: config.store_path(),
        config,
        sync,
        greeting,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// One round of background sync for the desk, or why there is none.
fn sync_round(config: &Config) -> (Option<SyncRound>, Option<String>) {
    if config.imap.is_none() {
        return (None, Some(tui::text::NO_IMAP.to_string()));
    }
    let round: SyncRound = Box::new(|| Err(tui::text::SYNC_NOT_BUILT.to_string()));
    (Some(round), None)
}
