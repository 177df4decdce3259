//! Template parsing, rendering and lookup.

use super::*;

fn values() -> Placeholders {
    Placeholders {
        reporter_name: "Ada".into(),
        report_id: "42".into(),
        subject: "tarfile".into(),
        my_name: "Grace".into(),
        quote: "> hi".into(),
        signature: "-- \nTeam".into(),
    }
}

#[test]
fn every_shipped_template_parses_and_renders() {
    let t = Templates::shipped();
    assert_eq!(t.names().len(), SHIPPED.len());
    for name in t.names() {
        let tpl = t.load(&name).unwrap();
        let text = tpl.render(&values());
        assert!(text.contains("Ada"), "{name}: {text}");
        assert!(!text.contains('{'), "{name}: {text}");
    }
}

#[test]
fn shipped_templates_carry_their_state_changes() {
    let t = Templates::shipped();
    let change = |n: &str| t.load(n).unwrap().state_change;
    assert_eq!(
        change("acknowledge").map(|c| c.state),
        Some(ReportState::Acknowledged)
    );
    assert_eq!(
        change("not-a-vulnerability"),
        Some(StateChange {
            state: ReportState::Invalid,
            reason: Some(InvalidReason::NotAVulnerability)
        })
    );
    assert_eq!(
        change("third-party").and_then(|c| c.reason),
        Some(InvalidReason::ThirdParty)
    );
    assert_eq!(change("duplicate"), None);
}

#[test]
fn renders_placeholders_and_literal_braces() {
    let t = Template::parse("x", "test", "Hi {reporter_name}, #{report_id} {{ok}}\n").unwrap();
    assert_eq!(t.render(&values()), "Hi Ada, #42 {ok}\n");
    assert!(t.uses("report_id"));
    assert!(!t.uses("quote"));
}

#[test]
fn unknown_placeholder_names_template_and_placeholder() {
    let e = Template::parse("ack", "/cfg/templates/ack.txt", "Hi {reportr_name}\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"ack\""), "{e}");
    assert!(e.contains("/cfg/templates/ack.txt"), "{e}");
    assert!(e.contains("{reportr_name}"), "{e}");
    assert!(e.contains("{reporter_name}"), "{e}");
}

#[test]
fn unmatched_brace_names_the_line() {
    let e = Template::parse("x", "t", "ok\nbad {oops\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2"), "{e}");
    let e = Template::parse("x", "t", "---\nstate = new\n---\n\nstray }\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 5"), "{e}");
}

#[test]
fn front_matter_is_checked() {
    let t = Template::parse("x", "t", "---\nstate = \"needs-info\"\n---\nbody\n").unwrap();
    assert_eq!(t.state_change.unwrap().state, ReportState::NeedsInfo);
    assert_eq!(t.render(&values()), "body\n");
    for bad in [
        "---\nstate = nope\n---\n",
        "---\ncolour = red\n---\n",
        "---\nstate = new\nreason = third-party\n---\n",
        "---\nstate = new\n",
    ] {
        let e = Template::parse("x", "t", bad).unwrap_err().to_string();
        assert!(e.contains("front matter"), "{bad:?}: {e}");
    }
}

#[test]
fn config_dir_overrides_and_adds_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/acknowledge.txt"),
        "Ours, {reporter_name}.\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("templates/bounty.txt"), "No bounty.\n").unwrap();
    let t = Templates::new(dir.path());
    let ack = t.load("acknowledge").unwrap();
    assert_eq!(ack.render(&values()), "Ours, Ada.\n");
    assert!(ack.origin.ends_with("acknowledge.txt"));
    assert!(t.names().contains(&"bounty".to_string()));
    assert!(t.load("needs-more-info").unwrap().origin == "shipped");
    let e = t.load("nope").unwrap_err().to_string();
    assert!(e.contains("bounty") && e.contains("acknowledge"), "{e}");
    assert!(matches!(
        t.load("../etc/passwd"),
        Err(TemplateError::BadName { .. })
    ));
}
