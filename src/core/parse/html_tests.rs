//! HTML to text: what a triager must still see once the markup is gone.

use super::*;
use crate::core::sanitize::terminal_text;

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
    // As a browser reads it: `&amp` is one of the old names read without its `;`.
    assert_eq!(html_to_text("a &amp"), "a &");
    assert_eq!(html_to_text("a &am"), "a &am");
    assert_eq!(html_to_text("<!-- open"), "");
    assert_eq!(html_to_text("<a href=\"https://x.example/"), "");
    assert_eq!(
        html_to_text("<a href='x'>open link"),
        "open link [1]\n\n[1] x"
    );
}

#[test]
fn links_become_numbered_references_listed_at_the_end() {
    let t = html_to_text(
        "<p>See <a href=\"https://bugs.example/1\">the bug</a> and \
         <a href='https://docs.example/a?b=1&amp;c=2'>the docs</a>; again \
         <A HREF=https://bugs.example/1>here</A>.</p>",
    );
    assert_eq!(
        t,
        "See the bug [1] and the docs [2]; again here [1].\n\n\
         [1] https://bugs.example/1\n\
         [2] https://docs.example/a?b=1&c=2"
    );
}

/// The classifier reads the text without what the references added, as it read HTML mail
/// before they were there.
#[test]
fn the_references_are_marked_so_the_classifier_can_leave_them_out() {
    let html = "<p>See <a href=\"https://bugs.example/1\">the bug</a> and <a href=x>x</a> \
                <a href=y></a>more</p><pre>  <a href=z>z2</a> kept</pre>";
    let (text, marks) = html_to_text_with_links(html);
    assert_eq!(
        text,
        "See the bug [1] and x [2]more\n\n  z2 [3] kept\n\n[1] https://bugs.example/1\n[2] y\n[3] z"
    );
    let mut without = String::new();
    let mut at = 0;
    for r in &marks {
        without.push_str(&text[at..r.start]);
        at = r.end;
    }
    without.push_str(&text[at..]);
    assert_eq!(without, "See the bug and x more\n\n  z2 kept");
    let m = crate::core::parse::parse_message(
        format!("Content-Type: text/html\r\n\r\n{html}").as_bytes(),
    );
    assert_eq!(m.body_text, text);
    assert_eq!(m.classifier_text(), without);
    // Marks in the mail's own text cannot pose as references.
    let (t, marks) = html_to_text_with_links("a \u{fdd0} [9]\u{fdd1} b");
    assert_eq!((t.as_str(), marks.len()), ("a \u{fffd} [9]\u{fffd} b", 0));
}

/// The classic phishing link: the text names one site, the target is another. Both show.
#[test]
fn a_link_whose_text_differs_from_its_target_shows_the_target() {
    let t = html_to_text(
        "<p>Log in at <a href=\"https://paypa1.example/login\">https://www.paypal.com/</a></p>",
    );
    assert_eq!(
        t,
        "Log in at https://www.paypal.com/ [1]\n\n[1] https://paypa1.example/login"
    );
    // A link shown as its own target needs no reference.
    let same = html_to_text("<a href=\"https://a.example/\">https://a.example/</a>");
    assert_eq!(same, "https://a.example/");
    // Anchors without a target are plain text.
    assert_eq!(html_to_text("<a name=\"top\">Top</a>"), "Top");
}

#[test]
fn every_named_entity_of_the_standard_decodes() {
    assert_eq!(
        html_to_text(
            "&euro;5 &rarr; &hearts; &NotEqualTilde; &Tab;x &CounterClockwiseContourIntegral;"
        ),
        "€5 → ♥ \u{2242}\u{338} x \u{2233}"
    );
    assert_eq!(
        html_to_text("&eacute;t&eacute; &ouml; &szlig; &bull; &trade;"),
        "été ö ß • ™"
    );
    // Unknown names and bare ampersands stay as typed.
    assert_eq!(html_to_text("AT&T &nosuch; a && b"), "AT&T &nosuch; a && b");
    // Old mailers: names without their `;`, and Windows-1252 punctuation by number.
    assert_eq!(
        html_to_text("&copy 2026 Bank&nbspInc. We&#146;re &#147;secure&#148; &#150; really"),
        "© 2026 Bank Inc. We’re “secure” – really"
    );
    // A link's target keeps a query that an old name runs into, as a browser does.
    assert_eq!(
        html_to_text("<a href=\"https://x.example/?a=1&copy=2&amp;b=3\">go</a>"),
        "go [1]\n\n[1] https://x.example/?a=1&copy=2&b=3"
    );
}

#[test]
fn pre_keeps_its_white_space() {
    let html = "<p>Reproducer:</p><pre>\nint main() {\n    if (x)\n\t\treturn 1;\n\n    return&nbsp;0;\n}\n</pre><p>Thanks</p>";
    assert_eq!(
        html_to_text(html),
        "Reproducer:\n\nint main() {\n    if (x)\n\t\treturn 1;\n\n    return 0;\n}\n\nThanks"
    );
    // Outside `<pre>` white space still collapses.
    assert_eq!(html_to_text("<p>a    b\n\n   c</p>"), "a b c");
    // A link inside `<pre>` gets its reference too.
    assert_eq!(
        html_to_text("<pre>  curl <a href=\"https://x.example/p\">url</a></pre>"),
        "  curl url [1]\n\n[1] https://x.example/p"
    );
}

/// A target is mail text like any other: it keeps what it holds (bidi overrides, escape
/// sequences), and the display sanitizer shows those as codes, never raw.
#[test]
fn hostile_link_targets_are_kept_and_made_safe_at_display() {
    let t =
        html_to_text("<a href=\"https://ok.example/\u{202e}fdp.exe&#x1b;[2J&#7;/x\">invoice</a>");
    assert!(
        t.contains("[1] https://ok.example/\u{202e}fdp.exe\u{1b}[2J\u{7}/x"),
        "{t:?}"
    );
    let shown = terminal_text(&t);
    assert!(shown.contains("<U+202E>"), "{shown:?}");
    assert!(
        !shown.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "{shown:?}"
    );
    assert!(shown.contains("invoice [1]"), "{shown:?}");
}

/// Where a link goes is read as a browser reads it, whatever the markup does to hide it.
#[test]
fn a_link_target_is_the_one_a_browser_would_follow() {
    // A `>` inside a quoted value does not end the tag.
    assert_eq!(
        html_to_text("<a href=\"https://good.example>@evil.example/pwn\">bank</a>"),
        "bank [1]\n\n[1] https://good.example>@evil.example/pwn"
    );
    assert_eq!(
        html_to_text("<a title=\"x>y\" href=\"https://evil.example/F\">file</a> after"),
        "file [1] after\n\n[1] https://evil.example/F"
    );
    assert_eq!(
        html_to_text("<a href='data:text/html,<script>alert(1)</script>'>open</a>"),
        "open [1]\n\n[1] data:text/html,<script>alert(1)</script>"
    );
    // Line breaks in a target (as references too) are dropped, as the URL standard
    // does: they cannot start a fake entry of the list.
    assert_eq!(
        html_to_text("<a href=\"https://good.example/&#13;&#10;[9] https://fake.example\">x</a>"),
        "x [1]\n\n[1] https://good.example/[9] https://fake.example"
    );
    assert_eq!(
        html_to_text("<a href=\" \n https://a.example/\tb \">x</a>"),
        "x [1]\n\n[1] https://a.example/b"
    );
    // An unquoted value and a quote that is not a value's are not quotes.
    assert_eq!(html_to_text("<p class=a\"b>text</p>"), "text");
    // A quote that never closes leaves the tag unended, as in a browser: nothing after.
    assert_eq!(html_to_text("before <a href=\"x>after"), "before");
}

#[test]
fn a_hundred_thousand_links_each_get_their_number_and_a_repeat_keeps_its_own() {
    let mut html: String = (0..100_000)
        .map(|i| format!("<a href=\"https://x.example/{i}\">l</a> "))
        .collect();
    html.push_str("<a href=\"https://x.example/7\">again</a>");
    let text = html_to_text(&html);
    assert!(text.contains("l [100000] again [8]"), "{}", &text[..200]);
    assert!(text.ends_with("[100000] https://x.example/99999"));
    assert_eq!(text.matches("https://x.example/7\n").count(), 1);
}

/// Text a mail reader never shows is shown to the triager, labelled, and left out of what
/// the classifier reads: a lottery mail cannot pass for a report with a hidden traceback,
/// and letters hidden inside a word do not break it for the rules.
#[test]
fn hidden_text_is_labelled_for_people_and_left_out_for_the_classifier() {
    let html = "<p>You won 2,500,000 EUR.</p><div style=\"display:none\">Traceback \
                (most recent call last): <b>Lib/tarfile.py</b></div><p>Claim now</p>";
    let m = crate::core::parse::parse_message(
        format!("Content-Type: text/html\r\n\r\n{html}").as_bytes(),
    );
    assert_eq!(
        m.body_text,
        "You won 2,500,000 EUR.\n\n[hidden: Traceback (most recent call last): Lib/tarfile.py]\n\nClaim now"
    );
    assert!(
        !m.classifier_text().contains("Traceback"),
        "{:?}",
        m.classifier_text()
    );
    assert!(m.classifier_text().contains("Claim now"));

    let classified = |html: &str| {
        let m = crate::core::parse::parse_message(
            format!("Content-Type: text/html\r\n\r\n{html}").as_bytes(),
        );
        m.classifier_text().into_owned()
    };
    assert_eq!(
        classified(
            "Ci<span style=display:none>xq</span>al<span style=\"font-size:0\">zz</span>is \
             Vi<span hidden>kk</span>ag<font style='mso-hide:all'>p</font>ra"
        ),
        "Cialis Viagra"
    );
    assert_eq!(
        html_to_text("Ci<span style=display:none>xq</span>alis"),
        "Ci[hidden: xq]alis"
    );
    // White 1px text, `visibility:hidden`, nested elements and a link inside: all hidden,
    // and what follows the hidden element is read again.
    assert_eq!(
        classified(
            "a <div style=\"color:#fff;font-size:1px\">x <div>y <a href=https://h.example>z</a>\
             </div> w</div> b <p style='visibility: hidden'>c<p>d"
        ),
        "a\n\nb\n\nd"
    );
    assert_eq!(
        html_to_text(
            "a <div style=\"color:#fff;font-size:1px\">x <div>y <a href=https://h.example>z</a>\
             </div> w</div> b"
        ),
        "a\n[hidden: x\ny z [1]\nw]\nb\n\n[1] https://h.example"
    );
    // An end tag of an element around the hidden one ends the hiding, as in a browser.
    assert_eq!(classified("<div><span hidden>x</div>seen"), "\nseen");
    // A hidden element that hides nothing leaves no label; visible styles hide nothing.
    assert_eq!(
        html_to_text("a<img hidden src=x>b<span hidden></span>c"),
        "abc"
    );
    assert_eq!(
        html_to_text("<span style=\"font-size:12px;color:#ffffff\">shown</span>"),
        "shown"
    );
}
