//! Weighted, named rules read from a TOML data file (`assets/rules.toml`, or `rules.toml`
//! beside the config file, which replaces it). The file documents its own format.
//!
//! A rule is a regular expression on one field of the message, with a class and a weight.
//! Every rule that fires becomes a reason. Regexes are compiled with the `regex` crate, whose
//! matching time is linear in the input, so a hostile message cannot stall classification.
//!
//! Patterns are ASCII by default (`\w`, `\b`, `(?i)` are ASCII; other characters match
//! literally): Unicode word boundaries make the regex engine fall back to its slowest mode on
//! any non-ASCII text, and rules run on every message. `(?u)` turns Unicode back on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::disguise::fold;
use super::prefilter::{Passed, Prefilter, PrefilterBuilder};
use super::tokenize::prefix_at_char_boundary;
use super::ClassifyError;
use crate::core::model::Class;
use crate::core::parse::ParsedMessage;

/// The shipped rules, compiled in.
pub const BUILTIN_RULES: &str = include_str!("../../../assets/rules.toml");
/// The file name looked for in the config directory.
pub const RULES_FILE: &str = "rules.toml";
/// Rules read at most this much of the body: what makes a report a report (or not) is in
/// its first pages, and rules run on every message.
const MAX_RULE_BODY_BYTES: usize = 16 * 1024;
/// Compiled regexes are capped in size so a rule file cannot exhaust memory.
const MAX_REGEX_BYTES: usize = 1 << 20;

/// A rule that fired on a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub name: String,
    pub class: Class,
    pub weight: f64,
}

impl Fired {
    /// The reason as shown to people: `rule beg-bounty-dmarc +2.0 invalid`.
    pub fn reason(&self) -> String {
        format!("rule {} {:+.1} {}", self.name, self.weight, self.class)
    }
}

/// Which text of a message a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Subject,
    Body,
    /// Subject and body, separated by a line break.
    Text,
    From,
    /// Every value of one header, by name.
    Header(String),
    /// All headers as `Name: value` lines.
    Headers,
    /// Attachment content types and names, one per line.
    Attachments,
}

impl Field {
    /// The field whose text the prefilter scans for this one: subject and body are parts of
    /// `text`, so one scan serves all three (a literal found in the wider text only means
    /// the regex is run).
    fn scanned_as(&self) -> &Field {
        match self {
            Field::Subject | Field::Body => &Field::Text,
            other => other,
        }
    }

    fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "subject" => Field::Subject,
            "body" => Field::Body,
            "text" => Field::Text,
            "from" => Field::From,
            "headers" => Field::Headers,
            "attachments" => Field::Attachments,
            _ => {
                let name = s.strip_prefix("header:")?.trim();
                if name.is_empty() {
                    return None;
                }
                Field::Header(name.to_string())
            }
        })
    }

    /// The field's text; `None` when a header is absent (so the rule cannot fire).
    fn text(&self, m: &ParsedMessage) -> Option<String> {
        // Read undisguised (`disguise.rs`), and only the field the rule reads.
        let body = || {
            let text = m.classifier_text();
            fold(prefix_at_char_boundary(&text, MAX_RULE_BODY_BYTES))
                .0
                .into_owned()
        };
        let subject = || fold(&m.subject).0.into_owned();
        Some(match self {
            Field::Subject => subject(),
            Field::Body => body(),
            Field::Text => format!("{}\n{}", subject(), body()),
            Field::From => m
                .from
                .as_ref()
                .map(|f| fold(&f.display()).0.into_owned())
                .unwrap_or_default(),
            Field::Header(name) => {
                let values: Vec<&str> = m
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() {
                    return None;
                }
                values.join("\n")
            }
            Field::Headers => m
                .headers
                .iter()
                .take(200)
                .map(|(n, v)| format!("{n}: {}", prefix_at_char_boundary(v, 2048)))
                .collect::<Vec<_>>()
                .join("\n"),
            Field::Attachments => m
                .classified_attachments()
                .map(|a| format!("{} {}", a.content_type, a.name.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    name: String,
    class: Class,
    weight: f64,
    field: Field,
    pattern: Gated,
    also: Option<Gated>,
    unless: Option<Gated>,
}

/// A regex and its prefilter gate (`None`: always run it). The shipped rules compile each
/// regex on first use: one message needs few of them, and compiling them all was about a
/// quarter of a one-file `classify`'s CPU time (docs/benchmarks.md). A rule file of the user's is compiled whole
/// at load, so a bad regex is reported with its line.
#[derive(Debug, Clone)]
struct Gated {
    source: String,
    regex: OnceLock<Regex>,
    gate: Option<usize>,
}

impl Gated {
    fn regex(&self) -> &Regex {
        // Invariant: only the shipped rules are left uncompiled, and every one of them
        // compiles (test `every_shipped_regex_compiles`).
        self.regex
            .get_or_init(|| compile(&self.source).expect("the shipped rules' regexes compile"))
    }
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(MAX_REGEX_BYTES)
        .build()
}

/// The rules in force, and the file they came from.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    prefilter: Prefilter,
    /// The fields the prefilter scans, by channel number.
    scanned: Vec<Field>,
    source: String,
    /// SHA-256 of the rule file's text: names the rules in the held queue's verdict cache.
    digest: [u8; 32],
}

/// A field's text and the gates it passes, each worked out once per message when needed.
struct FieldCache<'m> {
    message: &'m ParsedMessage,
    texts: Vec<(Field, Option<String>)>,
    scans: Vec<(Field, Passed)>,
}

impl FieldCache<'_> {
    fn text(&mut self, field: &Field) -> Option<&[u8]> {
        let pos = match self.texts.iter().position(|(f, _)| f == field) {
            Some(p) => p,
            None => {
                self.texts.push((field.clone(), field.text(self.message)));
                self.texts.len() - 1
            }
        };
        self.texts[pos].1.as_deref().map(str::as_bytes)
    }

    /// Whether `gate` passes on the text the prefilter scans for `field`.
    fn passes(&mut self, rules: &RuleSet, field: &Field, gate: Option<usize>) -> bool {
        let Some(gate) = gate else { return true };
        let scanned = field.scanned_as();
        let pos = match self.scans.iter().position(|(f, _)| f == scanned) {
            Some(p) => p,
            None => {
                let channel = rules.scanned.iter().position(|f| f == scanned);
                let passed = match (self.text(scanned), channel) {
                    (Some(text), Some(channel)) => rules.prefilter.scan(channel, text),
                    // An absent header: no regex on it can match.
                    _ => Vec::new(),
                };
                self.scans.push((scanned.clone(), passed));
                self.scans.len() - 1
            }
        };
        self.scans[pos].1.get(gate).copied().unwrap_or(false)
    }

    /// Whether `g` matches the field's text, running the regex only when the gate passes.
    fn is_match(&mut self, rules: &RuleSet, field: &Field, g: &Gated) -> bool {
        if !self.passes(rules, field, g.gate) {
            return false;
        }
        self.text(field)
            .is_some_and(|text| g.regex().is_match(text))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RuleDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    name: String,
    class: String,
    weight: f64,
    field: String,
    pattern: String,
    #[serde(default)]
    also: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // Documentation for people editing the file.
    description: Option<String>,
}

impl RuleSet {
    /// The rules from `rules.toml` in `config_dir` when that file exists, else the shipped ones.
    pub fn load(config_dir: Option<&Path>) -> Result<RuleSet, ClassifyError> {
        if let Some(dir) = config_dir {
            let path = dir.join(RULES_FILE);
            if path.exists() {
                let text = std::fs::read_to_string(&path).map_err(|source| ClassifyError::Io {
                    path: path.clone(),
                    source,
                })?;
                return RuleSet::parse(&text, &path.display().to_string());
            }
        }
        RuleSet::builtin()
    }

    /// The shipped rules.
    pub fn builtin() -> Result<RuleSet, ClassifyError> {
        RuleSet::parse_with(BUILTIN_RULES, "assets/rules.toml (built in)", true)
    }

    /// Parses and compiles a rule file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<RuleSet, ClassifyError> {
        RuleSet::parse_with(text, file, false)
    }

    /// `lazy`: leave each regex to be compiled on first use (only for the shipped rules).
    fn parse_with(text: &str, file: &str, lazy: bool) -> Result<RuleSet, ClassifyError> {
        let error = |offset: usize, message: String| ClassifyError::RuleFile {
            file: PathBuf::from(file),
            line: line_of(text, offset),
            message,
        };
        let parsed: RuleFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            error(offset, e.message().trim().to_string())
        })?;
        let mut rules: Vec<Rule> = Vec::with_capacity(parsed.rule.len());
        let mut prefilter = PrefilterBuilder::default();
        let mut scanned: Vec<Field> = Vec::new();
        for spanned in parsed.rule {
            let at = spanned.span().start;
            let def = spanned.into_inner();
            let fail = |message: String| error(at, format!("rule '{}': {message}", def.name));
            if def.name.is_empty() || def.name.contains(char::is_whitespace) {
                return Err(fail(
                    "the name must be one word, like beg-bounty-dmarc".into(),
                ));
            }
            if rules.iter().any(|r| r.name == def.name) {
                return Err(fail("a rule with this name is defined earlier".into()));
            }
            let class: Class = def.class.parse().map_err(fail)?;
            if !(def.weight.is_finite() && def.weight > 0.0 && def.weight <= 20.0) {
                return Err(fail(format!(
                    "weight {} must be a number above 0 and at most 20",
                    def.weight
                )));
            }
            let field = Field::parse(&def.field).ok_or_else(|| {
                fail(format!(
                    "unknown field '{}': expected subject, body, text, from, headers, attachments or header:NAME",
                    def.field
                ))
            })?;
            let channel = match scanned.iter().position(|f| f == field.scanned_as()) {
                Some(c) => c,
                None => {
                    scanned.push(field.scanned_as().clone());
                    scanned.len() - 1
                }
            };
            let mut gated = |p: &str| {
                let regex = OnceLock::new();
                if !lazy {
                    let compiled = compile(p).map_err(|e| fail(format!("bad regex: {e}")))?;
                    regex.get_or_init(|| compiled);
                }
                Ok::<_, ClassifyError>(Gated {
                    source: p.to_string(),
                    regex,
                    gate: prefilter.add(channel, p),
                })
            };
            let pattern = gated(&def.pattern)?;
            let also = def.also.as_deref().map(&mut gated).transpose()?;
            let unless = def.unless.as_deref().map(&mut gated).transpose()?;
            rules.push(Rule {
                name: def.name,
                class,
                weight: def.weight,
                field,
                pattern,
                also,
                unless,
            });
        }
        Ok(RuleSet {
            rules,
            prefilter: prefilter.build(),
            scanned,
            source: file.to_string(),
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    /// SHA-256 of the rule file's text.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Where the rules came from, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules that fire on a message, in file order.
    pub fn evaluate(&self, m: &ParsedMessage) -> Vec<Fired> {
        let mut cache = FieldCache {
            message: m,
            texts: Vec::new(),
            scans: Vec::new(),
        };
        let pf = self;
        let mut fired = Vec::new();
        for rule in &self.rules {
            let field = &rule.field;
            if cache.is_match(pf, field, &rule.pattern)
                && rule
                    .also
                    .as_ref()
                    .is_none_or(|a| cache.is_match(pf, field, a))
                && !rule
                    .unless
                    .as_ref()
                    .is_some_and(|u| cache.is_match(pf, field, u))
            {
                fired.push(Fired {
                    name: rule.name.clone(),
                    class: rule.class,
                    weight: rule.weight,
                });
            }
        }
        fired
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
