//! The statistics of the token filter: Robinson's per-token probability and Fisher's
//! inverse chi-square combining, as in SpamBayes and bogofilter.
//!
//! References: Gary Robinson, "A Statistical Approach to the Spam Problem", Linux Journal
//! 107 (2003); the SpamBayes `classifier.py` (`chi2_spamprob`).
//!
//! The same two-way combiner serves both decisions: spam against everything else, and, among
//! what is not spam, valid against invalid. Only the counts fed in differ.

/// The s used before it was chosen on the older half of the date split (see
/// [`BayesParams::default`]). A model without learned weights scores with it, as it always
/// did, and so do weights stored before a model recorded its s: they were fitted on scores
/// made with it.
pub const LEGACY_STRENGTH: f64 = 0.1;

/// Robinson's parameters and how many tokens are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BayesParams {
    /// `s`: how strongly the prior `x` weighs against the evidence of a token.
    pub strength: f64,
    /// `x`: the probability assumed for a token never seen (0.5).
    pub unknown: f64,
    /// Tokens whose `f(w)` is within this of 0.5 are ignored (SpamBayes 0.1).
    pub min_deviation: f64,
    /// At most this many tokens, the most significant ones, are combined.
    pub max_tokens: usize,
}

impl Default for BayesParams {
    /// SpamBayes' s, x and minimum deviation, and more tokens (400). s = 0.45 was chosen on
    /// the older half of the date split only: of s ∈ {0.0178, 0.1, 0.45, 1} and minimum
    /// deviation ∈ {0, 0.1, 0.2, 0.3}, it gave the highest out-of-fold spam recall at zero ham
    /// loss (94.4 %, against 94.1 % for the s = 0.1 used before; docs/benchmarks.md).
    fn default() -> Self {
        BayesParams {
            strength: 0.45,
            unknown: 0.5,
            min_deviation: 0.1,
            max_tokens: 400,
        }
    }
}

impl BayesParams {
    /// The parameters of the valid-or-invalid model among reports: s stays
    /// [`LEGACY_STRENGTH`]. Only the spam side's s was chosen on the older half; the valid side
    /// learns from a few dozen reports, too few to choose from, and s = 0.45 there let one
    /// more invalid report of the triage date split pass as valid.
    pub fn valid_side(&self) -> BayesParams {
        BayesParams {
            strength: LEGACY_STRENGTH,
            ..*self
        }
    }
}

/// How often a token was seen in each of the two sides, and how many messages each side has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideCounts {
    /// Messages of the "positive" side (spam; or valid) containing the token.
    pub pos: u64,
    /// Messages of the "negative" side containing the token.
    pub neg: u64,
    pub pos_messages: u64,
    pub neg_messages: u64,
}

/// Robinson's f(w): the token's probability of the positive side, pulled toward `x` when it
/// was seen rarely.
///
/// p(w) = (pos/npos) / (pos/npos + neg/nneg);  f(w) = (s·x + n·p(w)) / (s + n), n = pos + neg.
pub fn token_probability(c: SideCounts, p: &BayesParams) -> f64 {
    let n = (c.pos + c.neg) as f64;
    if n == 0.0 || c.pos_messages == 0 || c.neg_messages == 0 {
        return p.unknown;
    }
    let pos_ratio = (c.pos as f64 / c.pos_messages as f64).min(1.0);
    let neg_ratio = (c.neg as f64 / c.neg_messages as f64).min(1.0);
    let pw = pos_ratio / (pos_ratio + neg_ratio);
    (p.strength * p.unknown + n * pw) / (p.strength + n)
}

/// The chi-square survival function Q(χ², v) for an even number of degrees of freedom `v`:
/// the probability that a χ² variable with v degrees of freedom exceeds `x2`.
///
/// For even v it is the series e^{-m} Σ_{i<v/2} m^i / i!, with m = χ²/2.
pub fn chi2q(x2: f64, v: usize) -> f64 {
    debug_assert!(v.is_multiple_of(2), "chi2q needs even degrees of freedom");
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..v / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

/// Fisher's combination of the chosen tokens' f(w) into one score from 0 (negative side)
/// to 1 (positive side); 0.5 when there is no evidence.
///
/// S = 1 − Q(−2 Σ ln(1−f), 2n) measures positive evidence, H = 1 − Q(−2 Σ ln f, 2n) negative
/// evidence, and the score is (1 + S − H) / 2.
pub fn fisher_combine(probs: &[f64]) -> f64 {
    if probs.is_empty() {
        return 0.5;
    }
    let mut ln_pos = 0.0;
    let mut ln_neg = 0.0;
    for &f in probs {
        // f(w) is strictly inside (0, 1) for any finite counts, but stay safe.
        let f = f.clamp(1e-12, 1.0 - 1e-12);
        ln_pos += (1.0 - f).ln();
        ln_neg += f.ln();
    }
    let v = 2 * probs.len();
    let s = 1.0 - chi2q(-2.0 * ln_pos, v);
    let h = 1.0 - chi2q(-2.0 * ln_neg, v);
    (1.0 + s - h) / 2.0
}

/// A token that took part in a decision, with its f(w).
#[derive(Debug, Clone, PartialEq)]
pub struct Clue {
    pub token: String,
    pub probability: f64,
}

/// Scores a message's tokens: picks the most significant clues and combines them.
/// Returns the score and the clues, most significant first.
pub fn score<'a>(
    tokens: impl Iterator<Item = (&'a str, SideCounts)>,
    p: &BayesParams,
) -> (f64, Vec<Clue>) {
    score_top(tokens, p, usize::MAX)
}

/// As [`score`], returning only the `top` most significant clues: classification shows a
/// handful as reasons, and copying all of them (up to [`BayesParams::max_tokens`]) into
/// strings for every message was measurable. The score is the same.
pub fn score_top<'a>(
    tokens: impl Iterator<Item = (&'a str, SideCounts)>,
    p: &BayesParams,
    top: usize,
) -> (f64, Vec<Clue>) {
    let mut chosen: Vec<(&str, f64)> = tokens
        .map(|(token, c)| (token, token_probability(c, p)))
        .filter(|(_, f)| (f - 0.5).abs() >= p.min_deviation)
        .collect();
    // Most significant first; ties broken by token so results are reproducible.
    chosen.sort_unstable_by(|a, b| {
        let da = (a.1 - 0.5).abs();
        let db = (b.1 - 0.5).abs();
        db.total_cmp(&da).then_with(|| a.0.cmp(b.0))
    });
    chosen.truncate(p.max_tokens);
    let probs: Vec<f64> = chosen.iter().map(|c| c.1).collect();
    let clues = chosen
        .into_iter()
        .take(top)
        .map(|(token, probability)| Clue {
            token: token.to_string(),
            probability,
        })
        .collect();
    (fisher_combine(&probs), clues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn robinson_probability_matches_hand_computation() {
        let p = BayesParams {
            strength: 0.45,
            ..BayesParams::default()
        };
        // Seen in 3 of 10 spam and 1 of 20 ham: p = 0.3 / (0.3 + 0.05) = 0.857142857…
        // f = (0.45·0.5 + 4·0.857142857) / 4.45 = 3.653571428 / 4.45 = 0.821027287…
        let f = token_probability(
            SideCounts {
                pos: 3,
                neg: 1,
                pos_messages: 10,
                neg_messages: 20,
            },
            &p,
        );
        assert!(close(f, (0.225 + 4.0 * (0.3 / 0.35)) / 4.45), "{f}");
        assert!(close(f, 0.821_027_287_319_422_6), "{f}");
        // Never seen: the prior x.
        let unseen = SideCounts {
            pos: 0,
            neg: 0,
            pos_messages: 10,
            neg_messages: 20,
        };
        assert_eq!(token_probability(unseen, &p), 0.5);
    }

    #[test]
    fn chi2q_matches_tables() {
        // v = 2: Q = e^{-x/2}. Q(2, 2) = e^{-1}.
        assert!(close(chi2q(2.0, 2), (-1.0f64).exp()));
        // v = 4: Q = e^{-m}(1 + m). Q(4, 4) = e^{-2}·3 = 0.406005849…
        assert!(close(chi2q(4.0, 4), 3.0 * (-2.0f64).exp()));
        // Critical value of χ² with 10 degrees of freedom at 5%: 18.307.
        assert!((chi2q(18.307, 10) - 0.05).abs() < 1e-4);
        assert_eq!(chi2q(0.0, 6), 1.0);
    }

    #[test]
    fn fisher_combination_matches_hand_computation() {
        // One clue f = 0.9, v = 2:
        // S = 1 − e^{ln 0.1} = 0.9, H = 1 − e^{ln 0.9} = 0.1, score = (1 + 0.9 − 0.1)/2 = 0.9.
        assert!(close(fisher_combine(&[0.9]), 0.9));
        // Two clues 0.9 and 0.2, v = 4, by the series e^{-m}(1 + m):
        let ln_pos: f64 = (0.1f64).ln() + (0.8f64).ln();
        let ln_neg: f64 = (0.9f64).ln() + (0.2f64).ln();
        let q = |x2: f64| (-x2 / 2.0).exp() * (1.0 + x2 / 2.0);
        let s = 1.0 - q(-2.0 * ln_pos);
        let h = 1.0 - q(-2.0 * ln_neg);
        assert!(close(fisher_combine(&[0.9, 0.2]), (1.0 + s - h) / 2.0));
        // Symmetric evidence is undecided; no evidence is 0.5.
        assert!(close(fisher_combine(&[0.99, 0.01]), 0.5));
        assert_eq!(fisher_combine(&[]), 0.5);
        // Strong agreeing evidence approaches the extremes.
        assert!(fisher_combine(&[0.99; 20]) > 0.999);
        assert!(fisher_combine(&[0.01; 20]) < 0.001);
    }

    #[test]
    fn weak_tokens_are_ignored_and_strong_ones_ranked_first() {
        let p = BayesParams::default();
        let counts = |pos, neg| SideCounts {
            pos,
            neg,
            pos_messages: 100,
            neg_messages: 100,
        };
        let (score, clues) = score(
            [
                ("even", counts(50, 50)),
                ("spammy", counts(40, 1)),
                ("hammy", counts(1, 10)),
            ]
            .into_iter(),
            &p,
        );
        let names: Vec<&str> = clues.iter().map(|c| c.token.as_str()).collect();
        assert_eq!(names, ["spammy", "hammy"]);
        assert!(score > 0.5, "{score}");
    }
}
