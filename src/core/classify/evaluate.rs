//! Measuring the classifier against labelled messages: per-class precision, recall and F1,
//! the confusion matrix, and for spam against the rest the ROC AUC, error rates at the
//! default cut-offs and spam recall at zero ham loss.
//!
//! Messages labelled `ham` (not spam, but not known to be a valid or an invalid report) count
//! as "not spam" in the spam figures, and are left out of the invalid and valid figures.

use serde::Serialize;

use super::model::Label;
use crate::core::model::{Class, Outcome, Verdict};

/// One labelled, classified message.
#[derive(Debug, Clone)]
pub struct Sample {
    pub label: Label,
    pub class: Class,
    pub outcome: Outcome,
    pub spam_score: f64,
}

impl Sample {
    pub fn new(label: Label, v: &Verdict) -> Sample {
        Sample {
            label,
            class: v.class,
            outcome: v.outcome,
            spam_score: v.spam_score,
        }
    }
}

/// Everything `secdesk eval` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalReport {
    pub messages: usize,
    pub per_class: Vec<ClassMetrics>,
    /// Mean F1 of the classes that occur among the labels.
    pub macro_f1: f64,
    pub confusion: Vec<ConfusionRow>,
    pub spam: SpamMetrics,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassMetrics {
    pub class: Class,
    /// Messages of this label.
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// One row of the confusion matrix: the messages of one label, by predicted class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfusionRow {
    pub label: String,
    pub spam: usize,
    pub invalid: usize,
    pub valid: usize,
}

/// Spam against the rest.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpamMetrics {
    pub spam: usize,
    pub not_spam: usize,
    /// Not-spam messages with outcome spam.
    pub false_positives: usize,
    /// Spam messages whose outcome is not spam.
    pub false_negatives: usize,
    /// Area under the ROC curve of `spam_score` (0.5 = chance, 1 = perfect).
    pub auc: f64,
    /// Not-spam messages with outcome spam, as a share of not-spam messages.
    pub false_positive_rate: f64,
    /// Spam messages whose outcome is not spam (unsure or ham), as a share of spam.
    pub false_negative_rate: f64,
    /// Shares with outcome unsure.
    pub spam_unsure_rate: f64,
    pub not_spam_unsure_rate: f64,
    /// Share of spam scored above every not-spam message.
    pub spam_recall_at_zero_ham_loss: f64,
}

/// Computes every figure from classified samples.
pub fn evaluate(samples: &[Sample]) -> EvalReport {
    let confusion = confusion(samples.iter().map(|s| (s.label, s.class)));
    let per_class: Vec<ClassMetrics> = Class::ALL
        .into_iter()
        .map(|class| {
            // Ham messages only count for spam: they say nothing about invalid against valid.
            let scope: Vec<&Sample> = samples
                .iter()
                .filter(|s| class == Class::Spam || s.label != Label::Ham)
                .collect();
            let is = |s: &&Sample| s.label == Label::from(class);
            let tp = scope.iter().filter(|s| is(s) && s.class == class).count();
            let predicted = scope.iter().filter(|s| s.class == class).count();
            let support = scope.iter().filter(|s| is(s)).count();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                class,
                support,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let spam: Vec<&Sample> = samples.iter().filter(|s| s.label.is_spam()).collect();
    let rest: Vec<&Sample> = samples.iter().filter(|s| !s.label.is_spam()).collect();
    let spam_scores: Vec<f64> = spam.iter().map(|s| s.spam_score).collect();
    let rest_scores: Vec<f64> = rest.iter().map(|s| s.spam_score).collect();
    let count = |v: &[&Sample], o: Outcome| v.iter().filter(|s| s.outcome == o).count();
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
    };
    let false_positives = count(&rest, Outcome::Spam);
    let false_negatives = spam.len() - count(&spam, Outcome::Spam);
    EvalReport {
        messages: samples.len(),
        per_class,
        macro_f1,
        confusion,
        spam: SpamMetrics {
            spam: spam.len(),
            not_spam: rest.len(),
            false_positives,
            false_negatives,
            auc: roc_auc(&spam_scores, &rest_scores),
            false_positive_rate: ratio(false_positives, rest.len()),
            false_negative_rate: ratio(false_negatives, spam.len()),
            spam_unsure_rate: ratio(count(&spam, Outcome::Unsure), spam.len()),
            not_spam_unsure_rate: ratio(count(&rest, Outcome::Unsure), rest.len()),
            spam_recall_at_zero_ham_loss: recall_at_zero_ham_loss(&spam_scores, &rest_scores),
        },
    }
}

/// The confusion matrix of `(label, predicted class)` pairs: one row per label present.
pub fn confusion(pairs: impl Iterator<Item = (Label, Class)>) -> Vec<ConfusionRow> {
    let mut counts = [[0usize; 3]; 4];
    for (label, class) in pairs {
        counts[label.index()][class as usize] += 1;
    }
    Label::ALL
        .into_iter()
        .filter(|l| counts[l.index()].iter().sum::<usize>() > 0)
        .map(|l| {
            let c = counts[l.index()];
            ConfusionRow {
                label: l.as_str().into(),
                spam: c[Class::Spam as usize],
                invalid: c[Class::Invalid as usize],
                valid: c[Class::Valid as usize],
            }
        })
        .collect()
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// ROC AUC by the Mann-Whitney statistic: the chance that a random positive scores above a
/// random negative, ties counting one half. 0.5 when either side is empty.
pub fn roc_auc(pos: &[f64], neg: &[f64]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return 0.5;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the ranks of the positives, with tied scores sharing their average rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * all[i..j].iter().filter(|(_, p)| *p).count() as f64;
        i = j;
    }
    let (np, nn) = (pos.len() as f64, neg.len() as f64);
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// The share of positives scored strictly above every negative.
pub fn recall_at_zero_ham_loss(pos: &[f64], neg: &[f64]) -> f64 {
    let max_neg = neg.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    ratio(pos.iter().filter(|&&s| s > max_neg).count(), pos.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(label: Label, class: Class, outcome: Outcome, score: f64) -> Sample {
        Sample {
            label,
            class,
            outcome,
            spam_score: score,
        }
    }

    #[test]
    fn auc_and_zero_ham_loss_match_hand_computation() {
        // Pairs (pos, neg): 0.9>0.1, 0.9>0.5, 0.5=0.5 (½), 0.5>0.1 → 3.5 of 4.
        assert_eq!(roc_auc(&[0.9, 0.5], &[0.1, 0.5]), 0.875);
        assert_eq!(recall_at_zero_ham_loss(&[0.9, 0.5], &[0.1, 0.5]), 0.5);
        assert_eq!(roc_auc(&[1.0], &[0.0]), 1.0);
    }

    #[test]
    fn report_counts_confusion_and_rates() {
        use Class::*;
        let samples = [
            s(Label::Spam, Spam, Outcome::Spam, 0.99),
            s(Label::Spam, Invalid, Outcome::Unsure, 0.6),
            s(Label::Ham, Valid, Outcome::Ham, 0.01),
            s(Label::Valid, Valid, Outcome::Ham, 0.02),
            s(Label::Invalid, Valid, Outcome::Ham, 0.05),
        ];
        let r = evaluate(&samples);
        assert_eq!(r.spam.false_negative_rate, 0.5);
        assert_eq!(r.spam.false_positive_rate, 0.0);
        assert_eq!(r.spam.spam_recall_at_zero_ham_loss, 1.0);
        let valid = &r.per_class[2];
        // Ham predicted valid is not counted against valid precision.
        assert_eq!(
            (valid.support, valid.precision, valid.recall),
            (1, 0.5, 1.0)
        );
        assert_eq!(r.confusion[0].label, "spam");
        assert_eq!((r.confusion[0].spam, r.confusion[0].invalid), (1, 1));
    }
}
