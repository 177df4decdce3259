//! Connecting to a real Dovecot: each security mode, and each way a
//! connection can fail, as the user sees it (one clear line, no password).

mod support;

use std::time::Duration;

use secdesk::mailio::imap::{connect, Endpoint, ImapError, Security};
use support::Dovecot;

const PASSWORD: &str = "correct-horse-battery";

fn endpoint(server: &Dovecot, port: u16, security: Security) -> Endpoint {
    Endpoint {
        host: "localhost".into(),
        port,
        security,
        ca_file: Some(server.ca_file()),
        timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(60),
        max_message_bytes: 50 * 1024 * 1024,
    }
}

fn server_with_user() -> Dovecot {
    let server = Dovecot::start();
    server.add_user("security", PASSWORD);
    server
}

#[test]
fn each_security_mode_logs_in_and_selects_inbox() {
    let server = server_with_user();
    for (port, security) in [
        (server.imaps_port, Security::Tls),
        (server.imap_port, Security::Starttls),
        (server.imap_port, Security::Plain),
    ] {
        let mut session = connect(&endpoint(&server, port, security), "security", PASSWORD)
            .unwrap_or_else(|e| panic!("{security:?}: {e}\n{}", server.log_tail()));
        let mailbox = session.examine("INBOX").expect("EXAMINE INBOX");
        assert!(mailbox.uid_validity.is_some(), "{security:?}");
        session.logout().expect("LOGOUT");
    }
}

#[test]
fn wrong_password_is_one_line_naming_user_and_host_without_the_password() {
    let server = server_with_user();
    let wrong = "hunter2-not-it";
    let err = connect(
        &endpoint(&server, server.imaps_port, Security::Tls),
        "security",
        wrong,
    )
    .err()
    .expect("login with a wrong password must fail");
    let msg = err.to_string();
    assert!(matches!(err, ImapError::LoginRefused { .. }), "{msg}");
    assert_eq!(
        msg,
        "login refused for user security at localhost: check password_command/password_env"
    );
    assert!(!msg.contains(wrong) && !msg.contains(PASSWORD));
}

#[test]
fn certificate_from_unknown_ca_is_refused_and_points_at_ca_file() {
    let server = server_with_user();
    let mut ep = endpoint(&server, server.imaps_port, Security::Tls);
    ep.ca_file = None;
    let err = connect(&ep, "security", PASSWORD)
        .err()
        .expect("untrusted cert must fail");
    let msg = err.to_string();
    assert!(
        matches!(err, ImapError::UntrustedCertificate { .. }),
        "{msg}"
    );
    assert!(msg.contains("ca_file"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn certificate_for_another_name_is_refused() {
    let server = server_with_user();
    // The leaf is for localhost and 127.0.0.1 only; dovecot also listens on
    // 127.0.0.2 so the name mismatch is the only thing wrong.
    let mut ep = endpoint(&server, server.imaps_port, Security::Tls);
    ep.host = "127.0.0.2".into();
    let err = connect(&ep, "security", PASSWORD)
        .err()
        .expect("name mismatch must fail");
    assert!(
        matches!(err, ImapError::UntrustedCertificate { .. }),
        "{err}"
    );
}

#[test]
fn starttls_against_a_server_without_it_refuses_plaintext() {
    let server = Dovecot::start_without_tls();
    server.add_user("security", PASSWORD);
    let ep = endpoint(&server, server.imap_port, Security::Starttls);
    let err = connect(&ep, "security", PASSWORD)
        .err()
        .expect("must refuse");
    let msg = err.to_string();
    assert!(
        matches!(err, ImapError::StartTlsUnavailable { .. }),
        "{msg}"
    );
    assert!(msg.contains("refusing to continue in plaintext"), "{msg}");
    // Nothing was sent in the clear: Dovecot saw no login attempt.
    assert!(
        !server.log_tail().contains("user=<security>"),
        "{}",
        server.log_tail()
    );
}

#[test]
fn tls_against_the_plaintext_port_fails_with_a_tls_error() {
    let server = server_with_user();
    let ep = endpoint(&server, server.imap_port, Security::Tls);
    let err = connect(&ep, "security", PASSWORD).err().expect("must fail");
    assert!(matches!(err, ImapError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("security"), "{err}");
}

#[test]
fn server_not_listening_names_host_and_port() {
    let port = support::free_port();
    let ep = Endpoint {
        host: "127.0.0.1".into(),
        port,
        security: Security::Tls,
        ca_file: None,
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(60),
        max_message_bytes: 50 * 1024 * 1024,
    };
    let err = connect(&ep, "security", PASSWORD).err().expect("must fail");
    let msg = err.to_string();
    assert!(matches!(err, ImapError::Unreachable { .. }), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
}

#[test]
fn bad_ca_file_is_named_before_connecting() {
    let ep = Endpoint {
        host: "localhost".into(),
        port: support::free_port(),
        security: Security::Tls,
        ca_file: Some("/nonexistent/secdesk-ca.pem".into()),
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(60),
        max_message_bytes: 50 * 1024 * 1024,
    };
    let err = connect(&ep, "security", PASSWORD).err().expect("must fail");
    assert!(matches!(err, ImapError::TlsConfig(_)), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/secdesk-ca.pem"),
        "{err}"
    );
}

#[test]
fn mailman_over_https_checks_the_certificate_against_the_same_roots() {
    // Mailman's REST client trusts what IMAP and SMTP trust without a ca_file: the system
    // roots, no bundled store. Dovecot's TLS port presents a certificate from the test CA,
    // which only a ca_file makes trusted, so the HTTPS request must stop at the handshake.
    let server = server_with_user();
    let url = format!("https://localhost:{}/3.1", server.imaps_port);
    let client = secdesk::mailio::mailman::Client::with_password(
        &url,
        "restadmin",
        PASSWORD,
        Duration::from_secs(10),
    )
    .expect("system roots load");
    let err = client
        .held("security@example.org")
        .expect_err("an untrusted certificate must fail");
    let msg = err.to_string();
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
    assert!(!msg.contains(PASSWORD) && !msg.contains('\n'), "{msg}");
}

/// Dovecot with `ssl = required` announces LOGINDISABLED on its plaintext port (RFC 3501
/// §6.2.3) to a client it does not count as local: LOGIN there is not allowed, whatever the password. That was
/// "login refused ... check password_command" (exit 77), sending the user after a password
/// that was right; now the error says to change the connection, and STARTTLS logs in.
#[test]
fn logindisabled_names_the_connection_not_the_password() {
    let server = Dovecot::start_requiring_tls();
    server.add_user("security", PASSWORD);
    let mut plain = endpoint(&server, server.imap_port, Security::Plain);
    // Dovecot trusts a client on its own address (127.0.0.1 to 127.0.0.1) as secured; from
    // 127.0.0.1 to 127.0.0.2 it is any other plaintext client.
    plain.host = "127.0.0.2".into();
    let err = connect(&plain, "security", PASSWORD)
        .err()
        .expect("LOGIN in plaintext must be refused");
    let msg = err.to_string();
    assert!(
        matches!(err, ImapError::LoginDisabled { .. }),
        "{msg}\n{}",
        server.log_tail()
    );
    assert!(
        msg.contains("does not allow LOGIN on this connection")
            && msg.contains("security = \"tls\"")
            && !msg.contains("password_command")
            && !msg.contains(PASSWORD),
        "{msg}"
    );
    let starttls = endpoint(&server, server.imap_port, Security::Starttls);
    let mut session = connect(&starttls, "security", PASSWORD)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail()));
    session.logout().expect("LOGOUT");
}
