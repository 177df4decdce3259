//! The reasons a held post is rejected with. They are templates like the replies'
//! (`core::reply::Templates::reject_reasons`: shipped in `assets/templates/reject/`,
//! overridden or added to by `templates/reject/NAME.txt` beside the config) and use the same
//! placeholders: `{reporter_name}` is the sender, `{subject}` the post's subject, `{my_name}`
//! and `{signature}` the moderator's; `{report_id}` and `{quote}` are empty (a held post is
//! no report yet, and Mailman attaches the post to its notice itself).
//!
//! Mailman mails the rendered text to the sender as the reject's `comment`. The sender's
//! fields are put in as single sanitized lines.

use std::path::Path;

use super::HeldPost;
use crate::core::reply::{Placeholders, TemplateError, Templates};
use crate::core::sanitize::{terminal_line, terminal_line_cut};

/// One reject reason, as the desk offers it: its name and its text for one post, or why
/// the template cannot be used (shown when it is chosen).
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub name: String,
    pub text: Result<String, String>,
}

/// Every reject reason (shipped and `config_dir/templates/reject/`), rendered for `post`.
pub fn for_post(
    config_dir: &Path,
    post: &HeldPost,
    my_name: &str,
    signature: Option<&str>,
) -> Vec<Reason> {
    let templates = Templates::reject_reasons(config_dir);
    templates
        .names()
        .into_iter()
        .map(|name| {
            let text = render(&templates, &name, post, my_name, signature)
                .map_err(|e| terminal_line(&e.to_string()));
            Reason { name, text }
        })
        .collect()
}

/// The reason `name` for `post`. A template with front matter is refused: a reject changes
/// no report's state.
pub fn render(
    templates: &Templates,
    name: &str,
    post: &HeldPost,
    my_name: &str,
    signature: Option<&str>,
) -> Result<String, TemplateError> {
    let tpl = templates.load(name)?;
    if tpl.state_change.is_some() {
        return Err(TemplateError::FrontMatter {
            name: tpl.name.clone(),
            origin: tpl.origin.clone(),
            line: 1,
            message: "a reject reason changes no report: remove the `---` front matter".into(),
        });
    }
    let values = Placeholders {
        reporter_name: terminal_line(&post.sender),
        report_id: String::new(),
        subject: bounded_subject(&post.subject),
        my_name: my_name.to_string(),
        quote: String::new(),
        signature: signature.unwrap_or_default().to_string(),
    };
    // Trailing blank lines (an empty signature) are not part of the reason.
    let text = tpl.render(&values);
    Ok(format!("{}\n", text.trim_end()))
}

/// The most characters of the post's subject a reason quotes (`{subject}`): the sender
/// chooses it, and a subject of thousands of characters would bury the reason.
pub const SUBJECT_CHARS: usize = 200;

/// The post's subject as a reason quotes it: one sanitized line, at most [`SUBJECT_CHARS`]
/// characters, cut with "…".
fn bounded_subject(subject: &str) -> String {
    terminal_line_cut(subject, SUBJECT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(subject: &str) -> HeldPost {
        HeldPost {
            list: "security@example.org".into(),
            request_id: 7,
            message_id: Some("a@example.net".into()),
            sender: "mallory@example.net".into(),
            subject: subject.into(),
            reason: "The message is not from a list member".into(),
            hold_date: None,
            raw: Vec::new(),
        }
    }

    #[test]
    fn shipped_reasons_render_with_the_sender_and_a_sanitized_subject() {
        let dir = tempfile::tempdir().unwrap();
        let reasons = for_post(
            dir.path(),
            &post("Crash\u{1b}]2;x\u{7}\nBcc: x"),
            "Ada",
            None,
        );
        let names: Vec<&str> = reasons.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["not-a-vulnerability", "off-topic", "send-to-project"]
        );
        for r in &reasons {
            let text = r.text.as_ref().unwrap();
            assert!(text.contains("mallory@example.net"), "{text}");
            assert!(text.contains("Ada"), "{text}");
            assert!(
                !text.contains('\u{1b}') && !text.contains("\nBcc"),
                "{text}"
            );
            assert!(!text.contains('{'), "{text}");
        }
    }

    #[test]
    fn a_reason_beside_the_config_overrides_or_adds_and_front_matter_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("templates").join("reject");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("off-topic.txt"), "Not here, {reporter_name}.\n").unwrap();
        std::fs::write(folder.join("duplicate-post.txt"), "Already posted.\n").unwrap();
        std::fs::write(folder.join("bad.txt"), "---\nstate = invalid\n---\nNo.\n").unwrap();
        let reasons = for_post(dir.path(), &post("Hi"), "Ada", Some("-- Ada"));
        let get = |n: &str| reasons.iter().find(|r| r.name == n).unwrap().text.clone();
        assert_eq!(
            get("off-topic").unwrap(),
            "Not here, mallory@example.net.\n"
        );
        assert_eq!(get("duplicate-post").unwrap(), "Already posted.\n");
        let bad = get("bad").unwrap_err();
        assert!(
            bad.contains("front matter") && bad.contains("bad.txt"),
            "{bad}"
        );
        // The reply templates do not list the reject folder.
        let replies = Templates::new(dir.path()).names();
        assert!(!replies
            .iter()
            .any(|n| n == "duplicate-post" || n == "reject"));
    }

    #[test]
    fn an_unknown_reason_names_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let e = render(
            &Templates::reject_reasons(dir.path()),
            "nope",
            &post("x"),
            "Ada",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("no reject reason named \"nope\"") && e.contains("templates/reject"),
            "{e}"
        );
    }

    #[test]
    fn a_huge_subject_is_quoted_cut_to_200_characters() {
        let dir = tempfile::tempdir().unwrap();
        let subject = "S".repeat(3_000);
        for r in for_post(dir.path(), &post(&subject), "Ada", None) {
            let text = r.text.unwrap();
            assert!(
                text.contains(&format!("{}…", "S".repeat(SUBJECT_CHARS))),
                "{text}"
            );
            assert!(!text.contains(&"S".repeat(SUBJECT_CHARS + 1)), "{text}");
        }
    }
}
