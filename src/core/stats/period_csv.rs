//! The CSV rows of the yearly figures, in the same `section,key,field,value` shape as
//! [`super::to_csv`] and appended to it; every cell formula-guarded.

use super::period::{Efficiency, Member, PeriodFigures, Share, Span, YearFigures};
use crate::core::sanitize::csv_record;

/// The rows, CRLF-terminated, without a header.
pub fn to_csv_rows(f: &YearFigures) -> String {
    let mut rows = Rows::default();
    rows.add("by", "", "value", format!("{:?}", f.by).to_lowercase());
    rows.by_period(&f.by_period);
    rows.efficiency(&f.response_efficiency);
    rows.durations(f);
    for (reason, n) in &f.invalid_reasons {
        rows.add("invalid_reasons", reason, "count", n.to_string());
    }
    rows.add("excluded", "spam", "count", f.excluded.spam.to_string());
    rows.add(
        "excluded",
        "historical",
        "count",
        f.excluded.historical.to_string(),
    );
    rows.members(&f.members);
    let mut out = String::new();
    for r in rows.0 {
        out.push_str(&csv_record(&r));
    }
    out
}

/// A value that may be missing: empty when it is.
fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The `section,key,field,value` rows in the order they are written, one section at a time.
#[derive(Default)]
struct Rows(Vec<[String; 4]>);

impl Rows {
    fn add(&mut self, section: &str, key: &str, field: &str, value: String) {
        self.0
            .push([section.into(), key.into(), field.into(), value]);
    }

    /// `by_period`: intake by class and the shares of each week, month, quarter or year.
    fn by_period(&mut self, periods: &[PeriodFigures]) {
        for p in periods {
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
                self.add("by_period", &p.period, field, opt(v));
            }
        }
    }

    /// `response_efficiency`: met, missed and share of each clock.
    fn efficiency(&mut self, e: &Efficiency) {
        let shares: [(&str, &Share); 5] = [
            ("acknowledge", &e.acknowledge),
            ("triage", &e.triage),
            ("close", &e.close),
            ("coordinator", &e.coordinator),
            ("finish", &e.finish),
        ];
        for (key, s) in shares {
            self.add("response_efficiency", key, "met", s.met.to_string());
            self.add("response_efficiency", key, "missed", s.missed.to_string());
            self.add("response_efficiency", key, "share", opt(s.share));
        }
    }

    /// Median, p90, count and target of each duration: response times, time to fix and to
    /// disclose, moderation's time to clear.
    fn durations(&mut self, f: &YearFigures) {
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
            self.add(section, key, &format!("median_{}", s.unit), opt(s.median));
            self.add(section, key, &format!("p90_{}", s.unit), opt(s.p90));
            self.add(section, key, "count", s.count.to_string());
            self.add(section, key, &format!("target_{}", s.unit), opt(s.target));
            if section == "response_times" {
                // Unlike `time_to_close` and the others of the older section, which count it.
                self.add(section, key, "spam", "excluded".into());
            }
        }
    }

    /// `members`: each member's activity, keyed by address.
    fn members(&mut self, members: &[Member]) {
        for m in members {
            let mut field = |name: &str, value: String| self.add("members", &m.email, name, value);
            field("name", m.name.clone());
            field("coordinated", m.coordinated.to_string());
            field("notes", m.notes.to_string());
            field("replies", m.replies.to_string());
            field("last_activity", m.last_activity.clone().unwrap_or_default());
            field("inactive", m.inactive.to_string());
        }
    }
}
