//! Whether a message's `Date` header (RFC 5322 §3.6.1, written by the sender) can be shown
//! as its date, judged against when the message arrived (set by our side: IMAP
//! INTERNALDATE, RFC 3501 §2.3.3; an mbox `From ` line; a file's mtime). When the arrival
//! is known, it alone orders the thread and starts the clocks (`core::ingest`); the
//! header does only when nothing else is known (the demo).
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
    pub note: Option<DateNote>,
}

/// Why a message's Date header was not used. The store keeps only this ([`DateNote::code`]),
/// beside the header as written and the arrival, and the note's text is written from them
/// when the message is shown ([`DateNote::describe`]): on a mailbox of old mail, where
/// every message has the note, the text was 4 MB of every 80 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateNote {
    /// The header is there but is not a date.
    Unreadable,
    /// More than [`FUTURE_SKEW`] after the arrival.
    AfterArrival,
    /// More than [`FUTURE_SKEW`] after the time it was stored, with no arrival known.
    AfterNow,
    /// More than [`PAST_SKEW`] before the arrival.
    BeforeArrival,
}

impl DateNote {
    /// The note as the store keeps it (`messages.date_note`).
    pub fn code(self) -> i64 {
        match self {
            DateNote::Unreadable => 1,
            DateNote::AfterArrival => 2,
            DateNote::AfterNow => 3,
            DateNote::BeforeArrival => 4,
        }
    }

    /// The note a stored code names; `None` for a code this version does not know.
    pub fn from_code(code: i64) -> Option<DateNote> {
        [
            DateNote::Unreadable,
            DateNote::AfterArrival,
            DateNote::AfterNow,
            DateNote::BeforeArrival,
        ]
        .into_iter()
        .find(|n| n.code() == code)
    }

    /// The note's text, for the message's notes: `header_text` is the Date header as
    /// written, `arrival` when the message arrived (the time it was ordered by instead).
    pub fn describe(self, header_text: &str, arrival: DateTime<Utc>) -> String {
        let shown = super::flat(header_text);
        let arrived = || format!("it arrived {}", arrival.format("%Y-%m-%d %H:%M UTC"));
        let instead = "ordered and timed by its arrival instead";
        match self {
            DateNote::Unreadable => {
                format!("the Date header ({shown:?}) could not be read: the arrival time is used")
            }
            DateNote::AfterArrival => format!(
                "the Date header ({shown}) is more than a day after {}: {instead}",
                arrived()
            ),
            DateNote::AfterNow => {
                format!("the Date header ({shown}) is more than a day after now: {instead}")
            }
            DateNote::BeforeArrival => format!(
                "the Date header ({shown}) is more than {} days before {}: {instead}",
                PAST_SKEW.num_days(),
                arrived()
            ),
        }
    }
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
    let note = match header {
        None => header_text
            .filter(|t| !t.trim().is_empty())
            .map(|_| DateNote::Unreadable),
        Some(date) if date > reference + FUTURE_SKEW => Some(if arrival.is_some() {
            DateNote::AfterArrival
        } else {
            DateNote::AfterNow
        }),
        Some(date) if arrival.is_some() && date < reference - PAST_SKEW => {
            Some(DateNote::BeforeArrival)
        }
        Some(_) => None,
    };
    CheckedDate {
        at: match (note, header) {
            (None, Some(date)) => date,
            _ => reference,
        },
        note,
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
        assert_eq!(future.note, Some(DateNote::AfterArrival));
        let note = DateNote::AfterArrival.describe("Fri, 31 Dec 9999 23:59:59 +0000", arrival);
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
        assert_eq!(past.note, Some(DateNote::BeforeArrival));
        let note = DateNote::BeforeArrival.describe("Thu, 1 Jan 1970 00:00:00 +0000", arrival);
        assert!(note.contains("(Thu, 1 Jan 1970 00:00:00 +0000) is more than 7 days before it arrived 2026-11-24 12:00 UTC"), "{note}");
    }

    #[test]
    fn without_an_arrival_only_the_future_is_judged() {
        let now = at(2026, 12, 1);
        let old = check_date(Some(at(2020, 1, 1)), Some("old"), None, now);
        assert_eq!(old.at, at(2020, 1, 1));
        let future = check_date(Some(at(2030, 1, 1)), Some("2030"), None, now);
        assert_eq!(future.at, now);
        assert_eq!(future.note, Some(DateNote::AfterNow));
        assert!(DateNote::AfterNow
            .describe("2030", now)
            .contains("after now"));
    }

    #[test]
    fn unreadable_header_uses_the_arrival() {
        let arrival = at(2026, 11, 24);
        let c = check_date(None, Some("yesterday-ish"), Some(arrival), arrival);
        assert_eq!(c.at, arrival);
        assert_eq!(c.note, Some(DateNote::Unreadable));
        // Written as a quoted string: the header is the sender's text.
        let note = DateNote::Unreadable.describe("yesterday-ish\r\n\tor so", arrival);
        assert!(
            note.starts_with("the Date header (\"yesterday-ish or so\") could not be read"),
            "{note}"
        );
        assert_eq!(check_date(None, None, Some(arrival), arrival).note, None);
    }

    #[test]
    fn stored_codes_name_the_notes_they_were_made_from() {
        for note in [
            DateNote::Unreadable,
            DateNote::AfterArrival,
            DateNote::AfterNow,
            DateNote::BeforeArrival,
        ] {
            assert_eq!(DateNote::from_code(note.code()), Some(note));
        }
        assert_eq!(DateNote::from_code(0), None);
        assert_eq!(DateNote::from_code(99), None);
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
