//! The CSV form of the stats (RFC 4180): one figure per row, `section,key,field,value`.
//! Every row goes through [`csv_record`] (each cell through `csv_cell`), so a coordinator or moderator name cannot smuggle a
//! formula into a spreadsheet.

use super::{Stats, TimeFigures};
use crate::core::sanitize::csv_record;

/// The stats as CSV text, header first, CRLF line ends.
pub fn to_csv(stats: &Stats) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row = |section: &str, key: &str, field: &str, value: String| {
        rows.push([section.into(), key.into(), field.into(), value]);
    };
    row(
        "period",
        "since",
        "date",
        stats.since.clone().unwrap_or_default(),
    );
    row(
        "period",
        "until",
        "date",
        stats.until.clone().unwrap_or_default(),
    );
    row("period", "time_zone", "name", stats.time_zone.to_string());
    row("reports", "", "count", stats.reports.to_string());
    for (section, counts) in [
        ("by_state", &stats.by_state),
        ("by_class", &stats.by_class),
        ("by_coordinator", &stats.by_coordinator),
    ] {
        for (key, n) in counts {
            row(section, key, "count", n.to_string());
        }
    }
    for w in &stats.weekly {
        for (field, n) in [
            ("spam", w.spam),
            ("invalid", w.invalid),
            ("valid", w.valid),
            ("unclassified", w.unclassified),
        ] {
            row("weekly", &w.week, field, n.to_string());
        }
    }
    let figures: [(&str, &TimeFigures); 3] = [
        ("time_to_first_response", &stats.time_to_first_response),
        ("time_to_triage", &stats.time_to_triage),
        ("time_to_close", &stats.time_to_close),
    ];
    let hours = |h: Option<f64>| h.map(|h| h.to_string()).unwrap_or_default();
    for (section, f) in figures {
        row(section, "", "median_hours", hours(f.median_hours));
        row(section, "", "p90_hours", hours(f.p90_hours));
        row(section, "", "count", f.count.to_string());
        // Unlike `response_times`, which leaves spam out.
        row(section, "", "spam", "included".into());
    }
    let o = &stats.over_target;
    for (key, n) in [
        ("acknowledge", o.acknowledge),
        ("triage", o.triage),
        ("close", o.close),
    ] {
        row("over_target", key, "count", n.to_string());
    }
    row("overdue", "", "count", stats.overdue.to_string());
    for (who, c) in &stats.cleared_by {
        row("cleared_by", who, "spam", c.spam.to_string());
        row("cleared_by", who, "invalid", c.invalid.to_string());
    }
    let mut out = csv_record(&["section", "key", "field", "value"]);
    for r in rows {
        out.push_str(&csv_record(&r));
    }
    out
}
