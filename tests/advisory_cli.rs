//! Advisory fields and exports (issue 15), run as the real binary against a temporary config
//! and database seeded with `secdesk import` of `tests/fixtures/triage/inbox` (report #1 is the
//! traversal report).
//!
//! Exports are checked with real validators installed from PyPI into `.venv-tests/` by
//! `scripts/test`: cvelib's `cve validate` for CVE records, the `jsonschema` package with
//! the official OSV schema (`tests/schemas/osv/schema.json`, Apache-2.0, from ossf/osv-schema),
//! and githubkit's pydantic model of GitHub's create-repository-advisory body (generated from
//! GitHub's REST description) for GHSA bodies.
//! Without that virtualenv those checks print a plain skip.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const V4: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
const ORG: &str = "28c92f92-d60d-412d-b760-e73465c3df22";

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[store]\npath = \"{}\"\n[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n\
             [advisory]\ncna_org_id = \"{ORG}\"\n",
            dir.path().join("secdesk.db").display()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let desk = Desk { dir };
        desk.import_inbox();
        desk
    }

    /// Imports the fixture inbox as an archive whose files' mtimes are their Date headers
    /// (import checks each Date against the file's time, issue 11).
    fn import_inbox(&self) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/triage/inbox");
        let to = self.dir.path().join("inbox");
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let raw = std::fs::read(&path).unwrap();
            let (headers, _) = mailparse::parse_headers(&raw).unwrap();
            let date = mailparse::MailHeaderMap::get_first_value(&headers[..], "Date")
                .and_then(|d| mailparse::dateparse(&d).ok())
                .unwrap();
            let copy = to.join(path.file_name().unwrap());
            std::fs::write(&copy, &raw).unwrap();
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date as u64);
            let file = std::fs::File::options().write(true).open(&copy).unwrap();
            file.set_modified(when).unwrap();
        }
        self.ok(&["import", to.to_str().unwrap()]);
    }

    fn run_with(&self, args: &[&str], editor: Option<&Path>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env_remove("VISUAL")
            .env("TMPDIR", self.dir.path())
            .stdin(Stdio::null());
        if let Some(e) = editor {
            c.env("EDITOR", e);
        }
        c.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run_with(args, None);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with(args, None);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// `export ID --format FORMAT --out NAME`: the file's path and its JSON.
    fn export_to(&self, id: &str, format: &str, name: &str) -> (PathBuf, Value) {
        let file = self.path(name);
        self.ok(&[
            "export",
            id,
            "--format",
            format,
            "--out",
            file.to_str().unwrap(),
        ]);
        let json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        (file, json)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An editor that replaces the file it is given with `text`.
    fn editor_writing(&self, text: &str) -> PathBuf {
        let form = self.path("form-to-write.toml");
        std::fs::write(&form, text).unwrap();
        self.script("editor.sh", &format!("cat '{}' > \"$1\"", form.display()))
    }

    /// An executable shell script named `name` that runs `body`.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let script = self.path(name);
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    /// Starts an SMTP sink and points the config's `[smtp]` at it, after adding `advisory`
    /// lines to the `[advisory]` section the config ends with.
    fn with_smtp(&self, advisory: &str) -> (support::Smtp, PathBuf) {
        let maildir = self.path("smtp-sink");
        let smtp = support::Smtp::start(&maildir);
        let config = self.path("config.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text += advisory;
        text += &format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n",
            smtp.port
        );
        std::fs::write(&config, text).unwrap();
        (smtp, maildir)
    }

    fn set_full_advisory(&self) {
        self.ok(&[
            "advisory",
            "1",
            "--set",
            "component=pip",
            "--set",
            "package=PyPI:pip",
            "--set",
            "introduced=0",
            "--set",
            "fixed=25.0",
            "--set",
            &format!("cvss={V4}"),
            "--set",
            "cwe=CWE-22",
            "--set",
            "cve=CVE-2026-1234",
            "--set",
            "ghsa=GHSA-4xqq-73wg-5vjp",
            "--set",
            "summary=Path traversal when installing a crafted wheel",
            "--set",
            "details=pip wrote files outside the target directory when a wheel held ../ paths.",
            "--set",
            "references=https://github.com/pypa/pip/pull/13000",
            "--set",
            "credits=Lukas Brenner:finder",
            "--set",
            "credits=sethmlarson:coordinator",
        ]);
    }
}

#[test]
fn set_show_unset_and_audit_advisory_fields() {
    let desk = Desk::new();
    let out = desk.ok(&[
        "advisory",
        "1",
        "--set",
        &format!("cvss={V4}"),
        "--set",
        "credits=Lukas Brenner:finder",
    ]);
    assert!(out.contains("advisory cvss, credits changed"), "{out}");
    desk.ok(&["advisory", "1", "--set", "credits=sethmlarson:coordinator"]);
    let a = desk.json(&["advisory", "1", "--json"]);
    assert_eq!(a["cvss"], V4);
    assert_eq!(a["severity"]["score"], 9.3);
    assert_eq!(a["severity"]["rating"], "critical");
    assert_eq!(a["credits"][0]["name"], "Lukas Brenner");
    assert_eq!(
        a["credits"][1]["type"], "coordinator",
        "repeating --set adds"
    );
    let text = desk.ok(&["advisory", "1"]);
    assert!(
        text.contains("severity       9.3 critical (CVSS 4.0)"),
        "{text}"
    );

    let err = desk.fails(&["advisory", "1", "--set", "cve=CVE-12", "--set", "cwe=22"]);
    assert!(
        err.contains("is not a CVE id") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(desk.json(&["advisory", "1", "--json"])["cwe"], Value::Null);

    desk.ok(&["advisory", "1", "--unset", "credits"]);
    assert_eq!(
        desk.json(&["advisory", "1", "--json"])["credits"],
        serde_json::json!([])
    );

    let show = desk.json(&["show", "1", "--json"]);
    let kinds: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("advisory:"))
        .collect();
    assert_eq!(
        kinds,
        [
            "advisory:cvss",
            "advisory:credits",
            "advisory:credits",
            "advisory:credits"
        ]
    );

    // The report view counts the embargo down and warns of a Friday end.
    let out = desk.run_with(
        &["advisory", "1", "--set", "embargo_until=2099-01-02"],
        None,
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: report #1: the embargo ends on a Friday"),
        "{err}"
    );
    let view = desk.ok(&["show", "1"]);
    assert!(view.contains("severity 9.3 critical (CVSS 4.0)"), "{view}");
    assert!(
        view.contains("embargo:  ") && view.contains("days left (until 2099-01-02T00:00:00Z)"),
        "{view}"
    );
    assert!(
        view.contains("warning:  the embargo ends on a Friday (2099-01-02)"),
        "{view}"
    );
}

#[test]
fn the_form_is_checked_on_save_and_errors_name_the_line() {
    let desk = Desk::new();
    let bad = "summary = \"Traversal\"\ncve = \"CVE-12\"\ncredits = [\n  \"Ada:finder\",\n  \"Eve:hero\",\n]\n";
    let out = desk.run_with(
        &["advisory", "1", "--edit"],
        Some(&desk.editor_writing(bad)),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: cve \"CVE-12\" is not a CVE id"),
        "{err}"
    );
    assert!(err.contains("line 5: credits \"Eve:hero\""), "{err}");
    assert!(
        err.contains("nothing was changed; your form is kept in"),
        "{err}"
    );
    assert_eq!(
        desk.json(&["advisory", "1", "--json"])["summary"],
        Value::Null
    );

    let good = "summary = \"Traversal\"\ncve = \"CVE-2026-1234\"\ncredits = [\"Ada:finder\"]\n";
    let out = desk.run_with(
        &["advisory", "1", "--edit"],
        Some(&desk.editor_writing(good)),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = desk.json(&["advisory", "1", "--json"]);
    assert_eq!(a["summary"], "Traversal");
    assert_eq!(a["credits"][0]["type"], "finder");

    // A teammate's change while the form is open is not overwritten: the save is refused
    // and the form kept.
    let script = desk.path("racing-editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n'{}' --config '{}' advisory 1 --set cwe=CWE-22 >/dev/null\n\
             printf 'summary = \"Mine\"\\n' > \"$1\"\n",
            env!("CARGO_BIN_EXE_secdesk"),
            desk.path("config.toml").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = desk.run_with(&["advisory", "1", "--edit"], Some(&script));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was changed by ada@example.org") && err.contains("your form is kept in"),
        "{err}"
    );
    let a = desk.json(&["advisory", "1", "--json"]);
    assert_eq!(
        (a["summary"].as_str(), a["cwe"].as_str()),
        (Some("Traversal"), Some("CWE-22"))
    );
}

#[test]
fn exports_are_refused_with_the_missing_fields() {
    let desk = Desk::new();
    desk.ok(&["advisory", "1", "--set", "summary=Traversal"]);
    let err = desk.fails(&["export", "1", "--format", "cve"]);
    assert!(
        err.contains("cannot be exported as cve: missing cve, details, cwe, cvss, component (or package), references (or repo), fixed (or last_affected)"),
        "{err}"
    );
    let err = desk.fails(&["export", "1", "--format", "osv"]);
    assert!(err.contains("missing details, cvss, package"), "{err}");
    let err = desk.fails(&["export", "1", "--format", "json"]);
    assert!(err.contains("choose osv, cve, ghsa or announce"), "{err}");
}

/// The virtualenv scripts/test prepares, or a skip message.
fn venv() -> Option<PathBuf> {
    let v = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-tests/bin");
    if v.join("cve").exists() && v.join("python").exists() {
        Some(v)
    } else {
        eprintln!(
            "skipped: .venv-tests with cvelib and jsonschema is absent (scripts/test creates it)"
        );
        None
    }
}

/// Runs a validator from the virtualenv; its refusal fails the test with its own words.
fn validate(venv: &Path, program: &str, args: &[&str]) {
    let out = Command::new(venv.join(program))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {:?} refused the export: {}{}",
        args.last(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates an OSV record against the official OSV schema with the `jsonschema` package.
fn validate_osv(venv: &Path, file: &Path) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/osv/schema.json");
    validate(
        venv,
        "python",
        &[
            "-c",
            "import json,sys,jsonschema\n\
             s=json.load(open(sys.argv[1]));d=json.load(open(sys.argv[2]))\n\
             jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker()).validate(d)",
            schema.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
}

/// Validates a GHSA request body with githubkit's model of GitHub's REST description.
fn validate_ghsa(venv: &Path, file: &Path) {
    validate(
        venv,
        "python",
        &[
            "-c",
            "import json,sys\n\
             from githubkit_schemas.latest.models import RepositoryAdvisoryCreate\n\
             RepositoryAdvisoryCreate.model_validate(json.load(open(sys.argv[1])))",
            file.to_str().unwrap(),
        ],
    );
}

#[test]
fn osv_export_is_valid_against_the_official_schema() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let (file, osv) = desk.export_to("1", "osv", "osv.json");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(osv["id"], format!("PSF-{year}-1"));
    assert_eq!(
        osv["aliases"],
        serde_json::json!(["CVE-2026-1234", "GHSA-4xqq-73wg-5vjp"])
    );
    assert_eq!(osv["severity"][0]["type"], "CVSS_V4");
    assert_eq!(osv["affected"][0]["package"]["name"], "pip");
    assert_eq!(
        osv["affected"][0]["ranges"][0]["events"][1]["fixed"],
        "25.0"
    );
    assert_eq!(osv["credits"][0]["type"], "FINDER");
    // The id is kept: a second export is the same record.
    let again: Value = desk.json(&["export", "1", "--format", "osv"]);
    assert_eq!(again["id"], osv["id"]);

    // A GIT range of full commit hashes in a repository.
    desk.set_git_advisory(
        "2",
        &"a".repeat(40),
        &"b".repeat(40),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
    );
    let (git_file, git) = desk.export_to("2", "osv", "osv-git.json");
    assert_eq!(git["id"], format!("PSF-{year}-2"));
    assert_eq!(git["affected"][0]["ranges"][0]["type"], "GIT");
    assert_eq!(git["severity"][0]["type"], "CVSS_V3");

    let Some(venv) = venv() else { return };
    for f in [&file, &git_file] {
        validate_osv(&venv, f);
    }
}

#[test]
fn cve_export_passes_cvelib_validation() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let (file, cve) = desk.export_to("1", "cve", "cve.json");
    let cna = &cve["containers"]["cna"];
    assert_eq!(cna["providerMetadata"]["orgId"], ORG);
    assert_eq!(cna["problemTypes"][0]["descriptions"][0]["cweId"], "CWE-22");
    assert_eq!(cna["metrics"][0]["cvssV4_0"]["baseScore"], 9.3);
    assert_eq!(cna["affected"][0]["defaultStatus"], "unaffected");
    assert_eq!(cna["affected"][0]["versions"][0]["lessThan"], "25.0");
    assert_eq!(cna["credits"][0]["value"], "Lukas Brenner");

    let Some(venv) = venv() else { return };
    for (schema, path) in [
        ("full", file.clone()),
        ("cna-published", desk.path("cna.json")),
    ] {
        if schema == "cna-published" {
            std::fs::write(&path, cna.to_string()).unwrap();
        }
        validate(
            &venv,
            "cve",
            &["validate", "-s", schema, "-f", path.to_str().unwrap()],
        );
    }
}

#[test]
fn ghsa_body_and_announce_mail() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let out = desk.run_with(&["export", "1", "--format", "ghsa"], None);
    assert!(out.status.success());
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["cve_id"], "CVE-2026-1234");
    assert_eq!(body["cwe_ids"], serde_json::json!(["CWE-22"]));
    assert_eq!(body["cvss_vector_string"], V4);
    assert_eq!(body["vulnerabilities"][0]["package"]["ecosystem"], "pip");
    assert_eq!(
        body["credits"],
        serde_json::json!([{"login": "sethmlarson", "type": "coordinator"}])
    );
    let err = String::from_utf8_lossy(&out.stderr);
    if let Some(venv) = venv() {
        let file = desk.path("ghsa.json");
        std::fs::write(&file, &out.stdout).unwrap();
        validate_ghsa(&venv, &file);
    }
    assert!(
        err.contains("\"Lukas Brenner\" (finder) is not a GitHub login"),
        "{err}"
    );

    let mail = desk.path("announce.txt");
    desk.ok(&[
        "export",
        "1",
        "--format",
        "announce",
        "--out",
        mail.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&mail).unwrap();
    assert!(text.starts_with(
        "Subject: Security advisory CVE-2026-1234: Path traversal when installing a crafted wheel\n"
    ), "{text}");
    assert!(
        text.contains("Severity: 9.3 (critical), CVSS 4.0 CVSS:4.0/AV:N"),
        "{text}"
    );
    assert!(
        text.contains("Affected: PyPI:pip: all versions before 25.0"),
        "{text}"
    );
    assert!(text.contains("Lukas Brenner (finder)"), "{text}");
    let err = desk.fails(&["export", "1", "--format", "announce", "--yes"]);
    assert!(err.contains("set `announce_to` under [advisory]"), "{err}");
}

#[test]
fn pep811_clocks_in_show_and_list_due() {
    let desk = Desk::new();
    let show = desk.json(&["show", "1", "--json"]);
    let created =
        chrono::DateTime::parse_from_rfc3339(show["created_at"].as_str().unwrap()).unwrap();
    let due = (created + chrono::Duration::days(3)).with_timezone(&chrono::Utc);
    assert_eq!(
        show["deadlines"]["coordinator"],
        due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(
        show["deadlines"]["finish"],
        Value::Null,
        "no coordinator yet"
    );

    let before = chrono::Utc::now();
    desk.ok(&["take", "1"]);
    let show = desk.json(&["show", "1", "--json"]);
    assert_eq!(show["deadlines"]["coordinator"], Value::Null, "met");
    let finish =
        chrono::DateTime::parse_from_rfc3339(show["deadlines"]["finish"].as_str().unwrap())
            .unwrap();
    let days = (finish.with_timezone(&chrono::Utc) - before).num_hours() as f64 / 24.0;
    assert!(
        (89.9..90.1).contains(&days),
        "finish {days} days after taking"
    );

    desk.ok(&["mark", "2", "spam"]);
    let ids = |args: &[&str]| -> Vec<i64> {
        desk.json(args)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let due = ids(&["list", "--due", "14d", "--json"]);
    assert!(due.contains(&3) && !due.contains(&2), "{due:?}");
    desk.ok(&["advisory", "3", "--set", "embargo_until=2099-01-06"]);
    let table = desk.ok(&["list"]);
    let line3 = table
        .lines()
        .find(|l| l.trim_start().starts_with("3"))
        .unwrap();
    assert!(
        line3.ends_with("d]") && line3.contains("[embargo "),
        "{line3}"
    );
    let err = desk.fails(&["list", "--due", "fortnight"]);
    assert!(err.contains("write a number and d, w or h"), "{err}");
}

/// `notice` of report 1's embargo to distros, sent without a preview.
const NOTICE: &[&str] = &[
    "notice",
    "1",
    "--template",
    "embargo",
    "--to",
    "distros@vs.openwall.org",
    "--yes",
];

/// The messages aiosmtpd delivered into `maildir`, as text.
fn delivered(maildir: &Path) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mail: Vec<String> = std::fs::read_dir(maildir.join("new"))
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if !mail.is_empty() || std::time::Instant::now() > deadline {
            return mail;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn announce_and_embargo_notice_go_out_through_the_outbox() {
    let desk = Desk::new();
    let (_smtp, maildir) = desk.with_smtp("announce_to = \"security-announce@python.org\"\n");
    desk.set_full_advisory();

    let notice = [NOTICE, &["--no-edit"]].concat();
    let notice = notice.as_slice();
    // Refused without the embargo's end, with the list of what is missing.
    let err = desk.fails(notice);
    assert!(err.contains("missing embargo_until"), "{err}");

    desk.ok(&["advisory", "1", "--set", "embargo_until=2099-01-03"]); // a Saturday
    let out = desk.run_with(notice, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("ends on a Saturday"), "{err}");
    let mail = delivered(&maildir);
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert!(m.contains("To: distros@vs.openwall.org"), "{m}");
    assert!(
        m.contains("Subject: [EMBARGOED until 2099-01-03] CVE-2026-1234:"),
        "{m}"
    );
    for section in [
        "Summary",
        "CVE",
        "Affected versions",
        "Reporter credit",
        "Severity",
        "Reproducer",
        "Remediation",
        "Timeline",
    ] {
        assert!(
            m.contains(&format!("\n{section}\n")),
            "section {section} missing: {m}"
        );
    }
    assert!(m.contains("Lukas Brenner (finder)"), "{m}");
    assert!(m.contains("Disclosed: planned for 2099-01-03"), "{m}");
    let a = desk.json(&["advisory", "1", "--json"]);
    assert_eq!(
        a["notified"][0]["who"], "distros@vs.openwall.org",
        "sending records who was told"
    );

    // The announcement goes to a public list: refused while the embargo runs, and nothing
    // reaches the list.
    let err = desk.fails(&["export", "1", "--format", "announce", "--yes", "--no-edit"]);
    assert!(
        err.contains("under embargo until 2099-01-03 00:00 UTC")
            && err.contains("--unset embargo_until"),
        "{err}"
    );
    assert!(
        !delivered(&maildir)
            .iter()
            .any(|m| m.contains("To: security-announce@python.org")),
        "an embargoed announcement was sent"
    );
    desk.ok(&["advisory", "1", "--unset", "embargo_until"]);
    desk.ok(&["export", "1", "--format", "announce", "--yes", "--no-edit"]);
    let mail = delivered(&maildir);
    let announce = mail
        .iter()
        .find(|m| m.contains("To: security-announce@python.org"))
        .expect("the announcement was delivered");
    assert!(
        announce.contains("Subject: Security advisory CVE-2026-1234:"),
        "{announce}"
    );
    let outbox = desk.ok(&["outbox"]);
    assert!(!outbox.contains("queued"), "nothing left queued: {outbox}");
}

#[test]
fn yearly_stats_in_json_csv_table_and_charts() {
    let desk = Desk::new();
    desk.ok(&["take", "1"]);
    let svg = desk.path("year.svg");
    let html = desk.path("year.html");
    let s = desk.json(&[
        "stats",
        "--by",
        "month",
        "--format",
        "json",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    for key in [
        "reports",
        "by_state",
        "weekly",
        "time_to_first_response",
        "cleared_by",
        "by",
        "by_period",
        "response_efficiency",
        "response_times",
        "time_to_fix",
        "time_to_disclose",
        "invalid_reasons",
        "excluded",
        "moderation",
        "members",
    ] {
        assert!(s.get(key).is_some(), "no key {key}");
    }
    assert_eq!(s["by"], "month");
    assert_eq!(s["by_period"][0]["period"], "2026-03");
    // Imported without --historical: counted in the clocks, except spam.
    assert_eq!(
        s["excluded"],
        serde_json::json!({"spam": 1, "historical": 0})
    );
    assert_eq!(s["response_times"]["close"]["unit"], "days");
    assert_eq!(s["members"][0]["email"], "ada@example.org");
    assert_eq!(
        s["members"][0]["inactive"], false,
        "the import just now counts"
    );
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg"));

    let csv = desk.ok(&["stats", "--by", "quarter", "--format", "csv"]);
    assert!(csv.contains("\r\nby_period,2026-Q1,unclassified,"), "{csv}");
    assert!(
        csv.contains("\r\nresponse_efficiency,acknowledge,share,"),
        "{csv}"
    );
    let table = desk.ok(&["stats", "--by", "year"]);
    assert!(
        table.contains("per year") && table.contains("response efficiency"),
        "{table}"
    );
    let err = desk.fails(&["stats", "--by", "fortnight"]);
    assert!(err.contains("choose week, month, quarter or year"), "{err}");
}

/// A field stored before values were checked for control and invisible characters (a bidi
/// override, a C1 CSI) is escaped when an export is printed on a terminal, as `--json` is;
/// piped or written with `--out`, the record is exact.
#[test]
fn an_export_on_a_terminal_escapes_what_would_act_on_it() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let summary = "Traversal in \u{202e}txt.exe \u{9b}31m";
    let store = secdesk::core::store::Store::open(&desk.path("secdesk.db")).unwrap();
    store
        .conn()
        .execute(
            "UPDATE advisories SET fields = json_set(fields, '$.summary', ?1) WHERE report_id = 1",
            [summary],
        )
        .unwrap();
    drop(store);
    let piped: Value = serde_json::from_str(&desk.ok(&["export", "1", "--format", "osv"])).unwrap();
    assert_eq!(piped["summary"], summary);
    let line = format!(
        "{} --config {} export 1 --format osv",
        env!("CARGO_BIN_EXE_secdesk"),
        desk.path("config.toml").display()
    );
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("run script(1)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
    assert!(
        !shown.contains(['\u{202e}', '\u{9b}']),
        "raw on the terminal: {shown:?}"
    );
    assert!(shown.contains("\\u202etxt.exe \\u009b31m"), "{shown}");
    let decoded: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(decoded["summary"], summary, "the record decodes the same");
}

#[test]
fn cve_and_ghsa_exports_hold_text_up_to_their_schemas_limits_and_refuse_longer() {
    let desk = Desk::new();
    desk.set_full_advisory();
    // At the limits, counted in characters (two bytes each here): valid records.
    let summary = format!("summary={}", "é".repeat(256));
    let details = format!("details={}", "é".repeat(4096));
    desk.ok(&["advisory", "1", "--set", &summary, "--set", &details]);
    let (file, cve) = desk.export_to("1", "cve", "cve.json");
    assert_eq!(
        cve["containers"]["cna"]["title"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        256
    );
    let (ghsa_file, _) = desk.export_to("1", "ghsa", "ghsa.json");
    if let Some(venv) = venv() {
        validate(
            &venv,
            "cve",
            &["validate", "-s", "full", "-f", file.to_str().unwrap()],
        );
        validate_ghsa(&venv, &ghsa_file);
    }

    // One character over: refused, naming the field, its length and the limit, instead of a
    // record CVE Services would reject.
    let summary = format!("summary={}", "é".repeat(257));
    let details = format!("details={}", "é".repeat(4097));
    desk.ok(&["advisory", "1", "--set", &summary, "--set", &details]);
    let err = desk.fails(&["export", "1", "--format", "cve"]);
    assert!(
        err.contains("summary is 257 characters and a CVE record's title holds at most 256")
            && err.contains(
                "details is 4097 characters and a CVE record's description holds at most 4096"
            )
            && err.contains("secdesk advisory 1 --set"),
        "{err}"
    );
    // GitHub takes these, and refuses a summary over 1,024 characters.
    desk.export_to("1", "ghsa", "ghsa-long.json");
    let summary = format!("summary={}", "é".repeat(1025));
    desk.ok(&["advisory", "1", "--set", &summary]);
    let err = desk.fails(&["export", "1", "--format", "ghsa"]);
    assert!(
        err.contains(
            "summary is 1025 characters and a GitHub advisory's summary holds at most 1024"
        ),
        "{err}"
    );
    // OSV sets no limit: the record is still exported.
    desk.export_to("1", "osv", "osv.json");
}

/// The CVE JSON 5.1 schema (cvelib's) holds a URL of 2,048 characters, 512 references and
/// a CWE id of 9 characters ("CWE-" and five digits): a record at those limits validates,
/// and one over each is refused naming the field, its length and the limit.
#[test]
fn cve_export_holds_urls_references_and_cwe_ids_up_to_the_schema_and_refuses_more() {
    let desk = Desk::new();
    desk.set_full_advisory(); // one reference already
    let url = |n: usize| format!("https://example.org/{}", "a".repeat(n - 20));
    let mut sets = vec![
        "cwe=CWE-99999".to_string(),
        format!("references={}", url(2048)),
    ];
    sets.extend((2..512).map(|i| format!("references=https://example.org/r/{i}")));
    let mut args = vec!["advisory", "1"];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    desk.ok(&args);
    let (file, cve) = desk.export_to("1", "cve", "cve.json");
    let references = cve["containers"]["cna"]["references"].as_array().unwrap();
    assert_eq!(references.len(), 512);
    if let Some(venv) = venv() {
        validate(
            &venv,
            "cve",
            &["validate", "-s", "full", "-f", file.to_str().unwrap()],
        );
        // The limits are the schema's: one over each, cvelib refuses the record.
        let cna = |edit: &dyn Fn(&mut Value)| {
            let mut over = cve.clone();
            edit(&mut over["containers"]["cna"]);
            let path = desk.path("cve-over.json");
            std::fs::write(&path, over.to_string()).unwrap();
            let out = Command::new(venv.join("cve"))
                .args(["validate", "-s", "full", "-f", path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(!out.status.success(), "cvelib took {over}");
        };
        cna(&|c| c["problemTypes"][0]["descriptions"][0]["cweId"] = "CWE-100000".into());
        cna(&|c| c["references"][0]["url"] = url(2049).into());
        cna(&|c| {
            let more = serde_json::json!({ "url": "https://example.org/r/513" });
            c["references"].as_array_mut().unwrap().push(more);
        });
    }

    let long = format!("references={}", url(2049));
    desk.ok(&["advisory", "1", "--set", "cwe=CWE-100000", "--set", &long]);
    let err = desk.fails(&["export", "1", "--format", "cve"]);
    for said in [
        "references is 2049 characters and a CVE record's URL holds at most 2048",
        "references are 513 and a CVE record holds at most 512",
        "cwe is 10 characters and a CVE record's CWE id holds at most 9",
        "secdesk advisory 1 --set",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }
}

impl Desk {
    /// Report `id`'s advisory as a GIT range of commits in CPython's repository.
    fn set_git_advisory(&self, id: &str, introduced: &str, fixed: &str, cvss: &str) {
        self.ok(&[
            "advisory",
            id,
            "--set",
            "repo=https://github.com/python/cpython",
            "--set",
            &format!("introduced={introduced}"),
            "--set",
            &format!("fixed={fixed}"),
            "--set",
            &format!("cvss={cvss}"),
            "--set",
            "summary=s",
            "--set",
            "details=d",
        ]);
    }

    /// Exports report 1 as `format` into `file`, which must be refused: stderr, after checking
    /// that nothing was written.
    fn export_refused(&self, format: &str, file: &str) -> String {
        let out = self.path(file);
        let err = self.fails(&[
            "export",
            "1",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!out.exists(), "{format}: {file} was written");
        err
    }
}

/// While the embargo runs, OSV, CVE and the announcement would publish the issue (and fix
/// OSV's `published` at a time inside it): refused, naming the end and the way to lift it.
/// The GHSA body makes a private draft and is made; an embargo that ended holds nothing back.
#[test]
fn exports_that_publish_wait_for_the_embargo_but_the_ghsa_draft_does_not() {
    let desk = Desk::new();
    desk.set_full_advisory();
    desk.ok(&["advisory", "1", "--set", "embargo_until=2099-01-02"]);
    for format in ["osv", "cve", "announce"] {
        let err = desk.export_refused(format, "embargoed.out");
        assert!(
            err.contains("under embargo until 2099-01-02") && err.contains("--unset embargo_until"),
            "{format}: {err}"
        );
    }
    desk.export_to("1", "ghsa", "draft.json");
    desk.ok(&["advisory", "1", "--set", "embargo_until=2020-01-02"]);
    desk.export_to("1", "cve", "after.json");
    desk.export_to("1", "osv", "after-osv.json");
    let Some(venv) = venv() else { return };
    validate(
        &venv,
        "cve",
        &[
            "validate",
            "-s",
            "full",
            "-f",
            desk.path("after.json").to_str().unwrap(),
        ],
    );
    validate_ghsa(&venv, &desk.path("draft.json"));
}

/// Under embargo the team still prepares its records for review: `--draft` makes OSV, CVE
/// and the announcement (to a file only) with a note that it must not be published yet.
/// The OSV draft shows the id the report will get but fixes neither id nor published time:
/// the real export after the embargo gets the same id and its own, later, published time.
#[test]
fn a_draft_is_made_under_embargo_and_fixes_nothing() {
    let desk = Desk::new();
    desk.set_full_advisory();
    desk.ok(&["advisory", "1", "--set", "embargo_until=2099-01-02"]);
    let mut drafts = Vec::new();
    for (format, name) in [
        ("osv", "osv-draft.json"),
        ("cve", "cve-draft.json"),
        ("announce", "announce-draft.txt"),
    ] {
        let file = desk.path(name);
        let out = desk.run_with(
            &[
                "export",
                "1",
                "--format",
                format,
                "--draft",
                "--out",
                file.to_str().unwrap(),
            ],
            None,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {err}");
        assert!(
            err.contains("under embargo until 2099-01-02") && err.contains("do not publish it"),
            "{format}: {err}"
        );
        drafts.push(file);
    }
    let draft: Value = serde_json::from_str(&std::fs::read_to_string(&drafts[0]).unwrap()).unwrap();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(draft["id"], format!("PSF-{year}-1"));
    // A draft announcement is written, never sent.
    let err = desk.fails(&["export", "1", "--format", "announce", "--draft", "--yes"]);
    assert!(err.contains("add --out FILE"), "{err}");
    // Nothing was fixed: a second draft and the real export give the same id, and the real
    // export's published time is its own.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    desk.ok(&["advisory", "1", "--unset", "embargo_until"]);
    let (real_file, real) = desk.export_to("1", "osv", "osv-real.json");
    assert_eq!(real["id"], draft["id"]);
    assert!(
        real["published"].as_str().unwrap() > draft["published"].as_str().unwrap(),
        "draft {} real {}",
        draft["published"],
        real["published"]
    );
    let Some(venv) = venv() else { return };
    validate_osv(&venv, &drafts[0]);
    validate_osv(&venv, &real_file);
    validate(
        &venv,
        "cve",
        &["validate", "-s", "full", "-f", drafts[1].to_str().unwrap()],
    );
}

/// `fixed` and `last_affected` both set: OSV rejects such a range, and the CVE, GHSA and
/// announce forms would quietly drop one end. Every format refuses it.
#[test]
fn a_range_that_ends_twice_is_refused_by_every_format() {
    let desk = Desk::new();
    desk.set_full_advisory();
    desk.ok(&["advisory", "1", "--set", "last_affected=24.3"]);
    for format in ["osv", "cve", "ghsa", "announce"] {
        let err = desk.export_refused(format, "two-ends.out");
        assert!(
            err.contains("fixed and last_affected are both set")
                && err.contains("--unset last_affected"),
            "{format}: {err}"
        );
    }
    desk.ok(&["advisory", "1", "--unset", "last_affected"]);
    desk.export_to("1", "osv", "one-end.json");
}

/// Commit hashes pasted in upper case (as some tools print them) are stored and exported in
/// lower case, the only case OSV's GIT ranges take.
#[test]
fn upper_case_commit_hashes_make_a_valid_osv_git_range() {
    let desk = Desk::new();
    let upper = "ABCDEF0123".repeat(4);
    desk.set_git_advisory(
        "2",
        &upper,
        &("0123456789ABCDEF".repeat(2) + "01234567"),
        V4,
    );
    let (git_file, git) = desk.export_to("2", "osv", "git.json");
    assert_eq!(
        git["affected"][0]["ranges"][0]["events"][0]["introduced"],
        upper.to_lowercase()
    );
    if let Some(venv) = venv() {
        validate_osv(&venv, &git_file);
    }
}

/// The CNA id and the vendor come from the config and go into the CVE record as they are: one
/// that is no version 4 UUID, or an empty vendor, is refused (cvelib rejects both) as a wrong
/// config value, exit 78, when the config is read: before, only `export --format cve`
/// refused it, with exit 1, a failure to retry rather than a config to correct.
#[test]
fn a_cna_id_that_is_no_uuid_and_an_empty_vendor_are_config_errors() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let config = desk.path("config.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, good.replace(ORG, "psf") + "vendor = \"\"\n").unwrap();
    for args in [&["export", "1", "--format", "cve"][..], &["list"][..]] {
        let out = desk.run_with(args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{args:?}: {err}");
        assert!(
            err.contains("key `advisory.cna_org_id` = \"psf\" is not a UUID")
                && err.contains("key `advisory.vendor` is 0 characters"),
            "{err}"
        );
    }
    // A UUID of another version than 4 is no CVE orgId either.
    std::fs::write(
        &config,
        good.replace(ORG, "28c92f92-d60d-112d-b760-e73465c3df22"),
    )
    .unwrap();
    let out = desk.run_with(&["export", "1", "--format", "cve"], None);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a UUID"));
}

/// A report the team rejected (invalid, spam, duplicate) has no advisory to publish: every
/// format refuses it and says how to reopen it. One whose OSV record was published before is
/// exported as OSV once more, withdrawn at the rejection, and valid against the schema; its
/// CVE record is rejected through CVE Services, which the refusal names.
#[test]
fn a_rejected_report_has_no_advisory_to_publish() {
    let desk = Desk::new();
    desk.set_full_advisory();
    desk.ok(&["state", "1", "invalid", "--reason", "not-a-vulnerability"]);
    for format in ["osv", "cve", "ghsa", "announce"] {
        let err = desk.export_refused(format, "rejected.out");
        assert!(
            err.contains("closed as invalid") && err.contains("secdesk state 1 triaged"),
            "{format}: {err}"
        );
    }
    desk.ok(&["state", "1", "triaged"]);
    let (_, published) = desk.export_to("1", "osv", "reopened.json");
    assert!(published.get("withdrawn").is_none(), "{published}");

    desk.ok(&["dup", "1", "--of", "3"]);
    let (file, withdrawn) = desk.export_to("1", "osv", "withdrawn.json");
    assert_eq!(withdrawn["id"], published["id"], "the same record");
    let at = withdrawn["withdrawn"].as_str().expect("withdrawn");
    assert!(
        at >= published["published"].as_str().unwrap(),
        "{withdrawn}"
    );
    assert_eq!(withdrawn["modified"], withdrawn["withdrawn"]);
    let err = desk.export_refused("cve", "rejected-cve.json");
    assert!(err.contains("cve reject"), "{err}");
    desk.export_refused("ghsa", "rejected-ghsa.json");
    if let Some(venv) = venv() {
        validate_osv(&venv, &file);
    }
}

/// `notice --template embargo` on a report the team rejected told distributors of a
/// vulnerability the team had found none in: it opened the editor and sent. It is refused
/// as `export` refuses it, before any editor, preview or send; reopened, it goes out.
#[test]
fn a_rejected_report_gets_no_embargo_notice() {
    let desk = Desk::new();
    let (_smtp, maildir) = desk.with_smtp("");
    desk.set_full_advisory();
    desk.ok(&["advisory", "1", "--set", "embargo_until=2099-01-06"]);
    // An editor that leaves the notice as it is and says it was opened.
    let opened = desk.path("editor-opened");
    let editor = desk.script(
        "marking-editor.sh",
        &format!("echo opened >> '{}'", opened.display()),
    );
    let rejections: [(&[&str], &str); 3] = [
        (&["mark", "1", "spam"], "spam"),
        (
            &["state", "1", "invalid", "--reason", "not-a-vulnerability"],
            "invalid",
        ),
        (&["dup", "1", "--of", "3"], "duplicate"),
    ];
    for (close, state) in rejections {
        desk.ok(close);
        let out = desk.run_with(NOTICE, Some(&editor));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{state}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("report #1: no embargo notice for it: the report is closed as ")
                && err.contains(state)
                && err.contains("secdesk state 1 triaged"),
            "{state}: {err}"
        );
        assert!(!opened.exists(), "{state}: the editor was opened");
        desk.ok(&["state", "1", "triaged"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        std::fs::read_dir(maildir.join("new"))
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "a notice for a rejected report was sent"
    );
    let a = desk.json(&["advisory", "1", "--json"]);
    assert!(a["notified"].as_array().is_none_or(|n| n.is_empty()), "{a}");

    // Reopened, the same call opens the editor and sends.
    let out = desk.run_with(NOTICE, Some(&editor));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(opened.exists(), "the editor was opened");
    assert_eq!(delivered(&maildir).len(), 1);
}

/// `[advisory] id_prefix` went into OSV ids as written, so a prefix the OSV schema does not
/// list made every exported record invalid. It is refused when the config is read; a prefix
/// of one's own (`x_…`) makes records the schema accepts.
#[test]
fn an_osv_id_prefix_the_schema_refuses_is_refused_with_the_config() {
    let desk = Desk::new();
    desk.set_full_advisory();
    let config = desk.path("config.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}id_prefix = \"ACME\"\n")).unwrap();
    let out = desk.run_with(&["export", "1", "--format", "osv"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "the config's status: {err}");
    assert!(
        err.contains("`advisory.id_prefix` = \"ACME\"")
            && err.contains("OSV schema refuses")
            && err.contains("x_ and your own name"),
        "{err}"
    );

    std::fs::write(&config, format!("{original}id_prefix = \"x_ACME\"\n")).unwrap();
    let (file, osv) = desk.export_to("1", "osv", "own-prefix.json");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(osv["id"], format!("x_ACME-{year}-1"));
    if let Some(venv) = venv() {
        validate_osv(&venv, &file);
    }
}
