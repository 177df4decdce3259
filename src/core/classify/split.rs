//! Held-out evaluation: train a model in memory on one part of each labelled folder and
//! score the other part.
//!
//! - **By date** (the honest one): each folder's messages are ordered by their `Date` header
//!   and cut in half; the older half trains, the newer half is scored. Mail without a
//!   readable date counts as oldest. The combiner's weights and cut-offs are fitted on the
//!   older half only ([`super::fitting`]), so nothing about the newer half leaks into them.
//! - **Random**: half and half by a hash of the file name (the split `bench/classify.sh`
//!   has always used), which rewards collection artefacts shared by both halves.
//!
//! The store's model is not used or touched.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::bayes::BayesParams;
use super::corpus::{labelled_files, read_message};
use super::evaluate::{evaluate, EvalReport, Sample};
use super::fitting::{fit_stack, train_model, Example};
use super::model::{Label, Model};
use super::{Classifier, ClassifyError, RuleSet};
use crate::core::parse::parse_message;

/// How a folder is cut into a training and a test part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    /// Half and half by a hash of the file name.
    Random,
    /// Older half trains, newer half is scored.
    Date,
}

impl SplitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SplitKind::Random => "random",
            SplitKind::Date => "date",
        }
    }
}

/// One message file of a labelled folder.
#[derive(Debug, Clone)]
pub struct Item {
    pub label: Label,
    pub path: PathBuf,
    pub raw: Vec<u8>,
    pub date: Option<DateTime<Utc>>,
}

/// Reads a labelled folder (as `train` lays it out), with each message's date.
pub fn read_folder(dir: &Path) -> Result<Vec<Item>, ClassifyError> {
    labelled_files(dir)?
        .into_iter()
        .map(|(label, path)| {
            let raw = read_message(&path)?;
            let date = parse_message(&raw).date;
            Ok(Item {
                label,
                path,
                raw,
                date,
            })
        })
        .collect()
}

/// Whether each item is in the test part.
pub fn test_part(items: &[Item], kind: SplitKind) -> Vec<bool> {
    match kind {
        SplitKind::Random => items.iter().map(|i| name_bucket(&i.path, 2) == 1).collect(),
        SplitKind::Date => {
            let mut order: Vec<usize> = (0..items.len()).collect();
            order.sort_by(|&a, &b| {
                items[a]
                    .date
                    .cmp(&items[b].date)
                    .then_with(|| items[a].path.cmp(&items[b].path))
            });
            let mut test = vec![false; items.len()];
            for &i in &order[items.len() / 2..] {
                test[i] = true;
            }
            test
        }
    }
}

/// The bucket of a file name: the polynomial hash `bench/classify.sh` computes with awk.
pub fn name_bucket(path: &Path, n: u64) -> u64 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.bytes()
        .fold(7u64, |h, b| (h * 131 + b as u64) % 1_000_000_007)
        % n
}

/// The figures of one folder under one split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    pub split: SplitKind,
    pub dir: String,
    pub train: usize,
    pub test: usize,
    /// The newest training date and the oldest test date (RFC 3339), for the date split.
    pub train_until: Option<String>,
    pub test_from: Option<String>,
    /// The cut-offs chosen on the training part.
    pub spam_cutoff: f64,
    pub ham_cutoff: f64,
    #[serde(flatten)]
    pub report: EvalReport,
}

/// A model trained from empty on the items `parts` leaves out of the test (per folder), with
/// its combiner fitted on them only.
pub fn train_part(folders: &[(String, Vec<Item>)], parts: &[Vec<bool>], rules: &RuleSet) -> Model {
    let mut examples = Vec::new();
    for ((_, items), test) in folders.iter().zip(parts) {
        for (item, _) in items.iter().zip(test).filter(|(_, t)| !**t) {
            examples.push(Example::new(&parse_message(&item.raw), item.label, rules));
        }
    }
    let mut model = train_model(&examples);
    model.stack = Some(fit_stack(&model, &examples, &BayesParams::default()));
    model
}

/// Trains on the training part of every folder, then scores each folder's test part.
pub fn run_split(
    folders: &[(String, Vec<Item>)],
    kind: SplitKind,
    rules: &RuleSet,
) -> Vec<SplitReport> {
    let parts: Vec<Vec<bool>> = folders
        .iter()
        .map(|(_, items)| test_part(items, kind))
        .collect();
    let classifier = Classifier::new(train_part(folders, &parts, rules), rules.clone());
    folders
        .iter()
        .zip(&parts)
        .map(|((dir, items), test)| {
            let chosen: Vec<&Item> = items
                .iter()
                .zip(test)
                .filter(|(_, t)| **t)
                .map(|(i, _)| i)
                .collect();
            let raws: Vec<&[u8]> = chosen.iter().map(|i| i.raw.as_slice()).collect();
            let samples: Vec<Sample> = chosen
                .iter()
                .zip(classifier.classify_raw_many(&raws))
                .map(|(i, v)| Sample::new(i.label, &v))
                .collect();
            let date = |it: &mut dyn Iterator<Item = &Item>, newest: bool| {
                let dates = it.filter_map(|i| i.date);
                if newest { dates.max() } else { dates.min() }.map(|d| d.to_rfc3339())
            };
            let train_until = date(
                &mut items.iter().zip(test).filter(|(_, t)| !**t).map(|(i, _)| i),
                true,
            );
            SplitReport {
                split: kind,
                dir: dir.clone(),
                train: items.len() - chosen.len(),
                test: chosen.len(),
                train_until: (kind == SplitKind::Date).then_some(train_until).flatten(),
                test_from: (kind == SplitKind::Date)
                    .then(|| date(&mut chosen.iter().copied(), false))
                    .flatten(),
                spam_cutoff: classifier.cutoffs.spam,
                ham_cutoff: classifier.cutoffs.ham,
                report: evaluate(&samples),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: Label, name: &str, year: i32) -> Item {
        Item {
            label,
            path: PathBuf::from(name),
            raw: Vec::new(),
            date: chrono::TimeZone::with_ymd_and_hms(&Utc, year, 1, 1, 0, 0, 0).single(),
        }
    }

    #[test]
    fn the_date_split_tests_on_the_newer_half() {
        let items = vec![
            item(Label::Spam, "a", 2022),
            item(Label::Ham, "b", 2001),
            item(Label::Valid, "c", 2020),
            item(Label::Ham, "d", 1999),
        ];
        assert_eq!(
            test_part(&items, SplitKind::Date),
            [true, false, true, false]
        );
        // The random split matches the awk hash of bench/classify.sh.
        let r = test_part(&items, SplitKind::Random);
        assert_eq!(r.len(), 4);
        assert_eq!(
            name_bucket(Path::new("x/ab"), 1_000_000_007),
            (7 * 131 + 97) * 131 + 98
        );
    }
}
