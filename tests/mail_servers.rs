//! The test harness itself, against the real servers: what later tests rely
//! on (UIDVALIDITY reset keeps the mail, maildir drops are visible, SMTP
//! delivery lands in a Dovecot user's INBOX).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{message, Dovecot, Smtp};

#[test]
fn uidvalidity_reset_renumbers_but_keeps_messages() {
    let mut server = Dovecot::start();
    server.add_user("security", "pw");
    server.append_all(
        "security",
        "INBOX",
        &[message("a@x", "one", "1"), message("b@x", "two", "2")],
    );
    let before = server.uidvalidity("security", "INBOX");
    let after = server.reset_uidvalidity("security", "INBOX");
    assert_ne!(before, after);
    assert_eq!(server.flags("security", "INBOX").len(), 2);
}

#[test]
fn maildir_drops_are_served_unread() {
    let server = Dovecot::start();
    server.add_user("security", "pw");
    let msgs: Vec<Vec<u8>> = (0..50)
        .map(|i| message(&format!("{i}@x"), "bulk", "body"))
        .collect();
    server.write_maildir("security", "INBOX", &msgs);
    let flags = server.flags("security", "INBOX");
    assert_eq!(flags.len(), 50);
    assert!(flags
        .iter()
        .all(|(_, f)| !f.iter().any(|x| x.contains("Seen"))));
}

#[test]
fn smtp_delivers_into_a_dovecot_inbox() {
    let server = Dovecot::start();
    server.add_user("team", "pw");
    let smtp = Smtp::start(&server.maildir("team", "INBOX"));

    let tcp = TcpStream::connect(("127.0.0.1", smtp.port)).expect("connect smtp");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(&tcp);
    let mut expect = |code: &str| loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("smtp reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    let send = |s: &str| (&tcp).write_all(s.as_bytes()).expect("smtp write");
    expect("220");
    send("EHLO test\r\n");
    expect("250");
    send("MAIL FROM:<security@example.org>\r\n");
    expect("250");
    send("RCPT TO:<reporter@example.net>\r\n");
    expect("250");
    send("DATA\r\n");
    expect("354");
    send("Subject: delivered\r\nMessage-ID: <smtp@x>\r\n\r\nhello\r\n.\r\n");
    expect("250");
    send("QUIT\r\n");

    assert_eq!(server.flags("team", "INBOX").len(), 1);
}
