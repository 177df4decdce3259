//! Who a reply goes to. The report decides, never the latest mail:
//!
//! - **To** is the reporter: the sender of the report's first message, or that message's
//!   Reply-To addresses whose domain is the sender's (a Reply-To elsewhere is how a forged
//!   follow-up would redirect the answer, so it is not followed).
//! - A later message from another address ("another sender", `core::ingest`) never changes
//!   To. Its sender is offered only as an explicit choice: `secdesk reply --to ADDRESS`.
//! - **Cc** is the team address (`[reply] cc`, else `[team] address`) and nothing else: the
//!   addresses on an incoming Cc are never copied.
//! - The message answered (In-Reply-To, the quote) is the reporter's latest, or, when the
//!   reply is explicitly addressed to another sender of the thread, that sender's latest,
//!   so one correspondent's text is never quoted to another by default.

use rusqlite::{params, OptionalExtension};

use super::ReplyError;
use crate::core::address;
use crate::core::model::ReportId;
use crate::core::parse::{parse_message, Mailbox, ParsedMessage};
use crate::core::store::raw::RawMessage;
use crate::core::store::{Store, StoreError};

/// One stored message of the thread, oldest first by storing order (never by a Date
/// header a sender chose).
struct Stored {
    direction: String,
    /// Its comparison form ([`address::key`]).
    from: String,
    another_sender: bool,
    raw: Vec<u8>,
}

/// The addressing of a reply.
#[derive(Debug, Clone)]
pub struct Addressing {
    pub to: Vec<Mailbox>,
    pub cc: Vec<String>,
    /// The message answered.
    pub parent: ParsedMessage,
    /// Other senders of the thread ([`address::key`]), not addressed unless named explicitly.
    pub other_senders: Vec<String>,
}

/// Addresses a reply to report `report_id`. `explicit` holds addresses named by the user
/// (`--to`); when empty the reply goes to the reporter. `ours` are the team's addresses,
/// as [`address::key`] gives them; `team_cc` is added as Cc.
pub fn address(
    store: &Store,
    report_id: ReportId,
    explicit: &[Mailbox],
    ours: &[String],
    team_cc: Option<&str>,
) -> Result<Addressing, ReplyError> {
    let thread = load(store, report_id)?;
    let incoming = || thread.iter().filter(|m| m.direction == "in");
    let first = incoming()
        .find(|m| !ours.contains(&m.from))
        .or_else(|| incoming().next())
        .or_else(|| thread.first())
        .ok_or(ReplyError::NoMessages(report_id))?;
    let report = parse_message(&first.raw);
    let reporter = first.from.clone();

    let explicit_lower: Vec<String> = explicit.iter().map(|m| address::key(&m.addr)).collect();
    // The reporter's latest mail, or the explicitly addressed sender's latest. Mail that
    // only claims the reporter's From (another sender, `core::ingest`: its DMARC check
    // failed) is not the reporter's to be quoted back to them.
    let latest_from = |who: &[String], claimed: bool| {
        thread
            .iter()
            .rev()
            .find(|m| {
                m.direction == "in" && who.contains(&m.from) && (claimed || !m.another_sender)
            })
            .map(|m| parse_message(&m.raw))
    };
    let parent = if explicit.is_empty() {
        None
    } else {
        latest_from(&explicit_lower, true)
    }
    .or_else(|| latest_from(std::slice::from_ref(&reporter), false))
    .unwrap_or_else(|| report.clone());

    let to = if explicit.is_empty() {
        reporter_mailboxes(&report)
    } else {
        explicit.to_vec()
    };
    let to_lower: Vec<String> = to.iter().map(|m| address::key(&m.addr)).collect();
    let cc = team_cc
        .map(str::trim)
        .filter(|t| !t.is_empty() && !to_lower.contains(&address::key(t)))
        .map(|t| vec![t.to_string()])
        .unwrap_or_default();
    let mut other_senders: Vec<String> = Vec::new();
    for m in incoming() {
        if (m.another_sender || m.from != reporter)
            && !m.from.is_empty()
            && !ours.contains(&m.from)
            && !to_lower.contains(&m.from)
            && !other_senders.contains(&m.from)
        {
            other_senders.push(m.from.clone());
        }
    }
    Ok(Addressing {
        to,
        cc,
        parent,
        other_senders,
    })
}

/// The reporter's addresses from the report's first message: its Reply-To entries on the
/// sender's own domain, else the sender.
///
/// Only plain addresses count: a From or Reply-To that is not one address (an encoded word
/// that decodes to a list, a header that does not parse) gives no recipient, and the
/// person names one with `--to`.
pub fn reporter_mailboxes(report: &ParsedMessage) -> Vec<Mailbox> {
    let Some(from) = report.from.as_ref().filter(|f| f.is_one_address()) else {
        return Vec::new();
    };
    let domain = domain(&from.addr);
    let same_domain: Vec<Mailbox> = report
        .reply_to
        .iter()
        .filter(|r| r.is_one_address() && domain.is_some() && self::domain(&r.addr) == domain)
        .cloned()
        .collect();
    if same_domain.is_empty() {
        vec![from.clone()]
    } else {
        same_domain
    }
}

/// The domain of an address in its comparison form (lowercase, as its A-label:
/// [`address::domain_key`]); `None` without one.
fn domain(addr: &str) -> Option<String> {
    addr.trim()
        .rsplit_once('@')
        .map(|(_, d)| address::domain_key(d.trim_end_matches('>')))
        .filter(|d| !d.is_empty())
}

fn load(store: &Store, report_id: ReportId) -> Result<Vec<Stored>, ReplyError> {
    let conn = store.conn();
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM reports WHERE id = ?1", [report_id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(StoreError::from)?;
    if exists.is_none() {
        return Err(StoreError::NoSuchReport(report_id).into());
    }
    let mut stmt = conn
        .prepare(
            "SELECT direction, secdesk_address_key(from_addr), another_sender, raw
             FROM messages WHERE report_id = ?1 ORDER BY id",
        )
        .map_err(StoreError::from)?;
    let rows = stmt
        .query_map(params![report_id], |r| {
            Ok(Stored {
                direction: r.get(0)?,
                from: r.get(1)?,
                another_sender: r.get(2)?,
                raw: r.get::<_, RawMessage>(3)?.0,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(StoreError::from)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(addr: &str) -> Mailbox {
        Mailbox {
            name: None,
            addr: addr.into(),
        }
    }

    #[test]
    fn reply_to_is_followed_only_on_the_senders_domain() {
        let mut m = ParsedMessage {
            from: Some(mb("rita@reporter.test")),
            reply_to: vec![mb("rita.private@reporter.test")],
            ..Default::default()
        };
        assert_eq!(
            reporter_mailboxes(&m),
            vec![mb("rita.private@reporter.test")]
        );
        m.reply_to = vec![mb("x@evil.test"), mb("y@evil.test")];
        assert_eq!(reporter_mailboxes(&m), vec![mb("rita@reporter.test")]);
        m.reply_to = vec![mb("x@evil.test"), mb("Rita@REPORTER.test")];
        assert_eq!(reporter_mailboxes(&m), vec![mb("Rita@REPORTER.test")]);
        // A look-alike subdomain is another domain.
        m.reply_to = vec![mb("rita@reporter.test.evil.test")];
        assert_eq!(reporter_mailboxes(&m), vec![mb("rita@reporter.test")]);
        m.from = None;
        assert!(reporter_mailboxes(&m).is_empty());
    }

    /// The audit's mails: an encoded word that decodes to a list, in Reply-To or in From.
    #[test]
    fn an_encoded_word_never_chooses_a_recipient() {
        let m = parse_message(
            b"From: rita@reporter.test\r\n\
              Reply-To: =?utf-8?q?attacker=40evil.test=2C_x=40reporter.test?=\r\n\
              Subject: bug\r\n\r\nbody\r\n",
        );
        assert_eq!(reporter_mailboxes(&m), vec![mb("rita@reporter.test")]);
        let m = parse_message(
            b"From: =?utf-8?q?rita=40reporter.test=2C_attacker=40evil.test?=\r\n\
              Subject: bug\r\n\r\nbody\r\n",
        );
        assert!(
            reporter_mailboxes(&m).is_empty(),
            "no recipient at all, so the person names one: {:?}",
            reporter_mailboxes(&m)
        );
        for bad in [
            "a@x, b@y",
            "a@x b@y",
            "a@b@c",
            "<a@x>",
            "a\u{202e}@x",
            "@x",
            "a@",
        ] {
            assert!(!mb(bad).is_one_address(), "{bad}");
        }
        assert!(mb("rita.o'neil+sec@reporter.test").is_one_address());
    }
}
