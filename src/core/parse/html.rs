//! HTML to plain text, for messages that carry no text/plain part.
//!
//! A small tolerant scanner rather than a DOM: hostile HTML cannot make it recurse, and
//! script, style and head contents never reach the text.

/// Converts HTML to readable text: block elements become line breaks, entities are decoded,
/// script/style/head contents are dropped, and runs of blank lines are collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skip_until.is_none() {
                push_text(&mut out, rest);
            }
            break;
        };
        if skip_until.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = match rest.find("-->") {
                Some(end) => &rest[end + 3..],
                None => "",
            };
            continue;
        }
        let Some(gt) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(end) = skip_until {
            if closing && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" | "style" | "head" | "title" if !closing => {
                skip_until = Some(match name.as_str() {
                    "script" => "script",
                    "style" => "style",
                    "head" => "head",
                    _ => "title",
                });
            }
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "table" | "ul" | "ol" | "blockquote" | "pre" | "hr" => out.push('\n'),
            "td" | "th" if !closing => out.push(' '),
            _ => {}
        }
    }
    tidy(&out)
}

fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_spaced(out, &rest[..amp]);
        rest = &rest[amp..];
        match rest[1..].find(';').filter(|&n| n <= 10) {
            Some(n) => {
                let entity = &rest[1..1 + n];
                match decode_entity(entity) {
                    Some(c) => out.push(c),
                    None => out.push_str(&rest[..n + 2]),
                }
                rest = &rest[n + 2..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    push_spaced(out, rest);
}

/// HTML collapses white space; so does this.
fn push_spaced(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

fn decode_entity(entity: &str) -> Option<char> {
    if let Some(num) = entity.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match entity {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" | "lsquo" => '\'',
        "rdquo" | "ldquo" => '"',
        _ => return None,
    })
}

/// Trims each line and keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines_and_entities_decode() {
        let t = html_to_text("<p>Dear team,</p><p>Version&nbsp;3.12 &lt;= x &#x26; y&#33;</p>");
        assert_eq!(t, "Dear team,\n\nVersion 3.12 <= x & y!");
    }

    #[test]
    fn script_style_and_comments_are_dropped() {
        let t = html_to_text(
            "<head><title>T</title><style>p{}</style></head><body>a<!-- hidden -->b<script>x()</script></body>",
        );
        assert_eq!(t, "ab");
    }

    #[test]
    fn unterminated_markup_does_not_panic() {
        assert_eq!(html_to_text("text <b"), "text");
        assert_eq!(html_to_text("a &amp"), "a &amp");
        assert_eq!(html_to_text("<!-- open"), "");
    }
}
