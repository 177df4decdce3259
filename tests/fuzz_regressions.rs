//! Replays every input the fuzzers ever crashed on (kept under `tests/fixtures/fuzz/TARGET/`)
//! plus the hostile-mail fixtures, through the same entry points the fuzz targets use. Each
//! entry point asserts its own properties: sanitized text is terminal-safe, saved file names
//! stay inside their folder, and nothing panics.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn crashers_and_hostile_mail_replay_cleanly() {
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    let mut mbox = Vec::new();
    let mut replayed = 0;
    for entry in std::fs::read_dir(hostile).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        secdesk::fuzzing::parse_message(&data);
        secdesk::fuzzing::pgp_mime(&data);
        mbox.extend_from_slice(b"From x@example.org Mon Nov  2 10:00:00 2026\n");
        mbox.extend_from_slice(&data);
        mbox.push(b'\n');
        replayed += 1;
    }
    assert!(replayed >= 7, "the hostile fixtures are missing");
    secdesk::fuzzing::import_mbox(&mbox);
    // The shipped templates: the replies' and, in reject/, the held queue's reject reasons.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates");
    for dir in [shipped.clone(), shipped.join("reject")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                secdesk::fuzzing::template(&std::fs::read(path).unwrap());
            }
        }
    }
    // The shipped rule file is the rules target's main seed; it must parse and run.
    secdesk::fuzzing::rules(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rules.toml")).unwrap(),
    );
    for target in [
        "parse_message",
        "import_mbox",
        "config",
        "template",
        "rules",
        "pgp_mime",
    ] {
        for (name, data) in inputs(target) {
            println!("replaying {target}/{name}");
            match target {
                "parse_message" => secdesk::fuzzing::parse_message(&data),
                "import_mbox" => secdesk::fuzzing::import_mbox(&data),
                "template" => secdesk::fuzzing::template(&data),
                "rules" => secdesk::fuzzing::rules(&data),
                "pgp_mime" => secdesk::fuzzing::pgp_mime(&data),
                _ => secdesk::fuzzing::config(&data),
            }
        }
    }
}
