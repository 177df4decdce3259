//! `secdesk held` end to end: the real binary against a real GNU Mailman 3 core, whose
//! outgoing mail goes to an aiosmtpd sink that writes into a real Dovecot mailbox, so a post
//! accepted from the desk comes back through `secdesk sync` like any list mail.
//!
//! One Mailman serves the whole moderation story (it takes seconds and ~460 MB to start);
//! each step asserts what a moderator would see.

#[path = "support/mailman.rs"]
mod mailman;
#[path = "support/passes.rs"]
mod passes;
mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mailman::{wait_for_sink, Mailman, ADMIN_PASS, ADMIN_USER};
use serde_json::Value;
use support::{Dovecot, Smtp};

const LIST: &str = "security@example.org";
const LIST_ID: &str = "security.example.org";
const IMAP_USER: &str = "security";
const IMAP_PASS: &str = "imap-Pa55word";
const IMAP_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const MAILMAN_VAR: &str = "SECDESK_TEST_MAILMAN_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// One desk: a config and a database of its own.
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(rest_url: &str, who: &str, imap: Option<(&Dovecot, u16)>, extra: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let imap = imap
            .map(|(server, port)| {
                format!(
                    "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"tls\"\n\
                     username = \"{IMAP_USER}\"\npassword_env = \"{IMAP_VAR}\"\nca_file = {:?}\n\n",
                    server.ca_file()
                )
            })
            .unwrap_or_default();
        let config = format!(
            "{imap}[store]\npath = {:?}\n\n[identity]\nname = \"{who}\"\nemail = \"{who}@example.org\"\n\n\
             [mailman]\nrest_url = \"{rest_url}\"\nusername = \"{ADMIN_USER}\"\n\
             password_env = \"{MAILMAN_VAR}\"\nlists = [\"{LIST}\"]\n{extra}",
            dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Runs secdesk with the right passwords, stdin not a terminal.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(ADMIN_PASS, args)
    }

    fn run_with(&self, mailman_password: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.arg("--config")
            .arg(self.config())
            .args(args)
            .env(MAILMAN_VAR, mailman_password)
            .env(IMAP_VAR, IMAP_PASS);
        support::output_within(cmd, RUN_TIMEOUT)
    }

    /// Runs secdesk and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "secdesk {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    fn held(&self) -> Vec<Value> {
        let json: Value = serde_json::from_str(&self.ok(&["held", "--json"])).expect("held json");
        json.as_array().expect("held --json is an array").clone()
    }
}

fn post(message_id: &str, from: &str, subject: &str, body: &str) -> Vec<u8> {
    mailman::list_post(LIST, message_id, from, subject, body)
}

/// The held posts each desk test starts from: two spam, two reports, one hostile subject.
fn hold_posts(mm: &Mailman) {
    let posts = [
        ("spam1@lottery.example", "win@lottery.example", "You WON 1000000 dollars, claim now",
         "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money."),
        ("spam2@pills.example", "deals@pills.example", "Cheap pills, best price, order now",
         "Buy cheap viagra and cialis online now! Best price, no prescription, discount offer, click here to order and unsubscribe."),
        ("report1@reporter.example", "alice@reporter.example", "Heap overflow in zipfile with a crafted archive",
         "Hello, I found a heap buffer overflow in the zipfile module of CPython 3.12.1. A crafted archive with a negative extra field length crashes the interpreter. Reproducer attached: python3 repro.py crash.zip. ASAN reports a heap-buffer-overflow read in zipimport."),
        ("report2@reporter.example", "bob@reporter.example", "Path traversal in tarfile extractall",
         "Hi team, tarfile.extractall in Python 3.11.4 follows a symlink member and writes outside the target directory. Steps to reproduce: create the archive with the attached script, run extractall, observe /tmp/pwned. Affected versions 3.8 to 3.12."),
        ("hostile@reporter.example", "mallory@reporter.example", "Crash in json \u{1b}]2;owned\u{7}\u{1b}[31m module",
         "The json module of CPython 3.12 crashes with a deeply nested document; reproducer: python3 -c 'import json; json.loads(\"[\"*100000)'."),
    ];
    hold(mm, &posts);
}

/// Posts each `(message id, sender, subject, body)` to [`LIST`] as a non-member and waits
/// until Mailman holds them all; their request ids.
fn hold(mm: &Mailman, posts: &[(&str, &str, &str, &str)]) -> Vec<u64> {
    for (id, from, subject, body) in posts {
        mm.post(LIST, from, &post(id, from, subject, body));
    }
    mm.wait_held(LIST_ID, posts.len())
}

fn by_message_id<'a>(held: &'a [Value], message_id: &str) -> &'a Value {
    held.iter()
        .find(|h| h["message_id"] == message_id)
        .unwrap_or_else(|| panic!("{message_id} not among held posts: {held:?}"))
}

fn request_id(held: &[Value], message_id: &str) -> String {
    by_message_id(held, message_id)["request_id"].to_string()
}

fn single_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a failure, got success: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn moderating_the_held_queue_against_a_real_mailman() {
    if !Mailman::installed() {
        eprintln!("skip: Debian mailman3 is not installed (scripts/test installs it)");
        return;
    }
    let dovecot = Dovecot::start();
    dovecot.add_user(IMAP_USER, IMAP_PASS);
    let inbox = dovecot.maildir(IMAP_USER, "INBOX");
    let smtp = Smtp::start(&inbox);
    let mut mm = Mailman::start(smtp.port);
    mm.create_list(LIST);
    hold_posts(&mm);
    let desk = Desk::new(
        &mm.rest_url(),
        "ada",
        Some((&dovecot, dovecot.imaps_port)),
        "",
    );
    let second = Desk::new(&mm.rest_url(), "bob", None, "");

    // Held posts are listed with their class; the contract's fields and nothing raw.
    let held = desk.held();
    assert_eq!(held.len(), 5, "{held:?}");
    let fields: BTreeSet<&str> = held[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let contract = [
        "list",
        "request_id",
        "message_id",
        "sender",
        "subject",
        "reason",
        "hold_date",
        "class",
        "outcome",
        "spam_score",
        "reasons",
        // Added with the sender authentication's standing; the names above stay.
        "auth",
        // Added for posts whose content Mailman lost (false here: every post has its own).
        "content_lost",
        // Added for posts Mailman lists with another post's text (false here too).
        "text_mismatch",
        // Added for held entries without a usable request id (null for a post).
        "unreadable",
    ];
    assert_eq!(fields, contract.into_iter().collect());
    for spam in ["spam1@lottery.example", "spam2@pills.example"] {
        assert_eq!(by_message_id(&held, spam)["class"], "spam", "{held:?}");
    }
    for report in ["report1@reporter.example", "report2@reporter.example"] {
        assert_ne!(by_message_id(&held, report)["class"], "spam", "{held:?}");
    }
    assert!(held.iter().all(|p| p["content_lost"] == false), "{held:?}");
    // Listed again, the verdicts kept from the first listing are the same ones.
    assert_eq!(desk.held(), held);
    let p = by_message_id(&held, "report1@reporter.example");
    assert_eq!(p["list"], LIST);
    assert_eq!(p["sender"], "alice@reporter.example");
    assert_eq!(p["reason"], "The message is not from a list member");
    assert!(p["hold_date"].as_str().unwrap().ends_with('Z'), "{p}");
    // Piped, the JSON is the text as Mailman gave it, as `show --json` gives a stored
    // message's (it was made terminal-safe, so a script could not match it to the mail).
    let hostile = by_message_id(&held, "hostile@reporter.example");
    assert_eq!(
        hostile["subject"], "Crash in json \u{1b}]2;owned\u{7}\u{1b}[31m module",
        "{hostile}"
    );
    let text = desk.ok(&["held"]);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "raw escape reached the terminal: {text:?}"
    );
    assert!(text.contains("Crash in json ␛]2;owned"), "{text}");
    assert!(text.contains("Heap overflow in zipfile"), "{text}");
    assert!(text.contains("5 held: 2 spam"), "{text}");

    // Without a terminal and without --yes, the sweep refuses and discards nothing.
    let out = desk.run(&["held", "sweep", "--class", "spam"]);
    let err = single_line_error(&out);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(mm.held_ids(LIST_ID).len(), 5);

    // The second desk loaded the queue before the sweep: its ids go stale.
    let stale_spam = request_id(&held, "spam1@lottery.example");

    // The sweep discards exactly the posts classified spam, after listing them.
    let spam_ids: BTreeSet<u64> = held
        .iter()
        .filter(|h| h["class"] == "spam")
        .map(|h| h["request_id"].as_u64().unwrap())
        .collect();
    let out = desk.ok(&["held", "sweep", "--class", "spam", "--yes"]);
    assert!(
        out.contains("You WON 1000000 dollars") && out.contains("Cheap pills"),
        "{out}"
    );
    assert!(!out.contains("Heap overflow"), "{out}");
    assert!(out.contains("discarded 2"), "{out}");
    let left: BTreeSet<u64> = mm.held_ids(LIST_ID).into_iter().collect();
    let all: BTreeSet<u64> = held
        .iter()
        .map(|h| h["request_id"].as_u64().unwrap())
        .collect();
    assert_eq!(left, &all - &spam_ids);

    // A second desk acting on a stale id is told it was already handled, and succeeds.
    let out = second.ok(&["held", "discard", &stale_spam]);
    assert!(out.contains("already handled"), "{out}");

    // Accept delivers the post to the list: the SMTP sink gets it with List-* headers.
    let accept = request_id(&held, "report1@reporter.example");
    let out = desk.ok(&["held", "accept", &accept]);
    assert!(out.contains("accepted request"), "{out}");
    let delivered = wait_for_sink(&inbox, &["report1@reporter.example", "List-Id:"]);
    assert!(
        delivered.contains("Heap overflow in zipfile"),
        "{delivered}"
    );
    // The other desk's id for it is stale too.
    let out = second.ok(&["held", "accept", &accept]);
    assert!(out.contains("already handled"), "{out}");

    // Reject mails the sender the comment.
    let reject = request_id(&held, "report2@reporter.example");
    let comment = "Please report this through the bug tracker";
    desk.ok(&["held", "reject", &reject, "--comment", comment]);
    let notice = wait_for_sink(&inbox, &[comment]);
    assert!(notice.contains("bob@reporter.example"), "{notice}");

    // The accepted post arrives by IMAP and carries its moderation history.
    desk.ok(&["sync"]);
    let reports: Value = serde_json::from_str(&desk.ok(&["list", "--json"])).unwrap();
    let report = reports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["message_id"] == "report1@reporter.example")
        .unwrap_or_else(|| panic!("the accepted post is not a report: {reports}"));
    let id = report["id"].to_string();
    let log = desk.ok(&["log", &id]);
    assert!(
        log.contains("ada@example.org") && log.contains("moderation"),
        "{log}"
    );
    assert!(log.contains("held → accept"), "{log}");
    let show = desk.ok(&["show", &id]);
    assert!(
        show.contains("moderation: accept by ada@example.org"),
        "{show}"
    );

    // Statistics count moderation per moderator.
    let stats: Value = serde_json::from_str(&desk.ok(&["stats", "--json"])).unwrap();
    let held = &stats["moderation"]["held"];
    let cleared = &held["cleared_by"]["ada@example.org"];
    assert_eq!(cleared["discarded"], 2, "{stats}");
    assert_eq!(cleared["accepted"], 1, "{stats}");
    assert_eq!(cleared["rejected"], 1, "{stats}");
    assert_eq!(held["time_held"]["count"], 4, "{stats}");
    assert!(stats.get("by_state").is_some(), "existing keys stay");
    assert!(
        stats["moderation"].get("time_to_clear").is_some(),
        "existing keys stay"
    );
    let table = desk.ok(&["stats"]);
    assert!(
        table.contains("held queue: accept 1, defer 0, discard 2, reject 1"),
        "{table}"
    );

    // Wrong credentials: one line, never the password.
    let out = desk.run_with("not-the-Pa55word", &["held"]);
    let err = single_line_error(&out);
    assert_eq!(out.status.code(), Some(77), "a refused login: {err}");
    assert!(
        err.contains("refused the login") && err.contains(ADMIN_USER),
        "{err}"
    );
    assert!(!err.contains("not-the-Pa55word"), "{err}");

    // Mailman stopped: one clear line.
    mm.stop();
    let out = desk.run(&["held"]);
    let err = single_line_error(&out);
    assert_eq!(out.status.code(), Some(75), "run again later: {err}");
    assert!(
        err.contains("cannot reach Mailman at http://127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains(ADMIN_PASS), "{err}");
}

#[test]
fn a_silent_mailman_is_one_line_within_the_sync_deadline() {
    // A server that accepts the connection and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let url = format!("http://127.0.0.1:{port}/3.1");
    let desk = Desk::new(&url, "ada", None, "\n[sync]\ntimeout_seconds = 2\n");
    let started = Instant::now();
    let out = desk.run(&["held"]);
    let took = started.elapsed();
    let err = single_line_error(&out);
    assert!(err.contains("did not answer within 2 s"), "{err}");
    assert_eq!(out.status.code(), Some(75), "run again later: {err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn plain_http_to_a_remote_mailman_is_refused_before_any_request() {
    let desk = Desk::new("http://lists.example.org/3.1", "ada", None, "");
    let out = desk.run(&["held"]);
    let err = single_line_error(&out);
    assert!(
        err.contains("mailman.rest_url") && err.contains("https"),
        "{err}"
    );
}

/// Another moderator discards request `id` straight through Mailman's REST API.
fn discard_elsewhere(mm: &Mailman, id: impl std::fmt::Display) {
    let (status, body) = mm
        .request(
            "POST",
            &format!("/3.1/lists/{LIST_ID}/held/{id}"),
            "action=discard",
        )
        .expect("discard");
    assert_eq!(status, 204, "{body}");
}

/// The held posts of [`LIST`] as the desk reads and classifies them.
fn seen_posts(
    client: &secdesk::mailio::mailman::Client,
) -> Vec<secdesk::core::moderation::ClassifiedPost> {
    use secdesk::core::classify::{storage::starter_model, Classifier, RuleSet};
    let classifier = Classifier::new(
        starter_model().expect("starter model"),
        RuleSet::builtin().expect("rules"),
    );
    let queue = secdesk::mailio::mailman::held::held_posts(client, &[LIST]).expect("held posts");
    assert!(queue.gaps.is_empty(), "{:?}", queue.gaps);
    secdesk::core::moderation::classify(&classifier, &[], queue.posts)
}

/// The desk's REST client for `mm`, each request bounded by `timeout`.
fn rest_client(mm: &Mailman, timeout: Duration) -> secdesk::mailio::mailman::Client {
    secdesk::mailio::mailman::Client::with_password(&mm.rest_url(), ADMIN_USER, ADMIN_PASS, timeout)
        .expect("client")
}

/// A Mailman with [`LIST`] (its outgoing mail into a sink), or `None` when Mailman is not
/// installed.
fn mailman_with_list() -> Option<(tempfile::TempDir, Smtp, Mailman)> {
    mailman::with_list(LIST)
}

#[test]
fn a_request_id_reused_by_a_new_post_under_the_same_message_id_is_not_discarded() {
    use secdesk::core::moderation::Action;
    use secdesk::mailio::mailman::held::{moderate_seen, Attempt};
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    // Spam under a Message-ID its sender chose: that of a real report it knows is coming
    // (the reporter copied a public list).
    let (spam_body, report_body) = (
        "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money.",
        "Hello, I found a heap buffer overflow in the zipfile module of CPython 3.12.1. A crafted archive with a negative extra field length crashes the interpreter. Reproducer attached.",
    );
    let id = "report9@reporter.example";
    mm.post(
        LIST,
        "win@lottery.example",
        &post(id, "win@lottery.example", "You WON, claim now", spam_body),
    );
    mm.wait_held(LIST_ID, 1);
    let client = rest_client(&mm, Duration::from_secs(20));
    // The moderator's screen shows the spam.
    let seen = seen_posts(&client);
    assert_eq!(seen.len(), 1);
    let spam = &seen[0];
    assert_eq!(spam.post.sender, "win@lottery.example");

    // Meanwhile another moderator discards it, and the real report arrives: Mailman gives it
    // the freed request id.
    discard_elsewhere(&mm, spam.post.request_id);
    mm.post(
        LIST,
        "alice@reporter.example",
        &post(
            id,
            "alice@reporter.example",
            "Heap overflow in zipfile",
            report_body,
        ),
    );
    let now = mm.wait_held(LIST_ID, 1);
    assert_eq!(
        now,
        vec![spam.post.request_id],
        "Mailman reused the request id"
    );

    // The moderator's keystroke on the spam they saw must not discard the report.
    let acted = moderate_seen(&client, spam, Action::Discard, None).expect("moderate");
    assert_eq!(
        acted,
        Attempt::AlreadyHandled,
        "the new post under the reused id was discarded"
    );
    let still = seen_posts(&client);
    assert_eq!(still.len(), 1, "the report is still held");
    assert_eq!(still[0].post.sender, "alice@reporter.example");
}

#[test]
fn a_sweep_mailman_stops_answering_midway_says_exactly_what_was_done() {
    use secdesk::mailio::mailman::held::{Acted, Moderator};
    let Some((_sink, _smtp, mut mm)) = mailman_with_list() else {
        return;
    };
    let body = "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money.";
    for n in 1..=3 {
        let id = format!("spam{n}@lottery.example");
        mm.post(
            LIST,
            "win@lottery.example",
            &post(
                &id,
                "win@lottery.example",
                "You WON 1000000 dollars, claim now",
                body,
            ),
        );
    }
    mm.wait_held(LIST_ID, 3);
    let client = rest_client(&mm, Duration::from_secs(5));
    let seen = seen_posts(&client);
    let doomed = secdesk::core::moderation::spam_sweep(&seen);
    assert_eq!(doomed.len(), 3, "all three are swept");
    // Another moderator already discarded the first.
    discard_elsewhere(&mm, doomed[0].post.request_id);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = secdesk::core::store::Store::open(&dir.path().join("s.db")).expect("store");
    let mut moderator = Moderator {
        client: &client,
        store: &mut store,
        moderator: "ada@example.org",
    };
    let mut outcomes = Vec::new();
    // Mailman goes away after the second post.
    let result = moderator.sweep(&doomed, |_, acted| {
        outcomes.push(acted);
        if outcomes.len() == 2 {
            mm.stop();
        }
    });
    assert!(
        matches!(outcomes[..], [Acted::AlreadyHandled, Acted::Done(_)]),
        "{outcomes:?}"
    );
    let stopped = result.expect_err("the third post cannot be discarded");
    let text = stopped.to_string();
    assert!(
        text.starts_with(
            "the sweep stopped at post 3 of 3: 1 discarded and recorded, 1 already handled"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("request {}", doomed[2].post.request_id)),
        "{text}"
    );
}

#[test]
fn a_request_id_from_the_command_line_never_discards_a_post_no_listing_showed() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    let desk = Desk::new(&mm.rest_url(), "ada", None, "");
    mm.post(
        LIST,
        "win@lottery.example",
        &post(
            "spam1@lottery.example",
            "win@lottery.example",
            "You WON 1000000 dollars, claim now",
            "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money.",
        ),
    );
    mm.wait_held(LIST_ID, 1);
    // The moderator lists the queue and notes the spam's id.
    let held = desk.held();
    let spam_id = request_id(&held, "spam1@lottery.example");

    // Meanwhile another moderator discards it, and a real report arrives: Mailman gives the
    // report the freed request id.
    discard_elsewhere(&mm, &spam_id);
    mm.post(
        LIST,
        "alice@reporter.example",
        &post(
            "report1@reporter.example",
            "alice@reporter.example",
            "Heap overflow in zipfile with a crafted archive",
            "Hello, I found a heap buffer overflow in the zipfile module of CPython 3.12.1. A crafted archive with a negative extra field length crashes the interpreter.",
        ),
    );
    let now = mm.wait_held(LIST_ID, 1);
    assert_eq!(now[0].to_string(), spam_id, "Mailman reused the request id");

    // The id the moderator typed now names the report, which they never saw: it stays held.
    let out = desk.run(&["held", "discard", &spam_id]);
    let err = single_line_error(&out);
    assert!(
        err.contains("Heap overflow in zipfile")
            && err.contains("alice@reporter.example")
            && err.contains("secdesk held"),
        "{err}"
    );
    assert_eq!(mm.held_ids(LIST_ID), now, "the report is still held");
    let out = desk.run(&["held", "reject", &spam_id, "--comment", "no"]);
    single_line_error(&out);
    assert_eq!(mm.held_ids(LIST_ID), now, "the report is still held");
    // A refused id does not stop the ids after it: each is acted on or named.
    let out = desk.run(&["held", "discard", &spam_id, "999999"]);
    assert!(!out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("request 999999: already handled"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 request was refused (named above)"),
        "{stderr}"
    );
    assert_eq!(mm.held_ids(LIST_ID), now, "the report is still held");

    // Once a listing shows it, the moderator can act on it by that id.
    let held = desk.held();
    assert_eq!(request_id(&held, "report1@reporter.example"), spam_id);
    let out = desk.ok(&["held", "accept", &spam_id]);
    assert!(out.contains("accepted request"), "{out}");
    assert!(mm.held_ids(LIST_ID).is_empty());
}

/// A listing the store cannot record (here a trigger refuses every insert into the table of
/// listed posts, as a full disk would) says that `held accept|discard|reject ID` will refuse
/// its posts, and what to do; and the command does refuse them.
#[test]
fn a_listing_the_store_cannot_record_warns_that_acting_by_id_will_refuse() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    let desk = Desk::new(&mm.rest_url(), "ada", None, "");
    let db = desk.dir.path().join("secdesk.db");
    {
        let store = secdesk::core::store::Store::open(&db).expect("open the store");
        store
            .conn()
            .execute_batch(
                "CREATE TRIGGER no_room BEFORE INSERT ON held_verdicts
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            .expect("add the trigger");
    }
    mm.post(
        LIST,
        "win@lottery.example",
        &post(
            "spam2@lottery.example",
            "win@lottery.example",
            "You WON 1000000 dollars, claim now",
            "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money.",
        ),
    );
    let held = mm.wait_held(LIST_ID, 1);
    let out = desk.run(&["held", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let listed: Value = serde_json::from_slice(&out.stdout).expect("held json");
    let id = request_id(listed.as_array().expect("array"), "spam2@lottery.example");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("database or disk is full")
            && warning.contains("secdesk held accept|discard|reject ID` will refuse these posts")
            && warning.contains(&db.display().to_string())
            && warning.contains("writable")
            && warning.contains("held screen (H)"),
        "{warning}"
    );
    // As the warning said: the post the listing showed is refused by its id, and stays held.
    let out = desk.run(&["held", "discard", &id]);
    let err = single_line_error(&out);
    assert!(err.contains("make the store writable first"), "{err}");
    assert_eq!(mm.held_ids(LIST_ID), held, "the post is still held");
}

/// A report with `kb` kB of reproducer text: over Mailman's `max_message_size` (40 kB by
/// default), so Mailman holds it for its size as well.
fn sized_report(n: usize, kb: usize) -> Vec<u8> {
    let line =
        "#0 0x7f3a in zipimport_get_data /src/cpython/Modules/zipimport.c:1042 (crash trace)\r\n";
    let trace = line.repeat(kb * 1000 / line.len() + 1);
    post(
        &format!("sized{n}@reporter.example"),
        "alice@reporter.example",
        &format!("Heap overflow in zipfile, trace {n}"),
        &format!("Hello, a crafted archive crashes CPython 3.12.1; the ASAN trace:\r\n{trace}"),
    )
}

#[test]
fn a_page_of_held_posts_over_the_answer_bound_is_listed_in_smaller_pages() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    // Five posts of 60 kB under a 150 kB bound on one answer (64 MiB outside tests): the
    // first page Mailman would give holds them all, 300 kB.
    for n in 1..=5 {
        mm.post(LIST, "alice@reporter.example", &sized_report(n, 60));
    }
    let ids = mm.wait_held(LIST_ID, 5);
    let client = rest_client(&mm, Duration::from_secs(60)).with_response_limit(150_000);
    let queue = secdesk::mailio::mailman::held::held_posts(&client, &[LIST]).expect("listed");
    assert!(queue.gaps.is_empty(), "{:?}", queue.gaps);
    let posts = queue.posts;
    let listed: Vec<u64> = posts.iter().map(|p| p.request_id).collect();
    assert_eq!(listed, ids, "every held post once, in Mailman's order");
    assert!(
        posts.iter().all(|p| p.raw.len() > 55_000),
        "the whole posts"
    );

    // One post over the bound by itself: one line naming it and what to do.
    mm.post(LIST, "alice@reporter.example", &sized_report(6, 200));
    mm.wait_held(LIST_ID, 6);
    let err = secdesk::mailio::mailman::held::held_posts(&client, &[LIST])
        .expect_err("a post over the bound cannot be listed")
        .to_string();
    assert_eq!(
        err,
        format!("post 6 held in {LIST} is over 150 kB with its attachments, too big to list: moderate it in Mailman's web interface (Postorius), then list again")
    );
}

/// A desk whose model learned that the receiving server's passes come with reports
/// (`support/passes.rs`): a held phish that wrote a pass into its own headers is still spam
/// and goes with the sweep, its listing saying the pass is unverified; once `[sync]
/// authserv_id` names the server, the held posts are judged again (verdicts are kept between
/// listings): the post with the server's own pass is no longer spam, the one whose pass came
/// from another authserv-id still is, and the sweep takes only that one.
#[test]
fn a_held_phish_with_a_pass_it_wrote_is_swept_and_naming_the_server_judges_again() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    let desk = Desk::new(&mm.rest_url(), "ada", None, "");
    let corpus = passes::pass_trained_corpus(desk.dir.path());
    desk.ok(&["train", corpus.to_str().expect("utf-8 path")]);
    let sender = "billing@northgate-hosting.example";
    let phish = |message_id: &str, auth: &str| {
        let mut raw = auth.as_bytes().to_vec();
        raw.extend(post(
            message_id,
            sender,
            "Invoice #NG-88213 - payment failed",
            passes::INVOICE,
        ));
        raw
    };
    let (forged, own) = ("forged@northgate.example", "own@northgate.example");
    mm.post(
        LIST,
        sender,
        &phish(forged, &passes::pass_from("mx.attacker.example")),
    );
    mm.post(
        LIST,
        sender,
        &phish(own, &passes::pass_from(passes::SERVER)),
    );
    let ids = mm.wait_held(LIST_ID, 2);
    let is_spam = |v: &Value| v["class"] == "spam" && v["outcome"] == "spam";

    // No authserv_id: neither pass is vouched for, so neither is weighed.
    let held = desk.held();
    for (id, server) in [(forged, "mx.attacker.example"), (own, passes::SERVER)] {
        let p = by_message_id(&held, id);
        assert!(
            is_spam(p),
            "a pass the sender may have written was weighed: {p}"
        );
        assert_eq!(
            (
                &p["auth"]["dmarc"],
                &p["auth"]["authserv_id"],
                &p["auth"]["verified"]
            ),
            (
                &Value::from("pass"),
                &Value::from(server),
                &Value::from(false)
            ),
            "{p}"
        );
    }
    let text = desk.ok(&["held"]);
    assert!(
        text.contains(
            "Auth UNVERIFIED: SPF pass, DKIM pass, DMARC pass (claimed as mx.attacker.example's"
        ),
        "{text}"
    );

    // The moderator names the receiving server: the kept verdicts are not reused.
    let mut config = std::fs::read_to_string(desk.config()).expect("read config");
    config.push_str(&format!("\n[sync]\nauthserv_id = \"{}\"\n", passes::SERVER));
    std::fs::write(desk.config(), config).expect("write config");
    let held = desk.held();
    let p = by_message_id(&held, own);
    assert!(!is_spam(p), "the server's own pass was not weighed: {p}");
    assert_eq!(p["auth"]["verified"], true, "{p}");
    let p = by_message_id(&held, forged);
    assert!(is_spam(p), "{p}");
    assert_eq!(
        (&p["auth"]["dmarc"], &p["auth"]["verified"]),
        (&Value::Null, &Value::from(true)),
        "a field from another authserv-id is not read: {p}"
    );
    let text = desk.ok(&["held"]);
    assert!(
        text.contains("Auth: SPF pass, DKIM pass, DMARC pass (recorded by mx.example.org)"),
        "{text}"
    );

    // The sweep takes the phish with the forged pass, and only it.
    let out = desk.ok(&["held", "sweep", "--class", "spam", "--yes"]);
    assert!(out.contains("discarded 1"), "{out}");
    let own_id: u64 = request_id(&held, own).parse().expect("request id");
    assert_eq!(mm.held_ids(LIST_ID), vec![own_id], "of {ids:?}");
}

/// Mailman lost the content of its held posts (their files under `var/messages` are gone:
/// a clean-up, a move of the var folder): its REST API then gives a stand-in message for
/// each ("Message content lost"). The desk must not judge the stand-in as the post: every
/// such post is left unsure with the reason, for a person (the sender and subject are all
/// that is left of what may be a real report), a sweep never takes one, and a discard
/// teaches the classifier nothing (taught as spam, the stand-in would make every lost post
/// spam, and the next sweep would take them all).
#[test]
fn a_held_post_whose_content_mailman_lost_is_never_swept_nor_learned() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    let desk = Desk::new(&mm.rest_url(), "ada", None, "");
    let posts = [
        ("lost-report@reporter.example", "alice@reporter.example", "Heap overflow in zipfile with a crafted archive",
         "Hello, I found a heap buffer overflow in the zipfile module of CPython 3.12.1. A crafted archive crashes the interpreter."),
        ("lost-spam@lottery.example", "win@lottery.example", "You WON 1000000 dollars, claim now",
         "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details."),
    ];
    let ids = hold(&mm, &posts);
    std::fs::remove_dir_all(mm.message_store()).expect("remove Mailman's message store");

    let held = desk.held();
    assert_eq!(held.len(), 2, "{held:?}");
    for p in &held {
        assert_eq!(p["outcome"], "unsure", "{p}");
        assert_ne!(p["class"], "spam", "{p}");
        assert_eq!(p["content_lost"], true, "{p}");
        let reason = p["reasons"][0].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("Mailman lost this post's content"),
            "{p}"
        );
    }
    let report = by_message_id(&held, "lost-report@reporter.example");
    assert_eq!(
        report["subject"],
        "Heap overflow in zipfile with a crafted archive"
    );
    assert_eq!(report["sender"], "alice@reporter.example");
    let text = desk.ok(&["held"]);
    assert!(text.contains("Mailman lost this post's content"), "{text}");
    // Listed and counted as lost, never as valid reports.
    assert!(
        text.contains("2 held: 0 spam, 0 invalid, 0 valid, 2 with content lost"),
        "{text}"
    );
    for line in text
        .lines()
        .filter(|l| l.contains("@reporter.example") || l.contains("@lottery.example"))
    {
        assert!(line.contains(" lost ") && !line.contains("valid"), "{line}");
    }

    let out = desk.ok(&["held", "sweep", "--class", "spam", "--yes"]);
    assert!(out.contains("nothing to sweep"), "{out}");
    assert_eq!(mm.held_ids(LIST_ID), ids, "nothing swept");

    // A moderator who knows the lost one is spam discards it: nothing is learned from it.
    let spam = request_id(&held, "lost-spam@lottery.example");
    let out = desk.ok(&["held", "discard", &spam]);
    assert!(out.contains("discarded request"), "{out}");
    assert!(!out.contains("classifier trained"), "{out}");
}

const PILLS: &str = "Buy cheap viagra and cialis online now! Best price, no prescription, discount offer, click here to order and unsubscribe.";
const TARFILE_REPORT: &str = "Hello, tarfile in CPython 3.12.1 overflows a heap buffer when it reads a crafted pax header with a negative length. Reproducer attached: python3 repro.py evil.tar. ASAN reports a heap-buffer-overflow write in tarfile's C accelerator.";

/// Mailman takes a held entry's text from its message store by Message-ID, and keeps one
/// text per Message-ID: a real report sent under the Message-ID of a spam held before it is
/// listed with the spam's text (its sender and subject its own). As an audit found, the
/// report was then listed `spam 1.000 alice@research.example  Heap overflow…` with the
/// spam's reasons, swept, and taught as spam. Both posts under that Message-ID must be left
/// unsure with the reason, never swept; a spam with a Message-ID of its own still is.
#[test]
fn a_report_mailman_lists_with_a_spams_text_is_never_swept() {
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    let desk = Desk::new(&mm.rest_url(), "ada", None, "");
    let shared = "report-2026@research.example";
    let subject = "Heap overflow in the tarfile module (CVE request)";
    hold(
        &mm,
        &[
            (
                shared,
                "deals@pharma.example",
                "Cheap pills, best price, order now",
                PILLS,
            ),
            (shared, "alice@research.example", subject, TARFILE_REPORT),
            (
                "pills2@pharma.example",
                "deals@pharma.example",
                "Cheap pills, best price, order now",
                PILLS,
            ),
        ],
    );
    let held = desk.held();
    assert_eq!(held.len(), 3, "{held:?}");
    let report = held
        .iter()
        .find(|h| h["sender"] == "alice@research.example")
        .expect("the report is listed");
    assert_eq!(report["subject"], subject);
    assert_eq!(report["outcome"], "unsure", "{report}");
    assert_ne!(report["class"], "spam", "{report}");
    assert_eq!(report["text_mismatch"], true, "{report}");
    assert_eq!(report["content_lost"], false, "{report}");
    let why = report["reasons"][0].as_str().unwrap_or_default();
    assert!(
        why.starts_with("Mailman gives this post another post's text (its From is deals@pharma.example, not alice@research.example)"),
        "{report}"
    );
    let twin = held
        .iter()
        .find(|h| h["message_id"] == shared && h["sender"] == "deals@pharma.example")
        .expect("the spam under the report's Message-ID is listed");
    assert_eq!(twin["outcome"], "unsure", "{twin}");
    assert_eq!(twin["text_mismatch"], true, "{twin}");
    assert_eq!(
        by_message_id(&held, "pills2@pharma.example")["class"],
        "spam"
    );

    // `held` says so on the report's line, in place of a class, and counts it apart.
    let text = desk.ok(&["held"]);
    let line = text
        .lines()
        .find(|l| l.contains("alice@research.example"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(" mismatch ") && !line.contains("spam"),
        "{line}"
    );
    assert!(
        text.contains("why mismatch: Mailman gives this post another post's text"),
        "{text}"
    );
    assert!(
        text.contains("3 held: 1 spam, 0 invalid, 0 valid, 2 whose text may be another post's (not classified, never swept)"),
        "{text}"
    );

    // The sweep takes the spam with its own Message-ID, and neither post under the shared one.
    let out = desk.ok(&["held", "sweep", "--class", "spam", "--yes"]);
    assert!(out.contains("discarded 1"), "{out}");
    assert!(!out.contains("alice@research.example"), "{out}");
    let left: BTreeSet<u64> = mm.held_ids(LIST_ID).into_iter().collect();
    let shared_ids: BTreeSet<u64> = [report, twin]
        .iter()
        .map(|h| h["request_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        left, shared_ids,
        "both posts under the shared Message-ID stay held"
    );

    // A moderator who discards the report by hand teaches the classifier nothing.
    let out = desk.ok(&["held", "discard", &report["request_id"].to_string()]);
    assert!(out.contains("discarded request"), "{out}");
    assert!(!out.contains("classifier trained"), "{out}");
}

/// The sweep re-reads each post before acting. A post the moderator saw as spam whose text
/// Mailman gives differently now (here its message store lost it after the listing, so it
/// gives "Message content lost"; an audit saw the same after a post under the same
/// Message-ID was handled) has the same Message-ID, sender, subject and hold date: it must be
/// reported changed and left held, not discarded as the spam the listing showed.
#[test]
fn a_post_whose_text_changed_since_the_listing_is_left_held_by_the_sweep() {
    use secdesk::core::moderation::Action;
    use secdesk::mailio::mailman::held::{moderate_seen, Acted, Attempt, Moderator};
    let Some((_sink, _smtp, mm)) = mailman_with_list() else {
        return;
    };
    hold(
        &mm,
        &[(
            "pills3@pharma.example",
            "deals@pharma.example",
            "Cheap pills, best price, order now",
            PILLS,
        )],
    );
    let client = rest_client(&mm, Duration::from_secs(20));
    let seen = seen_posts(&client);
    let doomed = secdesk::core::moderation::spam_sweep(&seen);
    assert_eq!(doomed.len(), 1, "the spam is swept: {seen:?}");
    let spam_id = doomed[0].post.request_id;
    // After the listing, Mailman no longer has the text the moderator saw.
    std::fs::remove_dir_all(mm.message_store()).expect("remove Mailman's message store");

    assert_eq!(
        moderate_seen(&client, doomed[0], Action::Discard, None).expect("moderate"),
        Attempt::Changed
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = secdesk::core::store::Store::open(&dir.path().join("s.db")).expect("store");
    let mut moderator = Moderator {
        client: &client,
        store: &mut store,
        moderator: "ada@example.org",
    };
    let mut outcomes = Vec::new();
    let summary = moderator
        .sweep(&doomed, |_, acted| outcomes.push(acted))
        .expect("sweep");
    assert_eq!(outcomes, [Acted::Changed]);
    assert_eq!((summary.discarded, summary.changed), (0, 1));
    assert_eq!(mm.held_ids(LIST_ID), vec![spam_id], "the post stays held");
}
