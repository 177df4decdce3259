//! OAuth2 logins (issue 16) against a real Dovecot whose oauth2 passdb validates a locally
//! signed HS256 JWT: the real binary with a valid, an expired and a tampered token, a token
//! command that fails or hangs, and the desk's IDLE session re-logging in after its token
//! expired. Tokens must never show in what secdesk prints.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::oauth2::{jwt, now, OauthSmtp};
use support::{message, Dovecot};

const USER: &str = "security";
const KEY: &[u8] = b"a-shared-hs256-key-for-the-tests-16";

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk whose `[imap]` logs in with `auth` and a token command that counts its runs
    /// and prints the file `token` (or runs `command` instead, when given; `{dir}` in it
    /// names the desk's folder).
    fn new(server: &Dovecot, auth: &str, command: Option<&[&str]>, extra: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = format!(
            "echo run >> {count:?}; cat {token:?}",
            count = dir.path().join("count"),
            token = dir.path().join("token")
        );
        let argv: Vec<String> = match command {
            Some(c) => c
                .iter()
                .map(|s| s.replace("{dir}", &dir.path().display().to_string()))
                .collect(),
            None => vec!["sh".into(), "-c".into(), script],
        };
        let config = format!(
            "[imap]\nhost = \"localhost\"\nport = {}\nsecurity = \"tls\"\nusername = \"{USER}\"\n\
             ca_file = {:?}\nauth = \"{auth}\"\noauth2_token_command = {}\n{extra}\n\
             [store]\npath = {:?}\n\n[identity]\nname = \"Grace Hopper\"\nemail = \"grace@example.org\"\n\n\
             [sync]\npoll_seconds = 1\ntimeout_seconds = 40\n",
            server.imaps_port,
            server.ca_file(),
            toml_list(&argv),
            dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("config");
        Desk { dir }
    }

    fn set_token(&self, token: &str) {
        std::fs::write(self.dir.path().join("token"), format!("{token}\n")).expect("token file");
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("count"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn sync(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(self.config_path())
            .arg("sync")
            .stdin(Stdio::null())
            .output()
            .expect("run secdesk")
    }

    fn stored(&self) -> i64 {
        rusqlite::Connection::open(self.dir.path().join("secdesk.db"))
            .and_then(|db| db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)))
            .unwrap_or(0)
    }
}

fn toml_list(argv: &[String]) -> String {
    let items: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    format!("[{}]", items.join(", "))
}

fn server() -> Dovecot {
    let server = Dovecot::start_oauth2(KEY);
    server.add_user(USER, "pw-not-used-by-the-desk");
    server.append(
        USER,
        "INBOX",
        &message("<o1@x>", "first report", "tarfile escape"),
    );
    server
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The one line a refusal prints, checked to hold no token.
fn assert_refused(out: &Output, token: &str) {
    let all = text(out);
    assert_eq!(
        out.status.code(),
        Some(77),
        "a refused login exits 77: {all}"
    );
    assert!(
        all.contains("refused the OAuth2 token for security, and then a fresh one"),
        "{all}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1,
        "{all}"
    );
    assert!(
        !all.contains(token) && !all.contains(&token[token.len() - 20..]),
        "{all}"
    );
}

#[test]
fn a_valid_token_logs_in_with_either_mechanism() {
    let server = server();
    for auth in ["xoauth2", "oauthbearer"] {
        let desk = Desk::new(&server, auth, None, "");
        let token = jwt(USER, now() - 10, now() + 600, KEY);
        desk.set_token(&token);
        let out = desk.sync();
        assert!(out.status.success(), "{auth}: {}", text(&out));
        assert_eq!(desk.stored(), 1, "{auth}");
        assert_eq!(desk.runs(), 1, "{auth}: the command runs once");
        assert!(!text(&out).contains(&token));
    }
}

#[test]
fn expired_and_tampered_tokens_are_refused_after_one_fresh_try() {
    let server = server();
    let expired = jwt(USER, now() - 7200, now() - 3600, KEY);
    let good = jwt(USER, now() - 10, now() + 600, KEY);
    let mut tampered = good.clone();
    // Another user in the payload, the signature left as it was.
    let forged = jwt("root", now() - 10, now() + 600, KEY);
    let (head, _) = tampered.rsplit_once('.').expect("jwt");
    let (_, forged_payload) = forged.split_once('.').expect("jwt");
    let (forged_payload, _) = forged_payload.split_once('.').expect("jwt");
    let sig = good.rsplit_once('.').expect("jwt").1.to_string();
    let (h, _) = head.split_once('.').expect("jwt");
    tampered = format!("{h}.{forged_payload}.{sig}");
    for token in [expired, tampered] {
        let desk = Desk::new(&server, "xoauth2", None, "");
        desk.set_token(&token);
        let out = desk.sync();
        assert_refused(&out, &token);
        assert_eq!(desk.runs(), 2, "fetched once more after the refusal");
        assert_eq!(desk.stored(), 0);
    }
}

#[test]
fn a_refused_token_is_fetched_once_more_and_the_fresh_one_works() {
    let server = server();
    let script = "echo run >> {dir}/count; \
        if [ $(wc -l < {dir}/count) -eq 1 ]; then cat {dir}/expired; else cat {dir}/token; fi";
    let desk = Desk::new(&server, "oauthbearer", Some(&["sh", "-c", script]), "");
    let expired = jwt(USER, now() - 7200, now() - 3600, KEY);
    std::fs::write(desk.dir.path().join("expired"), expired).expect("write");
    desk.set_token(&jwt(USER, now() - 10, now() + 600, KEY));
    let out = desk.sync();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(desk.runs(), 2, "refused once, fetched once more");
    assert_eq!(desk.stored(), 1);
}

#[test]
fn a_failing_or_hanging_token_command_is_one_line_and_bounded() {
    let server = server();
    let failing = [
        "sh",
        "-c",
        "echo 'refresh token revoked by the provider' >&2; exit 3",
    ];
    let desk = Desk::new(&server, "xoauth2", Some(&failing), "");
    let out = desk.sync();
    let all = text(&out);
    assert!(!out.status.success());
    assert!(
        all.contains("imap.oauth2_token_command \"sh\" failed (exit status: 3): refresh token revoked by the provider"),
        "{all}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1,
        "{all}"
    );

    // A command that never answers (a wrapper and its child): stopped at the limit.
    let hanging = ["sh", "-c", "sleep 60; echo late"];
    let desk = Desk::new(
        &server,
        "xoauth2",
        Some(&hanging),
        "oauth2_token_timeout_seconds = 1",
    );
    let started = Instant::now();
    let out = desk.sync();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        text(&out).contains("did not finish within 1 s and was stopped"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_desks_idle_session_logs_in_again_after_its_token_expired() {
    let server = server();
    let desk = Desk::new(&server, "xoauth2", None, "");
    // A token that expires a few seconds into the session.
    desk.set_token(&jwt(USER, now() - 10, now() + 4, KEY));
    let config = secdesk::core::config::Config::load(&desk.config_path()).expect("config");
    let mut watch = secdesk::mailio::watch::Watch::new(config);
    let round = watch.round().expect("first round");
    assert!(round.idle, "Dovecot has IDLE");
    assert_eq!((desk.runs(), desk.stored()), (1, 1));

    // The token expires; the server then drops the session (as a provider does).
    std::thread::sleep(Duration::from_secs(6));
    kick(&server, USER);
    desk.set_token(&jwt(USER, now() - 10, now() + 600, KEY));
    server.append(
        USER,
        "INBOX",
        &message("<o2@x>", "second report", "zip slip"),
    );
    watch.wait();
    let deadline = Instant::now() + Duration::from_secs(30);
    let round = loop {
        match watch.round() {
            Ok(r) => break r,
            Err(e) if Instant::now() < deadline => {
                assert!(!e.contains("eyJ"), "a token in an error: {e}");
                watch.wait();
            }
            Err(e) => panic!("never logged in again: {e}"),
        }
    };
    assert_eq!(round.new_messages, 1);
    assert_eq!(desk.stored(), 2);
    // The cached (expired) token was tried and refused, then fetched once more.
    assert_eq!(desk.runs(), 2);
}

/// Ends every session of `user` (doveadm kick).
fn kick(server: &Dovecot, user: &str) {
    let out = Command::new("doveadm")
        .arg("-c")
        .arg(Path::new(server.dir()).join("dovecot.conf"))
        .args(["kick", user])
        .output()
        .expect("doveadm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A desk that has synced the report, with `[smtp]` logging in by `auth` (XOAUTH2 or
/// OAUTHBEARER) to `smtp` with the token in the file `smtp-token`.
fn smtp_desk(server: &Dovecot, smtp: &OauthSmtp, auth: &str) -> Desk {
    let smtp_lines = format!(
        "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nusername = \"{USER}\"\n\
         auth = \"{auth}\"\noauth2_token_command = [\"cat\", \"{{dir}}/smtp-token\"]\n\
         [team]\naddress = \"security@example.org\"\n",
        smtp.port
    );
    let desk = Desk::new(server, "xoauth2", None, "");
    let config = std::fs::read_to_string(desk.config_path()).expect("config");
    let smtp_lines = smtp_lines.replace("{dir}", &desk.dir.path().display().to_string());
    let config = config.replace("\n[store]", &format!("{smtp_lines}\n[store]"));
    std::fs::write(desk.config_path(), config).expect("config");
    desk.set_token(&jwt(USER, now() - 10, now() + 600, KEY));
    let out = desk.sync();
    assert!(out.status.success(), "{}", text(&out));
    desk
}

/// A reply goes out through an SMTP login by `auth` with a valid token, which is not printed.
fn sends_with_a_valid_token(server: &Dovecot, auth: &str) {
    let smtp = OauthSmtp::start(KEY);
    let desk = smtp_desk(server, &smtp, auth);
    let token = jwt(USER, now() - 10, now() + 600, KEY);
    std::fs::write(desk.dir.path().join("smtp-token"), &token).expect("token");
    let out = reply(&desk);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(smtp.auth_log(), ["ok"]);
    assert!(!text(&out).contains(&token));
}

fn reply(desk: &Desk) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .arg("--config")
        .arg(desk.config_path())
        .args([
            "reply",
            "1",
            "--template",
            "acknowledge",
            "--no-edit",
            "--yes",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run secdesk")
}

#[test]
fn smtp_xoauth2_sends_with_a_valid_token_and_queues_on_a_refused_one() {
    let server = server();
    sends_with_a_valid_token(&server, "xoauth2");

    let expired = jwt(USER, now() - 7200, now() - 3600, KEY);
    refused_twice_and_queued(&server, "xoauth2", &expired, "expired");
}

/// A reply through an SMTP login by `auth` with the token `bad` is queued, after the server
/// refused the cached token and the fresh one (both `bad`) for `why`; the token not printed.
fn refused_twice_and_queued(server: &Dovecot, auth: &str, bad: &str, why: &str) {
    let smtp = OauthSmtp::start(KEY);
    let desk = smtp_desk(server, &smtp, auth);
    std::fs::write(desk.dir.path().join("smtp-token"), bad).expect("token");
    let out = reply(&desk);
    let all = text(&out);
    // 77, not 75 ("run it again later"): retrying with the same token command cannot help.
    assert_eq!(out.status.code(), Some(77), "{all}");
    assert!(
        all.contains("refused the OAuth2 token for security, and then a fresh one from smtp.oauth2_token_command"),
        "{all}"
    );
    assert!(all.contains("queued"), "{all}");
    assert!(
        !all.contains(bad) && !all.contains(&bad[bad.len() - 20..]),
        "{all}"
    );
    let refused = format!("refused {why}");
    assert_eq!(smtp.auth_log(), [refused.clone(), refused]);
    assert!(smtp.messages().is_empty());
}

#[test]
fn smtp_oauthbearer_sends_with_a_valid_token_and_refuses_expired_and_tampered_ones() {
    let server = server();
    sends_with_a_valid_token(&server, "oauthbearer");

    let mut tampered = jwt(USER, now() - 10, now() + 600, KEY);
    // Another user's claim under the original signature.
    let other = jwt("mallory", now() - 10, now() + 600, KEY);
    let payload = |t: &str| t.split('.').nth(1).unwrap_or_default().to_string();
    tampered = tampered.replace(&payload(&tampered), &payload(&other));
    let expired = jwt(USER, now() - 7200, now() - 3600, KEY);
    // Refused twice (cached token, then the fresh one), each time after the client
    // answered the error challenge with ^A as RFC 7628 §3.2.2 says (else the log says so).
    refused_twice_and_queued(&server, "oauthbearer", &expired, "expired");
    refused_twice_and_queued(&server, "oauthbearer", &tampered, "bad signature");
}

/// A token command that fails after printing a token on stdout and, on stderr, what a
/// refresh request dumps (the refresh token, the client secret, a bearer token): its one
/// line says why it failed, with every credential redacted, on the terminal and, for a reply,
/// in the outbox's error kept in the store.
#[test]
fn a_failing_token_commands_stderr_never_shows_a_credential() {
    const SECRETS: [&str; 4] = [
        "1//0gFAKErefresh-abc123",
        "GOCSPX-fakeSECRET",
        "ya29.a0AfakeACCESS",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWN1cml0eSJ9.c2lnbmF0dXJlLXNlY3JldA",
    ];
    let script = format!(
        "printf '{}\\n'; printf 'POST /token refresh_token={}&client_secret={}\\n\
         Authorization: Bearer {}\\nerror: invalid_grant\\n' >&2; exit 2",
        SECRETS[3], SECRETS[0], SECRETS[1], SECRETS[2]
    );
    let shown_clean = |all: &str| {
        assert!(all.contains("invalid_grant"), "{all}");
        assert!(all.contains("[redacted]"), "{all}");
        for s in SECRETS {
            assert!(!all.contains(s), "{s} shown in: {all}");
        }
    };
    let server = server();
    let desk = Desk::new(&server, "xoauth2", Some(&["sh", "-c", &script]), "");
    let out = desk.sync();
    assert!(!out.status.success());
    shown_clean(&text(&out));

    // [smtp]: the reply is queued, and the error kept with it holds no credential either.
    let smtp = OauthSmtp::start(KEY);
    let desk = smtp_desk(&server, &smtp, "oauthbearer");
    let config = std::fs::read_to_string(desk.config_path()).expect("config");
    let cat = format!("[\"cat\", \"{}/smtp-token\"]", desk.dir.path().display());
    assert!(config.contains(&cat), "{config}");
    let failing = toml_list(&["sh".into(), "-c".into(), script.clone()]);
    std::fs::write(desk.config_path(), config.replace(&cat, &failing)).expect("config");
    let out = reply(&desk);
    assert!(!out.status.success());
    shown_clean(&text(&out));
    let kept: String = rusqlite::Connection::open(desk.dir.path().join("secdesk.db"))
        .and_then(|db| db.query_row("SELECT last_error FROM outbox", [], |r| r.get(0)))
        .expect("the queued reply's error");
    shown_clean(&kept);
    assert!(smtp.messages().is_empty());
}

/// An `[smtp]` `oauth2_token_command` whose program does not exist is the config's to fix:
/// the reply stays queued and the command exits 78 ("fix [smtp] in the config"), as a
/// missing IMAP one does; it exited 75, "run it again later", which cannot help.
#[test]
fn a_smtp_token_program_that_does_not_exist_keeps_the_reply_queued_with_exit_78() {
    let server = server();
    let smtp = OauthSmtp::start(KEY);
    let desk = smtp_desk(&server, &smtp, "xoauth2");
    let config = std::fs::read_to_string(desk.config_path()).expect("config");
    let cat = format!("[\"cat\", \"{}/smtp-token\"]", desk.dir.path().display());
    assert!(config.contains(&cat), "{config}");
    let missing = config.replace(&cat, "[\"secdesk-no-such-token-program\"]");
    std::fs::write(desk.config_path(), missing).expect("config");
    let out = reply(&desk);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(78), "{all}");
    assert!(
        all.contains("check the program name in the config")
            && all.contains("fix [smtp] in the config"),
        "{all}"
    );
    let state: String = rusqlite::Connection::open(desk.dir.path().join("secdesk.db"))
        .and_then(|db| db.query_row("SELECT state FROM outbox", [], |r| r.get(0)))
        .expect("the reply's row");
    assert_eq!(state, "queued", "{all}");
    assert!(smtp.auth_log().is_empty(), "no login was tried");
    assert!(smtp.messages().is_empty());
}

/// A token command that prints a prompt and then the token, a JSON answer, or nothing is
/// told so in one line that holds none of its output, before any login is tried (it was
/// sending the first line as the token, which the server refused twice, as if the token
/// were wrong).
#[test]
fn a_token_command_that_prints_more_or_less_than_a_token_is_told_so() {
    let server = server();
    let token = jwt(USER, now() - 10, now() + 600, KEY);
    for (printed, says) in [
        (
            format!("Enter passphrase:\n{token}\n"),
            "printed 2 lines, not an access token",
        ),
        (
            format!("{{\n  \"access_token\": \"{token}\",\n  \"expires_in\": 3599\n}}\n"),
            "printed 4 lines, not an access token",
        ),
        (
            format!("Bearer {token}\n"),
            "printed a line with spaces or control characters in it",
        ),
        ("\n".to_string(), "printed no token"),
    ] {
        let desk = Desk::new(&server, "xoauth2", None, "");
        desk.set_token(printed.trim_end_matches('\n'));
        let out = desk.sync();
        let all = text(&out);
        assert!(!out.status.success(), "{all}");
        assert!(all.contains(says), "{says}: {all}");
        assert!(all.contains("alone on one line"), "{all}");
        assert!(!all.contains(&token[token.len() - 20..]), "{all}");
        assert_eq!(desk.stored(), 0);
        assert_eq!(desk.runs(), 1, "not fetched again: no login was refused");
    }
}
