//! Full-text search with an index that keeps no token positions (FTS5 `detail=none`,
//! migration 20), giving the same results as the positional index did.
//!
//! What a user types is split on white space; each term is quoted and matched as a prefix
//! (`"term"*`), all terms required. A term that FTS5's `unicode61` tokenizer splits into
//! several tokens (`http.server`, an address, `CVE-2026-1234`) was a phrase: its tokens
//! next to each other, in that order. An index without positions cannot answer phrases, so
//! such a term is looked up as its tokens, each required (a superset of the phrase's
//! matches), and every message found is then checked against the full query
//! ([`SQL_CHECK`]): its subject, sender and decoded text are indexed in a one-row
//! in-memory FTS5 table with positions and matched there. So a search finds exactly the
//! messages the positional index found, paying for the check only when a term was a phrase.
//!
//! Tokens are found by FTS5 itself (the same in-memory table, read through `fts5vocab`), so
//! the split is exactly the index's, diacritics and all.

use std::cell::RefCell;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::Connection;

/// The SQL function `secdesk_fts_check(query, subject, sender, body)`: whether one message
/// matches the FTS5 `query` as an index with positions would say.
pub const SQL_CHECK: &str = "secdesk_fts_check";

/// The `sender` column as ingest indexes it (`parse::Mailbox::display`), from a
/// `messages m` row.
pub const SENDER: &str = "CASE WHEN m.from_name IS NOT NULL AND m.from_name != ''
     THEN m.from_name || ' <' || coalesce(m.from_addr, '') || '>'
     ELSE coalesce(m.from_addr, '') END";

/// A search as the index can run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The query for `messages_fts` (no phrases of more than one token).
    pub index: String,
    /// The exact query, when a term was a phrase: every message the index finds is checked
    /// against it with [`SQL_CHECK`].
    pub check: Option<String>,
}

/// The search for what a user typed. Each term is quoted, so FTS5 operators and syntax
/// errors cannot come from user input.
pub fn search(input: &str) -> Search {
    let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let mut index = Vec::new();
    let mut phrase = false;
    let mut exact = Vec::new();
    for term in input.split_whitespace() {
        exact.push(format!("{}*", quote(term)));
        let tokens = tokens(term);
        if tokens.len() < 2 {
            index.push(format!("{}*", quote(term)));
            continue;
        }
        phrase = true;
        let last = tokens.len() - 1;
        for (i, t) in tokens.iter().enumerate() {
            index.push(if i == last {
                format!("{}*", quote(t))
            } else {
                quote(t)
            });
        }
    }
    Search {
        index: index.join(" "),
        check: phrase.then(|| exact.join(" ")),
    }
}

thread_local! {
    /// This thread's one-row FTS5 table with positions, in memory.
    static SCRATCH: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn with_scratch<T>(f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let conn = Connection::open_in_memory()?;
            // The index's columns and tokenizer, with positions (detail=full, the default).
            conn.execute_batch(
                "CREATE VIRTUAL TABLE one USING fts5(subject, sender, body, tokenize = 'unicode61');
                 CREATE VIRTUAL TABLE one_tokens USING fts5vocab(one, 'instance');",
            )?;
            *slot = Some(conn);
        }
        match slot.as_ref() {
            Some(conn) => f(conn),
            None => unreachable!("the scratch connection was opened just above"),
        }
    })
}

/// The tokens FTS5's `unicode61` makes of `term`, in order, folded as the index keeps them.
fn tokens(term: &str) -> Vec<String> {
    with_scratch(|c| {
        c.execute("DELETE FROM one", [])?;
        c.execute("INSERT INTO one (rowid, subject) VALUES (1, ?1)", [term])?;
        let mut stmt = c.prepare_cached("SELECT term FROM one_tokens ORDER BY offset")?;
        let tokens = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>();
        tokens
    })
    // An in-memory table cannot fail but for out of memory; a term then stays whole,
    // which only makes its search stricter.
    .unwrap_or_default()
}

/// Whether a message with these columns matches `query` (FTS5 syntax, as [`search`] makes).
pub fn matches(query: &str, subject: &str, sender: &str, body: &str) -> rusqlite::Result<bool> {
    with_scratch(|c| {
        c.execute("DELETE FROM one", [])?;
        c.prepare_cached("INSERT INTO one (rowid, subject, sender, body) VALUES (1, ?1, ?2, ?3)")?
            .execute([subject, sender, body])?;
        c.prepare_cached("SELECT count(*) FROM one WHERE one MATCH ?1")?
            .query_row([query], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
    })
}

/// Makes [`SQL_CHECK`] available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        SQL_CHECK,
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text = |i: usize| -> rusqlite::Result<String> {
                match ctx.get_raw(i) {
                    ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Null => Ok(String::new()),
                    _ => Err(FromSqlError::InvalidType.into()),
                }
            };
            matches(&text(0)?, &text(1)?, &text(2)?, &text(3)?)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_with_punctuation_is_looked_up_as_its_tokens_then_checked_as_a_phrase() {
        let s = search("http.server traversal");
        assert_eq!(s.index, r#""http" "server"* "traversal"*"#);
        assert_eq!(s.check.as_deref(), Some(r#""http.server"* "traversal"*"#));
        // Single tokens need no check.
        assert_eq!(
            search("tarfile EXTRACT"),
            Search {
                index: r#""tarfile"* "EXTRACT"*"#.into(),
                check: None
            }
        );
    }

    #[test]
    fn tokens_are_the_index_tokens_folded() {
        assert_eq!(tokens("Ada@Example.ORG"), ["ada", "example", "org"]);
        assert_eq!(tokens("naïve-café"), ["naive", "cafe"]);
        assert!(tokens("...").is_empty());
    }

    #[test]
    fn the_check_needs_the_tokens_next_to_each_other_in_one_column() {
        let q = r#""http.server"*"#;
        assert!(matches(q, "", "", "run python -m http.server 8000").unwrap());
        assert!(matches(q, "", "", "an HTTP SERVERside bug").unwrap());
        assert!(!matches(q, "", "", "the server speaks http").unwrap());
        assert!(!matches(q, "http", "server", "").unwrap());
        // A quote in user input stays inside its term.
        let s = search("say\"hi.there");
        assert!(matches(s.check.as_deref().unwrap(), "", "", "say hi there").unwrap());
    }
}
