//! The model's home in the SQLite store (tables `classify_model`, `classify_tokens`,
//! `classify_trained`): loading it, setting it up from the starter model on first use, and
//! training or untraining batches of messages in one transaction.

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use super::model::{Label, Model};
use super::stack::Stack;
use super::ClassifyError;
use crate::core::store::{timestamp, Store};

/// The starter model, built from `../shared/corpora` (see `docs/classifier.md`) and compiled
/// in so a fresh store classifies sensibly on day one.
pub const STARTER_MODEL: &str = include_str!("../../../assets/starter-model.tsv");

/// Where the model in a store came from.
pub const ORIGIN_STARTER: &str = "starter";
pub const ORIGIN_EMPTY: &str = "empty";

/// Loads the starter model into the store when it has no model yet.
pub fn ensure_model(store: &mut Store) -> Result<(), ClassifyError> {
    // Most stores have one: read only, so a read-only store opens and nothing waits for
    // another writer.
    if model_origin(store.conn())?.is_some() {
        return Ok(());
    }
    let tx = store.write_transaction()?;
    ensure_model_in(&tx)?;
    tx.commit()?;
    Ok(())
}

/// [`ensure_model`] inside the caller's transaction.
pub fn ensure_model_in(conn: &Connection) -> Result<(), ClassifyError> {
    if model_origin(conn)?.is_none() {
        replace_model_in(conn, ORIGIN_STARTER, &starter_model()?)?;
    }
    Ok(())
}

/// The built-in starter model.
pub fn starter_model() -> Result<Model, ClassifyError> {
    Model::from_tsv(STARTER_MODEL).map_err(|e| ClassifyError::ModelFile {
        file: "assets/starter-model.tsv (built in)".into(),
        line: e.line,
        message: e.message,
    })
}

/// Replaces the whole model (and forgets which messages were trained).
pub fn replace_model(store: &mut Store, origin: &str, model: &Model) -> Result<(), ClassifyError> {
    let tx = store.write_transaction()?;
    replace_model_in(&tx, origin, model)?;
    tx.commit()?;
    Ok(())
}

/// [`replace_model`] inside the caller's transaction.
pub fn replace_model_in(tx: &Connection, origin: &str, model: &Model) -> Result<(), ClassifyError> {
    tx.execute_batch(
        "DELETE FROM classify_tokens; DELETE FROM classify_trained; DELETE FROM classify_bands;
         DELETE FROM classify_copies; DELETE FROM classify_model;",
    )?;
    save_stack_in(tx, model.stack.as_ref())?;
    let m = model.messages;
    tx.execute(
        "INSERT INTO classify_model (id, origin, spam, ham, invalid, valid, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            origin,
            m[0] as i64,
            m[1] as i64,
            m[2] as i64,
            m[3] as i64,
            timestamp(Utc::now())
        ],
    )?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO classify_tokens (token, spam, ham, invalid, valid) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (token, c) in &model.tokens {
            insert.execute(params![
                token,
                c[0] as i64,
                c[1] as i64,
                c[2] as i64,
                c[3] as i64
            ])?;
        }
    }
    Ok(())
}

/// Replaces the learned combiner's weights (none: back to summing log-odds).
pub fn save_stack_in(tx: &Connection, stack: Option<&Stack>) -> Result<(), ClassifyError> {
    tx.execute("DELETE FROM classify_weights", [])?;
    if let Some(stack) = stack {
        let mut insert =
            tx.prepare("INSERT INTO classify_weights (side, name, weight) VALUES (?1, ?2, ?3)")?;
        for (side, name, w) in stack.rows() {
            insert.execute(params![side, name, w])?;
        }
    }
    Ok(())
}

/// Reads the whole model into memory (setting up the starter model first if needed).
pub fn load_model(store: &mut Store) -> Result<Model, ClassifyError> {
    Ok(load_model_fingerprinted(store)?.0)
}

/// [`load_model`], with a SHA-256 digest of every row it read: two loads give the same
/// digest only if they read the same model (rows are hashed in the order SQLite returns
/// them, so an equal model may hash differently, never the reverse). It names the model
/// in the held queue's verdict cache (`core::moderation::cache`).
pub fn load_model_fingerprinted(store: &mut Store) -> Result<(Model, [u8; 32]), ClassifyError> {
    ensure_model(store)?;
    let mut digest = Sha256::new();
    let conn = store.conn();
    let messages = conn.query_row(
        "SELECT spam, ham, invalid, valid FROM classify_model WHERE id = 1",
        [],
        |r| Ok([r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?].map(|n| n.max(0) as u64)),
    )?;
    for n in messages {
        digest.update(n.to_le_bytes());
    }
    let mut model = Model {
        messages,
        ..Model::default()
    };
    // Sized once: growing a table of 40,000 tokens rehashes it a dozen times.
    let count: i64 = conn.query_row("SELECT count(*) FROM classify_tokens", [], |r| r.get(0))?;
    model.tokens.reserve(usize::try_from(count).unwrap_or(0));
    let mut stmt = conn.prepare("SELECT token, spam, ham, invalid, valid FROM classify_tokens")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?].map(|n| n.max(0) as u64),
        ))
    })?;
    for row in rows {
        let (token, counts) = row?;
        digest.update((token.len() as u64).to_le_bytes());
        digest.update(token.as_bytes());
        for n in counts {
            digest.update(n.to_le_bytes());
        }
        model.tokens.insert(token, counts);
    }
    let mut stmt = conn.prepare("SELECT side, name, weight FROM classify_weights")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (side, name, weight) in &rows {
        for part in [side.as_bytes(), name.as_bytes()] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part);
        }
        digest.update(weight.to_le_bytes());
    }
    model.stack = Stack::from_rows(rows.iter().map(|(a, b, w)| (a.as_str(), b.as_str(), *w)));
    Ok((model, digest.finalize().into()))
}

/// Where the store's model came from (`starter`, `empty`), if it was set up.
pub fn model_origin(conn: &Connection) -> Result<Option<String>, ClassifyError> {
    Ok(conn
        .query_row("SELECT origin FROM classify_model WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// One message to train.
#[derive(Debug, Clone)]
pub struct TrainItem {
    /// As `messages.content_hash`: identifies the message across sources.
    pub content_hash: String,
    pub label: Label,
    pub tokens: Vec<String>,
}

/// What a training batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrainSummary {
    /// Messages trained for the first time.
    pub trained: usize,
    /// Messages trained before under another label: untrained, then trained on the new one.
    pub relabelled: usize,
    /// Messages already trained with this label: left alone.
    pub unchanged: usize,
    /// Of those trained or relabelled, how many were near-copies of a message already
    /// learned under the same label ([`super::campaign`]): kept, but counted once.
    pub near_copies: usize,
}

/// Whether a batch counts a near-copy of a message learned under the same label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copies {
    /// Counted once ([`super::campaign`]): what a team's verdicts teach.
    CountOnce,
    /// Every message counts (`secdesk train` on folders a person chose).
    CountEach,
}

/// Trains a batch; run it inside a transaction (the counts change in several statements).
/// A message trained before under another label is untrained first (with the exact tokens it
/// was trained with); one trained under the same label is left alone, so training twice
/// does not count twice. A near-copy of a message already learned under the same label is
/// recorded but not counted ([`super::campaign`]).
pub fn train_batch(tx: &Connection, items: &[TrainItem]) -> Result<TrainSummary, ClassifyError> {
    train_batch_with(tx, items, Copies::CountOnce)
}

/// [`train_batch`], choosing what a near-copy counts.
pub fn train_batch_with(
    tx: &Connection,
    items: &[TrainItem],
    copies: Copies,
) -> Result<TrainSummary, ClassifyError> {
    let mut delta = Delta::default();
    let mut summary = TrainSummary::default();
    let now = timestamp(Utc::now());
    for item in items {
        match previous(tx, &item.content_hash)? {
            Some(p) if p.label == item.label => {
                summary.unchanged += 1;
                continue;
            }
            Some(p) => {
                remove(tx, &item.content_hash, p, &mut delta)?;
                summary.relabelled += 1;
            }
            None => summary.trained += 1,
        }
        let keys = super::campaign::bands(&item.tokens);
        let copy_of = match copies {
            Copies::CountOnce => near_copy_of(tx, item.label, &item.tokens, &keys)?,
            Copies::CountEach => None,
        };
        tx.execute(
            "INSERT INTO classify_trained (content_hash, label, tokens, trained_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(content_hash) DO UPDATE SET label = excluded.label,
                tokens = excluded.tokens, trained_at = excluded.trained_at",
            params![
                item.content_hash,
                item.label.as_str(),
                item.tokens.join("\n"),
                now
            ],
        )?;
        let mut band = tx.prepare_cached(
            "INSERT OR IGNORE INTO classify_bands (band, content_hash) VALUES (?1, ?2)",
        )?;
        for k in keys {
            band.execute(params![k, item.content_hash])?;
        }
        match copy_of {
            Some(of) => {
                tx.execute(
                    "INSERT OR REPLACE INTO classify_copies (content_hash, copy_of) VALUES (?1, ?2)",
                    params![item.content_hash, of],
                )?;
                summary.near_copies += 1;
            }
            None => delta.add(item.label, &item.tokens, 1),
        }
    }
    delta.write(tx)?;
    Ok(summary)
}

/// The counted message, trained under `label`, of which `tokens` would be a near-copy.
fn near_copy_of(
    tx: &Connection,
    label: Label,
    tokens: &[String],
    keys: &[i64],
) -> Result<Option<String>, ClassifyError> {
    if keys.is_empty() {
        return Ok(None);
    }
    // At most MAX_CANDIDATES messages sharing a band are compared with: a flood of 10,000
    // copies swept one report at a time would otherwise compare each new copy with every copy
    // before it (quadratic: minutes for one sweep). Any copy of a campaign names its counted
    // message, so a few of them are enough to find it.
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT t.content_hash, t.tokens, c.copy_of
         FROM classify_bands b
         JOIN classify_trained t ON t.content_hash = b.content_hash
         LEFT JOIN classify_copies c ON c.content_hash = t.content_hash
         WHERE b.band IN (SELECT value FROM json_each(?1)) AND t.label = ?2
         LIMIT ?3",
    )?;
    let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
    let rows = stmt.query_map(
        params![keys, label.as_str(), super::campaign::MAX_CANDIDATES as i64],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        },
    )?;
    let mine = super::campaign::token_set(tokens);
    let mut best: Option<(f64, String)> = None;
    for row in rows {
        let (hash, stored, copy_of) = row?;
        let stored: Vec<&str> = stored.split('\n').filter(|t| !t.is_empty()).collect();
        let j = super::campaign::jaccard_with(&mine, &stored);
        if j >= super::campaign::NEAR && best.as_ref().is_none_or(|(b, _)| j > *b) {
            best = Some((j, copy_of.unwrap_or(hash)));
        }
    }
    Ok(best.map(|(_, of)| of))
}

/// Untrains a message, if it was trained. Returns the label it had.
pub fn untrain(tx: &Connection, content_hash: &str) -> Result<Option<Label>, ClassifyError> {
    let Some(p) = previous(tx, content_hash)? else {
        return Ok(None);
    };
    let label = p.label;
    let mut delta = Delta::default();
    remove(tx, content_hash, p, &mut delta)?;
    delta.write(tx)?;
    Ok(Some(label))
}

/// Takes a trained message out: its counts (if it was counted) and its rows. When it was
/// counted and near-copies of it were kept, the oldest of them is counted in its place and
/// the others now copy that one, so the campaign still counts once, and untraining every
/// message of it gives back exactly the model from before it.
fn remove(
    tx: &Connection,
    content_hash: &str,
    p: Previous,
    delta: &mut Delta,
) -> Result<(), ClassifyError> {
    tx.execute(
        "DELETE FROM classify_trained WHERE content_hash = ?1",
        [content_hash],
    )?;
    tx.execute(
        "DELETE FROM classify_bands WHERE content_hash = ?1",
        [content_hash],
    )?;
    if p.copy_of.is_some() {
        tx.execute(
            "DELETE FROM classify_copies WHERE content_hash = ?1",
            [content_hash],
        )?;
        return Ok(());
    }
    delta.add(p.label, &p.tokens, -1);
    let heir: Option<String> = tx
        .query_row(
            "SELECT c.content_hash FROM classify_copies c
             JOIN classify_trained t ON t.content_hash = c.content_hash
             WHERE c.copy_of = ?1 ORDER BY t.rowid LIMIT 1",
            [content_hash],
            |r| r.get(0),
        )
        .optional()?;
    let Some(heir) = heir else {
        return Ok(());
    };
    tx.execute(
        "DELETE FROM classify_copies WHERE content_hash = ?1",
        [&heir],
    )?;
    tx.execute(
        "UPDATE classify_copies SET copy_of = ?2 WHERE copy_of = ?1",
        params![content_hash, heir],
    )?;
    if let Some(h) = previous(tx, &heir)? {
        delta.add(h.label, &h.tokens, 1);
    }
    Ok(())
}

/// How a message was trained.
struct Previous {
    label: Label,
    tokens: Vec<String>,
    /// The counted message it is a near-copy of; `None` when its own tokens count.
    copy_of: Option<String>,
}

/// The label and tokens a message was trained with.
fn previous(tx: &Connection, content_hash: &str) -> Result<Option<Previous>, ClassifyError> {
    let row: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT t.label, t.tokens, c.copy_of FROM classify_trained t
             LEFT JOIN classify_copies c ON c.content_hash = t.content_hash
             WHERE t.content_hash = ?1",
            [content_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((label, tokens, copy_of)) = row else {
        return Ok(None);
    };
    let label = label.parse().map_err(|e: String| ClassifyError::Corrupt {
        what: format!("classify_trained row {content_hash}"),
        message: e,
    })?;
    let tokens = tokens
        .split('\n')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Some(Previous {
        label,
        tokens,
        copy_of,
    }))
}

/// Changes to counts, gathered in memory and written once per batch.
#[derive(Default)]
struct Delta {
    messages: [i64; 4],
    tokens: HashMap<String, [i64; 4]>,
}

impl Delta {
    fn add(&mut self, label: Label, tokens: &[String], step: i64) {
        let i = label.index();
        self.messages[i] += step;
        for t in tokens {
            self.tokens.entry(t.clone()).or_default()[i] += step;
        }
    }

    /// Writes the changes; counts never go below zero and all-zero rows are deleted, so a
    /// train followed by an untrain leaves the tables exactly as they were.
    fn write(&self, tx: &Connection) -> Result<(), ClassifyError> {
        let m = self.messages;
        let changed = tx.execute(
            "UPDATE classify_model SET spam = max(spam + ?1, 0), ham = max(ham + ?2, 0),
                invalid = max(invalid + ?3, 0), valid = max(valid + ?4, 0), updated_at = ?5
             WHERE id = 1",
            params![m[0], m[1], m[2], m[3], timestamp(Utc::now())],
        )?;
        if changed == 0 {
            return Err(ClassifyError::Corrupt {
                what: "classify_model".into(),
                message: "the model row is missing; it is set up before training".into(),
            });
        }
        let mut get = tx.prepare_cached(
            "SELECT spam, ham, invalid, valid FROM classify_tokens WHERE token = ?1",
        )?;
        let mut put = tx.prepare_cached(
            "INSERT OR REPLACE INTO classify_tokens (token, spam, ham, invalid, valid)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM classify_tokens WHERE token = ?1")?;
        for (token, d) in &self.tokens {
            if d.iter().all(|&n| n == 0) {
                continue;
            }
            let current: [i64; 4] = get
                .query_row([token], |r| {
                    Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
                })
                .optional()?
                .unwrap_or_default();
            let mut next = [0i64; 4];
            for i in 0..4 {
                next[i] = (current[i] + d[i]).max(0);
            }
            if next.iter().all(|&n| n == 0) {
                delete.execute([token])?;
            } else {
                put.execute(params![token, next[0], next[1], next[2], next[3]])?;
            }
        }
        Ok(())
    }
}
