//! Learning from moderators, measured: messages are streamed in date order; each is
//! classified by the model as it stands, then learned under its true label, as a desk does
//! when a moderator confirms a class.
//!
//! The token model starts empty. The combiner ([`super::stack`]) is refitted every
//! [`REFIT_EVERY`] messages on the scores the latest [`REFIT_WINDOW`] messages got *before*
//! they were learned (honest out-of-sample scores; older ones came from a model that knew
//! little); until it has seen both spam and not spam it is not used.
//! The result is every step, the cumulative confusion matrix and the learning curve (errors
//! per [`CURVE_STEP`] messages).

use serde::Serialize;

use super::bayes::BayesParams;
use super::campaign::CopyIndex;
use super::fitting::{fit_rows, Example};
use super::model::{Label, Model};
use super::split::Item;
use super::storage::Copies;
use super::{Classifier, RuleSet};
use crate::core::model::{Class, Outcome};
use crate::core::parse::parse_message;

/// Messages between refits of the combiner.
pub const REFIT_EVERY: usize = 250;
/// The combiner is refitted on the scores of this many latest messages.
pub const REFIT_WINDOW: usize = 1000;
/// Messages per point of the learning curve.
pub const CURVE_STEP: usize = 50;
/// Not-spam and spam messages needed before the combiner is first fitted.
const MIN_TO_FIT: usize = 20;

/// One message of the replay.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub index: usize,
    /// Which of the replayed folders it came from (0-based, in the order given).
    pub source: usize,
    pub file: String,
    pub date: Option<String>,
    pub label: Label,
    pub class: Class,
    pub outcome: Outcome,
    pub spam_score: f64,
    pub error: bool,
}

/// One point of the learning curve: errors among messages `from..to`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CurvePoint {
    pub from: usize,
    pub to: usize,
    pub errors: usize,
}

/// Per folder: how the stream went on it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceSummary {
    pub source: usize,
    pub dir: String,
    pub messages: usize,
    pub errors: usize,
    /// Spam caught (outcome spam) among the spam of the folder's last half.
    pub spam_recall_last_half: f64,
    /// Valid reports classified spam, anywhere in the folder.
    pub valid_as_spam: usize,
    /// Not-spam messages with outcome spam.
    pub not_spam_as_spam: usize,
}

/// Everything `secdesk eval --replay` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub steps: Vec<Step>,
    /// Rows: true label; columns: class as classified before learning.
    pub confusion: Vec<super::evaluate::ConfusionRow>,
    pub curve: Vec<CurvePoint>,
    pub sources: Vec<SourceSummary>,
    /// Messages learned as near-copies of one learned before under the same label, so
    /// counted once ([`super::campaign`]; 0 with [`Copies::CountEach`]).
    pub near_copies: usize,
}

/// An error is a class the moderator has to change: spam not called spam, anything else
/// called spam, and invalid and valid confused (a ham message may be either).
fn is_error(label: Label, class: Class) -> bool {
    match label {
        Label::Spam => class != Class::Spam,
        Label::Ham => class == Class::Spam,
        Label::Invalid => class != Class::Invalid,
        Label::Valid => class != Class::Valid,
    }
}

/// Replays folders: every item of every folder, in date order (undated first, then by
/// folder and name), classify then learn.
pub fn replay(folders: &[(String, Vec<Item>)], rules: &RuleSet) -> ReplayReport {
    replay_with(folders, rules, Copies::CountOnce)
}

/// [`replay`], choosing what a near-copy counts (`CountEach`: as before campaigns counted
/// once, for comparison).
pub fn replay_with(
    folders: &[(String, Vec<Item>)],
    rules: &RuleSet,
    count: Copies,
) -> ReplayReport {
    let mut order: Vec<(usize, &Item)> = folders
        .iter()
        .enumerate()
        .flat_map(|(s, (_, items))| items.iter().map(move |i| (s, i)))
        .collect();
    order.sort_by(|a, b| {
        a.1.date
            .cmp(&b.1.date)
            .then(a.0.cmp(&b.0))
            .then_with(|| a.1.path.cmp(&b.1.path))
    });
    let mut classifier = Classifier::new(Model::default(), rules.clone());
    // A new desk: its combiner is fitted on scores made with today's s, not the old one a
    // model without weights keeps.
    classifier.params = BayesParams::default();
    let mut rows: Vec<(Label, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut copies = CopyIndex::default();
    let mut near_copies = 0;
    let mut steps = Vec::with_capacity(order.len());
    for (index, (source, item)) in order.into_iter().enumerate() {
        let m = parse_message(&item.raw);
        let example = Example::new(&m, item.label, rules);
        let tokens: Vec<&str> = example.tokens.iter().map(String::as_str).collect();
        let (v, inputs) = classifier.classify_inputs(&m, &example.evidence, &tokens);
        rows.push((item.label, inputs.spam, inputs.valid));
        steps.push(Step {
            index,
            source,
            file: item.path.display().to_string(),
            date: item.date.map(|d| d.to_rfc3339()),
            label: item.label,
            class: v.class,
            outcome: v.outcome,
            spam_score: v.spam_score,
            error: is_error(item.label, v.class),
        });
        // As the store learns a verdict: a near-copy of a message learned under the same
        // label counts once (super::campaign).
        let counted = count == Copies::CountEach || copies.learn(item.label, &example.tokens);
        near_copies += usize::from(!counted);
        if counted {
            classifier
                .model_mut()
                .apply(item.label, &example.tokens, false);
        }
        if (index + 1) % REFIT_EVERY == 0 {
            // The latest scores only: early ones came from a model that knew little.
            let recent = &rows[rows.len().saturating_sub(REFIT_WINDOW)..];
            let spam = recent.iter().filter(|r| r.0 == Label::Spam).count();
            if spam >= MIN_TO_FIT && recent.len() - spam >= MIN_TO_FIT {
                let strength = classifier.params.strength;
                classifier.set_stack(Some(fit_rows(recent, strength)));
            }
        }
    }
    summarise(folders, steps, near_copies)
}

fn summarise(
    folders: &[(String, Vec<Item>)],
    steps: Vec<Step>,
    near_copies: usize,
) -> ReplayReport {
    let confusion = super::evaluate::confusion(steps.iter().map(|s| (s.label, s.class)));
    let curve = steps
        .chunks(CURVE_STEP)
        .enumerate()
        .map(|(i, c)| CurvePoint {
            from: i * CURVE_STEP,
            to: i * CURVE_STEP + c.len(),
            errors: c.iter().filter(|s| s.error).count(),
        })
        .collect();
    let sources = folders
        .iter()
        .enumerate()
        .map(|(source, (dir, _))| {
            let of: Vec<&Step> = steps.iter().filter(|s| s.source == source).collect();
            let last = &of[of.len() / 2..];
            let spam: Vec<&&Step> = last.iter().filter(|s| s.label == Label::Spam).collect();
            let caught = spam.iter().filter(|s| s.outcome == Outcome::Spam).count();
            SourceSummary {
                source,
                dir: dir.clone(),
                messages: of.len(),
                errors: of.iter().filter(|s| s.error).count(),
                spam_recall_last_half: if spam.is_empty() {
                    0.0
                } else {
                    caught as f64 / spam.len() as f64
                },
                valid_as_spam: of
                    .iter()
                    .filter(|s| s.label == Label::Valid && s.class == Class::Spam)
                    .count(),
                not_spam_as_spam: of
                    .iter()
                    .filter(|s| s.label != Label::Spam && s.outcome == Outcome::Spam)
                    .count(),
            }
        })
        .collect();
    ReplayReport {
        steps,
        confusion,
        curve,
        sources,
        near_copies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_replay_learns_as_it_goes() {
        let mut items = Vec::new();
        for i in 0..120 {
            let (label, raw) = if i % 2 == 0 {
                (Label::Spam, format!("Subject: cheap pills {i}\nDate: Mon, 1 Jan 2001 00:{:02}:00 +0000\n\nbuy cheap pills viagra now\n", i % 60))
            } else {
                (Label::Ham, format!("Subject: meeting {i}\nDate: Mon, 1 Jan 2001 00:{:02}:00 +0000\n\nagenda for the meeting tuesday\n", i % 60))
            };
            let raw = raw.into_bytes();
            let date = parse_message(&raw).date;
            items.push(Item {
                label,
                path: PathBuf::from(format!("m{i:03}")),
                raw,
                date,
            });
        }
        let r = replay(&[("d".into(), items)], &RuleSet::parse("", "none").unwrap());
        assert_eq!(r.steps.len(), 120);
        assert_eq!(r.curve.len(), 3);
        // The first message cannot be known; by the end nothing is wrong.
        assert!(r.steps[0].error, "{:?}", r.steps[0]);
        assert_eq!(r.curve[2].errors, 0, "{:?}", r.curve);
        assert_eq!(r.sources[0].spam_recall_last_half, 1.0);
        let spam_row = r.confusion.iter().find(|c| c.label == "spam").unwrap();
        assert_eq!(spam_row.spam + spam_row.invalid + spam_row.valid, 60);
    }
}
