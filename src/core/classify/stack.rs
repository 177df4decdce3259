//! The learned combiner: two logistic regressions that weigh the token models' scores, the
//! rules and the [`features`](super::features) into calibrated probabilities.
//!
//! - **Spam**: P(spam) from the Fisher score of the spam token model (as log-odds), the sum
//!   of the spam rules' weights, and every binary feature.
//! - **Valid**: the log-odds that a report which is not spam is valid, from the valid token
//!   model's score, the report rules (valid positive, invalid negative) and the features.
//!
//! `secdesk train` fits both on out-of-fold scores (each message scored by a token model that
//! did not see it), so the weights learn how far the token models can be trusted on new mail.
//! It also picks the spam cut-offs on those scores. Nothing here is hand-set: a model
//! without weights (an old store, an empty model) falls back to the plain sum of log-odds.

use super::bayes::LEGACY_STRENGTH;
use super::features::{Evidence, Feature};

/// Inputs before the features: bias, token-model log-odds, rule sum.
const FIXED_INPUTS: usize = 3;
/// The Fisher score is clamped to this many units of log-odds: beyond, it says "certain"
/// about mail it has never seen, which is exactly what does not generalise. 4 scored best
/// of 4, 8 and 16 on the date split (docs/benchmarks.md).
const MAX_LOGIT: f64 = 4.0;
/// L2 penalty on the feature weights (the token score and rules are not penalised as much);
/// 3 scored best of 0.3, 1 and 3 on the date split.
const L2_FEATURES: f64 = 3.0;
const L2_FIXED: f64 = 0.01;
/// Newton iterations: logistic regression converges in a handful.
const ITERATIONS: usize = 25;

/// The names of the inputs, in order: they label the weights in the model file.
pub fn input_names() -> Vec<String> {
    let mut names = vec!["bias".to_string(), "tokens".into(), "rules".into()];
    names.extend(Feature::ALL.iter().map(|f| format!("feat:{}", f.name())));
    names
}

pub fn input_len() -> usize {
    FIXED_INPUTS + Feature::ALL.len()
}

/// The inputs of one message: 1, the token model's score as clamped log-odds, the rule sum,
/// then 0/1 per feature.
pub fn inputs(token_score: f64, rule_sum: f64, e: &Evidence) -> Vec<f64> {
    let mut x = Vec::with_capacity(input_len());
    x.push(1.0);
    x.push(clamped_logit(token_score) / MAX_LOGIT);
    x.push(rule_sum);
    x.extend(
        Feature::ALL
            .iter()
            .map(|f| if e.has(*f) { 1.0 } else { 0.0 }),
    );
    x
}

/// The token score as log-odds, within ±`MAX_LOGIT`.
pub fn clamped_logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln().clamp(-MAX_LOGIT, MAX_LOGIT)
}

/// Learned weights for both decisions, and the spam cut-offs chosen with them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub spam: Vec<f64>,
    pub valid: Vec<f64>,
    /// Probability of spam from which a message is spam.
    pub spam_cutoff: f64,
    /// Probability of spam below which a message is ham.
    pub ham_cutoff: f64,
    /// Robinson's s the token scores were made with when the weights were fitted: the weights
    /// fit only scores made the same way, so a classifier with these weights scores with it.
    /// A model file or store without it was fitted with [`LEGACY_STRENGTH`].
    pub strength: f64,
}

impl Stack {
    /// Log-odds of the weights against the inputs.
    pub fn score(weights: &[f64], x: &[f64]) -> f64 {
        weights.iter().zip(x).map(|(w, v)| w * v).sum()
    }

    /// The weights as `(decision, input, weight)` rows, for the model file and the store.
    pub fn rows(&self) -> Vec<(String, String, f64)> {
        let names = input_names();
        let mut out = Vec::new();
        for (side, w) in [("spam", &self.spam), ("valid", &self.valid)] {
            out.extend(
                names
                    .iter()
                    .zip(w.iter())
                    .map(|(n, v)| (side.to_string(), n.clone(), *v)),
            );
        }
        out.push(("cutoff".into(), "spam".into(), self.spam_cutoff));
        out.push(("cutoff".into(), "ham".into(), self.ham_cutoff));
        out.push(("param".into(), "strength".into(), self.strength));
        out
    }

    /// Reads rows written by [`Stack::rows`]. Inputs this version does not know are ignored
    /// and ones it lacks weigh zero, so a model file survives a new feature; `None` without
    /// any weights.
    pub fn from_rows<'a>(rows: impl Iterator<Item = (&'a str, &'a str, f64)>) -> Option<Stack> {
        let names = input_names();
        let mut s = Stack {
            spam: vec![0.0; names.len()],
            valid: vec![0.0; names.len()],
            spam_cutoff: 0.9,
            ham_cutoff: 0.2,
            strength: LEGACY_STRENGTH,
        };
        let mut any = false;
        for (side, name, w) in rows {
            any = true;
            match (side, name) {
                ("cutoff", "spam") => s.spam_cutoff = w,
                ("cutoff", "ham") => s.ham_cutoff = w,
                ("param", "strength") => s.strength = w,
                ("spam" | "valid", _) => {
                    if let Some(i) = names.iter().position(|n| n == name) {
                        let v = if side == "spam" {
                            &mut s.spam
                        } else {
                            &mut s.valid
                        };
                        v[i] = w;
                    }
                }
                _ => {}
            }
        }
        any.then_some(s)
    }
}

/// Fits a logistic regression by Newton's method with an L2 penalty. `x` rows all have
/// [`input_len`] values; `y` is 0 or 1; `weight` weighs each example (class balance).
pub fn fit(x: &[Vec<f64>], y: &[bool], weight: &[f64]) -> Vec<f64> {
    let d = x.first().map_or(input_len(), Vec::len);
    let mut w = vec![0.0; d];
    if x.is_empty() || y.iter().all(|&v| v) || y.iter().all(|&v| !v) {
        return w;
    }
    let penalty = |j: usize| {
        if j == 0 {
            0.0
        } else if j < FIXED_INPUTS {
            L2_FIXED
        } else {
            L2_FEATURES
        }
    };
    for _ in 0..ITERATIONS {
        let mut grad = vec![0.0; d];
        let mut hess = vec![vec![0.0; d]; d];
        for ((xi, &yi), &ci) in x.iter().zip(y).zip(weight) {
            let p = sigmoid(Stack::score(&w, xi));
            let r = ci * (p - if yi { 1.0 } else { 0.0 });
            let s = ci * (p * (1.0 - p)).max(1e-9);
            for a in 0..d {
                if xi[a] == 0.0 {
                    continue;
                }
                grad[a] += r * xi[a];
                for b in 0..d {
                    hess[a][b] += s * xi[a] * xi[b];
                }
            }
        }
        for j in 0..d {
            grad[j] += penalty(j) * w[j];
            hess[j][j] += penalty(j) + 1e-9;
        }
        let Some(step) = solve(hess, grad) else { break };
        let mut moved = 0.0f64;
        for j in 0..d {
            w[j] -= step[j];
            moved = moved.max(step[j].abs());
        }
        if moved < 1e-7 {
            break;
        }
    }
    w
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            if f == 0.0 {
                continue;
            }
            let (upper, lower) = a.split_at_mut(row);
            for (x, p) in lower[0][col..].iter_mut().zip(&upper[col][col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Weights that make both classes count equally, whatever their sizes.
pub fn balance(y: &[bool]) -> Vec<f64> {
    let pos = y.iter().filter(|&&v| v).count().max(1) as f64;
    let neg = y.iter().filter(|&&v| !v).count().max(1) as f64;
    let n = y.len() as f64;
    y.iter()
        .map(|&v| if v { n / (2.0 * pos) } else { n / (2.0 * neg) })
        .collect()
}

/// Spam cut-offs from out-of-fold probabilities, each not-spam probability with the fold it
/// was scored in.
///
/// - **Spam** from a margin above the highest not-spam probability (between 0.5 and 0.999),
///   in log-odds. The margin is the **spread of the folds**: the highest not-spam log-odds of
///   each fold, the largest minus the smallest. It measures how far the top of the not-spam
///   scores moves from one sample of the training mail to another, so newer mail is given that
///   much room; nothing but the training mail sets it.
/// - **Ham** below the 2nd percentile of spam, never above the spam cut-off.
pub fn choose_cutoffs(spam_probs: &[f64], not_spam: &[(usize, f64)]) -> (f64, f64) {
    let mut pos = spam_probs.to_vec();
    pos.sort_by(f64::total_cmp);
    let logit = |p: f64| {
        let p = p.clamp(1e-9, 1.0 - 1e-9);
        (p / (1.0 - p)).ln()
    };
    let mut fold_top: Vec<(usize, f64)> = Vec::new();
    for &(fold, p) in not_spam {
        match fold_top.iter_mut().find(|(f, _)| *f == fold) {
            Some(top) => top.1 = top.1.max(logit(p)),
            None => fold_top.push((fold, logit(p))),
        }
    }
    let top = fold_top
        .iter()
        .map(|t| t.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let bottom = fold_top.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    let spam = if fold_top.is_empty() {
        0.9
    } else {
        // A hair above the top even when the folds agree: the top itself is not spam.
        sigmoid(top + (top - bottom).max(1e-6)).clamp(0.5, 0.999)
    };
    let ham = if pos.is_empty() {
        0.2
    } else {
        let i = ((pos.len() as f64) * 0.02).floor() as usize;
        pos[i.min(pos.len() - 1)].clamp(0.05, 0.5).min(spam)
    };
    (spam, ham)
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_learns_a_separable_rule_and_is_calibrated() {
        // y = 1 when the "tokens" input is high; a feature that is pure noise gets ~0 weight.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let t = (i % 20) as f64 / 10.0 - 1.0;
            let mut row = vec![0.0; input_len()];
            row[0] = 1.0;
            row[1] = t;
            row[FIXED_INPUTS] = ((i / 20) % 2) as f64;
            x.push(row);
            y.push(t + if i % 7 == 0 { -0.3 } else { 0.1 } > 0.0);
        }
        let w = fit(&x, &y, &balance(&y));
        assert!(w[1] > 3.0, "{w:?}");
        assert!(w[FIXED_INPUTS].abs() < 0.5, "{w:?}");
        let p_hi = sigmoid(Stack::score(&w, &x[19]));
        let p_lo = sigmoid(Stack::score(&w, &x[0]));
        assert!(p_hi > 0.9 && p_lo < 0.1, "{p_hi} {p_lo}");
    }

    #[test]
    fn rows_round_trip_and_unknown_inputs_are_ignored() {
        let s = Stack {
            spam: (0..input_len()).map(|i| i as f64).collect(),
            valid: vec![0.5; input_len()],
            spam_cutoff: 0.8,
            ham_cutoff: 0.1,
            strength: 0.45,
        };
        let rows = s.rows();
        let mut refs: Vec<(&str, &str, f64)> = rows
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
            .collect();
        refs.push(("spam", "feat:from-the-future", 9.0));
        assert_eq!(Stack::from_rows(refs.clone().into_iter()), Some(s));
        // Weights written before the strength was recorded were fitted with the old one.
        refs.retain(|r| r.0 != "param");
        assert_eq!(
            Stack::from_rows(refs.into_iter()).map(|s| s.strength),
            Some(LEGACY_STRENGTH)
        );
        assert_eq!(Stack::from_rows(std::iter::empty()), None);
    }

    #[test]
    fn cutoffs_sit_above_not_spam_by_the_spread_of_the_folds() {
        // Not-spam scores in 5 folds; the folds' highest: logit 0.5 = 0, ..., the top one
        // 0.8 (log-odds 1.386) and the lowest 0.5 (0): the spread is 1.386, so the cut-off is
        // 2 × 1.386 = 2.773 log-odds, p = 16 / 17 = 0.9412.
        let tops = [0.5, 0.6, 0.7, 0.75, 0.8];
        let mut neg: Vec<(usize, f64)> = Vec::new();
        for (fold, top) in tops.iter().enumerate() {
            neg.extend((0..200).map(|i| (fold, top * i as f64 / 199.0)));
        }
        let pos: Vec<f64> = (0..100).map(|i| 0.3 + i as f64 / 150.0).collect();
        let (spam, ham) = choose_cutoffs(&pos, &neg);
        assert!((spam - 16.0 / 17.0).abs() < 1e-9, "{spam}");
        assert!((ham - 0.3133).abs() < 1e-3, "{ham}");
        // Folds that agree leave no margin: the cut-off is a hair above the highest not-spam.
        let same: Vec<(usize, f64)> = (0..5).map(|f| (f, 0.7)).collect();
        let c = choose_cutoffs(&pos, &same).0;
        assert!(c > 0.7 && c < 0.7 + 1e-6, "{c}");
        // Bounds: never below 0.5, never above 0.999.
        let low: Vec<(usize, f64)> = (0..5).map(|f| (f, 0.1)).collect();
        assert_eq!(choose_cutoffs(&pos, &low).0, 0.5);
        let wide = [(0, 0.01), (1, 0.99)];
        assert_eq!(choose_cutoffs(&pos, &wide).0, 0.999);
    }
}
