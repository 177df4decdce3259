//! Naming CPython's standard-library modules in a message: as distinctive words, as
//! `module.attribute` code, or in `import` lines. Part of a message's [`Evidence`]
//! (`StdlibModule`, `StdlibCall`); every scan is capped like the rest of the evidence.
//!
//! [`Evidence`]: super::features::Evidence

use foldhash::{HashSet, HashSetExt};
use std::sync::LazyLock;

use regex::Regex;

/// CPython's standard-library module names (`scripts/gen-stdlib-modules.py` regenerates it).
const STDLIB_MODULES: &str = include_str!("../../../assets/stdlib-modules.tsv");

fn re(pattern: &str) -> Regex {
    // Only called on the constant patterns below; a bad one is a bug caught by the tests.
    Regex::new(pattern).expect("valid stdlib regex")
}

/// `module.function(` or `module.attr`: a name used as code.
static DOTTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u)\b(?:import |from )?([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\.([A-Za-z_][A-Za-z0-9_]*)(\()?",
    )
});
static IMPORT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m-u)^\s*(?:import|from) ([a-z_][a-z0-9_.]*)"));

/// `bare` and `dotted` module names (see the data file). (foldhash: every word of a body is
/// looked up; SipHash was a sixth of this work.)
struct Stdlib {
    bare: HashSet<&'static str>,
    all: HashSet<&'static str>,
}

static STDLIB: LazyLock<Stdlib> = LazyLock::new(|| {
    let mut s = Stdlib {
        bare: HashSet::new(),
        all: HashSet::new(),
    };
    for line in STDLIB_MODULES.lines().filter(|l| !l.starts_with('#')) {
        if let Some((name, how)) = line.split_once('\t') {
            s.all.insert(name);
            if how == "bare" {
                s.bare.insert(name);
            }
        }
    }
    s
});

/// Standard-library modules named as words (distinctive names) or used as code (any name),
/// and whether one is called (`module.function(`).
pub(super) fn stdlib_names(subject: &str, body: &str) -> (Vec<String>, bool) {
    let lib = &*STDLIB;
    let mut found: Vec<String> = Vec::new();
    let add = |name: &str, found: &mut Vec<String>| {
        if found.len() < 3 && !found.iter().any(|f| f == name) {
            found.push(name.to_string());
        }
    };
    let mut called = false;
    for text in [subject, body] {
        // find_iter, not captures_iter: capture groups cost a slower engine on every message.
        for m in DOTTED.find_iter(text).take(2000) {
            let before = text[..m.start()].chars().next_back();
            let found_text = m.as_str();
            let is_call = found_text.ends_with('(');
            let name = found_text
                .trim_start_matches("import ")
                .trim_start_matches("from ")
                .trim_end_matches('(');
            let Some((module, attr)) = name.rsplit_once('.') else {
                continue;
            };
            if matches!(before, Some('@' | '/' | '.' | '-')) || is_tld(attr) {
                continue; // part of a host name or a mail address, not code
            }
            let head = module.split('.').next().unwrap_or(module);
            if lib.all.contains(module) || lib.all.contains(head) {
                let name = if lib.all.contains(module) {
                    module
                } else {
                    head
                };
                add(name, &mut found);
                called |= is_call;
            }
        }
        for c in IMPORT.captures_iter(text).take(200) {
            let head = c[1].split('.').next().unwrap_or("");
            if lib.all.contains(head) {
                add(head, &mut found);
            }
        }
        // Words split by hand: a regex match per word was most of this function's time.
        let mut buf = String::new();
        let words = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .filter(|w| (3..=40).contains(&w.len()))
            .take(20_000);
        for w in words {
            let w = w.trim_matches('.');
            if !w.starts_with(|c: char| c.is_ascii_alphabetic()) {
                continue;
            }
            buf.clear();
            buf.push_str(w);
            buf.make_ascii_lowercase();
            // `http.client.HTTPConnection`: try `http.client`, then `http`.
            let mut parts = buf.splitn(3, '.');
            let first = parts.next().unwrap_or("");
            let two = parts
                .next()
                .map(|second| &buf[..first.len() + 1 + second.len()]);
            if let Some(name) = two.filter(|n| lib.bare.contains(n)) {
                add(name, &mut found);
            } else if lib.bare.contains(first) {
                add(first, &mut found);
            }
        }
    }
    (found, called)
}

/// Top-level domains that make `name.tld` a host, not `module.attribute`.
fn is_tld(s: &str) -> bool {
    matches!(
        s,
        "com"
            | "org"
            | "net"
            | "io"
            | "edu"
            | "gov"
            | "de"
            | "uk"
            | "fr"
            | "ru"
            | "cn"
            | "jp"
            | "info"
            | "biz"
            | "co"
            | "us"
            | "nl"
            | "in"
            | "me"
            | "dev"
            | "app"
            | "xyz"
            | "top"
            | "example"
            | "test"
            | "invalid"
            | "localhost"
    )
}
