use super::listing::{held_post, MAX_PAGE, MIN_PAGE, PARALLEL_PAGES};
use super::*;
use crate::core::moderation::gaps::{self, ListingGap};

#[test]
fn basic_credentials_are_rfc_4648_base64() {
    // RFC 7617 §2's example, and the padding cases.
    assert_eq!(
        base64("Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(base64("ab"), "YWI=");
    assert_eq!(base64("abc"), "YWJj");
    assert_eq!(base64(""), "");
}

#[test]
fn debug_never_shows_the_password() {
    let c = Client::with_password(
        "http://127.0.0.1:1/3.1/",
        "restadmin",
        "hunter2",
        Duration::from_secs(1),
    )
    .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2") && !shown.contains(&base64("restadmin:hunter2")));
    assert_eq!(c.base(), "http://127.0.0.1:1/3.1");
}

#[test]
fn held_entry_reads_only_documented_fields_and_tolerates_missing_ones() {
    let e: Value = serde_json::json!({
        "request_id": 7,
        "message_id": "<abc@example.net>",
        "sender": "a@example.net",
        "original_subject": "=?utf-8?q?hi?=",
        "reason": "The message is not from a list member",
        "hold_date": "2026-12-01T18:10:08.698644",
        "msg": "Subject: hi\n\nbody\n",
        "surprise": {"nested": true},
    });
    let p = held_post("security@example.org", &e).unwrap();
    assert_eq!(p.request_id, 7);
    assert_eq!(p.message_id.as_deref(), Some("abc@example.net"));
    assert_eq!(p.subject, "=?utf-8?q?hi?=");
    assert_eq!(
        p.hold_date.map(crate::core::store::timestamp).as_deref(),
        Some("2026-12-01T18:10:08Z")
    );
    assert_eq!(
        held_post("l", &serde_json::json!({"sender": "x"})).unwrap_err(),
        "`request_id` is missing"
    );
}

/// A stand-in REST server: answers each request with `reply(path)` (status, body) and
/// records the request heads it saw.
fn serve(
    reply: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/3.1", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let reply = std::sync::Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (log, reply) = (log.clone(), reply.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(head);
                let (status, body) = reply(&path);
                let mut w = stream;
                let _ = write!(
                    w,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (url, seen)
}

/// A stand-in held queue: `held/count` says `said`, the pages serve `ids` (`count` and
/// `page` as Mailman slices them), and the first page also repeats the second's first post
/// (a post moderated meanwhile shifts the pages).
fn queue(said: usize, ids: Vec<usize>) -> impl Fn(&str) -> (u16, String) {
    move |path| {
        if path.ends_with("/held/count") {
            return (200, format!(r#"{{"count": {said}}}"#));
        }
        let param = |name: &str| -> usize {
            let (_, rest) = path.split_once(&format!("{name}=")).unwrap();
            rest.split('&').next().unwrap().parse().unwrap()
        };
        let (count, page) = (param("count"), param("page"));
        let start = ((page - 1) * count).min(ids.len());
        let mut slice: Vec<usize> = ids[start..(start + count).min(ids.len())].to_vec();
        if page == 1 && slice.len() == count && ids.len() > count {
            slice[count - 1] = ids[count];
        }
        let entries: Vec<String> = slice
            .iter()
            .map(|i| format!(r#"{{"request_id": {i}, "msg": "Subject: post {i}\n\nx\n"}}"#))
            .collect();
        let entries = if entries.is_empty() {
            String::new()
        } else {
            format!(r#""entries": [{}], "#, entries.join(","))
        };
        (
            200,
            format!(
                r#"{{{entries}"start": {start}, "total_size": {}}}"#,
                ids.len()
            ),
        )
    }
}

#[test]
fn the_queue_is_fetched_in_equal_slices_at_once_with_basic_auth_and_no_post_twice() {
    let (url, seen) = serve(queue(1000, (1..=1000).collect()));
    let c = Client::with_password(&url, "restadmin", "pw", Duration::from_secs(5)).unwrap();
    let queue = c.held("security@example.org").unwrap();
    let ids: Vec<u64> = queue.posts.iter().map(|p| p.request_id).collect();
    // Page 1 lost its last post to the shift; every other post once, in order.
    let mut want: Vec<u64> = (1..=1000).filter(|i| *i != 256).collect();
    want.sort_by_key(|i| if *i == 257 { 256 } else { *i });
    want.dedup();
    assert_eq!(ids, want);
    // The post the shift hid is not silent: Mailman's count says one more than was read.
    assert_eq!(
        queue.gaps,
        [ListingGap::Miscounted {
            list: "security@example.org".into(),
            said: 1000,
            read: 999
        }]
    );
    let heads = seen.lock().unwrap();
    // The count, then four slices of 256, a power of two (the last one short: nothing more
    // to ask).
    assert_eq!(heads.len(), 5, "{heads:?}");
    assert!(heads[0].starts_with("GET /3.1/lists/security@example.org/held/count "));
    assert_eq!(
        heads
            .iter()
            .filter(|h| h.contains("held?count=256&page="))
            .count(),
        4,
        "{heads:?}"
    );
    let auth = format!("Basic {}", base64("restadmin:pw"));
    assert!(heads.iter().all(|h| h.contains(&auth)), "{heads:?}");
}

#[test]
fn posts_held_after_the_count_are_fetched_too_and_an_empty_queue_is_one_request() {
    // The count said 200; 260 are held by the time the slices are asked for.
    let (url, seen) = serve(queue(200, (1..=260).collect()));
    let c = Client::with_password(&url, "restadmin", "pw", Duration::from_secs(5)).unwrap();
    let queue_ = c.held("security@example.org").unwrap();
    let ids: std::collections::BTreeSet<u64> = queue_.posts.iter().map(|p| p.request_id).collect();
    assert_eq!(ids.len(), 259, "all but the shifted one");
    assert!(ids.contains(&260));
    assert!(gaps::incomplete(&queue_.gaps), "{:?}", queue_.gaps);
    assert_eq!(seen.lock().unwrap().len(), 1 + 2 * PARALLEL_PAGES);

    // A count of 0 is checked with one page, never believed outright.
    let (url, seen) = serve(queue(0, Vec::new()));
    let c = Client::with_password(&url, "restadmin", "pw", Duration::from_secs(5)).unwrap();
    let empty = c.held("security@example.org").unwrap();
    assert!(empty.posts.is_empty() && empty.gaps.is_empty());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// A stand-in that answers every page with the same full page and no `total_size` (a
/// caching proxy that ignores `page`): the listing ends with one clear error instead of
/// asking for pages for ever.
#[test]
fn a_queue_whose_pages_repeat_ends_with_an_error_not_a_hang() {
    let (url, seen) = serve(|path| {
        if path.ends_with("/held/count") {
            return (200, r#"{"count": 3}"#.into());
        }
        let entries: Vec<String> = (1..=MIN_PAGE)
            .map(|i| format!(r#"{{"request_id": {i}, "msg": "Subject: post {i}\n\nx\n"}}"#))
            .collect();
        (
            200,
            format!(r#"{{"entries": [{}], "start": 0}}"#, entries.join(",")),
        )
    });
    let c = Client::with_password(&url, "restadmin", "pw", Duration::from_secs(5)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(c.held("security@example.org").map(|q| q.posts.len()));
    });
    let answer = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the listing never ended");
    let e = answer
        .expect_err("a repeating queue is not a listing")
        .to_string();
    assert!(
        e.starts_with("Mailman's answer to the held queue of security@example.org is not what the REST API documents: pages 5 to 8 of 64 posts repeat posts already listed (64 so far)"),
        "{e}"
    );
    // The first round, then the one that brought nothing new.
    assert_eq!(seen.lock().unwrap().len(), 1 + 2 * PARALLEL_PAGES);
}

/// A stand-in held queue of raw `entries` (JSON objects), sliced by `count` and `page` as
/// Mailman slices them; `held/count` says `said` and each page's `total_size` says `total`
/// (either left out when `None`).
fn raw_queue(
    said: Option<usize>,
    total: Option<usize>,
    entries: Vec<String>,
) -> impl Fn(&str) -> (u16, String) {
    move |path| {
        if path.ends_with("/held/count") {
            return match said {
                Some(n) => (200, format!(r#"{{"count": {n}}}"#)),
                None => (404, String::new()),
            };
        }
        let param = |name: &str| -> usize {
            let (_, rest) = path.split_once(&format!("{name}=")).unwrap();
            rest.split('&').next().unwrap().parse().unwrap()
        };
        let (count, page) = (param("count"), param("page"));
        let start = ((page - 1) * count).min(entries.len());
        let slice = &entries[start..(start + count).min(entries.len())];
        let mut body = format!(r#"{{"start": {start}"#);
        if !slice.is_empty() {
            body.push_str(&format!(r#", "entries": [{}]"#, slice.join(",")));
        }
        if let Some(t) = total {
            body.push_str(&format!(r#", "total_size": {t}"#));
        }
        body.push('}');
        (200, body)
    }
}

fn entry(id: usize) -> String {
    format!(
        r#"{{"request_id": {id}, "sender": "s{id}@example.net", "msg": "Subject: post {id}\n\nx\n"}}"#
    )
}

fn client(url: &str) -> Client {
    Client::with_password(url, "restadmin", "pw", Duration::from_secs(5)).unwrap()
}

/// Entries without a usable request id (missing, null, not a whole number, negative) are
/// not dropped: the listing gives them as one gap, each with its place and what it says of
/// itself, and shows every readable post.
#[test]
fn held_entries_without_a_usable_request_id_are_a_gap_not_dropped() {
    let entries = vec![
        entry(1),
        r#"{"sender": "alice@reporter.example", "subject": "Heap overflow in zipfile", "hold_date": "2026-12-01T18:10:08"}"#.to_string(),
        r#"{"request_id": null, "sender": "bob@reporter.example"}"#.to_string(),
        r#"{"request_id": "seven", "subject": "x"}"#.to_string(),
        r#"{"request_id": -3, "subject": "y"}"#.to_string(),
        r#"{"request_id": 2.5, "subject": "z"}"#.to_string(),
        entry(7),
    ];
    let (url, _) = serve(raw_queue(Some(7), Some(7), entries));
    let queue = client(&url).held("security@example.org").unwrap();
    let ids: Vec<u64> = queue.posts.iter().map(|p| p.request_id).collect();
    assert_eq!(ids, [1, 7]);
    let [ListingGap::Unreadable { list, entries }] = queue.gaps.as_slice() else {
        panic!(
            "one gap of unreadable entries, and no miscount: {:?}",
            queue.gaps
        );
    };
    assert_eq!(list, "security@example.org");
    let got: Vec<(usize, &str)> = entries
        .iter()
        .map(|e| (e.position, e.why.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "`request_id` is missing"),
            (3, "`request_id` is null"),
            (4, "`request_id` is \"seven\", not a request id"),
            (5, "`request_id` is -3, not a request id"),
            (6, "`request_id` is 2.5, not a request id"),
        ]
    );
    let line = queue.gaps[0].to_string();
    assert!(
        line.starts_with("5 held entries of security@example.org could not be read: entry 2 (\"Heap overflow in zipfile\" from alice@reporter.example held 2026-12-01T18:10:08: `request_id` is missing)"),
        "{line}"
    );
    assert!(gaps::incomplete(&queue.gaps));
}

/// The listing of a stand-in holding posts 1 to `held` whose counts (`held/count` and
/// `total_size`) both say `said`, and how many requests it took.
fn listed_with_count(said: usize, held: usize) -> (HeldQueue, usize) {
    let (url, seen) = serve(raw_queue(
        Some(said),
        Some(said),
        (1..=held).map(entry).collect(),
    ));
    let queue = client(&url).held("l@x").unwrap();
    let requests = seen.lock().unwrap().len();
    (queue, requests)
}

/// Mailman's counts are claims: a count of 0 (or fewer than it gives) hides nothing, a
/// count over what it gives is said, and neither stops the listing early.
#[test]
fn a_lying_held_count_neither_hides_posts_nor_passes_unsaid() {
    // Says 0 everywhere, holds 300: every post listed. A count under the entries read is
    // no gap (a post held while the pages were read makes it so): nothing is missing, and a
    // warning on every such race would teach moderators to skip the one that matters.
    let (queue, _) = listed_with_count(0, 300);
    assert_eq!(queue.posts.len(), 300);
    assert_eq!(queue.gaps, []);

    // `held/count` (asked before the pages) says one more than the pages hold, as when a
    // post is moderated meanwhile; the pages' own `total_size` agrees with them: no gap.
    let (url, _) = serve(raw_queue(
        Some(301),
        Some(300),
        (1..=300).map(entry).collect(),
    ));
    let queue = client(&url).held("l@x").unwrap();
    assert_eq!(
        (queue.posts.len(), queue.gaps.len()),
        (300, 0),
        "{:?}",
        queue.gaps
    );

    // Says 10 (count and total_size alike), holds 600: the old listing stopped at 256.
    let (queue, requests) = listed_with_count(10, 600);
    assert_eq!(queue.posts.len(), 600);
    assert_eq!(requests, 1 + 3 * PARALLEL_PAGES, "pages of 64, 4 at a time");

    // Says 1000, gives 10: the 990 it never gave may be missing.
    let (queue, _) = listed_with_count(1000, 10);
    assert_eq!(queue.posts.len(), 10);
    assert!(gaps::incomplete(&queue.gaps));
    assert!(
        queue.gaps[0]
            .to_string()
            .starts_with("Mailman says l@x holds 1000 posts, but gave only 10: 990 may be missing"),
        "{:?}",
        queue.gaps
    );

    // Counts that agree with a queue of exactly full pages: one page more checks them.
    let (queue, requests) = listed_with_count(256, 256);
    assert_eq!((queue.posts.len(), queue.gaps.len()), (256, 0));
    assert_eq!(requests, 1 + PARALLEL_PAGES + 1);
}

/// A full page of entries not seen before, whatever page is asked for, and no count: a
/// queue that never ends.
fn endless_page(path: &str) -> (u16, String) {
    let page: usize = path
        .split_once("page=")
        .map_or(0, |(_, p)| p.parse().unwrap_or(0));
    let entries: Vec<String> = (1..=MAX_PAGE).map(|i| entry(page * 10_000 + i)).collect();
    (200, format!(r#"{{"entries": [{}]}}"#, entries.join(",")))
}

/// A server that answers page after page of new entries, with no count, is read only up to
/// the bound, and the listing says it stopped there.
#[test]
fn an_endless_queue_is_read_up_to_the_bound_and_says_so() {
    let (url, seen) = serve(endless_page);
    let c = client(&url).with_entry_limit(3 * MAX_PAGE);
    let queue = c.held("l@x").unwrap();
    assert_eq!(queue.posts.len(), PARALLEL_PAGES * MAX_PAGE);
    assert_eq!(
        queue.gaps,
        [ListingGap::Truncated {
            list: "l@x".into(),
            read: PARALLEL_PAGES * MAX_PAGE
        }]
    );
    assert!(gaps::incomplete(&queue.gaps));
    assert_eq!(seen.lock().unwrap().len(), 1 + PARALLEL_PAGES);
}

/// Held mail is bounded in bytes too: a queue of large posts (Mailman holds any post over
/// its size limit) stops at the bound, and the listing says so.
#[test]
fn a_queue_of_large_posts_is_read_up_to_the_byte_bound_and_says_so() {
    let (url, _) = serve(endless_page);
    let queue = client(&url).with_byte_limit(1).held("l@x").unwrap();
    assert_eq!(
        queue.posts.len(),
        PARALLEL_PAGES * MAX_PAGE,
        "one round, then the stop"
    );
    assert!(
        matches!(queue.gaps[..], [ListingGap::Truncated { .. }]),
        "{:?}",
        queue.gaps
    );
    assert!(queue.gaps[0].to_string().contains("in bytes of mail"));
}

/// Acting by id re-reads the post: an entry that is there but has no usable request id is
/// an error naming the web UI, never "no longer held" (which the CLI reports as done).
#[test]
fn a_held_post_read_by_id_without_a_usable_request_id_is_an_error() {
    let (url, _) = serve(|_| (200, r#"{"request_id": null, "sender": "a@x"}"#.into()));
    let e = client(&url).held_post("l@x", 5).unwrap_err().to_string();
    assert!(
        e.contains("`request_id` is null") && e.contains("Mailman's web UI"),
        "{e}"
    );
}

#[test]
fn statuses_become_one_clear_error_or_already_handled() {
    let (url, _) = serve(|path| match path {
        p if p.ends_with("/held/1") => (404, r#"{"title": "404 Not Found"}"#.into()),
        p if p.ends_with("/held/2") => (204, String::new()),
        p if p.contains("/lists/nope@x/") => (404, String::new()),
        p if p.contains("/lists/locked@x/") => (401, String::new()),
        _ => (500, "<html>\u{1b}[31m boom</html>".into()),
    });
    let c = Client::with_password(&url, "restadmin", "s3cret", Duration::from_secs(5)).unwrap();
    let l = "security@x";
    assert_eq!(
        c.moderate(l, 1, Action::Accept, None).unwrap(),
        Moderated::AlreadyHandled
    );
    assert_eq!(
        c.moderate(l, 2, Action::Reject, Some("why")).unwrap(),
        Moderated::Done
    );
    let e = c.held("nope@x").unwrap_err().to_string();
    assert!(
        e.contains("no list \"nope@x\"") && e.contains("[mailman] lists"),
        "{e}"
    );
    let e = c.held("locked@x").unwrap_err().to_string();
    assert!(
        e.contains("refused the login") && !e.contains("s3cret"),
        "{e}"
    );
    let e = c
        .moderate(l, 3, Action::Defer, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTTP 500") && !e.contains('\u{1b}'), "{e}");
}

#[test]
fn host_is_found_for_loopback_checks_and_proxies() {
    assert_eq!(url_host("http://127.0.0.1:8001/3.1"), Some("127.0.0.1"));
    assert_eq!(url_host("https://[::1]:8001/3.1"), Some("::1"));
    assert_eq!(
        url_host("https://lists.example.org"),
        Some("lists.example.org")
    );
}

/// Held entries exactly as Mailman 3.3.8 listed them (tests/fixtures/mailman): honest posts
/// with RFC 2047 subjects and display names, a folded subject and Message-ID, no subject, no
/// From, undecodable charsets, two Subject fields, no Message-ID (Mailman made one); then a
/// pharma spam and a real report sent under the same Message-ID, which Mailman lists with
/// the spam's text for both.
fn mailman_3_3_8_entries() -> Vec<crate::core::moderation::HeldPost> {
    let json: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/mailman/held-3.3.8.json"
    ))
    .unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| held_post("security@example.org", e).unwrap())
        .collect()
}

#[test]
fn a_post_is_judged_only_by_its_own_text_as_mailman_gives_it() {
    use crate::core::moderation::doubt::{doubts, own, Doubt};
    let posts = mailman_3_3_8_entries();
    assert_eq!(posts.len(), 10);
    let (honest, same_id) = posts.split_at(8);
    for p in honest {
        assert_eq!(
            own(p),
            None,
            "{} from {} is its own text",
            p.subject,
            p.sender
        );
    }
    let (spam, report) = (&same_id[0], &same_id[1]);
    assert_eq!(report.sender, "alice@research.example");
    assert!(String::from_utf8_lossy(&report.raw).contains("Cheap pills"));
    // The report's entry with the spam's text: its From says so.
    let Some(Doubt::OtherText(what)) = own(report) else {
        panic!("the report's text is the spam's: {:?}", own(report));
    };
    assert!(
        what.contains("deals@pharma.example") && what.contains("alice@research.example"),
        "{what}"
    );
    // The spam agrees with its own entry, but shares its Message-ID with the report.
    assert_eq!(own(spam), None);
    let all = doubts(&posts);
    assert!(all[..8].iter().all(Option::is_none), "{all:?}");
    assert_eq!(
        all[8],
        Some(Doubt::SharedMessageId(vec![(
            "security@example.org".into(),
            report.request_id
        )]))
    );
    assert!(matches!(all[9], Some(Doubt::OtherText(_))), "{all:?}");
}
