//! Whether the text Mailman gives for a held post is that post's own.
//!
//! Mailman's REST API builds a held entry from two places: its sender, subject and
//! Message-ID from the entry's own request, its `msg` from the message store, looked up by
//! Message-ID. The store keeps one message per Message-ID (Mailman 3's `messagestore.py`,
//! `add`: "If the Message-ID already exists in the store, don't store it again"), so a post
//! arriving with a Message-ID the store already holds is listed with the FIRST post's text:
//! a real report under the Message-ID of a spam held before it shows the spam, is classified
//! spam and would be swept (and taught as spam). Handling either post deletes the stored text,
//! and the other is then "Message content lost".
//!
//! So a post is judged only when its text agrees with its entry: the text's Message-ID,
//! From and Subject must be the entry's (`message_id`, `sender`, `subject`, compared as
//! Mailman itself derives them: the address lowercased, the subject RFC 2047 decoded, white
//! space not counted), and no other held entry may share its Message-ID. Otherwise, as for a
//! post whose content was lost, the post is left unsure for a person: never swept, nothing
//! learned, with the [`Doubt`] as its reason.

use std::collections::HashMap;

use super::{HeldPost, LOST_REASON};
use crate::core::address;
use crate::core::parse::{flat, parse_header_fields, raw_header_field};

/// Why the desk does not judge a held post by the text Mailman gives for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doubt {
    /// Mailman lost the post's content: its `msg` is a stand-in ([`HeldPost::content_lost`]).
    ContentLost,
    /// The text's Message-ID, From or Subject is not the entry's: Mailman gives another
    /// post's text. Says which, as `its From is x, not y`.
    OtherText(String),
    /// Other held entries (list, request id) have the same Message-ID: Mailman keeps one
    /// text for all of them, so at most one shows its own.
    SharedMessageId(Vec<(String, u64)>),
}

impl Doubt {
    /// The word the listing shows in place of a class.
    pub fn word(&self) -> &'static str {
        match self {
            Doubt::ContentLost => "lost",
            Doubt::OtherText(_) => "mismatch",
            Doubt::SharedMessageId(_) => "shared",
        }
    }

    /// The verdict's reason: what is wrong, what the desk does about it, what to do.
    pub fn reason(&self) -> String {
        match self {
            Doubt::ContentLost => LOST_REASON.to_string(),
            Doubt::OtherText(what) => format!(
                "Mailman gives this post another post's text ({what}): it keeps one text per Message-ID and did not store this one. Not classified, never swept, nothing learned; accepting it would send that other text. Ask the sender to send it again"
            ),
            Doubt::SharedMessageId(others) => {
                let others: Vec<String> = others
                    .iter()
                    .map(|(list, id)| format!("request {id} of {}", flat(list)))
                    .collect();
                format!(
                    "{} held under the same Message-ID: Mailman keeps one text for both, so this may be the other's text, and handling either deletes it for both. Not classified, never swept, nothing learned; judge it by its sender and subject",
                    others.join(", ")
                )
            }
        }
    }

    /// True when the text may be another post's (not a lost one).
    pub fn text_mismatch(&self) -> bool {
        !matches!(self, Doubt::ContentLost)
    }
}

/// What is wrong with the post's text by itself: lost, or another post's. Needs no other
/// post, so it is what training checks (`moderation::train`).
pub fn own(post: &HeldPost) -> Option<Doubt> {
    if post.content_lost() {
        return Some(Doubt::ContentLost);
    }
    other_text(post).map(Doubt::OtherText)
}

/// The doubt over each of `posts` (one listing, every list: Mailman's message store is one
/// per site), in order: [`own`], else another entry with the same Message-ID.
pub fn doubts(posts: &[HeldPost]) -> Vec<Option<Doubt>> {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in posts.iter().enumerate() {
        if let Some(id) = p.message_id.as_deref() {
            by_id.entry(id).or_default().push(i);
        }
    }
    posts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            own(p).or_else(|| {
                let same = by_id.get(p.message_id.as_deref()?)?;
                let others: Vec<(String, u64)> = same
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| (posts[j].list.clone(), posts[j].request_id))
                    .collect();
                (!others.is_empty()).then_some(Doubt::SharedMessageId(others))
            })
        })
        .collect()
}

/// Which of the text's Message-ID, From and Subject disagrees with the entry's, if any.
fn other_text(post: &HeldPost) -> Option<String> {
    let text = parse_header_fields(&post.raw);
    if text.message_id != post.message_id {
        return Some(format!(
            "its Message-ID is {}, not {}",
            shown_id(text.message_id.as_deref()),
            shown_id(post.message_id.as_deref())
        ));
    }
    // Mailman's `sender` is the first of From, the envelope sender, Reply-To and Sender
    // that gives an address, lowercased: a text without From says nothing here.
    if let Some(from) = text.from.as_ref().filter(|m| !m.addr.trim().is_empty()) {
        if address::key(&from.addr) != address::key(&post.sender) {
            return Some(format!(
                "its From is {}, not {}",
                flat(&from.addr),
                flat(&post.sender)
            ));
        }
    }
    if !same_subject(post, &text.subject) {
        return Some(format!(
            "its Subject is \"{}\", not \"{}\"",
            flat(&text.subject),
            flat(&post.subject)
        ));
    }
    None
}

/// Whether the text's Subject is the entry's. Mailman gives the entry's subject RFC 2047
/// decoded by Python (which drops the white space between encoded words and keeps folds),
/// or as written when it cannot decode it, or "(no subject)" (translated) when there is
/// none; so it is compared decoded and as written, white space not counted.
fn same_subject(post: &HeldPost, decoded: &str) -> bool {
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    let entry = squash(&post.subject);
    match raw_header_field(&post.raw, "Subject") {
        None => post.subject.trim().starts_with('(') && post.subject.trim().ends_with(')'),
        Some(written) => entry == squash(decoded) || entry == squash(&written),
    }
}

fn shown_id(id: Option<&str>) -> String {
    id.map_or_else(|| "missing".to_string(), |id| format!("<{}>", flat(id)))
}
