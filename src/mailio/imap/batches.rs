//! Which UIDs one FETCH asks for: batches bounded by count and by bytes, in UID order.
//!
//! Sizes come from the listing (`RFC822.SIZE`, RFC 3501 §6.4.5) and are claims. A message
//! claimed over `[sync] max_message_bytes` goes in a capped batch of its own (see
//! [`super::fetch`]). A UID recorded missing by an earlier sync is fetched alone and
//! capped, so one message bigger than its claim cannot block the others again; once tried
//! again already, after all the others, so one whose every answer breaks the session cannot
//! keep the mail after it out of the store.

use std::collections::BTreeSet;

use super::listing::Listed;
use super::uids::BATCH_BYTES;

/// UIDs fetched with one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub uids: Vec<u32>,
    /// The listing's size claim of each UID, in the same order.
    pub sizes: Vec<Option<u32>>,
    /// Fetched as `BODY.PEEK[]<0.N>`, N one byte over `max_message_bytes`: claimed too
    /// large, or asked for again after an earlier sync could not store it.
    pub capped: bool,
    /// Asked for again: recorded missing by an earlier sync.
    pub retry: bool,
}

/// The FETCHes of one sync: those in UID order, then those after all the others.
#[derive(Debug, Default)]
pub struct Planned {
    /// In UID order.
    pub in_order: Vec<Batch>,
    /// One UID each (listed and in `last`), in `last`'s order: each FETCH's failure is a
    /// gap, not the end of the mailbox (see `super::sync`).
    pub last: Vec<Batch>,
}

/// Splits `listed` (ascending) into batches of at most `max_count` UIDs and about
/// [`BATCH_BYTES`], keeping UID order. Messages claimed over `max_message_bytes` go in
/// capped batches of their own; UIDs in `retry` (recorded missing before) are fetched one
/// by one, capped; those in `last` too, but after all the others, in `last`'s order: a
/// message whose every answer breaks the session ends each sync where it is fetched, and
/// must not keep the mail after it out of the store.
pub fn batches(
    listed: &[Listed],
    max_count: usize,
    max_message_bytes: u64,
    retry: &BTreeSet<u32>,
    last: &[u32],
) -> Planned {
    let mut out: Vec<Batch> = Vec::new();
    let mut bytes = 0u64;
    for l in listed.iter().filter(|l| !last.contains(&l.uid)) {
        let size = l.size.map_or(0, u64::from);
        let again = retry.contains(&l.uid);
        let capped = again || size > max_message_bytes;
        let cost = if capped {
            max_message_bytes.saturating_add(1)
        } else {
            size
        };
        let fits = !again
            && out.last().is_some_and(|b| {
                !b.retry
                    && b.capped == capped
                    && b.uids.len() < max_count.max(1)
                    && (bytes + cost <= BATCH_BYTES || b.uids.is_empty())
            });
        if !fits {
            out.push(Batch {
                uids: Vec::new(),
                sizes: Vec::new(),
                capped,
                retry: again,
            });
            bytes = 0;
        }
        if let Some(b) = out.last_mut() {
            b.uids.push(l.uid);
            b.sizes.push(l.size);
        }
        bytes += cost;
    }
    let last = last
        .iter()
        .filter_map(|uid| listed.iter().find(|l| l.uid == *uid))
        .map(|l| Batch {
            uids: vec![l.uid],
            sizes: vec![l.size],
            capped: true,
            retry: true,
        })
        .collect();
    Planned {
        in_order: out,
        last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(b: Vec<Batch>) -> Vec<(Vec<u32>, bool)> {
        b.into_iter().map(|b| (b.uids, b.capped)).collect()
    }

    /// Every FETCH planned, in the order they are made.
    fn all(p: Planned) -> Vec<Batch> {
        p.in_order.into_iter().chain(p.last).collect()
    }

    fn listed(uid: u32, size: u32) -> Listed {
        Listed {
            uid,
            size: Some(size),
        }
    }

    #[test]
    fn batches_keep_uid_order_and_put_huge_messages_apart() {
        let l = [listed(1, 10), listed(2, 10), listed(3, 900), listed(4, 10)];
        let b = all(batches(&l, 500, 100, &BTreeSet::new(), &[]));
        assert_eq!(
            shape(b),
            vec![(vec![1, 2], false), (vec![3], true), (vec![4], false)]
        );
    }

    #[test]
    fn uids_missing_before_are_fetched_alone_and_capped() {
        let l = [listed(1, 10), listed(2, 10), listed(3, 10), listed(4, 10)];
        let b = all(batches(&l, 500, 100, &[2].into_iter().collect(), &[]));
        assert_eq!(
            shape(b),
            vec![(vec![1], false), (vec![2], true), (vec![3, 4], false)]
        );
    }

    #[test]
    fn uids_that_failed_alone_before_come_after_the_others() {
        let l = [listed(1, 10), listed(2, 10), listed(3, 10), listed(4, 10)];
        let again: BTreeSet<u32> = [2, 3].into_iter().collect();
        let b = batches(&l, 500, 100, &again, &[3, 2, 9]);
        assert_eq!(shape(b.in_order), vec![(vec![1, 4], false)]);
        assert_eq!(
            shape(b.last),
            vec![(vec![3], true), (vec![2], true)],
            "in the order asked for, only those listed"
        );
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        let big = (BATCH_BYTES / 2 + 1) as u32;
        let l = [listed(1, big), listed(2, big), listed(3, 1)];
        let b = all(batches(&l, 500, u64::MAX, &BTreeSet::new(), &[]));
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].uids, vec![2, 3]);
    }
}
