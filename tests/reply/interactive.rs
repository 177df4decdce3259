//! `secdesk reply` as a person uses it, in a real terminal (tmux): the preview shows the
//! reporter's text without letting its escape sequences act on the terminal, and the reply
//! goes out only after `y`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::desk::{Desk, REPORTER};
use crate::support::Smtp;

/// A report whose body tries to retitle the terminal (OSC 2) and set the clipboard (OSC 52).
const HOSTILE: &str = "From: Mallory <mallory@reporter.example>\r\n\
To: security@example.org\r\n\
Subject: bug\r\n\
Message-ID: <hostile-1@reporter.example>\r\n\
\r\n\
see \x1b]2;pwned\x07 and \x1b]52;c;ZXZpbA==\x07 here\r\n";

pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(line: &str) -> Tmux {
        // One server per test: tests run in parallel threads of one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("secdesk-reply-{}-{n}", std::process::id());
        let tmux = Tmux { socket };
        // The command waits a moment so the clipboard option is set before it prints.
        let line = format!("sleep 0.5; {line}; echo EXIT=$?; sleep 60");
        tmux.cmd(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "45",
            &line,
        ]);
        tmux.cmd(&["set", "-g", "set-clipboard", "on"]);
        tmux
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} on screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
    }
}

#[test]
fn preview_is_terminal_safe_and_sending_waits_for_yes() {
    let desk = Desk::new(HOSTILE, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let tmux = Tmux::start(&desk.shell_line(&["reply", "1", "--no-edit"]));
    let screen = tmux.wait_for("Send this reply? [y]es, [e]dit, [n]o");
    assert!(
        screen.contains("To:      Mallory <mallory@reporter.example>"),
        "{screen}"
    );
    // The quote keeps the words but not the control characters (they are not sent either).
    assert!(
        screen.contains("> see ]2;pwned and ]52;c;ZXZpbA== here"),
        "{screen}"
    );
    assert_ne!(
        tmux.cmd(&["display", "-p", "#{pane_title}"]).trim(),
        "pwned"
    );
    assert!(tmux.cmd(&["list-buffers"]).trim().is_empty());
    assert_eq!(desk.reporter_maildir_count(), 0, "sent before the answer");

    tmux.cmd(&["send-keys", "y", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("reply to report #1 sent"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(desk.reporter_maildir_count(), 1);
}

/// Issue 11: more recipients than `[reply] max_recipients` (6 Reply-To addresses on the
/// reporter's own domain, plus the team: 7 > 5) are sent only after an explicit answer to a
/// question that names the count; the preview lists them all.
#[test]
fn many_recipients_are_listed_and_confirmed_before_sending() {
    let devs: Vec<String> = (0..6).map(|i| format!("dev{i}@reporter.example")).collect();
    let report = HOSTILE.replace(
        "To: security@example.org\r\n",
        &format!(
            "To: security@example.org\r\nReply-To: {}\r\n",
            devs.join(", ")
        ),
    );
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let tmux = Tmux::start(&desk.shell_line(&["reply", "1", "--no-edit"]));
    let screen = tmux.wait_for("Send to all 7 addresses? [y]es, [e]dit, [n]o");
    assert!(
        screen.contains("Sent to: 7 addresses: dev0@reporter.example,"),
        "{screen}"
    );
    assert!(screen.contains("max_recipients = 5"), "{screen}");
    assert_eq!(desk.reporter_maildir_count(), 0, "sent before the answer");
    tmux.cmd(&["send-keys", "y", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(desk.reporter_maildir_count(), 1);
}

/// Issue 14: the preview says what sending will really do to the report. An acknowledge
/// reply to a report already triaged leaves it triaged, and the preview says so instead of
/// promising "becomes acknowledged"; sending then succeeds and the state stays.
#[test]
fn the_preview_says_what_sending_really_does_to_the_state() {
    let desk = Desk::new(HOSTILE, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    for state in ["acknowledged", "triaged"] {
        let out = desk.run(&["state", "1", state], &[]);
        assert!(out.status.success(), "{}", crate::desk::stderr(&out));
    }
    let tmux =
        Tmux::start(&desk.shell_line(&["reply", "1", "--template", "acknowledge", "--no-edit"]));
    let screen = tmux.wait_for("Send this reply? [y]es, [e]dit, [n]o");
    assert!(
        screen.contains("After sending, #1 stays triaged (already past acknowledged)"),
        "{screen}"
    );
    assert!(!screen.contains("becomes acknowledged"), "{screen}");
    tmux.cmd(&["send-keys", "y", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let state: String = desk
        .db()
        .query_row("SELECT state FROM reports WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(state, "triaged");
}
