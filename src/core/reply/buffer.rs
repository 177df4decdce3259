//! The text a reply is edited as: a few comment lines, the editable headers (To, Cc,
//! Subject), a blank line, then the body — the shape of a message (RFC 5322 §2.1), so it
//! reads naturally in any editor.
//!
//! After editing, the headers are read back and checked again: an address the user typed
//! goes through the same validation as one from the mail.

use super::{flatten, message::format_mailbox, Draft, ReplyError};

const HELP: &str = "\
# Write your reply below the blank line. You may edit To, Cc and Subject;
# delete an address to drop that recipient. Lines starting with # up here
# are ignored. Save and quit to continue; an empty body cancels.
";

/// The editor buffer for `draft`.
pub fn to_buffer(draft: &Draft) -> String {
    format!(
        "{HELP}To: {}\nCc: {}\nSubject: {}\n\n{}",
        draft.to.join(", "),
        draft.cc.join(", "),
        draft.subject,
        draft.body
    )
}

/// Reads an edited buffer back into a copy of `draft`.
///
/// Unknown header lines are refused (so a typo is not silently dropped, and no header the
/// desk does not manage can be added). A body left empty is [`ReplyError::EmptyBody`].
pub fn apply_buffer(draft: &Draft, text: &str) -> Result<Draft, ReplyError> {
    let text = text.replace("\r\n", "\n");
    let (headers, body) = split_buffer(&text)?;
    let mut out = draft.clone();
    out.body = match body {
        Some(body) => format!("{}\n", body.trim_end()),
        None => String::new(),
    };
    if out.body.trim().is_empty() {
        return Err(ReplyError::EmptyBody);
    }
    let Editable { to, cc, subject } = Editable::pick(headers)?;
    out.to = match to {
        Some((line, v)) => addresses(line, &v)?,
        None => Vec::new(),
    };
    out.cc = match cc {
        Some((line, v)) => addresses(line, &v)?,
        None => Vec::new(),
    };
    if let Some((_, s)) = subject {
        out.subject = flatten(&s);
    }
    Ok(out)
}

/// One header line of the buffer, with its folded continuation lines joined.
struct HeaderLine {
    /// Its line number in the buffer, for errors.
    line: usize,
    /// Lowercase.
    name: String,
    value: String,
}

/// Cuts the buffer at its first blank line: the header lines above it (comment lines
/// skipped), and the body below it, `None` when there is no blank line.
fn split_buffer(text: &str) -> Result<(Vec<HeaderLine>, Option<&str>), ReplyError> {
    let mut headers: Vec<HeaderLine> = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i + 1;
        let content = line.trim_end_matches('\n');
        offset += line.len();
        if content.trim().is_empty() {
            return Ok((headers, Some(&text[offset..])));
        }
        if content.starts_with('#') {
            continue;
        }
        if content.starts_with([' ', '\t']) {
            // A folded continuation of the previous header (RFC 5322 §2.2.3).
            match headers.last_mut() {
                Some(HeaderLine { value, .. }) => {
                    value.push(' ');
                    value.push_str(content.trim());
                    continue;
                }
                None => {
                    return Err(ReplyError::Buffer {
                        line: lineno,
                        message: "an indented line cannot start the headers".into(),
                    })
                }
            }
        }
        let Some((name, value)) = content.split_once(':') else {
            return Err(ReplyError::Buffer {
                line: lineno,
                message: format!(
                    "{content:?} is not a header line; leave a blank line between the headers and the body"
                ),
            });
        };
        headers.push(HeaderLine {
            line: lineno,
            name: name.trim().to_ascii_lowercase(),
            value: value.trim().to_string(),
        });
    }
    Ok((headers, None))
}

/// The headers a reply's buffer may set, each with the line number it was on.
struct Editable {
    to: Option<(usize, String)>,
    cc: Option<(usize, String)>,
    subject: Option<(usize, String)>,
}

impl Editable {
    /// Sorts the header lines into To, Cc and Subject; any other header, or one given twice,
    /// is refused.
    fn pick(headers: Vec<HeaderLine>) -> Result<Editable, ReplyError> {
        let (mut to, mut cc, mut subject) = (None, None, None);
        for HeaderLine { line, name, value } in headers {
            let slot = match name.as_str() {
                "to" => &mut to,
                "cc" => &mut cc,
                "subject" => &mut subject,
                other => {
                    return Err(ReplyError::Buffer {
                        line,
                        message: format!(
                        "the header {other:?} cannot be set here: only To, Cc and Subject are editable"
                    ),
                    })
                }
            };
            if slot.is_some() {
                return Err(ReplyError::Buffer {
                    line,
                    message: format!("{name:?} appears twice: keep one line"),
                });
            }
            *slot = Some((line, value));
        }
        Ok(Editable { to, cc, subject })
    }
}

/// The edited text again, with the problem noted at the top (a comment line, which
/// [`apply_buffer`] ignores), replacing any earlier note.
pub fn with_error_note(text: &str, e: &ReplyError) -> String {
    let kept: Vec<&str> = text
        .lines()
        .skip_while(|l| l.starts_with("# error:"))
        .collect();
    format!(
        "# error: {}\n{}\n",
        crate::core::sanitize::terminal_line(&e.to_string()),
        kept.join("\n")
    )
}

/// Splits an address line (`A <a@x>, "Doe, J" <j@x>`) into formatted mailboxes.
fn addresses(line: usize, value: &str) -> Result<Vec<String>, ReplyError> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    let list = mailparse::addrparse(value).map_err(|e| ReplyError::Buffer {
        line,
        message: format!("{value:?} is not a list of addresses ({e})"),
    })?;
    let mut out = Vec::new();
    for a in list.iter() {
        match a {
            mailparse::MailAddr::Single(s) => {
                out.push(format_mailbox(s.display_name.as_deref(), &s.addr))
            }
            mailparse::MailAddr::Group(g) => out.extend(
                g.addrs
                    .iter()
                    .map(|s| format_mailbox(s.display_name.as_deref(), &s.addr)),
            ),
        }
    }
    Ok(out)
}

/// Why `addr` cannot be a reply's recipient although it is well formed, if it cannot: an
/// address literal (RFC 5321 §4.1.3, `user@[192.0.2.1]`), which the reply's header cannot
/// carry and a mail server should not be asked to route to.
fn not_sendable(addr: &str) -> Option<&'static str> {
    let domain = addr.rsplit_once('@').map(|(_, d)| d.trim())?;
    domain.starts_with('[').then_some(
        "an address literal (a host's IP address in brackets) is not taken: name the address by its domain",
    )
}

/// Reads addresses the user typed outside the editor (`--to`), each `addr` or `Name <addr>`,
/// possibly several separated by commas; every one must be a valid mail address.
pub fn parse_addresses(
    field: &'static str,
    value: &str,
) -> Result<Vec<crate::core::parse::Mailbox>, ReplyError> {
    let bad = |reason: String| ReplyError::BadAddress {
        field,
        value: value.to_string(),
        reason,
    };
    let list = mailparse::addrparse(value).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for a in list.iter() {
        let singles: Vec<&mailparse::SingleInfo> = match a {
            mailparse::MailAddr::Single(s) => vec![s],
            mailparse::MailAddr::Group(g) => g.addrs.iter().collect(),
        };
        for s in singles {
            if let Some(why) = not_sendable(&s.addr) {
                return Err(bad(why.into()));
            }
            s.addr
                .parse::<lettre::Address>()
                .map_err(|e| bad(e.to_string()))?;
            // The reply's header is built from `Name <addr>`, and lettre's header parser
            // takes less than its address parser: what it would refuse at the preview is
            // refused here, as the user typed it.
            let mailbox = format_mailbox(s.display_name.as_deref(), &s.addr);
            super::message::mailbox(field, &mailbox).map_err(|e| match e {
                ReplyError::BadAddress { reason, .. } => bad(format!(
                    "it cannot be written in the reply's header: {reason}"
                )),
                e => bad(e.to_string()),
            })?;
            out.push(crate::core::parse::Mailbox {
                name: s.display_name.clone().filter(|n| !n.trim().is_empty()),
                addr: s.addr.clone(),
            });
        }
    }
    if out.is_empty() {
        return Err(bad("no address given".into()));
    }
    Ok(out)
}
