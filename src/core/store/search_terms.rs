//! What the full-text index (`messages_fts`) holds for a message, and how a search asks it.
//!
//! The index keeps, for each message, only which terms it holds (FTS5 `detail = none`), not
//! where: positions were more than half of the index, and a search never needed them but
//! for one thing. A search is a list of terms that must all match, each as a prefix
//! ([`fts_query`]); a term with punctuation inside (`http.server`, `user@example.com`,
//! `CVE-2024-1234`, `../etc/passwd`) was a phrase of its words, and a phrase needs positions.
//! So the index also holds each pair of neighbouring words joined by one to three
//! characters that are not spaces ("http.server", "user@example", "example.com") as a term of
//! its own, written with `_` between the words whatever joined them (`http_server`), and a
//! search for such a term asks for its pairs. Like the phrase, `2002-09-24` still finds
//! `2002/09/24`; unlike it, `1.3` no longer finds `1 3`. The words and pairs are
//! cut here, in Rust, for the messages ([`index_terms`]) and for a search alike, so both are
//! cut the same way; FTS5 (`unicode61` with every category but spaces and controls as part
//! of a term, see [`TOKENIZE`]) only folds case and diacritics.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// The FTS5 tokenizer of `messages_fts`: `unicode61` folding case and diacritics, with
/// everything but white space, controls and format characters kept inside a term (letters
/// it does not know too, `Cn`), so that each word and pair [`index_terms`] writes, separated
/// by spaces, is one term, and a quoted search term never splits into a phrase (which an
/// index without positions refuses).
pub const TOKENIZE: &str = "unicode61 categories 'L* N* Co Cn M* P* S*'";

/// The SQL function `secdesk_search_terms(text)`: [`index_terms`] of `text` (NULL gives '').
pub const SQL_SEARCH_TERMS: &str = "secdesk_search_terms";

/// The SQL function `secdesk_search_body(body, pgp, raw)`: [`index_terms`] of the body as
/// readers see it (`secdesk_body`, core::store::body). A raw message that cannot be
/// unpacked gives no terms instead of an error, so rebuilding the index never keeps a store
/// from opening; `secdesk check` reports the damaged frame.
pub const SQL_SEARCH_BODY: &str = "secdesk_search_body";

/// At most this many characters between two words join them into a pair.
const MAX_JOIN: usize = 3;

/// What stands between the two words of a pair in the index: never part of a word, and
/// kept inside a term by [`TOKENIZE`] (a connector punctuation character).
const JOINER: char = '_';

/// The terms of `text` for the index: every word (a run of letters and digits) and every
/// pair of neighbouring words joined by one to three characters that are not spaces,
/// separated by spaces.
pub fn index_terms(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut previous: Option<(usize, usize)> = None;
    for word in words(text) {
        if let Some(before) = previous {
            if joined(text, before, word) {
                push_pair(&mut out, text, before, word);
                out.push(' ');
            }
        }
        out.push_str(&text[word.0..word.1]);
        out.push(' ');
        previous = Some(word);
    }
    out.pop();
    out
}

/// Turns what a user typed into an FTS5 query that the index answers: each
/// whitespace-separated term becomes its pairs and the words no pair covers, all of which
/// must match, the last one of each term as a prefix. Every part is quoted, so FTS5
/// operators and syntax errors cannot come from user input. None when nothing typed holds a
/// letter or digit: such a search matches nothing.
pub fn fts_query(input: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for term in input.split_whitespace() {
        let ws: Vec<(usize, usize)> = words(term).collect();
        let last = ws.len().saturating_sub(1);
        for (i, &w) in ws.iter().enumerate() {
            let pair_after = i < last && joined(term, w, ws[i + 1]);
            let pair_before = i > 0 && joined(term, ws[i - 1], w);
            let mut text = String::new();
            let prefix = if pair_after {
                push_pair(&mut text, term, w, ws[i + 1]);
                i + 1 == last
            } else if pair_before {
                continue;
            } else {
                text.push_str(&term[w.0..w.1]);
                i == last
            };
            let quoted = text.replace('"', "\"\"");
            parts.push(format!("\"{quoted}\"{}", if prefix { "*" } else { "" }));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The byte ranges of the words of `text`: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let start = loop {
            let (i, c) = chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            chars.next();
        }
        Some((start, end))
    })
}

/// Whether two neighbouring words are joined into a pair: one to [`MAX_JOIN`] characters
/// between them, none of them a space or a control character.
fn joined(text: &str, before: (usize, usize), after: (usize, usize)) -> bool {
    let gap = &text[before.1..after.0];
    !gap.is_empty()
        && gap.chars().take(MAX_JOIN + 1).count() <= MAX_JOIN
        && !gap.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Writes the pair of words `a` and `b` of `text` as one term: the two words with
/// [`JOINER`] between them, whatever punctuation joined them, so that `2002-09-24` finds
/// `2002/09/24` and `Apple's` finds `Apple’s`, as a phrase of their words did.
fn push_pair(out: &mut String, text: &str, a: (usize, usize), b: (usize, usize)) {
    out.push_str(&text[a.0..a.1]);
    out.push(JOINER);
    out.push_str(&text[b.0..b.1]);
}

/// Makes [`SQL_SEARCH_TERMS`] and [`SQL_SEARCH_BODY`] available on `conn`, for the
/// migration and salvage that rebuild the index from the stored messages.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(SQL_SEARCH_TERMS, 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(t) => index_terms(&String::from_utf8_lossy(t)),
            _ => String::new(),
        })
    })?;
    conn.create_scalar_function(SQL_SEARCH_BODY, 3, flags, |ctx| {
        Ok(super::body::from_arguments(ctx, 0)
            .map(|body| index_terms(&body))
            .unwrap_or_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_holds_words_and_the_pairs_punctuation_joins() {
        assert_eq!(
            index_terms("See http://www.example.com/a, or user@x.org (now)."),
            "See http http_www www www_example example example_com com com_a a or user \
             user_x x x_org org now"
        );
        // A space or a long run of punctuation does not join; any other punctuation does.
        assert_eq!(index_terms("a. b c----d e—f"), "a b c d e e_f f");
        assert_eq!(
            index_terms("Straße-\u{1e900}9"),
            "Straße Straße_\u{1e900}9 \u{1e900}9"
        );
        assert_eq!(index_terms("Apple’s"), "Apple Apple_s s");
        assert_eq!(
            index_terms("x\u{7}y"),
            "x y",
            "a control character does not join"
        );
        assert_eq!(index_terms(""), "");
        assert_eq!(index_terms(" -- "), "");
    }

    #[test]
    fn a_search_asks_for_pairs_and_lone_words() {
        assert_eq!(fts_query("tarfile").as_deref(), Some(r#""tarfile"*"#));
        assert_eq!(
            fts_query("http.serv").as_deref(),
            Some(r#""http_serv"*"#),
            "the last word is a prefix, inside its pair"
        );
        assert_eq!(
            fts_query("www.example.com").as_deref(),
            Some(r#""www_example" "example_com"*"#)
        );
        assert_eq!(
            fts_query("CVE-2024 foo----bar").as_deref(),
            Some(r#""CVE_2024"* "foo" "bar"*"#)
        );
        assert_eq!(
            fts_query("../etc/passwd").as_deref(),
            Some(r#""etc_passwd"*"#)
        );
        assert_eq!(fts_query("a\"b").as_deref(), Some(r#""a_b"*"#));
        assert_eq!(
            fts_query("\"unbalanced AND (").as_deref(),
            Some(r#""unbalanced"* "AND"*"#)
        );
        assert_eq!(fts_query("  -- ( "), None);
        assert_eq!(fts_query(""), None);
    }

    /// Random text from a pool of the characters that matter here: letters and digits in
    /// several scripts, combining marks, ASCII and other punctuation, quotes, white space,
    /// controls, zero-width and bidi characters, emoji.
    fn random_text(seed: &mut u64, len: usize) -> String {
        const POOL: &[char] = &[
            'a',
            'B',
            'z',
            '0',
            '7',
            'é',
            'ß',
            'Ω',
            'я',
            '漢',
            '字',
            'ا',
            '\u{1e900}',
            '\u{301}',
            '.',
            '-',
            '@',
            '/',
            ':',
            '_',
            '\'',
            '"',
            '*',
            '(',
            ')',
            '^',
            '—',
            '’',
            '，',
            ' ',
            ' ',
            '\t',
            '\n',
            '\u{a0}',
            '\u{3000}',
            '\u{7}',
            '\u{200b}',
            '\u{202e}',
            '\u{ad}',
            '🙂',
            '\u{fffd}',
        ];
        (0..len)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                POOL[(*seed >> 33) as usize % POOL.len()]
            })
            .collect()
    }

    #[test]
    fn any_piece_of_a_text_typed_as_a_search_finds_it_and_no_input_is_an_error() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(&format!(
            "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = \"{TOKENIZE}\", content = '',
                 contentless_delete = 1, detail = none);"
        ))
        .unwrap();
        let found = |query: &str, id: i64| -> bool {
            c.prepare_cached("SELECT count(*) FROM t WHERE t MATCH ?1 AND rowid = ?2")
                .unwrap()
                .query_row(rusqlite::params![query, id], |r| r.get::<_, i64>(0))
                .unwrap_or_else(|e| panic!("{query:?}: {e}"))
                == 1
        };
        let mut seed = 17;
        for id in 1..=400 {
            let text = random_text(&mut seed, 1 + id as usize % 60);
            c.execute(
                "INSERT INTO t (rowid, body) VALUES (?1, ?2)",
                rusqlite::params![id, index_terms(&text)],
            )
            .unwrap();
            // Every whitespace-separated piece of the text, and the whole of it, typed as a
            // search, finds the text; the same query runs without an error whatever it holds.
            for piece in text.split_whitespace().chain([text.as_str()]) {
                if let Some(query) = fts_query(piece) {
                    assert!(found(&query, id), "{piece:?} ({query}) in {text:?}");
                }
            }
        }
    }

    #[test]
    fn a_store_indexed_with_positions_is_rebuilt_without_them_and_finds_the_same() {
        use crate::core::store::reports::{store_with, subjects_found};
        use crate::core::store::{Store, MIGRATIONS};
        let (dir, store) = store_with(&[
            "From: ana@evil.example\nSubject: http.server traversal\n\nsee ../etc/passwd\n",
            "From: Bob <bob@good.example>\nSubject: menu\n\nhttp server etc passwd\n",
        ]);
        drop(store);
        let path = dir.path().join("s.db");
        {
            // The index as the previous version made it: unicode61, with positions, the
            // text as it is.
            let c = Connection::open(&path).unwrap();
            crate::core::store::register_functions(&c).unwrap();
            c.execute_batch(
                "DROP TABLE messages_fts;
                 CREATE VIRTUAL TABLE messages_fts USING fts5(subject, sender, body,
                     tokenize = 'unicode61', content = '', contentless_delete = 1);
                 INSERT INTO messages_fts (rowid, subject, sender, body)
                     SELECT id, subject, coalesce(from_addr, ''), secdesk_body(body, pgp, raw)
                     FROM messages;",
            )
            .unwrap();
            let without_positions = MIGRATIONS
                .iter()
                .position(|m| m.contains("detail = none"))
                .unwrap();
            crate::core::store::rewind_to(&c, without_positions as i64);
        }
        let store = Store::open(&path).unwrap();
        let sql: String = store
            .conn()
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'messages_fts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            sql.contains("detail = none") && sql.contains(TOKENIZE),
            "{sql}"
        );
        let hits = |q: &str| subjects_found(&store, q);
        assert_eq!(hits("http.server"), ["http.server traversal"]);
        assert_eq!(hits("ana@evil.example"), ["http.server traversal"]);
        assert_eq!(hits("../etc/pass"), ["http.server traversal"]);
        assert_eq!(hits("passwd"), ["http.server traversal", "menu"]);
        assert_eq!(hits("bob"), ["menu"]);
    }
}
