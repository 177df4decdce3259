//! Decoded bodies, derived from the raw message instead of stored twice.
//!
//! `messages.body` holds a message's decoded text only when the raw bytes cannot give it
//! back: OpenPGP mail that gpg opened (`messages.pgp` set without [`AS_RECEIVED`]), whose
//! text is the decrypted or verified one, and mail stored before migration 17 whose text an
//! older parser decoded differently. For every other message, OpenPGP mail read as received
//! included (migration 26), it is `''` and the text is decoded from `messages.raw` on read
//! (`core::parse::parse_message`, the same function ingest ran), so the store does not keep
//! the text twice. Readers select `secdesk_body(body, pgp, raw)` instead of the column.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::Connection;

use super::raw::unpack;
use crate::core::parse::parse_message;

/// The SQL function `secdesk_body(body, pgp, raw)`: the stored body when there is one, or
/// the OpenPGP text decrypted or verified at ingest, else the text decoded from the raw
/// message.
pub const SQL_BODY: &str = "secdesk_body";

/// The key ingest adds to an OpenPGP message's `messages.pgp` JSON when its text is the
/// raw message's text, as received (signed mail with no `[pgp]` section, mail gpg did not
/// open): its body is then decoded from `raw` like any other. Without it, an OpenPGP
/// message's text is its stored body, even an empty one: decrypted text that happens to be
/// empty is never replaced by the ciphertext. `core::pgp::PgpInfo` ignores the key.
pub const AS_RECEIVED: &str = "text_as_received";

/// What ingest stores in `messages.body` for a message decoded to `text`: nothing when
/// the raw message gives the same text back (`from_raw`).
pub fn stored(text: &str, from_raw: bool) -> &str {
    if from_raw {
        ""
    } else {
        text
    }
}

/// An OpenPGP message's `messages.pgp` JSON (`info`, an object) marked with [`AS_RECEIVED`]
/// when its text is the raw message's.
pub fn pgp_column(mut info: serde_json::Value, from_raw: bool) -> String {
    if let (true, Some(object)) = (from_raw, info.as_object_mut()) {
        object.insert(AS_RECEIVED.into(), serde_json::Value::Bool(true));
    }
    info.to_string()
}

/// Whether a message's text is its stored `body` rather than decoded from `raw`: a body
/// is stored, or the message is OpenPGP mail gpg opened (`pgp` set without
/// [`AS_RECEIVED`]).
fn kept(body: &[u8], pgp: ValueRef<'_>) -> bool {
    let as_received = |pgp: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(pgp)
            .is_ok_and(|v| v.get(AS_RECEIVED) == Some(&serde_json::Value::Bool(true)))
    };
    !body.is_empty()
        || match pgp {
            ValueRef::Null => false,
            ValueRef::Text(t) | ValueRef::Blob(t) => !as_received(t),
            _ => true,
        }
}

/// Whether a message whose `body` and `pgp` columns read `body` and `pgp` keeps its text
/// in `body` (else it is decoded from `raw`), by the rule `secdesk_body` reads with, for a
/// reader holding the columns.
pub fn is_kept(body: &str, pgp: Option<&str>) -> bool {
    kept(
        body.as_bytes(),
        pgp.map_or(ValueRef::Null, |p| ValueRef::Text(p.as_bytes())),
    )
}

/// The SQL function `secdesk_body_or_null(body, pgp, raw)`: [`SQL_BODY`], but NULL where
/// that fails on a damaged raw frame, for a reader that goes over many messages and must
/// not fail on one (`secdesk check` reports it).
pub const SQL_BODY_OR_NULL: &str = "secdesk_body_or_null";

/// The SQL function `secdesk_body_kept(body, pgp)`: whether the message's text is its
/// stored body (`store --stats` counts them), by the rule `secdesk_body` reads with.
pub const SQL_BODY_KEPT: &str = "secdesk_body_kept";

/// The SQL function `secdesk_raw_text(raw)`: the text decoded from the raw message, NULL
/// when its frame cannot be unpacked (a migration comparing a kept body with it must not
/// fail on a damaged frame; `secdesk check` reports that).
pub const SQL_RAW_TEXT: &str = "secdesk_raw_text";

/// The text of the raw message `raw` (unpacked) as ingest decodes it.
pub fn decode(raw: &[u8]) -> String {
    parse_message(raw).body_text
}

/// Makes [`SQL_BODY`], [`SQL_BODY_OR_NULL`], [`SQL_BODY_KEPT`] and [`SQL_RAW_TEXT`]
/// available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(SQL_BODY, 3, flags, |ctx| from_arguments(ctx, 0))?;
    conn.create_scalar_function(SQL_BODY_OR_NULL, 3, flags, |ctx| {
        Ok(from_arguments(ctx, 0).ok())
    })?;
    conn.create_scalar_function(SQL_BODY_KEPT, 2, flags, |ctx| {
        let body = match ctx.get_raw(0) {
            ValueRef::Text(t) | ValueRef::Blob(t) => t,
            _ => b"",
        };
        Ok(kept(body, ctx.get_raw(1)))
    })?;
    conn.create_scalar_function(SQL_RAW_TEXT, 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) | ValueRef::Text(b) => unpack(b.to_vec()).ok().map(|r| decode(&r)),
            _ => None,
        })
    })
}

/// The body given by a SQL function's arguments `body, pgp, raw`, from argument `first` on:
/// the stored body when there is one or the message's OpenPGP text was not the raw
/// message's, else the text decoded from the raw message. An error when the raw frame
/// cannot be unpacked.
pub(super) fn from_arguments(ctx: &Context<'_>, first: usize) -> rusqlite::Result<String> {
    let body = match ctx.get_raw(first) {
        ValueRef::Text(t) => t,
        ValueRef::Null => b"",
        _ => return Err(FromSqlError::InvalidType.into()),
    };
    if kept(body, ctx.get_raw(first + 1)) {
        return Ok(String::from_utf8_lossy(body).into_owned());
    }
    let stored = match ctx.get_raw(first + 2) {
        ValueRef::Blob(b) => b.to_vec(),
        ValueRef::Text(t) => t.to_vec(),
        ValueRef::Null => return Ok(String::new()),
        _ => return Err(FromSqlError::InvalidType.into()),
    };
    let raw = unpack(stored).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
    Ok(decode(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::raw::pack;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c
    }

    fn body(c: &Connection, body: &str, pgp: Option<&str>, raw: &[u8]) -> String {
        c.query_row(
            "SELECT secdesk_body(?1, ?2, ?3)",
            rusqlite::params![body, pgp, raw],
            |r| r.get(0),
        )
        .unwrap()
    }

    const MAIL: &[u8] = b"From: a@example.net\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\nThe parser's text.\r\n";

    #[test]
    fn an_empty_body_is_decoded_from_the_packed_raw_message() {
        let c = conn();
        let got = body(&c, "", None, &pack(MAIL));
        assert_eq!(got, decode(MAIL));
        assert!(got.contains("The parser's text."), "{got:?}");
    }

    #[test]
    fn a_kept_body_and_openpgp_text_are_returned_as_stored() {
        let c = conn();
        assert_eq!(body(&c, "older text", None, &pack(MAIL)), "older text");
        // Decrypted text that happens to be empty stays empty: never the ciphertext.
        assert_eq!(body(&c, "", Some("{}"), &pack(MAIL)), "");
        assert_eq!(stored("secret", false), "secret");
        assert_eq!(stored("plain", true), "");
    }

    #[test]
    fn openpgp_text_as_received_is_decoded_from_the_raw_message() {
        let c = conn();
        let marked = pgp_column(serde_json::json!({"encrypted": false}), true);
        assert_eq!(marked, r#"{"encrypted":false,"text_as_received":true}"#);
        assert_eq!(body(&c, "", Some(&marked), &pack(MAIL)), decode(MAIL));
        // A kept body still wins; an unmarked or unreadable pgp value keeps the body.
        assert_eq!(body(&c, "kept", Some(&marked), &pack(MAIL)), "kept");
        let opened = pgp_column(serde_json::json!({"encrypted": true}), false);
        assert_eq!(body(&c, "", Some(&opened), &pack(MAIL)), "");
        assert_eq!(body(&c, "", Some("not json"), &pack(MAIL)), "");
        // `store --stats` counts kept bodies by the same rule.
        let kept = |body: &str, pgp: Option<&str>| -> bool {
            c.query_row(
                "SELECT secdesk_body_kept(?1, ?2)",
                rusqlite::params![body, pgp],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(!kept("", None) && !kept("", Some(&marked)));
        assert!(kept("older text", None) && kept("", Some(&opened)) && kept("", Some("{}")));
    }

    #[test]
    fn a_damaged_frame_has_no_raw_text_instead_of_an_error() {
        let c = conn();
        let text = |raw: &[u8]| -> Option<String> {
            c.query_row("SELECT secdesk_raw_text(?1)", [raw], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(text(&pack(MAIL)), Some(decode(MAIL)));
        assert_eq!(text(&pack(MAIL)[..12]), None);
    }
}
