//! OpenPGP reports end to end (issue 16): the real binary syncs PGP/MIME and inline PGP mail
//! from a real Dovecot, decrypting and verifying with a real gpg and keys generated for the
//! test; the checks are what a triager sees (`show`, `list --search`) and what is stored.

#[path = "../support/mod.rs"]
mod support;

mod keys;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use keys::{encrypted_mime, signed_mime, Keyring};
use secdesk::core::parse::parse_message;
use secdesk::core::pgp::{open, EncryptReplies, PgpConfig, PgpEngine, Signature};
use secdesk::mailio::gpg::Gpg;
use support::Dovecot;

const USER: &str = "security";
const PASSWORD: &str = "pw-Team-16";
const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";

/// The tarfile report from the demo set, as its reporter wrote it.
fn tarfile_text() -> String {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/demo/01-tarfile-data-filter-symlink-escape.eml"),
    )
    .expect("demo report");
    let start = raw.find("Hello PSRT,").expect("demo body");
    let end = start
        + raw[start..]
            .find("\n--------------")
            .expect("demo part end");
    raw[start..end].to_string()
}

fn headers(n: u32, subject: &str) -> String {
    format!(
        "From: Reporter <reporter@example.net>\r\nTo: security@example.org\r\n\
         Subject: {subject}\r\nDate: Tue, 1 Dec 2026 10:0{n}:00 +0000\r\n\
         Message-ID: <pgp-{n}@example.net>\r\n"
    )
}

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(server: &Dovecot, team: &Keyring, pgp_extra: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "[imap]\nhost = \"localhost\"\nport = {}\nsecurity = \"tls\"\nusername = \"{USER}\"\n\
             password_env = \"{PASSWORD_VAR}\"\nca_file = {:?}\n\n[store]\npath = {:?}\n\n\
             [identity]\nname = \"Grace Hopper\"\nemail = \"grace@example.org\"\n\n\
             [team]\naddress = \"security@example.org\"\n\n\
             [pgp]\ngnupg_home = {:?}\n{pgp_extra}\n",
            server.imaps_port,
            server.ca_file(),
            dir.path().join("secdesk.db"),
            team.path(),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("config");
        Desk { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("run secdesk");
        assert!(
            out.status.success(),
            "secdesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_slice(&self.run(args).stdout).expect("JSON output")
    }

    /// The report whose subject is `subject`: its `show --json`.
    fn report(&self, subject: &str) -> serde_json::Value {
        let list = self.json(&["list", "--json"]);
        let id = list
            .as_array()
            .expect("list")
            .iter()
            .find(|r| r["subject"] == subject)
            .unwrap_or_else(|| panic!("no report {subject:?} in {list}"))["id"]
            .as_i64()
            .expect("id");
        self.json(&["show", &id.to_string(), "--json"])
    }

    fn show_text(&self, subject: &str) -> String {
        let id = self.report(subject)["id"].to_string();
        String::from_utf8_lossy(&self.run(&["show", &id]).stdout).into_owned()
    }

    fn raw_of(&self, subject: &str) -> Vec<u8> {
        let db = rusqlite::Connection::open(self.dir.path().join("secdesk.db")).expect("db");
        db.query_row(
            "SELECT raw FROM messages WHERE subject = ?1",
            [subject],
            |r| {
                r.get::<_, secdesk::core::store::raw::RawMessage>(0)
                    .map(|m| m.0)
            },
        )
        .expect("raw kept")
    }
}

/// The pgp object of a report's first message.
fn pgp(report: &serde_json::Value) -> &serde_json::Value {
    &report["messages"][0]["pgp"]
}

#[test]
fn encrypted_and_signed_reports_are_opened_verified_and_marked() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let stranger = Keyring::generate("Stranger <stranger@example.com>");
    team.trust(&reporter);
    reporter.trust(&team);
    stranger.trust(&team);

    let text = tarfile_text();
    let inner = format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
        keys::crlf(&text)
    );
    let mut mails = vec![
        encrypted_mime(
            &headers(1, "encrypted report"),
            &reporter.encrypt(&team.fpr, true, inner.as_bytes()),
        ),
        signed_mime(&reporter, &headers(2, "signed report"), &text, None),
        signed_mime(
            &reporter,
            &headers(3, "tampered report"),
            &text,
            Some("Hello PSRT, send me $500"),
        ),
        signed_mime(&stranger, &headers(4, "stranger report"), &text, None),
        encrypted_mime(
            &headers(5, "undecryptable report"),
            &stranger.encrypt(&stranger.fpr, false, inner.as_bytes()),
        ),
    ];
    let clear = reporter.ok(&["--clearsign"], b"the fix is in commit 6b1e0c4\n");
    mails.push(
        format!(
            "{}Content-Type: text/plain\r\n\r\nsent from my phone, see below\r\n{}\r\n-- \r\nmailing list footer\r\n",
            headers(6, "inline signed report"),
            keys::crlf(&String::from_utf8_lossy(&clear))
        )
        .into_bytes(),
    );

    let inline = reporter.encrypt(&team.fpr, true, b"extractall() follows a symlink\n");
    mails.push(
        format!(
            "{}Content-Type: text/plain\r\n\r\nsee the encrypted text below\r\n{}",
            headers(7, "inline encrypted report"),
            keys::crlf(&String::from_utf8_lossy(&inline))
        )
        .into_bytes(),
    );
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server.append_all(USER, "INBOX", &mails);
    let desk = Desk::new(&server, &team, "");
    desk.run(&["sync"]);

    // Encrypted: decrypted, classified on the plaintext, searchable, raw kept as fetched.
    let r = desk.report("encrypted report");
    assert_eq!(
        pgp(&r),
        &serde_json::json!({"encrypted": true, "signature": "good", "signer": reporter.fpr})
    );
    assert!(
        r["messages"][0]["body"]
            .as_str()
            .unwrap()
            .contains("extraction filter"),
        "{r}"
    );
    assert_eq!(r["class"], "valid", "{r}");
    let hits = desk.json(&["list", "--json", "--search", "symlink extraction"]);
    let subjects: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["subject"].as_str())
        .collect();
    assert!(subjects.contains(&"encrypted report"), "{subjects:?}");
    let raw = desk.raw_of("encrypted report");
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.contains("BEGIN PGP MESSAGE") && !raw.contains("extraction filter"));
    assert!(desk
        .show_text("encrypted report")
        .contains("pgp: encrypted, good signature by"));

    // Signatures: good, bad (tampered), unknown key.
    let r = desk.report("signed report");
    assert_eq!(
        pgp(&r),
        &serde_json::json!({"encrypted": false, "signature": "good", "signer": reporter.fpr})
    );
    let r = desk.report("tampered report");
    assert_eq!(pgp(&r)["signature"], "bad", "{r}");
    let shown = desk.show_text("tampered report");
    assert!(shown.contains("WARNING: BAD PGP SIGNATURE"), "{shown}");
    let r = desk.report("stranger report");
    assert_eq!(pgp(&r)["signature"], "unknown-key", "{r}");
    assert_eq!(pgp(&r)["signer"], stranger.fpr.as_str(), "{r}");

    // Undecryptable: kept, marked, a clear line.
    let r = desk.report("undecryptable report");
    assert_eq!(
        pgp(&r),
        &serde_json::json!({"encrypted": true, "signature": "none", "signer": null})
    );
    let shown = desk.show_text("undecryptable report");
    assert!(
        shown.contains("not decrypted: it is not encrypted to a secret key"),
        "{shown}"
    );
    assert!(
        String::from_utf8_lossy(&desk.raw_of("undecryptable report")).contains("BEGIN PGP MESSAGE")
    );

    // Inline clear-signed: good, and the text around it is marked unsigned.
    let r = desk.report("inline signed report");
    assert_eq!(pgp(&r)["signature"], "good", "{r}");
    let body = r["messages"][0]["body"].as_str().unwrap();
    let marker = body.find("[unsigned:").expect("unsigned marker");
    assert!(
        body[..marker].contains("the fix is in commit 6b1e0c4"),
        "{body}"
    );
    assert!(body.contains("\nunsigned | sent from my phone"), "{body}");
    assert!(body.contains("\nunsigned | mailing list footer"), "{body}");

    // Inline encrypted and signed, with a line outside: decrypted, good, the line marked.
    let r = desk.report("inline encrypted report");
    assert_eq!(
        pgp(&r),
        &serde_json::json!({"encrypted": true, "signature": "good", "signer": reporter.fpr})
    );
    let body = r["messages"][0]["body"].as_str().unwrap();
    assert!(body.starts_with("extractall() follows a symlink"), "{body}");
    assert!(
        body.contains("\nunsigned | see the encrypted text below"),
        "{body}"
    );
}

/// A good signature by a key in the keyring that is not the sender's (an attacker who got
/// their key imported, or another reporter's) is never shown as the sender's signature.
#[test]
fn a_good_signature_by_a_key_not_the_senders_says_so() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    let stranger = Keyring::generate("Stranger <stranger@example.com>");
    team.trust(&reporter);
    team.trust(&stranger);
    let text = tarfile_text();
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server.append_all(
        USER,
        "INBOX",
        &[
            // From: the reporter, signed by the stranger's key.
            signed_mime(&stranger, &headers(1, "spoofed report"), &text, None),
            signed_mime(&reporter, &headers(2, "signed report"), &text, None),
        ],
    );
    let desk = Desk::new(&server, &team, "");
    desk.run(&["sync"]);

    let r = desk.report("spoofed report");
    assert_eq!(pgp(&r)["signature"], "good", "{r}");
    assert_eq!(pgp(&r)["signer_not_sender"], true, "{r}");
    let shown = desk.show_text("spoofed report");
    assert!(
        shown.contains("which is NOT the sender's key (none of its user ids names the sender)"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "(Stranger <stranger@example.com>) do not name the sender reporter@example.net"
        ),
        "{shown}"
    );
    assert!(
        !shown.contains("pgp: not encrypted, good signature by"),
        "{shown}"
    );

    // The reporter's own key: a plain good signature, as before.
    let r = desk.report("signed report");
    assert_eq!(
        pgp(&r),
        &serde_json::json!({"encrypted": false, "signature": "good", "signer": reporter.fpr})
    );
}

#[test]
fn a_decompression_bomb_is_stopped_within_its_limits() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    // 64 MB of zeros compress to a few hundred kilobytes.
    let zeros = vec![b'\n'; 64 * 1024 * 1024];
    let armoured = reporter.ok(
        &[
            "--trust-model",
            "always",
            "--armor",
            "--compress-algo",
            "zlib",
            "--compress-level",
            "9",
            "--recipient",
            &team.fpr,
            "--encrypt",
        ],
        &zeros,
    );
    assert!(armoured.len() < 2 * 1024 * 1024, "{} bytes", armoured.len());
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server.append(
        USER,
        "INBOX",
        &encrypted_mime(&headers(1, "bomb"), &armoured),
    );
    let desk = Desk::new(&server, &team, "max_output_mb = 1\ntimeout_seconds = 20\n");
    let started = Instant::now();
    desk.run(&["sync"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let r = desk.report("bomb");
    assert_eq!(pgp(&r)["encrypted"], true);
    let notes = r["messages"][0]["parse_notes"].to_string();
    assert!(notes.contains("passed the 1 MB limit"), "{notes}");
    assert!(r["messages"][0]["body"].as_str().unwrap().len() < 1024 * 1024);

    // The time limit: the same bomb with a 50 ms budget is stopped by the clock.
    let gpg = team_gpg(&team).with_limits(Duration::from_millis(50), usize::MAX);
    let started = Instant::now();
    let run = gpg.decrypt(&armoured);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let why = run.stopped.expect("stopped");
    assert!(why.contains("took longer than"), "{why}");
}

fn team_gpg(team: &Keyring) -> Gpg {
    Gpg::from_config(&PgpConfig {
        gnupg_home: team.path().to_path_buf(),
        team_key: Some(team.fpr.clone()),
        encrypt_replies: EncryptReplies::Never,
        timeout_seconds: 10,
        max_output_mb: 1,
    })
}

#[test]
fn malformed_armour_and_deeply_nested_packets_end_with_a_note_not_a_hang() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let gpg = team_gpg(&team);
    // Garbage armour, and 20 000 nested compressed-data packets (old format tag 8,
    // indeterminate length, algorithm 0) around a literal packet.
    let garbage =
        b"-----BEGIN PGP MESSAGE-----\n\n!!!not*base64%%%\n=AAAA\n-----END PGP MESSAGE-----\n"
            .to_vec();
    let mut nested = [0xA3u8, 0x00].repeat(20_000);
    nested.extend_from_slice(&[0xCB, 0x06, b'b', 0, 0, 0, 0, 0]);
    for (name, data) in [("garbage armour", garbage), ("nested packets", nested)] {
        let raw = encrypted_mime(&headers(1, name), &data);
        let mut parsed = parse_message(&raw);
        let started = Instant::now();
        let info = open(&raw, &mut parsed, Some(&gpg))
            .expect("an OpenPGP part")
            .info;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            started.elapsed()
        );
        assert!(
            info.encrypted && info.signature == Signature::None,
            "{name}: {info:?}"
        );
        assert!(
            parsed
                .notes
                .iter()
                .any(|n| n.starts_with("encrypted, not decrypted")),
            "{name}: {:?}",
            parsed.notes
        );
    }
}

/// Issue 16: a key attached inside an encrypted report is found (the part is decrypted
/// again for it), marked in the report, and imported with `pgp import-key --yes`.
#[test]
fn a_key_attached_inside_an_encrypted_report_is_marked_and_imported() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    let inner = format!(
        "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n--in\r\n\
         Content-Type: application/pgp-keys; name=\"reporter.asc\"\r\n\r\n{}\r\n--in--\r\n",
        keys::crlf(&tarfile_text()),
        keys::crlf(&String::from_utf8_lossy(&reporter.public_key()))
    );
    let mail = encrypted_mime(
        &headers(8, "encrypted report with key"),
        &reporter.encrypt(&team.fpr, true, inner.as_bytes()),
    );
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server.append_all(USER, "INBOX", &[mail]);
    let desk = Desk::new(&server, &team, "");
    desk.run(&["sync"]);
    let shown = desk.show_text("encrypted report with key");
    assert!(shown.contains("public key attached"), "{shown}");
    let id = desk.report("encrypted report with key")["id"].to_string();
    assert!(!team
        .gpg(&["--list-keys", &reporter.fpr], b"")
        .status
        .success());
    let out = desk.run(&["pgp", "import-key", &id, "--yes"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("attachment reporter.asc from reporter@example.net"),
        "{printed}"
    );
    assert!(team
        .gpg(&["--list-keys", &reporter.fpr], b"")
        .status
        .success());
}
