//! The classifier: is a message spam, an invalid report or a valid one, how sure, and why.
//!
//! Two learned token models share one table of counts ([`model`], kept in the store by
//! [`storage`]): spam against everything else, and valid against invalid among what is not
//! spam. Both use Robinson's f(w) and Fisher's combining ([`bayes`]) over the tokens of
//! [`tokenize`]. Weighted, named [`rules`] from a data file add evidence; [`verdict`] combines
//! the two into a [`Verdict`](crate::core::model::Verdict) whose reasons list the rules that
//! fired and the most telling tokens. [`features`] (found by [`detect`], the standard-library
//! names by [`stdlib`]) adds the structure of a mail, the marks of a report and the team's
//! policy flags; [`stack`] weighs it all with weights [`fitting`] learns out-of-fold;
//! [`received`] drops what the receiving system added. [`learn`](mod@learn) trains the model on a
//! team's decisions; [`evaluate`], [`split`] and [`replay`] measure it; [`corpus`] reads
//! labelled folders for training and evaluation.
//! [`similar`] finds likely duplicate reports and [`advice`] gathers what the desk shows.
//!
//! No terminal or network code lives here.

pub mod advice;
pub mod bayes;
pub mod campaign;
pub mod corpus;
pub mod detect;
pub mod disguise;
pub mod evaluate;
pub mod features;
pub mod fitting;
pub mod learn;
pub mod model;
pub mod prefilter;
pub mod received;
pub mod replay;
pub mod rules;
pub mod similar;
pub mod split;
pub mod stack;
pub mod stdlib;
pub mod storage;
pub mod text_helpers;
pub mod tokenize;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use learn::{forget, forget_in, learn, learn_in, near_copies_of, LearnSummary};
pub use model::{Label, Model};
pub use rules::RuleSet;
pub use verdict::{Classifier, Cutoffs, Judged};

use crate::core::store::{Store, StoreError};

/// What went wrong while classifying or training, and with what.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("rule file {file} line {line}: {message} (fix the rule, or remove the file to use the shipped rules)")]
    RuleFile {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "model file {file} line {line}: {message} (rebuild it as docs/classifier.md explains)"
    )]
    ModelFile {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no spam, ham, invalid or valid subfolder; lay out training folders as DIR/spam/*.eml, DIR/ham/*.eml, DIR/invalid/*.eml, DIR/valid/*.eml")]
    NoLabelledFolders { path: PathBuf },
    #[error("the store's model is damaged ({what}: {message}); rebuild it with `secdesk train --empty DIR...`")]
    Corrupt { what: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ClassifyError {
    fn from(e: rusqlite::Error) -> Self {
        ClassifyError::Store(StoreError::Sql(e))
    }
}

/// Loads the store's model (the starter model on a fresh store) and the rules in force
/// (`rules.toml` in `config_dir` if there is one, else the shipped rules).
/// The classifier of a desk with no store yet: the shipped starter model and the rules
/// (`config_dir`'s too), for a command that classifies without storing anything.
pub fn starter_classifier(config_dir: Option<&Path>) -> Result<Classifier, ClassifyError> {
    let model = storage::starter_model()?;
    let rules = RuleSet::load(config_dir)?;
    Ok(Classifier::new(model, rules))
}

pub fn load_classifier(
    store: &mut Store,
    config_dir: Option<&Path>,
) -> Result<Classifier, ClassifyError> {
    let (model, fingerprint) = storage::load_model_fingerprinted(store)?;
    let rules = RuleSet::load(config_dir)?;
    Ok(Classifier::new(model, rules).with_model_fingerprint(fingerprint))
}
