//! Header columns derived from the raw message instead of stored twice.
//!
//! A message's To and Cc addresses and, when it was not used, its Date header as written are
//! shown with the message (`core::triage::view`) and read nowhere else; its Reply-To and
//! References are read only from the raw message (`core::reply` chooses recipients and
//! threads replies from it). Since migration 27, ingest stores none of them: `to_addrs`,
//! `cc_addrs`, `date_header`, `reply_to` and `refs` are NULL and the reader takes the values
//! from the raw message's headers ([`Derived`]), read as ingest read them
//! (`core::parse::parse_header_fields`). A value stored by an earlier version that the raw
//! message does not give back the same way (an older parser's reading) stays stored and is
//! read as stored ([`Derived::to`]).

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::raw::unpack;
use crate::core::parse::{parse_header_fields, Mailbox, ParsedMessage};

/// The SQL function `secdesk_raw_header(raw, column)`: what an earlier version stored in
/// `column` (`to_addrs`, `cc_addrs` or `date_header`) for the raw message `raw`, NULL when
/// there is nothing to store or the frame cannot be unpacked. Migration 27 compares the
/// stored values with it.
pub const SQL_RAW_HEADER: &str = "secdesk_raw_header";

/// A message's header columns as stored (`to_addrs`, `cc_addrs`: JSON arrays; `date_header`)
/// and the headers of its raw message, from which the columns not stored are derived.
pub struct Derived<'a> {
    pub to_addrs: Option<String>,
    pub cc_addrs: Option<String>,
    pub date_header: Option<String>,
    pub headers: &'a ParsedMessage,
}

impl Derived<'_> {
    /// The To addresses: as stored, else from the raw message.
    pub fn to(&self) -> Vec<String> {
        stored_or(self.to_addrs.as_deref(), &self.headers.to)
    }

    /// The Cc addresses: as stored, else from the raw message.
    pub fn cc(&self) -> Vec<String> {
        stored_or(self.cc_addrs.as_deref(), &self.headers.cc)
    }

    /// The Date header as written, when it was not used: as stored, else, when the message
    /// has a Date note (`noted`: `messages.date_note`), from the raw message.
    pub fn date_header(&self, noted: bool) -> Option<String> {
        self.date_header.clone().or_else(|| {
            noted
                .then(|| self.headers.header("Date").map(str::to_string))
                .flatten()
        })
    }
}

/// A stored JSON array of addresses, else `list` as each address is shown.
fn stored_or(stored: Option<&str>, list: &[Mailbox]) -> Vec<String> {
    match stored {
        // Anything unreadable reads as empty, as before.
        Some(json) => serde_json::from_str(json).unwrap_or_default(),
        None => shown(list),
    }
}

fn shown(list: &[Mailbox]) -> Vec<String> {
    list.iter().map(Mailbox::display).collect()
}

/// What an earlier version stored in `column` for a message with these headers.
fn as_stored(headers: &ParsedMessage, column: &str) -> Option<String> {
    let addresses = |list: &[Mailbox]| {
        (!list.is_empty()).then(|| serde_json::to_string(&shown(list)).unwrap_or_default())
    };
    match column {
        "to_addrs" => addresses(&headers.to),
        "cc_addrs" => addresses(&headers.cc),
        "date_header" => headers.header("Date").map(str::to_string),
        _ => None,
    }
}

/// Makes [`SQL_RAW_HEADER`] available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(SQL_RAW_HEADER, 2, flags, |ctx| {
        let column: String = ctx.get(1)?;
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) | ValueRef::Text(b) => unpack(b.to_vec())
                .ok()
                .and_then(|raw| as_stored(&parse_header_fields(&raw), &column)),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse::parse_message;
    use crate::core::store::raw::pack;
    use crate::core::store::Store;

    const MAIL: &[u8] = b"From: Rita <rita@reporter.test>\r\n\
        To: security@example.org, \"Team, Sec\" <team@example.org>\r\n\
        To: second@example.org\r\n\
        Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.net>\r\n\
        Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n\
        Subject: hi\r\n\r\nbody\r\n";

    #[test]
    fn the_headers_alone_read_as_the_whole_message_does() {
        let whole = parse_message(MAIL);
        let alone = parse_header_fields(MAIL);
        assert_eq!(alone.headers, whole.headers);
        assert_eq!(alone.to, whole.to);
        assert_eq!(alone.cc, whole.cc);
        assert!(alone.body_text.is_empty());
    }

    #[test]
    fn unstored_columns_come_from_the_raw_message_and_stored_ones_win() {
        let headers = parse_header_fields(MAIL);
        let derived = Derived {
            to_addrs: None,
            cc_addrs: Some(r#"["Old Reading <old@example.net>"]"#.into()),
            date_header: None,
            headers: &headers,
        };
        assert_eq!(
            derived.to(),
            [
                "security@example.org",
                "\"Team, Sec\" <team@example.org>",
                "second@example.org"
            ]
        );
        assert_eq!(derived.cc(), ["Old Reading <old@example.net>"]);
        assert_eq!(
            derived.date_header(true).as_deref(),
            Some("Thu, 1 Jan 1970 00:00:00 +0000")
        );
        assert_eq!(derived.date_header(false), None);
        let stored = Derived {
            date_header: Some("as stored".into()),
            ..derived
        };
        assert_eq!(stored.date_header(false).as_deref(), Some("as stored"));
        assert_eq!(stored.date_header(true).as_deref(), Some("as stored"));
    }

    #[test]
    fn the_sql_function_gives_what_was_stored_and_null_for_a_damaged_frame() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let get = |raw: &[u8], column: &str| -> Option<String> {
            c.query_row(
                "SELECT secdesk_raw_header(?1, ?2)",
                rusqlite::params![raw, column],
                |r| r.get(0),
            )
            .unwrap()
        };
        let packed = pack(MAIL);
        assert_eq!(
            get(&packed, "to_addrs").as_deref(),
            Some(
                r#"["security@example.org","\"Team, Sec\" <team@example.org>","second@example.org"]"#
            )
        );
        assert_eq!(
            get(&packed, "cc_addrs").as_deref(),
            Some(r#"["Jörg <joerg@example.net>"]"#)
        );
        assert_eq!(
            get(&packed, "date_header").as_deref(),
            Some("Thu, 1 Jan 1970 00:00:00 +0000")
        );
        assert_eq!(get(&pack(b"Subject: none\r\n\r\nx"), "to_addrs"), None);
        let damaged = &packed[..packed.len() / 2];
        assert_eq!(get(damaged, "to_addrs"), None);
    }

    const TO: &str =
        r#"["security@example.org","\"Team, Sec\" <team@example.org>","second@example.org"]"#;
    const CC: &str = r#"["Jörg <joerg@example.net>"]"#;
    const DATE: &str = "Thu, 1 Jan 1970 00:00:00 +0000";

    /// What the desk shows of report `report`'s first message: To, Cc, the Date header as
    /// written and the notes.
    type Shown = (Vec<String>, Vec<String>, Option<String>, Vec<String>);

    fn shown(store: &Store, report: i64) -> Shown {
        let d = crate::core::triage::report_detail(
            store,
            report,
            &crate::core::config::ClockConfig::default(),
            chrono::Utc::now(),
        )
        .unwrap();
        let m = &d.messages[0];
        (
            m.to.clone(),
            m.cc.clone(),
            m.date_header.clone(),
            m.parse_notes.clone(),
        )
    }

    /// A store at the version before migration 27, whose messages `same`, `older` and
    /// `damaged` keep their headers beside the raw message as that version stored them: on
    /// `older` an older parser's reading of To, on `damaged` a frame cut short. Returns what
    /// reports 1 and 2 showed.
    fn previous_version_store(path: &std::path::Path) -> (Shown, Shown) {
        let mail = |id: &str| {
            String::from_utf8_lossy(MAIL)
                .replace(
                    "Subject: hi",
                    &format!(
                        "Message-ID: <{id}@x>\r\nReply-To: r@reporter.test\r\n\
                         References: <a@x> <b@x>\r\nSubject: {id}"
                    ),
                )
                .into_bytes()
        };
        let store = Store::open(path).unwrap();
        let c = store.conn();
        let rows: [(&str, Vec<u8>, &str); 3] = [
            ("same", pack(&mail("same")), TO),
            ("older", pack(&mail("older")), r#"["an older reading"]"#),
            ("damaged", pack(&mail("damaged"))[..20].to_vec(), TO),
        ];
        for (i, (id, raw, to)) in rows.iter().enumerate() {
            c.execute(
                "INSERT INTO reports (id, created_at, updated_at) VALUES (?1, 't', 't')",
                [i as i64 + 1],
            )
            .unwrap();
            c.execute(
                "INSERT INTO messages (report_id, content_hash, message_id, received_at, raw,
                    to_addrs, cc_addrs, date_header, date_note, reply_to, refs)
                 VALUES (?1, ?2, ?3, '2026-11-30T08:00:00Z', ?4, ?5, ?6, ?7, 4,
                    '[\"r@reporter.test\"]', '[\"a@x\",\"b@x\"]')",
                rusqlite::params![
                    i as i64 + 1,
                    format!("h{i}"),
                    format!("{id}@x"),
                    raw,
                    to,
                    CC,
                    DATE
                ],
            )
            .unwrap();
        }
        let before = (shown(&store, 1), shown(&store, 2));
        let at = crate::core::store::MIGRATIONS
            .iter()
            .position(|m| m.contains("secdesk_raw_header"))
            .unwrap();
        crate::core::store::rewind_to(c, at as i64);
        before
    }

    /// (to_addrs, cc_addrs, date_header, reply_to, refs) of message `id`.
    type Columns = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    fn columns(store: &Store, id: &str) -> Columns {
        store
            .conn()
            .query_row(
                "SELECT to_addrs, cc_addrs, date_header, reply_to, refs FROM messages
                 WHERE message_id = ?1",
                [format!("{id}@x")],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap()
    }

    #[test]
    fn the_migration_drops_what_the_raw_message_gives_back_and_shows_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let before = previous_version_store(&path);
        let store = Store::open(&path).unwrap();
        assert_eq!(columns(&store, "same"), (None, None, None, None, None));
        assert_eq!(
            columns(&store, "older"),
            (
                Some(r#"["an older reading"]"#.into()),
                None,
                None,
                None,
                None
            )
        );
        // A damaged frame keeps what it had; the store still opens.
        assert_eq!(
            columns(&store, "damaged"),
            (
                Some(TO.into()),
                Some(CC.into()),
                Some(DATE.into()),
                None,
                None
            )
        );
        assert_eq!((shown(&store, 1), shown(&store, 2)), before);
        let to: Vec<String> = serde_json::from_str(TO).unwrap();
        assert_eq!(before.0 .0, to);
        assert_eq!(before.1 .0, ["an older reading"]);
        assert_eq!(before.0 .2.as_deref(), Some(DATE));
    }
}
