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
//! Once a store has trained its dictionary (core::store::dictionary), frames are packed
//! with it and name it in their header; [`unpack`] finds it by that name. A frame without
//! a dictionary id reads as before.

use std::cell::RefCell;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::Connection;

use zstd::bulk::Compressor;

use super::dictionary::{self, Dictionary};

/// zstd's level 3 (its default) for frames without a dictionary: about 0.4x on mail at a few hundred MB/s, so a sync
/// spends little time compressing.
const LEVEL: i32 = 3;

/// The magic number that starts every zstd frame (RFC 8878 §3.1.1), little-endian.
const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The SQL function `secdesk_pack_raw(blob)`: [`pack`] inside SQL.
pub const SQL_PACK: &str = "secdesk_pack_raw";

/// The stored form of the raw message `raw`, without a dictionary.
pub fn pack(raw: &[u8]) -> Vec<u8> {
    pack_with(raw, None)
}

/// The stored form of the raw message `raw`, packed with `dict` when given. A frame
/// packed with a dictionary names it and carries a content checksum (RFC 8878 §3.1.1), so
/// reading it with any other dictionary is an error, never wrong bytes.
pub fn pack_with(raw: &[u8], dict: Option<&Dictionary>) -> Vec<u8> {
    let id = dict.map(|d| d.id);
    PACKER.with_borrow_mut(|packer| {
        let compressor = match packer {
            Some((made_for, c)) if *made_for == id => c,
            _ => &mut packer.insert((id, compressor(dict))).1,
        };
        // Compressing from a slice into a Vec cannot fail but for out-of-memory, which
        // aborts anyway.
        compressor.compress(raw).expect("zstd compresses any input")
    })
}

thread_local! {
    /// This thread's compression context and the dictionary id it was made for (None: no
    /// dictionary), kept from one message to the next. A context per message was 2 % of
    /// storing, and with a dictionary loaded into it zstd digests the dictionary once per
    /// context, not once per frame.
    static PACKER: RefCell<Option<(Option<u32>, Compressor<'static>)>> = const { RefCell::new(None) };
}

/// A compression context for frames packed with `dict`, or without a dictionary.
fn compressor(dict: Option<&Dictionary>) -> Compressor<'static> {
    // A level within zstd's range, a dictionary zstd trained (checked when it was
    // registered: it has an id) and the checksum flag are invariants zstd accepts.
    let Some(dict) = dict else {
        return Compressor::new(LEVEL).expect("zstd accepts level 3");
    };
    let mut c = Compressor::with_dictionary(dictionary::LEVEL, dict.bytes())
        .expect("a zstd context loads a trained dictionary");
    c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
        .expect("zstd accepts the checksum flag");
    c
}

/// A stored raw message that could not be decompressed (a damaged store).
#[derive(Debug, thiserror::Error)]
#[error("a stored raw message is damaged ({0}): run `secdesk check`")]
pub struct DamagedRaw(String);

impl DamagedRaw {
    /// What zstd said of the frame.
    pub fn detail(&self) -> &str {
        &self.0
    }
}

/// [`unpack`] of a `messages.raw` column as a row holds it (a blob; text or NULL from
/// another program are read as they are), for a reader that must not fail on one damaged
/// message.
pub fn unpack_column(value: ValueRef<'_>) -> Result<Vec<u8>, DamagedRaw> {
    match value {
        ValueRef::Blob(b) | ValueRef::Text(b) => unpack(b.to_vec()),
        _ => Ok(Vec::new()),
    }
}

/// The raw message stored as `stored`, byte-exact.
pub fn unpack(stored: Vec<u8>) -> Result<Vec<u8>, DamagedRaw> {
    if !stored.starts_with(&MAGIC) {
        return Ok(stored);
    }
    let mut out = Vec::new();
    match zstd::zstd_safe::get_dict_id_from_frame(&stored) {
        None => zstd::stream::copy_decode(stored.as_slice(), &mut out)
            .map_err(|e| DamagedRaw(e.to_string()))?,
        Some(id) => {
            let dict = dictionary::lookup(id.get()).ok_or_else(|| {
                DamagedRaw(format!(
                    "it needs compression dictionary {id}, which the store lacks"
                ))
            })?;
            let mut d =
                zstd::stream::Decoder::with_prepared_dictionary(stored.as_slice(), dict.decoder())
                    .map_err(|e| DamagedRaw(e.to_string()))?;
            std::io::copy(&mut d, &mut out).map_err(|e| DamagedRaw(e.to_string()))?;
        }
    }
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
    )?;
    conn.create_scalar_function(
        SQL_UNPACKED_LEN,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Blob(b) | ValueRef::Text(b) => unpacked_len(b),
                _ => None,
            })
        },
    )
}

/// The SQL function `secdesk_raw_len(stored)`: [`unpacked_len`] inside SQL (NULL when the
/// frame does not say).
pub const SQL_UNPACKED_LEN: &str = "secdesk_raw_len";

/// The length of the raw message stored as `stored`, as it came, read from the frame's
/// header (RFC 8878 §3.1.1.1.4, Frame_Content_Size, which every frame [`pack_with`] makes
/// carries) without decompressing; None for a frame that does not say or is damaged.
pub fn unpacked_len(stored: &[u8]) -> Option<i64> {
    if !stored.starts_with(&MAGIC) {
        return i64::try_from(stored.len()).ok();
    }
    match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(n)) => i64::try_from(n).ok(),
        _ => None,
    }
}

#[cfg(test)]
#[path = "raw_tests.rs"]
mod tests;
