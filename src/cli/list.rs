//! `secdesk list`: reports, newest first, with filters by state, class, coordinator and
//! clocks.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::core::advisory::embargo::{self, Embargo};
use crate::core::model::{Class, ReportState};
use crate::core::pep811;
use crate::core::report_list::{self, ListEntry};
use crate::core::sanitize::{csv_record, terminal_line};
use crate::core::store::reports::{ListFilter, ReportSummary};

use super::{change, output, Context};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (RFC 4180) for a spreadsheet; cells a spreadsheet would run as a formula
    /// are prefixed with `'`.
    #[arg(long)]
    pub csv: bool,
    /// Only reports whose subject, sender or body hold all these words, each as a prefix
    /// (`traver` finds traversal); words joined by punctuation, such as http.server or
    /// user@example.com, match as written, whatever punctuation joins them.
    #[arg(long, value_name = "WORDS")]
    pub search: Option<String>,
    /// Only reports in these states (repeat, or separate with commas).
    #[arg(long, value_name = "STATE", value_delimiter = ',')]
    pub state: Vec<String>,
    /// Only reports of these classes: spam, invalid, valid (repeat, or separate with commas).
    #[arg(long, value_name = "CLASS", value_delimiter = ',')]
    pub class: Vec<String>,
    /// Only reports I coordinate.
    #[arg(long, conflicts_with = "unassigned")]
    pub mine: bool,
    /// Only reports nobody coordinates.
    #[arg(long)]
    pub unassigned: bool,
    /// Only open reports past a response deadline.
    #[arg(long)]
    pub overdue: bool,
    /// Only open reports with a deadline (acknowledge, triage, close, or PEP 811's
    /// coordinator and finish) within SPAN from now, or already past: e.g. 14d, 2w, 36h.
    #[arg(long, value_name = "SPAN", value_parser = |s: &str| crate::core::pep811::parse_span(s))]
    pub due: Option<chrono::Duration>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    // Check the words before opening anything, so a typo gets a one-line answer.
    let states = args
        .state
        .iter()
        .map(|s| change::parse::<ReportState>(s).map(|s| s.to_string()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let classes = args
        .class
        .iter()
        .map(|c| change::parse::<Class>(c).map(|c| c.to_string()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (config, store) = ctx.read_store()?;
    let filter = ListFilter {
        search: args.search,
        states,
        classes,
        coordinator: args.mine.then(|| config.my_email()),
        unassigned: args.unassigned,
        ..ListFilter::default()
    };
    let now = Utc::now();
    let mut entries = report_list::with_clocks(&store, &filter, args.overdue, &config.clocks, now)?;
    if let Some(span) = args.due {
        entries.retain(|e| pep811::next_due(&e.deadlines).is_some_and(|d| d <= now + span));
    }
    if args.json {
        output::print_json(&entries)?;
    } else if args.csv {
        print_csv(&entries)?;
    } else {
        let embargoes = embargo::all(store.conn(), now)?;
        print_queue(&entries, &embargoes, now)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The queue as a table: `!` marks overdue reports, `*` a reporter's unread answer; at the
/// end, the PEP 811 finish clock once 14 days or fewer are left, and the embargo countdown.
pub fn print_queue(
    entries: &[ListEntry],
    embargoes: &HashMap<i64, Embargo>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:>5}   {:<16}  {}", "id", "coordinator", header())?;
    for e in entries {
        let r = &e.report;
        let marks = format!(
            "{}{}",
            if e.overdue { "!" } else { " " },
            if r.flagged { "*" } else { " " }
        );
        let mut tail: Vec<String> = Vec::new();
        tail.extend(embargo::finish_mark(e.deadlines.finish.as_deref(), now));
        if let Some(em) = embargoes.get(&r.id) {
            tail.push(format!("embargo {}d", em.days_left));
        }
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("  [{}]", tail.join(", "))
        };
        writeln!(
            out,
            "{:>5}{marks} {:<16.16}  {}{tail}",
            r.id,
            terminal_line(r.coordinator.as_deref().unwrap_or("-")),
            row(r),
        )?;
    }
    Ok(())
}

/// The queue as CSV (RFC 4180, CRLF line ends, as `stats --format csv`). Every cell goes
/// through the formula guard: a subject such as `=HYPERLINK(...)` must stay text in the
/// team's spreadsheet.
pub fn print_csv(entries: &[ListEntry]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(
        csv_record(&[
            "id",
            "received_at",
            "state",
            "class",
            "coordinator",
            "overdue",
            "messages",
            "from",
            "subject",
        ])
        .as_bytes(),
    )?;
    for e in entries {
        let r = &e.report;
        let cells = [
            r.id.to_string(),
            r.received_at.clone(),
            r.state.clone(),
            r.class.clone().unwrap_or_default(),
            r.coordinator.clone().unwrap_or_default(),
            e.overdue.to_string(),
            r.messages.to_string(),
            r.from.clone(),
            r.subject.clone(),
        ];
        out.write_all(csv_record(&cells).as_bytes())?;
    }
    Ok(())
}

/// A plain table; every field from mail is made terminal-safe.
pub fn print_table(reports: &[ReportSummary]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:>5}  {}", "id", header())?;
    for r in reports {
        writeln!(out, "{:>5}  {}", r.id, row(r))?;
    }
    Ok(())
}

/// The column names over [`row`].
fn header() -> String {
    format!(
        "{:<10}  {:<12}  {:<7}  {:>3}  {:<30}  {}",
        "received", "state", "class", "msg", "from", "subject"
    )
}

fn row(r: &ReportSummary) -> String {
    format!(
        "{:<10}  {:<12}  {:<7}  {:>3}  {:<30.30}  {}",
        &r.received_at[..10.min(r.received_at.len())],
        r.state,
        r.class.as_deref().unwrap_or("-"),
        r.messages,
        terminal_line(&r.from),
        terminal_line(&r.subject),
    )
}
