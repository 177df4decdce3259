//! The learned token model in memory: per-label message counts and per-token counts, and its
//! text form (the starter model shipped in `assets/starter-model.tsv`).
//!
//! The text form is one line per token, tab-separated: `token spam ham invalid valid`, after
//! a `#messages` line with the message counts. Lines starting with `# ` are comments.

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use super::bayes::SideCounts;
use super::stack::Stack;
use crate::core::model::Class;

/// What a message was trained as. `Ham` is "not spam" from a corpus that does not say whether
/// it is a valid or an invalid report (e.g. the SpamAssassin ham).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Spam,
    Ham,
    Invalid,
    Valid,
}

impl Label {
    pub const ALL: [Label; 4] = [Label::Spam, Label::Ham, Label::Invalid, Label::Valid];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Spam => "spam",
            Label::Ham => "ham",
            Label::Invalid => "invalid",
            Label::Valid => "valid",
        }
    }

    /// The column of this label in count arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn is_spam(self) -> bool {
        self == Label::Spam
    }
}

impl From<Class> for Label {
    fn from(c: Class) -> Label {
        match c {
            Class::Spam => Label::Spam,
            Class::Invalid => Label::Invalid,
            Class::Valid => Label::Valid,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Label::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown label '{s}': expected spam, ham, invalid or valid"))
    }
}

/// Counts per label, in [`Label::index`] order.
pub type Counts = [u64; 4];

/// The whole learned model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Trained messages per label.
    pub messages: Counts,
    /// For each token, in how many trained messages of each label it occurs. (foldhash: the
    /// lookup per token is the hot path of classification.)
    pub tokens: foldhash::HashMap<String, Counts>,
    /// The learned combiner's weights and cut-offs, once `train` has fitted them.
    pub stack: Option<Stack>,
}

/// A line of a model file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ModelFileError {
    pub line: usize,
    pub message: String,
}

impl Model {
    /// Counts for the spam decision: spam against every other label.
    pub fn spam_side(&self, c: &Counts) -> SideCounts {
        SideCounts {
            pos: c[Label::Spam.index()],
            neg: c[1] + c[2] + c[3],
            pos_messages: self.messages[Label::Spam.index()],
            neg_messages: self.messages[1] + self.messages[2] + self.messages[3],
        }
    }

    /// Counts for the valid-or-invalid decision among what is not spam; `None` when the
    /// token was never seen in a valid or invalid report.
    pub fn valid_side(&self, c: &Counts) -> Option<SideCounts> {
        let (valid, invalid) = (c[Label::Valid.index()], c[Label::Invalid.index()]);
        (valid + invalid > 0).then_some(SideCounts {
            pos: valid,
            neg: invalid,
            pos_messages: self.messages[Label::Valid.index()],
            neg_messages: self.messages[Label::Invalid.index()],
        })
    }

    /// Adds (or, with `untrain`, removes) one message's tokens. Removing never goes below zero,
    /// and tokens left with no counts disappear, so train then untrain restores the model.
    pub fn apply(&mut self, label: Label, tokens: &[String], untrain: bool) {
        let i = label.index();
        let step = |v: &mut u64| {
            *v = if untrain {
                v.saturating_sub(1)
            } else {
                v.saturating_add(1)
            }
        };
        step(&mut self.messages[i]);
        for t in tokens {
            if untrain {
                if let Some(c) = self.tokens.get_mut(t) {
                    step(&mut c[i]);
                    if c.iter().all(|&n| n == 0) {
                        self.tokens.remove(t);
                    }
                }
            } else {
                step(&mut self.tokens.entry(t.clone()).or_default()[i]);
            }
        }
    }

    /// The model as text, keeping only tokens seen in at least `min_count` messages in all
    /// (rare tokens carry little evidence and most of the size), except tokens of valid and
    /// invalid reports: there are few of those, and each one counts. Sorted, so rebuilds diff
    /// cleanly.
    pub fn to_tsv(&self, min_count: u64) -> String {
        let mut out = String::new();
        out.push_str("# secdesk token model: token, then in how many trained messages of each label it occurs.\n");
        out.push_str("# Rebuild: see docs/classifier.md (\"The starter model\").\n");
        out.push_str("#label\tspam\tham\tinvalid\tvalid\n");
        let m = self.messages;
        let _ = writeln!(out, "#messages\t{}\t{}\t{}\t{}", m[0], m[1], m[2], m[3]);
        if let Some(stack) = &self.stack {
            for (side, name, w) in stack.rows() {
                let _ = writeln!(out, "#weight\t{side}\t{name}\t{w}");
            }
        }
        let mut keys: Vec<&String> = self
            .tokens
            .iter()
            .filter(|(_, c)| c.iter().sum::<u64>() >= min_count || c[2] + c[3] > 0)
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        for k in keys {
            let c = self.tokens[k];
            let _ = writeln!(out, "{k}\t{}\t{}\t{}\t{}", c[0], c[1], c[2], c[3]);
        }
        out
    }

    /// Reads the text form written by [`Model::to_tsv`].
    pub fn from_tsv(text: &str) -> Result<Model, ModelFileError> {
        let mut model = Model::default();
        let mut saw_messages = false;
        let mut weights: Vec<(String, String, f64)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let err = |message: String| ModelFileError {
                line: n + 1,
                message,
            };
            if line.is_empty() || line.starts_with("# ") || line.starts_with("#label") {
                continue;
            }
            if let Some(rest) = line.strip_prefix("#weight\t") {
                let f: Vec<&str> = rest.split('\t').collect();
                let w = match f.as_slice() {
                    [_, _, w] => w.parse::<f64>().ok().filter(|w| w.is_finite()),
                    _ => None,
                }
                .ok_or_else(|| {
                    err("expected '#weight', a decision, an input and a number".into())
                })?;
                weights.push((f[0].to_string(), f[1].to_string(), w));
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 5 {
                return Err(err(format!(
                    "expected 5 tab-separated fields (token spam ham invalid valid), found {}",
                    fields.len()
                )));
            }
            let mut counts = [0u64; 4];
            for (slot, f) in counts.iter_mut().zip(&fields[1..]) {
                *slot = f
                    .parse()
                    .map_err(|_| err(format!("'{f}' is not a count")))?;
            }
            if fields[0] == "#messages" {
                model.messages = counts;
                saw_messages = true;
            } else {
                model.tokens.insert(fields[0].to_string(), counts);
            }
        }
        model.stack =
            Stack::from_rows(weights.iter().map(|(a, b, w)| (a.as_str(), b.as_str(), *w)));
        if !saw_messages {
            return Err(ModelFileError {
                line: 1,
                message: "no '#messages' line with the message counts".into(),
            });
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn train_then_untrain_restores_the_model_exactly() {
        let mut m = Model::default();
        m.apply(Label::Ham, &toks(&["a", "b"]), false);
        m.apply(Label::Valid, &toks(&["b", "c"]), false);
        let before = m.clone();
        m.apply(Label::Spam, &toks(&["a", "d", "e"]), false);
        assert_ne!(m, before);
        m.apply(Label::Spam, &toks(&["a", "d", "e"]), true);
        assert_eq!(m, before);
    }

    #[test]
    fn text_form_round_trips_and_prunes_rare_tokens() {
        let mut m = Model::default();
        m.apply(Label::Spam, &toks(&["common", "rare"]), false);
        m.apply(Label::Ham, &toks(&["common"]), false);
        m.apply(Label::Valid, &toks(&["report"]), false);
        let text = m.to_tsv(2);
        let back = Model::from_tsv(&text).unwrap();
        assert_eq!(back.messages, [1, 1, 0, 1]);
        assert_eq!(back.tokens.get("common"), Some(&[1, 1, 0, 0]));
        assert!(!back.tokens.contains_key("rare"));
        // Tokens of reports are kept however rare.
        assert_eq!(back.tokens.get("report"), Some(&[0, 0, 0, 1]));
    }

    #[test]
    fn a_broken_model_line_is_named() {
        let e = Model::from_tsv("#messages\t1\t1\t0\t0\nword\t1\tx\t0\t0\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("'x'"), "{e}");
    }
}
