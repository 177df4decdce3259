//! The zstd dictionary raw messages are packed with (RFC 8878 §5): trained on the store's
//! own mail, kept in the store, named by every frame that needs it.
//!
//! Mail shares most of its bytes with other mail (Received chains, MIME boilerplate, the
//! list footers of a mailbox), which a frame of one message cannot exploit and a dictionary
//! can: on the SpamAssassin corpus it takes raw messages from 0.41x to about 0.25x.
//!
//! - **Where it lives**: the table `raw_dictionaries`, one row per dictionary, `version`
//!   1, 2, …; new frames use the highest version. A dictionary is never deleted while a
//!   frame may name it.
//! - **How a frame names it**: its Dictionary_ID (RFC 8878 §3.1.1.1.3), derived from the
//!   dictionary's bytes (so two stores' dictionaries do not share an id), at or above
//!   32768 (below is reserved for a registrar). Frames packed with a dictionary carry a
//!   content checksum, so a wrong dictionary is an error, never wrong bytes. A frame
//!   without a dictionary id (packed before training, or in a store under
//!   [`TRAIN_AFTER`] messages) reads as before.
//! - **When it is trained**: once the store holds [`TRAIN_AFTER`] messages and has none,
//!   on the newest of them (`repack::train_if_due`: after each stored batch, and on opening an
//!   existing store, which is the re-packing migration of an old store). The same
//!   transaction re-packs every message with it: a crash leaves the store as it was, and
//!   the next batch or open trains again.
//! - **Readers** find a frame's dictionary in a process-wide registry ([`lookup`]), filled
//!   from every store opened ([`load`]) and by training.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use zstd::dict::DecoderDictionary;

/// A store trains its dictionary once it holds this many messages: fewer would make a poor
/// dictionary (and 112 KB is a large share of a small store).
pub const TRAIN_AFTER: i64 = 1000;

/// 256 KB: on the SpamAssassin corpus it packed the raw messages 6 % smaller than zstd's
/// default 112 KB for the same training time (about 0.7 s of CPU for 1,000 messages).
const SIZE: usize = 256 * 1024;

/// The zstd level of frames packed with a dictionary. Level 5 packed 8 % smaller still,
/// but storing 18,750 messages took about 1.5 s more CPU (docs/benchmarks.md).
pub(super) const LEVEL: i32 = 3;

/// The first Dictionary_ID outside the range RFC 8878 reserves for a registrar.
const FIRST_PRIVATE_ID: u32 = 32768;

/// A dictionary ready to pack and unpack with.
pub struct Dictionary {
    pub id: u32,
    /// As stored: a packing thread loads it once into its compression context
    /// (`raw::pack_with`).
    bytes: Vec<u8>,
    decoder: DecoderDictionary<'static>,
}

impl Dictionary {
    fn new(id: u32, bytes: &[u8]) -> Dictionary {
        Dictionary {
            id,
            bytes: bytes.to_vec(),
            decoder: DecoderDictionary::copy(bytes),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn decoder(&self) -> &DecoderDictionary<'static> {
        &self.decoder
    }
}

/// Every dictionary met in this process, by id. Ids are derived from the bytes, so stores
/// opened side by side (tests, salvage) share the registry safely; the checksum in each
/// frame catches the rare clash.
static REGISTRY: RwLock<Option<HashMap<u32, Arc<Dictionary>>>> = RwLock::new(None);

/// The dictionary a frame names, if this process has met it.
pub fn lookup(id: u32) -> Option<Arc<Dictionary>> {
    let registry = REGISTRY.read().ok()?;
    registry.as_ref()?.get(&id).cloned()
}

/// Makes the dictionary `bytes` (as stored in `raw_dictionaries.dict`) known; returns it.
/// None when `bytes` is not a dictionary with an id.
pub fn register(bytes: &[u8]) -> Option<Arc<Dictionary>> {
    let id = zstd::zstd_safe::get_dict_id_from_dict(bytes)?.get();
    if let Some(known) = lookup(id) {
        return Some(known);
    }
    let dict = Arc::new(Dictionary::new(id, bytes));
    // A poisoned lock only means another thread panicked while inserting: the map is whole.
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    Some(
        registry
            .get_or_insert_with(HashMap::new)
            .entry(id)
            .or_insert(dict)
            .clone(),
    )
}

/// Registers every dictionary of the store on `conn` that this process has not met yet
/// (only those are read). A store from before the table (a damaged one opened read-only,
/// unmigrated) has none. A long-lived process calls it again when another one may have
/// trained a dictionary (`Store::refresh_dictionaries`).
pub fn load(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = match conn.prepare_cached("SELECT id FROM raw_dictionaries") {
        Ok(stmt) => stmt,
        Err(_) => return Ok(()),
    };
    let ids = stmt
        .query_map([], |r| r.get::<_, u32>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for id in ids.into_iter().filter(|&id| lookup(id).is_none()) {
        let bytes: Vec<u8> = conn.query_row(
            "SELECT dict FROM raw_dictionaries WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        register(&bytes);
    }
    Ok(())
}

/// The dictionary new frames are packed with: the store's newest, if it has trained one.
pub fn current(conn: &Connection) -> rusqlite::Result<Option<Arc<Dictionary>>> {
    let id: Option<u32> = conn
        .prepare_cached("SELECT id FROM raw_dictionaries ORDER BY version DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    if let Some(d) = lookup(id) {
        return Ok(Some(d));
    }
    // Trained by another desk since this one opened the store.
    let bytes: Vec<u8> = conn.query_row(
        "SELECT dict FROM raw_dictionaries WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(register(&bytes))
}

/// A dictionary trained on `samples`, its Dictionary_ID derived from its content. None
/// when zstd finds too little to learn from (too few or too small samples).
pub fn train(samples: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut dict = zstd::dict::from_samples(samples, SIZE).ok()?;
    // A trained dictionary starts with its magic number and a 4-byte little-endian id
    // (RFC 8878 §5); the id is replaced by one derived from the rest of the bytes.
    if dict.len() < 8 {
        return None;
    }
    dict[4..8].fill(0);
    let digest = Sha256::digest(&dict);
    let n = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let id = FIRST_PRIVATE_ID + n % (u32::MAX / 2 - FIRST_PRIVATE_ID);
    dict[4..8].copy_from_slice(&id.to_le_bytes());
    Some(dict)
}

#[cfg(test)]
#[path = "dictionary_tests.rs"]
mod tests;
