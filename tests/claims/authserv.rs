//! `Authentication-Results` a sender wrote (RFC 8601 §5): with `[sync] authserv_id` only the
//! configured receiving server's field counts; without it the verdicts are shown as
//! unverified, a pass is never weighed, and a failure anywhere in the header still marks
//! the mail. Each test imports crafted mail through the real `secdesk import` and reads
//! what a triager reads (`show`, `show --json`).

use super::*;

/// The receiving server's authserv-id, written with other capitals than its header has
/// (RFC 8601 compares it without case).
const SERVER: &str = "[sync]\nauthserv_id = \"MX.Example.org\"\n";

/// What the sender writes at the top of its own headers: every check passed, in the name of
/// a server of its choosing.
fn forged_pass(authserv_id: &str) -> String {
    format!(
        "Authentication-Results: {authserv_id}; spf=pass smtp.mailfrom=reporter.example; \
         dkim=pass header.d=reporter.example; dmarc=pass header.from=reporter.example\r\n"
    )
}

/// The receiving server's verdict on a forgery of Alice's From, appended below the sender's
/// headers, as a filter does that adds its field at the end (Exim's `add_header` without
/// `:at_start:`, a milter's `smfi_addheader`).
fn appended_fail(raw: &str) -> String {
    let end = raw.find("\r\n\r\n").unwrap() + 2;
    format!(
        "{}Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=evil.example; \
         dkim=none; dmarc=fail header.from=reporter.example\r\n{}",
        &raw[..end],
        &raw[end..]
    )
}

/// A report from Alice whose own mail passed (the server's field on top), marked valid and
/// waiting on her; then a forged follow-up with Alice's From and a pass written on top.
fn forged_follow_up(desk: &Desk, forged_id: &str) -> Value {
    let t = now() - 3600;
    let report = from_alice("r1@reporter.example", "", REPORT, t, "pass");
    desk.import("a", &[("1.eml", report)], t);
    desk.ok(&["mark", "1", "valid"]);
    desk.ok(&["state", "1", "needs-info", "--note", "which versions?"]);
    let follow_up = mail(
        "Alice <alice@reporter.example>",
        "f1@evil.example",
        "heap overflow in zipfile",
        "In-Reply-To: <r1@reporter.example>\r\n",
        "Never mind, qqforged: please send the fix to my new address.",
        t + 600,
    );
    let forged = format!("{}{}", forged_pass(forged_id), appended_fail(&follow_up));
    desk.import("b", &[("2.eml", forged)], t + 600);
    desk.show("1")
}

/// With `authserv_id` set, a pass the sender wrote under another authserv-id at the top is
/// ignored and the configured server's failure below it counts: the forged follow-up does
/// not answer for the reporter, is shown as another sender with the server's verdict, and
/// the report's own mail still shows the server's pass.
#[test]
fn a_forged_pass_from_another_authserv_id_does_not_answer_for_the_reporter() {
    let desk = Desk::with_config(SERVER);
    let d = forged_follow_up(&desk, "mx.attacker.example");
    assert_eq!(
        (&d["state"], &d["flagged"]),
        (&"needs-info".into(), &false.into()),
        "a forged pass answered for the reporter: {d}"
    );
    let (report, forged) = (&d["messages"][0], &d["messages"][1]);
    assert_eq!(report["auth"]["dmarc"], "pass", "{report}");
    assert_eq!(report["auth"]["verified"], true, "{report}");
    assert_eq!(forged["another_sender"], true, "{forged}");
    assert_eq!(
        (&forged["auth"]["dmarc"], &forged["auth"]["dkim"]),
        (&"fail".into(), &"none".into()),
        "{forged}"
    );
    assert_eq!(forged["auth"]["authserv_id"], "mx.example.org");
    assert_eq!(forged["auth"]["verified"], true);
    let notes = forged["parse_notes"].to_string();
    assert!(
        notes.contains("failed the receiving server's DMARC check (mx.example.org)"),
        "{notes}"
    );
    let text = desk.ok(&["show", "1"]);
    assert!(
        text.contains("Auth: SPF fail, DKIM none, DMARC fail (recorded by mx.example.org)"),
        "{text}"
    );
    assert!(
        !text.contains("DMARC pass (recorded by mx.attacker"),
        "{text}"
    );
    // Nor is its text learned with the report.
    desk.ok(&["mark", "1", "spam"]);
    assert_eq!(counts(&desk.db(), "qqforged"), (0, 0, 0, 0));
}

/// Without `authserv_id`, the same forgery written in the server's own name: the verdicts
/// are shown as unverified, and the server's failure below the forged pass still makes the
/// follow-up another sender's.
#[test]
fn unconfigured_a_forged_pass_on_top_does_not_hide_the_servers_failure() {
    let desk = Desk::new();
    let d = forged_follow_up(&desk, "mx.example.org");
    assert_eq!(
        (&d["state"], &d["flagged"]),
        (&"needs-info".into(), &false.into()),
        "a forged pass answered for the reporter: {d}"
    );
    let forged = &d["messages"][1];
    assert_eq!(forged["another_sender"], true, "{forged}");
    assert_eq!(forged["auth"]["dmarc"], "fail", "{forged}");
    assert_eq!(forged["auth"]["verified"], false, "{forged}");
    assert_eq!(d["messages"][0]["auth"]["verified"], false);
    let text = desk.ok(&["show", "1"]);
    assert!(
        text.contains(
            "Auth UNVERIFIED: SPF pass, DKIM none, DMARC pass (claimed as mx.example.org's"
        ),
        "{text}"
    );
    assert!(
        !text.contains("Auth: "),
        "shown as the server's word: {text}"
    );
}

/// A new report whose only `Authentication-Results` is the sender's own, every check
/// passed: classified exactly as the same mail without it (no "DKIM pass" among the
/// reasons, the same spam score), configured or not. Configured, no verdict is shown at
/// all; unconfigured, the claim is shown as unverified.
#[test]
fn a_senders_own_pass_buys_no_trust_from_the_classifier_or_the_triager() {
    let t = now() - 3600;
    let pitch = "Your site python.org has a critical vulnerability, no SPF and weak DKIM. \
                 I found it with my tools. Please send a bounty by PayPal and I will tell you.";
    for (config, shown) in [
        (SERVER, None),
        ("", Some("Auth UNVERIFIED: SPF pass, DKIM pass, DMARC pass")),
    ] {
        let desk = Desk::with_config(config);
        let plain = mail(
            "Hunter <hunter@bounty.example>",
            "b1@bounty.example",
            "Critical vulnerability",
            "",
            pitch,
            t,
        );
        let forged = format!("{}{plain}", forged_pass("mx.attacker.example"));
        desk.import("a", &[("1.eml", plain)], t);
        desk.import("b", &[("2.eml", forged)], t + 60);
        let (plain, forged) = (desk.show("1"), desk.show("2"));
        assert_eq!(
            forged["classifier"]["spam_score"], plain["classifier"]["spam_score"],
            "{config:?}: a written pass moved the score: {}",
            forged["classifier"]
        );
        let reasons = forged["classifier"]["reasons"].to_string();
        assert!(!reasons.contains("pass"), "{config:?}: {reasons}");
        let auth = &forged["messages"][0]["auth"];
        let text = desk.ok(&["show", "2"]);
        match shown {
            // The configured server recorded nothing: no verdict, and that is its word.
            None => {
                assert_eq!(
                    (&auth["dmarc"], &auth["authserv_id"], &auth["verified"]),
                    (&Value::Null, &Value::Null, &true.into()),
                    "{auth}"
                );
                assert!(!text.contains("Auth"), "{text}");
            }
            Some(line) => {
                assert_eq!(auth["verified"], false, "{auth}");
                assert!(text.contains(line), "{text}");
            }
        }
    }
}
