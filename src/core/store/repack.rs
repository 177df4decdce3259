//! Training the store's first zstd dictionary and re-packing every raw message with it
//! (core::store::dictionary says where a dictionary lives and how a frame names it), and
//! the SQL function that re-packs one frame.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::{params, Connection};

use super::dictionary::{register, train, TRAIN_AFTER};
use super::raw::{pack_with, unpack};

/// The SQL function `secdesk_repack_raw(stored, dictionary)`: a stored raw message packed
/// again with `dictionary` (a `raw_dictionaries.dict` blob; NULL packs without one).
pub const SQL_REPACK: &str = "secdesk_repack_raw";

/// Trains the store's first dictionary when it is due (no dictionary yet, at least
/// [`TRAIN_AFTER`] messages) and re-packs every message with it, in one transaction.
/// Returns how many messages were re-packed (0 when not due, or when zstd could not
/// train on them).
pub fn train_if_due(conn: &mut Connection) -> rusqlite::Result<usize> {
    let has_one: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM raw_dictionaries)")?
        .query_row([], |r| r.get(0))?;
    if has_one {
        return Ok(0);
    }
    let enough: i64 = conn
        .prepare_cached("SELECT count(*) FROM (SELECT 1 FROM messages LIMIT ?1)")?
        .query_row([TRAIN_AFTER], |r| r.get(0))?;
    if enough < TRAIN_AFTER {
        return Ok(0);
    }
    // Immediate: the write lock first, so a second desk training at the same moment waits
    // (busy timeout) and then finds the dictionary, instead of failing to upgrade its lock.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another desk may have trained between the check and the transaction.
    let raced: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM raw_dictionaries)", [], |r| {
        r.get(0)
    })?;
    if raced {
        return Ok(0);
    }
    // A damaged frame is left out (and left as it is): `secdesk check` reports it.
    let samples: Vec<Vec<u8>> = tx
        .prepare("SELECT raw FROM messages ORDER BY id DESC LIMIT ?1")?
        .query_map([TRAIN_AFTER], |r| r.get::<_, Vec<u8>>(0))?
        .filter_map(|stored| stored.map(|s| unpack(s).ok()).transpose())
        .collect::<rusqlite::Result<_>>()?;
    let Some(dict) = train(&samples) else {
        return Ok(0);
    };
    drop(samples);
    tx.execute(
        "INSERT INTO raw_dictionaries (id, version, dict, samples, trained_at)
         VALUES (?1, 1, ?2, ?3, ?4)",
        params![
            zstd::zstd_safe::get_dict_id_from_dict(&dict).map(|id| id.get()),
            dict,
            TRAIN_AFTER,
            crate::core::time::timestamp(chrono::Utc::now()),
        ],
    )?;
    let repacked = tx.execute(
        &format!("UPDATE messages SET raw = {SQL_REPACK}(raw, ?1)"),
        [&dict],
    )?;
    tx.commit()?;
    Ok(repacked)
}

/// Makes [`SQL_REPACK`] available on `conn`. A frame that cannot be unpacked (damaged)
/// is returned as it is.
pub fn register_sql(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        SQL_REPACK,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let stored = match ctx.get_raw(0) {
                ValueRef::Blob(b) => b.to_vec(),
                ValueRef::Text(t) => t.to_vec(),
                _ => return Err(FromSqlError::InvalidType.into()),
            };
            let dict = match ctx.get_raw(1) {
                ValueRef::Blob(b) => Some(register(b).ok_or_else(|| {
                    rusqlite::Error::UserFunctionError("not a zstd dictionary".into())
                })?),
                ValueRef::Null => None,
                _ => return Err(FromSqlError::InvalidType.into()),
            };
            // A damaged frame stays as it is, for `secdesk check` to report: failing here
            // would keep the whole store from opening.
            match unpack(stored.clone()) {
                Ok(raw) => Ok(pack_with(&raw, dict.as_deref())),
                Err(_) => Ok(stored),
            }
        },
    )
}
