//! `secdesk train DIR...`: trains the store's model on labelled folders
//! (`DIR/spam`, `DIR/ham`, `DIR/invalid`, `DIR/valid`), and can export it as a model file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use crate::core::classify::corpus::{labelled_files, read_message};
use crate::core::classify::storage::{
    ensure_model, load_model, replace_model, train_batch, TrainItem, ORIGIN_EMPTY,
};
use crate::core::classify::tokenize::tokenize;
use crate::core::classify::{Label, Model};
use crate::core::parse::{content_hash, parse_message};
use crate::core::sanitize::terminal_line;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folders whose subfolders name the labels: spam, ham (= not spam), invalid, valid.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Start from an empty model, dropping the current one (and the starter model).
    #[arg(long)]
    pub empty: bool,
    /// After training, write the model to FILE (the format of assets/starter-model.tsv).
    #[arg(long, value_name = "FILE")]
    pub export_model: Option<PathBuf>,
    /// With --export-model: leave out tokens seen in fewer than N messages in all.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub min_count: u64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.dirs.is_empty() && !args.empty && args.export_model.is_none() {
        anyhow::bail!("nothing to do: name folders to train on, e.g. `secdesk train ../shared/corpora/triage`");
    }
    let (_config, mut store) = ctx.store()?;
    if args.empty {
        replace_model(&mut store, ORIGIN_EMPTY, &Model::default())?;
    } else {
        ensure_model(&mut store)?;
    }
    for dir in &args.dirs {
        let started = Instant::now();
        let files = labelled_files(dir)?;
        let mut items = Vec::with_capacity(files.len());
        let mut per_label = [0usize; 4];
        for (label, path) in &files {
            let raw = read_message(path)?;
            per_label[label.index()] += 1;
            items.push(TrainItem {
                content_hash: content_hash(&raw),
                label: *label,
                tokens: tokenize(&parse_message(&raw)),
            });
        }
        let tx = store.conn_mut().transaction()?;
        let summary =
            train_batch(&tx, &items).with_context(|| format!("training on {}", dir.display()))?;
        tx.commit()?;
        let counts: Vec<String> = Label::ALL
            .iter()
            .filter(|l| per_label[l.index()] > 0)
            .map(|l| format!("{} {}", per_label[l.index()], l))
            .collect();
        println!(
            "{}: trained {} messages ({}), {} relabelled, {} already trained, in {:.1} s",
            terminal_line(&dir.display().to_string()),
            summary.trained,
            counts.join(", "),
            summary.relabelled,
            summary.unchanged,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &args.export_model {
        let model = load_model(&mut store)?;
        let text = model.to_tsv(args.min_count);
        std::fs::write(path, &text)
            .with_context(|| format!("writing the model to {}", path.display()))?;
        println!(
            "wrote {} ({} tokens seen in at least {} messages, {} KB)",
            terminal_line(&path.display().to_string()),
            text.lines().filter(|l| !l.starts_with('#')).count(),
            args.min_count,
            text.len() / 1024
        );
    }
    Ok(ExitCode::SUCCESS)
}
