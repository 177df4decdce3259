//! An event as a mail message in the events folder (RFC 5322, MIME per RFC 2045/2046): a
//! `multipart/mixed` with a `text/plain` line any mail client shows ("Ada took #12
//! 'tarfile: …'") and an `application/json` part that is the event itself. Desks read only the
//! JSON part; the text and the headers are for people.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use serde_json::Value;

use super::event::Event;
use crate::core::sanitize::terminal_line;

/// The header that marks a message as a secdesk event (its value is the event id).
pub const EVENT_HEADER: &str = "X-Secdesk-Event";

/// What the text part and subject say about a report: its local number and subject here.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The actor's name from `[team] members`, if known.
    pub actor_name: Option<&'a str>,
    pub report_id: Option<i64>,
    pub report_subject: Option<&'a str>,
}

/// Cuts hostile or long text down to one safe line of at most `max` characters.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let line = terminal_line(s);
    let line = line.trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

/// One line for people: `Ada took #12 'tarfile: path traversal'`.
pub fn summary(ev: &Event, ctx: &Context) -> String {
    let who = clip(ctx.actor_name.unwrap_or(&ev.actor), 40);
    let num = ctx
        .report_id
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| "#…".into());
    let report = match ctx.report_subject {
        Some(s) => format!("{num} '{}'", clip(s, 60)),
        None => num,
    };
    let s = |k: &str| ev.value.get(k).and_then(Value::as_str).map(|v| clip(v, 60));
    match ev.kind.as_str() {
        "coordinator" => match s("coordinator") {
            Some(c) if c.eq_ignore_ascii_case(&ev.actor) => format!("{who} took {report}"),
            Some(c) => format!("{who} assigned {report} to {c}"),
            None => format!("{who} unassigned {report}"),
        },
        "state" => format!("{who} moved {report} to {}", clip(&ev.value_text(), 60)),
        "class" => format!(
            "{who} confirmed {report} as {}",
            s("class").unwrap_or_default()
        ),
        "note" => format!(
            "{who} noted on {report}: {}",
            clip(&s("text").unwrap_or_default(), 200)
        ),
        "duplicate" => format!("{who} marked {report} a duplicate"),
        "reply-started" => format!("{who} is replying to {report}"),
        "reply-sent" => format!("{who} replied to {report}"),
        "reply-abandoned" => format!("{who} stopped replying to {report}"),
        "responded" => match ev.value.get("via").and_then(serde_json::Value::as_str) {
            Some("reply") => format!("{who}'s reply reached the reporter of {report}"),
            Some(via) => format!(
                "{who} answered the reporter of {report} ({})",
                clip(via, 10)
            ),
            None => format!("{who} took back a response to {report}"),
        },
        "advisory" => format!("{who} set {} on {report}", clip(&ev.value_text(), 60)),
        other => format!("{who}: {} on {report}", clip(other, 30)),
    }
}

/// Why an event could not be written as a message.
#[derive(Debug, thiserror::Error)]
#[error("cannot write team event {id} as a message: {reason}")]
pub struct BuildError {
    pub id: String,
    pub reason: String,
}

/// The message to APPEND for `ev`.
pub fn build(ev: &Event, ctx: &Context) -> Result<Vec<u8>, BuildError> {
    let fail = |reason: String| BuildError {
        id: ev.id.clone(),
        reason,
    };
    let text = summary(ev, ctx);
    let json = serde_json::to_string_pretty(ev).map_err(|e| fail(e.to_string()))?;
    let from: Mailbox = ev
        .actor
        .parse()
        .map_err(|e| fail(format!("actor {:?}: {e}", ev.actor)))?;
    let json_type =
        ContentType::parse("application/json; charset=utf-8").map_err(|e| fail(e.to_string()))?;
    let message = Message::builder()
        .from(from.clone())
        .to(from)
        .subject(format!("[secdesk] {text}"))
        .message_id(Some(format!("<{}@secdesk.invalid>", ev.id)))
        .multipart(
            MultiPart::mixed()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .header(ContentTransferEncoding::QuotedPrintable)
                        .body(format!("{text}\n")),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(json_type)
                        .header(ContentTransferEncoding::QuotedPrintable)
                        .body(json),
                ),
        )
        .map_err(|e| fail(e.to_string()))?;
    let mut raw = message.formatted();
    // Our own marker header, first, so `HEADER.FIELDS` or a glance finds it.
    let mut out = format!("{EVENT_HEADER}: {}\r\n", ev.id).into_bytes();
    out.append(&mut raw);
    Ok(out)
}

/// The trace fields mail delivery writes at the top of a message: every SMTP server that
/// receives it adds `Received`, the final delivery adds `Return-Path` (RFC 5321 §4.4), and
/// delivery agents add `Delivered-To`. A sender cannot take them off.
const TRACE_FIELDS: [&str; 3] = ["Received", "Return-Path", "Delivered-To"];

/// Whether a message in the events folder came there as mail rather than by a desk's
/// APPEND. Desks never send events as mail; anyone can, to an address that delivery files
/// into the folder (plus-addressing such as `security+secdesk@`, a Sieve rule), with any
/// actor in it. Such a message is never an event.
pub fn came_by_mail(raw: &[u8]) -> bool {
    let Ok((headers, _)) = mailparse::parse_headers(raw) else {
        return false;
    };
    headers.iter().any(|h| {
        TRACE_FIELDS
            .iter()
            .any(|t| h.get_key_ref().eq_ignore_ascii_case(t))
    })
}

/// Reads the event out of a message from the events folder, or says why it is not one.
pub fn parse(raw: &[u8]) -> Result<Event, String> {
    let mail = mailparse::parse_mail(raw).map_err(|e| format!("not a MIME message: {e}"))?;
    let json_part = std::iter::once(&mail)
        .chain(mail.subparts.iter())
        .find(|p| p.ctype.mimetype.eq_ignore_ascii_case("application/json"))
        .ok_or_else(|| "no application/json part".to_string())?;
    let body = json_part
        .get_body()
        .map_err(|e| format!("unreadable JSON part: {e}"))?;
    let ev: Event = serde_json::from_str(&body).map_err(|e| format!("not a team event: {e}"))?;
    ev.validate()?;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::team::event::{ReportRef, FORMAT};

    fn ev() -> Event {
        Event {
            secdesk: FORMAT,
            id: "0123456789abcdef0123456789abcdef".into(),
            actor: "ada@example.org".into(),
            at: "2026-12-01T10:00:00Z".into(),
            lamport: 4,
            report: ReportRef::MessageId("root@example.org".into()),
            kind: "coordinator".into(),
            value: serde_json::json!({"coordinator": "ada@example.org"}),
            base: None,
        }
    }

    #[test]
    fn round_trips_with_a_readable_text_part() {
        let ctx = Context {
            actor_name: Some("Ada"),
            report_id: Some(12),
            report_subject: Some("tarfile: path traversal ünïcode\r\nBcc: evil@x"),
        };
        let raw = build(&ev(), &ctx).unwrap();
        assert_eq!(parse(&raw).unwrap(), ev());
        let text = String::from_utf8_lossy(&raw);
        // The injected line break never became a header.
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
        let mail = mailparse::parse_mail(&raw).unwrap();
        let plain = mail.subparts[0].get_body().unwrap();
        assert!(
            plain.starts_with("Ada took #12 'tarfile: path traversal ünïcode Bcc: evil@x'"),
            "{plain}"
        );
        assert!(text.starts_with("X-Secdesk-Event: 0123456789abcdef"));
    }

    #[test]
    fn a_note_is_one_bounded_safe_line() {
        let note = Event {
            kind: "note".into(),
            value: serde_json::json!({"text": format!("see\r\nBcc: evil@x \x1b]2;t\x07{}", "z".repeat(5000))}),
            ..ev()
        };
        let ctx = Context {
            actor_name: Some("Ada"),
            report_id: Some(12),
            report_subject: None,
        };
        let raw = build(&note, &ctx).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
        let mail = mailparse::parse_mail(&raw).unwrap();
        let subject =
            mailparse::MailHeaderMap::get_first_value(&mail.headers[..], "Subject").unwrap();
        assert!(subject.chars().count() < 300, "{subject}");
        assert!(
            subject.ends_with('…') && !subject.contains('\x1b'),
            "{subject}"
        );
    }

    #[test]
    fn only_delivered_mail_carries_trace_fields() {
        let raw = build(&ev(), &Context::default()).unwrap();
        assert!(!came_by_mail(&raw));
        let mut delivered = b"Return-Path: <eve@evil.example>\r\n".to_vec();
        delivered.extend_from_slice(&raw);
        assert!(came_by_mail(&delivered));
        let mut relayed = b"received: from mx.evil.example\r\n".to_vec();
        relayed.extend_from_slice(&raw);
        assert!(came_by_mail(&relayed));
    }

    #[test]
    fn other_mail_is_not_an_event() {
        let err = parse(b"Subject: hi\r\n\r\nhello\r\n").unwrap_err();
        assert!(err.contains("application/json"), "{err}");
    }
}
