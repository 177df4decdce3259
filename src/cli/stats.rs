//! `secdesk stats [--since DATE] [--until DATE] [--format table|csv|json]`: team figures for
//! a period, for people (table), spreadsheets (CSV, formula-guarded) or scripts (JSON).
//! Days, weeks, months and years are UTC ones (`core::stats::TIME_ZONE`) unless `--tz` or
//! `[stats] time_zone` names another zone, and every format says which.

use std::io::Write;
use std::process::ExitCode;

use chrono::{NaiveDate, Utc};

use crate::core::moderation::stats::ModerationStats;
use crate::core::sanitize::terminal_line;
use crate::core::stats::{self, Period, Stats, TimeFigures, Zone};

use super::{output, stats_year, Context};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// First day of the period (YYYY-MM-DD, a day in the --tz zone, UTC by default): reports
    /// that arrived on or after it.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day of the period (YYYY-MM-DD, a day in the --tz zone, UTC by default), included.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// How to print the figures: a table for people, CSV for a spreadsheet (one row per
    /// figure, CRLF line ends, formula-safe cells), or one JSON object for scripts.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Same as --format json.
    #[arg(long, conflicts_with_all = ["format", "csv"])]
    pub json: bool,
    /// Same as --format csv.
    #[arg(long, conflicts_with = "format")]
    pub csv: bool,
    /// Group intake and clocks by week, month, quarter or year (`by_period`), cut at
    /// midnight in the --tz zone (UTC by default: a report sent at 23:30 on 31 December in
    /// UTC-5 then counts in the next year).
    #[arg(long, value_name = "PERIOD", default_value = "week",
          value_parser = |s: &str| s.parse::<stats::period::By>())]
    pub by: stats::period::By,
    /// Also draw the charts (intake by class, response times against targets, clock
    /// efficiency) into FILE as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
    /// Also write one self-contained HTML page (charts and tables) into FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Count historical reports (imported closed) in response times and clocks too.
    #[arg(long)]
    pub historical: bool,
    /// The time zone days, weeks, months, quarters and years are cut in: an IANA name
    /// (Europe/Berlin, America/New_York), UTC, or local (this machine's zone). Every output
    /// names it (`time_zone` in the JSON). Default: `[stats] time_zone` in the config, else
    /// UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

fn date(flag: &str, text: Option<&str>) -> anyhow::Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
            super::exit::usage(format!(
                "--{flag} {t:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01"
            ))
        })
    })
    .transpose()
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (since, until) = (
        date("since", args.since.as_deref())?,
        date("until", args.until.as_deref())?,
    );
    if let (Some(s), Some(u)) = (since, until) {
        if s > u {
            return Err(super::exit::usage(format!(
                "--since {s} is after --until {u}: swap them"
            )));
        }
    }
    let tz = args
        .tz
        .as_deref()
        .map(|t| {
            // `local` is the system's zone: failing to read it is the machine's matter, not
            // the command line's.
            Zone::parse(t).map_err(|e| match t.eq_ignore_ascii_case("local") {
                true => anyhow::anyhow!("--tz: {e}"),
                false => super::exit::usage(format!("--tz: {e}")),
            })
        })
        .transpose()?;
    let (config, store) = ctx.read_store()?;
    let period = Period {
        since,
        until,
        with_historical: args.historical,
        zone: tz.unwrap_or_else(|| config.stats_zone()),
    };
    let now = Utc::now();
    let figures = stats::compute(&store, period.clone(), &config.clocks, now)?;
    let year = stats::period::compute(
        &store,
        period,
        args.by,
        &config.clocks,
        &config.members(),
        now,
    )?;
    stats_year::write_charts(
        &year,
        &config.clocks,
        args.svg.as_deref(),
        args.html.as_deref(),
    )?;
    let format = match (args.json, args.csv) {
        (true, _) => Format::Json,
        (_, true) => Format::Csv,
        _ => args.format,
    };
    match format {
        Format::Json => output::print_json(&stats_year::Full {
            stats: &figures,
            year: &year,
        })?,
        Format::Csv => std::io::stdout()
            .lock()
            .write_all((stats::to_csv(&figures) + &stats::to_csv_rows(&year)).as_bytes())?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            print_table(&mut out, &figures, &year.moderation.held)?;
            stats_year::print_table(&mut out, &year)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The older section's close time, spam closures counted: not the yearly section's
/// `stats_year::CLOSE_REPORTS`.
pub const CLOSE_ALL: &str = "to close (all, spam included)";

/// The table's sections for the period: counts, intake per week, times, clocks over target,
/// who cleared what, and the held queue.
fn print_table(out: &mut impl Write, s: &Stats, held: &ModerationStats) -> anyhow::Result<()> {
    writeln!(
        out,
        "period {} .. {} ({} days, weeks, months and years): {} reports, {} overdue now",
        s.since.as_deref().unwrap_or("start"),
        s.until.as_deref().unwrap_or("now"),
        s.time_zone,
        s.reports,
        s.overdue
    )?;
    if s.historical > 0 {
        writeln!(
            out,
            "{} historical (imported closed): counted by state, class and week; in the times \
             and clocks only with --historical",
            s.historical
        )?;
    }
    for (title, counts) in [
        ("by state", &s.by_state),
        ("by class", &s.by_class),
        ("by coordinator", &s.by_coordinator),
    ] {
        writeln!(out, "\n{title}")?;
        for (k, n) in counts.iter().filter(|(_, n)| **n > 0) {
            writeln!(out, "  {:<28} {n:>6}", terminal_line(k))?;
        }
    }
    // The first column is as wide as its header, which a long zone name widens: the
    // figures stay under their headers.
    let label = format!("intake per {} week", s.time_zone);
    let width = label.chars().count().max(19);
    writeln!(out, "\n{label:<width$} spam invalid  valid unclassified")?;
    for w in &s.weekly {
        writeln!(
            out,
            "  {:<first$} {:>6} {:>7} {:>6} {:>12}",
            w.week,
            w.spam,
            w.invalid,
            w.valid,
            w.unclassified,
            first = width - 3
        )?;
    }
    // Spam counts in these times (closing as spam closes the report), unlike the yearly
    // section's `response_times`: the labels say which is which.
    writeln!(
        out,
        "\n{:<35}median      p90  count",
        "hours (spam included)"
    )?;
    for (name, f) in [
        ("to first response", &s.time_to_first_response),
        ("to triage", &s.time_to_triage),
        (CLOSE_ALL, &s.time_to_close),
    ] {
        writeln!(out, "  {name:<29} {}", figures(f))?;
    }
    let o = &s.over_target;
    writeln!(
        out,
        "\nover target: acknowledge {}, triage {}, close {}",
        o.acknowledge, o.triage, o.close
    )?;
    if !s.cleared_by.is_empty() {
        writeln!(out, "\ncleared by             spam invalid")?;
        for (who, c) in &s.cleared_by {
            writeln!(
                out,
                "  {:<20} {:>6} {:>7}",
                terminal_line(who),
                c.spam,
                c.invalid
            )?;
        }
    }
    print_held(out, held)
}

/// The held queue's section: what moderators did, how long posts were held, and who
/// cleared them; nothing when no post was moderated.
fn print_held(out: &mut impl Write, m: &ModerationStats) -> anyhow::Result<()> {
    if m.actions.values().any(|n| *n > 0) {
        let actions: Vec<String> = m.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
        writeln!(out, "\nheld queue: {}", actions.join(", "))?;
        writeln!(out, "  time held          {}", figures(&m.time_held))?;
        writeln!(out, "  cleared by         accepted discarded rejected")?;
        for (who, c) in &m.cleared_by {
            writeln!(
                out,
                "  {:<18} {:>8} {:>9} {:>8}",
                terminal_line(who),
                c.accepted,
                c.discarded,
                c.rejected
            )?;
        }
    }
    Ok(())
}

fn figures(f: &TimeFigures) -> String {
    let h = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    format!(
        "{:>9} {:>8} {:>6}",
        h(f.median_hours),
        h(f.p90_hours),
        f.count
    )
}
