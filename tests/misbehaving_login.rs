//! `secdesk sync` against greetings and logins a server may answer with besides `* OK` and
//! a LOGIN that succeeds, and answers that do not fit the command (tests/support/badimap.rs):
//! each is understood, or refused with one line that names the real cause (never the "login
//! refused ... check password_command" of a wrong password, nor the imap crate's Debug text)
//! and the exit status a script can act on.

mod support;

use support::badimap::{inbox, BadImap, Behaviour};
use support::syncdesk::SyncDesk;

/// A greeting of `* PREAUTH` (RFC 3501 §7.1.4): the connection is logged in already (a
/// tunnel, a server that knows the client). secdesk sent LOGIN anyway, the server refused
/// it as not allowed in that state, and the sync failed with exit 77 and "login refused ...
/// check password_command". Now it syncs without sending the password.
#[test]
fn a_preauth_greeting_is_logged_in_already() {
    let server = BadImap::start(Behaviour {
        preauth: true,
        ..inbox(1..=3)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3]);
    assert_eq!(server.logins(), 0, "{:?}", server.commands());
}

/// A PREAUTH before STARTTLS can never be encrypted afterwards: the very answer an attacker
/// on the path sends to keep TLS away (RFC 3501 §6.2.1). It was "rejected the greeting or
/// closed the connection"; now it is refused and named as what it is.
#[test]
fn a_preauth_greeting_before_starttls_is_refused_and_named() {
    let server = BadImap::start(Behaviour {
        preauth: true,
        ..inbox(1..=3)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let config = std::fs::read_to_string(desk.config()).expect("config");
    let starttls = config.replace("security = \"plain\"", "security = \"starttls\"");
    assert_ne!(config, starttls);
    std::fs::write(desk.config(), starttls).expect("write config");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("greeted with PREAUTH")
            && run.stderr.contains("before STARTTLS")
            && run.stderr.contains("security = \"tls\""),
        "{}",
        run.stderr
    );
    assert_eq!(server.logins(), 0, "{:?}", server.commands());
    assert!(!desk.db().exists(), "the store is not touched");
}

/// A server that announces LOGINDISABLED (RFC 3501 §6.2.3: the client MUST NOT send LOGIN)
/// takes no password on this connection, whatever the password: that is the config's
/// matter (security, auth), exit 78. It was exit 77, "login refused ... check
/// password_command", which sent the user after a password that was right. Announced in the
/// greeting, no LOGIN is sent; announced only when asked, it is asked after the refusal.
#[test]
fn logindisabled_says_to_change_the_connection_not_the_password() {
    for bare_greeting in [false, true] {
        let server = BadImap::start(Behaviour {
            login_disabled: true,
            bare_greeting,
            ..inbox(1..=3)
        });
        let desk = SyncDesk::loopback(server.port, "");
        let run = desk.sync_bounded();
        assert_eq!(run.code, Some(78), "{run:?}");
        assert!(
            run.stderr
                .contains("does not allow LOGIN on this connection")
                && run.stderr.contains("LOGINDISABLED")
                && run.stderr.contains("security = \"tls\"")
                && !run.stderr.contains("password_command"),
            "{}",
            run.stderr
        );
        let logins = if bare_greeting { 1 } else { 0 };
        assert_eq!(server.logins(), logins, "{:?}", server.commands());
        assert!(!desk.db().exists(), "the store is not touched");
    }
}

/// An answer whose tag is another command's, and one that does not belong to the command
/// (a CAPABILITY list in EXAMINE's answer): the error was the imap crate's Debug text
/// ("Mismatched Tag: TagMismatch { expect: 3, actual: Err([120, 45, 49]) }", "Unexpected
/// Response: Capabilities([Atom(\"IMAP4rev1\"), ...])"). Now each is one line in words,
/// with no server bytes in it; the store is not touched.
#[test]
fn an_answer_that_does_not_fit_the_command_is_named_in_words() {
    let cases: [(Behaviour, &str); 2] = [
        (
            Behaviour {
                examine_tag: Some("x-1".to_string()),
                ..inbox(1..=3)
            },
            "its answer ended with the tag of another command",
        ),
        (
            Behaviour {
                examine_extra: vec!["* CAPABILITY IMAP4rev1 X-EVIL".to_string()],
                ..inbox(1..=3)
            },
            "it sent a CAPABILITY list where the command's answer was due",
        ),
    ];
    for (behaviour, words) in cases {
        let server = BadImap::start(behaviour);
        let desk = SyncDesk::loopback(server.port, "");
        let run = desk.sync_bounded();
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr
                .contains("answered unexpectedly while opening the mailbox")
                && run.stderr.contains(words),
            "{}",
            run.stderr
        );
        for debug in ["TagMismatch", "expect:", "Err([", "Capabilities(", "X-EVIL"] {
            assert!(!run.stderr.contains(debug), "{debug}: {}", run.stderr);
        }
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(!desk.db().exists(), "the store is not touched");
    }
}

/// An answer with another command's tag loses which answer belongs to which command: the
/// session is not used for the next mailbox (where an answer meant for one command could be
/// taken for another's), and the error says so. A refusal the session survives (a NO) still
/// lets later mailboxes sync on it.
#[test]
fn after_an_answer_with_another_commands_tag_the_session_is_not_used_further() {
    let mut b = Behaviour {
        examine_tag: Some("x-1".to_string()),
        ..inbox(1..=3)
    };
    let other = vec![(1, support::message("o1@example.net", "other 1", "x"))];
    b.mailboxes.push(("Other".to_string(), other));
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("the session is not used further"),
        "{}",
        run.stderr
    );
    let examined = server
        .commands()
        .iter()
        .filter(|c| c.to_uppercase().contains("EXAMINE"))
        .count();
    assert_eq!(examined, 1, "{:?}", server.commands());
}
