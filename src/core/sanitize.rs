//! Making attacker-controlled text safe for the places it goes: the terminal, a CSV cell and
//! an outgoing header.
//!
//! The desk reads hostile mail. Every piece of message text passes through here before it is
//! shown or written anywhere a machine might interpret it.

/// Makes text safe to print on a terminal, keeping line breaks and tabs.
///
/// Escape sequences lose their ESC (shown as `␛`, so the trick stays visible but inert),
/// other C0 and C1 controls become their visible pictures or `�`, and bidi overrides and
/// zero-width characters become `�`.
pub fn terminal_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => {}
            _ => push_safe(&mut out, c),
        }
    }
    out
}

/// Like [`terminal_text`], for a single line: line breaks and tabs become spaces.
pub fn terminal_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' | '\r' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            _ => push_safe(&mut out, c),
        }
    }
    out
}

fn push_safe(out: &mut String, c: char) {
    match c {
        '\u{1b}' => out.push('␛'),
        '\u{7f}' => out.push('␡'),
        // C0 controls have visible pictures at U+2400 + code.
        '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
        '\u{80}'..='\u{9f}' => out.push('�'),
        c if is_invisible_format(c) => out.push('�'),
        c => out.push(c),
    }
}

/// Bidi embeddings, overrides and isolates, directional marks and zero-width characters:
/// they change how surrounding text reads without being seen.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// True when nothing in `s` would be interpreted by a terminal.
pub fn is_terminal_safe(s: &str) -> bool {
    s.chars()
        .all(|c| !(is_invisible_format(c) || (c.is_control() && c != '\n' && c != '\t')))
}

/// One CSV cell (RFC 4180), guarded against formula injection: a cell a spreadsheet would
/// evaluate (`=`, `+`, `-`, `@`, tab or CR first) gets a leading `'`.
pub fn csv_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Why a value cannot go into a header we send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} contains a line break, which could inject mail headers: remove it")]
pub struct HeaderInjection {
    pub field: String,
}

/// Checks a value for an outgoing header: CR, LF and NUL are refused.
pub fn header_value<'a>(field: &str, value: &'a str) -> Result<&'a str, HeaderInjection> {
    if value.contains(['\r', '\n', '\0']) {
        Err(HeaderInjection {
            field: field.to_string(),
        })
    } else {
        Ok(value)
    }
}

/// A file name that is safe to create inside a chosen folder: only the last path component
/// of what the sender wrote, without controls or bidi tricks, no leading dots, and only
/// plain characters. `fallback` is used when nothing usable remains.
pub fn safe_file_name(name: Option<&str>, fallback: &str) -> String {
    let last = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_inert_and_visible() {
        let s = terminal_line("a\x1b[31mred\x1b]52;c;ZXZpbA==\x07 b");
        assert!(is_terminal_safe(&s), "{s:?}");
        assert_eq!(s, "a␛[31mred␛]52;c;ZXZpbA==␇ b");
    }

    #[test]
    fn c1_bidi_and_zero_width_are_replaced() {
        let s = terminal_line("x\u{9b}31m \u{202e}txt.exe\u{200b}");
        assert!(is_terminal_safe(&s));
        assert_eq!(s, "x�31m �txt.exe�");
    }

    #[test]
    fn body_text_keeps_lines() {
        assert_eq!(terminal_text("a\r\nb\tc"), "a\nb\tc");
        assert_eq!(terminal_line("a\r\nb\tc"), "a b c");
    }

    #[test]
    fn csv_cells_are_guarded() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn file_names_cannot_escape_the_folder() {
        assert_eq!(safe_file_name(Some("../../.bashrc"), "a"), "bashrc");
        assert_eq!(safe_file_name(Some("..\\..\\win.ini"), "a"), "win.ini");
        assert_eq!(safe_file_name(Some("/etc/passwd"), "a"), "passwd");
        assert_eq!(safe_file_name(Some(".."), "attachment-1"), "attachment-1");
        assert_eq!(safe_file_name(None, "attachment-2"), "attachment-2");
        assert_eq!(
            safe_file_name(Some("\u{1b}[31mred\u{202e}txt.exe"), "a"),
            "_31mredtxt.exe"
        );
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        assert!(header_value("subject", "Re: hi").is_ok());
        let e = header_value("subject", "hi\r\nBcc: x@evil").unwrap_err();
        assert!(e.to_string().contains("subject"));
        assert!(header_value("reply-to", "a\nb").is_err());
    }
}
