//! The CSV rows of the yearly figures, in the same `section,key,field,value` shape as
//! [`super::to_csv`] and appended to it; every cell formula-guarded.

use super::period::{Share, Span, YearFigures};
use crate::core::sanitize::csv_record;

/// The rows, CRLF-terminated, without a header.
pub fn to_csv_rows(f: &YearFigures) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row = |section: &str, key: &str, field: &str, value: String| {
        rows.push([section.into(), key.into(), field.into(), value]);
    };
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    row("by", "", "value", format!("{:?}", f.by).to_lowercase());
    for p in &f.by_period {
        for (field, v) in [
            ("spam", Some(p.spam as f64)),
            ("invalid", Some(p.invalid as f64)),
            ("valid", Some(p.valid as f64)),
            ("unclassified", Some(p.unclassified as f64)),
            ("acknowledge_efficiency", p.acknowledge_efficiency),
            ("triage_efficiency", p.triage_efficiency),
            ("close_efficiency", p.close_efficiency),
            ("first_response_median_hours", p.first_response_median_hours),
        ] {
            row("by_period", &p.period, field, opt(v));
        }
    }
    let e = &f.response_efficiency;
    let shares: [(&str, &Share); 5] = [
        ("acknowledge", &e.acknowledge),
        ("triage", &e.triage),
        ("close", &e.close),
        ("coordinator", &e.coordinator),
        ("finish", &e.finish),
    ];
    for (key, s) in shares {
        row("response_efficiency", key, "met", s.met.to_string());
        row("response_efficiency", key, "missed", s.missed.to_string());
        row("response_efficiency", key, "share", opt(s.share));
    }
    let spans: [(&str, &str, &Span); 6] = [
        (
            "response_times",
            "first_response",
            &f.response_times.first_response,
        ),
        ("response_times", "triage", &f.response_times.triage),
        ("response_times", "close", &f.response_times.close),
        ("time_to_fix", "", &f.time_to_fix),
        ("time_to_disclose", "", &f.time_to_disclose),
        ("moderation", "time_to_clear", &f.moderation.time_to_clear),
    ];
    for (section, key, s) in spans {
        row(section, key, &format!("median_{}", s.unit), opt(s.median));
        row(section, key, &format!("p90_{}", s.unit), opt(s.p90));
        row(section, key, "count", s.count.to_string());
        row(section, key, &format!("target_{}", s.unit), opt(s.target));
    }
    for (reason, n) in &f.invalid_reasons {
        row("invalid_reasons", reason, "count", n.to_string());
    }
    row("excluded", "spam", "count", f.excluded.spam.to_string());
    row(
        "excluded",
        "historical",
        "count",
        f.excluded.historical.to_string(),
    );
    for m in &f.members {
        row("members", &m.email, "name", m.name.clone());
        row(
            "members",
            &m.email,
            "coordinated",
            m.coordinated.to_string(),
        );
        row("members", &m.email, "notes", m.notes.to_string());
        row("members", &m.email, "replies", m.replies.to_string());
        row(
            "members",
            &m.email,
            "last_activity",
            m.last_activity.clone().unwrap_or_default(),
        );
        row("members", &m.email, "inactive", m.inactive.to_string());
    }
    let mut out = String::new();
    for r in rows {
        out.push_str(&csv_record(&r));
    }
    out
}
