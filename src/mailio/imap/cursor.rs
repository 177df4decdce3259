//! Where a mailbox's sync starts and how far its cursor may move (RFC 3501 §2.3.1.1).
//!
//! UIDs are only meaningful within one UIDVALIDITY, so the store keeps `(uidvalidity,
//! last_uid)` per mailbox. The cursor is the highest UID below which every UID the server
//! listed is stored: it walks the listing in UID order and stops at the first one whose
//! body is not stored, so a gap is asked for again by the next sync.

use std::collections::BTreeSet;

use crate::core::store::MailboxState;

use super::sync::Examined;

/// Where to start fetching, given what the store remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The first UID to ask for.
    pub first_uid: u32,
    /// The cursor must be rewritten even if no message arrives (new mailbox or
    /// UIDVALIDITY change), so the next sync is incremental.
    pub reset: bool,
    /// The server's UIDNEXT proves there is nothing new: skip the search.
    pub up_to_date: bool,
    /// The store had a cursor under another UIDVALIDITY (not a mailbox synced for the
    /// first time).
    pub uidvalidity_changed: bool,
}

/// Decides what to fetch (RFC 3501 §2.3.1.1). `unsettled`: the store still records UIDs
/// of this mailbox missing, or a gap in its counts, so it is listed again whatever the
/// counts say.
///
/// Only UIDNEXT at or below the first UID proves there is nothing new. EXISTS 0 does not
/// (a server may say it while UIDNEXT shows mail arrived): the listing of an empty mailbox
/// is one cheap command, and it is what lets the cursor move to UIDNEXT.
pub fn plan(examined: &Examined, stored: Option<MailboxState>, unsettled: bool) -> Plan {
    let (first_uid, reset) = match stored {
        Some(st) if st.uidvalidity == examined.uidvalidity => {
            (st.last_uid.saturating_add(1), false)
        }
        _ => (1, true),
    };
    let uidvalidity_changed = stored.is_some_and(|st| st.uidvalidity != examined.uidvalidity);
    let nothing_new = match examined.uid_next {
        Some(next) => next <= first_uid,
        None => examined.exists == 0,
    };
    Plan {
        first_uid,
        reset,
        up_to_date: nothing_new && (reset || !unsettled),
        uidvalidity_changed,
    }
}

/// The cursor's walk over the listed UIDs: it moves past a UID only once it is stored.
pub struct Walk {
    /// Ascending.
    pub listed: Vec<u32>,
    pub pos: usize,
    pub done: BTreeSet<u32>,
    pub at: u32,
    /// The listing did not add up: the cursor stays where it was.
    pub frozen: bool,
}

impl Walk {
    pub fn advance(&mut self) -> u32 {
        while !self.frozen
            && self.pos < self.listed.len()
            && self.done.contains(&self.listed[self.pos])
        {
            self.at = self.at.max(self.listed[self.pos]);
            self.pos += 1;
        }
        self.at
    }

    /// Listed UIDs not stored yet.
    pub fn pending(&self) -> impl Iterator<Item = u32> + '_ {
        self.listed
            .iter()
            .copied()
            .filter(|u| !self.done.contains(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examined(uidvalidity: u32, uid_next: u32, exists: u32) -> Examined {
        Examined {
            mailbox: "INBOX".into(),
            uidvalidity,
            uid_next: Some(uid_next),
            exists,
        }
    }

    #[test]
    fn same_uidvalidity_continues_after_last_uid() {
        let st = MailboxState {
            uidvalidity: 7,
            last_uid: 40,
        };
        let p = plan(&examined(7, 45, 44), Some(st), false);
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (41, false, false));
        let p = plan(&examined(7, 41, 40), Some(st), false);
        assert!(p.up_to_date, "UIDNEXT 41 means nothing after 40");
        let p = plan(&examined(7, 41, 40), Some(st), true);
        assert!(
            !p.up_to_date,
            "UIDs still recorded missing are listed again"
        );
    }

    #[test]
    fn only_a_stored_cursor_under_another_uidvalidity_is_a_change() {
        // Before, a mailbox synced for the first time said "mailbox UIDVALIDITY changed"
        // whenever two of its messages were the same.
        let first = plan(&examined(7, 5, 4), None, false);
        assert!(first.reset && !first.uidvalidity_changed);
        let st = MailboxState {
            uidvalidity: 6,
            last_uid: 40,
        };
        let changed = plan(&examined(7, 5, 4), Some(st), false);
        assert!(changed.reset && changed.uidvalidity_changed);
        assert_eq!(changed.first_uid, 1);
    }

    #[test]
    fn exists_zero_proves_nothing_while_uidnext_moved() {
        let st = MailboxState {
            uidvalidity: 7,
            last_uid: 2,
        };
        let p = plan(&examined(7, 6, 0), Some(st), false);
        assert_eq!(
            (p.first_uid, p.up_to_date),
            (3, false),
            "UIDNEXT 6 says UIDs 3 to 5 were given out: list them"
        );
        let p = plan(&examined(7, 3, 0), Some(st), false);
        assert!(p.up_to_date);
    }

    #[test]
    fn new_or_changed_uidvalidity_fetches_everything() {
        let st = MailboxState {
            uidvalidity: 7,
            last_uid: 40,
        };
        let p = plan(&examined(8, 41, 40), Some(st), false);
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (1, true, false));
        let p = plan(&examined(8, 1, 0), None, false);
        assert_eq!((p.first_uid, p.reset, p.up_to_date), (1, true, true));
    }

    #[test]
    fn the_walk_stops_at_the_first_uid_not_stored() {
        let mut w = Walk {
            listed: vec![1, 2, 4, 5, 9],
            pos: 0,
            done: [1, 2, 5, 9].into_iter().collect(),
            at: 0,
            frozen: false,
        };
        assert_eq!(w.advance(), 2, "4 is not stored");
        assert_eq!(w.pending().collect::<Vec<_>>(), vec![4]);
        w.done.insert(4);
        assert_eq!(w.advance(), 9);
        w.frozen = true;
        w.pos = 0;
        w.at = 0;
        assert_eq!(
            w.advance(),
            0,
            "a listing that did not add up never moves it"
        );
    }
}
