//! Turning a [`Draft`] into the bytes that are sent: RFC 5322 headers (From, To, Cc,
//! Subject, Date, Message-ID, In-Reply-To, References per §3.6.4), and a UTF-8 text/plain
//! body, 7bit when it can be, quoted-printable (RFC 2045 §6.7) otherwise. Non-ASCII header
//! text is encoded per RFC 2047 by lettre.
//!
//! Every header value is checked for CR, LF and NUL first ([`header_value`]): a value from
//! the mail or the editor can never add a header line.
//!
//! Header lines are folded (RFC 5322 §2.2.3) at whitespace to at most 78 characters where
//! possible (§2.1.1) and never longer than 998: lettre folds text headers but writes an
//! address list on one line, and a reply Cc'd to 45 people made a 1,100-character line
//! that servers refuse ("500 Line too long"). A subject is shortened with an ellipsis to
//! [`MAX_SUBJECT_CHARS`], a display name to [`MAX_NAME_CHARS`].

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::Message;
use sha2::{Digest, Sha256};

use super::{Draft, ReplyError};
use crate::core::sanitize::header_value;

/// A reply ready for the outbox: its bytes and its SMTP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltMessage {
    /// Without angle brackets.
    pub message_id: String,
    pub raw: Vec<u8>,
    /// The envelope sender (RFC 5321 MAIL FROM).
    pub envelope_from: String,
    /// Every To and Cc address (RFC 5321 RCPT TO).
    pub recipients: Vec<String>,
}

/// Longest subject sent; a longer one is cut with an ellipsis.
pub use super::threading::MAX_SUBJECT_CHARS;
/// Longest display name sent; a longer one is cut with an ellipsis.
pub const MAX_NAME_CHARS: usize = 100;
/// RFC 5322 §2.1.1: a line SHOULD be at most 78 characters and MUST be at most 998.
const FOLD_AT: usize = 78;
const MAX_LINE: usize = 998;

/// `Name <addr>` with the name quoted where RFC 5322 needs it, or the bare address. An
/// address lettre cannot read is returned as-is, so the user sees and fixes it.
pub fn format_mailbox(name: Option<&str>, addr: &str) -> String {
    let name = name
        .map(|n| super::threading::shorten(&super::flatten(n), MAX_NAME_CHARS))
        .filter(|n| !n.is_empty());
    match addr.trim().parse() {
        Ok(address) => Mailbox::new(name, address).to_string(),
        Err(_) => match name {
            Some(n) => format!("{n} <{addr}>"),
            None => addr.to_string(),
        },
    }
}

/// A new globally unique Message-ID (RFC 5322 §3.6.4) on `domain`, without angle brackets.
pub fn new_message_id(domain: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    // The address of a stack value adds ASLR entropy between processes.
    let local = 0u8;
    h.update((&local as *const u8 as usize).to_le_bytes());
    let digest = h.finalize();
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{}@{domain}", now.as_secs())
}

/// The domain of an address (`you@example.org` → `example.org`).
pub fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
}

/// `m` as it is written in a header: a non-ASCII domain as its A-label (RFC 5891) when the
/// local part is ASCII, so the header is ASCII and any server carries it; without SMTPUTF8
/// (RFC 6531) a UTF-8 address in a header is not allowed (RFC 6532 §3.2 needs it). The
/// envelope keeps the address as written: `mailio::smtp` sends it as the server allows. A
/// non-ASCII local part has no ASCII form and stays as it is (only SMTPUTF8 carries it).
fn in_header(m: &Mailbox) -> Mailbox {
    let written = m.email.to_string();
    match crate::core::address::ascii_form(&written) {
        Ok(ascii) if ascii != written => match ascii.parse() {
            Ok(email) => Mailbox::new(m.name.clone(), email),
            Err(_) => m.clone(),
        },
        _ => m.clone(),
    }
}

/// Parses one mailbox of a draft, naming the header it sits in when it is bad: the check
/// [`build`] makes, which `buffer::parse_addresses` makes too, so a `--to` is refused as it
/// is typed rather than after the editor and the preview.
pub(super) fn mailbox(field: &'static str, value: &str) -> Result<Mailbox, ReplyError> {
    header_value(field, value)?;
    Mailbox::from_str(value.trim()).map_err(|e| ReplyError::BadAddress {
        field,
        value: value.to_string(),
        reason: e.to_string(),
    })
}

/// Checks a draft and formats it as mail with the given Message-ID and Date.
pub fn build(
    draft: &Draft,
    message_id: &str,
    date: DateTime<Utc>,
) -> Result<BuiltMessage, ReplyError> {
    header_value("Subject", &draft.subject)?;
    if draft.subject.trim().is_empty() {
        return Err(ReplyError::EmptySubject);
    }
    if draft.body.trim().is_empty() {
        return Err(ReplyError::EmptyBody);
    }
    if draft.to.is_empty() {
        return Err(ReplyError::NoRecipients);
    }
    let from = mailbox("From", &draft.from)?;
    let subject = super::threading::shorten(draft.subject.trim(), MAX_SUBJECT_CHARS);
    let mut builder = Message::builder()
        .from(in_header(&from))
        .subject(subject)
        .date(SystemTime::from(date))
        .message_id(Some(format!("<{}>", id_value("Message-ID", message_id)?)));
    let mut recipients = Vec::new();
    for to in &draft.to {
        let m = mailbox("To", to)?;
        recipients.push(m.email.to_string());
        builder = builder.to(in_header(&m));
    }
    for cc in &draft.cc {
        let m = mailbox("Cc", cc)?;
        recipients.push(m.email.to_string());
        builder = builder.cc(in_header(&m));
    }
    // The same mailbox in To and Cc (or twice in one) is one RCPT: one copy each.
    let mut seen = std::collections::HashSet::new();
    recipients.retain(|r| seen.insert(crate::core::address::key(r)));
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(format!("<{}>", id_value("In-Reply-To", parent)?));
    }
    if !draft.references.is_empty() {
        let ids = draft
            .references
            .iter()
            .map(|id| id_value("References", id).map(|id| format!("<{id}>")))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.references(ids.join(" "));
    }
    let text = draft.body.replace("\r\n", "\n");
    let body = match Body::new_with_encoding(text, ContentTransferEncoding::SevenBit) {
        Ok(seven_bit) => seven_bit,
        Err(bytes) => {
            // Only bytes of a `String` come back, so they are valid UTF-8.
            let text = String::from_utf8(bytes).map_err(|e| ReplyError::Format(e.to_string()))?;
            Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
                .map_err(|_| ReplyError::Format("quoted-printable encoding failed".into()))?
        }
    };
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body);
    let message = builder
        .singlepart(part)
        .map_err(|e| ReplyError::Format(e.to_string()))?;
    Ok(BuiltMessage {
        message_id: message_id.to_string(),
        raw: fold_headers(&message.formatted())?,
        envelope_from: from.email.to_string(),
        recipients,
    })
}

/// Folds every header line longer than 78 characters at whitespace (RFC 5322 §2.2.3: a
/// CRLF inserted before a space, which unfolding removes), and refuses a message that still
/// has a line over 998 characters. The body is left as it is (lettre keeps its lines short).
pub fn fold_headers(raw: &[u8]) -> Result<Vec<u8>, ReplyError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .unwrap_or(raw.len());
    let (head, body) = raw.split_at(split);
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        // Never fold between a header's name and the start of its value.
        let floor = if line.starts_with(b" ") || line.starts_with(b"\t") {
            1
        } else {
            line.iter().position(|&b| b == b':').map_or(1, |c| c + 2)
        };
        let mut rest = line;
        while rest.len() > FOLD_AT {
            let Some(cut) = fold_point(rest, floor.min(rest.len())) else {
                break;
            };
            out.extend_from_slice(&rest[..cut]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[cut..];
        }
        if rest.len() > MAX_LINE {
            return Err(ReplyError::Format(format!(
                "a header line of {} characters cannot be folded to the 998 allowed (RFC 5322 §2.1.1): shorten it",
                rest.len()
            )));
        }
        out.extend_from_slice(rest);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(body);
    Ok(out)
}

/// Where to fold `line`: before the last space that leaves at most 78 characters, else
/// before the first space after that; never at or before `floor`.
fn fold_point(line: &[u8], floor: usize) -> Option<usize> {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let within = line[..=FOLD_AT.min(line.len() - 1)]
        .iter()
        .rposition(is_space)
        .filter(|&i| i > floor);
    within.or_else(|| {
        line.iter()
            .enumerate()
            .skip(FOLD_AT.max(floor + 1))
            .find(|(_, b)| is_space(b))
            .map(|(i, _)| i)
    })
}

/// True for an id that can go between angle brackets (RFC 5322 §3.6.4 `msg-id`): printable
/// ASCII, no whitespace, no brackets. Ids from hostile mail that fail this are not echoed.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

/// A message id as it may appear between angle brackets.
fn id_value<'a>(field: &'static str, id: &'a str) -> Result<&'a str, ReplyError> {
    header_value(field, id)?;
    if !is_valid_id(id) {
        return Err(ReplyError::Format(format!(
            "the {field} id {id:?} is not a valid message id"
        )));
    }
    Ok(id)
}
