//! HTML to plain text, for messages that carry no text/plain part.
//!
//! A small tolerant scanner rather than a DOM: hostile HTML cannot make it recurse, and
//! script, style and head contents never reach the text. What a triager needs is kept:
//! - where each link goes, as a numbered reference (`text [1]`, and `[1] https://…` at the
//!   end), so a link whose text names one site and whose target is another shows both;
//! - character references as a browser reads them ([`entities::decode`]): every name of the
//!   standard, the old ones without their `;`, numeric ones (Windows-1252 for 128 to 159);
//! - the white space of `<pre>`, so a reproducer keeps its indentation;
//! - the text of elements a mail reader never shows ([`super::hidden`]), labelled
//!   `[hidden: …]` and marked, like the references, as text the classifier leaves out.
//!
//! The text may hold anything the mail held (controls, bidi overrides in a link target):
//! like every body it is made safe where it is shown (`core::sanitize::terminal_text`).

use std::collections::HashMap;
use std::ops::Range;

use super::entities::{self, Context};
use super::hidden;

/// Around what the references add, while converting; taken out, as ranges, at the end. Both
/// are noncharacters, and any in the mail's own text become U+FFFD first.
const MARK_START: char = '\u{fdd0}';
const MARK_END: char = '\u{fdd1}';
/// Around hidden text and its label, while converting; taken out like the marks above.
const HIDDEN_START: char = '\u{fdd2}';
const HIDDEN_END: char = '\u{fdd3}';
/// What the text of a hidden element is shown after (and `]` after it).
const HIDDEN_LABEL: &str = "[hidden: ";
/// How many elements open inside a hidden one are followed; deeper ones are not, so an
/// end tag may end the hiding early (the classifier then reads more, as before hidden
/// text was known).
const MAX_HIDDEN_DEPTH: usize = 256;

/// Converts HTML to readable text: block elements become line breaks, entities are decoded,
/// links get numbered references listed at the end, `<pre>` keeps its white space,
/// script/style/head contents are dropped, hidden text is labelled `[hidden: …]`, and runs
/// of blank lines are collapsed.
pub fn html_to_text(html: &str) -> String {
    html_to_text_with_links(html).0
}

/// [`html_to_text`], with the byte ranges, in order, of the text that only the link
/// references added (each ` [n]` and the list at the end) and of the hidden text with its
/// label. The classifier leaves them out, so it reads an HTML mail's words as it did before
/// the references were there, and as its reader sees them.
pub fn html_to_text_with_links(html: &str) -> (String, Vec<Range<usize>>) {
    let mut c = Converter::default();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            c.text(rest);
            break;
        };
        c.text(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = match rest.find("-->") {
                Some(end) => &rest[end + 3..],
                None => "",
            };
            continue;
        }
        let Some(gt) = tag_end(rest) else {
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        c.tag(tag);
    }
    c.finish()
}

/// Where the tag `rest` starts with ends: its first `>` outside a quoted attribute value,
/// as a browser reads it (`<a href="x>y">` is one tag). `None` when it never ends.
fn tag_end(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 1;
    let mut after_equals = false;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return Some(i),
            q @ (b'"' | b'\'') if after_equals => {
                i += 1 + rest[i + 1..].find(char::from(q))?;
                after_equals = false;
            }
            b'=' => after_equals = true,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {}
            _ => after_equals = false,
        }
        i += 1;
    }
    None
}

/// A link's target as a browser takes it (URL standard, basic URL parser): leading and
/// trailing controls and spaces dropped, tabs and line breaks inside removed. Whatever
/// else it holds stays, for the display to make visible.
fn link_target(href: &str) -> String {
    href.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

#[derive(Default)]
struct Converter {
    /// Finished runs of output: flowing text (`false`: white space collapsed, lines
    /// trimmed) or the inside of a `<pre>` (`true`: kept as written).
    runs: Vec<(bool, String)>,
    /// The run being written, and whether it is inside a `<pre>`.
    current: String,
    current_pre: bool,
    /// The element whose contents are being dropped (script, style, head, title).
    skip_until: Option<&'static str>,
    /// While inside a hidden element: its name, then those of the elements open inside it.
    hidden: Vec<String>,
    /// How many `<pre>` are open.
    pre: usize,
    /// The link being read: its target and the text shown for it so far.
    link: Option<(String, String)>,
    /// The targets given a reference number, in order; a target seen again keeps its number.
    targets: Vec<String>,
    numbers: HashMap<String, usize>,
}

impl Converter {
    /// Where text goes now: a new run starts when a `<pre>` opens or closes.
    fn out(&mut self) -> &mut String {
        let pre = self.pre > 0;
        if pre != self.current_pre {
            let done = std::mem::take(&mut self.current);
            self.runs.push((self.current_pre, done));
            self.current_pre = pre;
        }
        &mut self.current
    }

    fn text(&mut self, raw: &str) {
        if self.skip_until.is_some() || raw.is_empty() {
            return;
        }
        let decoded = entities::decode(raw, Context::Text)
            .replace([MARK_START, MARK_END, HIDDEN_START, HIDDEN_END], "\u{fffd}");
        if let Some((_, shown)) = &mut self.link {
            shown.push_str(&decoded);
        }
        if self.pre > 0 {
            let out = self.out();
            // As in a browser, a line break right after `<pre>` is not part of the text.
            let text = if out.is_empty() {
                decoded.strip_prefix('\n').unwrap_or(&decoded)
            } else {
                &decoded
            };
            out.extend(text.chars().map(|c| if c == '\u{a0}' { ' ' } else { c }));
        } else {
            push_spaced(self.out(), &decoded);
        }
    }

    fn tag(&mut self, tag: &str) {
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(end) = self.skip_until {
            if closing && name == end {
                self.skip_until = None;
            }
            return;
        }
        if closing {
            self.close_inside_hidden(&name);
        } else {
            self.open_inside_hidden(&name);
        }
        let starts_hidden = !closing
            && self.hidden.is_empty()
            && !hidden::is_void(&name)
            && hidden::hides(
                attribute(tag, "style").as_deref(),
                attribute_entry(tag, "hidden").is_some(),
            );
        match name.as_str() {
            "script" | "style" | "head" | "title" if !closing => {
                self.skip_until = Some(match name.as_str() {
                    "script" => "script",
                    "style" => "style",
                    "head" => "head",
                    _ => "title",
                });
            }
            "pre" => {
                self.newline();
                if closing {
                    self.pre = self.pre.saturating_sub(1);
                } else {
                    self.pre += 1;
                }
            }
            "a" if closing => self.close_link(),
            "a" => {
                self.close_link();
                let href = attribute(tag, "href").map(|h| link_target(&h));
                if let Some(href) = href.filter(|h| !h.is_empty()) {
                    self.link = Some((href, String::new()));
                }
            }
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "table" | "ul" | "ol" | "blockquote" | "hr" => self.newline(),
            "td" | "th" if !closing => self.out().push(' '),
            _ => {}
        }
        // A hidden script or style is dropped whole, as any other.
        if starts_hidden && self.skip_until.is_none() {
            self.hidden.push(name);
            let out = self.out();
            out.push(HIDDEN_START);
            out.push_str(HIDDEN_LABEL);
        }
    }

    /// A start tag while hidden: the elements it ends without their end tag close, and it
    /// opens inside the hidden one.
    fn open_inside_hidden(&mut self, name: &str) {
        if self.hidden.is_empty() {
            return;
        }
        while let Some(open) = self.hidden.last() {
            if !hidden::closes_implicitly(open, name) {
                break;
            }
            self.hidden.pop();
        }
        if self.hidden.is_empty() {
            self.end_hidden();
        } else if !hidden::is_void(name) && self.hidden.len() < MAX_HIDDEN_DEPTH {
            self.hidden.push(name.to_string());
        }
    }

    /// An end tag while hidden: it closes its element and those opened inside it. One whose
    /// element was not opened inside ends the hiding when it could close an element around
    /// the hidden one (`<div><span hidden>x</div>`), as in a browser.
    fn close_inside_hidden(&mut self, name: &str) {
        let Some(root) = self.hidden.first() else {
            return;
        };
        match self.hidden.iter().rposition(|open| open == name) {
            Some(at) => self.hidden.truncate(at),
            None if hidden::is_inline(name) && !hidden::is_inline(root) => return,
            None => self.hidden.clear(),
        }
        if self.hidden.is_empty() {
            self.end_hidden();
        }
    }

    /// Closes the label of the hidden text; one that hid nothing leaves no label.
    fn end_hidden(&mut self) {
        self.hidden.clear();
        let pre = self.pre > 0;
        let out = self.out();
        if let Some(before) = out.strip_suffix(HIDDEN_LABEL) {
            if let Some(before) = before.strip_suffix(HIDDEN_START) {
                let len = before.len();
                out.truncate(len);
                return;
            }
        }
        if !pre {
            let len = out.trim_end_matches(' ').len();
            out.truncate(len);
        }
        out.push(']');
        out.push(HIDDEN_END);
    }

    fn newline(&mut self) {
        self.out().push('\n');
    }

    /// Ends the open link with its reference number, unless its text already is its target.
    fn close_link(&mut self) {
        if let Some((href, shown)) = self.link.take() {
            if shown.trim() != href {
                let next = self.targets.len() + 1;
                let n = *self.numbers.entry(href.clone()).or_insert(next);
                if n == next {
                    self.targets.push(href);
                }
                let pre = self.pre > 0;
                let out = self.out();
                if !pre && (out.ends_with([' ', '\n']) || out.is_empty()) {
                    out.push(MARK_START);
                    out.push_str(&format!("[{n}]"));
                } else {
                    out.push(MARK_START);
                    out.push_str(&format!(" [{n}]"));
                }
                out.push(MARK_END);
            }
        }
    }

    fn finish(mut self) -> (String, Vec<Range<usize>>) {
        self.close_link();
        if !self.hidden.is_empty() {
            self.end_hidden();
        }
        let last = std::mem::take(&mut self.current);
        self.runs.push((self.current_pre, last));
        let mut lines: Vec<(&str, bool)> = Vec::new();
        for (pre, run) in &self.runs {
            if *pre {
                // The line break before `</pre>` ends the last line; it adds no blank one.
                let run = run.trim_end_matches(['\n', '\r']);
                lines.extend(run.lines().map(|l| (l.trim_end(), true)));
            } else {
                lines.extend(run.lines().map(|l| (l.trim(), false)));
            }
        }
        let (mut out, mut marks) = unmark(&tidy(&lines));
        if !self.targets.is_empty() {
            let start = out.len();
            out.push_str("\n\n");
            let listed: Vec<String> = (self.targets.iter().enumerate())
                .map(|(i, t)| format!("[{}] {t}", i + 1))
                .collect();
            out.push_str(&listed.join("\n"));
            marks.push(start..out.len());
        }
        (out, marks)
    }
}

/// Takes the marks out of `text`, returning where what they enclosed now is, in order (a
/// reference inside hidden text is part of the hidden range).
fn unmark(text: &str) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(text.len());
    let mut marks: Vec<Range<usize>> = Vec::new();
    let (mut open, mut hidden_open) = (None, None);
    for c in text.chars() {
        let (opened, start) = match c {
            MARK_START | MARK_END => (&mut open, c == MARK_START),
            HIDDEN_START | HIDDEN_END => (&mut hidden_open, c == HIDDEN_START),
            c => {
                out.push(c);
                continue;
            }
        };
        if start {
            *opened = Some(out.len());
        } else if let Some(from) = opened.take() {
            marks.push(from..out.len());
        }
    }
    marks.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(marks.len());
    for r in marks {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    (out, merged)
}

/// The value of attribute `name` in a start tag's text (`a href="x" class=y`), quoted with
/// `"` or `'` or bare, with its character references decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    attribute_entry(tag, name)
        .flatten()
        .map(|v| entities::decode(v, Context::Attribute))
}

/// Attribute `name` of a start tag: `Some(None)` when it is there without a value
/// (`<div hidden>`), `Some(Some(value))` as written when it has one.
fn attribute_entry<'t>(tag: &'t str, name: &str) -> Option<Option<&'t str>> {
    let mut rest = tag
        .trim_start_matches(|c: char| c.is_ascii_alphanumeric())
        .trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace() || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, next) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                    Some(end) => (&after[1..1 + end], &after[2 + end..]),
                    None => (&after[1..], ""),
                },
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = next.trim_start();
            Some(value)
        } else {
            if key.is_empty() {
                rest = rest.get(1..).unwrap_or("").trim_start();
            }
            None
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
    None
}

/// HTML collapses white space; so does this.
fn push_spaced(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// Keeps at most one blank line in a row, and none at either end; `<pre>` lines (`true`)
/// are kept as they are.
fn tidy(lines: &[(&str, bool)]) -> String {
    let mut out = String::new();
    let mut blank_run = 0;
    for (line, verbatim) in lines {
        if line.is_empty() && !verbatim {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
