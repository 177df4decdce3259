//! The config unit tests: documented defaults, refusals naming their key, the private-file
//! rule for inline passwords, Mailman keys and loopback detection.

use super::*;

const MINIMAL: &str = r#"
[imap]
host = "mail.example.org"
username = "security"
password_command = ["pass", "show", "mail/security"]

[identity]
name = "Ada"
email = "ada@example.org"
"#;

#[test]
fn several_mailboxes_replace_the_single_one_and_are_checked() {
    let text = MINIMAL.replace(
        "username = \"security\"",
        "username = \"security\"\nmailboxes = [\"INBOX\", \"Moderation\"]",
    );
    let c = Config::parse(&text, Path::new("/etc/x/config.toml")).unwrap();
    let names = c.imap.unwrap().sync_mailboxes();
    assert_eq!(names, vec!["INBOX".to_string(), "Moderation".to_string()]);
    let twice = MINIMAL.replace(
        "username = \"security\"",
        "username = \"security\"\nmailboxes = [\"INBOX\", \"INBOX\"]",
    );
    let err = Config::parse(&twice, Path::new("/etc/x/config.toml")).unwrap_err();
    assert!(err.to_string().contains("lists \"INBOX\" twice"), "{err}");
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = Config::parse(MINIMAL, Path::new("/etc/x/config.toml")).unwrap();
    let imap = c.imap.unwrap();
    assert_eq!(imap.port, 993);
    assert_eq!(imap.security, Security::Tls);
    assert_eq!(imap.mailbox, "INBOX");
    assert_eq!(imap.sync_mailboxes(), vec!["INBOX".to_string()]);
    assert_eq!(c.clocks.acknowledge_days, 2.0);
    assert_eq!(c.clocks.triage_days, 10.0);
    assert_eq!(c.clocks.close_days, 90.0);
}

#[test]
fn misspelt_key_names_file_line_and_key() {
    let text = MINIMAL.replace("host =", "hots =");
    let err = Config::parse(&text, Path::new("/etc/x/config.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/etc/x/config.toml"), "{err}");
    assert!(err.contains("hots"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("config.example.toml"), "{err}");
}

#[test]
fn missing_key_is_named() {
    let text = MINIMAL.replace("username = \"security\"\n", "");
    let err = Config::parse(&text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("username"), "{err}");
}

#[test]
fn type_errors_name_the_key_in_plain_words_and_misspellings_get_a_suggestion() {
    let err = |text: &str| {
        Config::parse(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string()
    };
    let port = err(&MINIMAL.replace("[imap]\n", "[imap]\nport = \"993\"\n"));
    assert!(port.contains("line 3: key `imap.port`"), "{port}");
    assert!(
        port.contains("expected a whole number from 0 to 65535"),
        "{port}"
    );
    assert!(!port.contains("u16"), "{port}");
    // Out of its type's range: the range it takes (not "0 or more", wrong for a value too large).
    let poll = err(&format!("{MINIMAL}\n[sync]\npoll_seconds = -5\n"));
    assert!(
        poll.contains("key `sync.poll_seconds`")
            && poll.contains("expected a whole number from 0 to 18446744073709551615"),
        "{poll}"
    );
    let list = err(&MINIMAL.replace("[imap]\n", "[imap]\nmailboxes = \"INBOX\"\n"));
    assert!(
        list.contains("key `imap.mailboxes`") && list.contains("expected a list"),
        "{list}"
    );
    let typo = err(&MINIMAL.replace("password_command =", "pasword_command ="));
    assert!(
        typo.contains("unknown key `imap.pasword_command`: did you mean `password_command`?"),
        "{typo}"
    );
    let far = err(&MINIMAL.replace("username =", "colour ="));
    assert!(
        far.contains("unknown key `imap.colour`") && !far.contains("did you mean"),
        "{far}"
    );
    let missing = err(&MINIMAL.replace("email = \"ada@example.org\"\n", ""));
    assert!(
        missing.contains("key `identity.email` is missing: add it to [identity]"),
        "{missing}"
    );
    // A list entry lacking a key is not a missing section.
    let entry = err(&format!(
        "{MINIMAL}[team]\nmembers = [{{ name = \"Bob\" }}]\n"
    ));
    assert!(
        entry.contains("key `email` is missing in this entry of `team.members`"),
        "{entry}"
    );
    let folded = err(&format!(
        "{MINIMAL}[team]\nmembers = [\n  {{ name = \"Bob\" }},\n]\n"
    ));
    assert!(
        folded.contains("key `email` is missing in this entry"),
        "{folded}"
    );
    assert!(!folded.contains("section"), "{folded}");
    let no_identity = err("# a comment\n[store]\npath = \"/tmp/x.db\"\n");
    assert!(
        no_identity.contains("section [identity] is missing"),
        "{no_identity}"
    );
    // A file whose first byte opens a section: a missing section is still a section, not a
    // key of that first one, and a key missing from that first section is still named.
    let first = MINIMAL.trim_start();
    let at_top = err(&first.replace(
        "[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n",
        "",
    ));
    assert!(at_top.contains("section [identity] is missing"), "{at_top}");
    assert!(!at_top.contains("imap.identity"), "{at_top}");
    let key_at_top = err(&first.replace("host = \"mail.example.org\"\n", ""));
    assert!(
        key_at_top.contains("line 1: key `imap.host` is missing: add it to [imap]"),
        "{key_at_top}"
    );
}

#[test]
fn plain_is_refused_off_loopback() {
    let text = MINIMAL.replace("[imap]\n", "[imap]\nsecurity = \"plain\"\nport = 143\n");
    let err = Config::parse(&text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("imap.security"), "{err}");
    let text = text.replace("mail.example.org", "127.0.0.1");
    assert!(Config::parse(&text, Path::new("c.toml")).is_ok());
}

#[test]
fn missing_password_source_says_how_to_fix() {
    let text = MINIMAL.replace(
        "password_command = [\"pass\", \"show\", \"mail/security\"]\n",
        "",
    );
    let err = Config::parse(&text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("imap.password_command"), "{err}");
}

#[test]
fn a_password_beside_an_oauth2_login_is_refused_not_ignored() {
    let text = MINIMAL.replace(
        "password_command = [",
        "auth = \"xoauth2\"\noauth2_token_command = [\"get-token\"]\npassword_command = [",
    );
    let err = Config::parse(&text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("imap.password_command") && err.contains("xoauth2") && err.contains("remove"),
        "{err}"
    );
    let token_only = text.replace(
        "password_command = [\"pass\", \"show\", \"mail/security\"]\n",
        "",
    );
    assert!(Config::parse(&token_only, Path::new("c.toml")).is_ok());
}

#[test]
fn inline_password_needs_a_private_file_and_never_prints() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = MINIMAL.replace(
        "password_command = [\"pass\", \"show\", \"mail/security\"]",
        "password = \"correct horse battery\"",
    );
    std::fs::write(&path, &text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains("correct horse"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = Config::load(&path).unwrap();
    assert!(!format!("{c:?}").contains("correct horse"));
    assert_eq!(
        c.imap.unwrap().password.unwrap().expose(),
        "correct horse battery"
    );
}

const MAILMAN: &str = r#"
[mailman]
rest_url = "http://127.0.0.1:8001/3.1"
username = "restadmin"
password_env = "MAILMAN_PASS"
lists = ["security@python.org"]
"#;

#[test]
fn mailman_section_parses_and_names_bad_keys() {
    let c = Config::parse(&format!("{MINIMAL}{MAILMAN}"), Path::new("c.toml")).unwrap();
    let m = c.mailman.unwrap();
    assert_eq!(m.rest_url, "http://127.0.0.1:8001/3.1");
    assert_eq!(m.lists, ["security@python.org"]);
    for (from, to, key) in [
        (
            "http://127.0.0.1",
            "http://lists.python.org",
            "mailman.rest_url",
        ),
        (
            "http://127.0.0.1:8001/3.1",
            "127.0.0.1:8001",
            "mailman.rest_url",
        ),
        ("[\"security@python.org\"]", "[]", "mailman.lists"),
        ("[\"security@python.org\"]", "[\"a/b\"]", "mailman.lists"),
        (
            "password_env = \"MAILMAN_PASS\"\n",
            "",
            "mailman.password_command",
        ),
        (
            "username = \"restadmin\"",
            "username = \" \"",
            "mailman.username",
        ),
    ] {
        let text = format!("{MINIMAL}{}", MAILMAN.replace(from, to));
        let err = Config::parse(&text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{from} -> {to}: {err}");
    }
    let https = MAILMAN.replace("http://127.0.0.1:8001", "https://lists.python.org");
    assert!(Config::parse(&format!("{MINIMAL}{https}"), Path::new("c.toml")).is_ok());
    let missing = MAILMAN.replace("lists = [\"security@python.org\"]\n", "");
    let err = Config::parse(&format!("{MINIMAL}{missing}"), Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lists"), "{err}");
}

#[test]
fn loopback_detection() {
    assert!(is_loopback("localhost"));
    assert!(is_loopback("127.0.0.1"));
    assert!(is_loopback("127.3.2.1"));
    assert!(is_loopback("::1"));
    assert!(!is_loopback("mail.example.org"));
    assert!(!is_loopback("10.0.0.1"));
}

#[test]
fn numbers_out_of_range_are_refused_naming_key_and_range() {
    // Each of these once passed the config and then panicked at the first
    // `Instant + Duration` or chrono duration ("overflow when adding duration to instant",
    // "TimeDelta::seconds out of bounds"), or silently meant 1 s.
    let cases = [
        (
            "[sync]\ndeadline_seconds = 18446744073709551615",
            "sync.deadline_seconds",
        ),
        (
            "[sync]\ntimeout_seconds = 9223372036854775807",
            "sync.timeout_seconds",
        ),
        ("[sync]\ntimeout_seconds = 0", "sync.timeout_seconds"),
        ("[sync]\ndeadline_seconds = 0", "sync.deadline_seconds"),
        ("[sync]\npoll_seconds = 0", "sync.poll_seconds"),
        ("[sync]\nmax_message_bytes = 0", "sync.max_message_bytes"),
        (
            "[clocks]\nacknowledge_days = 1e300",
            "clocks.acknowledge_days",
        ),
    ];
    for (extra, key) in cases {
        let text = format!("{MINIMAL}\n{extra}\n");
        let err = Config::parse(&text, Path::new("/etc/x/config.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{extra}: {err}");
        assert!(
            err.contains("out of range") || err.contains("at most"),
            "{extra}: {err}"
        );
    }
    let command = MINIMAL.replace(
        "username = \"security\"",
        "username = \"security\"\npassword_command_timeout_seconds = 18446744073709551615",
    );
    let err = Config::parse(&command, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`imap.password_command_timeout_seconds` = 18446744073709551615 is out of range: give a whole number from 1 to 86400"),
        "{err}"
    );
    let fine = format!("{MINIMAL}\n[sync]\ntimeout_seconds = 86400\ndeadline_seconds = 1\n");
    assert!(Config::parse(&fine, Path::new("c.toml")).is_ok());
}

#[test]
fn a_section_or_key_given_twice_is_named() {
    // Before, both said only "line N: duplicate key".
    let twice = format!("{MINIMAL}\n[sync]\ntimeout_seconds = 10\n[sync]\ndeadline_seconds = 5\n");
    let err = Config::parse(&twice, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    let first = twice.lines().position(|l| l == "[sync]").unwrap() + 1;
    assert!(
        err.contains(&format!(
            "section [sync] is given twice (first on line {first}): put its keys under one [sync]"
        )),
        "{err}"
    );
    let key = format!("{MINIMAL}\n[sync]\ntimeout_seconds = 10\ntimeout_seconds = 20\n");
    let err = Config::parse(&key, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    let first = key
        .lines()
        .position(|l| l == "timeout_seconds = 10")
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(
            "line {}: key `sync.timeout_seconds` is given twice (first on line {first}): keep one",
            first + 1
        )),
        "{err}"
    );
}

#[test]
fn an_unknown_section_is_named_as_a_section() {
    let text = format!("{MINIMAL}\n[smpt]\nhost = \"x\"\n");
    let err = Config::parse(&text, Path::new("/etc/x/config.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown section [smpt]: did you mean `smtp`?"),
        "{err}"
    );
    assert!(!err.contains("smpt.smpt"), "{err}");
}

#[test]
fn a_plaintext_greeting_awaited_on_a_tls_port_is_refused_before_connecting() {
    // On 993 the server waits for a TLS hello and never greets: before, each sync waited
    // timeout_seconds and then blamed the network ("did not answer within 30 s while
    // waiting for the greeting").
    let starttls = MINIMAL.replace(
        "username = \"security\"",
        "username = \"security\"\nsecurity = \"starttls\"\nport = 993",
    );
    let err = Config::parse(&starttls, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`imap.security` = \"starttls\" does not fit `imap.port` = 993")
            && err.contains("use security = \"tls\", or the server's STARTTLS (143) port"),
        "{err}"
    );
    let on_143 = starttls.replace("port = 993", "port = 143");
    assert!(Config::parse(&on_143, Path::new("c.toml")).is_ok());
    let smtp = format!(
        "{MINIMAL}\n[smtp]\nhost = \"mail.example.org\"\nport = 465\nsecurity = \"starttls\"\n"
    );
    let err = Config::parse(&smtp, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`smtp.port` = 465") && err.contains("submission (587)"),
        "{err}"
    );
}

#[test]
fn addresses_hosts_and_the_store_path_are_checked_when_read() {
    // Each was accepted before: a bad address surfaced only as a refused reply, a host
    // with a port as "plaintext is only allowed on loopback", an empty store path as
    // "cannot open the store : No such file or directory".
    let cases = [
        (
            "[team]\naddress = \"security\"\n",
            "`team.address` = \"security\" is not an email address",
        ),
        ("[reply]\ncc = \"team at example.org\"\n", "`reply.cc`"),
        (
            "[team]\nmembers = [{ name = \"Al\", email = \"al\" }]\n",
            "`team.members[1].email` = \"al\" is not an email address",
        ),
        ("[store]\npath = \"\"\n", "`store.path` is empty"),
    ];
    for (extra, expected) in cases {
        let err = Config::parse(&format!("{MINIMAL}{extra}"), Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{extra}: {err}");
    }
    for host in [
        "127.0.0.1:993",
        "imaps://mail.example.org",
        "mail example.org",
        "",
    ] {
        let text = MINIMAL.replace("mail.example.org", host);
        let err = Config::parse(&text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`imap.host`"), "{host}: {err}");
    }
    for fine in ["::1", "[::1]", "mail.example.org"] {
        let text = MINIMAL.replace("mail.example.org", fine);
        assert!(Config::parse(&text, Path::new("c.toml")).is_ok(), "{fine}");
    }
    let no_copy = format!("{MINIMAL}[reply]\ncc = \"\"\n");
    assert!(Config::parse(&no_copy, Path::new("c.toml")).is_ok());
}

#[test]
fn a_section_without_a_port_gets_the_standard_one_for_its_security() {
    let port = |imap: &str, smtp: &str| {
        let text = format!(
            "{}\n[smtp]\nhost = \"mail.example.org\"\n{smtp}\n",
            MINIMAL.replace(
                "username = \"security\"",
                &format!("username = \"security\"\n{imap}")
            )
        );
        let c = Config::parse(&text, Path::new("c.toml")).unwrap();
        (c.imap.unwrap().port, c.smtp.unwrap().port)
    };
    assert_eq!(port("", ""), (993, 465));
    assert_eq!(
        port("security = \"starttls\"", "security = \"starttls\""),
        (143, 587)
    );
    assert_eq!(
        port("security = \"tls\"\nport = 1993", "port = 2465"),
        (1993, 2465)
    );
}

#[test]
fn gnupg_home_is_taken_from_the_config_folder_with_home_expanded() {
    let home = |value: &str| {
        let text = format!("{MINIMAL}\n[pgp]\ngnupg_home = {value:?}\n");
        let c = Config::parse(&text, Path::new("/etc/x/config.toml")).unwrap();
        c.pgp.unwrap().gnupg_home
    };
    assert_eq!(home("keyring"), Path::new("/etc/x/keyring"));
    assert_eq!(home("../keys/team"), Path::new("/etc/x/../keys/team"));
    assert_eq!(home("/srv/gnupg"), Path::new("/srv/gnupg"));
    assert_eq!(
        home("~/.gnupg-team"),
        paths::expand_home(Path::new("~/.gnupg-team"))
    );
    assert!(!home("~/.gnupg-team").starts_with("/etc/x"));
}

#[test]
fn ca_file_is_taken_from_the_config_folder_with_home_expanded() {
    let ca = |value: &str| {
        let text = format!(
            "{}\n[smtp]\nhost = \"mail.example.org\"\nca_file = {value:?}\n",
            MINIMAL.replace(
                "username = \"security\"",
                &format!("username = \"security\"\nca_file = {value:?}")
            )
        );
        let c = Config::parse(&text, Path::new("/etc/x/config.toml")).unwrap();
        (
            c.imap.unwrap().ca_file.unwrap(),
            c.smtp.unwrap().ca_file.unwrap(),
        )
    };
    let (imap, smtp) = ca("ca.pem");
    assert_eq!(imap, Path::new("/etc/x/ca.pem"));
    assert_eq!(smtp, Path::new("/etc/x/ca.pem"));
    assert_eq!(ca("/srv/ca.pem").0, Path::new("/srv/ca.pem"));
    // "~/…" was joined to the config's folder as it stood: /etc/x/~/ca.pem.
    let (home, _) = ca("~/ca.pem");
    assert_eq!(home, paths::expand_home(Path::new("~/ca.pem")));
    assert!(!home.starts_with("/etc/x"), "{}", home.display());
}

#[test]
fn the_stats_zone_is_read_with_the_config_and_a_misspelt_one_refused() {
    let path = Path::new("/etc/x/config.toml");
    let c = Config::parse(
        &format!("{MINIMAL}\n[stats]\ntime_zone = \"europe/berlin\"\n"),
        path,
    )
    .unwrap();
    assert_eq!(c.stats_zone().name(), "Europe/Berlin");
    assert_eq!(
        Config::parse(MINIMAL, path).unwrap().stats_zone().name(),
        "UTC"
    );
    let err = Config::parse(
        &format!("{MINIMAL}\n[stats]\ntime_zone = \"Europe/Amsterdamm\"\n"),
        path,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("key `stats.time_zone`")
            && err.contains("\"Europe/Amsterdamm\" is not a time zone"),
        "{err}"
    );
}

#[test]
fn authserv_id_is_one_string_or_a_list_and_a_bad_one_is_named() {
    let one = format!("{MINIMAL}\n[sync]\nauthserv_id = \" MX.Python.org \"\n");
    let c = Config::parse(&one, Path::new("c.toml")).unwrap();
    assert_eq!(c.sync.trusted_authserv_ids(), ["mx.python.org"]);
    let many =
        format!("{MINIMAL}\n[sync]\nauthserv_id = [\"mx1.python.org\", \"mx2.python.org\"]\n");
    let c = Config::parse(&many, Path::new("c.toml")).unwrap();
    assert_eq!(
        c.sync.trusted_authserv_ids(),
        ["mx1.python.org", "mx2.python.org"]
    );
    let unset = Config::parse(MINIMAL, Path::new("c.toml")).unwrap();
    assert!(unset.sync.trusted_authserv_ids().is_empty());
    for (value, says) in [
        ("\"mx.python.org; dkim=pass\"", "is not an authserv-id"),
        ("\"\"", "is not an authserv-id"),
        (
            "[\"mx.python.org\", \"two words\"]",
            "is not an authserv-id",
        ),
        ("7", "as a string"),
    ] {
        let text = format!("{MINIMAL}\n[sync]\nauthserv_id = {value}\n");
        let err = Config::parse(&text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sync.authserv_id") || err.contains("authserv_id"),
            "{value}: {err}"
        );
        assert!(err.contains(says), "{value}: {err}");
    }
}
