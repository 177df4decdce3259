//! The yearly part of `secdesk stats` (issue 15): its table sections, the JSON object that
//! merges it with the older keys, and the `--svg`/`--html` charts.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::core::config::ClockConfig;
use crate::core::sanitize::terminal_line;
use crate::core::stats::period::{Efficiency, Member, Share, Span, YearFigures};
use crate::core::stats::{chart, Stats};

use super::output;

/// `stats --format json`: the older keys and the yearly ones side by side.
#[derive(Serialize)]
pub struct Full<'a> {
    #[serde(flatten)]
    pub stats: &'a Stats,
    #[serde(flatten)]
    pub year: &'a YearFigures,
}

/// Draws the charts into the files asked for, each written whole or not at all.
pub fn write_charts(
    year: &YearFigures,
    clocks: &ClockConfig,
    svg: Option<&Path>,
    html: Option<&Path>,
) -> anyhow::Result<()> {
    if svg.is_none() && html.is_none() {
        return Ok(());
    }
    let drawing = chart::svg(year, clocks.acknowledge_days * 24.0)?;
    if let Some(path) = svg {
        output::write_whole(path, &drawing)?;
    }
    if let Some(path) = html {
        output::write_whole(
            path,
            &chart::html(year, &drawing, "Security reports: the year in numbers"),
        )?;
    }
    Ok(())
}

/// The yearly section's close time, spam left out: not the older section's
/// `stats::CLOSE_ALL`.
pub const CLOSE_REPORTS: &str = "to close (no spam)";

/// The yearly sections of the table.
pub fn print_table(out: &mut impl Write, f: &YearFigures) -> anyhow::Result<()> {
    print_periods(out, f)?;
    print_efficiency(out, &f.response_efficiency)?;
    print_spans(out, f)?;
    if !f.invalid_reasons.is_empty() {
        writeln!(out, "\ninvalid reasons")?;
        for (reason, n) in &f.invalid_reasons {
            writeln!(out, "  {reason:<28} {n:>6}")?;
        }
    }
    print_members(out, &f.members)
}

/// A share as a whole percentage, or `-` when no report decided it.
fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// One row per period (`--by`): the intake per class and the share of each clock met.
fn print_periods(out: &mut impl Write, f: &YearFigures) -> anyhow::Result<()> {
    // The first column is as wide as its header, which a long zone name widens: the
    // figures stay under their headers.
    let label = format!(
        "per {}, {}",
        format!("{:?}", f.by).to_lowercase(),
        f.time_zone
    );
    let width = label.chars().count().max(16);
    writeln!(
        out,
        "\n{label:<width$} spam invalid  valid unclassified  ack met  triage met  close met"
    )?;
    for p in &f.by_period {
        writeln!(
            out,
            "  {:<first$} {:>6} {:>7} {:>6} {:>12} {:>8} {:>11} {:>10}",
            p.period,
            p.spam,
            p.invalid,
            p.valid,
            p.unclassified,
            percent(p.acknowledge_efficiency),
            percent(p.triage_efficiency),
            percent(p.close_efficiency),
            first = width - 2
        )?;
    }
    Ok(())
}

/// Per clock, how many reports met its target, how many missed it, and the share met.
fn print_efficiency(out: &mut impl Write, e: &Efficiency) -> anyhow::Result<()> {
    writeln!(out, "\nresponse efficiency      met missed  share")?;
    let rows: [(&str, &Share); 5] = [
        ("acknowledge", &e.acknowledge),
        ("triage", &e.triage),
        ("close", &e.close),
        ("coordinator", &e.coordinator),
        ("finish", &e.finish),
    ];
    for (name, s) in rows {
        writeln!(
            out,
            "  {name:<20} {:>6} {:>6} {:>6}",
            s.met,
            s.missed,
            percent(s.share)
        )?;
    }
    Ok(())
}

/// How long each step took (median, p90, count) against its target, without spam and
/// historical reports.
fn print_spans(out: &mut impl Write, f: &YearFigures) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nwithout spam ({}) and historical reports ({})   median     p90  count  target",
        f.excluded.spam, f.excluded.historical
    )?;
    let spans: [(&str, &Span); 6] = [
        ("to first response", &f.response_times.first_response),
        ("to triage", &f.response_times.triage),
        (CLOSE_REPORTS, &f.response_times.close),
        ("to fix", &f.time_to_fix),
        ("to disclose", &f.time_to_disclose),
        ("to clear (moderation)", &f.moderation.time_to_clear),
    ];
    let v = |x: Option<f64>| x.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
    for (name, s) in spans {
        writeln!(
            out,
            "  {name:<22} {:>5} {:>8} {:>8} {:>6} {:>7}",
            s.unit,
            v(s.median),
            v(s.p90),
            s.count,
            v(s.target)
        )?;
    }
    Ok(())
}

/// Each member's reports coordinated, notes, replies and latest activity, marked INACTIVE
/// after 12 months without any.
fn print_members(out: &mut impl Write, members: &[Member]) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nmembers                  coordinated notes replies  last activity"
    )?;
    for m in members {
        writeln!(
            out,
            "  {:<24} {:>8} {:>5} {:>7}  {}{}",
            terminal_line(&m.name),
            m.coordinated,
            m.notes,
            m.replies,
            m.last_activity.as_deref().unwrap_or("never"),
            if m.inactive { "  INACTIVE" } else { "" }
        )?;
    }
    Ok(())
}
