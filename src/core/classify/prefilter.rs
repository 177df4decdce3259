//! A literal prefilter for the rules: one scan of a message's text tells which rule regexes
//! cannot match, so only the few that might are run.
//!
//! Every rule regex is a full scan of up to 16 KB of text, and most of them match no message
//! at all; 39 scans per message made the rules the most expensive part of classification.
//! For each regex the prefilter derives a set of literals of which every match must contain
//! one (the literals every match starts with, or ends with, whichever is more selective; per
//! branch of a top-level alternation). All rules' literals go into one Aho-Corasick automaton,
//! ASCII case-insensitive; a regex whose literals do not occur in the text is known not to
//! match without running it. A regex without a usable literal set (`(?s).`, or one that can
//! match the empty string) is always run. The prefilter only ever skips a regex that cannot
//! match, so the rules fire exactly as without it.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};

/// Literals shorter than this occur in nearly every message: not worth a gate.
const MIN_LITERAL_BYTES: usize = 2;
/// More literals than this for one regex (after case folding) make a slow automaton for
/// little gain: such a regex is always run.
const MAX_LITERALS_PER_REGEX: usize = 500;

/// Which gates a text passes: `passed[g]` is true when a literal of gate `g` occurs in it.
pub type Passed = Vec<bool>;

/// The literal gates of a rule set, built once with the rules. Gates are grouped by the text
/// they are checked on (a channel: the message text, the headers, one header, ...), with one
/// automaton per channel, so a short list of header literals does not pay for a scan with
/// every body literal.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    channels: Vec<Channel>,
    gates: usize,
}

#[derive(Debug, Clone)]
struct Channel {
    /// `None` when the automaton could not be built: every gate then passes.
    automaton: Option<AhoCorasick>,
    /// The gate of each literal in the automaton, by pattern id.
    gate_of: Vec<usize>,
}

/// Collects the gates of regexes, then builds the automata.
#[derive(Default)]
pub struct PrefilterBuilder {
    /// Per channel, the literals and their gates.
    channels: Vec<(Vec<Vec<u8>>, Vec<usize>)>,
    gates: usize,
}

impl PrefilterBuilder {
    /// Adds a regex (as written in the rule file, compiled with Unicode off) checked on the
    /// text of `channel`; returns its gate, or `None` when it must always run.
    pub fn add(&mut self, channel: usize, pattern: &str) -> Option<usize> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        let mut literals = required_literals(&fold_ascii_case(&hir))?;
        literals.sort();
        literals.dedup();
        if literals.len() > MAX_LITERALS_PER_REGEX {
            return None;
        }
        if self.channels.len() <= channel {
            self.channels.resize_with(channel + 1, Default::default);
        }
        let gate = self.gates;
        self.gates += 1;
        let (lits, gate_of) = &mut self.channels[channel];
        for lit in literals {
            lits.push(lit);
            gate_of.push(gate);
        }
        Some(gate)
    }

    pub fn build(self) -> Prefilter {
        let channels = self
            .channels
            .into_iter()
            .map(|(literals, gate_of)| Channel {
                automaton: AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    // A DFA: the scan runs on every message, the build once per rule set.
                    .kind(Some(AhoCorasickKind::DFA))
                    // Measured: the automaton's own scan beats its prefilter here (many
                    // literals, frequent false starts).
                    .prefilter(false)
                    .build(&literals)
                    .ok(),
                gate_of,
            })
            .collect();
        Prefilter {
            channels,
            gates: self.gates,
        }
    }
}

impl Prefilter {
    /// Scans `text` once for the literals of `channel`: which of its gates does it pass?
    /// (Gates of other channels are left false.)
    pub fn scan(&self, channel: usize, text: &[u8]) -> Passed {
        let mut passed = vec![false; self.gates];
        let Some(ch) = self.channels.get(channel) else {
            return passed;
        };
        match &ch.automaton {
            Some(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    passed[ch.gate_of[m.pattern().as_usize()]] = true;
                }
            }
            None => ch.gate_of.iter().for_each(|&g| passed[g] = true),
        }
        passed
    }
}

/// Literals of which every match of `hir` contains one, or `None` when there is no useful set.
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    required(hir).map(|(_, lits)| lits)
}

/// How selective a literal set is: its shortest literal, then fewer literals.
type Quality = (usize, std::cmp::Reverse<usize>);

/// The most selective set of literals of which every match of `hir` contains one: the
/// literals its matches start or end with, or those of a part every match goes through (a
/// piece of a concatenation, the body of a repetition that runs at least once); for an
/// alternation, the union over its branches.
fn required(hir: &Hir) -> Option<(Quality, Vec<Vec<u8>>)> {
    let hir = strip_captures(hir);
    let parts: Vec<(Quality, Vec<Vec<u8>>)> = match hir.kind() {
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            let mut shortest = usize::MAX;
            for b in branches {
                let ((s, _), lits) = required(b)?;
                shortest = shortest.min(s);
                all.extend(lits);
            }
            let quality = (shortest, std::cmp::Reverse(all.len()));
            return Some((quality, all));
        }
        HirKind::Concat(subs) => subs.iter().filter_map(required).collect(),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub).into_iter().collect(),
        _ => Vec::new(),
    };
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .filter_map(|kind| {
            let seq = Extractor::new().kind(kind).extract(hir);
            let lits: Vec<Vec<u8>> = seq
                .literals()?
                .iter()
                .map(|l| l.as_bytes().to_vec())
                .collect();
            let shortest = lits.iter().map(Vec::len).min()?;
            Some(((shortest, std::cmp::Reverse(lits.len())), lits))
        })
        .chain(parts)
        .filter(|((shortest, _), _)| *shortest >= MIN_LITERAL_BYTES)
        .max_by_key(|(quality, _)| *quality)
}

fn strip_captures(mut hir: &Hir) -> &Hir {
    while let HirKind::Capture(c) = hir.kind() {
        hir = &c.sub;
    }
    hir
}

/// The same regex with every ASCII letter case pair (`[Mm]`, as `(?i)` writes it) turned into
/// the lower-case letter and literals lower-cased, so literal extraction yields one literal
/// instead of every case variant; the automaton matches ASCII case-insensitively.
fn fold_ascii_case(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Literal(lit) => Hir::literal(lit.0.to_ascii_lowercase()),
        HirKind::Class(class) => match ascii_case_pair(class) {
            Some(lower) => Hir::literal([lower]),
            None => hir.clone(),
        },
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(fold_ascii_case(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(fold_ascii_case(&c.sub)),
            ..c.clone()
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(fold_ascii_case).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(fold_ascii_case).collect()),
        HirKind::Empty | HirKind::Look(_) => hir.clone(),
    }
}

/// The lower-case letter when `class` is exactly one ASCII letter in both cases.
fn ascii_case_pair(class: &Class) -> Option<u8> {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    match ranges[..] {
        [(a, a2), (b, b2)] if a == a2 && b == b2 && a < 128 && b < 128 => {
            let (upper, lower) = (a as u8, b as u8);
            (upper.is_ascii_uppercase() && upper.to_ascii_lowercase() == lower).then_some(lower)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(pattern: &str) -> Option<(Scan, usize)> {
        let mut b = PrefilterBuilder::default();
        let g = b.add(0, pattern)?;
        Some((Scan(b.build()), g))
    }

    struct Scan(Prefilter);
    impl Scan {
        fn scan(&self, text: &[u8]) -> Passed {
            self.0.scan(0, text)
        }
    }

    #[test]
    fn case_insensitive_alternations_gate_on_their_words() {
        let (p, g) = gate(r"(?i)\b(viagra|cialis)\b").unwrap();
        assert!(p.scan(b"buy CiAlIs now")[g]);
        assert!(!p.scan(b"a plain message about python")[g]);
    }

    #[test]
    fn the_more_selective_end_is_used() {
        // Starts with a two-letter word, ends with a rare one.
        let (p, g) = gate(r"(?i)(no|weak)[\s,]+(\S+\s+){0,3}dmarc\b").unwrap();
        assert!(!p.scan(b"no way, this has nothing")[g]);
        assert!(p.scan(b"No valid DMARC")[g]);
    }

    #[test]
    fn a_literal_inside_the_pattern_can_be_the_gate() {
        let (p, g) = gate(r"(?m)(^\s*>>> \S|python3?(\.\d+)? -c\s)").unwrap();
        assert!(p.scan(b"  >>> import x")[g]);
        assert!(p.scan(b"run python3.12 -c 'x'")[g]);
        assert!(!p.scan(b"nothing to see")[g]);
    }

    #[test]
    fn patterns_without_a_required_literal_always_run() {
        assert!(gate(r"(?s).").is_none());
        assert!(gate(r"(?i)a?").is_none());
        assert!(gate(r"\w+").is_none());
    }
}
