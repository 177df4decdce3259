//! The desk's "Held" screen (issue 18) against a real GNU Mailman 3 core: `H` lists the held
//! posts with the classifier's verdict, `s` discards the one under the cursor as spam, and
//! the queue is fetched again; the sender's text is drawn inert. End to end in tmux, with the
//! real binary: `r` rejects with a reason from the templates (previewed, edited in $VISUAL,
//! mailed to the sender by Mailman), and `S` `y` sweeps exactly the posts classified spam.

#[path = "support/mailman.rs"]
mod mailman;
mod support;
#[path = "support/tmux.rs"]
mod tmux;
mod tui_support;

use std::collections::BTreeSet;
use std::path::Path;

use crossterm::event::KeyCode;
use mailman::{Mailman, ADMIN_PASS, ADMIN_USER};
use secdesk::core::config::Config;
use secdesk::core::store::Store;
use support::{Dovecot, Smtp};

const LIST: &str = "security@example.org";
const LIST_ID: &str = "security.example.org";
const MAILMAN_VAR: &str = "SECDESK_TEST_MAILMAN_PASSWORD";

fn post(message_id: &str, from: &str, subject: &str, body: &str) -> Vec<u8> {
    mailman::list_post(LIST, message_id, from, subject, body)
}

#[test]
fn h_lists_held_posts_and_s_discards_the_spam_under_the_cursor() {
    if !Mailman::installed() {
        eprintln!("skip: Debian mailman3 is not installed (scripts/test installs it)");
        return;
    }
    let dovecot = Dovecot::start();
    let smtp = Smtp::start(&dovecot.maildir("sink", "INBOX"));
    let mm = Mailman::start(smtp.port);
    mm.create_list(LIST);
    let posts = [
        ("spam1@lottery.example", "win@lottery.example", "You WON 1000000 dollars, claim now",
         "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money."),
        ("hostile@reporter.example", "mallory@reporter.example", "Crash in json \u{1b}]2;owned\u{7}\u{1b}[31m module",
         "The json module of CPython 3.12 crashes with a deeply nested document; reproducer: python3 -c 'import json; json.loads(\"[\"*100000)'."),
    ];
    for (id, from, subject, body) in posts {
        // The spam vouches for itself with an Authentication-Results field of its own.
        let mut raw = if id.starts_with("spam") {
            b"Authentication-Results: mx.lottery.example; dmarc=pass\r\n".to_vec()
        } else {
            Vec::new()
        };
        raw.extend(post(id, from, subject, body));
        mm.post(LIST, from, &raw);
    }
    mm.wait_held(LIST_ID, posts.len());

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secdesk.db");
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        format!(
            "[store]\npath = {db:?}\n\n[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n\n\
             [mailman]\nrest_url = \"{}\"\nusername = \"{ADMIN_USER}\"\n\
             password_env = \"{MAILMAN_VAR}\"\nlists = [\"{LIST}\"]\n",
            mm.rest_url()
        ),
    )
    .unwrap();
    std::env::set_var(MAILMAN_VAR, ADMIN_PASS);
    let config = Config::load(&config_path).unwrap();
    let store = Store::open(&db).unwrap();
    let mut desk = tui_support::Desk::open(dir, store, config);

    desk.key(KeyCode::Char('H'));
    let screen = desk.screen();
    assert!(screen.contains("Held posts"), "{screen}");
    assert!(screen.contains("You WON 1000000 dollars"), "{screen}");
    assert!(screen.contains("Crash in json"), "{screen}");
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen}"
    );
    let held = desk.state.held.clone().unwrap().unwrap();
    let spam = held
        .iter()
        .position(|c| c.post.subject.contains("WON"))
        .unwrap();
    assert_eq!(held[spam].verdict.class.as_str(), "spam");
    for _ in 0..spam {
        desk.key(KeyCode::Char('j'));
    }
    // Under the cursor, whose word the verdict's sender authentication is, as `show` says.
    let screen = desk.screen();
    assert!(
        screen.contains("Auth UNVERIFIED: DMARC pass (claimed as mx.lottery.example's; set"),
        "{screen}"
    );
    desk.key(KeyCode::Char('s'));
    assert!(
        desk.status().contains("discarded as spam"),
        "{}",
        desk.status()
    );
    // Mailman no longer holds it; the screen, fetched again, shows the other post only.
    assert_eq!(mm.held_ids(LIST_ID).len(), 1);
    let after = desk.screen();
    assert!(
        after
            .lines()
            .filter(|l| l.contains("You WON"))
            .all(|l| l.contains("discarded as spam")),
        "only the status line names it: {after}"
    );
    assert!(after.contains("Crash in json"), "{after}");
    // The moderation is recorded, as `secdesk held discard` records it.
    let recorded: i64 = desk
        .store
        .conn()
        .query_row("SELECT count(*) FROM moderation", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 1);
}

/// What `secdesk held --json` says of each held post: (request id, sender, subject,
/// swept by a spam sweep), in the desk's order.
fn listing(config: &Path) -> Vec<(u64, String, String, bool)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .arg("--config")
        .arg(config)
        .args(["held", "--json"])
        .env(MAILMAN_VAR, ADMIN_PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["request_id"].as_u64().unwrap(),
                r["sender"].as_str().unwrap().to_string(),
                r["subject"].as_str().unwrap().to_string(),
                r["class"] == "spam" && r["outcome"] == "spam",
            )
        })
        .collect()
}

#[test]
fn in_tmux_r_rejects_with_a_template_reason_and_s_y_sweeps_exactly_the_spam() {
    if !Mailman::installed() {
        eprintln!("skip: Debian mailman3 is not installed (scripts/test installs it)");
        return;
    }
    let dovecot = Dovecot::start();
    let sink = dovecot.maildir("sink", "INBOX");
    let smtp = Smtp::start(&sink);
    let mm = Mailman::start(smtp.port);
    mm.create_list(LIST);
    let asker = "asker@users.example";
    let posts = [
        ("spam-a@lottery.example", "win@lottery.example", "You WON 1000000 dollars, claim now",
         "Congratulations winner! Claim your prize now, click http://lottery.example/win and send your bank details. Act now, limited offer, free money."),
        ("spam-b@pills.example", "deals@pills.example", "Cheap V1agra, best prices, order now",
         "Buy cheap viagra cialis online, no prescription needed! Best prices guaranteed, order now at http://pills.example and get free shipping. Unsubscribe here."),
        ("spam-c@invest.example", "profit@invest.example", "Double your money in 24 hours, guaranteed",
         "Dear friend, invest in our bitcoin trading program and double your money in 24 hours guaranteed! Risk free, act now, limited offer, click http://invest.example to claim your profit."),
        ("report@reporter.example", "ada@reporter.example", "Heap overflow in the _ssl module",
         "Hello, I found a heap buffer overflow in Modules/_ssl.c when a server sends an oversized certificate chain; reproducer attached. CPython 3.12.1 crashes under ASan. Please advise on disclosure."),
        ("question@users.example", asker, "How do I install numpy on Windows?",
         "Hi, pip install numpy fails on my laptop with an error about a compiler. What should I do? Thanks."),
    ];
    for (id, from, subject, body) in posts {
        mm.post(LIST, from, &post(id, from, subject, body));
    }
    let all: BTreeSet<u64> = mm.wait_held(LIST_ID, posts.len()).into_iter().collect();

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        format!(
            "[store]\npath = {:?}\n\n[identity]\nname = \"Ada Moderator\"\nemail = \"ada@example.org\"\n\n\
             [mailman]\nrest_url = \"{}\"\nusername = \"{ADMIN_USER}\"\n\
             password_env = \"{MAILMAN_VAR}\"\nlists = [\"{LIST}\"]\n",
            dir.path().join("secdesk.db"),
            mm.rest_url()
        ),
    )
    .unwrap();
    // The verdicts the desk will show, from the CLI (the same fetch and classifier).
    let listed = listing(&config_path);
    let spam: BTreeSet<u64> = listed.iter().filter(|p| p.3).map(|p| p.0).collect();
    let (at, rejected) = listed
        .iter()
        .enumerate()
        .find(|(_, p)| p.1 == asker)
        .map(|(i, p)| (i, p.0))
        .unwrap();
    assert!(
        spam.len() >= 2 && !spam.contains(&rejected) && spam.len() < posts.len() - 1,
        "the fixture needs spam and not-spam posts: {listed:?}"
    );

    let editor = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/editor/append-line");
    let command = format!(
        "env {MAILMAN_VAR}={ADMIN_PASS} VISUAL={} {} --config {}",
        editor.display(),
        env!("CARGO_BIN_EXE_secdesk"),
        config_path.display()
    );
    let tmux = tmux::Tmux::start("held", &command, 120, 30);
    tmux.wait_for("sync off");
    tmux.keys(&["H"]);
    tmux.wait_for("How do I install numpy");
    for _ in 0..at {
        tmux.keys(&["j"]);
    }

    // r: the reasons are the templates; the chosen one is previewed before anything is sent.
    tmux.keys(&["r"]);
    let picker = tmux.wait_for(&format!("Reject request {rejected} with the reason"));
    for name in [
        "not-a-vulnerability",
        "off-topic",
        "send-to-project",
        "own words",
    ] {
        assert!(picker.contains(name), "{picker}");
    }
    tmux.keys(&["2"]);
    // The signature is the preview's last line: waiting for it, not for a line above it,
    // reads a frame drawn whole (a capture can land mid-redraw).
    let preview = tmux.wait_for("Ada Moderator");
    assert!(preview.contains("takes private reports"), "{preview}");
    assert!(
        preview.contains(&format!("Reject held request {rejected}")),
        "{preview}"
    );
    assert!(
        preview.contains(asker),
        "the reason is addressed to the sender: {preview}"
    );
    assert!(preview.contains("Ada Moderator"), "{preview}");
    assert_eq!(mm.held_ids(LIST_ID).len(), posts.len(), "nothing sent yet");
    // e: the reason goes through $VISUAL and comes back to the preview.
    tmux.keys(&["e"]);
    tmux.wait_for("A line added in the editor.");
    tmux.keys(&["y"]);
    tmux.wait_for("rejected (the reason is mailed to the sender)");
    let notice = mailman::wait_for_sink(
        &sink,
        &[
            "takes private reports",
            "A line added in the editor.",
            asker,
        ],
    );
    assert!(notice.contains("How do I install numpy"), "{notice}");
    assert!(!mm.held_ids(LIST_ID).contains(&rejected));
    // The list is fetched again without the rejected post (only the status line names it).
    tmux.wait_until("the rejected post leaving the list", |s| {
        s.lines()
            .filter(|l| l.contains("How do I install numpy"))
            .count()
            <= 1
            && s.contains("Heap overflow")
    });

    // S: the count first; n changes nothing.
    let stay = posts.len() - 1 - spam.len();
    let ask = format!("Discard {} held posts classified spam?", spam.len());
    let asked = |s: &str| {
        // The question wraps in its box: compare it with the box's lines joined.
        let unboxed = s.replace('│', " ");
        let joined: String = unboxed.split_whitespace().collect::<Vec<_>>().join(" ");
        joined.contains(&ask)
            && joined.contains(&format!(
                "{stay} classified valid, invalid or unsure stay held"
            ))
    };
    tmux.keys(&["S"]);
    tmux.wait_until("the sweep's question with its counts", asked);
    tmux.keys(&["n"]);
    tmux.wait_for("Nothing changed.");
    assert_eq!(mm.held_ids(LIST_ID).len(), posts.len() - 1);
    // S y: exactly the spam goes.
    tmux.keys(&["S"]);
    tmux.wait_until("the sweep's question again", asked);
    tmux.keys(&["y"]);
    tmux.wait_for(&format!(
        "swept: {} held posts discarded as spam",
        spam.len()
    ));
    let left: BTreeSet<u64> = mm.held_ids(LIST_ID).into_iter().collect();
    let expected: BTreeSet<u64> = all
        .iter()
        .filter(|id| !spam.contains(id) && **id != rejected)
        .copied()
        .collect();
    assert_eq!(left, expected, "the sweep touches only the spam");
    assert!(!left.is_empty());

    tmux.keys(&["q"]);
    tmux.keys(&["q"]);
    tmux.wait_dead();
    // Each action is recorded, by this moderator.
    let store = Store::open(&dir.path().join("secdesk.db")).unwrap();
    let actions: Vec<(String, String)> = store
        .conn()
        .prepare("SELECT action, moderator FROM moderation ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(actions.len(), 1 + spam.len(), "{actions:?}");
    assert_eq!(actions[0].0, "reject");
    assert!(actions[1..].iter().all(|a| a.0 == "discard"), "{actions:?}");
    assert!(actions.iter().all(|a| a.1 == "ada@example.org"));
}
