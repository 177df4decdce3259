//! Fitting the learned combiner ([`super::stack`]) on labelled messages.
//!
//! The token models score the very messages they were trained on with far more confidence
//! than they will ever have on new mail, so the combiner is fitted on **out-of-fold** scores:
//! the messages are cut into [`FOLDS`] parts by a hash of their tokens, and each part is
//! scored by the token model minus that part's counts. The spam cut-offs are chosen on the
//! same out-of-fold probabilities. Only the messages given take part, so when `train` runs on
//! the older half of a corpus, the newer half never influences a weight or a cut-off.

use super::bayes::{self, BayesParams};
use super::detect::evidence;
use super::features::Evidence;
use super::model::{Label, Model};
use super::rules::{Fired, RuleSet};
use super::stack::{self, balance, choose_cutoffs, fit, sigmoid, Stack};
use super::tokenize::{tokenize_list_with, MAX_TOKENS};
use crate::core::model::Class;
use crate::core::parse::ParsedMessage;

/// Parts for out-of-fold scoring.
pub const FOLDS: usize = 5;
/// With fewer valid or invalid reports than this, the valid weights are not fitted.
const MIN_REPORTS: usize = 4;

/// One labelled message, reduced to what training and fitting need.
#[derive(Debug, Clone)]
pub struct Example {
    pub label: Label,
    /// Sorted, distinct (as [`super::tokenize::tokenize`]).
    pub tokens: Vec<String>,
    pub evidence: Evidence,
    /// Sum of the spam rules' weights.
    pub rule_spam: f64,
    /// Valid rules' weights minus invalid rules' weights.
    pub rule_valid: f64,
}

impl Example {
    pub fn new(m: &ParsedMessage, label: Label, rules: &RuleSet) -> Example {
        let e = evidence(m);
        let list = tokenize_list_with(m, &e);
        let mut tokens: Vec<String> = list.iter().map(str::to_owned).collect();
        tokens.sort_unstable();
        tokens.truncate(MAX_TOKENS);
        let (rule_spam, rule_valid) = rule_sums(&rules.evaluate(m));
        Example {
            label,
            tokens,
            evidence: e,
            rule_spam,
            rule_valid,
        }
    }

    /// The combiner's inputs, given the token models' scores.
    pub fn inputs(&self, bayes_spam: f64, bayes_valid: f64) -> (Vec<f64>, Vec<f64>) {
        (
            stack::inputs(bayes_spam, self.rule_spam, &self.evidence),
            stack::inputs(bayes_valid, self.rule_valid, &self.evidence),
        )
    }
}

/// The spam rules' weight, and the valid rules' weight minus the invalid rules'.
pub fn rule_sums(fired: &[Fired]) -> (f64, f64) {
    let mut spam = 0.0;
    let mut valid = 0.0;
    for f in fired {
        match f.class {
            Class::Spam => spam += f.weight,
            Class::Valid => valid += f.weight,
            Class::Invalid => valid -= f.weight,
        }
    }
    (spam, valid)
}

/// The token models' two scores for a message: spam, and valid among reports (0.5 when no
/// token of a report was ever seen).
pub fn token_scores(model: &Model, params: &BayesParams, tokens: &[String]) -> (f64, f64) {
    let known: Vec<(&str, &[u64; 4])> = tokens
        .iter()
        .filter_map(|t| model.tokens.get(t).map(|c| (t.as_str(), c)))
        .collect();
    let (spam, _) = bayes::score_top(
        known.iter().map(|(t, c)| (*t, model.spam_side(c))),
        params,
        0,
    );
    let (valid, clues) = bayes::score_top(
        known
            .iter()
            .filter_map(|(t, c)| model.valid_side(c).map(|s| (*t, s))),
        &params.valid_side(),
        1,
    );
    (spam, if clues.is_empty() { 0.5 } else { valid })
}

/// A model trained on every example.
pub fn train_model(examples: &[Example]) -> Model {
    let mut model = Model::default();
    for e in examples {
        model.apply(e.label, &e.tokens, false);
    }
    model
}

/// Fits the combiner on out-of-fold scores of `examples` over `base` (the token model
/// trained on them, plus whatever it held before).
pub fn fit_stack(base: &Model, examples: &[Example], params: &BayesParams) -> Stack {
    let (rows, folds) = out_of_fold_rows(base, examples, params);
    fit_folded_rows(&rows, &folds, params.strength)
}

/// The combiner's inputs (spam, valid) for each example, scored by the token model minus the
/// example's fold, with its label; and the fold of each row.
pub type FoldedRows = (Vec<(Label, Vec<f64>, Vec<f64>)>, Vec<usize>);

/// Scores `examples` out of fold over `base`: each of the [`FOLDS`] parts by the token model
/// minus that part's counts.
pub fn out_of_fold_rows(base: &Model, examples: &[Example], params: &BayesParams) -> FoldedRows {
    let mut rows: Vec<(Label, Vec<f64>, Vec<f64>)> = Vec::with_capacity(examples.len());
    let mut folds = Vec::with_capacity(examples.len());
    for fold in 0..FOLDS {
        let part: Vec<&Example> = examples
            .iter()
            .filter(|e| fold_of(&e.tokens) == fold)
            .collect();
        if part.is_empty() {
            continue;
        }
        let mut model = base.clone();
        for e in &part {
            model.apply(e.label, &e.tokens, true);
        }
        for e in part {
            let (s, v) = token_scores(&model, params, &e.tokens);
            let (xs, xv) = e.inputs(s, v);
            rows.push((e.label, xs, xv));
            folds.push(fold);
        }
    }
    (rows, folds)
}

/// Fits the combiner on inputs already scored out of sample online, as in a replay, where
/// each message was scored before it was learned. For the spam cut-off's margin (the spread
/// of the folds, [`choose_cutoffs`]) the rows are dealt into [`FOLDS`] folds in turn.
/// `strength` is the s the rows' token scores were made with.
pub fn fit_rows(rows: &[(Label, Vec<f64>, Vec<f64>)], strength: f64) -> Stack {
    let folds: Vec<usize> = (0..rows.len()).map(|i| i % FOLDS).collect();
    fit_folded_rows(rows, &folds, strength)
}

/// Fits the combiner on inputs scored out of sample, each row with the fold it was scored in.
fn fit_folded_rows(rows: &[(Label, Vec<f64>, Vec<f64>)], folds: &[usize], strength: f64) -> Stack {
    let xs: Vec<Vec<f64>> = rows.iter().map(|r| r.1.clone()).collect();
    let ys: Vec<bool> = rows.iter().map(|r| r.0 == Label::Spam).collect();
    let spam = fit(&xs, &ys, &balance(&ys));
    let reports: Vec<&(Label, Vec<f64>, Vec<f64>)> = rows
        .iter()
        .filter(|r| matches!(r.0, Label::Valid | Label::Invalid))
        .collect();
    let yv: Vec<bool> = reports.iter().map(|r| r.0 == Label::Valid).collect();
    let nv = yv.iter().filter(|&&v| v).count();
    let valid = if nv >= MIN_REPORTS && yv.len() - nv >= MIN_REPORTS {
        let xv: Vec<Vec<f64>> = reports.iter().map(|r| r.2.clone()).collect();
        fit(&xv, &yv, &balance(&yv))
    } else {
        default_valid_weights()
    };
    let probs: Vec<(bool, usize, f64)> = xs
        .iter()
        .zip(&ys)
        .zip(folds)
        .map(|((x, &y), &fold)| (y, fold, sigmoid(Stack::score(&spam, x))))
        .collect();
    let pos: Vec<f64> = probs.iter().filter(|p| p.0).map(|p| p.2).collect();
    let neg: Vec<(usize, f64)> = probs.iter().filter(|p| !p.0).map(|p| (p.1, p.2)).collect();
    let (spam_cutoff, ham_cutoff) = choose_cutoffs(&pos, &neg);
    Stack {
        spam,
        valid,
        spam_cutoff,
        ham_cutoff,
        strength,
    }
}

/// Too few reports to learn from: the valid token model's log-odds plus the rules, as the
/// plain sum would have it.
fn default_valid_weights() -> Vec<f64> {
    let mut w = vec![0.0; stack::input_len()];
    w[1] = 3.0;
    w[2] = 1.0;
    w
}

/// The fold of a message, from its tokens (stable across runs and file names).
fn fold_of(tokens: &[String]) -> usize {
    let h = tokens
        .iter()
        .take(64)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, t| {
            t.bytes()
                .fold(h, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
        });
    (h % FOLDS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse::parse_message;

    #[test]
    fn fitted_weights_learn_that_structure_predicts_spam() {
        let rules = RuleSet::parse("", "none").unwrap();
        let mut examples = Vec::new();
        for i in 0..60 {
            let spam = format!(
                "Subject: offer {i}\nList-Unsubscribe: <mailto:x@y.example>\nReply-To: a{i}@b.example\nFrom: s{i}@c.example\n\nword{i} claim 2 BTC today w{} \n",
                i * 7
            );
            let ham = format!(
                "Subject: notes {i}\nFrom: h{i}@d.example\n\nmeeting word{i} agenda w{}\n",
                i * 11
            );
            examples.push(Example::new(
                &parse_message(spam.as_bytes()),
                Label::Spam,
                &rules,
            ));
            examples.push(Example::new(
                &parse_message(ham.as_bytes()),
                Label::Ham,
                &rules,
            ));
        }
        let base = train_model(&examples);
        let s = fit_stack(&base, &examples, &BayesParams::default());
        let names = stack::input_names();
        let w = |n: &str| s.spam[names.iter().position(|x| x == n).unwrap()];
        assert!(w("feat:bulk-mail") > 0.0, "{:?}", s.spam);
        assert!(w("tokens") > 0.0, "{:?}", s.spam);
        assert!(
            s.spam_cutoff >= 0.5 && s.ham_cutoff <= s.spam_cutoff,
            "{s:?}"
        );
    }
}
