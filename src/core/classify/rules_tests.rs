//! Tests of the rule file format, the shipped rules and their evaluation.
use super::*;
use crate::core::parse::parse_message;

#[test]
fn every_shipped_regex_compiles() {
    // The shipped rules compile their regexes on first use; parsing them eagerly here
    // is what makes that safe. Both fire the same rules.
    let eager = RuleSet::parse(BUILTIN_RULES, "shipped").unwrap();
    let lazy = RuleSet::builtin().unwrap();
    let m = parse_message(
        b"Subject: Bug bounty\n\nYour domain has no DMARC record. Please pay a bounty.\n",
    );
    let names = |r: &RuleSet| {
        r.evaluate(&m)
            .into_iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
    };
    assert!(!names(&eager).is_empty());
    assert_eq!(names(&lazy), names(&eager));
}

fn err(text: &str) -> String {
    RuleSet::parse(text, "/etc/secdesk/rules.toml")
        .unwrap_err()
        .to_string()
}

const GOOD: &str = r#"
[[rule]]
name = "dmarc"
class = "invalid"
weight = 2.0
field = "text"
pattern = '(?i)\bdmarc\b'

[[rule]]
name = "ooo"
class = "invalid"
weight = 3.0
field = "header:Auto-Submitted"
pattern = '(?i)^auto-'

[[rule]]
name = "repro-without-version"
class = "valid"
weight = 1.0
field = "body"
pattern = 'reproduce'
also = '(?i)steps'
unless = '3\.\d+'
"#;

#[test]
fn rules_fire_on_their_field_and_respect_unless() {
    let rules = RuleSet::parse(GOOD, "test").unwrap();
    let m = parse_message(
        b"Subject: Missing DMARC record\nAuto-Submitted: auto-replied\n\nSteps to reproduce: dig\n",
    );
    let names: Vec<String> = rules.evaluate(&m).into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["dmarc", "ooo", "repro-without-version"]);
    let m = parse_message(b"Subject: hi\n\nSteps to reproduce on 3.11: run\n");
    assert!(rules.evaluate(&m).is_empty());
    let m = parse_message(b"Subject: hi\n\nTo reproduce: run\n");
    assert!(rules.evaluate(&m).is_empty(), "`also` must match too");
    assert_eq!(
        Fired {
            name: "dmarc".into(),
            class: Class::Invalid,
            weight: 2.0
        }
        .reason(),
        "rule dmarc +2.0 invalid"
    );
}

#[test]
fn toml_syntax_errors_name_file_and_line() {
    let e = err("[[rule]]\nname = \"x\"\nclass = \"invalid\nweight = 1\n");
    assert!(e.contains("/etc/secdesk/rules.toml line 3"), "{e}");
}

#[test]
fn bad_regex_names_file_line_and_rule() {
    let text = GOOD.replace(r"'(?i)^auto-'", "'(unclosed'");
    let e = err(&text);
    assert!(e.contains("/etc/secdesk/rules.toml line 9"), "{e}");
    assert!(e.contains("rule 'ooo'"), "{e}");
    assert!(e.contains("bad regex"), "{e}");
}

#[test]
fn bad_class_field_weight_and_unknown_keys_are_refused() {
    let e = err(&GOOD.replace("class = \"valid\"", "class = \"maybe\""));
    assert!(
        e.contains("line 16") && e.contains("unknown class 'maybe'"),
        "{e}"
    );
    let e = err(&GOOD.replace("field = \"body\"", "field = \"bdy\""));
    assert!(e.contains("unknown field 'bdy'"), "{e}");
    let e = err(&GOOD.replace("weight = 3.0", "weight = -1.0"));
    assert!(e.contains("line 9") && e.contains("weight -1"), "{e}");
    let e = err(&GOOD.replace("weight = 2.0", "weight = 2.0\nwieght = 1"));
    assert!(e.contains("line 6") && e.contains("wieght"), "{e}");
}

#[test]
fn shipped_rules_load() {
    let rules = RuleSet::builtin().unwrap();
    assert!(rules.len() >= 20, "only {} rules", rules.len());
}

#[test]
fn a_rules_file_beside_the_config_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    assert!(RuleSet::load(Some(dir.path())).unwrap().len() >= 20);
    std::fs::write(dir.path().join(RULES_FILE), GOOD).unwrap();
    let rules = RuleSet::load(Some(dir.path())).unwrap();
    assert_eq!(rules.len(), 3);
    std::fs::write(dir.path().join(RULES_FILE), "[[rule]]\nname = 1\n").unwrap();
    let e = RuleSet::load(Some(dir.path())).unwrap_err().to_string();
    assert!(
        e.contains(&dir.path().join(RULES_FILE).display().to_string()),
        "{e}"
    );
    assert!(e.contains("line 2"), "{e}");
}

/// The invalid rules that demoted valid reports in an audit on unseen mail still fire on
/// what they are for, and no longer on those reports.
#[test]
fn demoting_rules_fire_on_their_kind_and_spare_reports_with_substance() {
    let rules = RuleSet::builtin().unwrap();
    let fires = |rule: &str, body: &str| {
        let m = parse_message(format!("Subject: report\n\n{body}\n").as_bytes());
        rules.evaluate(&m).iter().any(|f| f.name == rule)
    };
    let shell = "shell-true-by-design";
    assert!(fires(
        shell,
        "My app runs subprocess.run(cmd, shell=True) on user input: command injection!"
    ));
    assert!(!fires(
        shell,
        "On Windows subprocess.run([\"x.bat\", arg]) goes through cmd.exe: an attacker's arg \
         injects a command although the program never uses shell=True."
    ));
    assert!(!fires(
        shell,
        "With shell=False an attacker can still inject, unlike shell=True."
    ));

    let vague = "vague-claim";
    assert!(fires(
        vague,
        "I found a critical vulnerability in Python. Please fix it."
    ));
    assert!(!fires(
        vague,
        "A serious security issue in shutil. Run: python3 race_poc.py"
    ));
    assert!(!fires(
        vague,
        "A critical vulnerability; steps to reproduce below."
    ));

    let marketing = "vendor-marketing";
    assert!(fires(
        marketing,
        "Our platform detects leaks. Book a demo today!"
    ));
    assert!(fires(
        marketing,
        "Great deals every week. To unsubscribe click here."
    ));
    assert!(!fires(
        marketing,
        "email.generator refolds wrongly on 3.12.4.\n\nJordan, consultant. Book a 30-minute call: calendly.com/x"
    ));
    assert!(!fires(
        marketing,
        "http.client sends an extra header:\n\n    import http.client\n\n--\nTo unsubscribe, manage preferences."
    ));
}
