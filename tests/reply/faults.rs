//! SMTP faults and SIGKILL in the outbox: whatever happens, each reply reaches the server
//! exactly once, or stays in the outbox with its error.
//!
//! Covered elsewhere in this binary: connection refused (`smtp_down_then_retry_...`), a 5xx
//! (`permanent_refusal_...`) and an untrusted certificate (`smtp_tls_is_verified_...`).
//! Here: a 4xx, a stalled server, a connection dropped after DATA (the one scripted
//! server, since aiosmtpd cannot do it), a refused login, bad `ca_file`s, and 20 kills.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::desk::{header, stderr, stdout, Desk, REPORTER, TEAM};
use super::{smtp_over_tls, REPORT};
use crate::support::proxy::{Fault, Proxy};
use crate::support::{free_port, SeededRng, Smtp, SmtpOptions};

/// The Message-ID (without brackets) of every outbox row, by id.
pub(super) fn outbox_ids(desk: &Desk) -> Vec<(i64, String)> {
    let db = desk.db();
    let mut stmt = db
        .prepare("SELECT id, message_id FROM outbox ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|r| {
            let (id, mid) = r.unwrap();
            (id, mid.trim_matches(['<', '>']).to_string())
        })
        .collect();
    rows
}

/// How many messages in `user`'s `mailbox` carry this Message-ID.
pub(super) fn copies(desk: &Desk, user: &str, mailbox: &str, message_id: &str) -> usize {
    let want = format!("<{message_id}>");
    desk.mailbox(user, mailbox)
        .iter()
        .filter(|raw| header(raw, "Message-ID").as_deref() == Some(want.as_str()))
        .count()
}

pub(super) fn set_timeout(desk: &Desk, seconds: u64) {
    let path = desk.dir.path().join("config.toml");
    let cfg = std::fs::read_to_string(&path).unwrap();
    let cfg = cfg.replace(
        "timeout_seconds = 10",
        &format!("timeout_seconds = {seconds}"),
    );
    std::fs::write(path, cfg).unwrap();
}

/// An SMTP server that answers every DATA with a 4xx, on a port the desk is configured
/// for: the reporter's maildir, the port (to start a willing server on later) and the server.
fn busy_smtp(desk: &Desk) -> (PathBuf, u16, Smtp) {
    let maildir = desk.server.maildir(REPORTER, "INBOX");
    let port = free_port();
    let busy = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            data_reply: Some("451 4.3.0 mailbox busy, try again later".into()),
            ..SmtpOptions::default()
        },
    );
    desk.configure(port, "");
    (maildir, port, busy)
}

#[test]
fn a_4xx_keeps_the_reply_queued_with_the_error_then_it_is_sent_once() {
    let desk = Desk::new(REPORT, 0);
    let (maildir, port, busy) = busy_smtp(&desk);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("451") && err.contains("queued"), "{err}");
    let rows = desk.outbox_json();
    assert_eq!(rows[0]["state"], "queued", "{rows}");
    assert!(
        rows[0]["last_error"].as_str().unwrap().contains("451"),
        "{rows}"
    );
    assert_eq!(desk.reporter_maildir_count(), 0);

    drop(busy);
    let _smtp = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    for _ in 0..2 {
        let out = desk.run(&["outbox", "--retry"], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (_, mid) = &outbox_ids(&desk)[0];
    assert_eq!(copies(&desk, REPORTER, "INBOX", mid), 1);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

#[test]
fn a_stalled_smtp_server_times_out_and_the_reply_stays_queued() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    // Not even the greeting gets through.
    let proxy = Proxy::start(smtp.port, Fault::StallAfter(0));
    desk.configure(proxy.port, "");
    set_timeout(&desk, 2);
    let started = Instant::now();
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        took < Duration::from_secs(8),
        "gave up only after {took:?} (timeout 2 s)"
    );
    let err = stderr(&out);
    assert!(
        err.contains("no answer within 2 s") && err.contains("queued"),
        "{err}"
    );
    assert_eq!(proxy.faulted(), 1);
    assert_eq!(desk.outbox_json()[0]["state"], "queued");
    assert_eq!(desk.reporter_maildir_count(), 0);
}

/// A scripted SMTP server for one connection: it accepts the whole message, then closes
/// the connection without answering. Returns its port and, on join, the message as sent.
pub(super) fn drop_after_data() -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        w.write_all(b"220 scripted ESMTP\r\n").unwrap();
        let mut message = Vec::new();
        let mut in_data = false;
        loop {
            let mut line = Vec::new();
            if r.read_until(b'\n', &mut line).unwrap() == 0 {
                panic!("the client hung up before the end of DATA");
            }
            if in_data {
                if line == b".\r\n" {
                    // Taken, and no answer: the connection just drops.
                    return message;
                }
                // RFC 5321 §4.5.2: undo dot-stuffing.
                let line = line.strip_prefix(b".").unwrap_or(&line);
                message.extend_from_slice(line);
                continue;
            }
            let upper = String::from_utf8_lossy(&line).to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-scripted\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).unwrap();
        }
    });
    (port, handle)
}

/// The drop-after-DATA fault: the reply is left for the server check, never blindly resent.
/// `delivered` says whether the server had in fact taken it (its copy for the team, the Cc,
/// then arrives in the team's second mailbox, `Reports`, one of `[imap] mailboxes`) before
/// the retry. When it had not, it is resent only once the copy had time to arrive.
fn dropped_after_data(delivered: bool) {
    let desk = Desk::new(REPORT, 0);
    let (port, server) = drop_after_data();
    configure_with_mailboxes(&desk, port);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("may have accepted it") && err.contains("team copy is still missing"),
        "{err}"
    );
    let received = server.join().expect("scripted server");
    let (_, mid) = outbox_ids(&desk)[0].clone();
    assert_eq!(
        header(&received, "Message-ID").as_deref(),
        Some(format!("<{mid}>").as_str())
    );
    let rows = desk.outbox_json();
    assert_eq!(rows[0]["state"], "uncertain", "{rows}");
    assert!(
        rows[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("may have accepted it"),
        "{rows}"
    );
    if delivered {
        desk.server.write_maildir(TEAM, "Reports", &[received]);
    }

    // The team's copy of any new send lands in the team mailbox, where the check looks.
    let smtp = Smtp::start(&desk.server.maildir(TEAM, "Reports"));
    configure_with_mailboxes(&desk, smtp.port);
    let out = desk.run(&["outbox", "--retry"], &[]);
    if delivered {
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("already on the server (not sent again)"),
            "{}",
            stdout(&out)
        );
    } else {
        // Not found yet: its copy may still be in an MTA queue. Not resent now.
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("is not in INBOX, Reports yet") && err.contains("sent again only if"),
            "{err}"
        );
        assert_eq!(
            copies(&desk, TEAM, "Reports", &mid),
            0,
            "not resent at once"
        );
        assert_eq!(desk.outbox_json()[0]["state"], "uncertain");
        // Half an hour later it is still missing: it was not delivered.
        desk.db()
            .execute(
                "UPDATE outbox SET last_attempt_at = '2000-01-01T00:00:00Z'",
                [],
            )
            .unwrap();
    }
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    if !delivered {
        // Sent again on the evidence of a missing copy: said, never silent (the reporter
        // may get it twice if the copy was only lost).
        assert!(
            stdout(&out).contains(&format!(
                "reply to report #1 sent again (an earlier attempt may have reached the server, but its team copy never arrived, so it was taken as not delivered; the reporter may get it twice): Message-ID <{mid}>"
            )),
            "{}",
            stdout(&out)
        );
    }
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(copies(&desk, TEAM, "Reports", &mid), 1, "sent exactly once");
    assert_eq!(copies(&desk, TEAM, "Sent", &mid), 1, "filed exactly once");
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// The desk's config with the team's two mailboxes, `INBOX` and `Reports`.
fn configure_with_mailboxes(desk: &Desk, smtp_port: u16) {
    desk.configure(smtp_port, "");
    let path = desk.dir.path().join("config.toml");
    let cfg = std::fs::read_to_string(&path).unwrap().replacen(
        "[imap]\n",
        "[imap]\nmailboxes = [\"INBOX\", \"Reports\"]\n",
        1,
    );
    std::fs::write(path, cfg).unwrap();
}

#[test]
fn dropped_after_data_and_taken_is_not_sent_again() {
    dropped_after_data(true);
}

#[test]
fn dropped_after_data_and_lost_is_sent_once_on_retry() {
    dropped_after_data(false);
}

#[test]
fn a_refused_smtp_login_never_shows_the_password() {
    const SECRET: &str = "Smtp-Secret-Pw-42";
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            refuse_auth: true,
            ..SmtpOptions::default()
        },
    );
    let config = desk.dir.path().join("config.toml");
    let ways = [
        ("password_env", "password_env = \"SECDESK_TEST_SMTP_PW\"\n"),
        (
            "password_command",
            &*format!("password_command = [\"printf\", \"{SECRET}\"]\n"),
        ),
        ("password", &*format!("password = \"{SECRET}\"\n")),
    ]
    .map(|(k, v)| (k, v.to_string()));
    // AUTH PLAIN and LOGIN send the password base64-encoded: look for those too.
    let encoded = [
        base64(format!("\0grace\0{SECRET}").as_bytes()),
        base64(SECRET.as_bytes()),
    ];
    for (way, line) in &ways {
        desk.configure(smtp.port, &format!("username = \"grace\"\n{line}"));
        // An inline password is only accepted from a private file.
        set_private(&config);
        let out = desk.run(
            &["reply", "1", "--no-edit", "--yes"],
            &[("SECDESK_TEST_SMTP_PW", SECRET)],
        );
        // 77 (EX_NOPERM), not 75: the same credentials will not work on a retry.
        assert_eq!(out.status.code(), Some(77), "{way}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("queued as outbox"),
            "{way}: {}",
            stderr(&out)
        );
        let listing = desk.run(&["outbox", "--json"], &[]);
        let all = format!(
            "{}{}{}{}",
            stdout(&out),
            stderr(&out),
            stdout(&listing),
            stderr(&listing)
        );
        assert!(
            all.contains("535") && all.contains("the login was refused"),
            "{way}: {all}"
        );
        assert!(!all.contains(SECRET), "{way} leaked the password: {all}");
        for e in &encoded {
            assert!(!all.contains(e.as_str()), "{way} leaked it encoded: {all}");
        }
    }
    assert_eq!(desk.reporter_maildir_count(), 0);
}

fn set_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A CA certificate that signed nothing the test servers use.
fn other_ca(dir: &std::path::Path) -> PathBuf {
    let out = Command::new("/usr/bin/openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-keyout", "other.key", "-out", "other-ca.crt"])
        .args(["-subj", "/CN=some other CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("other-ca.crt")
}

#[test]
fn a_bad_smtp_ca_file_fails_closed_with_its_name() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            tls: Some(desk.server.server_cert()),
            ..SmtpOptions::default()
        },
    );
    let garbage = desk.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate at all\n").unwrap();
    let wrong = other_ca(desk.dir.path());
    let missing = desk.dir.path().join("no-such-ca.pem");
    // The right CA, then a damaged block. SMTP used to skip such a block and trust the
    // rest, where IMAP refused the file (tests/secrets.rs): both now share one loader.
    let damaged = desk.dir.path().join("damaged.pem");
    let good = std::fs::read_to_string(desk.server.ca_file()).unwrap();
    std::fs::write(
        &damaged,
        format!("{good}-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n"),
    )
    .unwrap();
    // One reply, queued while SMTP is down.
    desk.configure(free_port(), "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    for (ca, expect) in [
        (&missing, "cannot read ca_file"),
        (&garbage, "holds no PEM certificate"),
        (&damaged, "is not valid PEM"),
        (&wrong, "certificate"),
    ] {
        smtp_over_tls(&desk, smtp.port, Some(ca));
        let out = desk.run(&["outbox", "--retry"], &[]);
        assert_eq!(out.status.code(), Some(75), "{ca:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(expect) && err.contains("queued"),
            "{ca:?}: {err}"
        );
        if ca != &wrong {
            assert!(err.contains(&ca.display().to_string()), "{ca:?}: {err}");
        }
        let row = &desk.outbox_json()[0];
        assert_eq!(row["state"], "queued", "{ca:?}: {row}");
        assert!(
            row["last_error"].as_str().unwrap().contains(expect),
            "{ca:?}: {row}"
        );
        assert_eq!(desk.reporter_maildir_count(), 0, "{ca:?}: sent anyway");
    }
    // Nothing was lost: with the right CA the queued reply goes.
    smtp_over_tls(&desk, smtp.port, Some(&desk.server.ca_file()));
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);
}

#[test]
fn outbox_killed_at_random_points_sends_each_reply_exactly_once() {
    const KILLS: usize = 20;
    const REPLIES: usize = 3;
    let desk = Desk::new(REPORT, 0);
    // The team's Cc copy is what the crash check finds, so the sink is the team mailbox.
    let smtp = Smtp::start(&desk.server.maildir(TEAM, "INBOX"));
    let down = free_port();
    let mut rng = SeededRng::from_env(23);
    let mut full = Duration::ZERO;
    let mut landed = 0;
    for round in 0..=KILLS {
        desk.configure(down, "");
        for _ in 0..REPLIES {
            let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
            assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
        }
        desk.configure(smtp.port, "");
        if round == 0 {
            // An uninterrupted run, to know how long the kills have to land in.
            let started = Instant::now();
            let out = desk.run(&["outbox", "--retry"], &[]);
            full = started.elapsed();
            assert!(out.status.success(), "{}", stderr(&out));
        } else {
            let delay = Duration::from_millis(rng.between(0, full.as_millis() as u64 + 1));
            if desk.kill_after(&["outbox", "--retry"], delay) {
                landed += 1;
            } else {
                // It finished first: the machine got faster than when `full` was measured.
                full = full * 3 / 4;
            }
            let integrity: String = desk
                .db()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(integrity, "ok", "after kill {round} at {delay:?}");
            // A `sending` row is checked once it is older than the stale window (10 min):
            // let that time pass.
            desk.db()
                .execute(
                    "UPDATE outbox SET last_attempt_at = '2000-01-01T00:00:00Z'
                     WHERE state = 'sending'",
                    [],
                )
                .unwrap();
            let out = desk.run(&["outbox", "--retry"], &[]);
            assert!(
                out.status.success(),
                "retry after kill {round}: {}",
                stderr(&out)
            );
        }
        let inbox = desk.mailbox(TEAM, "INBOX");
        let sent = desk.mailbox(TEAM, "Sent");
        let count = |mails: &[Vec<u8>], mid: &str| {
            let want = format!("<{mid}>");
            mails
                .iter()
                .filter(|raw| header(raw, "Message-ID").as_deref() == Some(want.as_str()))
                .count()
        };
        for (id, mid) in outbox_ids(&desk) {
            assert_eq!(
                count(&inbox, &mid),
                1,
                "round {round}: outbox #{id} delivered"
            );
            assert_eq!(count(&sent, &mid), 1, "round {round}: outbox #{id} filed");
        }
        assert_eq!(desk.outbox_json(), serde_json::json!([]), "round {round}");
    }
    assert_eq!(outbox_ids(&desk).len(), (KILLS + 1) * REPLIES);
    assert!(
        landed >= KILLS / 4,
        "only {landed} of {KILLS} kills landed before the run ended ({full:?})"
    );
}

/// A reply another delivery has just claimed (this desk's sync round, or another desk) is
/// not taken for a crashed attempt: sending it again could deliver it twice. The attempt
/// right after `reply` waits for that delivery and says what became of the reply.
#[test]
fn a_reply_another_delivery_is_sending_is_not_sent_again() {
    use secdesk::core::config::Config;
    use secdesk::core::store::{timestamp, Store};
    use secdesk::mailio::delivery::{deliver_one, Outcome};

    let desk = Desk::new(REPORT, 0);
    let (maildir, port, busy) = busy_smtp(&desk);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    drop(busy);
    let _smtp = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    let (id, _) = outbox_ids(&desk)[0];
    // The other delivery claims it now, and records it sent half a second later.
    let claimed = timestamp(chrono::Utc::now());
    desk.db()
        .execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = ?1",
            [&claimed],
        )
        .unwrap();
    let db = desk.db_path();
    let other = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        rusqlite::Connection::open(db)
            .unwrap()
            .execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?1, sent_copy = 'pending'",
                [timestamp(chrono::Utc::now())],
            )
            .unwrap();
    });

    let config = Config::load(&desk.dir.path().join("config.toml")).unwrap();
    let mut store = Store::open(&desk.db_path()).unwrap();
    let d = deliver_one(&config, &mut store, id).unwrap();
    other.join().unwrap();
    assert!(matches!(d.outcome, Outcome::Sent { .. }), "{d:?}");
    // This attempt sent nothing and claimed nothing: the other delivery's send is the one.
    assert_eq!(desk.reporter_maildir_count(), 0);
    assert_eq!(
        desk.query("SELECT attempts FROM outbox"),
        2,
        "one failed attempt, one by the other delivery"
    );
}

/// A 550 to one RCPT says which recipient was refused: here the team's copy, not the
/// reporter.
#[test]
fn a_refused_recipient_is_named() {
    let desk = Desk::new(REPORT, 0);
    let maildir = desk.server.maildir(REPORTER, "INBOX");
    let port = free_port();
    let _smtp = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            refuse_rcpt: Some("security@example.org".into()),
            ..SmtpOptions::default()
        },
    );
    desk.configure(port, "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(!out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("recipient <security@example.org> refused") && err.contains("550"),
        "{err}"
    );
    assert_eq!(desk.reporter_maildir_count(), 0, "nothing was sent");
}

/// Accepts connections on a loopback port and never says a word; counts them.
fn silent_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (port, count)
}

#[test]
fn a_silent_smtp_server_costs_one_timeout_per_run_not_one_per_reply() {
    // Before, `outbox --retry` (and each of the desk's rounds) tried every queued reply
    // against a server that never greets, each waiting the whole timeout: 200 queued
    // replies at 30 s were 100 minutes.
    let down = free_port();
    let desk = Desk::new(REPORT, down);
    for _ in 0..3 {
        let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    }
    let (port, connections) = silent_server();
    desk.configure(port, "");
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert_eq!(err.matches("not tried in this run").count(), 2, "{err}");
    assert_eq!(
        desk.query("SELECT count(*) FROM outbox WHERE state = 'queued'"),
        3,
        "all kept: {err}"
    );
    assert_eq!(desk.reporter_maildir_count(), 0);
}
