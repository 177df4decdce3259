//! `secdesk import PATH...`: mbox files, Maildirs and folders of .eml files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::core::ingest::{IngestSummary, Ingestor};
use crate::mailio::gpg;
use crate::mailio::import::import_path;

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An mbox file, a Maildir, a folder of .eml files or one .eml file.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let ingestor = Ingestor::from_store(&mut store, Some(&config.dir()))?
        .with_team(&config)
        .with_pgp(gpg::engine(&config));
    let started = Instant::now();
    let mut total = IngestSummary::default();
    let bar = output::stdout_is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("importing");
        bar
    });
    for path in &args.paths {
        let summary = import_path(&mut store, &ingestor, path, &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n as u64);
            }
        })
        .map_err(|e| anyhow::anyhow!("importing {}: {e}", path.display()))?;
        total += summary;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    println!(
        "imported {} new messages, {} new reports ({} already stored) in {:.1} s",
        total.new_messages,
        total.new_reports,
        total.duplicates,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
