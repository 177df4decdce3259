//! Listing the UIDs a mailbox holds, checked against the server's own counts.
//!
//! UIDs are listed with `UID FETCH n:* (UID RFC822.SIZE)` (RFC 3501 §6.4.8, §6.4.5), which
//! every server answers with one FETCH per message; `UID SEARCH` is not used, because at
//! least one server answers `UID SEARCH UID 1:*` with an empty list. Each FETCH carries the
//! message's sequence number, so the answer is checked against what EXAMINE announced:
//!
//! - sequence numbers run without a hole up to EXISTS (RFC 3501 §2.3.1.2, §7.3.1), so the
//!   listed UIDs are all the messages from the first listed one to the last;
//! - every UID is below UIDNEXT (§2.3.1.1, §7.1) and within what was asked (`n:*` also
//!   matches the highest UID when it is below `n`, §6.4.8, which is expected).
//!
//! A UID outside either is refused: never fetched, never a cursor position. A count that
//! does not add up is a gap the sync names.

use std::collections::BTreeMap;

use super::connect::{classify, within_deadline, Endpoint, ImapSession};
use super::error::ImapError;
use super::sync::Examined;

/// One message the server listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    pub uid: u32,
    /// RFC822.SIZE, when the server sent it.
    pub size: Option<u32>,
}

/// What the server listed at or above the first UID asked for, and what did not add up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Ascending, within `[first_uid, UIDNEXT)`.
    pub uids: Vec<Listed>,
    /// Answers refused and counts that do not add up, one line each.
    pub problems: Vec<String>,
    /// The counts did not add up: messages may exist that were not listed, so the cursor
    /// must not move this sync.
    pub incomplete: bool,
    /// Why, when the counts did not add up (also among `problems`).
    pub count_gap: Option<String>,
    /// The server announced new mail or expunges during the listing (an EXISTS with another
    /// count, an EXPUNGE, a VANISHED): its counts moved, so the answer cannot be checked
    /// against them. The caller examines the mailbox again and lists again.
    pub changed: bool,
    /// The sequence number of the lowest UID listed, the listing's anchor.
    pub first_seq: Option<u32>,
}

/// What a listing answer said of the mailbox besides its FETCHes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct News {
    /// The last EXISTS count announced.
    pub exists: Option<u32>,
    /// An EXPUNGE or VANISHED was announced.
    pub expunged: bool,
}

impl News {
    /// The mailbox moved since `examined`: an expunge, or an EXISTS with another count (a
    /// server may repeat the count it gave; that is no change).
    pub fn moved(&self, examined: &Examined) -> bool {
        self.expunged || self.exists.is_some_and(|n| n != examined.exists)
    }

    fn add(&mut self, other: News) {
        self.exists = other.exists.or(self.exists);
        self.expunged |= other.expunged;
    }
}

/// One FETCH of a listing answer: sequence number, UID, size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub seq: u32,
    pub uid: u32,
    pub size: Option<u32>,
}

/// Lists the UIDs at or above `first_uid` of the examined mailbox. When the answer does not
/// add up, the mailbox is listed a second way, by sequence numbers (`FETCH 1:* (UID ...)`,
/// RFC 3501 §6.4.5), and that listing is used if it adds up.
pub fn list(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    first_uid: u32,
) -> Result<Listing, ImapError> {
    let by_uid = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response(format!("UID FETCH {first_uid}:* (UID RFC822.SIZE)"))
    });
    let (answers, news) = collect(endpoint, session, by_uid)?;
    let mut listing = check(examined, first_uid, &answers, news.moved(examined), false);
    if listing.changed {
        return Ok(listing);
    }
    if !listing.incomplete {
        match anchor_gap(endpoint, session, examined, first_uid, listing.first_seq)? {
            None => return Ok(listing),
            Some(gap) => {
                listing.incomplete = true;
                listing.problems.push(gap.clone());
                listing.count_gap = Some(gap);
            }
        }
    }
    let by_seq = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response("FETCH 1:* (UID RFC822.SIZE)")
    });
    let second = match by_seq {
        // A server that refuses this form leaves the first listing's verdict standing.
        Err(imap::Error::No(_) | imap::Error::Bad(_)) => return Ok(listing),
        other => collect(endpoint, session, other)?,
    };
    let again = check(
        examined,
        first_uid,
        &second.0,
        second.1.moved(examined),
        true,
    );
    if again.incomplete && !again.changed {
        return Ok(listing);
    }
    // The answers the first listing refused are still the server's word against itself.
    let mut again = again;
    let gap = listing.count_gap.take();
    again.problems.splice(
        0..0,
        listing
            .problems
            .into_iter()
            .filter(|p| Some(p) != gap.as_ref()),
    );
    Ok(again)
}

/// Whether an incremental listing left out its first messages. The counts of a listing of
/// `first_uid:*` cannot show that: the messages below its first listed one are not in the
/// answer. So the message just before it is asked for its UID (`FETCH n (UID)`), which
/// must be below `first_uid`; one at or above it was left out of the listing.
fn anchor_gap(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    examined: &Examined,
    first_uid: u32,
    first_seq: Option<u32>,
) -> Result<Option<String>, ImapError> {
    let Some(before) = first_seq.and_then(|s| s.checked_sub(1)).filter(|&s| s > 0) else {
        return Ok(None);
    };
    if first_uid <= 1 {
        // From the start, the count itself shows a message left out.
        return Ok(None);
    }
    let fetched = within_deadline(endpoint, session, |s| {
        s.run_command_and_read_response(format!("FETCH {before} (UID)"))
    });
    let (answers, _) = collect(endpoint, session, fetched)?;
    let server = &examined.mailbox;
    Ok(
        match answers.iter().find(|a| a.seq == before).map(|a| a.uid) {
            Some(uid) if uid < first_uid => None,
            Some(uid) => Some(format!(
                "mailbox \"{server}\": the server listed UIDs from {first_uid} up starting at message {}, but message {before} has UID {uid}: the listing left mail out; the cursor stays where it was and the next sync lists them again",
                before + 1
            )),
            None => Some(format!(
                "mailbox \"{server}\": the server did not say which UID message {before} has, just before the first one it listed from UID {first_uid} up; the cursor stays where it was and the next sync lists them again"
            )),
        },
    )
}

/// The answers of one listing FETCH, and whether the server announced new mail or
/// expunges meanwhile (the counts moved).
///
/// The answer is parsed one response at a time and kept as 12 bytes a message: the imap
/// crate's own FETCH values cost about 2 KB each, which made listing 93,750 messages the
/// sync's peak memory (over 200 MB) and would grow without bound with the mailbox.
fn collect(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    fetched: imap::Result<Vec<u8>>,
) -> Result<(Vec<Answer>, News), ImapError> {
    use imap::types::UnsolicitedResponse as U;
    let what = "listing the mailbox's UIDs";
    let raw = fetched.map_err(|e| classify(endpoint, what, e))?;
    let (answers, mut news) = parse_answers(&raw).map_err(|e| classify(endpoint, what, e))?;
    drop(raw);
    for r in session.take_all_unsolicited() {
        match r {
            U::Exists(n) => news.exists = Some(n),
            U::Expunge(_) | U::Vanished { .. } => news.expunged = true,
            _ => {}
        }
    }
    Ok((answers, news))
}

/// The FETCH answers in a listing's untagged responses (one with no UID is the server's
/// own news and is left out), and what an EXISTS, EXPUNGE or VANISHED among them says of
/// the mailbox. Other untagged responses (OK, FLAGS, RECENT) are left alone, as
/// the imap crate leaves them; bytes that are no IMAP response are an error.
pub fn parse_answers(raw: &[u8]) -> imap::Result<(Vec<Answer>, News)> {
    use imap_proto::{AttributeValue, MailboxDatum, Response};
    let mut answers = Vec::new();
    let mut news = News::default();
    super::untagged::for_each(raw, |response| match response {
        Response::Fetch(seq, attributes) => {
            let (mut uid, mut size) = (None, None);
            for a in &attributes {
                match a {
                    AttributeValue::Uid(u) => uid = Some(*u),
                    AttributeValue::Rfc822Size(n) => size = Some(*n),
                    _ => {}
                }
            }
            if let Some(uid) = uid {
                answers.push(Answer { seq, uid, size });
            }
        }
        Response::MailboxData(MailboxDatum::Exists(n)) => news.add(News {
            exists: Some(n),
            expunged: false,
        }),
        Response::Expunge(_) | Response::Vanished { .. } => news.expunged = true,
        _ => {}
    })?;
    Ok((answers, news))
}

/// Checks a listing answer against EXAMINE's counts (see the module documentation).
/// `changed`: the server announced new mail or expunges meanwhile, so the counts moved and
/// the answer cannot be checked against them: the listing is marked changed (and
/// incomplete) for the caller to examine the mailbox again. `whole`: the answer lists the
/// whole mailbox (by sequence numbers), so UIDs below `first_uid` are expected and skipped,
/// and every message from 1 to EXISTS must be in it.
pub fn check(
    examined: &Examined,
    first_uid: u32,
    answers: &[Answer],
    changed: bool,
    whole: bool,
) -> Listing {
    let mut listing = Listing::default();
    let server = &examined.mailbox;
    let mut by_uid: BTreeMap<u32, Answer> = BTreeMap::new();
    // A FETCH without the RFC822.SIZE asked for is the server's own news (a flag change,
    // RFC 3501 §7.4.2), when the same UID is also listed with its size or lies outside
    // what was asked; a UID asked for that only comes without a size is still a message.
    let answers = listing_answers(examined, first_uid, answers);
    let top_seq = answers.iter().map(|a| a.seq).max();
    if changed {
        listing.changed = true;
        listing.incomplete = true;
    }
    for &a in &answers {
        if a.uid == 0 {
            listing.problems.push(format!(
                "mailbox \"{server}\": the server listed UID 0, which is not a valid UID; refused"
            ));
            continue;
        }
        if a.uid < first_uid {
            // `n:*` matches the highest UID even when it is below n (RFC 3501 §6.4.8).
            if !whole && (Some(a.seq) != top_seq || answers.len() > 1) {
                listing.problems.push(format!(
                    "mailbox \"{server}\": the server listed UID {} although UIDs from {first_uid} up were asked for; refused",
                    a.uid
                ));
            }
            continue;
        }
        if let Some(next) = examined.uid_next {
            if a.uid >= next {
                // After a change this is new mail, listed again once the mailbox is
                // examined again.
                if !changed {
                    listing.problems.push(format!(
                        "mailbox \"{server}\": the server listed UID {}, at or above its own UIDNEXT {next}; refused, the cursor stays below it",
                        a.uid
                    ));
                    listing.count_gap.get_or_insert_with(|| format!(
                        "mailbox \"{server}\": the server listed UIDs at or above its own UIDNEXT {next}; the next sync lists them again"
                    ));
                }
                continue;
            }
        }
        by_uid.entry(a.uid).or_insert(*a);
    }
    listing.first_seq = by_uid.values().next().map(|a| a.seq);
    listing.uids = by_uid
        .values()
        .map(|a| Listed {
            uid: a.uid,
            size: a.size,
        })
        .collect();
    if changed {
        listing.count_gap = None;
        return listing;
    }
    let mut gap = count_gap(examined, first_uid, &by_uid, top_seq);
    if gap.is_none() && whole {
        gap = whole_gap(examined, &answers);
    }
    if let Some(gap) = gap {
        listing.problems.push(gap.clone());
        listing.count_gap = Some(gap);
    }
    // A UID at or above UIDNEXT was refused: the server contradicts itself, so the
    // cursor stays and the gap is kept until a listing adds up.
    listing.incomplete = listing.count_gap.is_some();
    listing
}

/// The answers that are the listing: a FETCH without a size is a flag change unless its
/// UID is asked for and comes with no size at all.
fn listing_answers<'a>(
    examined: &Examined,
    first_uid: u32,
    answers: &'a [Answer],
) -> Vec<&'a Answer> {
    let sized: std::collections::HashSet<u32> = answers
        .iter()
        .filter(|a| a.size.is_some())
        .map(|a| a.uid)
        .collect();
    answers
        .iter()
        .filter(|a| {
            a.size.is_some()
                || (!sized.contains(&a.uid)
                    && a.uid >= first_uid
                    && examined.uid_next.is_none_or(|next| a.uid < next))
        })
        .collect()
}

/// Why a listing of the whole mailbox by sequence numbers does not add up, when it does
/// not: it must hold every message from 1 to EXISTS.
fn whole_gap(examined: &Examined, answers: &[&Answer]) -> Option<String> {
    let seqs: std::collections::BTreeSet<u32> = answers.iter().map(|a| a.seq).collect();
    let holds_all = seqs.len() as u64 == u64::from(examined.exists)
        && seqs.last().is_none_or(|&s| s == examined.exists);
    (!holds_all).then(|| format!(
        "mailbox \"{}\": the server announced {} messages (EXISTS) but listed {} by sequence number; the cursor stays where it was and the next sync lists them again",
        examined.mailbox,
        examined.exists,
        seqs.len()
    ))
}

/// Why the accepted answers do not add up to EXISTS, when they do not: the sequence numbers
/// of the listed UIDs must be consecutive and end at EXISTS. `top_seq`: the highest
/// sequence number in the whole answer.
fn count_gap(
    examined: &Examined,
    first_uid: u32,
    by_uid: &BTreeMap<u32, Answer>,
    top_seq: Option<u32>,
) -> Option<String> {
    let server = &examined.mailbox;
    let exists = examined.exists;
    let listed = by_uid.len() as u64;
    let seqs: Vec<u32> = by_uid.values().map(|a| a.seq).collect();
    let consecutive = seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    let expected = match seqs.first() {
        Some(&first_seq) => {
            let after_last = u64::from(exists) + 1;
            after_last - u64::from(first_seq).min(after_last)
        }
        // Nothing at or above first_uid: fine when the highest message is below it.
        None if exists == 0 || top_seq == Some(exists) => 0,
        None => u64::from(exists),
    };
    let from_start = first_uid <= 1 && u64::from(exists) != listed;
    if from_start || !consecutive || seqs.last().is_some_and(|&s| s != exists) || expected != listed
    {
        let missing = if from_start {
            u64::from(exists).saturating_sub(listed)
        } else {
            expected.saturating_sub(listed)
        };
        return Some(format!(
            "mailbox \"{server}\": the server announced {exists} messages (EXISTS) but listed {listed} UIDs from {first_uid} up, with sequence numbers that do not add up{}; the cursor stays where it was and the next sync lists them again",
            if missing > 0 { format!(" ({missing} unaccounted for)") } else { String::new() }
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examined(exists: u32, uid_next: u32) -> Examined {
        Examined {
            mailbox: "INBOX".into(),
            uidvalidity: 1,
            uid_next: Some(uid_next),
            exists,
        }
    }

    fn answers(pairs: &[(u32, u32)]) -> Vec<Answer> {
        pairs
            .iter()
            .map(|&(seq, uid)| Answer {
                seq,
                uid,
                size: Some(100),
            })
            .collect()
    }

    fn uids(l: &Listing) -> Vec<u32> {
        l.uids.iter().map(|u| u.uid).collect()
    }

    #[test]
    fn a_full_listing_adds_up() {
        let l = check(
            &examined(3, 9),
            1,
            &answers(&[(1, 2), (2, 5), (3, 8)]),
            false,
            false,
        );
        assert_eq!(uids(&l), vec![2, 5, 8]);
        assert!(l.problems.is_empty() && !l.incomplete, "{l:?}");
    }

    #[test]
    fn an_empty_answer_while_exists_says_22_is_a_gap() {
        let l = check(&examined(22, 23), 1, &[], false, false);
        assert!(l.incomplete);
        assert!(
            l.problems[0].contains("announced 22 messages"),
            "{:?}",
            l.problems
        );
        assert!(l.problems[0].contains("22 unaccounted"), "{:?}", l.problems);
    }

    #[test]
    fn the_star_match_below_first_uid_is_not_new_mail() {
        let l = check(&examined(5, 11), 11, &answers(&[(5, 10)]), false, false);
        assert!(
            l.uids.is_empty() && l.problems.is_empty() && !l.incomplete,
            "{l:?}"
        );
    }

    #[test]
    fn an_absurd_exists_is_a_gap_not_a_panic() {
        let l = check(
            &examined(u32::MAX, 3),
            1,
            &answers(&[(1, 1), (2, 2)]),
            false,
            false,
        );
        assert!(l.incomplete && l.count_gap.is_some(), "{l:?}");
        let l = check(
            &examined(u32::MAX, 3),
            2,
            &answers(&[(u32::MAX, 2)]),
            false,
            false,
        );
        assert!(!l.incomplete, "{l:?}");
    }

    #[test]
    fn an_incremental_listing_must_reach_exists() {
        let l = check(
            &examined(5, 11),
            8,
            &answers(&[(3, 8), (4, 9)]),
            false,
            false,
        );
        assert!(
            l.incomplete,
            "seq 5 (the last message) was not listed: {l:?}"
        );
        let l = check(
            &examined(5, 11),
            8,
            &answers(&[(3, 8), (4, 9), (5, 10)]),
            false,
            false,
        );
        assert!(!l.incomplete && l.problems.is_empty(), "{l:?}");
    }

    #[test]
    fn uids_at_or_above_uidnext_are_refused() {
        let a = answers(&[(1, 1), (2, 2), (3, 4_294_967_295)]);
        let l = check(&examined(3, 3), 1, &a, false, false);
        assert_eq!(uids(&l), vec![1, 2]);
        assert!(
            l.problems.iter().any(|p| p.contains("UID 4294967295")),
            "{l:?}"
        );
    }

    #[test]
    fn a_whole_mailbox_listing_skips_what_is_below_first_uid() {
        let a = answers(&[(1, 3), (2, 5), (3, 8), (4, 9)]);
        let l = check(&examined(4, 10), 6, &a, false, true);
        assert_eq!(uids(&l), vec![8, 9]);
        assert!(l.problems.is_empty() && !l.incomplete, "{l:?}");
    }

    #[test]
    fn flag_updates_the_server_slips_in_are_not_part_of_the_listing() {
        let mut a = answers(&[(4, 7), (5, 9)]);
        a.push(Answer {
            seq: 2,
            uid: 3,
            size: None,
        });
        let l = check(&examined(5, 10), 7, &a, false, false);
        assert_eq!(uids(&l), vec![7, 9]);
        assert!(l.problems.is_empty() && !l.incomplete, "{l:?}");
    }

    #[test]
    fn a_listing_during_which_the_mailbox_changed_is_not_trusted() {
        let l = check(
            &examined(2, 3),
            1,
            &answers(&[(1, 1), (2, 2), (3, 3)]),
            true,
            false,
        );
        assert_eq!(uids(&l), vec![1, 2], "UID 3 waits for a fresh EXAMINE");
        assert!(l.changed && l.incomplete, "{l:?}");
        // The audit's case: UID 3 left out, an EXISTS slipped in. Unchanged counts would
        // show the gap; changed ones must not hide it by moving the cursor.
        let l = check(
            &examined(5, 6),
            1,
            &answers(&[(1, 1), (2, 2), (4, 4), (5, 5)]),
            true,
            false,
        );
        assert!(l.incomplete, "{l:?}");
    }

    #[test]
    fn a_message_listed_only_without_its_size_is_still_listed() {
        let mut a = answers(&[(1, 1), (2, 2), (4, 4), (5, 5)]);
        a.push(Answer {
            seq: 3,
            uid: 3,
            size: None,
        });
        let l = check(&examined(5, 6), 1, &a, false, false);
        assert_eq!(uids(&l), vec![1, 2, 3, 4, 5]);
        assert!(l.problems.is_empty() && !l.incomplete, "{l:?}");
    }

    #[test]
    fn a_uid_at_or_above_uidnext_keeps_the_gap_open() {
        let l = check(
            &examined(2, 3),
            1,
            &answers(&[(1, 1), (2, 2), (3, 3), (4, 4)]),
            false,
            false,
        );
        assert_eq!(uids(&l), vec![1, 2]);
        assert!(l.incomplete && l.count_gap.is_some(), "{l:?}");
    }

    #[test]
    fn a_whole_listing_must_hold_every_sequence_number() {
        let a = answers(&[(1, 3), (3, 8), (4, 9)]);
        let l = check(&examined(4, 10), 6, &a, false, true);
        assert!(l.incomplete, "message 2 is not in it: {l:?}");
    }

    #[test]
    fn a_listing_answer_is_read_response_by_response() {
        // As Dovecot and Cyrus answer: FETCH items in either order, a flag change with no
        // size (left for `check` to set aside), one with no UID (left out), an EXISTS, and
        // the untagged OK and FLAGS that are nothing to the listing.
        let raw = b"* 1 FETCH (UID 4 RFC822.SIZE 120)\r\n\
                    * OK [HIGHESTMODSEQ 9] still here\r\n\
                    * 2 FETCH (RFC822.SIZE 3000 UID 7)\r\n\
                    * 3 FETCH (UID 9 FLAGS (\\Seen))\r\n\
                    * 4 FETCH (FLAGS (\\Seen))\r\n\
                    * FLAGS (\\Seen \\Answered)\r\n\
                    * 5 EXISTS\r\n";
        let (got, news) = parse_answers(raw).unwrap();
        let want = [(1, 4, Some(120)), (2, 7, Some(3000)), (3, 9, None)];
        let got: Vec<_> = got.iter().map(|a| (a.seq, a.uid, a.size)).collect();
        assert_eq!(got, want);
        assert!(
            news.moved(&examined(4, 10)),
            "the EXISTS says the mailbox grew"
        );
        assert!(
            !news.moved(&examined(5, 10)),
            "an EXISTS repeating the count is no change"
        );

        let (_, news) = parse_answers(b"* 1 FETCH (UID 4 RFC822.SIZE 1)\r\n").unwrap();
        assert!(!news.moved(&examined(1, 5)));
        let (_, news) = parse_answers(b"* 3 EXPUNGE\r\n").unwrap();
        assert!(news.moved(&examined(3, 5)), "an EXPUNGE moves the counts");
        assert!(parse_answers(b"").unwrap().0.is_empty());
    }

    #[test]
    fn bytes_that_are_no_imap_response_are_an_error_not_an_empty_listing() {
        let err =
            parse_answers(b"* 1 FETCH (UID 4 RFC822.SIZE 120)\r\nHTTP/1.1 200 OK\r\n").unwrap_err();
        assert!(matches!(err, imap::Error::Parse(_)), "{err:?}");
    }
}
