//! Listing a list's held queue (`GET …/held`, paged): slices asked for at once, pages over
//! the answer bound split, and what the listing could not show kept as its gaps
//! (`core::moderation::gaps`): an entry without a usable `request_id`, a count
//! (`held/count`, `total_size`) that disagrees with the entries read, a stop at the bound
//! on entries. Mailman's counts only size the slices; the listing ends on a short page.

use std::collections::HashSet;

use serde_json::Value;
use sha2::{Digest, Sha256};
use ureq::http::StatusCode;

use super::{parse_json, Client, MailmanError};
use crate::core::moderation::gaps::{ListingGap, UnreadableEntry};
use crate::core::moderation::HeldPost;
use crate::core::sanitize::terminal_line;

/// Requests in flight at once while listing. Mailman builds every entry in Python (about
/// 5 ms of CPU each: the request's pended data from SQL, the message unpickled and flattened
/// again, the JSON hashed for its etag; docs/benchmarks.md), and a sync REST worker (two by
/// default) serves one request at a time. So the queue is asked for in equal slices, all at
/// once, which keeps every worker busy until the end.
pub(super) const PARALLEL_PAGES: usize = 4;
/// The slice size bounds (`?count=`): small queues in one request, big ones in slices whose
/// responses stay a few MB. Slice sizes are powers of two, so that a slice whose answer is
/// over [`MAX_RESPONSE_BYTES`] is asked for again as its two halves (pages `2p-1` and `2p` of
/// half the size cover page `p` exactly).
pub(super) const MIN_PAGE: usize = 64;
pub(super) const MAX_PAGE: usize = 512;

/// The most held entries one listing reads from one list. A queue this long is not read by
/// a moderator post by post (Mailman builds each entry in about 5 ms, so it is a minute of
/// Mailman's time), and a server that answers page after page of new entries would
/// otherwise be read for ever: past it the listing stops and says so
/// ([`ListingGap::Truncated`]). Reached a round of pages at a time, so up to
/// `PARALLEL_PAGES * MAX_PAGE` more may be read.
pub(super) const MAX_HELD_ENTRIES: usize = 10_000;
/// The most bytes of held messages one listing keeps from one list, beside the bound on
/// entries: Mailman holds any post over its size limit, and 10,000 of 200 KB each would be
/// 2 GB. Past it the listing stops and says so, as at the bound on entries.
pub(super) const MAX_HELD_BYTES: usize = 256 << 20;

/// A list's held queue as Mailman gave it: the posts, and what the listing could not show.
#[derive(Debug, Default)]
pub struct HeldQueue {
    pub posts: Vec<HeldPost>,
    pub gaps: Vec<ListingGap>,
}

/// One page (or slice) of held entries.
struct Page {
    posts: Vec<HeldPost>,
    /// Entries without a usable request id, each with its [`digest`].
    unreadable: Vec<(UnreadableEntry, [u8; 32])>,
    /// Mailman's `total_size`, a claim.
    total: Option<u64>,
    /// The page held as many entries as asked: there may be more.
    full: bool,
}

impl Client {
    /// Every post held for `list`, in Mailman's order, and what the listing could not show
    /// ([`ListingGap`]). `held/count` (cheap: no entry is built) sizes the slices; then
    /// `PARALLEL_PAGES` slices are fetched at a time, until a slice comes back short (posts
    /// held meanwhile are fetched too) or `MAX_HELD_ENTRIES` entries were read. Mailman's
    /// counts (`held/count`, `total_size`) are claims: a count of 0 is checked with one
    /// page, the listing never stops because a count says it is done, and a count that
    /// disagrees with the entries read is a gap.
    pub fn held(&self, list: &str) -> Result<HeldQueue, MailmanError> {
        let held = self.held_count(list)?;
        let size = match held {
            Some(n) => n
                .div_ceil(PARALLEL_PAGES)
                .next_power_of_two()
                .clamp(MIN_PAGE, MAX_PAGE),
            // A Mailman without `held/count`, or no such list: the first page says which.
            None => MAX_PAGE,
        };
        let mut reading = Reading {
            held: held.map(|n| n as u64),
            ..Reading::default()
        };
        let mut next = 1;
        // An empty queue (by its count) costs one page, not a round of them.
        let mut width = if held == Some(0) { 1 } else { PARALLEL_PAGES };
        let truncated = loop {
            let pages = std::thread::scope(|s| {
                let handles: Vec<_> = (next..next + width)
                    .map(|page| s.spawn(move || self.held_slice(list, size, page, held)))
                    .collect();
                handles
                    .into_iter()
                    // A page fetch only panics on a bug; surface it, do not hide it.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect::<Vec<_>>()
            });
            let before = reading.read();
            let full = reading.take(pages)?;
            // Full pages that bring no entry not listed yet: the answer repeats itself (a
            // proxy or cache that ignores `page`). Asking on would never end.
            if full && reading.read() == before {
                return Err(repeating(list, size, next, width, before));
            }
            next += width;
            // Done only when a page came back short: a count that says the queue is done
            // is checked with one more page, never believed.
            if !full {
                break false;
            }
            if reading.read() >= self.entry_limit || reading.bytes >= self.byte_limit {
                break true;
            }
            width = if reading.counts_agree() {
                1
            } else {
                PARALLEL_PAGES
            };
        };
        Ok(reading.into_queue(list, truncated))
    }

    /// How many posts `list` holds, from `held/count`; `None` when Mailman does not answer
    /// it (no such list, or a Mailman older than 3.3).
    fn held_count(&self, list: &str) -> Result<Option<usize>, MailmanError> {
        let url = format!("{}/lists/{list}/held/count", self.base);
        let (status, body) = self.send(&url, None)?;
        if status != StatusCode::OK {
            return Ok(None);
        }
        let json = parse_json(&format!("the held count of {list}"), &body)?;
        Ok(json
            .get("count")
            .and_then(Value::as_u64)
            .map(|n| n as usize))
    }

    /// Page `page` of `size` held posts, as [`Client::held_page`] gives it. A page whose answer
    /// is over [`MAX_RESPONSE_BYTES`] is asked for again in smaller pages (a power of two below
    /// the posts it holds, by `held/count`'s `held` when known), down to single posts.
    fn held_slice(
        &self,
        list: &str,
        size: usize,
        page: usize,
        held: Option<usize>,
    ) -> Result<Page, MailmanError> {
        let answer = self.held_page(list, size, page);
        let Err(MailmanError::TooLarge { .. }) = answer else {
            return answer;
        };
        let first = (page - 1) * size;
        // A count that says nothing is held this far is wrong (this page is too big to
        // read): the page is taken as full.
        let in_page = held
            .filter(|&n| n > first)
            .map_or(size, |n| (n - first).min(size));
        if in_page <= 1 {
            return Err(MailmanError::PostTooLarge {
                list: terminal_line(list),
                position: first + 1,
                limit: self.response_limit,
            });
        }
        // The largest power of two below the posts in the page: it divides `size` (itself a
        // power of two, see MIN_PAGE), so the smaller pages cover this one exactly.
        let smaller = 1 << (usize::BITS - 1 - (in_page - 1).leading_zeros());
        let mut whole = Page {
            posts: Vec::new(),
            unreadable: Vec::new(),
            total: None,
            full: true,
        };
        for sub in first / smaller + 1..=(first + size) / smaller {
            let part = self.held_slice(list, smaller, sub, held)?;
            whole.posts.extend(part.posts);
            whole.unreadable.extend(part.unreadable);
            whole.total = part.total.or(whole.total);
            if !part.full {
                whole.full = false;
                return Ok(whole);
            }
        }
        Ok(whole)
    }

    /// One page of `size` held entries: its posts, the entries without a usable request id,
    /// `total_size`, and whether it was full.
    fn held_page(&self, list: &str, size: usize, page: usize) -> Result<Page, MailmanError> {
        let url = format!("{}/lists/{list}/held?count={size}&page={page}", self.base);
        let what = format!("the held queue of {list}");
        let (status, body) = self.send(&url, None)?;
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(MailmanError::NoSuchList {
                    list: list.to_string(),
                })
            }
            _ => return Err(self.unexpected(&what, status, &body)),
        }
        let json = parse_json(&what, &body)?;
        // `entries` is left out when nothing (more) is held.
        let entries = match json.get("entries") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                return Err(MailmanError::BadResponse {
                    what,
                    detail: "`entries` is not an array".into(),
                })
            }
        };
        let total = json.get("total_size").and_then(Value::as_u64);
        let mut posts = Vec::new();
        let mut unreadable = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match held_post(list, e) {
                Ok(p) => posts.push(p),
                Err(why) => {
                    let position = (page - 1) * size + i + 1;
                    unreadable.push((unreadable_entry(e, position, why), digest(e)));
                }
            }
        }
        Ok(Page {
            posts,
            unreadable,
            total,
            full: entries.len() >= size,
        })
    }
}

/// A listing under way: the entries read so far, and Mailman's counts.
#[derive(Default)]
struct Reading {
    posts: Vec<HeldPost>,
    unreadable: Vec<UnreadableEntry>,
    /// The unreadable entries' digests, so that a shifted page lists none twice.
    seen_unreadable: HashSet<[u8; 32]>,
    /// The request ids listed, so that a shifted page lists no post twice.
    seen_posts: HashSet<u64>,
    /// The bytes of the posts' messages kept.
    bytes: usize,
    /// `held/count`'s count, and the latest page's `total_size`: claims.
    held: Option<u64>,
    total: Option<u64>,
}

impl Reading {
    /// Entries read: posts and unreadable entries.
    fn read(&self) -> usize {
        self.posts.len() + self.unreadable.len()
    }

    /// Adds a round of pages, in order, up to the first short one; whether all were full.
    fn take(&mut self, pages: Vec<Result<Page, MailmanError>>) -> Result<bool, MailmanError> {
        for page in pages {
            let page = page?;
            self.total = page.total.or(self.total);
            for p in page.posts {
                // A post moderated meanwhile shifts the pages: never list one twice.
                if self.seen_posts.insert(p.request_id) {
                    self.bytes += p.raw.len();
                    self.posts.push(p);
                }
            }
            for (entry, digest) in page.unreadable {
                if self.seen_unreadable.insert(digest) {
                    self.unreadable.push(entry);
                }
            }
            if !page.full {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Mailman's count to check the entries against: the pages' own `total_size` when they
    /// gave one (counted with the entries), else `held/count` (asked before the pages, so a
    /// post handled or held meanwhile makes it differ without any post missing).
    fn count(&self) -> Option<u64> {
        self.total.or(self.held)
    }

    /// True when Mailman's count agrees with the entries read: then one page checks it. A
    /// count proven wrong (or none) steers nothing.
    fn counts_agree(&self) -> bool {
        self.count() == Some(self.read() as u64)
    }

    /// The queue, with its gaps: the unreadable entries, then a stop at the bound or a count
    /// over the entries read (posts may be missing). A count under them is no gap: every
    /// entry read is listed, and a post held while the pages were read makes it so.
    fn into_queue(self, list: &str, truncated: bool) -> HeldQueue {
        let read = self.read();
        let over = self.count().filter(|&n| n > read as u64);
        let mut gaps = Vec::new();
        if !self.unreadable.is_empty() {
            gaps.push(ListingGap::Unreadable {
                list: list.to_string(),
                entries: self.unreadable,
            });
        }
        if truncated {
            gaps.push(ListingGap::Truncated {
                list: list.to_string(),
                read,
            });
        } else if let Some(said) = over {
            gaps.push(ListingGap::Miscounted {
                list: list.to_string(),
                said,
                read,
            });
        }
        HeldQueue {
            posts: self.posts,
            gaps,
        }
    }
}

/// The error of a listing whose round of `width` pages from `next` brought nothing new.
fn repeating(list: &str, size: usize, next: usize, width: usize, read: usize) -> MailmanError {
    let (pages, verb) = if width == 1 {
        (format!("page {next}"), "repeats")
    } else {
        (format!("pages {next} to {}", next + width - 1), "repeat")
    };
    MailmanError::BadResponse {
        what: format!("the held queue of {}", terminal_line(list)),
        detail: format!(
            "{pages} of {size} posts {verb} posts already listed ({read} so far) instead of going on; check that nothing between secdesk and Mailman caches or rewrites its answers, then list again"
        ),
    }
}

/// Reads the documented fields of one held entry; without a usable request id (missing,
/// null, not a whole number, negative), why not: such an entry is a gap of the listing.
pub(super) fn held_post(list: &str, e: &Value) -> Result<HeldPost, String> {
    let text = |key: &str| e.get(key).and_then(Value::as_str).map(str::to_string);
    let request_id = match e.get("request_id") {
        None => return Err("`request_id` is missing".into()),
        Some(Value::Null) => return Err("`request_id` is null".into()),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                let shown: String = terminal_line(&v.to_string()).chars().take(40).collect();
                format!("`request_id` is {shown}, not a request id")
            })?,
    };
    let raw = text("msg").unwrap_or_default().into_bytes();
    Ok(HeldPost {
        list: list.to_string(),
        request_id,
        message_id: text("message_id")
            .as_deref()
            .and_then(HeldPost::normalize_message_id),
        sender: text("sender").unwrap_or_default(),
        subject: text("subject")
            .or_else(|| text("original_subject"))
            .unwrap_or_default(),
        reason: text("reason").unwrap_or_default(),
        hold_date: text("hold_date")
            .as_deref()
            .and_then(HeldPost::parse_hold_date),
        raw,
    })
}

/// What an entry that is not a post says of itself, for the moderator to find it in
/// Mailman's web UI.
fn unreadable_entry(e: &Value, position: usize, why: String) -> UnreadableEntry {
    let text = |key: &str| {
        e.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    UnreadableEntry {
        position,
        why,
        sender: text("sender"),
        subject: if text("subject").is_empty() {
            text("original_subject")
        } else {
            text("subject")
        },
        message_id: text("message_id"),
        hold_date: text("hold_date"),
    }
}

/// Tells one unreadable entry from another across pages (it has no id to tell it by).
fn digest(e: &Value) -> [u8; 32] {
    Sha256::digest(e.to_string().as_bytes()).into()
}
