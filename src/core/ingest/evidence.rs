//! Which report an incoming message joins, by evidence rather than by its headers alone.
//!
//! `In-Reply-To` and `References` (RFC 5322 §3.6.4) are written by the sender, so anyone can
//! name a report's Message-ID. They still place a message in a thread, but:
//!
//! - a message from an address other than the reporter's (the sender of the report's first
//!   message) joins marked *another sender*: it is shown as such and never chooses who a
//!   reply goes to (`core::reply`);
//! - so does one whose From is the reporter's (or a teammate's) when the receiving server's
//!   DMARC check failed (RFC 7489; the topmost `Authentication-Results` from `[sync]
//!   authserv_id`, as `core::parse::auth_results` reads it): From is as easy to write as
//!   In-Reply-To, and a forged follow-up must not bring a `needs-info` report back, be
//!   quoted to the reporter as theirs or be learned with the report. Unless the report's
//!   own first message failed it too: then the reporter's mail fails DMARC anyway (a
//!   forwarder, a broken setup) and the check tells nothing apart. Only a failure is used:
//!   a pass never makes mail the reporter's. Without `[sync] authserv_id` the topmost field
//!   is read unverified, which is safe for a failure alone: a sender can write a failing
//!   verdict into its own mail, but that only marks its own mail;
//! - when the ids point into several reports, the earliest stored report wins and the
//!   collision is noted;
//! - each id is looked up once, and only the nearest [`MAX_NAMED_IDS`];
//! - a Message-ID held by several stored messages resolves to the one from the same sender
//!   as the new message, else the earliest;
//! - a message reusing a Message-ID already stored for different content from another
//!   sender is kept apart (a new report, unless its own threading headers place it) and the
//!   collision is noted, so a squatted id never pulls the real reporter's mail into the
//!   squatter's report.

use rusqlite::Transaction;

use crate::core::parse::{flat, ParsedMessage, Standing};
use crate::core::store::Result;

/// Where a message goes and what was noticed on the way.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Placement {
    /// The report it joins; `None` starts a new one.
    pub report: Option<i64>,
    /// Joined a thread from an address that is not the reporter's.
    pub another_sender: bool,
    /// Joined a thread from the reporter's own address (and not marked another sender): the
    /// reporter answering. A teammate's mail in the thread is neither.
    pub from_reporter: bool,
    /// For the message's notes.
    pub notes: Vec<String>,
}

/// How many of the ids a message names in In-Reply-To and References are looked up: the
/// nearest ones. A real thread's References lists one id per message above it.
const MAX_NAMED_IDS: usize = 100;

/// One stored message holding a Message-ID.
struct Holder {
    report: i64,
    from: String,
}

/// Decides where incoming message `m` goes. `team` holds the team's own addresses
/// (`core::address::key`): their mail in a thread is not "another sender".
pub(super) fn place(tx: &Transaction<'_>, m: &ParsedMessage, team: &[String]) -> Result<Placement> {
    let from = m
        .from
        .as_ref()
        .map(|f| crate::core::address::key(&f.addr))
        .unwrap_or_default();
    let mut out = Placement::default();
    if let Some(own) = m.message_id.as_deref() {
        let holders = holders(tx, own)?;
        if let Some(first) = holders.first() {
            if !holders.iter().any(|h| h.from == from) {
                out.notes.push(format!(
                    "its Message-ID <{}> is already used by a different message from {} (report #{}): kept apart as a new message",
                    crate::core::parse::flat(own),
                    shown(&first.from),
                    first.report
                ));
            }
        }
    }

    let mut reports: Vec<i64> = Vec::new();
    for id in named_ids(m) {
        let holders = holders(tx, id)?;
        let Some(pick) = holders
            .iter()
            .find(|h| h.from == from)
            .or_else(|| holders.first())
        else {
            continue;
        };
        let mut spread: Vec<i64> = holders.iter().map(|h| h.report).collect();
        spread.sort_unstable();
        spread.dedup();
        if spread.len() > 1 {
            out.notes.push(format!(
                "the Message-ID <{}> it answers is held by messages in reports {}: the one from the same sender, or the earliest, was taken",
                crate::core::parse::flat(id),
                list(&spread)
            ));
        }
        if !reports.contains(&pick.report) {
            reports.push(pick.report);
        }
    }
    let Some(&earliest) = reports.iter().min() else {
        return Ok(out);
    };
    if reports.len() > 1 {
        reports.sort_unstable();
        out.notes.push(format!(
            "its In-Reply-To/References point into reports {}: it joined the earliest, #{earliest}",
            list(&reports)
        ));
    }
    out.report = Some(earliest);
    let reporter = reporter_of(tx, earliest, team)?;
    if let Some((reporter, reporter_dmarc)) = reporter.filter(|(r, _)| !r.is_empty()) {
        if from != reporter && !team.contains(&from) {
            out.another_sender = true;
            out.notes.push(format!(
                "another sender: {} is not the reporter ({reporter}); replies still go to the reporter",
                shown(&from)
            ));
        } else if m.auth.dmarc.as_deref() == Some("fail")
            && reporter_dmarc.as_deref() != Some("fail")
        {
            out.another_sender = true;
            out.notes.push(dmarc_failed(m, &from, &reporter));
        } else {
            out.from_reporter = from == reporter;
        }
    }
    Ok(out)
}

/// The note on a follow-up from the reporter's From that failed DMARC: whose check said so.
fn dmarc_failed(m: &ParsedMessage, from: &str, reporter: &str) -> String {
    let check = match (&m.auth.standing, &m.auth.authserv_id) {
        (Standing::Configured, Some(id)) => {
            format!("the receiving server's DMARC check ({})", flat(id))
        }
        _ => "DMARC, as its own Authentication-Results field says (unverified: no [sync] authserv_id)".to_string(),
    };
    format!(
        "another sender: its From ({}) failed {check}, so it may not be from them; replies still go to the reporter ({reporter})",
        shown(from)
    )
}

/// The ids `m` answers, each once, nearest first (In-Reply-To, then References from its end:
/// RFC 5322 §3.6.4 ends it with the parent), never its own, and no more than a thread
/// needs: one References field that repeated an id 10,000 times looked it up 10,000 times
/// and left as many notes (1.3 MB) on the message.
fn named_ids(m: &ParsedMessage) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    m.in_reply_to
        .iter()
        .chain(m.references.iter().rev())
        .map(String::as_str)
        .filter(|id| Some(*id) != m.message_id.as_deref())
        .filter(|id| seen.insert(*id))
        .take(MAX_NAMED_IDS)
        .collect()
}

/// The reporter of a report, as `core::address::key` compares it: the sender of its first incoming message that is
/// not the team's own (as `core::reply::recipients` addresses it), else of its first; with
/// that message's DMARC verdict.
fn reporter_of(
    tx: &Transaction<'_>,
    report: i64,
    team: &[String],
) -> Result<Option<(String, Option<String>)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT secdesk_address_key(from_addr), dmarc FROM messages
         WHERE report_id = ?1 AND direction = 'in' ORDER BY id",
    )?;
    let mut rows = stmt.query([report])?;
    let mut first = None;
    while let Some(row) = rows.next()? {
        let from: String = row.get(0)?;
        let dmarc: Option<String> = row.get(1)?;
        if !team.contains(&from) {
            return Ok(Some((from, dmarc)));
        }
        first.get_or_insert((from, dmarc));
    }
    Ok(first)
}

/// The stored incoming or outgoing messages holding Message-ID `id`, oldest first.
fn holders(tx: &Transaction<'_>, id: &str) -> Result<Vec<Holder>> {
    let mut stmt = tx.prepare_cached(
        "SELECT report_id, secdesk_address_key(from_addr) FROM messages
         WHERE message_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Holder {
            report: r.get(0)?,
            from: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn shown(addr: &str) -> String {
    if addr.is_empty() {
        "an unknown sender".to_string()
    } else {
        crate::core::parse::flat(addr)
    }
}

fn list(reports: &[i64]) -> String {
    reports
        .iter()
        .map(|r| format!("#{r}"))
        .collect::<Vec<_>>()
        .join(", ")
}
