//! `secdesk classify FILE... [--json]`: class, spam score and reasons for message files,
//! using the store's model. Stores nothing. A file is read as mail the desk received: its
//! `Authentication-Results` count as ingest counts them (`[sync] authserv_id`,
//! `core::parse::parse_received`), so a pass the sender wrote is not weighed.
//!
//! `--json` is a contract: an array with one object per file, with `file`, `class`,
//! `outcome`, `spam_score`, `confidence` and `reasons`, and `auth` (the sender
//! authentication weighed and whose it is, as in `secdesk show --json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use crate::core::classify::corpus::read_message;
use crate::core::classify::Judged;
use crate::core::model::{Class, Outcome};
use crate::core::sanitize::terminal_line;
use crate::core::triage::view::AuthView;

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Message files (.eml, one RFC 5322 message each).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print a JSON array, one object per file.
    #[arg(long)]
    pub json: bool,
}

/// One file's verdict, as printed by `--json`.
#[derive(Debug, Serialize)]
pub struct FileVerdict {
    pub file: String,
    pub class: Class,
    pub outcome: Outcome,
    pub spam_score: f64,
    pub confidence: f64,
    pub reasons: Vec<String>,
    /// SPF, DKIM and DMARC as weighed, with `authserv_id` and `verified`.
    pub auth: AuthView,
}

/// Messages read and classified at a time (each batch is split across the cores).
const BATCH: usize = 1024;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    // Stores nothing, and creates no store: without one, the starter model, said.
    let config = ctx.config()?;
    let classifier = ctx.classifier(&config)?;
    let trusted = config.sync.trusted_authserv_ids();
    // Files are read and classified a batch at a time, so a run over a whole archive holds
    // one batch of messages in memory, not all of them.
    let mut results = Vec::with_capacity(args.files.len());
    for batch in args.files.chunks(BATCH) {
        let raws = batch
            .iter()
            .map(|p| read_message(p))
            .collect::<Result<Vec<_>, _>>()?;
        let judged = classifier.judge_received_many(&raws, &trusted);
        for (path, Judged { verdict: v, auth }) in batch.iter().zip(judged) {
            results.push(FileVerdict {
                file: path.display().to_string(),
                class: v.class,
                outcome: v.outcome,
                spam_score: v.spam_score,
                confidence: v.confidence,
                reasons: v.reasons,
                auth: AuthView::of(&auth),
            });
        }
    }
    // The process ends after printing: freeing tens of thousands of model tokens and the
    // rules' automata one by one was a tenth of a one-file `classify`, and the OS takes
    // the memory back at once. (The store is still dropped: it records a clean close.)
    std::mem::forget(classifier);
    if args.json {
        output::print_json(&results)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for r in &results {
        writeln!(
            out,
            "{}: {} (outcome {}, spam score {:.3}, confidence {:.2})",
            terminal_line(&r.file),
            r.class,
            r.outcome,
            r.spam_score,
            r.confidence
        )?;
        for reason in &r.reasons {
            writeln!(out, "    {}", terminal_line(reason))?;
        }
        if let Some(line) = r.auth.line() {
            writeln!(out, "    {}", terminal_line(&line))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
