//! The embargo: how long is left, and the warnings the linux-distros list's policy calls for
//! (at most 14 days from the first notification, and an end that does not fall on a Friday
//! to Sunday, when nobody is there to ship a fix).

use chrono::{DateTime, Datelike, Utc, Weekday};
use serde::Serialize;

use super::fields::parse_when;
use super::Advisory;

/// The longest embargo the linux-distros list accepts, in days from the first notification.
pub const MAX_DAYS: i64 = 14;

/// An embargo's state, for `advisory --json`, the queue and the report view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embargo {
    /// RFC 3339.
    pub until: String,
    /// Whole days left (negative once past); the countdown.
    pub days_left: i64,
    /// RFC 3339, the first `notified` entry.
    pub first_notified: Option<String>,
    pub warnings: Vec<String>,
}

/// The embargo of an advisory, when `embargo_until` is set.
pub fn embargo(a: &Advisory, now: DateTime<Utc>) -> Option<Embargo> {
    let until = parse_when(a.embargo_until.as_deref()?)?;
    let first = a.notified.iter().filter_map(|n| parse_when(&n.at)).min();
    let mut warnings = Vec::new();
    if let Some(first) = first {
        let days = (until - first).num_hours() as f64 / 24.0;
        if days > MAX_DAYS as f64 {
            warnings.push(format!(
                "the embargo runs {days:.0} days from the first notification ({}), past the {MAX_DAYS} days linux-distros allows",
                first.format("%Y-%m-%d")
            ));
        }
    }
    let weekday = until.weekday();
    if matches!(weekday, Weekday::Fri | Weekday::Sat | Weekday::Sun) {
        warnings.push(format!(
            "the embargo ends on a {} ({}): move it to Monday to Thursday",
            weekday_name(weekday),
            until.format("%Y-%m-%d")
        ));
    }
    Some(Embargo {
        until: crate::core::store::timestamp(until),
        days_left: (until - now).num_days(),
        first_notified: first.map(crate::core::store::timestamp),
        warnings,
    })
}

/// The embargo of every report that has one, for the queue's countdown.
pub fn all(
    conn: &rusqlite::Connection,
    now: DateTime<Utc>,
) -> rusqlite::Result<std::collections::HashMap<i64, Embargo>> {
    let mut stmt = conn.prepare(
        "SELECT report_id, fields FROM advisories WHERE fields LIKE '%\"embargo_until\":\"%'",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (id, fields) = row?;
        // An unreadable row has no countdown here; `advisory ID` names the problem.
        if let Ok(a) = serde_json::from_str::<Advisory>(&fields) {
            out.extend(embargo(&a, now).map(|e| (id, e)));
        }
    }
    Ok(out)
}

/// The queue's mark for the PEP 811 finish clock: days left once 14 or fewer remain, with
/// `!` from 7 (the team bot's two reminders), or `OVERDUE`.
pub fn finish_mark(finish: Option<&str>, now: DateTime<Utc>) -> Option<String> {
    let due = crate::core::store::parse_timestamp(finish?)?;
    if due < now {
        return Some("finish OVERDUE".to_string());
    }
    let left = (due - now).num_days();
    match left {
        0..=7 => Some(format!("finish in {left}d!")),
        8..=14 => Some(format!("finish in {left}d")),
        _ => None,
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}
