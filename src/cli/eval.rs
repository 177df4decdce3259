//! `secdesk eval DIR... [--json]`: measures the store's model on labelled folders (laid out
//! as for `train`). Never trains.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use crate::core::classify::corpus::{labelled_files, read_message};
use crate::core::classify::evaluate::{evaluate, EvalReport, Sample};
use crate::core::classify::load_classifier;

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folders whose subfolders name the labels: spam, ham (= not spam), invalid, valid.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The figures, and how fast messages were parsed and classified.
#[derive(Debug, Serialize)]
struct EvalOutput {
    #[serde(flatten)]
    report: EvalReport,
    seconds: f64,
    messages_per_second: f64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = ctx.store()?;
    let classifier = load_classifier(&mut store, Some(&config.dir()))?;
    let mut files = Vec::new();
    for dir in &args.dirs {
        files.extend(labelled_files(dir)?);
    }
    let raws = files
        .iter()
        .map(|(_, path)| read_message(path))
        .collect::<Result<Vec<_>, _>>()?;
    // Timed: parsing and classifying, not reading files or loading the model.
    let started = Instant::now();
    let samples: Vec<Sample> = files
        .iter()
        .zip(classifier.classify_raw_many(&raws))
        .map(|((label, _), v)| Sample::new(*label, &v))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let out = EvalOutput {
        report: evaluate(&samples),
        seconds,
        messages_per_second: samples.len() as f64 / seconds.max(1e-9),
    };
    if args.json {
        output::print_json(&out)?;
    } else {
        print_tables(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tables(o: &EvalOutput) -> anyhow::Result<()> {
    let r = &o.report;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} messages: {} spam, {} not spam",
        r.messages, r.spam.spam, r.spam.not_spam
    )?;
    writeln!(out, "\nclass     support  precision  recall     F1")?;
    for c in &r.per_class {
        writeln!(
            out,
            "{:<8} {:>8}  {:>9.3}  {:>6.3}  {:>5.3}",
            c.class.as_str(),
            c.support,
            c.precision,
            c.recall,
            c.f1
        )?;
    }
    writeln!(out, "\nconfusion (rows: label, columns: predicted class)")?;
    writeln!(
        out,
        "{:<8} {:>8} {:>8} {:>8}",
        "", "spam", "invalid", "valid"
    )?;
    for row in &r.confusion {
        writeln!(
            out,
            "{:<8} {:>8} {:>8} {:>8}",
            row.label, row.spam, row.invalid, row.valid
        )?;
    }
    let s = &r.spam;
    writeln!(out, "\nspam against the rest")?;
    writeln!(out, "  ROC AUC                          {:.4}", s.auc)?;
    writeln!(
        out,
        "  false positives (not spam→spam)  {:.2}%",
        100.0 * s.false_positive_rate
    )?;
    writeln!(
        out,
        "  false negatives (spam not caught) {:.2}% (unsure: {:.2}% of spam, {:.2}% of not spam)",
        100.0 * s.false_negative_rate,
        100.0 * s.spam_unsure_rate,
        100.0 * s.not_spam_unsure_rate
    )?;
    writeln!(
        out,
        "  spam recall at zero ham loss     {:.2}%",
        100.0 * s.spam_recall_at_zero_ham_loss
    )?;
    writeln!(
        out,
        "\n{:.0} messages/s ({:.2} s to parse and classify)",
        o.messages_per_second, o.seconds
    )?;
    Ok(())
}
