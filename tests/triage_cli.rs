//! The triage commands, run as the real binary against a temporary config and database seeded
//! with `secdesk import` of `tests/fixtures/triage/`.
//!
//! Report ids follow the import order: #1 the traversal report, #2 spam, #3 a duplicate whose
//! subject and body carry terminal escape sequences.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk for Ada with two teammates: Bob, and Eve whose address is a spreadsheet formula.
    fn new() -> Desk {
        Desk::with("")
    }

    /// [`Desk::new`] with more config appended.
    fn with(extra: &str) -> Desk {
        Desk::importing(extra, &[])
    }

    /// [`Desk::with`], importing the fixture inbox with `import_args` added.
    fn importing(extra: &str, import_args: &[&str]) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("secdesk.db");
        let config = format!(
            r#"
[store]
path = "{}"
[identity]
name = "Ada"
email = "ada@example.org"
[team]
members = [
    {{ name = "Bob", email = "bob@example.org" }},
    {{ name = "Eve", email = "=2+5@evil.example" }},
]
{extra}
"#,
            db.display()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let desk = Desk { dir };
        desk.import_fixture("inbox", import_args);
        desk
    }

    /// Imports fixture folder `name` as an archive that kept its delivery times: a copy
    /// whose files' mtimes are their Date headers. (Import checks each Date against the
    /// file's time, issue 11; a checkout's fresh mtimes would make every fixture look
    /// forged.)
    fn import_fixture(&self, name: &str, import_args: &[&str]) {
        let to = self.dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(fixture(name)).unwrap() {
            let from = entry.unwrap().path();
            let raw = std::fs::read(&from).unwrap();
            let (headers, _) = mailparse::parse_headers(&raw).unwrap();
            let date = mailparse::MailHeaderMap::get_first_value(&headers[..], "Date")
                .and_then(|d| mailparse::dateparse(&d).ok())
                .expect("fixtures carry a Date");
            let copy = to.join(from.file_name().unwrap());
            std::fs::write(&copy, &raw).unwrap();
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date as u64);
            std::fs::File::options()
                .write(true)
                .open(&copy)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        let mut args = vec!["import", to.to_str().unwrap()];
        args.extend_from_slice(import_args);
        self.ok(&args);
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must be refused; returns its single line of stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} was not refused");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
        err.trim_end().to_string()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn show(&self, id: &str) -> Value {
        self.json(&["show", id, "--json"])
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/triage")
        .join(name)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn has_keys(v: &Value, expected: &[&str]) {
    let k = keys(v);
    for e in expected {
        assert!(k.contains(e), "missing {e:?} in {k:?}");
    }
}

#[test]
fn show_json_keeps_the_contract() {
    let desk = Desk::new();
    desk.ok(&["take", "1"]);
    desk.ok(&["note", "1", "reproduced", "on", "2.4"]);
    desk.ok(&["dup", "3", "--of", "1"]);
    let d = desk.show("1");
    has_keys(
        &d,
        &[
            "id",
            "state",
            "class",
            "coordinator",
            "messages",
            "notes",
            "duplicate_of",
            "duplicates",
            "events",
            "deadlines",
            "version",
            "classifier",
        ],
    );
    assert_eq!(d["id"], 1);
    assert_eq!(d["state"], "new");
    assert_eq!(d["coordinator"], "ada@example.org");
    assert_eq!(d["duplicate_of"], Value::Null);
    assert_eq!(d["duplicates"], serde_json::json!([3]));
    let c = &d["classifier"];
    has_keys(
        c,
        &[
            "class",
            "outcome",
            "score",
            "spam_score",
            "confidence",
            "reasons",
        ],
    );
    assert_eq!(c["spam_score"], c["score"], "one number under both names");
    let m = &d["messages"][0];
    has_keys(
        m,
        &[
            "message_id",
            "from",
            "date",
            "subject",
            "body",
            "attachments",
            "auth",
            "direction",
        ],
    );
    assert_eq!(m["message_id"], "report-1@reporter.example");
    assert_eq!(m["date"], "2026-03-02T10:00:00Z");
    assert_eq!(m["direction"], "in");
    let n = &d["notes"][0];
    has_keys(n, &["author", "at", "text"]);
    assert_eq!(n["text"], "reproduced on 2.4");
    assert_eq!(n["author"], "ada@example.org");
    for e in d["events"].as_array().unwrap() {
        has_keys(e, &["actor", "at", "kind", "before", "after"]);
    }
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "coordinator", "note"]);
    // Issue 15 adds PEP 811's coordinator and finish clocks.
    assert_eq!(
        keys(&d["deadlines"]),
        ["acknowledge", "close", "coordinator", "finish", "triage"]
    );
    assert_eq!(
        d["deadlines"]["coordinator"],
        Value::Null,
        "a coordinator is set"
    );
    assert!(d["deadlines"]["finish"].is_string());
    assert_eq!(d["deadlines"]["acknowledge"], "2026-03-04T10:00:00Z");
    assert_eq!(desk.show("3")["duplicate_of"], 1);
    assert_eq!(desk.show("3")["deadlines"]["close"], Value::Null, "closed");
}

#[test]
fn list_json_gains_triage_fields_and_filters() {
    let desk = Desk::new();
    desk.ok(&["mark", "2", "spam"]);
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["take", "1"]);
    let all = desk.json(&["list", "--json"]);
    let one = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 1)
        .unwrap();
    has_keys(
        one,
        &["state", "class", "coordinator", "overdue", "id", "subject"],
    );
    assert_eq!(one["state"], "acknowledged");
    assert_eq!(one["class"], "valid");
    assert_eq!(one["coordinator"], "ada@example.org");
    assert_eq!(one["overdue"], true, "fixtures arrived in March 2026");
    let ids = |args: &[&str]| -> Vec<i64> {
        let mut a = vec!["list", "--json"];
        a.extend_from_slice(args);
        let v = desk.json(&a);
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&["--state", "spam"]), [2]);
    assert_eq!(ids(&["--state", "new,acknowledged"]), [3, 1]);
    assert_eq!(ids(&["--class", "valid"]), [1]);
    assert_eq!(ids(&["--mine"]), [1]);
    assert_eq!(ids(&["--unassigned"]), [3, 2]);
    assert_eq!(ids(&["--overdue"]), [3, 1], "closed spam is never overdue");
    let err = desk.refused(&["list", "--state", "open"]);
    assert!(err.contains("expected one of new, acknowledged"), "{err}");
}

#[test]
fn a_change_from_a_stale_view_is_refused_across_processes() {
    let desk = Desk::new();
    let seen = desk.show("1")["version"].as_i64().unwrap().to_string();
    // Another desk (another process) changes the report meanwhile.
    desk.ok(&["assign", "1", "bob"]);
    let err = desk.refused(&["state", "1", "acknowledged", "--if-version", &seen]);
    assert!(
        err.starts_with("secdesk: error: report #1 was changed by ada@example.org at "),
        "{err}"
    );
    assert!(
        err.ends_with("since you loaded it (version 0, now 1): nothing was changed; look at it as it is now, then act again"),
        "{err}"
    );
    assert_eq!(desk.show("1")["state"], "new", "nothing was overwritten");
    // Reloaded, the same change goes through.
    let now = desk.show("1")["version"].as_i64().unwrap().to_string();
    desk.ok(&["state", "1", "acknowledged", "--if-version", &now]);
}

#[test]
fn two_desks_racing_from_one_view_cannot_both_win() {
    let desk = Desk::new();
    let seen = desk.show("1")["version"].as_i64().unwrap().to_string();
    let racers: Vec<_> = [["mark", "1", "spam"], ["mark", "1", "valid"]]
        .iter()
        .map(|args| {
            let mut a = args.to_vec();
            a.extend(["--if-version", &seen]);
            desk.command(&a)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outcomes: Vec<Output> = racers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let won = outcomes.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "exactly one desk applies its change");
    let loser = outcomes.iter().find(|o| !o.status.success()).unwrap();
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(
        err.contains("nothing was changed; look at it as it is now"),
        "{err}"
    );
    assert_eq!(desk.show("1")["version"], 1);
}

#[test]
fn refused_commands_say_why_and_what_is_allowed_in_one_line() {
    let desk = Desk::new();
    let err = desk.refused(&["state", "1", "fixing"]);
    assert_eq!(
        err,
        "secdesk: error: report #1 cannot move from new to fixing: from new the allowed states \
         are acknowledged, triaged, spam, invalid, duplicate, resolved"
    );
    let err = desk.refused(&["assign", "1", "mallory"]);
    assert!(err.contains("no team member 'mallory'"), "{err}");
    assert!(err.contains("Bob <bob@example.org>"), "{err}");
    // A name that is no member is a value the command does not take: exit 2, as a state
    // that does not exist is (README "Exit status").
    assert_eq!(desk.run(&["assign", "1", "mallory"]).status.code(), Some(2));
    let err = desk.refused(&["show", "99"]);
    assert!(err.contains("no report #99"), "{err}");
    let err = desk.refused(&["take", "99"]);
    assert!(err.contains("no report #99"), "{err}");
    let err = desk.refused(&["state", "1", "invalid"]);
    assert!(
        err.contains("invalid needs a reason: one of not-a-vulnerability"),
        "{err}"
    );
    let err = desk.refused(&["dup", "1", "--of", "1"]);
    assert!(err.contains("itself"), "{err}");
    desk.ok(&["dup", "3", "--of", "1"]);
    let err = desk.refused(&["dup", "1", "--of", "3"]);
    assert!(err.contains("loop"), "{err}");
    let err = desk.refused(&["stats", "--since", "yesterday"]);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}

#[test]
fn mark_closes_spam_and_invalid_with_a_default_reason() {
    let desk = Desk::new();
    desk.ok(&["mark", "2", "spam"]);
    let spam = desk.show("2");
    assert_eq!(
        (spam["state"].as_str(), spam["class"].as_str()),
        (Some("spam"), Some("spam"))
    );
    assert_eq!(spam["class_confirmed"], true);
    desk.ok(&["mark", "3", "invalid"]);
    assert_eq!(desk.show("3")["invalid_reason"], "not-a-vulnerability");
    desk.ok(&["state", "3", "acknowledged"]);
    desk.ok(&[
        "state",
        "3",
        "invalid",
        "--reason",
        "third-party",
        "--note",
        "upstream bug",
    ]);
    let d = desk.show("3");
    assert_eq!(d["invalid_reason"], "third-party");
    assert_eq!(d["notes"][0]["text"], "upstream bug");
    let log = desk.json(&["log", "3", "--json"]);
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "note");
}

#[test]
fn mark_takes_a_reason_in_its_own_words_and_a_note_in_one_change() {
    let desk = Desk::new();
    let err = desk.refused(&["mark", "3", "invalid", "--reason", "other"]);
    assert!(err.contains("--note"), "{err}");
    assert_eq!(
        desk.show("3")["state"],
        "new",
        "a refused change changes nothing"
    );
    let out = desk.ok(&[
        "mark",
        "#3",
        "invalid",
        "--reason",
        "other",
        "--note",
        "a copy of a public advisory",
    ]);
    assert!(out.contains("state invalid (other)"), "{out}");
    let d = desk.show("3");
    assert_eq!(d["invalid_reason"], "other");
    assert_eq!(d["class"], "invalid");
    assert_eq!(d["class_confirmed"], true);
    assert_eq!(d["notes"][0]["text"], "a copy of a public advisory");
    // One change: one version for the state, the class and the note.
    assert_eq!(d["version"], 1);
    // A note with valid is added after the class, and both are logged.
    desk.ok(&["mark", "1", "valid", "--note", "reproduced on 3.13"]);
    let d = desk.show("1");
    assert_eq!(d["class"], "valid");
    assert_eq!(d["notes"][0]["text"], "reproduced on 3.13");
}

#[test]
fn show_prints_the_audit_log_and_takes_ids_as_list_shows_them() {
    let desk = Desk::new();
    desk.ok(&["take", "#1"]);
    desk.ok(&["state", "1", "acknowledged", "--note", "on it"]);
    let out = desk.ok(&["show", "#1"]);
    let log = out
        .split("\naudit log (oldest first):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no audit log in show: {out}"));
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].contains("created"), "{log}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("coordinator") && l.contains("ada@example.org")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("state") && l.contains("new → acknowledged")),
        "{log}"
    );
    assert_eq!(
        log,
        desk.ok(&["log", "1"])
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    for bad in ["x", "0", "#", "#-3", "#1a"] {
        let out = desk.run(&["show", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not a report number"), "{bad}: {err}");
    }
}

#[test]
fn reporter_answer_brings_needs_info_back_flagged() {
    let desk = Desk::new();
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["state", "1", "triaged"]);
    desk.ok(&["state", "1", "needs-info", "--note", "asked which versions"]);
    desk.import_fixture("reply", &[]);
    let d = desk.show("1");
    assert_eq!(d["state"], "triaged");
    assert_eq!(d["flagged"], true);
    let back = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["before"] == "needs-info")
        .unwrap();
    assert_eq!(back["actor"], "secdesk");
    assert_eq!(back["after"], "triaged");
}

#[test]
fn show_keeps_mail_replies_and_notes_apart_and_terminal_safe() {
    let desk = Desk::new();
    desk.ok(&["note", "3", "same as #1"]);
    let out = desk.ok(&["show", "3"]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(
        out.contains("␛[31mURGENT"),
        "the trick stays visible: {out}"
    );
    assert!(out.contains("── MAIL from the reporter"), "{out}");
    assert!(out.contains("── TEAM NOTE, internal, never sent"), "{out}");
    assert!(out.contains("  # same as #1"), "{out}");
    assert!(out.contains("  │ I found the extractor bug too."), "{out}");
    let log = desk.ok(&["log", "3"]);
    assert!(log.contains("note") && log.contains("same as #1"), "{log}");
}

#[test]
fn stats_exports_json_and_formula_safe_csv() {
    let desk = Desk::new();
    desk.ok(&["assign", "1", "Eve"]);
    desk.ok(&["mark", "2", "spam"]);
    let s = desk.json(&["stats", "--format", "json"]);
    has_keys(
        &s,
        &[
            "by_state",
            "by_class",
            "by_coordinator",
            "weekly",
            "time_to_first_response",
            "time_to_triage",
            "time_to_close",
            "overdue",
        ],
    );
    assert_eq!(s["by_state"]["spam"], 1);
    assert_eq!(s["by_coordinator"]["=2+5@evil.example"], 1);
    assert_eq!(s["weekly"][0]["week"], "2026-W10");
    assert_eq!(s["weekly"][0]["spam"], 1);
    assert_eq!(
        keys(&s["time_to_close"]),
        ["count", "median_hours", "p90_hours"]
    );
    assert_eq!(s["time_to_close"]["count"], 1);
    assert_eq!(s["cleared_by"]["ada@example.org"]["spam"], 1);
    assert_eq!(
        desk.json(&["stats", "--json", "--since", "2026-03-03"])["by_state"]["spam"],
        0
    );
    let csv = desk.ok(&["stats", "--format", "csv"]);
    assert!(
        csv.contains("by_coordinator,'=2+5@evil.example,count,1"),
        "{csv}"
    );
    for line in csv.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unguarded cell {cell:?}"
            );
        }
    }
    assert_eq!(desk.ok(&["stats", "--csv"]), csv, "--csv is --format csv");
    let table = desk.ok(&["stats"]);
    assert!(table.contains("to first response"), "{table}");
}

/// The older section's close time counts spam closures, the yearly one's does not: on a store
/// where they differ, each label says which it is, in the table and the CSV.
#[test]
fn stats_label_the_two_close_times_apart() {
    let desk = Desk::new();
    desk.ok(&["mark", "2", "spam"]);
    let s = desk.json(&["stats", "--json"]);
    assert_eq!(s["time_to_close"]["count"], 1, "{s}");
    assert_eq!(s["response_times"]["close"]["count"], 0, "{s}");
    let table = desk.ok(&["stats"]);
    let row = |label: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} row: {table}"))
            .to_string()
    };
    let all = row("to close (all, spam included)");
    let reports = row("to close (no spam)");
    assert!(all.trim_end().ends_with(" 1"), "{all}");
    assert!(reports.contains(" 0 "), "{reports}");
    assert!(
        !table
            .lines()
            .any(|l| l.trim_start().starts_with("to close ") && !l.contains("spam")),
        "a bare 'to close' row: {table}"
    );
    let csv = desk.ok(&["stats", "--csv"]);
    assert!(csv.contains("time_to_close,,spam,included\r\n"), "{csv}");
    assert!(
        csv.contains("response_times,close,spam,excluded\r\n"),
        "{csv}"
    );
}

/// Weeks, months and years are cut in UTC: the JSON, the CSV, the table and `--help` say so.
#[test]
fn stats_say_their_periods_are_utc() {
    let desk = Desk::new();
    assert_eq!(desk.json(&["stats", "--json"])["time_zone"], "UTC");
    let csv = desk.ok(&["stats", "--csv"]);
    assert!(csv.contains("period,time_zone,name,UTC\r\n"), "{csv}");
    let table = desk.ok(&["stats", "--by", "month"]);
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("(UTC days, weeks, months and years)"),
        "{table}"
    );
    assert!(table.contains("intake per UTC week"), "{table}");
    assert!(table.contains("per month, UTC"), "{table}");
    let help = desk.ok(&["stats", "--help"]);
    assert!(
        help.contains("a day in the --tz zone, UTC by default")
            && help.contains("midnight in the --tz zone (UTC by default"),
        "{help}"
    );
}

/// `--tz` cuts days, months and years in the team's zone: a report sent at 23:30 on
/// 31 December in New York (04:30 UTC on 1 January) counts in the old year there, in the new
/// one in UTC; every output names the zone, and an unknown zone is refused naming the flag.
#[test]
fn stats_tz_counts_periods_in_the_named_zone() {
    let desk = Desk::new();
    let dir = desk.dir.path().join("new-years-eve");
    std::fs::create_dir_all(&dir).unwrap();
    let mail = dir.join("late.eml");
    std::fs::write(
        &mail,
        "From: Night Owl <owl@reporter.example>\r\nTo: security@example.org\r\n\
         Subject: Crash in the tar module\r\nMessage-ID: <owl-1@reporter.example>\r\n\
         Date: Wed, 31 Dec 2025 23:30:00 -0500\r\n\r\nA crafted tar file crashes the reader.\r\n",
    )
    .unwrap();
    // 2026-01-01T04:30:00Z, when the desk saw it (a past year: an arrival after the time of
    // the test would be taken as that time).
    let arrived = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_241_800);
    std::fs::File::options()
        .write(true)
        .open(&mail)
        .unwrap()
        .set_modified(arrived)
        .unwrap();
    desk.ok(&["import", dir.to_str().unwrap()]);

    let periods = |s: &Value| -> Vec<(String, u64)> {
        s["by_period"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let n = ["spam", "invalid", "valid", "unclassified"]
                    .iter()
                    .map(|k| p[k].as_u64().unwrap())
                    .sum();
                (p["period"].as_str().unwrap().to_string(), n)
            })
            .collect()
    };
    let utc = desk.json(&["stats", "--json", "--by", "year"]);
    assert_eq!(utc["time_zone"], "UTC");
    assert_eq!(periods(&utc), [("2026".into(), 4)]);

    let ny = desk.json(&[
        "stats",
        "--json",
        "--by",
        "month",
        "--tz",
        "America/New_York",
    ]);
    assert_eq!(ny["time_zone"], "America/New_York");
    // The quiet months between are listed as zeros.
    assert_eq!(
        periods(&ny),
        [
            ("2025-12".into(), 1),
            ("2026-01".into(), 0),
            ("2026-02".into(), 0),
            ("2026-03".into(), 3)
        ]
    );
    assert_eq!(ny["reports"], 4);
    // --since and --until are days in the zone too.
    let in_2026 = |tz: &str| {
        desk.json(&["stats", "--json", "--since", "2026-01-01", "--tz", tz])["reports"].clone()
    };
    assert_eq!(in_2026("UTC"), 4);
    assert_eq!(in_2026("america/new_york"), 3);
    let until = desk.json(&[
        "stats",
        "--json",
        "--until",
        "2025-12-31",
        "--tz",
        "America/New_York",
    ]);
    assert_eq!(until["reports"], 1);

    let csv = desk.ok(&["stats", "--csv", "--tz", "America/New_York"]);
    assert!(
        csv.contains("period,time_zone,name,America/New_York\r\n"),
        "{csv}"
    );
    let table = desk.ok(&["stats", "--by", "year", "--tz", "America/New_York"]);
    assert!(
        table.contains("(America/New_York days, weeks, months and years)")
            && table.contains("per year, America/New_York"),
        "{table}"
    );
    // A long zone name widens the first column: each figure stays where it stands under
    // its header in UTC.
    let spam_offset = |table: &str, header: &str| -> usize {
        let lines: Vec<&str> = table.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(header))
            .unwrap_or_else(|| panic!("no {header:?} in {table}"));
        let head_end = lines[at].find(" spam").unwrap() + " spam".len();
        // The end of the row's first figure, after its period.
        let row = lines[at + 1];
        let lead = row.len() - row.trim_start().len();
        let period_end = lead + row[lead..].find(' ').unwrap();
        let rest = &row[period_end..];
        let figure = period_end + (rest.len() - rest.trim_start().len());
        let figure_end = figure + row[figure..].find(' ').unwrap_or(row.len() - figure);
        figure_end - head_end
    };
    let utc_table = desk.ok(&["stats", "--by", "year", "--tz", "UTC"]);
    for (header, zone_header) in [
        ("per year, UTC", "per year, America/New_York"),
        ("intake per UTC week", "intake per America/New_York week"),
    ] {
        assert_eq!(
            spam_offset(&table, zone_header),
            spam_offset(&utc_table, header),
            "{table}"
        );
    }
    let err = desk.refused(&["stats", "--tz", "Mars/Olympus_Mons"]);
    assert!(
        err.contains("--tz") && err.contains("\"Mars/Olympus_Mons\" is not a time zone"),
        "{err}"
    );
    let help = desk.ok(&["stats", "--help"]);
    assert!(
        help.contains("--tz <ZONE>") && help.contains("IANA name"),
        "{help}"
    );

    // `[stats] time_zone` sets the team's zone for every run; --tz still overrides it.
    let config = desk.dir.path().join("config.toml");
    let before = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{before}\n[stats]\ntime_zone = \"America/New_York\"\n"),
    )
    .unwrap();
    let team = desk.json(&["stats", "--json", "--by", "month"]);
    assert_eq!(team["time_zone"], "America/New_York");
    assert_eq!(periods(&team), periods(&ny));
    let utc = desk.json(&["stats", "--json", "--by", "year", "--tz", "UTC"]);
    assert_eq!(utc["time_zone"], "UTC");
    assert_eq!(periods(&utc), [("2026".into(), 4)]);
    // A zone the config misspells is refused when the config is read, naming the key.
    std::fs::write(
        &config,
        format!("{before}\n[stats]\ntime_zone = \"Europe/Amsterdamm\"\n"),
    )
    .unwrap();
    let out = desk.run(&["stats", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("stats.time_zone") && err.contains("\"Europe/Amsterdamm\" is not a time zone"),
        "{err}"
    );
    std::fs::write(&config, before).unwrap();
}

#[test]
fn issue14_members_by_any_name_responded_dup_of_a_dup_list_header_and_empty_outbox() {
    let desk = Desk::new();
    // A member by local part and by name, and a stranger refused in one line.
    assert!(desk.ok(&["assign", "1", "bob"]).contains("bob@example.org"));
    assert!(desk.ok(&["assign", "1", "ADA"]).contains("ada@example.org"));
    assert!(desk
        .refused(&["assign", "1", "mallory"])
        .contains("no team member"));
    // A first response given by phone stops the acknowledge clock; marking valid does not.
    desk.ok(&["mark", "1", "valid"]);
    let clocks = &desk.show("1")["clocks"];
    assert!(clocks["acknowledge"]["met_at"].is_null(), "{clocks}");
    assert!(desk
        .ok(&["responded", "1", "--via", "phone"])
        .contains("first response recorded (via phone)"));
    let clocks = &desk.show("1")["clocks"];
    assert!(clocks["acknowledge"]["met_at"].is_string(), "{clocks}");
    assert!(desk
        .refused(&["responded", "1", "--via", "fax"])
        .contains("phone"));
    // A duplicate of a duplicate is refused, naming the original.
    desk.ok(&["dup", "3", "--of", "1"]);
    let err = desk.refused(&["dup", "2", "--of", "3"]);
    assert!(err.contains("mark #2 a duplicate of #1"), "{err}");
    // list has a header row; the JSON has none.
    let table = desk.ok(&["list"]);
    let header = table.lines().next().unwrap();
    assert!(
        header.contains("id") && header.contains("subject"),
        "{header}"
    );
    assert!(desk.json(&["list", "--json"]).is_array());
    // outbox says when it is empty, even through a pipe.
    assert!(desk.ok(&["outbox"]).contains("the outbox is empty"));
}

#[test]
fn issue14_history_comes_in_closed_and_stays_out_of_response_times() {
    let fresh = Desk::new();
    let new = fresh.json(&["list", "--json"]);
    assert!(new.as_array().unwrap().iter().all(|r| r["state"] == "new"));

    let archive = Desk::importing("", &["--historical"]);
    let reports = archive.json(&["list", "--json"]);
    let reports = reports.as_array().unwrap();
    assert!(!reports.is_empty());
    for r in reports {
        let state = r["state"].as_str().unwrap();
        assert!(state == "resolved" || state == "spam", "{r}");
        assert_eq!(r["overdue"], false, "{r}");
    }
    let log = archive.ok(&["log", "1"]);
    assert!(log.contains("imported"), "{log}");
    let stats = archive.json(&["stats", "--json"]);
    assert_eq!(stats["historical"], reports.len());
    assert_eq!(stats["time_to_close"]["count"], 0);
    let with = archive.json(&["stats", "--json", "--historical"]);
    assert_eq!(with["time_to_close"]["count"], reports.len());

    // [sync] historical_before, as a bare TOML date: the same for mail older than it.
    let dated = Desk::with("[sync]\nhistorical_before = 2100-01-01\n");
    let reports = dated.json(&["list", "--json"]);
    assert!(reports
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["state"] != "new"));
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A desk sharing events with the team over an IMAP server that is down, sending through
/// an SMTP server that is down too.
fn offline_team_desk() -> Desk {
    Desk::with(&format!(
        r#"events_mailbox = "secdesk"
[imap]
host = "127.0.0.1"
port = {}
security = "plain"
username = "security"
password_command = ["printf", "pw"]
[smtp]
host = "127.0.0.1"
port = {}
security = "plain"
"#,
        closed_port(),
        closed_port()
    ))
}

#[test]
fn a_reply_that_needs_an_editor_without_a_terminal_is_refused_up_front() {
    let desk = offline_team_desk();
    let out = desk
        .command(&["reply", "1", "--template", "acknowledge", "--yes"])
        .env_remove("VISUAL")
        .env_remove("EDITOR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("not replying to report #1: the editor vi (neither $VISUAL nor $EDITOR is set) needs a terminal")
            && err.contains("pass --no-edit (with --template NAME)"),
        "{err}"
    );
    assert!(!err.contains("Vim") && !err.contains("exited"), "{err}");
    // Nothing was queued.
    assert_eq!(desk.json(&["outbox", "--json"]), serde_json::json!([]));
}

#[test]
fn a_reply_whose_team_cannot_be_told_says_so_once() {
    let desk = offline_team_desk();
    let args: Vec<&str> = "reply 1 --template acknowledge --no-edit --yes"
        .split(' ')
        .collect();
    let out = desk.run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    // Kept queued: the SMTP server is down (75, run again later).
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert_eq!(
        err.matches("the team hears about this reply with the next sync")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("cannot reach IMAP server 127.0.0.1"), "{err}");
}
