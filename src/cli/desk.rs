//! `secdesk` with no command: the desk in the terminal on the configured store, with
//! background sync when an `[imap]` section is configured.

use std::process::ExitCode;
use std::time::Duration;

use crate::core::config::Config;
use crate::core::ingest::Ingestor;
use crate::core::store::Store;
use crate::mailio::imap::sync::{self, Remote, DEFAULT_BATCH_SIZE};
use crate::mailio::imap::{connect, Endpoint};
use crate::mailio::secret;
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

/// One round of background sync for the desk, or why there is none. Each round logs in,
/// fetches what is new (the same steps as `secdesk sync`) and logs out; the store worker's
/// watcher then sees the commit and the queue reloads.
fn sync_round(config: &Config) -> (Option<SyncRound>, Option<String>) {
    if config.imap.is_none() {
        return (None, Some(tui::text::NO_IMAP.to_string()));
    }
    let config = config.clone();
    let round: SyncRound = Box::new(move || {
        sync_once(&config)
            .map(tui::text::sync_done)
            .map_err(|e| format!("{e:#}"))
    });
    (Some(round), None)
}

/// Fetches new mail once; the number of new messages stored.
fn sync_once(config: &Config) -> anyhow::Result<usize> {
    let Some(imap) = config.imap.as_ref() else {
        return Ok(0);
    };
    let password = secret::resolve(
        "imap",
        imap.password_command.as_deref(),
        imap.password_env.as_deref(),
    )?;
    let endpoint = Endpoint {
        host: imap.host.clone(),
        port: imap.port,
        security: imap.security,
        ca_file: imap.ca_file.as_ref().map(|p| config.dir().join(p)),
        timeout: Duration::from_secs(config.sync.timeout_seconds.max(1)),
    };
    let mut session = connect::connect(&endpoint, &imap.username, password.expose())?;
    drop(password);
    let examined = sync::examine(&endpoint, &mut session, &imap.mailbox)?;
    let mut store = Store::open(&config.store_path())?;
    let plan = sync::plan(&examined, store.mailbox_state(&imap.mailbox)?);
    let remote = Remote {
        endpoint: &endpoint,
        session: &mut session,
        batch_size: DEFAULT_BATCH_SIZE,
    };
    // Classified on the way in, like `secdesk import`: rules and overrides beside the config.
    let ingestor = Ingestor::from_store(&mut store, Some(&config.dir()))?;
    let report = sync::run(remote, &examined, plan, &mut store, &ingestor, &mut |_| {})?;
    // The mail is stored; a failed goodbye changes nothing.
    let _ = session.logout();
    Ok(report.stored.new_messages)
}
