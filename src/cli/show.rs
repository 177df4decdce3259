//! `secdesk show ID [--json]`: one report whole. The thread interleaves reporter mail, our
//! replies and team notes by time, each kind marked differently so a note is never mistaken
//! for something the reporter saw. Everything printed passes through the terminal sanitizer.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;

use crate::core::classify::similar::{similar_reports, Similar};
use crate::core::clocks::ClockState;
use crate::core::pgp::{PgpInfo, Signature};
use crate::core::sanitize::{terminal_line, terminal_text};
use crate::core::triage::view::ClassifierView;
use crate::core::triage::{self, ReportDetail};

use super::{output, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report to show (its number, as `list` shows it; `#5` works too).
    #[arg(value_parser = super::output::report_id)]
    pub id: i64,
    /// Print the report as a JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (config, store) = ctx.read_store()?;
    let detail = triage::report_detail(&store, args.id, &config.clocks, Utc::now())
        .map_err(|e| Context::in_damaged(&store, args.id, e.into()))?;
    // Duplicate suggestions (core::classify::similar): earlier reports, best first.
    let similar = similar_reports(store.conn(), args.id)?;
    let now = Utc::now();
    if args.json {
        let with_similar = WithSimilar {
            detail: &detail,
            similar,
        };
        output::print_json(&super::team::with_replying(
            &store,
            args.id,
            &with_similar,
            now,
        )?)?;
    } else {
        let mut out = std::io::stdout().lock();
        print_report(&mut out, &detail)?;
        super::advisory::print_summary(&mut out, &store, args.id)?;
        if let Some(line) = super::team::replying_line(&config, &store, args.id, now)? {
            writeln!(out, "{line}")?;
        }
        if !similar.is_empty() {
            let ids: Vec<String> = similar
                .iter()
                .map(|s| format!("#{} ({:.2})", s.id, s.score))
                .collect();
            writeln!(out, "\nsimilar earlier reports: {}", ids.join(", "))?;
        }
        if !detail.events.is_empty() {
            writeln!(out, "\naudit log (oldest first):")?;
            super::log::write_events(&mut out, &detail.events, "  ")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `show --json`: the report, plus `similar`: `[{"id": N, "score": S}]`, best first.
#[derive(serde::Serialize)]
struct WithSimilar<'a> {
    #[serde(flatten)]
    detail: &'a ReportDetail,
    similar: Vec<Similar>,
}

/// One entry of the thread as shown: when, what kind, header, body.
struct Entry<'a> {
    at: &'a str,
    kind: EntryKind,
    header: String,
    /// The sender authentication and whose word it is (`AuthView::line`).
    auth: Option<String>,
    /// What could not be parsed or trusted, and the Date header when it was not used.
    notes: Vec<String>,
    body: &'a str,
}

#[derive(Clone, Copy)]
enum EntryKind {
    ReporterMail,
    /// Mail into the thread from an address that is not the reporter's.
    AnotherSender,
    /// Mail into the thread from one of the team's addresses (a member's reply, on Cc).
    TeamMail,
    OurReply,
    TeamNote,
}

impl EntryKind {
    /// The banner over the entry, and the prefix of each body line.
    fn marks(self) -> (&'static str, &'static str) {
        match self {
            EntryKind::ReporterMail => ("MAIL from the reporter", "  │ "),
            EntryKind::AnotherSender => (
                "MAIL from ANOTHER SENDER, not the reporter (replies do not go here)",
                "  ! ",
            ),
            EntryKind::TeamMail => ("MAIL from the team (a member's reply or forward)", "  » "),
            EntryKind::OurReply => ("REPLY sent by us", "  » "),
            EntryKind::TeamNote => ("TEAM NOTE, internal, never sent", "  # "),
        }
    }
}

/// `show` without `--json`: the report's fields, what links it to other reports, then the
/// thread.
fn print_report(out: &mut impl Write, d: &ReportDetail) -> anyhow::Result<()> {
    print_heading(out, d)?;
    writeln!(out, "subject: {}", terminal_line(&d.subject))?;
    writeln!(out, "from:    {}", terminal_line(&d.from))?;
    writeln!(out, "arrived: {}", d.created_at)?;
    let closed = d.state.is_closed();
    if let Some(c) = &d.clocks {
        writeln!(
            out,
            "clocks:  acknowledge {}; triage {}; close {}",
            clock(&c.acknowledge, closed),
            clock(&c.triage, closed),
            clock(&c.close, closed)
        )?;
    }
    print_classifier(out, &d.classifier)?;
    // A post held by the mailing list: what its moderators did (`secdesk held`).
    for e in d.events.iter().filter(|e| e.kind == "moderation") {
        writeln!(
            out,
            "moderation: {} by {} at {} ({})",
            terminal_line(e.after.as_deref().unwrap_or("-")),
            terminal_line(&e.actor),
            e.at,
            terminal_line(e.detail.as_deref().unwrap_or("-"))
        )?;
    }
    if let Some(o) = d.duplicate_of {
        writeln!(out, "duplicate of #{o}")?;
    }
    // Two members' changes would have hidden it behind spam (docs/team.md).
    for e in d.events.iter().filter(|e| {
        e.kind == "conflict" && e.before.as_deref() == Some(crate::core::team::hold::HELD_MARK)
    }) {
        writeln!(
            out,
            "held open: {}",
            terminal_line(e.detail.as_deref().unwrap_or("-"))
        )?;
    }
    if !d.duplicates.is_empty() {
        let ids: Vec<String> = d.duplicates.iter().map(|i| format!("#{i}")).collect();
        writeln!(out, "duplicates: {}", ids.join(", "))?;
    }
    print_thread(out, d)
}

/// The report's triage fields in one line, then the warnings that must be read before the
/// thread: another sender in it, a bad signature on one of its messages.
fn print_heading(out: &mut impl Write, d: &ReportDetail) -> anyhow::Result<()> {
    let state = match d.invalid_reason {
        Some(r) => format!("{} ({r})", d.state),
        None => d.state.to_string(),
    };
    let class = match (d.class, d.class_confirmed) {
        (Some(c), true) => format!("{c} (confirmed)"),
        (Some(c), false) => format!("{c} (suggested)"),
        (None, _) => "-".into(),
    };
    writeln!(
        out,
        "report #{}  state {state}  class {class}  coordinator {}  version {}{}",
        d.id,
        terminal_line(d.coordinator.as_deref().unwrap_or("-")),
        d.version,
        if d.flagged {
            "  [reporter replied]"
        } else {
            ""
        },
    )?;
    if d.another_sender {
        writeln!(
            out,
            "warning: another sender wrote into this thread (marked below); replies go to the reporter only"
        )?;
    }
    if d.messages.iter().any(|m| m.pgp.signature == Signature::Bad) {
        writeln!(
            out,
            "!!! WARNING: BAD PGP SIGNATURE on a message below: it does not verify; do not trust its signed text !!!"
        )?;
    }
    if d.messages.iter().any(|m| m.pgp.signer_not_sender) {
        writeln!(
            out,
            "warning: a message below is signed by a key that is NOT its sender's: the signature does not show who wrote it"
        )?;
    }
    Ok(())
}

/// The classifier's verdict, outcome and spam score, with its reasons; nothing when it
/// gave none.
fn print_classifier(out: &mut impl Write, cl: &ClassifierView) -> anyhow::Result<()> {
    if cl.class.is_some() || cl.outcome.is_some() {
        let score = cl
            .score
            .map(|s| format!(", spam score {s:.2}"))
            .unwrap_or_default();
        writeln!(
            out,
            "classifier: {} ({}{score}){}",
            cl.class.as_deref().unwrap_or("-"),
            cl.outcome.as_deref().unwrap_or("-"),
            if cl.reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", terminal_line(&cl.reasons.join("; ")))
            }
        )?;
    }
    Ok(())
}

/// The thread, oldest first: each entry's banner says whose it is, and each body line
/// carries its kind's prefix.
fn print_thread(out: &mut impl Write, d: &ReportDetail) -> anyhow::Result<()> {
    for e in thread(d) {
        let (banner, prefix) = e.kind.marks();
        writeln!(out)?;
        writeln!(out, "── {banner} · {} · {}", e.at, terminal_line(&e.header))?;
        if let Some(auth) = &e.auth {
            writeln!(out, "  {}", terminal_line(auth))?;
        }
        for note in &e.notes {
            writeln!(out, "  ⚠ {}", terminal_line(note))?;
        }
        for line in terminal_text(e.body).lines() {
            writeln!(out, "{prefix}{line}")?;
        }
    }
    Ok(())
}

/// Messages and notes in time order.
fn thread(d: &ReportDetail) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = d
        .messages
        .iter()
        .map(|m| {
            let mut header = format!("{} · {}", m.from, m.subject);
            for a in &m.attachments {
                header += &format!(
                    " · attachment {} ({}, {} bytes)",
                    a.name.as_deref().unwrap_or("unnamed"),
                    a.content_type,
                    a.size
                );
            }
            let mut notes = Vec::new();
            if m.pgp != PgpInfo::default() {
                notes.push(m.pgp.line());
            }
            if m.attachments.iter().any(|a| a.public_key) {
                notes.push(crate::core::pgp::keys::attached_line(d.id));
            }
            notes.extend(m.parse_notes.iter().cloned());
            if let Some(original) = &m.date_header {
                notes.push(format!("Date header as sent: {original}"));
            }
            Entry {
                at: &m.received_at,
                kind: if m.direction == "out" {
                    EntryKind::OurReply
                } else if m.another_sender {
                    EntryKind::AnotherSender
                } else if m.from_team {
                    EntryKind::TeamMail
                } else {
                    EntryKind::ReporterMail
                },
                header,
                auth: m.auth.line(),
                notes,
                body: &m.body,
            }
        })
        .chain(d.notes.iter().map(|n| Entry {
            at: &n.at,
            kind: EntryKind::TeamNote,
            header: n.author.clone(),
            auth: None,
            notes: Vec::new(),
            body: &n.text,
        }))
        .collect();
    entries.sort_by(|a, b| a.at.cmp(b.at));
    entries
}

fn clock(c: &ClockState, closed: bool) -> String {
    match (&c.met_at, c.overdue, c.over_target) {
        (Some(at), _, true) => format!("met late {at}"),
        (Some(at), _, false) => format!("met {at}"),
        (None, _, _) if closed => "stopped (closed)".into(),
        (None, true, _) => format!("OVERDUE since {}", c.due),
        (None, false, _) => format!("due {}", c.due),
    }
}
