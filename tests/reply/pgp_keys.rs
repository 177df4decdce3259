//! A reporter's public key attached to a report (issue 16): `secdesk pgp import-key` shows
//! the fingerprint and user ids, imports nothing without a confirmation, never imports a
//! secret key, and once the key is in, the reply goes out encrypted to it.

use crate::desk::{stderr, stdout, Desk};
use crate::interactive::Tmux;
use crate::keys::{crlf, Keyring};
use crate::pgp::{pgp_lines, send_ack};
use crate::support::Smtp;

/// The report, with `attachment` (name, type, body) after its text.
pub fn report_with(name: &str, content_type: &str, body: &[u8]) -> String {
    format!(
        "From: Reporter <reporter@example.net>\r\nTo: security@example.org\r\n\
         Subject: tarfile escape\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <report-key@reporter.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         extractall() follows a symlink out of the target directory. My key is attached.\r\n\
         --mix\r\nContent-Type: {content_type}\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{}\r\n--mix--\r\n",
        crlf(&String::from_utf8_lossy(body))
    )
}

/// Whether the team keyring holds a public key with this fingerprint.
pub fn in_keyring(team: &Keyring, fpr: &str) -> bool {
    team.gpg(&["--list-keys", fpr], b"").status.success()
}

/// The fingerprint in gpg's groups of four, as the command shows it.
pub fn grouped(fpr: &str) -> String {
    fpr.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_attached_key_imported_with_confirmation_makes_the_reply_encrypted() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    let report = report_with(
        "reporter.asc",
        "application/pgp-keys",
        &reporter.public_key(),
    );
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(crate::desk::REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(&team));

    // The report says a key is attached, and how to import it.
    let shown = desk.run(&["show", "1"], &[]);
    assert!(
        stdout(&shown).contains("public key attached: `secdesk pgp import-key 1`"),
        "{}",
        stdout(&shown)
    );

    // Without a terminal and without --yes: the key is shown, nothing is imported.
    let out = desk.run(&["pgp", "import-key", "1"], &[]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains(&grouped(&reporter.fpr)),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("uid Reporter <reporter@example.net>"));
    assert!(
        stderr(&out).contains("needs a confirmation"),
        "{}",
        stderr(&out)
    );
    assert!(!in_keyring(&team, &reporter.fpr));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("imported {}", grouped(&reporter.fpr))),
        "{}",
        stdout(&out)
    );
    assert!(in_keyring(&team, &reporter.fpr));
    // Only the public key: the team keyring holds no secret key of the reporter's.
    assert!(!team
        .gpg(&["--list-secret-keys", &reporter.fpr], b"")
        .status
        .success());

    let out = send_ack(&desk);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Encrypted: yes"), "{}", stdout(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let sent = String::from_utf8_lossy(&inbox[0]).into_owned();
    assert!(!sent.contains("tracked as report #1"), "sent readable");
    let armour = &sent[sent
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("ciphertext")..];
    let plain = reporter.ok(&["--decrypt"], armour.replace("\r\n", "\n").as_bytes());
    assert!(String::from_utf8_lossy(&plain).contains("tracked as report #1"));
}

#[test]
fn a_secret_key_or_the_team_key_attached_is_never_imported() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let secret = reporter.ok(
        &["--armor", "--passphrase", "", "--export-secret-keys"],
        b"",
    );
    let desk = Desk::new(&report_with("all-my-keys.asc", "text/plain", &secret), 0);
    desk.configure(0, &pgp_lines(&team));
    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("SECRET key"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no attached key can be imported"),
        "{}",
        stderr(&out)
    );
    assert!(!in_keyring(&team, &reporter.fpr));

    let desk = Desk::new(
        &report_with("team.asc", "application/pgp-keys", &team.public_key()),
        0,
    );
    desk.configure(0, &pgp_lines(&team));
    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("the team's own key"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn at_a_terminal_the_import_asks_and_only_y_imports() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let report = report_with(
        "reporter.asc",
        "application/pgp-keys",
        &reporter.public_key(),
    );
    let desk = Desk::new(&report, 0);
    desk.configure(0, &pgp_lines(&team));
    let line = desk.shell_line(&["pgp", "import-key", "1"]);

    let tmux = Tmux::start(&line);
    let screen = tmux.wait_for("[y/N]");
    assert!(screen.contains(&grouped(&reporter.fpr)), "{screen}");
    assert!(
        screen.contains("uid Reporter <reporter@example.net>"),
        "{screen}"
    );
    tmux.cmd(&["send-keys", "n", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("not imported"), "{screen}");
    assert!(!in_keyring(&team, &reporter.fpr));

    let tmux = Tmux::start(&line);
    tmux.wait_for("[y/N]");
    tmux.cmd(&["send-keys", "y", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains(&format!("imported {}", grouped(&reporter.fpr))),
        "{screen}"
    );
    assert!(in_keyring(&team, &reporter.fpr));
}

/// Key substitution: someone else writes into the report's thread with a key that claims
/// the reporter's address too. Mail from another sender brings no key at all; and a key in
/// the reporter's own mail is imported only with the user ids naming the reporter's address,
/// so it cannot stand for anyone else's (here a maintainer the report was copied to).
#[test]
fn a_key_claiming_the_reporters_address_from_someone_else_is_not_imported_for_it() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let attacker = Keyring::generate("Attacker <attacker@evil.example>");
    attacker.ok(
        &[
            "--quick-add-uid",
            &attacker.fpr,
            "Reporter <reporter@example.net>",
        ],
        b"",
    );
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.ok(
        &[
            "--quick-add-uid",
            &reporter.fpr,
            "Other Maintainer <other@example.com>",
        ],
        b"",
    );
    let report = report_with("key.asc", "application/pgp-keys", &reporter.public_key());
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(crate::desk::REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(&team));
    let follow_up = report_with("key.asc", "application/pgp-keys", &attacker.public_key())
        .replace(
            "From: Reporter <reporter@example.net>",
            "From: <attacker@evil.example>",
        )
        .replace(
            "Message-ID: <report-key@reporter.example>",
            "Message-ID: <key-2@evil.example>\r\nIn-Reply-To: <report-key@reporter.example>",
        );
    desk.server
        .append(crate::desk::TEAM, "INBOX", follow_up.as_bytes());
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains(
            "uid Other Maintainer <other@example.com>  (not imported: it names another address than the sender's, reporter@example.net)"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("attachment key.asc from attacker@evil.example:\n  not importable: it came with a message the desk marked as from ANOTHER SENDER"),
        "{shown}"
    );
    assert!(in_keyring(&team, &reporter.fpr));
    assert!(!in_keyring(&team, &attacker.fpr), "{shown}");
    assert!(
        !team
            .gpg(&["--list-keys", "<other@example.com>"], b"")
            .status
            .success(),
        "the reporter's key stands for another address"
    );

    // The reply to the reporter is encrypted to the reporter's key alone.
    let out = send_ack(&desk);
    assert!(stdout(&out).contains("Encrypted: yes"), "{}", stdout(&out));
    let inbox = desk.reporter_inbox();
    let sent = String::from_utf8_lossy(&inbox[0]).into_owned();
    let armour = &sent[sent
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("ciphertext")..];
    let attempt = attacker.gpg(&["--decrypt"], armour.replace("\r\n", "\n").as_bytes());
    assert!(!attempt.status.success(), "the attacker reads the reply");
}

#[test]
fn a_key_in_the_block_for_another_address_is_shown_as_not_imported() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let stranger = Keyring::generate("Stranger <stranger@elsewhere.example>");
    // One armoured block holding both keys, as `gpg --export A B` writes it.
    reporter.trust(&stranger);
    let block = reporter.ok(&["--armor", "--export", &reporter.fpr, &stranger.fpr], b"");
    let desk = Desk::new(&report_with("keys.asc", "application/pgp-keys", &block), 0);
    let smtp = Smtp::start(&desk.server.maildir(crate::desk::REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(&team));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    // The preview says before the question which key gpg will drop, not only its user id.
    assert!(
        shown.contains(&format!(
            "key {}  (not imported: none of its user ids names reporter@example.net)",
            grouped(&stranger.fpr)
        )),
        "{shown}"
    );
    assert!(
        !shown.contains(&format!("key {}  (not", grouped(&reporter.fpr))),
        "{shown}"
    );
    assert!(in_keyring(&team, &reporter.fpr));
    assert!(!in_keyring(&team, &stranger.fpr), "{shown}");
}
