//! Making attacker-controlled text safe for the places it goes: the terminal, a CSV cell,
//! an HTML page and an outgoing header.
//!
//! The desk reads hostile mail. Every piece of message text passes through here before it is
//! shown or written anywhere a machine might interpret it.

/// Makes text safe to print on a terminal, keeping line breaks and tabs.
///
/// Escape sequences lose their ESC (shown as `␛`, so the trick stays visible but inert),
/// other C0 controls become their visible pictures, and every character that changes how
/// text reads without being seen ([`is_hidden`]: C1 controls, bidi controls, zero-width and
/// other default-ignorable characters, tag characters) is shown as its code, `<U+202E>`.
pub fn terminal_text(s: &str) -> String {
    let mut out = Shown::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push_plain(c),
            '\r' => {}
            _ => out.push_safe(c),
        }
    }
    out.finish()
}

/// Like [`terminal_text`], for a single line: line breaks and tabs become spaces.
pub fn terminal_line(s: &str) -> String {
    let mut out = Shown::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' | '\r' => {
                if !out.text.ends_with(' ') {
                    out.push_plain(' ');
                }
            }
            _ => out.push_safe(c),
        }
    }
    out.finish()
}

/// Like [`terminal_line`], cut to at most `max_chars` characters (and `…`): for a
/// server's or a program's text quoted in a one-line error, which must stay one short line.
pub fn terminal_line_cut(s: &str, max_chars: usize) -> String {
    let line = terminal_line(s);
    match line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// How many zero-width characters (combining marks, conjoining vowels …) in a row are drawn
/// on one character. Real text stacks at most three or four (Vietnamese two, Hebrew with
/// points and cantillation four); "Zalgo" text stacks thousands, which draws over the
/// lines around it and makes every row that holds it as costly to lay out as the whole run.
pub const MAX_MARKS_IN_A_ROW: usize = 4;

/// Text being made terminal-safe: what is shown so far, and the run of zero-width
/// characters at its end, whose excess is counted and shown as `<+N marks>`.
struct Shown {
    text: String,
    marks: usize,
    dropped: usize,
}

impl Shown {
    fn with_capacity(n: usize) -> Shown {
        Shown {
            text: String::with_capacity(n),
            marks: 0,
            dropped: 0,
        }
    }

    /// A character that is safe to print as it is.
    fn push_plain(&mut self, c: char) {
        use unicode_width::UnicodeWidthChar;
        if c.width() == Some(0) {
            if self.marks >= MAX_MARKS_IN_A_ROW {
                self.dropped += 1;
                return;
            }
            self.marks += 1;
        } else {
            self.end_marks();
        }
        self.text.push(c);
    }

    /// Visible text of our own (a code, a picture): it ends a run of marks.
    fn push_str(&mut self, s: &str) {
        self.end_marks();
        self.text.push_str(s);
    }

    fn end_marks(&mut self) {
        if self.dropped > 0 {
            self.text.push_str(&format!("<+{} marks>", self.dropped));
        }
        self.marks = 0;
        self.dropped = 0;
    }

    fn push_safe(&mut self, c: char) {
        match c {
            '\u{1b}' => self.push_str("␛"),
            '\u{7f}' => self.push_str("␡"),
            // C0 controls have visible pictures at U+2400 + code.
            '\u{0}'..='\u{1f}' => {
                let picture = char::from_u32(0x2400 + c as u32).unwrap_or('�');
                self.push_str(picture.encode_utf8(&mut [0; 4]));
            }
            c if is_hidden(c) => self.push_str(&code(c)),
            c => self.push_plain(c),
        }
    }

    fn finish(mut self) -> String {
        self.end_marks();
        self.text
    }
}

/// `<U+202E>`: how a hidden character is shown.
fn code(c: char) -> String {
    format!("<U+{:04X}>", c as u32)
}

fn push_code(out: &mut String, c: char) {
    out.push_str(&code(c));
}

/// True for a character that changes how text reads, or hides text, without being seen:
/// C1 controls, every Default_Ignorable_Code_Point (zero-width characters, U+00AD, U+034F,
/// U+180E, U+3164, variation selectors, tag characters U+E0000–E0FFF …), every Bidi_Control,
/// every other format character (U+FFF9–FFFB …) and the line and paragraph separators
/// U+2028/U+2029. The sets are Unicode's own, from `icu_properties`, not a hand list.
pub fn is_hidden(c: char) -> bool {
    use icu_properties::props::{BidiControl, DefaultIgnorableCodePoint, GeneralCategory};
    use icu_properties::{CodePointMapData, CodePointSetData};
    if c.is_ascii() {
        return false;
    }
    if ('\u{80}'..='\u{9f}').contains(&c)
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointSetData::new::<BidiControl>().contains(c)
    {
        return true;
    }
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Mail text quoted into a reply (the editor buffer, then the sent message): control
/// characters are dropped (an escape sequence keeps its words, loses its ESC), line breaks
/// and tabs stay, and hidden characters are shown as `<U+XXXX>`, as on the terminal, so
/// the quote cannot hide text from the person editing it nor from the reporter.
pub fn quoted_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c if is_hidden(c) => push_code(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// The classifier's token separators: bidi embeddings, overrides and isolates, directional
/// marks and zero-width characters. (What the screen must show is [`is_hidden`], a superset.)
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

/// True when nothing in `s` would be interpreted by a terminal or hide anything on it.
pub fn is_terminal_safe(s: &str) -> bool {
    s.chars()
        .all(|c| !(is_hidden(c) || (c.is_control() && c != '\n' && c != '\t')))
}

/// Escapes, in JSON text, every character a terminal would act on or hide ([`is_hidden`],
/// DEL, and any raw control) as `\uXXXX` (a UTF-16 surrogate pair above U+FFFF), for JSON
/// shown on a terminal, and the zero-width characters of a run longer than
/// [`MAX_MARKS_IN_A_ROW`] (the combining marks of "Zalgo" text) too. Those characters only
/// ever occur inside JSON strings, so the escaped text decodes to exactly the same value.
pub fn json_for_terminal(json: &str) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::with_capacity(json.len());
    let mut marks = 0;
    for c in json.chars() {
        // A raw line break or tab is layout between values (inside a string serde_json has
        // already escaped it).
        let acts = (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || is_hidden(c);
        let zero_width = !acts && c.width() == Some(0);
        marks = if zero_width { marks + 1 } else { 0 };
        if acts || marks > MAX_MARKS_IN_A_ROW {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for an HTML page's text or a quoted attribute value: `&`, `<`, `>`, `"` and `'` as
/// character references (HTML, "Escaping a string"), so a name or title cannot open a tag.
pub fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One CSV cell (RFC 4180), guarded against formula injection: a cell a spreadsheet would
/// evaluate gets a leading `'`. That is a cell whose first character is `=`, `+`, `-` or `@`
/// (or their full-width and small forms, `＝`, `﹢`: anything that is one of them under
/// NFKC), also after leading white space and quotes (which spreadsheets skip), or a cell
/// starting with a tab or CR.
///
/// A cell never carries a C0 or C1 control nor a hidden character: line breaks and tabs
/// become spaces, ESC and the other controls their visible pictures, hidden characters
/// `<U+XXXX>` (as on the terminal), so a CSV printed to a terminal or opened in a
/// spreadsheet cannot act on either.
pub fn csv_cell(s: &str) -> String {
    let mut text = Shown::with_capacity(s.len() + 1);
    if is_formula(s) {
        text.push_plain('\'');
    }
    for c in s.chars() {
        match c {
            '\n' | '\t' | '\r' => text.push_plain(' '),
            _ => text.push_safe(c),
        }
    }
    let text = text.finish();
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// True when a spreadsheet could read the cell as a formula (see [`csv_cell`]).
fn is_formula(s: &str) -> bool {
    if s.starts_with(['\t', '\r']) {
        return true;
    }
    let first = s.chars().find(|&c| !(c.is_whitespace() || is_quote(c)));
    let Some(first) = first else {
        return false;
    };
    let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
    let mut utf8 = [0; 4];
    let folded = nfkc.normalize(first.encode_utf8(&mut utf8));
    folded.starts_with(['=', '+', '-', '@', '\u{2212}'])
}

/// A quotation mark a spreadsheet may skip before a formula: `"`, `'`, and their full-width
/// and typographic forms.
fn is_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '\u{ff02}' | '\u{ff07}' | '\u{2018}'..='\u{201f}' | '`'
    )
}

/// One CSV record (RFC 4180 §2): every cell through [`csv_cell`], commas between, CRLF at
/// the end. The one writer of every CSV secdesk prints (`list --csv`, `stats --format csv`),
/// so they all end lines alike and none skips the formula guard.
pub fn csv_record<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell.as_ref()));
    }
    out.push_str("\r\n");
    out
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
        .filter(|c| !c.is_control() && !is_hidden(*c))
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    if cleaned.is_empty() {
        return fallback.to_string();
    }
    // A name starting with `-` would be an option to the next command run on `*`.
    let cleaned = match cleaned.strip_prefix('-') {
        Some(rest) => format!("_{rest}"),
        None => cleaned.to_string(),
    };
    fit_file_name(&cleaned, MAX_FILE_NAME_BYTES)
}

/// File systems allow 255 bytes in a name; this leaves room for a `-N` suffix.
const MAX_FILE_NAME_BYTES: usize = 200;

/// `name` cut to `max` bytes at a character boundary, keeping a short extension.
fn fit_file_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let room = max.saturating_sub(ext.len());
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &stem[..cut])
}

/// `poc.py` → (`poc`, `.py`): an extension of up to 16 bytes after a non-empty stem, else
/// none.
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => name.split_at(dot),
        _ => (name, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_cannot_open_a_tag_or_leave_an_attribute() {
        assert_eq!(
            html_text(r#"<b onclick="x">Tom & 'Jerry'</b>"#),
            "&lt;b onclick=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(html_text("Europe/Berlin"), "Europe/Berlin");
    }

    #[test]
    fn escape_sequences_are_inert_and_visible() {
        let s = terminal_line("a\x1b[31mred\x1b]52;c;ZXZpbA==\x07 b");
        assert!(is_terminal_safe(&s), "{s:?}");
        assert_eq!(s, "a␛[31mred␛]52;c;ZXZpbA==␇ b");
    }

    #[test]
    fn c1_bidi_and_zero_width_are_shown_as_codes() {
        let s = terminal_line("x\u{9b}31m \u{202e}txt.exe\u{200b}");
        assert!(is_terminal_safe(&s));
        assert_eq!(s, "x<U+009B>31m <U+202E>txt.exe<U+200B>");
    }

    #[test]
    fn every_invisible_character_the_issue_names_is_shown() {
        let named = [
            '\u{00ad}', '\u{034f}', '\u{180e}', '\u{2028}', '\u{2029}', '\u{3164}', '\u{fff9}',
            '\u{fffa}', '\u{fffb}', '\u{2066}', '\u{2069}', '\u{061c}', '\u{feff}',
        ];
        let tags = (0xe0000..=0xe007f).filter_map(char::from_u32);
        for c in named.into_iter().chain(tags) {
            assert!(is_hidden(c), "U+{:04X} is not treated as hidden", c as u32);
            let shown = terminal_text(&format!("a{c}b"));
            assert_eq!(shown, format!("a<U+{:04X}>b", c as u32));
            assert!(is_terminal_safe(&shown));
            assert!(!is_terminal_safe(&format!("a{c}b")));
        }
        // A sentence hidden in tag characters becomes a visible run of codes.
        let hidden: String = "ok"
            .chars()
            .map(|c| char::from_u32(0xe0000 + c as u32).unwrap())
            .collect();
        assert_eq!(terminal_line(&hidden), "<U+E006F><U+E006B>");
        // Ordinary text is untouched.
        for text in ["plain", "grüße", "日本語", "Ελληνικά", "עברית", "emoji 🙂"]
        {
            assert_eq!(terminal_line(text), text);
        }
    }

    #[test]
    fn json_on_a_terminal_escapes_what_would_act_or_hide() {
        let json = serde_json::to_string_pretty(&["a\u{202e}b\u{9b}c\u{e0041}\u{7f}d\n"]).unwrap();
        let shown = json_for_terminal(&json);
        assert_eq!(
            shown,
            "[\n  \"a\\u202eb\\u009bc\\udb40\\udc41\\u007fd\\n\"\n]"
        );
        let back: Vec<String> = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, ["a\u{202e}b\u{9b}c\u{e0041}\u{7f}d\n"]);
        assert!(shown.is_ascii());
    }

    #[test]
    fn json_on_a_terminal_escapes_the_marks_past_a_few() {
        let zalgo = format!("Z{}algo", "\u{301}".repeat(20));
        let json = serde_json::to_string(&[&zalgo]).unwrap();
        let shown = json_for_terminal(&json);
        assert_eq!(
            shown,
            format!(
                "[\"Z{}{}algo\"]",
                "\u{301}".repeat(MAX_MARKS_IN_A_ROW),
                "\\u0301".repeat(20 - MAX_MARKS_IN_A_ROW)
            )
        );
        let back: Vec<String> = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, [zalgo]);
    }

    #[test]
    fn csv_cells_carry_no_controls() {
        let cell = csv_cell("\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}x\r\ny\u{2067}");
        assert_eq!(cell, "␛]0;pwned␇␛[2J<U+009B>x  y<U+2067>");
        assert!(cell.chars().all(|c| !c.is_control()));
        assert_eq!(csv_cell("\t=1+1"), "' =1+1");
        assert_eq!(csv_cell("-2,\"x\""), "\"'-2,\"\"x\"\"\"");
    }

    #[test]
    fn a_formula_is_guarded_behind_spaces_quotes_and_in_full_width() {
        for cell in [
            " =1+1",
            "\u{a0}\u{3000}+1",
            "\"=cmd|' /C calc'!A0",
            "'@SUM(A1)",
            "\" \u{201c}-2",
            "\u{ff1d}HYPERLINK(\"x\")",
            "\u{fe66}1",
            "\u{ff0b}1",
            "\u{ff0d}1",
            "\u{ff20}SUM(A1)",
            "\u{2212}1",
            "\r=1",
        ] {
            let guarded = csv_cell(cell);
            let unquoted = guarded.strip_prefix('"').unwrap_or(&guarded);
            assert!(unquoted.starts_with('\''), "{cell:?} became {guarded:?}");
        }
        for plain in ["a = b", "x@example.org", "1-2", "\u{ff21}bc", "<U+200B>"] {
            assert_eq!(csv_cell(plain), plain);
        }
    }

    #[test]
    fn a_run_of_combining_marks_is_cut_and_counted() {
        let zalgo = format!("Z{}algo", "\u{301}".repeat(20_000));
        for shown in [
            terminal_line(&zalgo),
            terminal_text(&zalgo),
            csv_cell(&zalgo),
        ] {
            assert_eq!(
                shown,
                format!(
                    "Z{}<+19996 marks>algo",
                    "\u{301}".repeat(MAX_MARKS_IN_A_ROW)
                )
            );
        }
        // Each base character gets its own marks; real text is untouched.
        for text in [
            "Tiếng Việt",
            "בְּרֵאשִׁ֖ית",
            "हिन्दी",
            "e\u{301}\u{302}\u{303}\u{304}",
        ] {
            assert_eq!(terminal_line(text), text);
        }
        // A hidden character between marks does not restart the count unseen.
        assert_eq!(
            terminal_line("a\u{301}\u{301}\u{301}\u{301}\u{301}\u{200b}\u{301}"),
            "a\u{301}\u{301}\u{301}\u{301}<+1 marks><U+200B>\u{301}"
        );
    }

    #[test]
    fn quotes_drop_controls_and_show_hidden_characters() {
        assert_eq!(
            quoted_text("see \u{1b}]2;x\u{7} a\u{202e}b\u{e0041}\r\n> c\td"),
            "see ]2;x a<U+202E>b<U+E0041>\n> c\td"
        );
    }

    #[test]
    fn body_text_keeps_lines() {
        assert_eq!(terminal_text("a\r\nb\tc"), "a\nb\tc");
        assert_eq!(terminal_line("a\r\nb\tc"), "a b c");
    }

    #[test]
    fn a_csv_record_guards_each_cell_and_ends_in_crlf() {
        assert_eq!(
            csv_record(&["1", "=cmd|' /C calc'!A0", "a,b", "x\r\ny"]),
            "1,'=cmd|' /C calc'!A0,\"a,b\",x  y\r\n"
        );
        assert_eq!(csv_record::<&str>(&[]), "\r\n");
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
        assert_eq!(safe_file_name(Some("-rf"), "a"), "_rf");
    }

    #[test]
    fn a_long_name_fits_the_file_system_and_keeps_its_extension() {
        let long = format!("{}.txt", "日".repeat(120));
        let name = safe_file_name(Some(&long), "a");
        assert!(name.len() <= MAX_FILE_NAME_BYTES, "{} bytes", name.len());
        assert!(name.ends_with("日.txt"), "{name}");
        assert_eq!(name.chars().filter(|&c| c == '日').count(), 65);
        let no_ext = safe_file_name(Some(&"é".repeat(300)), "a");
        assert!(no_ext.len() <= MAX_FILE_NAME_BYTES && no_ext.chars().all(|c| c == 'é'));
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        assert!(header_value("subject", "Re: hi").is_ok());
        let e = header_value("subject", "hi\r\nBcc: x@evil").unwrap_err();
        assert!(e.to_string().contains("subject"));
        assert!(header_value("reply-to", "a\nb").is_err());
    }
}
