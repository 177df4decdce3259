//! What a mail claims, against what the desk does with it (issues 4 and 12): a stranger's
//! mail in someone else's thread, a spammer's copy of a real report, a sender's Date. Each
//! test imports mail crafted here through the real `secdesk import` into a real SQLite store,
//! then reads what a user reads (`show --json`, `list --json`, refusals) or the model's
//! counts in the store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Whose `Authentication-Results` the desk believes (`[sync] authserv_id`).
#[path = "claims/authserv.rs"]
mod authserv;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        Desk::with_config("")
    }

    /// A desk whose config ends with `extra` (a section of its own).
    fn with_config(extra: &str) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[store]\npath = \"{}\"\n[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n{extra}",
            dir.path().join("secdesk.db").display()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Desk { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("secdesk.db")
    }

    /// Imports `mails` (name, raw) as one folder of .eml files, each file dated `arrived`
    /// (seconds since the epoch) as a mail folder keeps its delivery time.
    fn import(&self, folder: &str, mails: &[(&str, String)], arrived: i64) {
        let to = self.dir.path().join(folder);
        std::fs::create_dir_all(&to).unwrap();
        for (name, raw) in mails {
            let path = to.join(name);
            std::fs::write(&path, raw).unwrap();
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(arrived as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        self.ok(&["import", to.to_str().unwrap()]);
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must be refused; returns its one line of stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} was not refused");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
        err.trim_end().to_string()
    }

    fn show(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["show", id, "--json"])).unwrap()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc2822(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .to_rfc2822()
}

fn mail(from: &str, id: &str, subject: &str, extra: &str, body: &str, at: i64) -> String {
    format!(
        "From: {from}\r\nTo: security@example.org\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         {extra}Date: {}\r\n\r\n{body}\r\n",
        rfc2822(at)
    )
}

const REPORT: &str = "zipfile.ZipFile overflows a heap buffer in _zipfile_decode on a crafted \
archive. Python 3.12.1. Reproducer: python3 -c \"import zipfile; zipfile.ZipFile('x.zip')\", \
then ASAN reports heap-buffer-overflow in zlib inflate.";

/// The counts a token has in the store's model: (spam, ham, invalid, valid), zeros when absent.
fn counts(db: &Path, token: &str) -> (i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT spam, ham, invalid, valid FROM classify_tokens WHERE token = ?1",
        [token],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap_or((0, 0, 0, 0))
}

/// A stranger answers a real report (In-Reply-To its Message-ID) with words of their own;
/// the team's verdict on the report must not teach the classifier the stranger's words.
#[test]
fn a_strangers_words_in_a_reporters_thread_are_not_learned_with_the_verdict() {
    let desk = Desk::new();
    let t = now() - 600;
    let report = mail(
        "Alice <alice@reporter.example>",
        "r1@reporter.example",
        "heap overflow in zipfile",
        "",
        REPORT,
        t,
    );
    let stranger = mail(
        "Mallory <mallory@evil.example>",
        "m1@evil.example",
        "Re: heap overflow in zipfile",
        "In-Reply-To: <r1@reporter.example>\r\nReferences: <r1@reporter.example>\r\n",
        "Claim your qqcasino and qqairdrop today.",
        t + 60,
    );
    desk.import("inbox", &[("1.eml", report), ("2.eml", stranger)], t + 60);
    let d = desk.show("1");
    assert_eq!(d["messages"].as_array().unwrap().len(), 2);
    assert_eq!(d["messages"][1]["another_sender"], true);
    let before = counts(&desk.db(), "qqcasino");

    desk.ok(&["mark", "1", "valid"]);
    assert_eq!(
        counts(&desk.db(), "qqcasino"),
        before,
        "the stranger's words were learned as valid"
    );
    assert!(
        counts(&desk.db(), "zipfile").3 >= 1,
        "the reporter's own words are learned"
    );
    desk.ok(&["mark", "1", "spam"]);
    assert_eq!(counts(&desk.db(), "qqcasino"), before);
}

/// A spammer's copy of a real report that came first is offered as the original; a real
/// report must never be closed as a duplicate of spam, whichever is decided first.
#[test]
fn a_real_report_is_never_closed_behind_a_spam_copy() {
    let desk = Desk::new();
    let t = now() - 600;
    let copy = mail(
        "Promo <promo@spam.example>",
        "s1@spam.example",
        "heap overflow in zipfile",
        "",
        &format!("{REPORT}\r\nBuy followers at http://spam.example/buy"),
        t,
    );
    let real = mail(
        "Alice <alice@reporter.example>",
        "r1@reporter.example",
        "heap overflow in zipfile",
        "",
        REPORT,
        t + 60,
    );
    desk.import("a", &[("1.eml", copy)], t);
    desk.import("b", &[("2.eml", real)], t + 60);
    let similar = desk.show("2")["similar"].clone();
    assert_eq!(similar[0]["id"], 1, "the copy is offered: {similar}");

    // The copy is found out first: the real report cannot be put behind it.
    desk.ok(&["mark", "1", "spam"]);
    let err = desk.refused(&["dup", "2", "--of", "1"]);
    assert!(
        err.contains("#1 is closed as spam") && err.contains("hide #2 behind spam"),
        "{err}"
    );
    assert_eq!(desk.show("2")["state"], "new");

    // The real report was linked first: closing the copy as spam is refused, naming it.
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["dup", "2", "--of", "1"]);
    for args in [&["mark", "1", "spam"][..], &["state", "1", "spam"][..]] {
        let err = desk.refused(args);
        assert!(
            err.contains("original of #2") && err.contains("hide them behind spam"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(desk.show("1")["state"], "acknowledged");
    assert_eq!(desk.show("2")["duplicate_of"], 1);
}

/// Mail from Alice's address with the receiving server's verdict above the sender's headers,
/// as Dovecot's or Postfix's milters write it: `dmarc=pass` for Alice's own mail, `fail`
/// for a forgery sent from elsewhere.
fn from_alice(id: &str, extra: &str, body: &str, at: i64, dmarc: &str) -> String {
    let spf = if dmarc == "pass" {
        "pass smtp.mailfrom=reporter.example"
    } else {
        "fail smtp.mailfrom=evil.example"
    };
    format!(
        "Authentication-Results: mx.example.org; spf={spf}; dkim=none; \
         dmarc={dmarc} header.from=reporter.example\r\n{}",
        mail(
            "Alice <alice@reporter.example>",
            id,
            "heap overflow in zipfile",
            extra,
            body,
            at
        )
    )
}

/// Anyone can write the reporter's address into From beside the report's Message-ID. When
/// the receiving server says the From failed DMARC (and the reporter's own mail passed),
/// the follow-up is another sender's: it does not bring a report waiting on the reporter
/// back, and is not learned with the report.
#[test]
fn a_follow_up_forging_the_reporters_from_does_not_act_as_the_reporter() {
    let desk = Desk::new();
    let t = now() - 3600;
    let answer = "In-Reply-To: <r1@reporter.example>\r\n";
    let report = from_alice("r1@reporter.example", "", REPORT, t, "pass");
    desk.import("a", &[("1.eml", report)], t);
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["state", "1", "needs-info", "--note", "which versions?"]);

    let body = "Never mind, qqforged: please send the fix to my new address.";
    let forged = from_alice("f1@evil.example", answer, body, t + 600, "fail");
    desk.import("b", &[("2.eml", forged)], t + 600);
    let d = desk.show("1");
    assert_eq!(
        d["state"], "needs-info",
        "a forged From answered for the reporter"
    );
    assert_eq!(d["flagged"], false);
    let forged = &d["messages"][1];
    assert_eq!(forged["another_sender"], true, "{forged}");
    let notes = forged["parse_notes"].to_string();
    assert!(
        notes.contains("failed DMARC, as its own Authentication-Results field says (unverified"),
        "{notes}"
    );
    // Nor is mail with a teammate's From (which a stranger can write as easily, and which
    // no DMARC check here catches) the reporter answering.
    let teammate = mail(
        "Ada <ada@example.org>",
        "t1@evil.example",
        "Re: heap overflow in zipfile",
        answer,
        "Ada here: the reporter confirmed 3.12 in a call.",
        t + 700,
    );
    desk.import("t", &[("t.eml", teammate)], t + 700);
    let d = desk.show("1");
    assert_eq!(d["messages"].as_array().unwrap().len(), 3, "{d}");
    assert_eq!(
        (&d["state"], &d["flagged"]),
        (&"needs-info".into(), &false.into()),
        "a teammate's From answered for the reporter"
    );
    desk.ok(&["mark", "1", "spam"]);
    assert_eq!(counts(&desk.db(), "qqforged"), (0, 0, 0, 0));

    // The reporter's real answer, which passes, still brings the report back.
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["state", "1", "needs-info"]);
    let real = from_alice(
        "r2@reporter.example",
        answer,
        "3.12.1 and 3.13.0.",
        t + 1200,
        "pass",
    );
    desk.import("c", &[("3.eml", real)], t + 1200);
    let d = desk.show("1");
    assert_eq!(d["state"], "acknowledged");
    assert_eq!(d["flagged"], true);
    assert_eq!(d["messages"][3]["another_sender"], false);
}

/// A sender who dates a report six days back (inside the week a queued mail may take) must
/// not make it overdue the moment it is imported, put it first in the queue by age, or
/// count it in an earlier week: the clocks start when the mail reached us (the Maildir
/// file's time here; INTERNALDATE on sync), and the Date header is only its shown date.
#[test]
fn a_backdated_report_is_timed_from_its_arrival_not_its_date() {
    let desk = Desk::new();
    let arrived = now() - 600;
    let six_days = 6 * 24 * 3600;
    let honest = mail(
        "bob@a.example",
        "h1@a.example",
        "honest",
        "",
        "report one",
        arrived - 60,
    );
    let backdated = mail(
        "mallory@evil.example",
        "b1@evil.example",
        "urgent",
        "",
        "report two",
        arrived - six_days,
    );
    desk.import("a", &[("1.eml", honest)], arrived - 60);
    desk.import("b", &[("2.eml", backdated)], arrived);
    let list: Value = serde_json::from_str(&desk.ok(&["list", "--json"])).unwrap();
    let two = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 2)
        .unwrap()
        .clone();
    assert_eq!(two["overdue"], false, "{two}");
    let received = chrono::DateTime::parse_from_rfc3339(two["received_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!((received - arrived).abs() <= 1, "{two}");
    // Newest first by arrival: the backdated report came last, so it is listed first.
    assert_eq!(list[0]["id"], 2, "newest first: {list}");
    let d = desk.show("2");
    assert_eq!(d["overdue"], false);
    assert!(
        d["deadlines"]["acknowledge"].is_string(),
        "{}",
        d["deadlines"]
    );
    // The Date header is still what the message shows as its date.
    let shown = chrono::DateTime::parse_from_rfc3339(d["messages"][0]["date"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(shown, arrived - six_days);
    let stats: Value = serde_json::from_str(&desk.ok(&["stats", "--format", "json"])).unwrap();
    assert_eq!(stats["overdue"], 0, "{stats}");
}

/// One References field that names an id 10,000 times (and 10,000 ids no one holds) is read
/// once per id and only as far as a thread needs: the message joins the thread with one
/// note per fact, not one per repetition.
#[test]
fn a_huge_references_field_leaves_a_bounded_trace() {
    let desk = Desk::new();
    let t = now() - 600;
    // One id held by three reports (three senders reusing it).
    let shared: Vec<(String, String)> = (1..=3)
        .map(|i| {
            let m = mail(
                &format!("u{i}@a.example"),
                "x@a.example",
                &format!("s{i}"),
                "",
                "body",
                t,
            );
            (format!("{i}.eml"), m)
        })
        .collect();
    let mut refs = vec!["<x@a.example>"; 10_000].join(" ");
    for i in 0..10_000 {
        refs.push_str(&format!(" <y{i}@nowhere.example>"));
    }
    refs.push_str(" <x@a.example>");
    let huge = mail(
        "m@evil.example",
        "m4@evil.example",
        "Re: s1",
        &format!("References: {refs}\r\n"),
        "hi",
        t + 60,
    );
    let mut mails: Vec<(&str, String)> = shared
        .iter()
        .map(|(n, m)| (n.as_str(), m.clone()))
        .collect();
    mails.push(("4.eml", huge));
    desk.import("a", &mails, t + 60);
    let d = desk.show("1");
    let joined = &d["messages"][1];
    assert_eq!(
        joined["from"].as_str().unwrap(),
        "m@evil.example",
        "{joined}"
    );
    let notes = joined["parse_notes"].as_array().unwrap();
    assert!(
        notes.len() <= 3,
        "{} notes: {:?}",
        notes.len(),
        &notes[..5.min(notes.len())]
    );
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("held by messages in reports #1, #2, #3")),
        "{notes:?}"
    );
}
