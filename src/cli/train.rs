//! `secdesk train DIR...`: trains the store's model on labelled folders
//! (`DIR/spam`, `DIR/ham`, `DIR/invalid`, `DIR/valid`), and can export it as a model file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use crate::core::classify::bayes::BayesParams;
use crate::core::classify::corpus::{labelled_files, read_message};
use crate::core::classify::fitting::{fit_stack, Example};
use crate::core::classify::storage::{
    ensure_model, load_model, replace_model, save_stack_in, train_batch_with, Copies, TrainItem,
    ORIGIN_EMPTY,
};
use crate::core::classify::{Label, Model, RuleSet};
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
        return Err(super::exit::usage(
            "nothing to do: name folders to train on, e.g. `secdesk train ../shared/corpora/triage`",
        ));
    }
    let (config, mut store) = ctx.store()?;
    if args.empty {
        replace_model(&mut store, ORIGIN_EMPTY, &Model::default())?;
    } else {
        ensure_model(&mut store)?;
    }
    let rules = RuleSet::load(Some(&config.dir()))?;
    let mut examples = Vec::new();
    for dir in &args.dirs {
        let started = Instant::now();
        let files = labelled_files(dir)?;
        let mut items = Vec::with_capacity(files.len());
        let mut per_label = [0usize; 4];
        for (label, path) in &files {
            let raw = read_message(path)?;
            per_label[label.index()] += 1;
            let example = Example::new(&parse_message(&raw), *label, &rules);
            items.push(TrainItem {
                content_hash: content_hash(&raw),
                label: *label,
                tokens: example.tokens.clone(),
            });
            examples.push(example);
        }
        let tx = store.write_transaction()?;
        // Folders a person chose count every message; near-copies count once only in what
        // the team's verdicts teach (docs/classifier.md, "Campaigns count once").
        let summary = train_batch_with(&tx, &items, Copies::CountEach)
            .with_context(|| format!("training on {}", dir.display()))?;
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
    if !examples.is_empty() {
        // The combiner's weights and cut-offs, fitted on out-of-fold scores of what was
        // just trained (docs/classifier.md, "Learning").
        let started = Instant::now();
        let model = load_model(&mut store)?;
        let stack = fit_stack(&model, &examples, &BayesParams::default());
        let tx = store.write_transaction()?;
        save_stack_in(&tx, Some(&stack))?;
        tx.commit()?;
        println!(
            "fitted the combiner on {} messages (spam from {:.3}, ham below {:.3}) in {:.1} s",
            examples.len(),
            stack.spam_cutoff,
            stack.ham_cutoff,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &args.export_model {
        let model = load_model(&mut store)?;
        let text = model.to_tsv(args.min_count);
        // Tokens come from private mail: written whole, readable by its owner only, as
        // every file the desk writes.
        super::output::write_whole(path, &text)
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
