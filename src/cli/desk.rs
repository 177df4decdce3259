//! `secdesk` with no command: the desk in the terminal on the configured store, with
//! background sync when an `[imap]` section is configured.

use std::process::ExitCode;

use crate::core::config::Config;
use crate::core::store::Store;
use crate::mailio::watch::{Round, Watch};
use crate::tui::{self, sync::SyncSource};

use super::Context;

pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    // Checked (and its notices printed) before the desk takes the screen.
    drop(ctx.open_store(&config.store_path(), Store::open)?);
    let (sync, greeting) = sync_source(&config);
    tui::run(tui::Options {
        store_path: config.store_path(),
        config,
        sync,
        greeting,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The desk's background sync, or why there is none: [`Watch`] keeps one IMAP session,
/// syncs (the same steps as `secdesk sync`) and delivers due replies each round, and IDLEs
/// in between where the server can. The store worker's watcher then sees the commits and
/// the queue reloads.
pub fn sync_source(config: &Config) -> (Option<Box<dyn SyncSource>>, Option<String>) {
    if config.imap.is_none() {
        return (None, Some(tui::text::NO_IMAP.to_string()));
    }
    let what = config
        .imap
        .as_ref()
        .map(|imap| imap.sync_mailboxes().join(", "))
        .unwrap_or_default();
    (
        Some(Box::new(DeskSync(Watch::new(config.clone()), what))),
        None,
    )
}

/// A round as the desk's status line gives it: new mail, replies, and a gap in the mail.
pub fn round_line(r: &Round) -> String {
    tui::text::sync_round(
        r.new_messages,
        r.replies_sent,
        r.replies_resent,
        &r.replies_failed,
        r.gap.as_deref(),
        &r.overwritten,
        &r.renumbered,
    )
}

/// [`Watch`] as the desk's sync worker sees it: summary lines for the status line, and the
/// mailboxes it syncs.
struct DeskSync(Watch, String);

impl SyncSource for DeskSync {
    fn round(&mut self) -> Result<String, String> {
        self.0.round().map(|r| round_line(&r))
    }

    fn wait(&mut self) {
        self.0.wait();
    }

    fn recover(&mut self) {
        self.0.reset();
    }

    fn what(&self) -> String {
        self.1.clone()
    }
}
