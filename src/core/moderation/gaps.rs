//! What a listing of the held queue could not show. Mailman's answers are untrusted: an
//! entry without a usable `request_id` cannot be shown as a post nor acted on, a count
//! (`held/count`, `total_size`) may disagree with the entries Mailman actually gave, and a
//! queue past the desk's bound is not read to its end. None of these may pass silently: a
//! moderator must learn that something is held that the desk does not show, and a script
//! must see it in the exit status (`ListingGap::incomplete`).

use std::fmt;

use crate::core::sanitize::terminal_line;

/// How many unreadable entries a gap names one by one; the rest are counted.
const NAMED: usize = 5;

/// A held entry Mailman listed that the desk could not read as a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEntry {
    /// Its place in Mailman's order, counted from 1.
    pub position: usize,
    /// Why it could not be read, e.g. "`request_id` is missing".
    pub why: String,
    /// What the entry says of itself, untrusted (sanitized when shown), empty when absent.
    pub sender: String,
    pub subject: String,
    pub message_id: String,
    pub hold_date: String,
}

/// One thing a listing of one list could not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingGap {
    /// Held entries without a usable request id: listed by Mailman, not shown as posts, never
    /// swept or acted on.
    Unreadable {
        list: String,
        entries: Vec<UnreadableEntry>,
    },
    /// Mailman's count of held posts (the pages' `total_size`, else `held/count`) is over the
    /// entries it gave: posts may be missing. (A count under them is no gap: every entry
    /// read is listed.)
    Miscounted {
        list: String,
        said: u64,
        read: usize,
    },
    /// The listing stopped at the desk's bound on entries read for one list.
    Truncated { list: String, read: usize },
}

impl ListingGap {
    /// True when held posts may be missing from the listing: the command that listed it has
    /// not done all of its job (exit status 1).
    pub fn incomplete(&self) -> bool {
        match self {
            ListingGap::Unreadable { .. }
            | ListingGap::Truncated { .. }
            | ListingGap::Miscounted { .. } => true,
        }
    }
}

/// True when any gap leaves held posts out of the listing.
pub fn incomplete(gaps: &[ListingGap]) -> bool {
    gaps.iter().any(ListingGap::incomplete)
}

impl fmt::Display for ListingGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListingGap::Unreadable { list, entries } => {
                let n = entries.len();
                let named: Vec<String> = entries.iter().take(NAMED).map(entry_line).collect();
                let more = match n.saturating_sub(NAMED) {
                    0 => String::new(),
                    rest => format!(", and {rest} more"),
                };
                write!(
                    f,
                    "{n} held {} of {} could not be read: {}{more}; the desk can neither show nor moderate {}: moderate {} in Mailman's web UI (Postorius)",
                    if n == 1 { "entry" } else { "entries" },
                    terminal_line(list),
                    named.join(", "),
                    if n == 1 { "it" } else { "them" },
                    if n == 1 { "it" } else { "them" },
                )
            }
            ListingGap::Miscounted { list, said, read } => write!(
                f,
                "Mailman says {} holds {said} posts, but gave only {read}: {} may be missing from this listing; list again, and compare with Mailman's web UI (Postorius)",
                terminal_line(list),
                said.saturating_sub(*read as u64)
            ),
            ListingGap::Truncated { list, read } => write!(
                f,
                "the held queue of {} was read only up to {read} entries, the most one listing reads (in entries, or in bytes of mail): the posts past them are not listed; sweep the spam, or moderate in Mailman's web UI (Postorius), then list again",
                terminal_line(list)
            ),
        }
    }
}

/// `entry 4 ("subject" from sender, held 2026-12-01T18:10:08: `request_id` is missing)`.
fn entry_line(e: &UnreadableEntry) -> String {
    let mut about = Vec::new();
    if !e.subject.is_empty() {
        about.push(format!("\"{}\"", clip(&e.subject)));
    }
    if !e.sender.is_empty() {
        about.push(format!("from {}", clip(&e.sender)));
    }
    if !e.message_id.is_empty() {
        about.push(format!("Message-ID {}", clip(&e.message_id)));
    }
    if !e.hold_date.is_empty() {
        about.push(format!("held {}", clip(&e.hold_date)));
    }
    let about = if about.is_empty() {
        String::new()
    } else {
        format!("{}: ", about.join(" "))
    };
    format!("entry {} ({about}{})", e.position, e.why)
}

/// A field of an untrusted entry, on one line and at most 80 characters.
fn clip(s: &str) -> String {
    let line = terminal_line(s);
    if line.chars().count() <= 80 {
        return line;
    }
    let mut cut: String = line.chars().take(79).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(position: usize) -> UnreadableEntry {
        UnreadableEntry {
            position,
            why: "`request_id` is missing".into(),
            sender: "a@example.net".into(),
            subject: "Heap overflow \u{1b}[31m".into(),
            message_id: String::new(),
            hold_date: String::new(),
        }
    }

    #[test]
    fn unreadable_entries_are_named_and_sent_to_the_web_ui() {
        let gap = ListingGap::Unreadable {
            list: "security@example.org".into(),
            entries: (1..=7).map(entry).collect(),
        };
        let line = gap.to_string();
        assert!(
            line.starts_with("7 held entries of security@example.org could not be read: entry 1 (\"Heap overflow"),
            "{line}"
        );
        assert!(line.contains(", and 2 more;"), "{line}");
        assert!(line.ends_with("moderate them in Mailman's web UI (Postorius)"));
        assert!(!line.contains('\u{1b}'), "{line}");
        assert!(gap.incomplete());
    }

    #[test]
    fn a_count_over_the_entries_read_says_how_many_may_be_missing() {
        let over = ListingGap::Miscounted {
            list: "l".into(),
            said: 9,
            read: 7,
        };
        assert!(over.incomplete());
        assert!(over.to_string().contains("2 may be missing"), "{over}");
    }
}
