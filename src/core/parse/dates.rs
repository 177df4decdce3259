//! Whether a message's `Date` header (RFC 5322 §3.6.1, written by the sender) can be trusted
//! for ordering and response clocks, judged against when the message arrived (set by our
//! side: IMAP INTERNALDATE, RFC 3501 §2.3.3; an mbox `From ` line; a file's mtime).
//!
//! A sender's clock may be off, and mail may sit in queues for days (RFC 5321 §4.5.4.1
//! suggests giving up after 4–5 days), so a header up to [`PAST_SKEW`] before the arrival
//! or [`FUTURE_SKEW`] after it is believed. Anything outside that window (`31 Dec 9999`,
//! `1 Jan 1970`) is replaced by the arrival time and noted on the message; the header
//! itself is kept and shown.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// How far a Date header may lie after the arrival: a day covers any time zone mistake.
pub const FUTURE_SKEW: Duration = Duration::days(1);
/// How far a Date header may lie before the arrival: queue retries end after about 5 days.
pub const PAST_SKEW: Duration = Duration::days(7);

/// The date used for a message, and why when it is not its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDate {
    pub at: DateTime<Utc>,
    /// Set when the header was not used: what was wrong, for the message's notes.
    pub note: Option<String>,
}

/// Judges `header` (parsed; `header_text` is the header as written, for the note) against
/// `arrival`. With no known arrival (`None`), only a header in the future of `now` is
/// refused: there is nothing to measure a delay against.
pub fn check_date(
    header: Option<DateTime<Utc>>,
    header_text: Option<&str>,
    arrival: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> CheckedDate {
    let reference = arrival.unwrap_or(now);
    let shown = header_text.map(super::flat).unwrap_or_default();
    let Some(date) = header else {
        let note = header_text.filter(|t| !t.trim().is_empty()).map(|_| {
            format!("the Date header ({shown:?}) could not be read: the arrival time is used")
        });
        return CheckedDate {
            at: reference,
            note,
        };
    };
    let arrived = arrival
        .map(|a| format!("it arrived {}", a.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_else(|| "now".to_string());
    let note = if date > reference + FUTURE_SKEW {
        Some(format!(
            "the Date header ({shown}) is more than a day after {arrived}: ordered and timed by its arrival instead"
        ))
    } else if arrival.is_some() && date < reference - PAST_SKEW {
        Some(format!(
            "the Date header ({shown}) is more than {} days before {arrived}: ordered and timed by its arrival instead",
            PAST_SKEW.num_days()
        ))
    } else {
        None
    };
    match note {
        Some(note) => CheckedDate {
            at: reference,
            note: Some(note),
        },
        None => CheckedDate {
            at: date,
            note: None,
        },
    }
}

/// The delivery time an mbox `From ` line records (`From addr Tue Nov  3 10:00:00 2026`,
/// asctime format, written by the delivering agent, not the sender), if `raw` starts with
/// one that can be read.
pub fn mbox_from_date(raw: &[u8]) -> Option<DateTime<Utc>> {
    let line = raw.strip_prefix(b"From ")?;
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let line = std::str::from_utf8(&line[..end]).ok()?;
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    // Some agents append a zone or "remote from …"; the asctime part is the first five.
    let asctime = words.get(..5)?.join(" ");
    NaiveDateTime::parse_from_str(&asctime, "%a %b %e %H:%M:%S %Y")
        .ok()
        .map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn plausible_dates_are_kept() {
        let arrival = at(2026, 11, 24);
        for header in [at(2026, 11, 24), at(2026, 11, 20), at(2026, 11, 25)] {
            let c = check_date(Some(header), Some("x"), Some(arrival), arrival);
            assert_eq!(
                c,
                CheckedDate {
                    at: header,
                    note: None
                }
            );
        }
    }

    #[test]
    fn far_future_and_far_past_are_replaced_by_the_arrival_and_noted() {
        let arrival = at(2026, 11, 24);
        let future = check_date(
            Some(at(9999, 12, 31)),
            Some("Fri, 31 Dec 9999 23:59:59 +0000"),
            Some(arrival),
            arrival,
        );
        assert_eq!(future.at, arrival);
        let note = future.note.unwrap();
        assert!(
            note.contains("31 Dec 9999") && note.contains("after it arrived 2026-11-24"),
            "{note}"
        );
        let past = check_date(
            Some(at(1970, 1, 1)),
            Some("Thu, 1 Jan 1970 00:00:00 +0000"),
            Some(arrival),
            arrival,
        );
        assert_eq!(past.at, arrival);
        assert!(past.note.unwrap().contains("7 days before"));
    }

    #[test]
    fn without_an_arrival_only_the_future_is_judged() {
        let now = at(2026, 12, 1);
        let old = check_date(Some(at(2020, 1, 1)), Some("old"), None, now);
        assert_eq!(old.at, at(2020, 1, 1));
        let future = check_date(Some(at(2030, 1, 1)), Some("2030"), None, now);
        assert_eq!(future.at, now);
        assert!(future.note.is_some());
    }

    #[test]
    fn unreadable_header_uses_the_arrival() {
        let arrival = at(2026, 11, 24);
        let c = check_date(None, Some("yesterday-ish"), Some(arrival), arrival);
        assert_eq!(c.at, arrival);
        assert!(c.note.unwrap().contains("could not be read"));
        assert_eq!(check_date(None, None, Some(arrival), arrival).note, None);
    }

    #[test]
    fn mbox_from_line_dates() {
        assert_eq!(
            mbox_from_date(b"From a@b Tue Nov  3 10:00:00 2026\nSubject: x\n"),
            Some(Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap())
        );
        assert_eq!(
            mbox_from_date(b"From MAILER-DAEMON Wed Nov 25 08:01:02 2026 +0000\n"),
            Some(Utc.with_ymd_and_hms(2026, 11, 25, 8, 1, 2).unwrap())
        );
        assert_eq!(mbox_from_date(b"Subject: no from line\n"), None);
        assert_eq!(mbox_from_date(b"From someone garbage\n"), None);
    }
}
