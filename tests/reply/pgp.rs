//! Encrypted replies (issue 16): with the reporter's key in the team keyring and
//! `encrypt_replies = "when-possible"`, what the SMTP server receives is PGP/MIME that the
//! reporter's own gpg decrypts and verifies, and the Sent copy opens with the team key.

use crate::desk::{header, stderr, stdout, Desk, TEAM};
use crate::keys::Keyring;
use crate::support::Smtp;
use crate::REPORT;

pub fn pgp_lines(team: &Keyring) -> String {
    format!(
        "\n[pgp]\ngnupg_home = {:?}\nteam_key = \"{}\"\nencrypt_replies = \"when-possible\"\n",
        team.path(),
        team.fpr
    )
}

/// The armoured ciphertext of a PGP/MIME encrypted message, CRLF made LF.
fn ciphertext(raw: &[u8]) -> Vec<u8> {
    let mail = mailparse::parse_mail(raw).expect("mail parses");
    assert_eq!(
        mail.ctype.mimetype,
        "multipart/encrypted",
        "{}",
        String::from_utf8_lossy(raw)
    );
    assert_eq!(mail.ctype.params["protocol"], "application/pgp-encrypted");
    mail.subparts[1].get_body_raw().expect("ciphertext")
}

/// A desk whose team keyring is `team`, its SMTP server, and `secdesk reply --yes`'s stdout.
fn reply_with(team: &Keyring) -> (Desk, Smtp, String) {
    let (desk, smtp) = desk_for(team);
    let out = send_ack(&desk);
    assert!(out.status.success(), "reply failed: {}", stderr(&out));
    (desk, smtp, stdout(&out))
}

/// A desk with the report synced, `[pgp]` on `team`'s keyring and its SMTP server.
fn desk_for(team: &Keyring) -> (Desk, Smtp) {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(crate::desk::REPORTER, "INBOX"));
    desk.configure(smtp.port, &pgp_lines(team));
    (desk, smtp)
}

/// `secdesk reply 1 --template acknowledge --no-edit --yes`.
pub fn send_ack(desk: &Desk) -> std::process::Output {
    ack(desk, "1", "", &[])
}

/// `secdesk reply ID --template acknowledge --no-edit --yes MORE`, with `env`.
fn ack(desk: &Desk, id: &str, more: &str, env: &[(&str, &str)]) -> std::process::Output {
    let line = format!("reply {id} --template acknowledge --no-edit --yes {more}");
    desk.run(&line.split_whitespace().collect::<Vec<_>>(), env)
}

#[test]
fn an_encrypted_reply_round_trips_to_the_reporter_and_the_sent_copy() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    team.trust(&reporter);
    reporter.trust(&team);
    let (desk, _smtp, out) = reply_with(&team);
    assert!(out.contains("Encrypted: yes"), "{out}");

    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let raw = &inbox[0];
    assert!(!String::from_utf8_lossy(raw).contains("tracked as report #1"));
    assert_eq!(
        header(raw, "Subject").as_deref(),
        Some("Re: tarfile escape")
    );
    let status = reporter.gpg(&["--status-fd", "2", "--decrypt"], &ciphertext(raw));
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let plain = String::from_utf8_lossy(&status.stdout);
    assert!(plain.contains("tracked as report #1"), "{plain}");
    assert!(plain.starts_with("Content-Type: text/plain"), "{plain}");
    let log = String::from_utf8_lossy(&status.stderr);
    assert!(
        log.lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG") && l.ends_with(&team.fpr)),
        "{log}"
    );

    // The Sent copy is encrypted too, and the team key opens it.
    let sent = desk.mailbox(TEAM, "Sent");
    assert_eq!(sent.len(), 1);
    let opened = team.ok(&["--decrypt"], &ciphertext(&sent[0]));
    assert!(String::from_utf8_lossy(&opened).contains("tracked as report #1"));
}

#[test]
fn without_the_reporters_key_the_preview_says_the_reply_goes_readable() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let (desk, _smtp, out) = reply_with(&team);
    assert!(
        out.contains(
            "Encrypted: NO, sent readable: no key in the keyring for reporter@example.net"
        ),
        "{out}"
    );
    let inbox = desk.reporter_inbox();
    assert!(String::from_utf8_lossy(&inbox[0]).contains("tracked as report #1"));
}

#[test]
fn a_reply_that_cannot_be_signed_is_queued_never_sent_readable() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    team.trust(&reporter);
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(crate::desk::REPORTER, "INBOX"));
    // Every recipient has a key, but the team key named is not in the keyring.
    let lines = pgp_lines(&team).replace(&team.fpr, &"0123456789ABCDEF".repeat(5)[..40]);
    desk.configure(smtp.port, &lines);
    let out = send_ack(&desk);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not be encrypted") && stderr(&out).contains("queued"),
        "{}",
        stderr(&out)
    );
    assert!(desk.reporter_inbox().is_empty());
}

/// A report that came encrypted: the reporter's text, decrypted by the team key, is what a
/// reply quotes. It is report #2 of a desk whose `[pgp]` is `pgp` (and `[smtp]` `smtp_port`).
fn encrypted_report(team: &Keyring, reporter: &Keyring, smtp_port: u16, pgp: &str) -> Desk {
    let desk = Desk::new(REPORT, smtp_port);
    desk.configure(smtp_port, pgp);
    sync_encrypted(&desk, team, reporter);
    desk
}

/// Files a report `reporter` encrypted to `team` in the team's INBOX, syncs it and checks
/// that `show` has its decrypted text.
fn sync_encrypted(desk: &Desk, team: &Keyring, reporter: &Keyring) {
    let inner = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{SECRET}\r\n");
    let mail = crate::keys::encrypted_mime(
        "From: Reporter <reporter@example.net>\r\nTo: security@example.org\r\n\
         Subject: zipfile escape\r\nDate: Tue, 24 Nov 2026 11:00:00 +0000\r\n\
         Message-ID: <encrypted-2@reporter.example>\r\n",
        &reporter.encrypt(&team.fpr, true, inner.as_bytes()),
    );
    desk.server.append(TEAM, "INBOX", &mail);
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync: {}", stderr(&out));
    let shown = stdout(&desk.run(&["show", "2"], &[]));
    assert!(shown.contains(SECRET), "decrypted on sync: {shown}");
}

/// What only the encrypted report says.
const SECRET: &str = "zipfile.Path follows ../ in member names";

#[test]
fn a_reply_to_an_encrypted_report_goes_out_readable_only_when_asked_to() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    // The team never turned encrypted replies on: the quote would go out readable.
    let smtp_dir = tempfile::tempdir().expect("smtp maildir");
    let smtp = Smtp::start(smtp_dir.path());
    let pgp = format!("\n[pgp]\ngnupg_home = {:?}\n", team.path());
    let desk = encrypted_report(&team, &reporter, smtp.port, &pgp);
    let out = ack(&desk, "2", "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the report came encrypted and this reply would go out readable")
            && stderr(&out).contains("--unencrypted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 0);
    assert_eq!(desk.query("SELECT count(*) FROM outbox"), 0);

    // Said on purpose: it goes, readable, quote and all.
    let out = ack(&desk, "2", "--unencrypted", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 1);
}

#[test]
fn a_queued_reply_to_an_encrypted_report_is_held_when_its_key_is_gone() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    team.trust(&reporter);
    // No SMTP server yet: the reply, encrypted at the preview, waits in the outbox.
    let port = crate::support::free_port();
    let desk = encrypted_report(&team, &reporter, port, &pgp_lines(&team));
    let out = ack(&desk, "2", "", &[]);
    assert!(stdout(&out).contains("Encrypted: yes"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));

    // The reporter's key leaves the keyring (expired, deleted) before the retry.
    team.ok(&["--yes", "--delete-keys", &reporter.fpr], b"");
    let smtp = Smtp::start_with(
        &desk.server.maildir(crate::desk::REPORTER, "INBOX"),
        crate::support::SmtpOptions {
            port: Some(port),
            ..Default::default()
        },
    );
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(
        stderr(&out).contains("not sent: it would go out readable (no key in the keyring for reporter@example.net), though its report came encrypted"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(desk.reporter_inbox().is_empty(), "sent readable");
    drop(smtp);
}

/// gpg missing from PATH: the preview says the keys could not be checked and why (install
/// GnuPG), not that the reporter has no key, which would send the user hunting for one.
#[test]
fn without_gpg_on_the_path_the_preview_says_so_not_no_key() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    team.trust(&reporter);
    let (desk, _smtp) = desk_for(&team);
    let no_gpg = tempfile::tempdir().expect("empty PATH");
    let path = no_gpg.path().to_str().expect("utf-8 path");
    let out = ack(&desk, "1", "", &[("PATH", path)]);
    let said = stdout(&out);
    assert!(
        said.contains(
            "Encrypted: NO, sent readable: the keys could not be checked: gpg could not be started"
        ) && said.contains("install GnuPG"),
        "{said}{}",
        stderr(&out)
    );
    assert!(!said.contains("no key in the keyring"), "{said}");
}

/// The embargo notice quotes the reporter's first mail to distributors: for a report that
/// came encrypted, a notice that would go out readable is refused with `--yes`, asked about
/// at the preview, and sent readable only with `--unencrypted` or a yes to that question.
#[test]
fn a_notice_quoting_an_encrypted_report_goes_out_readable_only_when_asked_to() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    // No key for the distributors' list in the keyring: the notice cannot be encrypted.
    let smtp_dir = tempfile::tempdir().expect("smtp maildir");
    let smtp = Smtp::start(smtp_dir.path());
    let desk = encrypted_report(&team, &reporter, smtp.port, &pgp_lines(&team));
    let set = ["advisory", "2", "--set", "summary=zipfile path traversal"];
    let out = desk.run(
        &[&set[..], &["--set", "embargo_until=2099-01-06"]].concat(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notice = |more: &[&str]| {
        let line = [
            "notice",
            "2",
            "--to",
            "distros@vs.openwall.org",
            "--no-edit",
        ];
        desk.run(&[&line[..], more].concat(), &[])
    };

    let out = notice(&["--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "not sending the notice for report #2: the report came encrypted and this notice would go out readable (no key in the keyring for distros@vs.openwall.org"
        ) && stderr(&out).contains("--unencrypted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 0);
    assert_eq!(desk.query("SELECT count(*) FROM outbox"), 0);

    // At the preview: warned in words, and the question says UNENCRYPTED.
    let line = desk.shell_line(&[
        "notice",
        "2",
        "--to",
        "distros@vs.openwall.org",
        "--no-edit",
    ]);
    let tmux = crate::interactive::Tmux::start(&line);
    let screen = tmux.wait_for("Send this notice UNENCRYPTED? [y]es, [e]dit, [n]o");
    assert!(
        screen.contains(
            "report #2 came ENCRYPTED, and this notice (with its quote) would go out READABLE"
        ),
        "{screen}"
    );
    assert_eq!(
        crate::desk::maildir_count(smtp_dir.path()),
        0,
        "sent before the answer"
    );
    tmux.cmd(&["send-keys", "y", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 1);

    // Said on the command line: it goes, readable, quote and all.
    let out = notice(&["--yes", "--unencrypted"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 2);
    let new = smtp_dir.path().join("new");
    let sent: Vec<String> = std::fs::read_dir(new)
        .expect("maildir")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("mail"))
        .collect();
    assert!(sent.iter().all(|m| m.contains(SECRET)), "{sent:?}");
}

/// `[pgp] gnupg_home = "NAME"` is the folder NAME beside the config file (as `ca_file` is),
/// wherever secdesk runs from: here the test's folder, where no such keyring is.
#[test]
fn a_relative_gnupg_home_is_read_beside_the_config() {
    let desk = Desk::new(REPORT, 0);
    let team = Keyring::generate_in("Security Team <security@example.org>", desk.dir.path());
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    let name = team.path().file_name().expect("a folder name");
    let name = name.to_str().expect("utf-8");
    let here = std::env::current_dir().expect("the current folder");
    assert_ne!(here, desk.dir.path());
    assert!(!here.join(name).exists());
    desk.configure(0, &format!("\n[pgp]\ngnupg_home = \"{name}\"\n"));
    // The report opens with the team key: it is shown decrypted.
    sync_encrypted(&desk, &team, &reporter);
}

/// A reply queued while its report had come readable, and an encrypted message from the
/// reporter joins the report before the reply goes out: delivery looks again at send time,
/// so nothing readable reaches the SMTP server, the user is told why and what to do, and
/// once the reporter's key is in the keyring the reply goes out encrypted.
#[test]
fn a_queued_reply_is_held_when_an_encrypted_message_joins_its_report() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    // No SMTP server yet, and no key for the reporter: the reply waits in the outbox,
    // readable as the preview said, which was fine for a report that came readable.
    let port = crate::support::free_port();
    let desk = Desk::new(REPORT, port);
    desk.configure(port, &pgp_lines(&team));
    let out = send_ack(&desk);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "Encrypted: NO, sent readable: no key in the keyring for reporter@example.net"
        ),
        "{}",
        stdout(&out)
    );

    // The reporter follows up, encrypted, in the report's thread.
    let inner = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{SECRET}\r\n");
    let mail = crate::keys::encrypted_mime(
        "From: Reporter <reporter@example.net>\r\nTo: security@example.org\r\n\
         Subject: Re: tarfile escape\r\nDate: Tue, 24 Nov 2026 12:00:00 +0000\r\n\
         Message-ID: <encrypted-follow-up@reporter.example>\r\n\
         In-Reply-To: <report-1@reporter.example>\r\n\
         References: <root-0@reporter.example> <report-1@reporter.example>\r\n",
        &reporter.encrypt(&team.fpr, true, inner.as_bytes()),
    );
    desk.server.append(TEAM, "INBOX", &mail);
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync: {}", stderr(&out));
    let shown = stdout(&desk.run(&["show", "1"], &[]));
    assert!(
        shown.contains(SECRET),
        "joined report #1, decrypted: {shown}"
    );

    // The SMTP server is back: it would take anything it is given.
    let smtp_dir = tempfile::tempdir().expect("smtp maildir");
    let smtp = Smtp::start_with(
        smtp_dir.path(),
        crate::support::SmtpOptions {
            port: Some(port),
            ..Default::default()
        },
    );
    let out = desk.run(&["outbox", "--retry"], &[]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(75), "{said}");
    assert!(
        said.contains("not sent: it would go out readable (no key in the keyring for reporter@example.net), though its report came encrypted")
            && said.contains("`secdesk pgp import-key 1`")
            && said.contains("`secdesk reply 1 --unencrypted`"),
        "{}{said}",
        stdout(&out)
    );
    assert_eq!(
        crate::desk::maildir_count(smtp_dir.path()),
        0,
        "the reply reached the SMTP server readable"
    );

    // With the reporter's key in the keyring, the same queued reply goes out encrypted.
    team.trust(&reporter);
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(crate::desk::maildir_count(smtp_dir.path()), 1);
    let new = smtp_dir.path().join("new");
    let sent: Vec<Vec<u8>> = std::fs::read_dir(new)
        .expect("maildir")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("mail"))
        .collect();
    assert!(
        !String::from_utf8_lossy(&sent[0]).contains("tracked as report #1"),
        "sent readable"
    );
    let opened = reporter.ok(&["--decrypt"], &ciphertext(&sent[0]));
    assert!(String::from_utf8_lossy(&opened).contains("tracked as report #1"));
    drop(smtp);
}

/// The preview of a reply to a report that came encrypted asks gpg about each recipient's
/// key once (it asked twice: once for the check, once for the line it prints); the
/// `Encrypted:` line and the question still say what the one answer said.
#[test]
fn the_preview_asks_gpg_about_each_key_once() {
    let team = Keyring::generate("Security Team <security@example.org>");
    let reporter = Keyring::generate("Reporter <reporter@example.net>");
    reporter.trust(&team);
    let port = crate::support::free_port();
    let desk = encrypted_report(&team, &reporter, port, &pgp_lines(&team));
    // A gpg on PATH that logs each call, then runs the real one.
    let bin = desk.dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin folder");
    let log = desk.dir.path().join("gpg.log");
    let real = ["/usr/bin/gpg", "/bin/gpg"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("gpg installed");
    std::fs::write(
        bin.join("gpg"),
        format!("#!/bin/sh\necho \"$*\" >>{log:?}\nexec {real} \"$@\"\n"),
    )
    .expect("write the gpg wrapper");
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(bin.join("gpg"), mode).expect("chmod the wrapper");

    let line = desk.shell_line(&["reply", "2", "--template", "acknowledge", "--no-edit"]);
    let tmux = crate::interactive::Tmux::start(&format!("PATH={}:$PATH {line}", bin.display()));
    let screen = tmux.wait_for("Send this reply UNENCRYPTED? [y]es, [e]dit, [n]o");
    assert!(
        screen.contains(
            "Encrypted: NO, sent readable: no key in the keyring for reporter@example.net"
        ),
        "{screen}"
    );
    tmux.cmd(&["send-keys", "n", "Enter"]);
    tmux.wait_for("EXIT=");
    let calls = std::fs::read_to_string(&log).expect("gpg was run");
    for addr in ["<reporter@example.net>", "<security@example.org>"] {
        let asked = calls
            .lines()
            .filter(|l| l.contains("--list-keys") && l.ends_with(addr))
            .count();
        assert_eq!(asked, 1, "{addr} looked up {asked} times:\n{calls}");
    }
}
