//! The desk's mail workers against a real Dovecot and a real SMTP server (aiosmtpd):
//! `r` composes, edits (a stand-in editor through $VISUAL), previews and sends a reply that
//! reaches the reporter exactly once; the sync worker IDLEs and brings new mail in within
//! seconds, long before its poll interval.

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "reply/desk.rs"]
mod desk;

mod tui_support;

#[path = "pgp/keys.rs"]
mod keys;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use secdesk::core::config::Config;
use secdesk::core::store::Store;
use secdesk::tui::action::Action;
use secdesk::tui::sync;

use desk::{body, header, Desk, REPORTER, TEAM};
use support::Smtp;

const REPORT: &str = "From: Reporter <reporter@example.net>\r\n\
To: security@example.org\r\n\
Subject: tarfile escape\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <report-1@reporter.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
extractall() follows a symlink out of the target directory.\r\n";

/// What the stand-in editor adds.
const ADDED: &str = "A line added in the editor.";

/// The test desk's environment: the stand-in editor and the IMAP password `Desk` configures.
fn environment() {
    let editor = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/editor/append-line");
    std::env::set_var("VISUAL", editor);
    std::env::set_var("SECDESK_TEST_IMAP_PASSWORD", "pw-Team-1");
}

/// The TUI, driven key by key, on the database and config of `mail`.
fn tui_on(mail: &Desk) -> tui_support::Desk {
    environment();
    let config = Config::load(&mail.dir.path().join("config.toml")).unwrap();
    let store = Store::open(&mail.db_path()).unwrap();
    tui_support::Desk::open(tempfile::tempdir().unwrap(), store, config)
}

#[test]
fn r_edits_previews_and_sends_the_reply_once() {
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let mut tui = tui_on(&mail);
    assert_eq!(tui.queue_ids(), vec![1]);

    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Char('j')); // acknowledge: the first template after blank
    tui.key(KeyCode::Enter);
    // The editor ran and the preview shows the message as it will go out.
    let preview = tui.screen();
    for needle in [
        "Reply to #1",
        "Reporter <reporter@example.net>",
        "Re: tarfile escape",
        "<report-1@reporter.example>",
        "#1 becomes acknowledged",
        ADDED,
        "y send",
    ] {
        assert!(preview.contains(needle), "{needle} in\n{preview}");
    }
    assert_eq!(mail.reporter_maildir_count(), 0, "nothing sent before y");

    tui.key(KeyCode::Char('y'));
    assert!(
        tui.status().contains("Reply to #1 sent") && tui.status().contains("acknowledged"),
        "{}",
        tui.status()
    );
    let inbox = mail.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        header(&inbox[0], "In-Reply-To").as_deref(),
        Some("<report-1@reporter.example>")
    );
    assert!(body(&inbox[0]).contains(ADDED), "{}", body(&inbox[0]));
    assert_eq!(
        mail.query("SELECT count(*) FROM events WHERE report_id = 1 AND kind = 'reply'"),
        1
    );
    assert_eq!(tui.state.outbox_pending, Some(0));
    assert_eq!(mail.mailbox(TEAM, "Sent").len(), 1);

    // A retry afterwards finds nothing to send: exactly once.
    let out = mail.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", desk::stderr(&out));
    assert_eq!(mail.reporter_maildir_count(), 1);
}

#[test]
fn smtp_down_keeps_the_reply_queued_and_shown_on_the_report() {
    let mail = Desk::new(REPORT, support::free_port());
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Enter); // the report view
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    tui.key(KeyCode::Char('y'));
    let status = tui.status();
    assert!(
        status.contains("queued (outbox #1), not sent yet") && status.contains("127.0.0.1"),
        "{status}"
    );
    assert_eq!(tui.state.outbox_pending, Some(1));
    let screen = tui.screen();
    assert!(screen.contains("outbox: 1 pending"), "{screen}");
    assert!(
        screen.contains("Outbox: replies not yet sent") && screen.contains("#1 queued"),
        "{screen}"
    );
    assert_eq!(
        mail.query("SELECT count(*) FROM events WHERE kind = 'reply'"),
        0
    );
}

#[test]
fn the_preview_says_what_sending_will_really_do_to_a_triaged_report() {
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Enter);
    tui.key(KeyCode::Char('S'));
    tui.keys("2"); // triaged
    assert_eq!(tui.report_field(1, "state").as_deref(), Some("triaged"));
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Char('j')); // acknowledge
    tui.key(KeyCode::Enter);
    let preview = tui.screen();
    assert!(
        preview.contains("#1 stays triaged (already past acknowledged)"),
        "{preview}"
    );
    assert!(!preview.contains("becomes acknowledged"), "{preview}");
    tui.key(KeyCode::Char('y'));
    let status = tui.status();
    assert!(status.contains("Reply to #1 sent"), "{status}");
    assert!(
        !status.contains(", but"),
        "no failed state change: {status}"
    );
    assert_eq!(tui.report_field(1, "state").as_deref(), Some("triaged"));
}

#[test]
fn the_preview_shows_the_whole_message_and_n_cancels() {
    let mail = Desk::new(REPORT, 0);
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    insta::assert_snapshot!(tui.screen());
    tui.key(KeyCode::Char('n'));
    assert!(
        tui.status().contains("nothing was sent"),
        "{}",
        tui.status()
    );
    assert!(!tui.screen().contains("y send"));
    assert_eq!(mail.query("SELECT count(*) FROM outbox"), 0);
}

#[test]
fn the_sync_worker_idles_and_new_mail_arrives_within_seconds() {
    let mail = Desk::new(REPORT, 0);
    let mut tui = tui_on(&mail);
    let mut config = Config::load(&mail.dir.path().join("config.toml")).unwrap();
    // Far longer than the test waits: only IDLE can bring the mail in time.
    config.sync.poll_seconds = 120;
    let (source, _) = secdesk::cli::desk::sync_source(&config);
    let (tx, rx) = mpsc::channel();
    sync::spawn(source.expect("a sync source for [imap]"), tx);
    let round_started = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(&round_started, Action::Syncing(Some(what)) if what == "INBOX"),
        "{round_started:?}"
    );
    let first = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(&first, Action::Sync(Ok(s)) if s.contains("no new mail")),
        "{first:?}"
    );

    let started = Instant::now();
    mail.server.append(
        TEAM,
        "INBOX",
        &support::message("idle-2@reporter.example", "IDLE brought this", "hello"),
    );
    let next = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(matches!(&next, Action::Syncing(Some(_))), "{next:?}");
    let next = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(&next, Action::Sync(Ok(s)) if s.contains("1 new message")),
        "{next:?}"
    );
    tui.act(next);
    tui.act(Action::StoreChanged);
    let screen = tui.screen();
    assert!(screen.contains("IDLE brought this"), "{screen}");
    assert!(screen.contains("synced: 1 new message"), "{screen}");
}

/// A private tmux server for one test, killed when it ends.
struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.0, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.run(&["capture-pane", "-p", "-t", "0"]);
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{needle:?} never appeared; the pane shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn the_real_desk_hands_the_terminal_to_the_editor_and_takes_it_back() {
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let editor =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/editor/ask-then-append");
    let line = mail.shell_line(&[]).replacen(
        "EDITOR=false",
        &format!("EDITOR=false VISUAL={}", editor.display()),
        1,
    );
    let tmux = Tmux(format!("secdesk-tui-mail-{}", std::process::id()));
    tmux.run(&["new-session", "-d", "-x", "120", "-y", "40", &line]);
    tmux.wait_for("tarfile escape");
    tmux.run(&["send-keys", "-t", "0", "r"]);
    tmux.wait_for("blank (no template)");
    tmux.run(&["send-keys", "-t", "0", "Enter"]);
    // The desk left the alternate screen: the editor has the terminal and the keyboard.
    tmux.wait_for("EDITOR IS RUNNING");
    tmux.run(&["send-keys", "-t", "0", "-l", "hello from tmux"]);
    tmux.run(&["send-keys", "-t", "0", "Enter"]);
    // Back in the desk, redrawn whole: the preview, with what was typed in the editor.
    let screen = tmux.wait_for("Typed in the editor: hello from tmux");
    assert!(screen.contains("Reply to #1"), "{screen}");
    assert!(!screen.contains("EDITOR IS RUNNING"), "{screen}");
    tmux.run(&["send-keys", "-t", "0", "y"]);
    tmux.wait_for("Reply to #1 sent");
    let inbox = mail.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert!(body(&inbox[0]).contains("Typed in the editor: hello from tmux"));
}

/// Issue 11: a follow-up from another address, naming the report in In-Reply-To with the
/// reporter's display name and its own Reply-To, is labelled in the desk's thread, and `r`
/// still addresses the reporter; the preview lists every recipient.
#[test]
fn another_sender_is_flagged_and_r_still_answers_the_reporter() {
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let hijack = "From: Reporter <reporter@evil.example>\r\n\
        Reply-To: a@evil.example, b@evil.example\r\nTo: security@example.org\r\n\
        Subject: Re: tarfile escape\r\nMessage-ID: <h@evil.example>\r\n\
        In-Reply-To: <report-1@reporter.example>\r\n\r\nSend the fix here.\r\n";
    mail.server.append(TEAM, "INBOX", hijack.as_bytes());
    let out = mail.run(&["sync"], &[]);
    assert!(out.status.success(), "{}", desk::stderr(&out));
    let mut tui = tui_on(&mail);
    assert_eq!(tui.queue_ids(), vec![1], "the follow-up joined the report");
    tui.key(KeyCode::Enter);
    let thread = tui.screen();
    assert!(thread.contains("ANOTHER SENDER"), "{thread}");

    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    let preview = tui.screen();
    for needle in [
        "2 addresses: reporter@example.net, security@example.org",
        "reporter@evil.example (another sender",
    ] {
        assert!(preview.contains(needle), "{needle} in\n{preview}");
    }
    tui.key(KeyCode::Char('y'));
    let inbox = mail.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let rcpt = header(&inbox[0], "X-RcptTo").unwrap();
    assert!(!rcpt.contains("evil.example"), "{rcpt}");
    assert!(rcpt.contains("reporter@example.net"), "{rcpt}");
}

/// Issue 11: over `[reply] max_recipients` (6 Reply-To addresses and the team: 7 > 5) the
/// desk's preview says so, and `y` asks a question naming the count before anything is sent.
#[test]
fn the_preview_asks_before_sending_to_more_than_max_recipients() {
    let devs: Vec<String> = (0..6).map(|i| format!("dev{i}@example.net")).collect();
    let report = REPORT.replace(
        "To: security@example.org\r\n",
        &format!(
            "To: security@example.org\r\nReply-To: {}\r\n",
            devs.join(", ")
        ),
    );
    let mail = Desk::new(&report, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    let preview = tui.screen();
    assert!(preview.contains("max_recipients = 5"), "{preview}");
    // Without [pgp] nothing is said about encryption; the check is back (not "checking").
    assert!(!preview.contains("checking the recipients"), "{preview}");
    tui.key(KeyCode::Char('y'));
    let asked = tui.screen();
    assert!(asked.contains("Send to all 7 addresses?"), "{asked}");
    // n goes back to the preview: nothing sent, the reply still there.
    tui.key(KeyCode::Char('n'));
    assert!(tui.state.reply.is_some());
    assert_eq!(mail.reporter_maildir_count(), 0, "sent before the answer");
    tui.key(KeyCode::Char('y'));
    tui.key(KeyCode::Char('y'));
    assert!(tui.status().contains("sent"), "{}", tui.status());
    assert_eq!(mail.reporter_maildir_count(), 1);
}

/// Issue 16: the preview says whether the reply will be encrypted, as the store worker found
/// with a real gpg: readable (naming the recipient without a key) until the reporter's key
/// is in the team keyring, then encrypted.
#[test]
fn the_preview_says_whether_the_reply_will_be_encrypted() {
    let team = keys::Keyring::generate("Security Team <security@example.org>");
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    let pgp = format!(
        "\n[pgp]\ngnupg_home = {:?}\nteam_key = \"{}\"\nencrypt_replies = \"when-possible\"\n",
        team.path(),
        team.fpr
    );
    mail.configure(smtp.port, &pgp);
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    let preview = tui.screen();
    assert!(
        preview.contains(
            "Encrypted: NO, sent readable: no key in the keyring for reporter@example.net"
        ),
        "{preview}"
    );
    tui.key(KeyCode::Char('n'));
    let reporter = keys::Keyring::generate("Reporter <reporter@example.net>");
    team.trust(&reporter);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter);
    let preview = tui.screen();
    assert!(preview.contains("Encrypted: yes"), "{preview}");
}

/// A reply to a report that came encrypted, which would go out readable (the team never
/// turned encrypted replies on), is said so in red on the preview, and `y` asks once more,
/// naming it: `n` sends nothing; `y` to that question sends it readable.
#[test]
fn a_readable_reply_to_an_encrypted_report_needs_a_second_yes() {
    let team = keys::Keyring::generate("Security Team <security@example.org>");
    let reporter = keys::Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    let inner = "Content-Type: text/plain; charset=utf-8\r\n\r\nzipfile.Path follows ../\r\n";
    let report = keys::encrypted_mime(
        "From: Reporter <reporter@example.net>\r\nTo: security@example.org\r\n\
         Subject: zipfile escape\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <report-1@reporter.example>\r\n",
        &reporter.encrypt(&team.fpr, true, inner.as_bytes()),
    );
    let mail = Desk::new(&String::from_utf8(report).expect("armoured mail"), 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(
        smtp.port,
        &format!("\n[pgp]\ngnupg_home = {:?}\n", team.path()),
    );
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    let preview = tui.screen();
    assert!(
        preview.contains("The report came ENCRYPTED; this reply and its quote go out READABLE"),
        "{preview}"
    );
    tui.key(KeyCode::Char('y'));
    assert!(
        tui.screen()
            .contains("The report came encrypted: send this reply UNENCRYPTED?"),
        "{}",
        tui.screen()
    );
    tui.key(KeyCode::Char('n'));
    assert_eq!(mail.reporter_maildir_count(), 0, "nothing sent on n");
    tui.key(KeyCode::Char('y'));
    tui.key(KeyCode::Char('y'));
    assert!(
        tui.status().contains("Reply to #1 sent"),
        "{}",
        tui.status()
    );
    assert_eq!(mail.reporter_maildir_count(), 1);
}

/// Issue 13: `r` while another member is replying asks before the editor opens; yes
/// records our reply as started and the preview still says so, and `n` ends it.
#[test]
fn r_while_another_member_replies_asks_first_and_records_our_reply() {
    let (mail, _smtp, mut tui) = ada_is_replying();
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    let question = tui.screen();
    assert!(
        question.contains("ada@example.org is replying (4 min) to #1"),
        "{question}"
    );
    assert!(question.contains("Write yours anyway? y/N"), "{question}");
    assert_eq!(
        who(&tui),
        ["ada@example.org"],
        "nothing recorded before yes"
    );
    tui.key(KeyCode::Char('y'));
    let preview = tui.screen();
    assert!(
        preview.contains(
            "ada@example.org is replying (4 min) to report #1: two replies may reach the reporter"
        ),
        "{preview}"
    );
    assert_eq!(who(&tui), ["ada@example.org", "grace@example.org"]);
    tui.key(KeyCode::Char('n'));
    assert_eq!(who(&tui), ["ada@example.org"], "n ends our reply");
    drop(mail);
}

/// Issue 13: no to the question leaves the reply unwritten: no editor, no preview, and the
/// team never hears of a reply from this desk.
#[test]
fn no_to_the_question_writes_no_reply() {
    let (mail, _smtp, mut tui) = ada_is_replying();
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter);
    tui.key(KeyCode::Char('n'));
    let screen = tui.screen();
    assert!(screen.contains("no reply written"), "{screen}");
    assert!(!screen.contains("two replies may reach"), "{screen}");
    assert_eq!(who(&tui), ["ada@example.org"]);
    let events: i64 = tui
        .store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM team_events
             WHERE kind = 'reply-started' AND actor = 'grace@example.org'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 0, "no reply-started event queued for the team");
    drop(mail);
}

/// A desk on one report that ada@example.org started answering four minutes ago.
fn ada_is_replying() -> (Desk, Smtp, tui_support::Desk) {
    use secdesk::core::team::replying;
    let mail = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&mail.server.maildir(REPORTER, "INBOX"));
    mail.configure(smtp.port, "");
    let mut tui = tui_on(&mail);
    // The desk's clock in these tests is tui_support::now().
    let started = tui_support::now() - chrono::Duration::minutes(4);
    replying::start(&mut tui.store, "ada@example.org", 1, started).unwrap();
    (mail, smtp, tui)
}

fn who(tui: &tui_support::Desk) -> Vec<String> {
    secdesk::core::team::replying::replying_all(tui.store.conn(), 1, tui_support::now())
        .unwrap()
        .into_iter()
        .map(|r| r.by)
        .collect()
}

/// A reply of ours that is queued, or may already have reached the reporter (uncertain, or
/// still being sent), is asked about before the editor opens, as `secdesk reply` asks on a
/// terminal.
#[test]
fn r_next_to_an_unconfirmed_reply_asks_first() {
    let mail = Desk::new(REPORT, support::free_port());
    let mut tui = tui_on(&mail);
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter); // blank
    tui.key(KeyCode::Char('y'));
    assert!(
        tui.status().contains("queued (outbox #1)"),
        "{}",
        tui.status()
    );
    // Still queued (the server down): it goes at the next delivery, so a second reply would
    // reach the reporter beside it. Asked about too; it went without a word.
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter);
    let question = tui.screen();
    assert!(
        question.contains("outbox #1, a reply queued to go at the next delivery")
            && question.contains("Write yours"),
        "{question}"
    );
    tui.key(KeyCode::Char('n'));
    // As a send cut off after DATA leaves it.
    tui.store
        .conn()
        .execute("UPDATE outbox SET state = 'uncertain' WHERE id = 1", [])
        .unwrap();
    tui.key(KeyCode::Char('r'));
    tui.key(KeyCode::Enter);
    let question = tui.screen();
    assert!(
        question.contains("outbox #1, a reply that may already have reached the reporter")
            && question.contains("(uncertain)"),
        "{question}"
    );
    assert!(question.contains("Write yours"), "{question}");
    tui.key(KeyCode::Char('n'));
    assert!(
        tui.screen().contains("no reply written"),
        "{}",
        tui.screen()
    );
}
