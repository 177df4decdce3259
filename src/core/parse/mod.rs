//! Turning raw RFC 5322 bytes into the fields the desk stores and classifies.
//!
//! Parsing never fails: whatever cannot be understood is recorded in [`ParsedMessage::notes`]
//! and the raw bytes are always kept by the store. Header values are decoded per RFC 2047 by
//! mailparse; MIME structure follows RFC 2045/2046. Lines ending `\r\r\n` (a CRLF file served
//! once more converted) are read as CRLF (`line_ends`).

mod auth_results;
pub mod dates;
mod entities;
mod hidden;
mod html;
mod line_ends;

pub use auth_results::{is_authserv_id, AuthResults, Standing};
pub use dates::{check_date, mbox_from_date, CheckedDate, DateNote};
pub use html::html_to_text;

use chrono::{DateTime, TimeZone, Utc};
use mailparse::{MailHeaderMap, ParsedMail};
use sha2::{Digest, Sha256};

/// Messages larger than this keep their raw bytes but only their headers are parsed.
pub const MAX_PARSE_BYTES: usize = 25 * 1024 * 1024;

/// How much of a message over [`MAX_PARSE_BYTES`] its headers are read from.
const HEADER_BYTES: usize = 4 * 1024 * 1024;

/// Bodies longer than this are cut (the raw message still holds everything).
const MAX_BODY_CHARS: usize = 1024 * 1024;

/// An address from a header: the display name (decoded) and the address itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub addr: String,
}

impl Mailbox {
    /// Whether `addr` is one plain address (`local@domain`), the only kind a reply may go
    /// to. A header that does not parse keeps its text as `addr`, and an RFC 2047 encoded
    /// word may decode to several addresses (`=?utf-8?q?a=40x=2C_b=40evil?=`, which
    /// `mailparse` reads as one address `a@x, b@evil`): neither is an address.
    pub fn is_one_address(&self) -> bool {
        let addr = self.addr.as_str();
        let Some((local, domain)) = addr.split_once('@') else {
            return false;
        };
        !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && addr.chars().all(|c| {
                !c.is_whitespace()
                    && !c.is_control()
                    && !crate::core::sanitize::is_hidden(c)
                    && !matches!(
                        c,
                        ',' | ';' | ':' | '<' | '>' | '(' | ')' | '[' | ']' | '\\' | '"'
                    )
            })
    }

    /// `Name <addr>`, or the bare address.
    pub fn display(&self) -> String {
        crate::core::address::display_mailbox(self.name.as_deref(), &self.addr)
    }
}

/// An attachment's metadata; its bytes stay in the raw message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// An inline part listed so that nothing is dropped (a second HTML part, an inline
    /// text/x-python): shown and saved like an attachment, but not read by the classifier,
    /// whose model and cut-offs were fitted without such parts.
    #[serde(skip)]
    pub inline_part: bool,
}

/// Everything the desk reads out of one message.
#[derive(Debug, Clone, Default)]
pub struct ParsedMessage {
    /// The Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub date: Option<DateTime<Utc>>,
    pub from: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded per RFC 2047; empty when absent.
    pub subject: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Every header, name and decoded value, in order.
    pub headers: Vec<(String, String)>,
    /// The plain-text body: the inline text/plain parts in order, else HTML converted to
    /// text.
    pub body_text: String,
    /// The first text/html part, when there is one.
    pub body_html: Option<String>,
    /// Byte ranges of `body_text` shown to people and left out of
    /// [`ParsedMessage::classifier_text`]: the link references HTML-to-text added (` [n]`
    /// markers and the list), the text of HTML elements a mail reader never shows (with its
    /// `[hidden: …]` label: the classifier reads what the reader sees), and the text parts
    /// after the first (the classifier's model
    /// and cut-offs were fitted on the first part alone).
    pub display_only: Vec<std::ops::Range<usize>>,
    pub attachments: Vec<Attachment>,
    pub auth: AuthResults,
    /// What could not be parsed, in words a triager understands.
    pub notes: Vec<String>,
}

/// Parses a message the desk received (synced, imported, held by the list, or a file
/// given to `secdesk classify`), with its sender authentication read as the desk is
/// configured ([`ParsedMessage::apply_authserv`] with `[sync] authserv_id`, RFC 8601 §5).
/// Every path that classifies or shows such a message goes through here, so a pass a sender
/// wrote into its own mail is weighed nowhere.
pub fn parse_received(raw: &[u8], trusted: &[String]) -> ParsedMessage {
    let mut parsed = parse_message(raw);
    parsed.apply_authserv(trusted);
    parsed
}

impl ParsedMessage {
    /// Reads the sender authentication again as the desk is configured (`[sync]
    /// authserv_id`, RFC 8601 §5): with `trusted` ids, only their topmost group of
    /// `Authentication-Results` fields counts; with none, the parser's reading stands, marked
    /// unverified, with a failure from any field (`core::parse::auth_results`).
    pub fn apply_authserv(&mut self, trusted: &[String]) {
        let fields = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        if trusted.is_empty() {
            self.auth = std::mem::take(&mut self.auth).unverified(fields);
        } else {
            self.auth = AuthResults::from_trusted_headers(fields, trusted);
        }
    }

    /// The attachments the classifier reads: not the inline parts listed beside them.
    pub fn classified_attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.attachments.iter().filter(|a| !a.inline_part)
    }

    /// The body as the classifier reads it: `body_text` without [`ParsedMessage::display_only`],
    /// so a model trained before those were shown reads mail as it did.
    pub fn classifier_text(&self) -> std::borrow::Cow<'_, str> {
        if self.display_only.is_empty() {
            return std::borrow::Cow::Borrowed(&self.body_text);
        }
        let mut out = String::with_capacity(self.body_text.len());
        let mut at = 0;
        for r in &self.display_only {
            // The body may have been cut after the references were placed.
            let (start, end) = (
                r.start.min(self.body_text.len()),
                r.end.min(self.body_text.len()),
            );
            if start < at
                || !self.body_text.is_char_boundary(start)
                || !self.body_text.is_char_boundary(end)
            {
                continue;
            }
            out.push_str(&self.body_text[at..start]);
            at = end;
        }
        out.push_str(&self.body_text[at..]);
        std::borrow::Cow::Owned(out)
    }

    /// The first value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses raw message bytes. Never fails and never panics on hostile input.
pub fn parse_message(raw: &[u8]) -> ParsedMessage {
    let mut out = ParsedMessage::default();
    if raw.len() > MAX_PARSE_BYTES {
        // Measured on the bytes as they came. Only the headers are read, from the first
        // HEADER_BYTES: that much is copied for its line ends, not the whole message.
        out.notes.push(format!(
            "message is {} MB, over the {} MB parse limit: only headers were read; the raw message is kept",
            raw.len() / (1024 * 1024),
            MAX_PARSE_BYTES / (1024 * 1024)
        ));
        let head = line_ends::readable(&raw[..HEADER_BYTES]);
        match mailparse::parse_headers(&head) {
            Ok((headers, _)) => read_headers(&headers, &mut out),
            Err(e) => out.notes.push(format!("headers could not be parsed: {e}")),
        }
        return out;
    }
    let raw = &*line_ends::readable(raw);
    match malformed_header_lines(raw) {
        0 => {}
        1 => out.notes.push(
            "1 header line is not a `name: value` line (RFC 5322 \u{a7}2.2) and was skipped: \
             the raw message keeps it"
                .into(),
        ),
        n => out.notes.push(format!(
            "{n} header lines are not a `name: value` line (RFC 5322 \u{a7}2.2) and were \
             skipped: the raw message keeps them"
        )),
    }
    match mailparse::parse_mail(raw) {
        Ok(mail) => {
            read_headers(&mail.headers, &mut out);
            let mut walk = Walk::default();
            walk.part(&mail, 0, &mut out);
            out.body_text = match (walk.text, &out.body_html) {
                (Some(t), _) => {
                    if let Some(first) = walk.first_part_len.filter(|&n| n < t.len()) {
                        out.display_only.push(first..t.len());
                    }
                    t
                }
                (None, Some(h)) => {
                    let (text, links) = html::html_to_text_with_links(h);
                    out.display_only = links;
                    text
                }
                (None, None) => String::new(),
            };
            if out.body_text.chars().count() > MAX_BODY_CHARS {
                out.body_text = out.body_text.chars().take(MAX_BODY_CHARS).collect();
                out.notes
                    .push("body is longer than 1M characters: it was cut for display".into());
            }
        }
        Err(e) => {
            out.notes.push(format!(
                "the MIME structure could not be parsed ({e}): the raw message is kept"
            ));
            if let Ok((headers, _)) = mailparse::parse_headers(raw) {
                read_headers(&headers, &mut out);
            }
            out.body_text = String::from_utf8_lossy(raw).into_owned();
        }
    }
    out
}

/// Only the header fields of raw message bytes, read as [`parse_message`] reads them (the
/// same headers: `mailparse` parses a message's headers the same way alone or with its
/// body), for a reader that needs no body. No headers when they cannot be parsed.
pub fn parse_header_fields(raw: &[u8]) -> ParsedMessage {
    let raw = &*line_ends::readable(raw);
    let mut out = ParsedMessage::default();
    if let Ok((headers, _)) = mailparse::parse_headers(raw) {
        read_headers(&headers, &mut out);
    }
    out
}

/// The first `name` field of raw message bytes as written (not RFC 2047 decoded, folds
/// kept), for comparing with a copy of the header another program kept as it found it
/// (Mailman keeps an undecodable Subject so). `None` when there is no such field.
pub fn raw_header_field(raw: &[u8], name: &str) -> Option<String> {
    let raw = &*line_ends::readable(raw);
    let (headers, _) = mailparse::parse_headers(raw).ok()?;
    headers
        .iter()
        .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
        .map(|h| String::from_utf8_lossy(h.get_value_raw()).into_owned())
}

fn read_headers(headers: &[mailparse::MailHeader<'_>], out: &mut ParsedMessage) {
    // Decode every header once (RFC 2047), then read the fields from the decoded list.
    out.headers = headers
        .iter()
        .map(|h| (h.get_key(), bounded(h, |h| h.get_value())))
        .collect();
    let first = |name: &str| {
        out.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let message_id = first("Message-ID").and_then(|v| msg_ids(v).into_iter().next());
    let subject = first("Subject").unwrap_or_default().trim().to_string();
    let date = first("Date")
        .and_then(|d| mailparse::dateparse(d).ok())
        .and_then(|ts| Utc.timestamp_opt(ts, 0).single());
    let in_reply_to = first("In-Reply-To").map(msg_ids).unwrap_or_default();
    let references = first("References").map(msg_ids).unwrap_or_default();
    let auth = AuthResults::from_headers(out.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    out.message_id = message_id;
    out.subject = subject;
    out.date = date;
    out.in_reply_to = in_reply_to;
    out.references = references;
    out.auth = auth;
    // Address headers are parsed from the raw header, where the structure still shows.
    out.from = headers
        .get_first_header("From")
        .map(addresses)
        .and_then(|v| v.into_iter().next());
    out.reply_to = headers
        .get_first_header("Reply-To")
        .map(addresses)
        .unwrap_or_default();
    out.to = headers
        .get_all_headers("To")
        .into_iter()
        .flat_map(addresses)
        .collect();
    out.cc = headers
        .get_all_headers("Cc")
        .into_iter()
        .flat_map(addresses)
        .collect();
}

/// How much of one header field's value is decoded: `mailparse` takes time quadratic in
/// the number of RFC 2047 words of a field (a 1.7 MB Subject of 100,000 words took 9 s),
/// and no real field comes near this.
const MAX_DECODED_FIELD: usize = 64 * 1024;

/// `read` of `header`, or of its first [`MAX_DECODED_FIELD`] bytes (cut at white space,
/// so no encoded word is split) when it is longer.
fn bounded<T>(
    header: &mailparse::MailHeader<'_>,
    read: impl Fn(&mailparse::MailHeader<'_>) -> T,
) -> T {
    let value = header.get_value_raw();
    if value.len() <= MAX_DECODED_FIELD {
        return read(header);
    }
    let cut = value[..MAX_DECODED_FIELD]
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
        .unwrap_or(MAX_DECODED_FIELD);
    let mut field = header.get_key_ref().as_bytes().to_vec();
    field.extend_from_slice(b": ");
    field.extend_from_slice(&value[..cut]);
    match mailparse::parse_header(&field) {
        Ok((short, _)) => read(&short),
        Err(_) => read(header),
    }
}

/// Reads the addresses of an address header, falling back to the raw text when the header
/// does not follow RFC 5322.
fn addresses(header: &mailparse::MailHeader<'_>) -> Vec<Mailbox> {
    bounded(header, addresses_of)
}

fn addresses_of(header: &mailparse::MailHeader<'_>) -> Vec<Mailbox> {
    match mailparse::addrparse_header(header) {
        Ok(list) => list
            .iter()
            .flat_map(|a| match a {
                mailparse::MailAddr::Single(s) => vec![single(s)],
                mailparse::MailAddr::Group(g) => g.addrs.iter().map(single).collect(),
            })
            .collect(),
        Err(_) => {
            let v = header.get_value();
            let v = v.trim();
            if v.is_empty() {
                Vec::new()
            } else {
                vec![Mailbox {
                    name: None,
                    addr: v.to_string(),
                }]
            }
        }
    }
}

fn single(s: &mailparse::SingleInfo) -> Mailbox {
    Mailbox {
        name: s.display_name.clone().filter(|n| !n.trim().is_empty()),
        addr: s.addr.clone(),
    }
}

/// Header text for a note: controls and whitespace runs become one space, and a long value
/// is cut (with an ellipsis) so a note stays one readable line.
pub(crate) fn flat(s: &str) -> String {
    const MAX: usize = 100;
    let spaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > MAX {
        format!("{}…", one.chars().take(MAX).collect::<String>())
    } else {
        one
    }
}

/// Extracts message ids (`<...>`) from an In-Reply-To, References or Message-ID value, without
/// the angle brackets. A bare id without brackets is accepted as one id.
pub fn msg_ids(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start + 1..].find('>') else {
            break;
        };
        let id = rest[start + 1..start + 1 + len].trim();
        if !id.is_empty() && !id.contains(char::is_whitespace) {
            ids.push(id.to_string());
        }
        rest = &rest[start + 1 + len + 1..];
    }
    if ids.is_empty() {
        let bare = value.trim();
        if !bare.is_empty() && !bare.contains(char::is_whitespace) {
            ids.push(bare.to_string());
        }
    }
    ids
}

/// Collects the body and the attachments while walking the MIME tree.
#[derive(Default)]
struct Walk {
    text: Option<String>,
    /// Where the first text part ends in `text`, once another is appended.
    first_part_len: Option<usize>,
    /// When set, the decoded bytes of each attachment, in the order of `out.attachments`.
    bodies: Option<Vec<Vec<u8>>>,
}

/// mailparse stops splitting far before this, but the walk guards its own recursion too.
const MAX_DEPTH: usize = 64;

impl Walk {
    fn part(&mut self, part: &ParsedMail<'_>, depth: usize, out: &mut ParsedMessage) {
        self.part_in(part, depth, out, false);
    }

    /// One part; `plain_taken` when it is an alternative (RFC 2046 §5.1.4: the parts of
    /// multipart/alternative say the same thing) to a text/plain already read, so a
    /// text/plain here is not more text.
    fn part_in(
        &mut self,
        part: &ParsedMail<'_>,
        depth: usize,
        out: &mut ParsedMessage,
        plain_taken: bool,
    ) {
        if depth > MAX_DEPTH {
            if !out.notes.iter().any(|n| n.starts_with("MIME nesting")) {
                out.notes.push(format!(
                    "MIME nesting deeper than {MAX_DEPTH} levels: inner parts were not read; the raw message is kept"
                ));
            }
            return;
        }
        let mimetype = part.ctype.mimetype.to_ascii_lowercase();
        if !part.subparts.is_empty() {
            let alternatives = mimetype == "multipart/alternative";
            let mut plain_taken = false;
            for sub in &part.subparts {
                let before = self.text.as_ref().map(String::len);
                self.part_in(sub, depth + 1, out, plain_taken);
                plain_taken |= alternatives && self.text.as_ref().map(String::len) != before;
            }
            return;
        }
        let disposition = part.get_content_disposition();
        let name = disposition
            .params
            .get("filename")
            .or_else(|| part.ctype.params.get("name"))
            .cloned();
        let is_attachment =
            disposition.disposition == mailparse::DispositionType::Attachment || name.is_some();
        if !is_attachment && mimetype == "text/plain" && plain_taken {
            // The same text again, as another alternative.
        } else if !is_attachment && mimetype == "text/plain" {
            let text = self.decode(part, out);
            match &mut self.text {
                None => self.text = Some(text),
                // Another inline text part of the message (RFC 2046 §5.1.3: shown in
                // order): what the reporter pasted there is part of the report.
                Some(body) => {
                    self.first_part_len.get_or_insert(body.len());
                    body.push_str("\n\n── the message's next text part ──\n\n");
                    body.push_str(&text);
                }
            }
        } else if !is_attachment && mimetype == "text/html" && out.body_html.is_none() {
            out.body_html = Some(self.decode(part, out));
        } else {
            // Anything else is listed, never dropped: a second HTML part, an inline
            // text/x-python, an image.
            let body = part.get_body_raw().unwrap_or_default();
            let size = body.len();
            if let Some(bodies) = &mut self.bodies {
                bodies.push(body);
            }
            out.attachments.push(Attachment {
                inline_part: !is_attachment && mimetype.starts_with("text/"),
                name,
                content_type: mimetype,
                size,
            });
        }
    }

    fn decode(&self, part: &ParsedMail<'_>, out: &mut ParsedMessage) -> String {
        match part.get_body() {
            Ok(body) => body,
            Err(e) => {
                out.notes.push(format!(
                    "a {} part could not be decoded ({e}): shown as raw text",
                    part.ctype.mimetype
                ));
                String::from_utf8_lossy(part.raw_bytes).into_owned()
            }
        }
    }
}

/// How many lines of the header section are not a header field (RFC 5322 \u{a7}2.2: a name
/// of printable ASCII other than `:`, then `:`) nor a folded continuation (RFC 5322
/// \u{a7}2.2.3, starting with a space or tab). The parser skips such lines without a word.
fn malformed_header_lines(raw: &[u8]) -> usize {
    without_mbox_line(raw)
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
        .filter(|line| !line.starts_with(b" ") && !line.starts_with(b"\t"))
        .filter(|line| !is_header_field(line))
        .count()
}

/// `raw` without an mbox separator left in front (RFC 4155 `From ` line), which is no
/// header and no loss.
fn without_mbox_line(raw: &[u8]) -> &[u8] {
    match raw.strip_prefix(b"From ") {
        Some(rest) => rest.splitn(2, |&b| b == b'\n').nth(1).unwrap_or_default(),
        None => raw,
    }
}

/// A header field's first line: a name of printable ASCII other than `:`, then `:`
/// (RFC 5322 §2.2).
fn is_header_field(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => line[..colon].iter().all(|b| (33..=126).contains(b)),
        _ => false,
    }
}

/// Whether `raw` starts as a mail does: with a header field (after an mbox `From ` line,
/// if any). A text, a binary or a JSON file does not.
pub fn looks_like_mail(raw: &[u8]) -> bool {
    let first = without_mbox_line(raw)
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    is_header_field(first)
}

/// Every attachment of a message with its decoded bytes, for saving to disk.
pub fn attachments_with_bodies(raw: &[u8]) -> Vec<(Attachment, Vec<u8>)> {
    if raw.len() > MAX_PARSE_BYTES {
        return Vec::new();
    }
    let raw = &*line_ends::readable(raw);
    let Ok(mail) = mailparse::parse_mail(raw) else {
        return Vec::new();
    };
    let mut out = ParsedMessage::default();
    let mut walk = Walk {
        bodies: Some(Vec::new()),
        ..Walk::default()
    };
    walk.part(&mail, 0, &mut out);
    out.attachments
        .into_iter()
        .zip(walk.bodies.unwrap_or_default())
        .collect()
}

/// The hash that identifies a message's content across sources, as lowercase hex (how the
/// team's events and the classifier's training records name it): [`content_digest`].
pub fn content_hash(raw: &[u8]) -> String {
    content_digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of the raw bytes with line endings normalised to LF and any leading mbox
/// `From ` line dropped, so the same message fetched over IMAP and imported from an
/// archive is recognised as one. `messages.content_hash` holds these 32 bytes.
pub fn content_digest(raw: &[u8]) -> [u8; 32] {
    let mut body = raw;
    if body.starts_with(b"From ") {
        body = match body.iter().position(|&b| b == b'\n') {
            Some(i) => &body[i + 1..],
            None => &[],
        };
    }
    let mut hasher = Sha256::new();
    let mut start = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\r' && body.get(i + 1) == Some(&b'\n') {
            hasher.update(&body[start..i]);
            start = i + 1;
        }
    }
    hasher.update(&body[start..]);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests;
