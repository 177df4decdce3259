//! `secdesk demo`: the bundled demo mailbox in a temporary database.

use std::process::ExitCode;

use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::store::reports::ListFilter;
use crate::core::store::Store;

use super::Context;

/// The demo mailbox, compiled into the binary so `secdesk demo` works anywhere.
pub static DEMO_MESSAGES: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/demo_messages.rs"));

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Keep the demo database at this path instead of a temporary one.
    #[arg(long, value_name = "FILE")]
    pub db: Option<std::path::PathBuf>,
}

/// Loads the demo messages into `store`.
pub fn load_demo(store: &mut Store) -> anyhow::Result<()> {
    let batch = DEMO_MESSAGES
        .iter()
        .map(|(_, raw)| RawIncoming {
            raw: raw.to_vec(),
            received_at: None,
            origin: Origin::File,
        })
        .collect();
    // The demo has no config: the starter model and the shipped rules.
    Ingestor::from_store(store, None)?.ingest_batch(store, batch, None)?;
    Ok(())
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let path = args.db.unwrap_or_else(|| dir.path().join("demo.db"));
    let mut store = Store::open(&path)?;
    load_demo(&mut store)?;
    let reports = store.list_reports(&ListFilter::default())?;
    super::list::print_table(&reports)?;
    Ok(ExitCode::SUCCESS)
}
