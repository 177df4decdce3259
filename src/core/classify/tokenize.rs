//! Turning a parsed message into the set of tokens the statistical models count.
//!
//! In the SpamBayes/bogofilter tradition a token is counted once per message. Header tokens
//! carry a prefix naming their header (`subj:`, `from:`, `rcvd:`, `hdr:`, …) so the same word
//! means different things in different places; URLs yield `url:` domain and path tokens,
//! attachments `att:` tokens. HTML has already been turned into text by the parser; only a
//! few tell-tale tags (`html:img`, `html:form`) are counted here.
//!
//! Work is bounded whatever the input: only the first [`MAX_BODY_BYTES`] of the body and
//! [`MAX_HTML_BYTES`] of the HTML are read, and at most [`MAX_TOKENS`] distinct tokens are kept.
//! Tokens never contain whitespace, control or invisible characters, so they are safe in the
//! model file and in reasons shown on a terminal.

use std::sync::LazyLock;

use regex::Regex;

use super::detect::evidence;
use super::disguise::fold;
use super::features::Evidence;
use super::received::{first_external_hop, is_receiver_header};
pub(crate) use super::text_helpers::{is_ipv4, prefix_at_char_boundary};
use crate::core::parse::ParsedMessage;
use crate::core::sanitize::is_invisible_format;

/// The body is read up to this many bytes: spam shows its hand early, and hostile mail
/// cannot make classification slow.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The HTML part is scanned for tell-tale tags up to this many bytes.
pub const MAX_HTML_BYTES: usize = 64 * 1024;
/// At most this many distinct tokens per message (the first in sort order are kept).
pub const MAX_TOKENS: usize = 3000;
/// Words longer than this become a `skip:` token (first character and length bucket).
const MAX_WORD_CHARS: usize = 12;
/// Words shorter than this carry no information (SpamBayes' finding).
const MIN_WORD_CHARS: usize = 3;
/// Headers whose values are tokenized word by word, with their own prefix.
const VALUE_HEADERS: &[(&str, &str)] = &[
    ("x-mailer", "xmailer:"),
    ("user-agent", "xmailer:"),
    ("content-type", "ctype:"),
    ("precedence", "precedence:"),
    ("auto-submitted", "autosub:"),
    ("x-autoreply", "autoreply:"),
    ("x-auto-response-suppress", "autoresp:"),
    ("list-id", "listid:"),
    ("organization", "org:"),
];

/// The distinct tokens of a message, sorted.
pub fn tokenize(m: &ParsedMessage) -> Vec<String> {
    let list = tokenize_list(m);
    let mut tokens: Vec<String> = list.iter().map(str::to_owned).collect();
    tokens.sort_unstable();
    tokens.truncate(MAX_TOKENS);
    tokens
}

/// The same tokens as [`tokenize`], in no particular order and borrowed from `list`: what
/// scoring needs, since the scorer orders its clues itself. Sorting only chooses which to
/// keep when there are more than [`MAX_TOKENS`].
pub fn scoring_tokens(list: &TokenList) -> Vec<&str> {
    let mut tokens: Vec<&str> = list.iter().collect();
    if tokens.len() > MAX_TOKENS {
        tokens.sort_unstable();
        tokens.truncate(MAX_TOKENS);
    }
    tokens
}

/// The distinct tokens of a message in one buffer, in the order first seen, not yet cut to
/// [`MAX_TOKENS`]. One allocation for all of them instead of one per token: classification
/// only looks tokens up, and the allocations were a good part of its time.
pub struct TokenList {
    text: String,
    /// Start and length of each token in `text`.
    spans: Vec<(u32, u32)>,
}

impl TokenList {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|&span| span_str(&self.text, span))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

fn span_str(text: &str, (start, len): (u32, u32)) -> &str {
    // Spans are only made by `Tokens::insert`, from whole tokens pushed onto `text`.
    &text[start as usize..(start + len) as usize]
}

/// The distinct tokens of a message, unsorted.
pub fn tokenize_list(m: &ParsedMessage) -> TokenList {
    tokenize_list_with(m, &evidence(m))
}

/// [`tokenize_list`] when the message's evidence is already known: each feature present
/// becomes a `feat:` token, so the token models learn its weight like any word's.
pub fn tokenize_list_with(m: &ParsedMessage, e: &Evidence) -> TokenList {
    let mut t = Tokens::default();
    for f in e.present() {
        t.add_prefixed("feat:", f.name());
    }
    let (subject, in_subject) = fold(&m.subject);
    text_tokens(&subject, "subj:", &mut t);
    header_tokens(m, &mut t);
    let text = m.classifier_text();
    let (text, in_body) = fold(prefix_at_char_boundary(&text, MAX_BODY_BYTES));
    let body = &*text;
    for token in in_subject.or(in_body).tokens() {
        t.add(token);
    }
    text_tokens(body, "", &mut t);
    url_tokens(body, &mut t);
    if let Some(html) = &m.body_html {
        t.add("mime:html");
        if m.body_text.trim().is_empty() {
            t.add("mime:html-empty-text");
        }
        html_tag_tokens(prefix_at_char_boundary(html, MAX_HTML_BYTES), &mut t);
        url_tokens(prefix_at_char_boundary(html, MAX_HTML_BYTES), &mut t);
    }
    for a in m.classified_attachments() {
        t.add_prefixed("att:", &a.content_type);
        if let Some(ext) = a.name.as_deref().and_then(|n| n.rsplit_once('.')) {
            t.add_prefixed("att:.", &ext.1.to_lowercase());
        }
    }
    TokenList {
        text: t.text,
        spans: t.spans,
    }
}

/// Tokens gathered before sorting and removing duplicates: bounded so hostile input cannot
/// make the list grow without end.
const MAX_RAW_TOKENS: usize = 4 * MAX_TOKENS;

/// Typical mail has a few hundred distinct tokens: room for them without rehashing.
const EXPECTED_TOKENS: usize = 1024;

/// A bounded set of sanitised tokens. Duplicates are dropped as they arrive (a word repeated
/// in the body costs a hash lookup, not a copy and a place in the sort), but they still count
/// towards [`MAX_RAW_TOKENS`], so the result is the same as collecting every token and
/// removing duplicates at the end.
struct Tokens {
    /// The distinct tokens, one after another.
    text: String,
    spans: Vec<(u32, u32)>,
    /// Indexes into `spans`, by the hash of the token.
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
    /// Tokens added so far, duplicates included.
    raw: usize,
    /// Reused to build prefixed tokens without an allocation each.
    scratch: String,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            text: String::with_capacity(EXPECTED_TOKENS * 8),
            spans: Vec::with_capacity(EXPECTED_TOKENS),
            table: hashbrown::HashTable::with_capacity(EXPECTED_TOKENS),
            hasher: foldhash::fast::FixedState::default(),
            raw: 0,
            scratch: String::new(),
        }
    }
}

impl Tokens {
    fn add(&mut self, token: &str) {
        if self.raw >= MAX_RAW_TOKENS || token.is_empty() {
            return;
        }
        self.raw += 1;
        let clean = if token.is_ascii() {
            token.bytes().all(|b| b > b' ' && b != 0x7f)
        } else {
            token
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !is_invisible_format(c))
        };
        if clean {
            self.insert(token);
        } else {
            let cleaned: String = token
                .chars()
                .map(|c| {
                    if c.is_whitespace() || c.is_control() || is_invisible_format(c) {
                        '?'
                    } else {
                        c
                    }
                })
                .collect();
            self.insert(&cleaned);
        }
    }

    /// Keeps `token` unless it is already there.
    fn insert(&mut self, token: &str) {
        use std::hash::BuildHasher as _;
        let Tokens {
            text,
            spans,
            table,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(token);
        if table
            .find(hash, |&i| span_str(text, spans[i as usize]) == token)
            .is_some()
        {
            return;
        }
        // Both fit: at most MAX_RAW_TOKENS tokens of bounded length are ever added.
        let span = (text.len() as u32, token.len() as u32);
        text.push_str(token);
        spans.push(span);
        table.insert_unique(hash, (spans.len() - 1) as u32, |&i| {
            hasher.hash_one(span_str(text, spans[i as usize]))
        });
    }

    /// Adds `prefix` followed by `rest`.
    fn add_prefixed(&mut self, prefix: &str, rest: &str) {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        buf.push_str(prefix);
        buf.push_str(rest);
        self.add(&buf);
        self.scratch = buf;
    }

    /// Adds a formatted token.
    fn add_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        // Writing to a String cannot fail.
        let _ = buf.write_fmt(args);
        self.add(&buf);
        self.scratch = buf;
    }
}

/// Tokens of the headers but the subject, which [`tokenize_list_with`] reads undisguised.
fn header_tokens(m: &ParsedMessage, t: &mut Tokens) {
    if let Some(from) = &m.from {
        let addr = from.addr.to_lowercase();
        t.add_prefixed("from:", &addr);
        if let Some((_, domain)) = addr.rsplit_once('@') {
            domain_tokens(domain, "from:", t);
        }
        match &from.name {
            Some(name) => text_tokens(&fold(name).0, "from:name:", t),
            None => t.add("from:no-name"),
        }
    } else {
        t.add("from:none");
    }
    if m.reply_to
        .iter()
        .any(|r| Some(&r.addr) != m.from.as_ref().map(|f| &f.addr))
    {
        t.add("reply-to:differs");
    }
    t.add_fmt(format_args!(
        "to:count:{}",
        (m.to.len() + m.cc.len()).min(5)
    ));
    if m.message_id.is_none() {
        t.add("msgid:none");
    }
    let received: Vec<&str> = m
        .headers
        .iter()
        .take(200)
        .filter(|(n, _)| n.eq_ignore_ascii_case("received"))
        .map(|(_, v)| v.as_str())
        .collect();
    let first_external = first_external_hop(&received);
    for (i, value) in received.iter().enumerate().skip(first_external) {
        // The first external hop's `by` part is the receiving system's own relay.
        let value = if i == first_external {
            value.split(" by ").next().unwrap_or(value)
        } else {
            value
        };
        received_tokens(value, t);
    }
    for (name, value) in m.headers.iter().take(200) {
        let lname = name.to_ascii_lowercase();
        if is_receiver_header(&lname) {
            continue;
        }
        t.add_prefixed("hdr:", &lname);
        if lname == "received" {
            continue;
        } else if let Some((_, prefix)) = VALUE_HEADERS.iter().find(|(h, _)| *h == lname) {
            let value = prefix_at_char_boundary(value, 512).to_lowercase();
            for word in value.split(|c: char| c.is_whitespace() || c == ';' || c == '"') {
                let word = word.trim_matches(|c: char| !c.is_alphanumeric());
                if !word.is_empty() && word.len() <= 40 {
                    t.add_prefixed(prefix, word);
                }
            }
        }
    }
    for (name, value) in m.auth.weighed() {
        if let Some(v) = value {
            t.add_fmt(format_args!("auth:{name}:{}", v.to_lowercase()));
        }
    }
}

/// Host names and IP prefixes of a Received header: where mail came through says a lot.
fn received_tokens(value: &str, t: &mut Tokens) {
    let value = prefix_at_char_boundary(value, 1024).to_lowercase();
    for word in value.split(|c: char| c.is_whitespace() || "()[];<>".contains(c)) {
        if word.len() > 253 || word.is_empty() {
            continue;
        }
        if is_ipv4(word) {
            let parts: Vec<&str> = word.split('.').collect();
            t.add_fmt(format_args!("rcvd:ip:{}.{}", parts[0], parts[1]));
            t.add_fmt(format_args!(
                "rcvd:ip:{}.{}.{}",
                parts[0], parts[1], parts[2]
            ));
        } else if word.contains('.')
            && word.chars().any(|c| c.is_ascii_alphabetic())
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            domain_tokens(word.trim_matches('.'), "rcvd:", t);
        } else if matches!(
            word,
            "esmtp" | "esmtps" | "esmtpa" | "smtp" | "http" | "local"
        ) {
            t.add_prefixed("rcvd:with:", word);
        }
    }
}

/// A domain and its parents down to two labels: `a.b.example.org` gives `a.b.example.org`,
/// `b.example.org` and `example.org`.
fn domain_tokens(domain: &str, prefix: &str, t: &mut Tokens) {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let keep = labels.len().min(5);
    for start in labels.len() - keep..labels.len().saturating_sub(1) {
        t.add_prefixed(prefix, &labels[start..].join("."));
    }
    if labels.len() == 1 {
        t.add_prefixed(prefix, labels[0]);
    }
}

/// Words of free text, lower-cased, with punctuation trimmed from both ends.
fn text_tokens(text: &str, prefix: &str, t: &mut Tokens) {
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '$' && c != '!');
        let word = word.trim_end_matches('!');
        let chars = word.chars().count();
        if chars < MIN_WORD_CHARS {
            continue;
        }
        if word.contains("://") || word.starts_with("www.") {
            // URLs become url: tokens instead.
            continue;
        }
        if chars > MAX_WORD_CHARS {
            // Long strings (hashes, base64 left-overs) only say "something long".
            let first = word.chars().next().unwrap_or('?');
            t.add_fmt(format_args!("{prefix}skip:{first}:{}", chars / 10 * 10));
            continue;
        }
        let mut token = std::mem::take(&mut t.scratch);
        token.clear();
        token.push_str(prefix);
        if word.is_ascii() {
            token.push_str(word);
            token.make_ascii_lowercase();
        } else {
            token.extend(word.chars().flat_map(char::to_lowercase));
        }
        t.add(&token);
        t.scratch = token;
    }
}

/// Links: `http://`, `https://` or `www.` up to a space or a delimiter. One linear scan.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: compiling it cannot fail.
    Regex::new(r#"(?i-u:https?://|www\.)[^\s"'<>()\[\]{}]*"#).expect("valid URL regex")
});

/// Tell-tale HTML tags.
static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: compiling it cannot fail.
    Regex::new(r"(?i-u)<(img|form|font|table|script|iframe|input|center)\b")
        .expect("valid tag regex")
});

/// At most this many links per text are tokenized.
const MAX_URLS: usize = 200;

/// `url:` tokens for each http(s) or www. link: the scheme, the host and its parents, and
/// the first path segments.
fn url_tokens(text: &str, t: &mut Tokens) {
    for found in URL.find_iter(text).take(MAX_URLS) {
        let url = found.as_str().to_ascii_lowercase();
        let rest = match url.split_once("://") {
            Some((scheme, rest)) => {
                t.add_prefixed("url:proto:", scheme);
                rest
            }
            None => url.as_str(),
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.rsplit('@').next().unwrap_or(host);
        let host = host.split(':').next().unwrap_or(host).trim_end_matches('.');
        if host.is_empty() || host.len() > 253 {
            continue;
        }
        if is_ipv4(host) {
            t.add("url:ip");
        } else {
            domain_tokens(host, "url:", t);
        }
        for seg in path
            .split(|c: char| "/?&=#.".contains(c))
            .filter(|s| s.len() >= 3 && s.len() <= 20)
            .take(4)
        {
            t.add_prefixed("url:path:", seg);
        }
    }
}

/// Tags that tell HTML newsletters and phishing apart from people writing mail.
fn html_tag_tokens(html: &str, t: &mut Tokens) {
    let mut seen = [false; 8];
    for found in HTML_TAG.captures_iter(html).take(10_000) {
        let name = found[1].to_ascii_lowercase();
        let i = [
            "img", "form", "font", "table", "script", "iframe", "input", "center",
        ]
        .iter()
        .position(|n| *n == name)
        .unwrap_or(0);
        if !seen[i] {
            seen[i] = true;
            t.add_prefixed("html:", &name);
        }
    }
}

#[cfg(test)]
#[path = "tokenize_tests.rs"]
mod tests;
