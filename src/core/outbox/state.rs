//! Where an outbox row is, as a type. The `outbox.state` column keeps the same words it
//! always held (`queued`, `sending`, `sent`, `failed-permanent`, `failed`, `discarded`), plus
//! `uncertain`, so no migration is needed (the column is free text); [`OutboxState`] reads
//! and writes them through rusqlite's [`ToSql`]/[`FromSql`], and an unknown word in the column is an error naming it.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;

/// Where an outbox row is. `queued -> sending -> sent`, or `sending -> failed-permanent`
/// (kept for editing); `failed` when it can never be sent; `discarded` by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxState {
    /// Waiting for its first or next attempt.
    Queued,
    /// An attempt began and has not been recorded as finished.
    Sending,
    /// An attempt ended (cut off, or found interrupted) without knowing whether the server
    /// took the reply. Never resent by itself unless the server shows it was not delivered.
    Uncertain,
    Sent,
    /// The server refused it (5xx): kept, to be edited and resent or discarded.
    FailedPermanent,
    /// It can never be sent: its report is gone. Kept, with why, until discarded.
    Failed,
    /// Given up by a person; kept for the record.
    Discarded,
}

impl OutboxState {
    pub const ALL: [OutboxState; 7] = [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Uncertain,
        OutboxState::Sent,
        OutboxState::FailedPermanent,
        OutboxState::Failed,
        OutboxState::Discarded,
    ];

    /// The word stored in `outbox.state` (and printed by `secdesk outbox --json`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Uncertain => "uncertain",
            OutboxState::Sent => "sent",
            OutboxState::FailedPermanent => "failed-permanent",
            OutboxState::Failed => "failed",
            OutboxState::Discarded => "discarded",
        }
    }

    /// The state a stored word names, if any.
    pub fn from_stored(word: &str) -> Option<OutboxState> {
        OutboxState::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for OutboxState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// An unknown word in `outbox.state`.
#[derive(Debug, thiserror::Error)]
#[error("unknown outbox state {0:?}: expected one of queued, sending, uncertain, sent, failed-permanent, failed, discarded")]
pub struct UnknownOutboxState(String);

impl FromSql for OutboxState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let word = value.as_str()?;
        OutboxState::from_stored(word)
            .ok_or_else(|| FromSqlError::Other(Box::new(UnknownOutboxState(word.to_string()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// The words are the ones stores already hold: a store written before the enum reads
    /// back as the same states, and a state written now is the old word.
    #[test]
    fn states_read_and_write_the_words_stores_already_hold() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (state TEXT)").unwrap();
        let words = [
            "queued",
            "sending",
            "uncertain",
            "sent",
            "failed-permanent",
            "failed",
            "discarded",
        ];
        for (word, state) in words.iter().zip(OutboxState::ALL) {
            conn.execute("DELETE FROM t", []).unwrap();
            conn.execute("INSERT INTO t VALUES (?1)", [word]).unwrap();
            let read: OutboxState = conn
                .query_row("SELECT state FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(read, state);
            conn.execute("UPDATE t SET state = ?1", [state]).unwrap();
            let stored: String = conn
                .query_row("SELECT state FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(&stored, word);
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(word)
            );
        }
    }

    #[test]
    fn an_unknown_word_in_the_column_is_an_error_that_names_it() {
        let conn = Connection::open_in_memory().unwrap();
        let err = conn
            .query_row("SELECT 'bounced'", [], |r| r.get::<_, OutboxState>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown outbox state \"bounced\""),
            "{err}"
        );
    }
}
