//! `secdesk sync` against a real Dovecot: mail added while the desk syncs, checked against
//! the server's own UID list; mailbox names in modified UTF-7; several mailboxes with a
//! cursor each and reports threaded across them; a 60 MB message kept as headers and a
//! note, in bounded memory.

mod support;

use std::time::Duration;

use support::measure::Measured;
use support::syncdesk::{SyncDesk, PASSWORD_VAR};
use support::{message, reply, Dovecot, Smtp};

const USER: &str = "security";
const PASSWORD: &str = "mailboxes-Pa55word";
const HARD_DEADLINE: Duration = Duration::from_secs(120);

/// A desk syncing from `server` over IMAPS.
struct Desk(SyncDesk);

impl Desk {
    fn new(server: &Dovecot, imap_extra: &str) -> Desk {
        Desk(SyncDesk::new(
            &format!(
                "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"tls\"\n\
                 username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\nca_file = {ca:?}\n\
                 {imap_extra}\n\n[store]\npath = {{db}}\n\n\
                 [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n",
                port = server.imaps_port,
                ca = server.ca_file(),
            ),
            PASSWORD,
        ))
    }

    fn sync_ok(&self, server: &Dovecot) -> Measured {
        let run = self.0.sync(HARD_DEADLINE, 200.0);
        assert_eq!(run.code, Some(0), "{run:?}\n{}", server.log_tail());
        run
    }

    fn report_of(&self, message_id: &str) -> i64 {
        self.conn()
            .query_row(
                "SELECT report_id FROM messages WHERE message_id IN (?1, ?2)",
                [message_id.to_string(), format!("<{message_id}>")],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("message {message_id} not stored: {e}"))
    }
}

impl std::ops::Deref for Desk {
    type Target = SyncDesk;
    fn deref(&self) -> &SyncDesk {
        &self.0
    }
}

fn server() -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server
}

/// The server's own UID list for `wire_name`, read with a separate session.
fn server_uids(server: &Dovecot, wire_name: &str) -> Vec<u32> {
    server
        .flags(USER, wire_name)
        .into_iter()
        .map(|(uid, _)| uid)
        .collect()
}

#[test]
fn mail_added_while_the_desk_syncs_is_all_stored_as_the_server_lists_it() {
    let server = server();
    let first: Vec<Vec<u8>> = (0..40)
        .map(|i| message(&format!("a{i}@x"), &format!("report {i}"), "body"))
        .collect();
    server.append_all(USER, "INBOX", &first);
    let desk = Desk::new(&server, "mailbox = \"INBOX\"");

    // Another client delivers 60 more while the desk syncs again and again.
    let more: Vec<Vec<u8>> = (0..60)
        .map(|i| message(&format!("b{i}@x"), &format!("late report {i}"), "body"))
        .collect();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for raw in &more {
                server.append(USER, "INBOX", raw);
                std::thread::sleep(Duration::from_millis(15));
            }
        });
        while !writer.is_finished() {
            let run = desk.sync_ok(&server);
            assert!(run.stderr.is_empty(), "{run:?}");
        }
    });
    desk.sync_ok(&server);
    let listed = server_uids(&server, "INBOX");
    assert_eq!(listed.len(), 100);
    assert_eq!(
        desk.uids("INBOX"),
        listed,
        "the store holds exactly the server's UIDs"
    );
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
    let run = desk.sync_ok(&server);
    assert!(
        run.stdout.starts_with("fetched 0 new messages"),
        "{}",
        run.stdout
    );
}

#[test]
fn mailboxes_named_in_utf8_are_synced_through_modified_utf7() {
    let server = server();
    // Created and filled by their wire names, independently of the code under test.
    server.create_mailbox(USER, "S&AOk-curit&AOk-");
    let mail: Vec<Vec<u8>> = (0..3)
        .map(|i| message(&format!("s{i}@x"), &format!("faille {i}"), "corps"))
        .collect();
    server.append_all(USER, "S&AOk-curit&AOk-", &mail);
    let desk = Desk::new(&server, "mailbox = \"Sécurité\"");
    let run = desk.sync_ok(&server);
    assert!(
        run.stdout.starts_with("fetched 3 new messages"),
        "{}",
        run.stdout
    );
    assert_eq!(
        desk.uids("Sécurité"),
        server_uids(&server, "S&AOk-curit&AOk-")
    );
    let cursor: u32 = desk
        .conn()
        .query_row(
            "SELECT last_uid FROM mailbox_state WHERE mailbox = 'Sécurité'",
            [],
            |r| r.get(0),
        )
        .expect("the cursor is kept under the name as configured");
    assert_eq!(cursor, 3);
}

#[test]
fn several_mailboxes_have_a_cursor_each_and_reports_thread_across_them() {
    let server = server();
    server.create_mailbox(USER, "Moderation");
    server.append(USER, "INBOX", &message("root@x", "XSS in login", "details"));
    server.append_all(
        USER,
        "Moderation",
        &[
            reply("answer@x", "root@x", "Re: XSS in login", "more details"),
            message("other@x", "held for moderation", "spam?"),
        ],
    );
    let desk = Desk::new(&server, "mailboxes = [\"INBOX\", \"Moderation\"]");
    let run = desk.sync_ok(&server);
    assert!(
        run.stdout
            .starts_with("fetched 3 new messages, 2 new reports"),
        "{}",
        run.stdout
    );
    assert_eq!(
        desk.report_of("answer@x"),
        desk.report_of("root@x"),
        "threaded across mailboxes"
    );
    assert_ne!(desk.report_of("other@x"), desk.report_of("root@x"));
    let cursors: Vec<(String, u32)> = {
        let conn = desk.conn();
        let mut stmt = conn
            .prepare("SELECT mailbox, last_uid FROM mailbox_state ORDER BY mailbox")
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    };
    assert_eq!(
        cursors,
        vec![("INBOX".to_string(), 1), ("Moderation".to_string(), 2)]
    );

    server.append(USER, "Moderation", &message("third@x", "another", "x"));
    let run = desk.sync_ok(&server);
    assert!(
        run.stdout.starts_with("fetched 1 new message,"),
        "{}",
        run.stdout
    );
    assert_eq!(desk.uids("Moderation"), server_uids(&server, "Moderation"));
    assert_eq!(desk.uids("INBOX"), server_uids(&server, "INBOX"));
}

#[test]
fn a_60_mb_message_is_kept_as_headers_and_a_note_in_bounded_memory() {
    let server = server();
    let mut big = message("big@x", "crash dump attached", "see attachment").to_vec();
    big.truncate(big.len() - 2);
    big.extend(
        std::iter::repeat_n(
            b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
                .as_slice(),
            60 * 1024 * 1024 / 74,
        )
        .flatten(),
    );
    let small = message("small@x", "small report", "x");
    server.write_maildir(USER, "INBOX", &[small, big.clone()]);
    let desk = Desk::new(&server, "mailbox = \"INBOX\"");
    let run = desk.sync_ok(&server);
    assert!(
        run.stdout.contains("(1 too large, stored as headers only)"),
        "{}",
        run.stdout
    );
    assert!(
        run.peak_rss_mib < 200.0,
        "peak RSS {:.0} MiB",
        run.peak_rss_mib
    );
    eprintln!(
        "60 MB message: peak RSS {:.0} MiB, {:?}",
        run.peak_rss_mib, run.elapsed
    );
    let (body, raw_len): (String, i64) = desk
        .conn()
        .query_row(
            "SELECT secdesk_body(body, pgp, raw), length(raw) FROM messages WHERE subject = 'crash dump attached'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the big message is stored");
    assert!(
        body.contains(&format!(
            "too large, {} bytes, kept on the server",
            big.len()
        )),
        "{body}"
    );
    assert!(
        raw_len < 10_000,
        "only the headers are stored: {raw_len} bytes"
    );
    assert_eq!(
        desk.uids("INBOX"),
        server_uids(&server, "INBOX"),
        "its UID counts as done"
    );
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
}

#[test]
fn a_reply_is_filed_in_a_sent_mailbox_named_in_utf8() {
    let server = server();
    server.add_user("reporter", PASSWORD);
    server.append(
        USER,
        "INBOX",
        &message("r1@reporter.example", "tarfile escape", "details"),
    );
    let smtp = Smtp::start(&server.maildir("reporter", "INBOX"));
    let desk = Desk::new(&server, "mailbox = \"INBOX\"");
    let config = desk.config();
    let mut text = std::fs::read_to_string(&config).expect("read config");
    text.push_str(&format!(
        "\n[team]\naddress = \"security@example.org\"\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\n\
         [reply]\nsent_mailbox = \"Envoyés\"\n",
        smtp.port
    ));
    std::fs::write(&config, text).expect("write config");
    desk.sync_ok(&server);

    let run = desk.run(
        &[
            "reply",
            "1",
            "--template",
            "acknowledge",
            "--no-edit",
            "--yes",
        ],
        HARD_DEADLINE,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stdout.contains("could not be filed"), "{}", run.stdout);
    // Read back by its wire name, independently of the code under test.
    assert_eq!(
        server_uids(&server, "Envoy&AOk-s").len(),
        1,
        "filed in Envoyés"
    );
}
