//! Keys `secdesk pgp import-key` must not bring in, or must not bring in quietly (issue 16,
//! audit of the key import): a key from a follow-up the desk marked as another sender's
//! (the reporter's From, failing the receiving server's DMARC check), a second key for an
//! address that has one (and then every key of it is encrypted to), an expired key (which
//! cannot encrypt), and a block gpg cannot read. Real Dovecot, real gpg, real SMTP.

use crate::desk::{stderr, stdout, Desk, REPORTER, TEAM};
use crate::keys::Keyring;
use crate::pgp::{pgp_lines, send_ack};
use crate::pgp_keys::{grouped, in_keyring, report_with};
use crate::support::Smtp;

/// `[sync] authserv_id`, so the desk believes the receiving server's DMARC verdict.
fn believe_mx(desk: &Desk) {
    let path = desk.dir.path().join("config.toml");
    let config = std::fs::read_to_string(&path).expect("config");
    let config = config.replacen("[sync]\n", "[sync]\nauthserv_id = \"mx.example.org\"\n", 1);
    std::fs::write(&path, config).expect("config");
}

/// Someone forges the reporter's From in a follow-up with their own key claiming the
/// reporter's address; the receiving server's DMARC check fails it, and the desk marks it
/// another sender. Its key is not offered, and the reply is not encrypted to it.
#[test]
fn a_key_from_a_follow_up_marked_another_sender_is_not_imported() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let attacker = Keyring::generate("Reporter <reporter@example.net>");
    let desk = Desk::new(crate::REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(&team));
    believe_mx(&desk);
    let forged = report_with("newkey.asc", "application/pgp-keys", &attacker.public_key())
        .replace(
            "From: Reporter <reporter@example.net>\r\n",
            "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=evil.example;\r\n \
             dkim=none; dmarc=fail header.from=example.net\r\n\
             From: Reporter <reporter@example.net>\r\n",
        )
        .replace(
            "Message-ID: <report-key@reporter.example>",
            "Message-ID: <key-2@evil.example>\r\nIn-Reply-To: <report-1@reporter.example>",
        );
    desk.server.append(TEAM, "INBOX", forged.as_bytes());
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        desk.query("SELECT count(*) FROM messages WHERE another_sender = 1 AND report_id = 1"),
        1,
        "the forged follow-up joins report 1 marked another sender"
    );

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    let shown = stdout(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains(
            "not importable: it came with a message the desk marked as from ANOTHER SENDER"
        ) && shown.contains("failed the receiving server's DMARC check (mx.example.org)"),
        "{shown}"
    );
    assert!(
        stderr(&out).contains("no attached key can be imported"),
        "{}",
        stderr(&out)
    );
    assert!(!in_keyring(&team, &attacker.fpr));

    let out = send_ack(&desk);
    assert!(
        stdout(&out).contains(
            "Encrypted: NO, sent readable: no key in the keyring for reporter@example.net"
        ),
        "{}",
        stdout(&out)
    );
}

/// The reporter's old key is in the keyring; their report brings a new one. `--yes` alone
/// does not add it (the listing says the address has a key already); `--second-key` does,
/// and the reply is then encrypted to both keys, not only to the one gpg would pick.
#[test]
fn a_second_key_for_an_address_is_imported_only_when_asked_and_both_are_encrypted_to() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let old = Keyring::generate("Reporter <reporter@example.net>");
    let new = Keyring::generate("Reporter <reporter@example.net>");
    team.trust(&old);
    let report = report_with("newkey.asc", "application/pgp-keys", &new.public_key());
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(&team));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    let shown = stdout(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!(
            "WARNING: reporter@example.net already has key {} in the team keyring; importing adds a second key, and replies would be encrypted to both",
            grouped(&old.fpr)
        )),
        "{shown}"
    );
    assert!(stderr(&out).contains("--second-key"), "{}", stderr(&out));
    assert!(!in_keyring(&team, &new.fpr));

    let out = desk.run(&["pgp", "import-key", "1", "--yes", "--second-key"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(in_keyring(&team, &new.fpr));

    let out = send_ack(&desk);
    assert!(stdout(&out).contains("Encrypted: yes"), "{}", stdout(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let sent = String::from_utf8_lossy(&inbox[0]).into_owned();
    let armour = &sent[sent
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("ciphertext")..];
    let armour = armour.replace("\r\n", "\n");
    for (which, ring) in [("old", &old), ("new", &new)] {
        let plain = ring.gpg(&["--decrypt"], armour.as_bytes());
        assert!(
            String::from_utf8_lossy(&plain.stdout).contains("tracked as report #1"),
            "the reporter's {which} key cannot read the reply: {}",
            String::from_utf8_lossy(&plain.stderr)
        );
    }
}

/// An expired key is imported as asked, but the command does not claim replies can now be
/// encrypted: it says the key is expired and cannot encrypt.
#[test]
fn an_expired_key_imported_is_said_to_be_unable_to_encrypt() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let ring = Keyring::generate("Reporter <reporter@example.net>");
    // A key made in 2020 to last a day: expired now.
    let uid = "Reporter (2020) <reporter@example.net>";
    ring.ok(
        &[
            "--faked-system-time",
            "20200101T000000!",
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "future-default",
            "default",
            "1d",
        ],
        b"",
    );
    let listing =
        String::from_utf8_lossy(&ring.ok(&["--with-colons", "--list-keys", uid], b"")).into_owned();
    assert!(listing.contains("\npub:e:"), "{listing}");
    let expired = listing
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|f| f.trim_matches(':').to_string())
        })
        .expect("a fingerprint");
    let block = ring.ok(&["--armor", "--export", &expired], b"");
    let desk = Desk::new(&report_with("key.asc", "application/pgp-keys", &block), 0);
    desk.configure(0, &pgp_lines(&team));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    let shown = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        shown.contains(&format!(
            "imported {} (expired: it cannot encrypt)",
            grouped(&expired)
        )),
        "{shown}"
    );
    assert!(
        shown.contains("the imported key is expired, so replies cannot be encrypted to it"),
        "{shown}"
    );
    assert!(!shown.contains("can now be encrypted"), "{shown}");
}

/// A block whose base64 holds only a bare key packet (cut before its user id, as a
/// truncated paste is): gpg lists it as `pub:i:` with no user id. The refusal says the block
/// is unreadable, not that its user ids name someone else.
#[test]
fn a_truncated_key_block_is_refused_as_unreadable() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let binary = reporter.ok(&["--export", &reporter.fpr], b"");
    // The first packet alone: an old-format header (0x98: tag 6, one length byte).
    assert_eq!(
        binary[0], 0x98,
        "gpg's export starts with a public key packet"
    );
    let packet = &binary[..2 + usize::from(binary[1])];
    let armoured = String::from_utf8(reporter.ok(&["--enarmor"], packet))
        .expect("armour")
        .replace("ARMORED FILE", "PUBLIC KEY BLOCK");
    let desk = Desk::new(
        &report_with("key.asc", "application/pgp-keys", armoured.as_bytes()),
        0,
    );
    desk.configure(0, &pgp_lines(&team));

    let out = desk.run(&["pgp", "import-key", "1", "--yes"], &[]);
    let shown = stdout(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains(
            "not importable: gpg found no readable public key in it (malformed or truncated block)"
        ),
        "{shown}"
    );
    assert!(!shown.contains("none of its user ids"), "{shown}");
    assert!(!in_keyring(&team, &reporter.fpr));
}
