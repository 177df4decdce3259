//! Which headers describe the message and which describe where it was collected.
//!
//! A receiving system adds headers of its own (delivery agents, mail stores, local filters,
//! its own relays' `Received` lines). They say nothing about what the mail is, and a model
//! that learns them learns the collection, not the mail, so the tokenizer skips them.

use super::text_helpers::{is_ipv4, prefix_at_char_boundary};

/// Headers the receiving system adds (delivery agents, mail stores, local filters): they
/// describe where a mail was collected, not what it says, so they give no tokens.
pub(crate) fn is_receiver_header(lname: &str) -> bool {
    matches!(
        lname,
        "x-status"
            | "status"
            | "x-keywords"
            | "x-uid"
            | "x-uidl"
            | "delivery-date"
            | "delivered-to"
            | "envelope-to"
            | "return-path"
            | "x-original-to"
            | "x-envelope-from"
            | "x-envelope-to"
            | "lines"
            | "content-length"
            | "x-mozilla-status"
            | "x-mozilla-status2"
            | "x-evolution-source"
            | "x-gmail-labels"
            | "x-gm-thrid"
            | "received-spf"
            | "authentication-results"
            | "arc-authentication-results"
            | "x-virus-scanned"
            | "x-loop"
            | "errors-to"
    ) || lname.starts_with("x-spam")
        || lname.starts_with("x-dspam")
        || lname.starts_with("x-bogosity")
        || lname.starts_with("x-razor")
        || lname.starts_with("x-pyzor")
        || lname.starts_with("x-ms-exchange-organization")
}

/// Of the Received headers (newest first), the index of the first one added when the mail
/// crossed into the receiving system: the hops above it are the receiver's own relays
/// (loopback, private addresses, hosts of the receiver's domains), which describe where the
/// mail was collected. Walking down, a hop is internal when it came from localhost, a
/// private address or a host of a domain already seen relaying inside; each internal hop's
/// `by` domain joins that set.
pub(crate) fn first_external_hop(received: &[&str]) -> usize {
    let mut inside: Vec<String> = Vec::new();
    for (i, value) in received.iter().enumerate() {
        let lower = prefix_at_char_boundary(value, 1024).to_ascii_lowercase();
        let (from_part, by_part) = match lower.split_once(" by ") {
            Some((f, b)) => (f, b),
            None if lower.starts_with("by ") => ("", &lower[3..]),
            None => (lower.as_str(), ""),
        };
        if let Some(by) = by_part.split_whitespace().next() {
            let d = registered_domain(by);
            if i == 0 && !d.is_empty() && !inside.contains(&d) {
                inside.push(d);
            }
        }
        let from_part = from_part.trim_start_matches("from").trim();
        let internal = from_part.is_empty()
            || from_part.starts_with("localhost")
            || from_part.contains("127.0.0.1")
            || from_part.contains("[::1]")
            || from_part
                .split(|c: char| "()[] ".contains(c))
                .filter(|w| is_ipv4(w))
                .all(is_private_ipv4)
                && from_part.split(|c: char| "()[] ".contains(c)).any(is_ipv4)
            || from_part
                .split(|c: char| "()[] ".contains(c))
                .filter(|w| w.contains('.') && !is_ipv4(w))
                .any(|h| inside.contains(&registered_domain(h)));
        if !internal {
            return i;
        }
        if let Some(by) = by_part.split_whitespace().next() {
            let d = registered_domain(by);
            if !d.is_empty() && !inside.contains(&d) {
                inside.push(d);
            }
        }
    }
    received.len()
}

/// The last two labels of a host name (`mx1.mail.example.org` → `example.org`).
fn registered_domain(host: &str) -> String {
    let host = host.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return String::new();
    }
    labels[labels.len() - 2..].join(".")
}

fn is_private_ipv4(s: &str) -> bool {
    let p: Vec<u8> = s.split('.').filter_map(|x| x.parse().ok()).collect();
    p.len() == 4
        && (p[0] == 10
            || p[0] == 127
            || (p[0] == 172 && (16..32).contains(&p[1]))
            || (p[0] == 192 && p[1] == 168))
}
