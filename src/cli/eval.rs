//! `secdesk eval DIR... [--json]`: measures the classifier on labelled folders (laid out as
//! for `train`).
//!
//! - Plain: the store's model scores every message. Never trains.
//! - `--split random|date|both`: a model trained in memory on part of each folder scores
//!   the rest (older half → newer half for `date`); the store is not touched.
//! - `--replay`: messages in date order, each classified then learned; `--json` has
//!   `steps`, `confusion` and `curve`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use crate::core::classify::corpus::{labelled_files, read_message};
use crate::core::classify::evaluate::{evaluate, ConfusionRow, EvalReport, Sample};
use crate::core::classify::replay::{replay_with, ReplayReport};
use crate::core::classify::split::{
    read_folder, run_split, test_part, Item, SplitKind, SplitReport,
};
use crate::core::classify::storage::Copies;
use crate::core::classify::RuleSet;
use crate::core::sanitize::terminal_line;

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folders whose subfolders name the labels: spam, ham (= not spam), invalid, valid.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Train in memory on part of each folder and score the rest: by file-name hash
    /// (random), older half then newer half (date), or both side by side.
    #[arg(long, value_enum, conflicts_with = "replay")]
    pub split: Option<SplitArg>,
    /// With --split: print `split<TAB>train|test<TAB>label<TAB>file` lines instead of
    /// evaluating (for scoring other filters on the same split).
    #[arg(long, requires = "split")]
    pub print_split: bool,
    /// Stream the messages in date order from an empty model: classify each, then learn
    /// its true label. Reports the confusion matrix and errors per 50 messages.
    #[arg(long)]
    pub replay: bool,
    /// With --replay: count every near-copy as the desk did before campaigns counted once
    /// (docs/classifier.md), to compare.
    #[arg(long, requires = "replay")]
    pub count_every_copy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Random,
    Date,
    Both,
}

impl SplitArg {
    fn kinds(self) -> Vec<SplitKind> {
        match self {
            SplitArg::Random => vec![SplitKind::Random],
            SplitArg::Date => vec![SplitKind::Date],
            SplitArg::Both => vec![SplitKind::Random, SplitKind::Date],
        }
    }
}

/// The figures, and how fast messages were parsed and classified.
#[derive(Debug, Serialize)]
struct EvalOutput {
    #[serde(flatten)]
    report: EvalReport,
    seconds: f64,
    messages_per_second: f64,
}

#[derive(Debug, Serialize)]
struct SplitOutput {
    splits: Vec<SplitReport>,
    seconds: f64,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.split.is_some() || args.replay {
        return run_held_out(ctx, &args);
    }
    // Never changes the store, and creates none: without one, the starter model, said.
    let config = ctx.config()?;
    let classifier = ctx.classifier(&config)?;
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

/// `--split` and `--replay`: models trained in memory from the folders alone.
fn run_held_out(ctx: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let rules = RuleSet::load(Some(&config.dir()))?;
    let mut folders: Vec<(String, Vec<Item>)> = Vec::new();
    for dir in &args.dirs {
        folders.push((dir.display().to_string(), read_folder(dir)?));
    }
    let started = Instant::now();
    if args.replay {
        let copies = if args.count_every_copy {
            Copies::CountEach
        } else {
            Copies::CountOnce
        };
        let r = replay_with(&folders, &rules, copies);
        if args.json {
            output::print_json(&r)?;
        } else {
            print_replay(&r)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let kinds = args.split.map(SplitArg::kinds).unwrap_or_default();
    if args.print_split {
        let mut out = std::io::stdout().lock();
        for kind in kinds {
            for (_, items) in &folders {
                for (item, test) in items.iter().zip(test_part(items, kind)) {
                    let part = if test { "test" } else { "train" };
                    let file = item.path.display();
                    writeln!(out, "{}\t{part}\t{}\t{file}", kind.as_str(), item.label)?;
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut splits = Vec::new();
    for kind in kinds {
        splits.extend(run_split(&folders, kind, &rules));
    }
    let out = SplitOutput {
        splits,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        output::print_json(&out)?;
    } else {
        print_splits(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Per folder, one column per split.
fn print_splits(o: &SplitOutput) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut dirs: Vec<&str> = Vec::new();
    for s in &o.splits {
        if !dirs.contains(&s.dir.as_str()) {
            dirs.push(&s.dir);
        }
    }
    for dir in dirs {
        let cols: Vec<&SplitReport> = o.splits.iter().filter(|s| s.dir == dir).collect();
        writeln!(out, "\n{}", terminal_line(dir))?;
        let mut row = |name: &str, f: &dyn Fn(&SplitReport) -> String| -> std::io::Result<()> {
            write!(out, "  {name:<34}")?;
            for c in &cols {
                write!(out, " {:>20}", f(c))?;
            }
            writeln!(out)
        };
        row("split", &|c| c.split.as_str().to_string())?;
        row("train / test messages", &|c| {
            format!("{} / {}", c.train, c.test)
        })?;
        row("test from", &|c| {
            c.test_from
                .as_deref()
                .map_or("-".into(), |d| d[..10.min(d.len())].to_string())
        })?;
        row("cut-offs (ham < x, spam >= y)", &|c| {
            format!("{:.3} / {:.3}", c.ham_cutoff, c.spam_cutoff)
        })?;
        row("ROC AUC", &|c| format!("{:.4}", c.report.spam.auc))?;
        row("spam recall at zero ham loss", &|c| {
            format!("{:.1}%", 100.0 * c.report.spam.spam_recall_at_zero_ham_loss)
        })?;
        row("not spam called spam", &|c| {
            format!(
                "{} / {}",
                c.report.spam.false_positives, c.report.spam.not_spam
            )
        })?;
        row("spam missed (unsure or ham)", &|c| {
            format!("{:.1}%", 100.0 * c.report.spam.false_negative_rate)
        })?;
        if cols.iter().any(|c| c.report.per_class[2].support > 0) {
            for (i, name) in ["spam", "invalid", "valid"].iter().enumerate() {
                row(&format!("{name} P / R / F1"), &|c| {
                    let m = &c.report.per_class[i];
                    format!("{:.2} / {:.2} / {:.2}", m.precision, m.recall, m.f1)
                })?;
            }
            row("macro-F1", &|c| format!("{:.3}", c.report.macro_f1))?;
            for label in ["spam", "invalid", "valid"] {
                row(&format!("{label} → spam / invalid / valid"), &|c| {
                    c.report
                        .confusion
                        .iter()
                        .find(|r| r.label == label)
                        .map_or("-".into(), |r| {
                            format!("{} / {} / {}", r.spam, r.invalid, r.valid)
                        })
                })?;
            }
        }
    }
    writeln!(out, "\n{:.1} s to train and score", o.seconds)?;
    Ok(())
}

fn print_replay(r: &ReplayReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} messages replayed in date order; {} near-copies of a message learned under the same label counted once",
        r.steps.len(),
        r.near_copies
    )?;
    print_confusion(&mut out, "class before learning", &r.confusion)?;
    writeln!(out, "\nerrors per 50 messages")?;
    let line: Vec<String> = r.curve.iter().map(|p| p.errors.to_string()).collect();
    for chunk in line.chunks(20) {
        writeln!(out, "  {}", chunk.join(" "))?;
    }
    for s in &r.sources {
        writeln!(
            out,
            "\n{}: {} messages, {} errors; spam recall in the last half {:.1}%; valid called spam {}; not spam called spam {}",
            terminal_line(&s.dir),
            s.messages,
            s.errors,
            100.0 * s.spam_recall_last_half,
            s.valid_as_spam,
            s.not_spam_as_spam
        )?;
    }
    Ok(())
}

fn print_confusion(
    out: &mut impl Write,
    columns: &str,
    rows: &[ConfusionRow],
) -> std::io::Result<()> {
    writeln!(out, "\nconfusion (rows: label, columns: {columns})")?;
    writeln!(
        out,
        "{:<8} {:>8} {:>8} {:>8}",
        "", "spam", "invalid", "valid"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<8} {:>8} {:>8} {:>8}",
            row.label, row.spam, row.invalid, row.valid
        )?;
    }
    Ok(())
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
    writeln!(out, "macro-F1 {:.3}", r.macro_f1)?;
    print_confusion(&mut out, "predicted class", &r.confusion)?;
    let s = &r.spam;
    writeln!(out, "\nspam against the rest")?;
    writeln!(out, "  ROC AUC                          {:.4}", s.auc)?;
    writeln!(
        out,
        "  false positives (not spam→spam)  {} of {} = {:.2}%",
        s.false_positives,
        s.not_spam,
        100.0 * s.false_positive_rate
    )?;
    writeln!(
        out,
        "  false negatives (spam not called spam: unsure or ham) {} of {} = {:.2}% (unsure: {:.2}% of spam, {:.2}% of not spam)",
        s.false_negatives,
        s.spam,
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
