//! The headers that make a reply thread in the reporter's client: `Subject`, `In-Reply-To`
//! and `References` (RFC 5322 §3.6.4 and §3.6.5).

/// Reply prefixes that mail clients put in front of a subject: English `Re`, German `AW`,
/// Scandinavian `SV`/`VS`, Dutch `Antw`, Polish `Odp`, Italian `R`/`Rif`, Turkish `Ynt`.
/// Forward prefixes (`Fwd:`) are kept: replying to a forwarded mail is a new step.
const REPLY_PREFIXES: &[&str] = &["re", "aw", "sv", "vs", "antw", "odp", "r", "rif", "ynt"];

/// Longest subject sent; a longer one is cut with an ellipsis.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The subject of a reply: `Re: ` and the original subject without its own reply prefixes,
/// so a thread never grows `Re: Re:` (RFC 5322 §3.6.5 suggests exactly one `Re: `).
///
/// `RE:`, `Re[2]:`, `Re(3):`, `AW:` and repeats of them are all stripped. Control
/// characters (any CR or LF a hostile subject decoded to, ESC…) and whitespace runs become
/// one space.
pub fn reply_subject(original: &str) -> String {
    let base = base_subject(original);
    let base = shorten(&base, MAX_SUBJECT_CHARS - "Re: ".len());
    if base.is_empty() {
        "Re: (no subject)".to_string()
    } else {
        format!("Re: {base}")
    }
}

/// The subject without reply prefixes and with whitespace runs collapsed, shortened to
/// [`MAX_SUBJECT_CHARS`]: what the thread is about, for `{subject}` in a
/// template.
pub fn base_subject(original: &str) -> String {
    let flat = super::flatten(original);
    let mut rest = flat.as_str();
    while let Some(after) = strip_reply_prefix(rest) {
        rest = after;
    }
    shorten(rest, MAX_SUBJECT_CHARS)
}

/// `text` cut to `max` characters, the last being an ellipsis, when it is longer: a subject
/// or a name from a hostile mail (a 1 MB subject) is shortened rather than refused.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// Strips one leading reply prefix (`Re:`, `RE :`, `Re[2]:`, `Re(2):`), if there is one.
fn strip_reply_prefix(s: &str) -> Option<&str> {
    let word_len = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    let word = &s[..word_len];
    if !REPLY_PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p)) {
        return None;
    }
    let mut rest = &s[word_len..];
    // An optional counter: `[2]` or `(2)`.
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = rest.strip_prefix(open) {
            let end = inner.find(close)?;
            if !inner[..end].chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            rest = &inner[end + 1..];
            break;
        }
    }
    let rest = rest.trim_start_matches(' ').strip_prefix(':')?;
    Some(rest.trim_start())
}

/// How many ids of a long References chain are kept: the root plus the most recent ones.
/// Long chains get cut by some servers; the root and the parent matter most for threading.
const MAX_REFERENCES: usize = 20;

/// The `References` of a reply to a message (RFC 5322 §3.6.4): the parent's References
/// (or, lacking those, its single In-Reply-To), followed by the parent's Message-ID.
/// Duplicates are dropped and a long chain keeps its root and its newest ids.
pub fn reply_references(
    parent_id: Option<&str>,
    parent_references: &[String],
    parent_in_reply_to: &[String],
) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    let base: &[String] = if !parent_references.is_empty() {
        parent_references
    } else if parent_in_reply_to.len() == 1 {
        parent_in_reply_to
    } else {
        &[]
    };
    for id in base.iter().map(String::as_str).chain(parent_id) {
        if !chain.iter().any(|c| c == id) {
            chain.push(id.to_string());
        }
    }
    if chain.len() > MAX_REFERENCES {
        let tail = chain.split_off(chain.len() - (MAX_REFERENCES - 1));
        chain.truncate(1);
        chain.extend(tail);
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_gets_exactly_one_re() {
        for (orig, want) in [
            ("tarfile escape", "Re: tarfile escape"),
            ("Re: tarfile escape", "Re: tarfile escape"),
            ("RE: tarfile escape", "Re: tarfile escape"),
            ("re:tarfile escape", "Re: tarfile escape"),
            ("Re: Re: RE: tarfile", "Re: tarfile"),
            ("Re[2]: tarfile", "Re: tarfile"),
            ("Re(3): tarfile", "Re: tarfile"),
            ("AW: Re: Sicherheitslücke", "Re: Sicherheitslücke"),
            ("SV: sårbarhet", "Re: sårbarhet"),
            ("Re : spaced", "Re: spaced"),
            ("", "Re: (no subject)"),
            ("Re:", "Re: (no subject)"),
        ] {
            assert_eq!(reply_subject(orig), want, "{orig:?}");
        }
    }

    #[test]
    fn words_that_merely_start_like_prefixes_are_kept() {
        assert_eq!(
            reply_subject("Regression in zipfile"),
            "Re: Regression in zipfile"
        );
        assert_eq!(reply_subject("Fwd: report"), "Re: Fwd: report");
        assert_eq!(reply_subject("Re[x]: odd"), "Re: Re[x]: odd");
        assert_eq!(reply_subject("Resolved: bug"), "Re: Resolved: bug");
    }

    #[test]
    fn line_breaks_and_escapes_in_a_subject_are_flattened() {
        assert_eq!(
            reply_subject("hi\r\nBcc: victim@example.org"),
            "Re: hi Bcc: victim@example.org"
        );
        assert_eq!(reply_subject("a\x1b]2;x\x07b\0c"), "Re: a ]2;x b c");
    }

    #[test]
    fn references_extend_the_parent_chain() {
        let refs = vec!["root@x".to_string(), "mid@x".to_string()];
        assert_eq!(
            reply_references(Some("parent@x"), &refs, &[]),
            vec!["root@x", "mid@x", "parent@x"]
        );
        // No References: a single In-Reply-To stands in for them.
        assert_eq!(
            reply_references(Some("parent@x"), &[], &["up@x".to_string()]),
            vec!["up@x", "parent@x"]
        );
        // A first message: just its own id.
        assert_eq!(reply_references(Some("p@x"), &[], &[]), vec!["p@x"]);
        assert!(reply_references(None, &[], &[]).is_empty());
    }

    #[test]
    fn long_chains_keep_root_and_newest() {
        let refs: Vec<String> = (0..50).map(|i| format!("{i}@x")).collect();
        let out = reply_references(Some("parent@x"), &refs, &[]);
        assert_eq!(out.len(), MAX_REFERENCES);
        assert_eq!(out[0], "0@x");
        assert_eq!(out.last().unwrap(), "parent@x");
        assert_eq!(out[out.len() - 2], "49@x");
    }
}
