//! `Authentication-Results` through a real sync from Dovecot: with `[sync] authserv_id` only
//! the named receiving server's field is shown as its verdict, and a field a sender wrote
//! under another authserv-id shows nothing; without the key the topmost field is shown as
//! unverified (src/core/parse/auth_results.rs).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::syncdesk::{SyncDesk, PASSWORD_VAR};
use support::{message, Dovecot};

const USER: &str = "security";
const PASSWORD: &str = "authserv-Pa55word";

fn desk(server: &Dovecot, sync: &str) -> SyncDesk {
    SyncDesk::new(
        &format!(
            "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"tls\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\nca_file = {ca:?}\n\n\
             [store]\npath = {{db}}\n\n\
             [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n\n\
             [sync]\n{sync}\n",
            port = server.imaps_port,
            ca = server.ca_file(),
        ),
        PASSWORD,
    )
}

fn ok(desk: &SyncDesk, args: &[&str]) -> String {
    let run = desk.run(args, Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
    run.stdout
}

fn auth(desk: &SyncDesk, report: &str) -> Value {
    let show: Value = serde_json::from_str(&ok(desk, &["show", report, "--json"])).unwrap();
    show["messages"][0]["auth"].clone()
}

#[test]
fn only_the_configured_servers_verdict_is_shown_after_a_sync() {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    let with = |field: &str, id: &str, subject: &str| {
        let mut raw = format!("Authentication-Results: {field}\r\n").into_bytes();
        raw.extend(message(
            id,
            subject,
            "heap overflow in zipfile, reproducer attached",
        ));
        raw
    };
    server.append_all(
        USER,
        "INBOX",
        &[
            // The sender's own field, in a name of its choosing; the server added none.
            with(
                "mx.attacker.example; spf=pass; dkim=pass; dmarc=pass",
                "forged@reporter.test",
                "forged",
            ),
            // The receiving server's.
            with("MX.example.org; dmarc=pass", "real@reporter.test", "real"),
        ],
    );

    let configured = desk(&server, "authserv_id = \"mx.example.org\"");
    ok(&configured, &["sync"]);
    let forged = auth(&configured, "1");
    assert_eq!(
        (&forged["dmarc"], &forged["dkim"], &forged["verified"]),
        (&Value::Null, &Value::Null, &true.into()),
        "{forged}"
    );
    let real = auth(&configured, "2");
    assert_eq!(
        (&real["dmarc"], &real["authserv_id"], &real["verified"]),
        (&"pass".into(), &"mx.example.org".into(), &true.into()),
        "{real}"
    );
    assert!(!ok(&configured, &["show", "1"]).contains("pass"));
    assert!(
        ok(&configured, &["show", "2"]).contains("Auth: DMARC pass (recorded by mx.example.org)")
    );

    let unconfigured = desk(&server, "");
    ok(&unconfigured, &["sync"]);
    let forged = auth(&unconfigured, "1");
    assert_eq!(
        (&forged["dmarc"], &forged["verified"]),
        (&"pass".into(), &false.into()),
        "{forged}"
    );
    let text = ok(&unconfigured, &["show", "1"]);
    assert!(
        text.contains(
            "Auth UNVERIFIED: SPF pass, DKIM pass, DMARC pass (claimed as mx.attacker.example's"
        ),
        "{text}"
    );
}
