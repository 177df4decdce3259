//! Combining the learned models and the rules into a verdict: class, spam outcome, score,
//! confidence and reasons.
//!
//! - The spam score is the Fisher score of the spam model, moved in log-odds by the spam
//!   rules. The outcome follows the cut-offs.
//! - Calling a real report spam costs far more than letting spam through, so a message the
//!   valid-side evidence strongly calls a report is never `spam`: it is held at `unsure`.
//! - Among what is not spam, valid against invalid is the log-odds of the valid model plus
//!   the rule weights (valid positive, invalid negative). Ties go to valid: a person looks.
//! - Class `spam` only ever comes with outcome `spam`; `unsure` is never closed automatically.

use super::bayes::{self, BayesParams, Clue, LEGACY_STRENGTH};
use super::detect::evidence;
use super::features::Evidence;
use super::fitting::rule_sums;
use super::model::{Counts, Model};
use super::rules::{Fired, RuleSet};
use super::stack::{self, Stack};
use super::tokenize::{scoring_tokens, tokenize_list_with};
use crate::core::model::{Class, Outcome, Verdict};
use crate::core::parse::{parse_message, parse_received, AuthResults, ParsedMessage};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The spam score cut-offs: below `ham` is ham, from `spam` on is spam, between is unsure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutoffs {
    pub ham: f64,
    pub spam: f64,
}

impl Default for Cutoffs {
    /// Tuned on the SpamAssassin and triage corpora (`bench/classify.sh`) for no ham
    /// classified as spam; see `docs/benchmarks.md`.
    fn default() -> Self {
        Cutoffs {
            ham: 0.20,
            spam: 0.90,
        }
    }
}

/// The calibrated spam probability at or above which an unsure message with no valid-side
/// evidence is suggested as spam (the likelier class); its outcome stays unsure.
const SUGGEST_SPAM: f64 = 0.5;
/// Valid-side evidence (log-odds) at or above which a message is never called spam.
const KEEP_OUT_OF_SPAM: f64 = 4.0;
/// How far the valid model's score may move the valid/invalid log-odds (it learns from few
/// messages, so it is clamped to 0.05..0.95 before taking log-odds).
const VALID_MODEL_CLAMP: f64 = 0.05;
/// Token reasons listed per decision.
const SPAM_TOKEN_REASONS: usize = 5;
const VALID_TOKEN_REASONS: usize = 3;

/// A received message's verdict with the sender authentication it weighed (read under
/// `[sync] authserv_id`): what a listing of held posts shows and keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub verdict: Verdict,
    pub auth: AuthResults,
}

/// Runs `one` on each of `raws` over the machine's cores; results in input order.
fn spread<R: AsRef<[u8]> + Sync, T: Send>(raws: &[R], one: impl Fn(&[u8]) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 16);
    if threads == 1 || raws.len() < 64 {
        return raws.iter().map(|r| one(r.as_ref())).collect();
    }
    let chunk = raws.len().div_ceil(threads);
    let one = &one;
    std::thread::scope(|s| {
        let handles: Vec<_> = raws
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|r| one(r.as_ref())).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A worker only panics if classification has a bug; surface it, do not hide it.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A loaded model with its rules, ready to classify.
#[derive(Debug, Clone)]
pub struct Classifier {
    model: Model,
    rules: RuleSet,
    pub params: BayesParams,
    pub cutoffs: Cutoffs,
    /// The digest of the stored model this classifier was loaded from; `None` for a model
    /// built or changed in memory.
    model_fingerprint: Option<[u8; 32]>,
}

impl Classifier {
    /// A classifier with the model's learned cut-offs, or the default ones.
    pub fn new(mut model: Model, rules: RuleSet) -> Classifier {
        let stack = model.stack.take();
        let mut c = Classifier {
            model,
            rules,
            params: BayesParams::default(),
            cutoffs: Cutoffs::default(),
            model_fingerprint: None,
        };
        c.set_stack(stack);
        c
    }

    /// Says which stored model this is (`storage::load_model_fingerprinted`), so that its
    /// verdicts may be kept and reused (`cache_key`).
    pub fn with_model_fingerprint(mut self, fingerprint: [u8; 32]) -> Classifier {
        self.model_fingerprint = Some(fingerprint);
        self
    }

    /// What decides every verdict of this classifier: the stored model, the rules, the
    /// parameters and cut-offs, and `build` (the caller's name for the code that runs, such
    /// as the executable's identity). Equal keys give equal verdicts for equal messages;
    /// `None` when the model was not loaded from a store or was changed since.
    pub fn cache_key(&self, build: &[u8]) -> Option<[u8; 32]> {
        let model = self.model_fingerprint?;
        let mut digest = Sha256::new();
        digest.update(model);
        digest.update(self.rules.digest());
        digest.update(format!("{:?} {:?}", self.params, self.cutoffs).as_bytes());
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        digest.update(build);
        Some(digest.finalize().into())
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut Model {
        self.model_fingerprint = None;
        &mut self.model
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Classifies one parsed message.
    pub fn classify(&self, m: &ParsedMessage) -> Verdict {
        let e = evidence(m);
        let list = tokenize_list_with(m, &e);
        self.classify_with(m, &e, &scoring_tokens(&list))
    }

    /// Parses and classifies many raw messages, spread over the machine's cores (the
    /// classifier is read-only, so threads share it). Verdicts come back in input order.
    /// Any byte slices will do, so a caller holding the messages elsewhere need not copy them.
    /// The sender authentication is read without the desk's configuration: for corpora
    /// (evaluation, fitting). Mail the desk received goes through [`Self::judge_received_many`].
    pub fn classify_raw_many<R: AsRef<[u8]> + Sync>(&self, raws: &[R]) -> Vec<Verdict> {
        spread(raws, |raw| self.classify(&parse_message(raw)))
    }

    /// [`Self::classify_raw_many`] for mail the desk received (held posts, `secdesk classify`
    /// files): each message is read by [`parse_received`] under `trusted` (`[sync]
    /// authserv_id`), as ingest reads it, so only the configured server's pass is weighed.
    /// Each verdict comes with the sender authentication it weighed, for showing whose it is.
    pub fn judge_received_many<R: AsRef<[u8]> + Sync>(
        &self,
        raws: &[R],
        trusted: &[String],
    ) -> Vec<Judged> {
        spread(raws, |raw| {
            let parsed = parse_received(raw, trusted);
            Judged {
                verdict: self.classify(&parsed),
                auth: parsed.auth,
            }
        })
    }

    /// Classifies a message whose tokens are already known.
    pub fn classify_tokens(&self, m: &ParsedMessage, tokens: &[String]) -> Verdict {
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        self.classify_with(m, &evidence(m), &tokens)
    }

    /// Sets the learned combiner (and its cut-offs; none: the default cut-offs), and scores
    /// tokens with the s its weights were fitted with (none: [`LEGACY_STRENGTH`], the plain
    /// sum as it always was).
    pub fn set_stack(&mut self, stack: Option<Stack>) {
        self.params.strength = stack.as_ref().map_or(LEGACY_STRENGTH, |s| s.strength);
        self.cutoffs = stack.as_ref().map_or_else(Cutoffs::default, |s| Cutoffs {
            ham: s.ham_cutoff,
            spam: s.spam_cutoff,
        });
        // Another combiner than the stored one: its verdicts are not the store's.
        if self.model.stack != stack {
            self.model_fingerprint = None;
        }
        self.model.stack = stack;
    }

    fn scores(&self, m: &ParsedMessage, e: &Evidence, tokens: &[&str]) -> Scores {
        let known: Vec<(&str, &Counts)> = tokens
            .iter()
            .filter_map(|&t| self.model.tokens.get(t).map(|c| (t, c)))
            .collect();
        let (bayes_spam, spam_clues) = bayes::score_top(
            known.iter().map(|(t, c)| (*t, self.model.spam_side(c))),
            &self.params,
            SPAM_TOKEN_REASONS,
        );
        let (bayes_valid, valid_clues) = bayes::score_top(
            known
                .iter()
                .filter_map(|(t, c)| self.model.valid_side(c).map(|side| (*t, side))),
            &self.params.valid_side(),
            VALID_TOKEN_REASONS.max(1),
        );
        let mut fired = self.rules.evaluate(m);
        fired.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let (rule_spam, rule_valid) = rule_sums(&fired);
        // No valid/invalid token seen: the valid model has nothing to say (0.5).
        let bayes_valid = if valid_clues.is_empty() {
            0.5
        } else {
            bayes_valid
        };
        Scores {
            inputs: Inputs {
                spam: stack::inputs(bayes_spam, rule_spam, e),
                valid: stack::inputs(bayes_valid, rule_valid, e),
            },
            bayes_spam,
            bayes_valid,
            rule_spam,
            rule_valid,
            spam_clues,
            valid_clues,
            fired,
        }
    }

    fn classify_with(&self, m: &ParsedMessage, e: &Evidence, tokens: &[&str]) -> Verdict {
        self.classify_inputs(m, e, tokens).0
    }

    /// The verdict, and the inputs the combiner weighed (what a replay refits on).
    pub fn classify_inputs(
        &self,
        m: &ParsedMessage,
        e: &Evidence,
        tokens: &[&str],
    ) -> (Verdict, Inputs) {
        let s = self.scores(m, e, tokens);
        let (spam_score, valid_evidence) = self.combine(&s);
        let decision = self.decide(spam_score, valid_evidence);
        let reasons = reasons(e, &s, decision.held, decision.class);
        let verdict = Verdict {
            class: decision.class,
            outcome: decision.outcome,
            spam_score: round(spam_score),
            confidence: round(decision.confidence),
            reasons,
        };
        (verdict, s.inputs)
    }

    /// The spam score and the valid-side evidence (log-odds): the learned weights' sums,
    /// or without them the token models and the rule weights.
    fn combine(&self, s: &Scores) -> (f64, f64) {
        match &self.model.stack {
            Some(w) => (
                sigmoid(Stack::score(&w.spam, &s.inputs.spam)),
                Stack::score(&w.valid, &s.inputs.valid),
            ),
            None => {
                // Without learned weights: the token models' log-odds plus the rule weights.
                // Only spam rules move the spam score: plenty of spam talks about software.
                let spam = if s.rule_spam == 0.0 {
                    s.bayes_spam
                } else {
                    sigmoid(logit(s.bayes_spam) + s.rule_spam)
                };
                let model_valid = if s.valid_clues.is_empty() {
                    0.0
                } else {
                    logit(
                        s.bayes_valid
                            .clamp(VALID_MODEL_CLAMP, 1.0 - VALID_MODEL_CLAMP),
                    )
                };
                (spam, model_valid + s.rule_valid)
            }
        }
    }

    /// The outcome by the cut-offs (held at unsure when it reads like a report), the class
    /// and how sure it is.
    fn decide(&self, spam_score: f64, valid_evidence: f64) -> Decision {
        let mut outcome = if spam_score >= self.cutoffs.spam {
            Outcome::Spam
        } else if spam_score < self.cutoffs.ham {
            Outcome::Ham
        } else {
            Outcome::Unsure
        };
        let mut held = None;
        if outcome == Outcome::Spam && valid_evidence >= KEEP_OUT_OF_SPAM {
            outcome = Outcome::Unsure;
            held = Some(format!(
                "kept out of spam: reads like a vulnerability report (valid evidence {valid_evidence:+.1})"
            ));
        }
        let (class, confidence) = match outcome {
            Outcome::Spam => (Class::Spam, spam_score),
            // Unsure, but more likely spam than not and nothing of a report in it: suggested
            // spam. The outcome stays unsure, so nothing is filed or swept without a person.
            Outcome::Unsure if spam_score >= SUGGEST_SPAM && valid_evidence < 0.0 => {
                (Class::Spam, spam_score)
            }
            _ if valid_evidence >= 0.0 => {
                (Class::Valid, (1.0 - spam_score) * sigmoid(valid_evidence))
            }
            _ => (
                Class::Invalid,
                (1.0 - spam_score) * sigmoid(-valid_evidence),
            ),
        };
        Decision {
            outcome,
            class,
            confidence,
            held,
        }
    }
}

/// What the scores decide, before rounding and reasons.
struct Decision {
    outcome: Outcome,
    class: Class,
    confidence: f64,
    /// Why a message that scored as spam was held at unsure.
    held: Option<String>,
}

/// A verdict's reasons: plain reasons first, then policy flags, then rules and tokens.
fn reasons(e: &Evidence, s: &Scores, held: Option<String>, class: Class) -> Vec<String> {
    let mut reasons = Vec::new();
    let plain = e.plain();
    if !plain.is_empty() {
        reasons.push(plain.join("; "));
    }
    reasons.extend(held);
    if class != Class::Spam {
        reasons
            .extend(e.policy().map(|(name, what, template)| {
                format!("policy {name}: {what} (reply: {template})")
            }));
    }
    reasons.extend(s.fired.iter().map(Fired::reason));
    reasons.extend(
        s.spam_clues
            .iter()
            .take(SPAM_TOKEN_REASONS)
            .map(|c| clue_reason(c, "spam", "ham")),
    );
    if class != Class::Spam {
        reasons.extend(
            s.valid_clues
                .iter()
                .take(VALID_TOKEN_REASONS)
                .map(|c| clue_reason(c, "valid", "invalid")),
        );
    }
    reasons
}

/// The combiner's inputs for both decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub spam: Vec<f64>,
    pub valid: Vec<f64>,
}

/// Everything a verdict is made from.
struct Scores {
    inputs: Inputs,
    bayes_spam: f64,
    bayes_valid: f64,
    rule_spam: f64,
    rule_valid: f64,
    spam_clues: Vec<Clue>,
    valid_clues: Vec<Clue>,
    fired: Vec<Fired>,
}

/// `token "viagra" 0.99 spam`: the token, its f(w) for the positive side, and the side it
/// speaks for.
fn clue_reason(c: &Clue, pos: &str, neg: &str) -> String {
    let side = if c.probability >= 0.5 { pos } else { neg };
    format!("token {:?} {:.2} {side}", c.token, c.probability)
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

use stack::sigmoid;

/// Scores are stored and shown to six places; more is noise.
fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::classify::model::Label;
    use crate::core::classify::tokenize::tokenize;
    use crate::core::parse::parse_message;

    fn trained() -> Classifier {
        let mut model = Model::default();
        let spam = "Subject: cheap pills\n\nbuy cheap pills viagra online now\n";
        let ham = "Subject: meeting notes\n\nthe meeting notes from tuesday are attached\n";
        let valid =
            "Subject: overflow in tarfile\n\ntraceback reproducer cpython tarfile overflow\n";
        let invalid = "Subject: missing dmarc\n\nbounty reward dmarc record missing please pay\n";
        for _ in 0..5 {
            for (raw, label) in [
                (spam, Label::Spam),
                (ham, Label::Ham),
                (valid, Label::Valid),
                (invalid, Label::Invalid),
            ] {
                model.apply(label, &tokenize(&parse_message(raw.as_bytes())), false);
            }
        }
        Classifier::new(model, RuleSet::parse("", "none").unwrap())
    }

    #[test]
    fn spam_is_spam_with_token_reasons() {
        let c = trained();
        let v = c.classify(&parse_message(b"Subject: cheap pills\n\nviagra online\n"));
        assert_eq!((v.class, v.outcome), (Class::Spam, Outcome::Spam));
        assert!(v.spam_score >= 0.9, "{v:?}");
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("token \"viagra\" 0.9")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn reports_are_told_apart_among_ham() {
        let c = trained();
        let v = c.classify(&parse_message(
            b"Subject: overflow\n\ncpython tarfile traceback reproducer\n",
        ));
        assert_eq!((v.class, v.outcome), (Class::Valid, Outcome::Ham), "{v:?}");
        let v = c.classify(&parse_message(
            b"Subject: dmarc\n\nbounty reward please pay\n",
        ));
        assert_eq!(v.class, Class::Invalid, "{v:?}");
    }

    #[test]
    fn strong_report_evidence_keeps_a_message_out_of_spam() {
        let rules = RuleSet::parse(
            "[[rule]]\nname = \"cpython-source\"\nclass = \"valid\"\nweight = 20.0\nfield = \"body\"\npattern = 'Lib/\\w+\\.py'\n",
            "test",
        )
        .unwrap();
        let mut c = trained();
        c.rules = rules;
        let v = c.classify(&parse_message(
            b"Subject: cheap pills\n\nviagra online cheap pills, see Lib/tarfile.py\n",
        ));
        assert_ne!(v.outcome, Outcome::Spam, "{v:?}");
        assert_ne!(v.class, Class::Spam, "{v:?}");
        assert!(v
            .reasons
            .iter()
            .any(|r| r == "rule cpython-source +20.0 valid"));
    }

    #[test]
    fn tokens_are_scored_with_the_s_the_weights_were_fitted_with() {
        let mut c = trained();
        // No weights: the plain sum, with the s it always had.
        assert_eq!(c.params.strength, LEGACY_STRENGTH);
        let raw = b"Subject: cheap pills\n\nbuy cheap pills now\n";
        let plain = c.classify(&parse_message(raw)).spam_score;
        let stack = |strength| Stack {
            spam: vec![0.0; stack::input_len()],
            valid: vec![0.0; stack::input_len()],
            spam_cutoff: 0.9,
            ham_cutoff: 0.2,
            strength,
        };
        c.set_stack(Some(stack(0.45)));
        assert_eq!(c.params.strength, 0.45);
        c.set_stack(None);
        assert_eq!(c.params.strength, LEGACY_STRENGTH);
        assert_eq!(c.classify(&parse_message(raw)).spam_score, plain);
    }
}
