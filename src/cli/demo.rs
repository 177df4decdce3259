//! `secdesk demo`: the desk on the bundled demo mailbox, in a temporary database (or the
//! one named by `--db`), with a demo team so every key works without a config file.

use std::collections::HashSet;
use std::process::ExitCode;

use crate::core::config::Config;
use crate::core::ingest::{Ingestor, RawIncoming};
use crate::core::parse::parse_message;
use crate::core::store::reports::ListFilter;
use crate::core::store::Store;
use crate::tui;

use super::Context;

/// The demo mailbox, compiled into the binary so `secdesk demo` works anywhere.
pub static DEMO_MESSAGES: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/demo_messages.rs"));

/// The demo's config: who "you" are and a small team to assign to.
const DEMO_CONFIG: &str = r#"
[identity]
name = "Demo Triager"
email = "you@demo.example"

[team]
address = "security@demo.example"
members = [
    { name = "Demo Triager", email = "you@demo.example" },
    { name = "Ada Lovelace", email = "ada@demo.example" },
    { name = "Grace Hopper", email = "grace@demo.example" },
]

[sync]
# The demo mailbox's receiving server (assets/demo).
authserv_id = "mx.python.org"
"#;

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Keep the demo database at this path instead of a temporary one (a new file, or an
    /// earlier demo's: a store with mail of its own is refused).
    #[arg(long, value_name = "FILE")]
    pub db: Option<std::path::PathBuf>,
    /// Print the reports as a table instead of opening the desk.
    #[arg(long)]
    pub list: bool,
}

/// The config `secdesk demo` runs with.
pub fn demo_config() -> anyhow::Result<Config> {
    let mut config = Config::parse(DEMO_CONFIG, std::path::Path::new("(built-in demo config)"))?;
    config.demo = true;
    Ok(config)
}

/// Loads the demo messages into `store`.
pub fn load_demo(store: &mut Store) -> anyhow::Result<()> {
    let batch = DEMO_MESSAGES
        .iter()
        .map(|(_, raw)| RawIncoming::file(*raw))
        .collect();
    // The starter model and the shipped rules (the demo has no config folder), and the
    // demo config's receiving server.
    Ingestor::from_store(store, None)?
        .with_config(&demo_config()?)
        .ingest_batch(store, batch, None)?;
    Ok(())
}

/// Whether the store at `path` holds mail besides the demo's (by Message-ID; a message
/// without one counts as other mail). Read-only, before the store is opened as secdesk
/// opens it (which tightens modes and upgrades the schema): a real store is left exactly
/// as it was. A file that is no store says nothing here; opening it says why.
fn holds_other_mail(path: &std::path::Path) -> anyhow::Result<bool> {
    let demo: HashSet<String> = DEMO_MESSAGES
        .iter()
        .filter_map(|(_, raw)| parse_message(raw).message_id)
        .collect();
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Ok(false);
    };
    let Ok(mut stmt) = conn.prepare("SELECT message_id FROM messages") else {
        return Ok(false);
    };
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: Option<String> = row.get(0)?;
        if !id.is_some_and(|id| demo.contains(&id)) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let kept = args.db.is_some();
    let path = args.db.unwrap_or_else(|| dir.path().join("demo.db"));
    // `--db` names a file to keep the demo in: pointed at a real store, it would have mixed
    // the demo's fake reports (a forged "CRITICAL RCE" among them) into the team's queue.
    if path.exists() && holds_other_mail(&path)? {
        anyhow::bail!(
            "{} is a store with mail of its own: the demo's fake reports are never loaded into it; give --db a new file (or an earlier demo's)",
            path.display()
        );
    }
    let mut store = Store::open(&path)?;
    load_demo(&mut store)?;
    if args.list {
        let reports = store.list_reports(&ListFilter::default())?;
        super::list::print_table(&reports)?;
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    let mut config = demo_config()?;
    config.store.path = Some(path.clone());
    let greeting = match kept {
        true => tui::text::demo_greeting_in(&path.display().to_string()),
        false => tui::text::DEMO_GREETING.to_string(),
    };
    tui::run(tui::Options {
        config,
        store_path: path,
        sync: None,
        greeting: Some(greeting),
    })?;
    Ok(ExitCode::SUCCESS)
}
