//! Tests of `mailio::smtp`: refusals before connecting, timeouts, and misbehaving servers.
use super::*;

fn smtp(host: &str, security: Security) -> SmtpConfig {
    SmtpConfig {
        host: host.into(),
        port: 2525,
        security,
        username: None,
        password: None,
        password_command: None,
        password_env: None,
        password_command_timeout_seconds: None,
        auth: Default::default(),
        oauth2_token_command: None,
        oauth2_token_timeout_seconds: None,
        ca_file: None,
    }
}

#[test]
fn plain_off_loopback_is_refused_before_connecting() {
    let e = SmtpSender::new(
        &smtp("mail.example.org", Security::Plain),
        None,
        Duration::from_secs(1),
    )
    .err()
    .unwrap();
    assert!(matches!(e, SmtpSetupError::PlainNotLoopback { .. }), "{e}");
}

#[test]
fn bad_ca_file_is_named() {
    let e = SmtpSender::new(
        &smtp("localhost", Security::Tls),
        Some(Path::new("/nonexistent/ca.pem")),
        Duration::from_secs(1),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("/nonexistent/ca.pem"), "{e}");
}

#[test]
fn an_overlong_line_is_refused_before_connecting() {
    // Nothing listens on this port: the refusal comes before any connection.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = smtp("127.0.0.1", Security::Plain);
    cfg.port = port;
    let sender = SmtpSender::new(&cfg, None, Duration::from_secs(2)).unwrap();
    let raw = format!("Subject: x\r\nCc: {}\r\n\r\nbody\r\n", "a".repeat(999));
    let e = sender
        .send("a@example.org", &["b@example.org".into()], raw.as_bytes())
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent, "{e}");
    assert!(
        e.detail.contains("line 2") && e.detail.contains("1003"),
        "{e}"
    );
    assert_eq!(overlong_line(b"a\r\nb\r\n"), None);
}

#[test]
fn a_server_without_oauthbearer_is_named_not_blamed_on_the_token() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1).flatten() {
            let mut out = stream.try_clone().unwrap();
            let _ = out.write_all(b"220 test ESMTP\r\n");
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let reply: &[u8] = match &line[..4] {
                    "EHLO" => b"250-test\r\n250 AUTH PLAIN\r\n",
                    "AUTH" => b"504 5.5.4 Unrecognized authentication type\r\n",
                    _ => b"221 bye\r\n",
                };
                let _ = out.write_all(reply);
            }
        }
    });
    let mut cfg = smtp("127.0.0.1", Security::Plain);
    cfg.port = port;
    cfg.username = Some("security".into());
    cfg.auth = AuthMethod::Oauthbearer;
    cfg.oauth2_token_command = Some(vec!["echo".into(), "tok-SECRET-123".into()]);
    let sender = SmtpSender::new(&cfg, None, Duration::from_secs(5)).unwrap();
    let e = send_one(&sender);
    // The config's to fix (the reply stays queued, exit 78), not the message's.
    assert_eq!(e.kind, FailureKind::Config, "{e}");
    assert!(e.detail.contains("does not offer AUTH OAUTHBEARER"), "{e}");
    assert!(!e.to_string().contains("tok-SECRET-123"), "{e}");
}

/// A one-line message from a@ to b@ that must fail.
fn send_one(sender: &SmtpSender) -> SendError {
    sender
        .send(
            "a@example.org",
            &["b@example.org".into()],
            b"Subject: x\r\n\r\nx\r\n",
        )
        .unwrap_err()
}

#[test]
fn refused_connection_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = smtp("127.0.0.1", Security::Plain);
    cfg.port = port;
    let sender = SmtpSender::new(&cfg, None, Duration::from_secs(2)).unwrap();
    let e = send_one(&sender);
    assert_eq!(e.kind, FailureKind::Transient, "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn a_server_dripping_one_byte_at_a_time_ends_at_the_send_deadline() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            // Each byte is progress, within the 2 s timeout; the greeting never ends.
            for b in b"220-".iter().chain(std::iter::repeat(&b'x')) {
                if s.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    });
    let mut cfg = smtp("127.0.0.1", Security::Plain);
    cfg.port = port;
    let sender = SmtpSender::new(&cfg, None, Duration::from_secs(2))
        .unwrap()
        .with_deadline(Duration::from_secs(1));
    let started = std::time::Instant::now();
    let e = send_one(&sender);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.kind, FailureKind::Transient, "not handed over yet: {e}");
    assert!(
        e.to_string().contains(&format!(
            "SMTP server 127.0.0.1:{port}: still not done after 1 s"
        )),
        "{e}"
    );
}
