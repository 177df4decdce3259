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
//! match the empty string) is always run. A set is kept small without losing a match
//! (`shrink`): literals that extend another are dropped, and a set of thousands (`$1,000,000`
//! and its siblings) is merged into shared prefixes rather than given up. The prefilter only
//! ever skips a regex that cannot match, so the rules fire exactly as without it.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};

/// Literals shorter than this occur in nearly every message: not worth a gate.
const MIN_LITERAL_BYTES: usize = 2;
/// More literals than this for one regex (after case folding and shrinking) make a slow
/// automaton for little gain: such a regex is always run.
const MAX_LITERALS_PER_REGEX: usize = 500;
/// When a regex has too many literals, they are first cut to this many bytes (see
/// [`shrink`]).
const MAX_GATE_LITERAL_BYTES: usize = 16;
/// How many literals the extractor may list for one piece of a regex before it gives up on
/// exactness: its default, and the larger budget tried when that finds only two-byte
/// literals (it lets `\bDR\s?\d{2}` gate on `dr 4`, not `dr`).
const DEFAULT_LIMIT_TOTAL: usize = 250;
const EXTRACT_LIMIT_TOTAL: usize = 4000;

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
        let folded = fold_ascii_case(&hir);
        let (quality, literals) = required(&folded, DEFAULT_LIMIT_TOTAL)?;
        // Two-byte literals (`dr` in `\bDR\s?\d{2}`) pass on nearly every message: look
        // again with a larger budget, which may find `dr 4` instead.
        let literals = if quality.0 <= MIN_LITERAL_BYTES {
            required(&folded, EXTRACT_LIMIT_TOTAL).map_or(literals, |(_, l)| l)
        } else {
            literals
        };
        let literals = shrink(literals);
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
                    // A contiguous NFA, not a DFA: the DFA's build (about 7 % of a batch
                    // `classify` of 1,552 messages, more of a short one) costs more than
                    // its faster scan saves (docs/benchmarks.md).
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
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

/// How selective a literal set is: its shortest literal, then fewer literals.
type Quality = (usize, std::cmp::Reverse<usize>);

/// A set of literals that every text containing one of `literals` still passes, with at
/// most `MAX_LITERALS_PER_REGEX` literals when it can be done. Any part of a literal that
/// every match contains is contained by every match too, so:
/// - a literal that starts or ends with another of the set is dropped (the shorter one is
///   found wherever the longer one is): the gate passes on exactly the same texts;
/// - while the set is too large, the largest groups of literals that share a prefix are
///   replaced by that prefix, longest prefixes first (`$1,000,000` and its thousands of
///   siblings become `$1,000`; a lone `you have won` stays whole), after cutting every
///   literal to `MAX_GATE_LITERAL_BYTES`. The gate then passes on more texts, never fewer,
///   so no rule that could fire is skipped.
fn shrink(mut lits: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    lits.sort_unstable();
    lits.dedup();
    if lits.len() > MAX_LITERALS_PER_REGEX {
        for l in &mut lits {
            l.truncate(MAX_GATE_LITERAL_BYTES);
        }
        lits.sort_unstable();
        lits.dedup();
    }
    let mut at = MAX_GATE_LITERAL_BYTES;
    while lits.len() > MAX_LITERALS_PER_REGEX && at > MIN_LITERAL_BYTES {
        at -= 1;
        // Literals longer than `at`, grouped by their first `at` bytes (they are sorted, so
        // a group is a run).
        let mut groups: Vec<(usize, &[u8])> = Vec::new();
        for l in lits.iter().filter(|l| l.len() > at) {
            match groups.last_mut() {
                Some((n, p)) if *p == &l[..at] => *n += 1,
                _ => groups.push((1, &l[..at])),
            }
        }
        groups.sort_by_key(|&(n, _)| std::cmp::Reverse(n));
        let mut excess = lits.len() - MAX_LITERALS_PER_REGEX;
        let mut merged: HashSet<Vec<u8>> = HashSet::new();
        for (n, prefix) in groups {
            if excess == 0 || n < 2 {
                break;
            }
            excess = excess.saturating_sub(n - 1);
            merged.insert(prefix.to_vec());
        }
        for l in &mut lits {
            if l.len() > at && merged.contains(&l[..at]) {
                l.truncate(at);
            }
        }
        lits.sort_unstable();
        lits.dedup();
    }
    drop_extended(&mut lits);
    // The same from the other end: `us dollars` is found wherever `dollars` is.
    lits.iter_mut().for_each(|l| l.reverse());
    lits.sort_unstable();
    drop_extended(&mut lits);
    lits.iter_mut().for_each(|l| l.reverse());
    lits
}

/// Drops from a sorted list every literal that starts with another one of the list.
fn drop_extended(lits: &mut Vec<Vec<u8>>) {
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(lits.len());
    for l in lits.drain(..) {
        // Sorted: every literal that starts with a kept one follows it directly.
        if kept.last().is_some_and(|k| l.starts_with(k)) {
            continue;
        }
        kept.push(l);
    }
    *lits = kept;
}

/// How selective `literals` are once shrunk: their shortest literal (as cut when there are
/// too many), then fewer literals.
fn quality(literals: &[Vec<u8>]) -> Quality {
    let (shortest, n) = if literals.len() > MAX_LITERALS_PER_REGEX {
        let shrunk = shrink(literals.to_vec());
        (shrunk.iter().map(Vec::len).min(), shrunk.len())
    } else {
        (literals.iter().map(Vec::len).min(), literals.len())
    };
    (shortest.unwrap_or(0), std::cmp::Reverse(n))
}

/// The most selective set of literals of which every match of `hir` contains one: the
/// literals its matches start or end with, or those of a part every match goes through (a
/// piece of a concatenation, the body of a repetition that runs at least once); for an
/// alternation, the union over its branches.
fn required(hir: &Hir, limit: usize) -> Option<(Quality, Vec<Vec<u8>>)> {
    let hir = strip_captures(hir);
    let parts: Vec<(Quality, Vec<Vec<u8>>)> = match hir.kind() {
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for b in branches {
                all.extend(required(b, limit)?.1);
            }
            return Some((quality(&all), all));
        }
        HirKind::Concat(subs) => subs.iter().filter_map(|s| required(s, limit)).collect(),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub, limit).into_iter().collect(),
        _ => Vec::new(),
    };
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .filter_map(|kind| {
            let seq = Extractor::new().kind(kind).limit_total(limit).extract(hir);
            let lits: Vec<Vec<u8>> = seq
                .literals()?
                .iter()
                .map(|l| l.as_bytes().to_vec())
                .collect();
            (!lits.is_empty()).then(|| (quality(&lits), lits))
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
    fn two_byte_literals_are_extended_by_what_follows() {
        // `dr` alone would pass on nearly every message ("drive", "address").
        let (p, g) = gate(r"(?i)\b(DA|DR)\s?\d{2}\+?").unwrap();
        assert!(p.scan(b"a site with DR 45+ for sale")[g]);
        assert!(!p.scan(b"please drive to the address")[g]);
    }

    #[test]
    fn too_many_literals_are_merged_into_their_prefixes() {
        // Thousands of literals (`$1,000,000`...) once meant no gate at all.
        let (p, g) = gate(r"\$\d{1,3}(,\d{3}){2,}|you have won").unwrap();
        assert!(p.scan(b"a transfer of $4,500,000 awaits")[g]);
        assert!(p.scan(b"YOU HAVE WON")[g]);
        assert!(!p.scan(b"a plain note with no amounts")[g]);
    }

    #[test]
    fn shrinking_keeps_a_literal_of_every_match() {
        let lits = |v: &[&str]| v.iter().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>();
        // `us dollars` is found wherever `dollars` is; `abcd` wherever `ab`.
        assert_eq!(
            shrink(lits(&["us dollars", "dollars", "abcd", "ab", "xyz"])),
            lits(&["ab", "dollars", "xyz"])
        );
    }

    #[test]
    fn patterns_without_a_required_literal_always_run() {
        assert!(gate(r"(?s).").is_none());
        assert!(gate(r"(?i)a?").is_none());
        assert!(gate(r"\w+").is_none());
    }
}
