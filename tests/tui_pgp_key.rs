//! `K` in the report view (issue 16): the attached public key is marked on its attachment
//! line, and imported into the team keyring (a real gpg, a temporary GNUPGHOME) only after
//! a confirmation that shows its fingerprint; `n` imports nothing.

#[path = "pgp/keys.rs"]
mod keys;
mod tui_support;

use crossterm::event::KeyCode;
use keys::{crlf, Keyring};
use secdesk::core::pgp::{EncryptReplies, PgpConfig};
use tui_support::Desk;

fn in_keyring(team: &Keyring, fpr: &str) -> bool {
    team.gpg(&["--list-keys", fpr], b"").status.success()
}

/// The demo desk whose report 1's first message carries `reporter`'s key, `another_sender`
/// as given, with `[pgp]` on `team`'s keyring.
fn desk_with_key(team: &Keyring, reporter: &Keyring, another_sender: bool) -> Desk {
    let demo = Desk::demo();
    let raw = format!(
        "From: Reporter <reporter@example.net>\r\nSubject: tarfile\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n\
         Content-Type: application/pgp-keys; name=\"reporter.asc\"\r\n\r\n{}\r\n--b--\r\n",
        crlf(&String::from_utf8_lossy(&reporter.public_key()))
    );
    let conn = demo.store.conn();
    let row: i64 = conn
        .query_row(
            "SELECT min(id) FROM messages WHERE report_id = 1 AND direction = 'in'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE messages SET raw = ?2, from_addr = 'reporter@example.net', another_sender = ?3,
         notes = coalesce(?4, notes) WHERE id = ?1",
        rusqlite::params![
            row,
            raw.as_bytes(),
            another_sender,
            another_sender.then_some(
                r#"["another sender: its From (reporter@example.net) failed the receiving server's DMARC check (mx.example.org), so it may not be from them"]"#
            )
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO attachments (message_id, name, content_type, size)
         VALUES (?1, 'reporter.asc', 'application/pgp-keys', 700)",
        [row],
    )
    .unwrap();
    let mut config = demo.config.clone();
    config.pgp = Some(PgpConfig {
        gnupg_home: team.path().to_path_buf(),
        team_key: Some(team.fpr.clone()),
        encrypt_replies: EncryptReplies::WhenPossible,
        timeout_seconds: 10,
        max_output_mb: 20,
    });
    let Desk { dir, store, .. } = demo;
    Desk::open(dir, store, config)
}

#[test]
fn k_imports_the_attached_key_only_after_a_confirmation_showing_its_fingerprint() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let mut desk = desk_with_key(&team, &reporter, false);

    desk.open_found("tarfile");
    let screen = desk.screen();
    assert!(
        screen.contains(
            "reporter.asc (application/pgp-keys, 700 bytes) · public key attached: K imports it"
        ),
        "{screen}"
    );

    let first4 = &reporter.fpr[..4];
    desk.key(KeyCode::Char('K'));
    let screen = desk.screen();
    assert!(
        screen.contains(first4) && screen.contains("Import into the team"),
        "{screen}"
    );
    desk.key(KeyCode::Char('n'));
    assert!(!in_keyring(&team, &reporter.fpr));

    desk.key(KeyCode::Char('K'));
    desk.key(KeyCode::Char('y'));
    assert!(desk.status().contains("imported"), "{}", desk.status());
    assert!(desk.status().contains(first4), "{}", desk.status());
    assert!(in_keyring(&team, &reporter.fpr));
}

/// A key in a message the desk marked as another sender's (a forged From: its DMARC check
/// failed) is not offered: `K` says why and asks nothing.
#[test]
fn k_refuses_a_key_from_a_message_marked_another_sender() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let forger = Keyring::generate("Reporter <reporter@example.net>");
    let mut desk = desk_with_key(&team, &forger, true);
    desk.open_found("tarfile");
    desk.key(KeyCode::Char('K'));
    let status = desk.status();
    assert!(
        status.contains("nothing to import: attachment reporter.asc: it came with a message the desk marked as from ANOTHER SENDER"),
        "{status}"
    );
    assert!(
        !desk.screen().contains("Import into the team"),
        "{}",
        desk.screen()
    );
    desk.key(KeyCode::Char('y'));
    assert!(!in_keyring(&team, &forger.fpr));
}
