//! Which HTML elements a mail reader never shows, and how far they reach.
//!
//! Spam hides words a filter should read and a person should not: a vulnerability report's
//! marks (`Traceback`, `Lib/tarfile.py`) under a lottery mail, or letters inside a word
//! (`Ci<span style="display:none">xq</span>alis`). [`super::html`] marks the text of such
//! elements so that the classifier reads the mail as its reader sees it, while a triager
//! still sees what was hidden, labelled. The test is what mail clients honour: the
//! `hidden` attribute and inline styles (`display:none`, `visibility:hidden`, `opacity:0`,
//! `mso-hide:all` for Outlook, a font of 1px or less). Style sheets and colours are not
//! read: white text is readable on a dark background.

/// Whether a start tag with this `style` attribute (decoded) and `hidden` attribute hides
/// its contents.
pub fn hides(style: Option<&str>, hidden_attribute: bool) -> bool {
    hidden_attribute || style.is_some_and(style_hides)
}

fn style_hides(style: &str) -> bool {
    style.split(';').any(|declaration| {
        let Some((property, value)) = declaration.split_once(':') else {
            return false;
        };
        let property = property.trim().to_ascii_lowercase();
        let value: String = value
            .to_ascii_lowercase()
            .replace("!important", "")
            .split_whitespace()
            .collect();
        match property.as_str() {
            "display" => value == "none",
            "visibility" => value == "hidden" || value == "collapse",
            "mso-hide" => value == "all",
            "opacity" => value.parse::<f64>().is_ok_and(|v| v <= 0.0),
            "font-size" => tiny_font(&value),
            _ => false,
        }
    })
}

/// A font size no one reads: zero in any unit, at most 1px or 1pt, a tenth of an em.
fn tiny_font(value: &str) -> bool {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let Ok(size) = value[..number_end].parse::<f64>() else {
        return false;
    };
    match &value[number_end..] {
        _ if size == 0.0 => true,
        "px" | "pt" => size <= 1.0,
        "em" | "rem" => size <= 0.1,
        "%" => size <= 10.0,
        _ => false,
    }
}

/// Elements that have no contents and no end tag (HTML, "void elements"): hiding one hides
/// no text.
pub fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Elements a browser reads inside a line (formatting, `span`): a stray end tag of one does
/// not end a block around it.
pub fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "nobr"
            | "s"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "tt"
            | "u"
    )
}

/// Whether a start tag `opening` ends the open element `open` without its end tag, as a
/// browser's parser does (`<p>a<p>b`, `<li>a<li>b`, a block after a `<p>`).
pub fn closes_implicitly(open: &str, opening: &str) -> bool {
    match open {
        "p" => matches!(
            opening,
            "p" | "div"
                | "ul"
                | "ol"
                | "table"
                | "pre"
                | "blockquote"
                | "hr"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
        ),
        "li" => opening == "li",
        "td" | "th" => matches!(opening, "td" | "th" | "tr"),
        "tr" => opening == "tr",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_styles_mail_clients_hide() {
        for style in [
            "display:none",
            "DISPLAY: None !important",
            "color:red; visibility:hidden",
            "mso-hide:all",
            "font-size:0",
            "font-size:0px",
            "color:#ffffff;font-size:1px",
            "font-size:0.5pt",
            "opacity:0",
        ] {
            assert!(hides(Some(style), false), "{style}");
        }
        for style in [
            "display:block",
            "font-size:12px",
            "font-size:1em",
            "color:#ffffff",
            "font-size:small",
            "opacity:0.8",
        ] {
            assert!(!hides(Some(style), false), "{style}");
        }
        assert!(hides(None, true));
        assert!(!hides(None, false));
    }
}
