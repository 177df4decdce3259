//! Raw messages as the store keeps them: each one a zstd frame (RFC 8878), read back
//! byte-exact. Every reader of `messages.raw` goes through [`unpack`] (directly, or as a
//! [`RawMessage`] column value); every writer through [`pack`], or the SQL function
//! [`SQL_PACK`] that migrations and salvage use.
//!
//! A value that does not start with the zstd frame magic is a message stored before
//! compression (a store not yet migrated, opened read-only because it is damaged) and is
//! returned as it is. The migration compresses every old value unconditionally, so a
//! message that itself starts with the magic bytes is never mistaken once migrated.
//!
//! No dictionary: on the SpamAssassin corpus a 64 KB dictionary trained on half of it
//! took the other half from 0.41x to 0.29x, but it would have to be kept in every store
//! forever and trained on each mailbox; see docs/benchmarks.md.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::Connection;

/// zstd's level 3 (its default): about 0.4x on mail at a few hundred MB/s, so a sync
/// spends little time compressing.
const LEVEL: i32 = 3;

/// The magic number that starts every zstd frame (RFC 8878 §3.1.1), little-endian.
const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The SQL function `secdesk_pack_raw(blob)`: [`pack`] inside SQL.
pub const SQL_PACK: &str = "secdesk_pack_raw";

/// The stored form of the raw message `raw`.
pub fn pack(raw: &[u8]) -> Vec<u8> {
    // Compressing from a slice into a Vec cannot fail but for out-of-memory, which
    // aborts anyway; a level within zstd's range is an invariant.
    zstd::bulk::compress(raw, LEVEL).expect("zstd compresses any input at level 3")
}

/// A stored raw message that could not be decompressed (a damaged store).
#[derive(Debug, thiserror::Error)]
#[error("a stored raw message is damaged ({0}): run `secdesk check`")]
pub struct DamagedRaw(String);

/// The raw message stored as `stored`, byte-exact.
pub fn unpack(stored: Vec<u8>) -> Result<Vec<u8>, DamagedRaw> {
    if !stored.starts_with(&MAGIC) {
        return Ok(stored);
    }
    let mut out = Vec::new();
    zstd::stream::copy_decode(stored.as_slice(), &mut out)
        .map_err(|e| DamagedRaw(e.to_string()))?;
    Ok(out)
}

/// A raw message read from a `raw` column: `row.get::<_, RawMessage>(i)?.0`.
pub struct RawMessage(pub Vec<u8>);

impl FromSql for RawMessage {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let stored = value.as_blob()?.to_vec();
        unpack(stored)
            .map(RawMessage)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Makes [`SQL_PACK`] available on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        SQL_PACK,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let raw = ctx.get_raw(0);
            let bytes = match raw {
                ValueRef::Blob(b) => b,
                ValueRef::Text(t) => t,
                _ => return Err(FromSqlError::InvalidType.into()),
            };
            Ok(pack(bytes))
        },
    )
}

#[cfg(test)]
#[path = "raw_tests.rs"]
mod tests;
