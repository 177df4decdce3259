//! The classifier's reasons as the store keeps them (`reports.reasons`,
//! `messages.reasons`): one line per reason, with the words most reasons begin and end with
//! (`token "`, `rule `, `policy `; ` spam`, ` ham`, ` valid`, ` invalid`) replaced by one
//! control character. Read back exactly as written ([`decode`]).
//!
//! A list this cannot carry exactly (a reason holding a line break or a control character,
//! or beginning with `[`) is kept as a JSON array, which is also how every store before
//! migration 21 kept them: [`decode`] reads both.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::Connection;

/// The SQL function `secdesk_compact_reasons(text)`: a JSON array of reasons in the compact
/// form; anything else (already compact, NULL) unchanged.
pub const SQL_COMPACT: &str = "secdesk_compact_reasons";

const PREFIXES: [&str; 4] = ["", "token \"", "rule ", "policy "];
const SUFFIXES: [&str; 5] = ["", " spam", " ham", " valid", " invalid"];

/// The marker for prefix `p` and suffix `s` is `MARKERS[p * 5 + s]` (index 0, neither, has
/// no marker): control characters other than tab, line feed and carriage return.
const MARKERS: [char; 20] = [
    '\0', '\u{1}', '\u{2}', '\u{3}', '\u{4}', '\u{5}', '\u{6}', '\u{7}', '\u{8}', '\u{b}', '\u{c}',
    '\u{e}', '\u{f}', '\u{10}', '\u{11}', '\u{12}', '\u{13}', '\u{14}', '\u{15}', '\u{16}',
];

/// The stored form of `reasons`.
pub fn encode(reasons: &[String]) -> String {
    let plain = |r: &String| !r.chars().any(char::is_control);
    let first_ok = reasons.first().is_some_and(|r| !r.starts_with('['));
    if !first_ok || !reasons.iter().all(plain) {
        // Serialising strings to JSON cannot fail.
        return serde_json::to_string(reasons).unwrap_or_default();
    }
    let mut out = String::new();
    for (i, r) in reasons.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let p = (1..PREFIXES.len())
            .find(|&p| r.starts_with(PREFIXES[p]))
            .unwrap_or(0);
        let rest = &r[PREFIXES[p].len()..];
        let s = (1..SUFFIXES.len())
            .find(|&s| rest.ends_with(SUFFIXES[s]))
            .unwrap_or(0);
        if p * 5 + s > 0 {
            out.push(MARKERS[p * 5 + s]);
        }
        out.push_str(&rest[..rest.len() - SUFFIXES[s].len()]);
    }
    out
}

/// The reasons stored as `stored` (compact, or a JSON array).
pub fn decode(stored: &str) -> Vec<String> {
    if stored.starts_with('[') {
        return serde_json::from_str(stored).unwrap_or_default();
    }
    stored
        .split('\n')
        .map(|line| {
            let mut chars = line.chars();
            match chars
                .next()
                .and_then(|c| MARKERS.iter().skip(1).position(|&m| m == c))
            {
                Some(k) => {
                    let k = k + 1;
                    format!("{}{}{}", PREFIXES[k / 5], chars.as_str(), SUFFIXES[k % 5])
                }
                None => line.to_string(),
            }
        })
        .collect()
}

/// Makes [`SQL_COMPACT`] available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        SQL_COMPACT,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| match ctx.get_raw(0) {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                Ok(Some(
                    match serde_json::from_str::<Vec<String>>(&text)
                        .ok()
                        .filter(|_| text.starts_with('['))
                    {
                        Some(list) => encode(&list),
                        None => text.into_owned(),
                    },
                ))
            }
            _ => Err(FromSqlError::InvalidType.into()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_classifiers_reasons_read_back_exactly_and_smaller_than_json() {
        let reasons = list(&[
            "has a reproducer; bulk mail",
            "policy third-party: a bug in a dependency (reply: third-party)",
            "rule precedence-bulk +1.5 invalid",
            "token \"hdr:in-reply-to\" 0.00 ham",
            "token \"both\" 0.98 valid",
            "token \"viagra\" 0.99 spam",
            "token \"a\\\"b\\u{1}\" 0.50 spam",
            "rule",
            "token \"",
            " spam",
            "",
        ]);
        let stored = encode(&reasons);
        assert_eq!(decode(&stored), reasons);
        let json = serde_json::to_string(&reasons).unwrap();
        assert!(stored.len() * 10 < json.len() * 8, "{stored:?}");
    }

    #[test]
    fn what_lines_cannot_carry_stays_json_and_old_json_still_reads() {
        for awkward in [
            list(&["two\nlines"]),
            list(&["[looks like json", "x"]),
            list(&["\u{1}marker"]),
            list(&["tab\there"]),
            Vec::new(),
        ] {
            let stored = encode(&awkward);
            assert!(stored.starts_with('['), "{stored:?}");
            assert_eq!(decode(&stored), awkward);
        }
        assert_eq!(
            decode(r#"["rule x +1.0 spam"]"#),
            list(&["rule x +1.0 spam"])
        );
    }

    #[test]
    fn the_migration_function_compacts_json_once_and_leaves_the_rest() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let run = |v: Option<&str>| -> Option<String> {
            c.query_row("SELECT secdesk_compact_reasons(?1)", [v], |r| r.get(0))
                .unwrap()
        };
        let json = r#"["rule x +1.0 spam","token \"y\" 0.99 ham"]"#;
        let once = run(Some(json)).unwrap();
        assert_eq!(
            decode(&once),
            list(&["rule x +1.0 spam", "token \"y\" 0.99 ham"])
        );
        assert_eq!(run(Some(&once)).unwrap(), once);
        assert_eq!(run(None), None);
    }
}
