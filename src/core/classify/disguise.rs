//! Words in disguise: the text the classifier reads with the tricks spam uses to slip its
//! words past filters undone. `pay\u{200b}ment` (a zero-width space inside), `ｐａｙｍｅｎｔ`
//! (fullwidth forms) and `pаyment` (a Cyrillic `а` among Latin letters) all read as `payment`,
//! so the rules and the learned tokens see the word the reader sees.
//!
//! Only what the classifier reads is folded; what the desk shows is never changed here. Each
//! kind of disguise found is also named ([`Disguises`]), so the token models can learn that a
//! message wearing one is suspect; a report about look-alike characters (a homograph or Trojan
//! Source bug) keeps its words and only gains those tokens, whose weight comes from what the
//! team marked, never from a rule.
//!
//! The look-alikes are Unicode's own confusables table (UTS #39, through the `unicode-security`
//! crate), and a letter is replaced only inside a word that also holds a plain Latin letter, and
//! only when it is not itself a Latin letter and the table names a single ASCII letter or digit
//! for it: Russian or Greek words, Turkish `ı` and accented Latin letters are left as they are.

use std::borrow::Cow;

use unicode_script::{Script, UnicodeScript};
use unicode_security::confusable_detection::skeleton;

/// Which disguises a text wore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Disguises {
    /// Invisible characters inside words (zero-width spaces and joiners, soft hyphens, bidi
    /// marks).
    pub invisible: bool,
    /// Fullwidth forms of ASCII (U+FF01–U+FF5E).
    pub fullwidth: bool,
    /// A look-alike of a Latin letter from another script among Latin letters.
    pub lookalike: bool,
}

impl Disguises {
    /// The tokens that name them, for the token models.
    pub fn tokens(self) -> impl Iterator<Item = &'static str> {
        [
            (self.invisible, "disguise:invisible"),
            (self.fullwidth, "disguise:fullwidth"),
            (self.lookalike, "disguise:lookalike"),
        ]
        .into_iter()
        .filter_map(|(on, token)| on.then_some(token))
    }

    /// Both texts' disguises.
    pub fn or(self, other: Disguises) -> Disguises {
        Disguises {
            invisible: self.invisible || other.invisible,
            fullwidth: self.fullwidth || other.fullwidth,
            lookalike: self.lookalike || other.lookalike,
        }
    }
}

/// `text` as the classifier reads it, and the disguises undone. Plain ASCII (most mail) is
/// returned as it is, without a copy.
pub fn fold(text: &str) -> (Cow<'_, str>, Disguises) {
    let mut found = Disguises::default();
    if text.is_ascii() || !text.chars().any(suspect) {
        return (Cow::Borrowed(text), found);
    }
    let mut out = String::with_capacity(text.len());
    let mut run = Vec::new();
    for c in text.chars() {
        if c.is_alphanumeric() || hidden_in_words(c) {
            run.push(c);
            continue;
        }
        fold_run(&run, &mut out, &mut found);
        run.clear();
        // Fullwidth punctuation (`：`, `（`) is read as ASCII; it disguises no word.
        out.push(fullwidth(c).unwrap_or(c));
    }
    fold_run(&run, &mut out, &mut found);
    (Cow::Owned(out), found)
}

/// Folds one run of letters and digits (with the invisible characters among them) into
/// `out`. Look-alikes are replaced, and invisible characters dropped, only in a run of Latin
/// letters and look-alikes: Japanese beside a Latin name, a Greek `α` before `-helix`, or the
/// zero-width non-joiner Persian spells with (`می‌خواهم`) is no disguise. Fullwidth forms are
/// always read as ASCII, but count as a disguise only in such a run too: CJK text writes
/// fullwidth digits as a matter of course.
fn fold_run(run: &[char], out: &mut String, found: &mut Disguises) {
    if run.iter().all(char::is_ascii) {
        out.extend(run);
        return;
    }
    let latin = run
        .iter()
        .any(|&c| plain_letter(c).is_some_and(|a| a.is_ascii_alphabetic()));
    let disguisable = latin
        && run.iter().all(|&c| {
            hidden_in_words(c)
                || plain_letter(c).is_some()
                || c.script() == Script::Latin
                || lookalike(c).is_some()
        });
    for (i, &c) in run.iter().enumerate() {
        if hidden_in_words(c) && disguisable {
            // Between two letters it hides a word; at a run's end it hides nothing.
            let letter = |j: Option<usize>| {
                j.and_then(|j| run.get(j))
                    .is_some_and(|&n| !hidden_in_words(n))
            };
            found.invisible |= letter(i.checked_sub(1)) && letter(Some(i + 1));
        } else if let Some(a) = fullwidth(c) {
            found.fullwidth |= disguisable;
            out.push(a);
        } else if let Some(a) = disguisable.then(|| lookalike(c)).flatten() {
            found.lookalike = true;
            out.push(a);
        } else {
            out.push(c);
        }
    }
}

/// `c` itself when ASCII, or the ASCII character its fullwidth form stands for.
fn plain_letter(c: char) -> Option<char> {
    if c.is_ascii() {
        Some(c)
    } else {
        fullwidth(c)
    }
}

/// A character [`fold`] may change: cheap to test, so text without one is not copied.
fn suspect(c: char) -> bool {
    !c.is_ascii() && (hidden_in_words(c) || fullwidth(c).is_some() || c.is_alphanumeric())
}

/// Characters that show nothing and only keep a filter from seeing the word around them.
fn hidden_in_words(c: char) -> bool {
    crate::core::sanitize::is_invisible_format(c)
        || matches!(c, '\u{00ad}' | '\u{034f}' | '\u{180e}')
}

/// The ASCII character a fullwidth form stands for (its compatibility decomposition).
fn fullwidth(c: char) -> Option<char> {
    let code = c as u32;
    (0xff01..=0xff5e)
        .contains(&code)
        .then(|| char::from_u32(code - 0xfee0))
        .flatten()
}

/// The ASCII letter `c` is confusable with, per UTS #39, when there is exactly one.
fn lookalike(c: char) -> Option<char> {
    // A Latin letter (Turkish `ı`, an accented one) is the writer's own alphabet, and digits
    // (a superscript `¹` for a mangled apostrophe) are not letters in disguise.
    if c.is_ascii() || !c.is_alphabetic() || c.script() == Script::Latin {
        return None;
    }
    let mut buf = [0u8; 4];
    let mut prototype = skeleton(c.encode_utf8(&mut buf));
    match (prototype.next(), prototype.next()) {
        (Some(a), None) if a.is_ascii_alphabetic() => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguised_words_read_as_the_word() {
        let (text, found) = fold("Pay\u{200b}ment of your inv\u{00ad}oice");
        assert_eq!(text, "Payment of your invoice");
        assert!(found.invisible && !found.fullwidth && !found.lookalike);

        let (text, found) = fold("ｂｉｔｃｏｉｎ wallet");
        assert_eq!(text, "bitcoin wallet");
        assert!(found.fullwidth);

        // Cyrillic а, е, о and р among Latin letters.
        let (text, found) =
            fold("\u{0440}ay\u{0430}l verify y\u{043e}ur \u{0430}ccount n\u{043e}w");
        assert_eq!(text, "payal verify your account now");
        assert!(found.lookalike && !found.invisible);
    }

    #[test]
    fn other_scripts_and_accents_are_left_as_they_are() {
        for plain in [
            "Привет, мир: сор и рано",
            "Καλημέρα κόσμε",
            "café, naïve, Straße, señor",
            "kapı açık, ılık",
            "Wallace¹s ³Bigfoot.²",
            "漏洞报告",
            "a plain ASCII line",
            "می\u{200c}خواهم گزارش بدهم",
            "क्\u{200d}ष",
            "an α-helix and β-sheet",
            "a lone \u{00ad} soft hyphen",
        ] {
            let (text, found) = fold(plain);
            assert_eq!(text, plain);
            assert_eq!(found, Disguises::default(), "{plain}");
        }
        // Read as NFKC reads them, but no disguise: Japanese writes fullwidth digits and
        // brackets.
        assert_eq!(
            fold("ユーザ、「mitsubishi」 ６月２６日（月）"),
            (
                Cow::Borrowed("ユーザ、「mitsubishi」 6月26日(月)"),
                Disguises::default()
            )
        );
        // A whole Cyrillic word is a Russian word, even beside an English one.
        assert_eq!(fold("CVE сор").0, "CVE сор");
    }

    #[test]
    fn the_disguises_found_become_tokens() {
        let (_, found) = fold("ｆｒｅｅ m\u{043e}n\u{200b}ey!");
        assert_eq!(
            found.tokens().collect::<Vec<_>>(),
            [
                "disguise:invisible",
                "disguise:fullwidth",
                "disguise:lookalike"
            ]
        );
        assert_eq!(fold("plain").1.tokens().count(), 0);
    }
}
