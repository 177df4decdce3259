//! A reader that stops early (`secdesk list | head -1`): every read command ends quietly
//! with status 0, as `ls | head` does.

use std::process::{Command, Stdio};

use crate::desk::{reports, stderr, Desk};

/// The read commands, with output long enough to overflow a pipe.
const READ_COMMANDS: &[&[&str]] = &[
    &["list"],
    &["list", "--json"],
    &["list", "--csv"],
    &["show", "5"],
    &["show", "5", "--json"],
    &["log", "5"],
    &["log", "5", "--json"],
    &["stats"],
    &["stats", "--format", "csv"],
    &["stats", "--json"],
    &["outbox", "--json"],
    &["check"],
];

/// 1,500 reports (a `list` of some 150 KB), #5 with a body of some 120 KB.
fn desk() -> Desk {
    let desk = Desk::new();
    let mut mails = reports(1500, "short");
    mails[4] = mails[4].replace("short", &"a line of the proof of concept\r\n".repeat(4000));
    desk.import_ok(&mails);
    for i in 0..30 {
        desk.ok(&["note", "5", &format!("note {i}")]);
    }
    desk
}

#[test]
fn every_read_command_ends_quietly_when_the_reader_is_gone() {
    let desk = desk();
    for args in READ_COMMANDS {
        // The reader is gone before the first byte: the very first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = desk
            .command(args)
            .stdout(Stdio::from(writer))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?} said: {}", stderr(&out));
    }
}

#[test]
fn head_takes_the_first_lines_and_secdesk_exits_0() {
    let desk = desk();
    for (args, n) in [
        (&["list"][..], 1),
        (&["show", "5"], 2),
        (&["stats"], 2),
        (&["list", "--json"], 1),
    ] {
        let line = format!(
            "{} --config {} {} | head -{n}; echo \"status=${{PIPESTATUS[0]}}\"",
            env!("CARGO_BIN_EXE_secdesk"),
            desk.dir.path().join("config.toml").display(),
            args.join(" ")
        );
        let out = Command::new("bash").args(["-c", &line]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n + 1, "{args:?}: {text}");
        assert_eq!(lines[n], "status=0", "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?} said: {}", stderr(&out));
    }
}
