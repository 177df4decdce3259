//! IMAP UIDs the server listed but whose body is not stored: the record that keeps a gap
//! accounted for. A sync writes one row per such UID with the reason, its cursor never moves
//! past one (RFC 3501 §2.3.1.1: UIDs ascend, so the cursor is the highest UID below which
//! everything listed is stored), and the next sync asks for them again (the desk's rounds ask
//! for one that failed after the others too only after a wait, from `last_tried`: see
//! `mailio::imap::sync::Retry`). Rows at or below
//! the cursor, or of an older UIDVALIDITY, are settled (stored since, or expunged).
//!
//! UID 0, never a real UID (RFC 3501 §2.3.1.1, `nz-number`), marks a gap that the
//! server's counts show but no listed UID names (EXISTS says more than were listed); it
//! stays until a sync's listing adds up.

use std::collections::BTreeSet;

use rusqlite::params;

use super::{parse_timestamp, timestamp, Result, Store};

/// How often syncs have asked for a UID recorded missing, and when one last did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub attempts: u32,
    /// Why the last try failed.
    pub reason: String,
    /// `None` when the stored time does not read as one (written by hand, say).
    pub last_tried: Option<chrono::DateTime<chrono::Utc>>,
}

/// One UID a sync could not store, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingUid {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub reason: String,
    /// How many syncs have tried it.
    pub attempts: u32,
    /// When a sync last tried it (`None` when the stored time does not read as one).
    pub last_tried: Option<chrono::DateTime<chrono::Utc>>,
}

/// The first `limit` UIDs still missing, in every mailbox, by mailbox and UID, and how many
/// there are in all; on any connection to a store, a read-only one included.
pub fn missing_on(
    conn: &rusqlite::Connection,
    limit: usize,
) -> rusqlite::Result<(Vec<MissingUid>, usize)> {
    let total: i64 = conn.query_row("SELECT count(*) FROM imap_missing", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT mailbox, uidvalidity, uid, reason, attempts, last_tried FROM imap_missing
         ORDER BY mailbox, uid LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        let last_tried: String = r.get(5)?;
        Ok(MissingUid {
            mailbox: r.get(0)?,
            uidvalidity: r.get(1)?,
            uid: r.get(2)?,
            reason: r.get(3)?,
            attempts: r.get(4)?,
            last_tried: parse_timestamp(&last_tried),
        })
    })?;
    let listed = rows.collect::<rusqlite::Result<_>>()?;
    Ok((listed, usize::try_from(total).unwrap_or(0)))
}

impl Store {
    /// The UIDs of `mailbox` (within `uidvalidity`) at or above `from` whose messages are
    /// stored, so a sync resuming below a gap does not fetch them again.
    pub fn stored_uids(&self, mailbox: &str, uidvalidity: u32, from: u32) -> Result<BTreeSet<u32>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT uid FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid >= ?3",
        )?;
        let rows = stmt.query_map(params![mailbox, uidvalidity, from], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The raw messages stored under the `count` highest UIDs of `mailbox` (within
    /// `uidvalidity`) at or below `up_to`, highest first, of those at most `max_bytes` long
    /// as they came (every sync reads them: a large one would be unpacked each time); one
    /// whose raw cannot be read is left out. What a sync compares with the server's word
    /// (`mailio::imap::renumbered`).
    pub fn latest_stored(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        up_to: u32,
        count: usize,
        max_bytes: i64,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT uid, raw FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2
                AND uid IS NOT NULL AND uid <= ?3 AND {}(raw) <= ?5
                ORDER BY uid DESC LIMIT ?4",
            super::raw::SQL_UNPACKED_LEN
        ))?;
        let limit = i64::try_from(count).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![mailbox, uidvalidity, up_to, limit, max_bytes])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if let Ok(raw) = super::raw::unpack_column(row.get_ref(1)?) {
                out.push((row.get(0)?, raw));
            }
        }
        Ok(out)
    }

    /// Forgets which UID each stored message of `mailbox` (within `uidvalidity`) has, its
    /// cursor and its recorded gaps, in one transaction: the server gave its UIDs to other
    /// messages, so the next listing starts at UID 1 and asks for every UID not stored
    /// under the new numbering (what was stored is known by its content and not stored
    /// twice).
    pub fn forget_uids(&mut self, mailbox: &str, uidvalidity: u32) -> Result<()> {
        let tx = self.write_transaction()?;
        tx.execute(
            "UPDATE messages SET uid = NULL WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid IS NOT NULL",
            params![mailbox, uidvalidity],
        )?;
        tx.execute(
            "UPDATE mailbox_state SET last_uid = 0 WHERE mailbox = ?1 AND uidvalidity = ?2",
            params![mailbox, uidvalidity],
        )?;
        tx.execute(
            "DELETE FROM imap_missing WHERE mailbox = ?1",
            params![mailbox],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records UIDs of `mailbox` that a FETCH asked for and did not bring, each with its
    /// reason: one attempt more each (a row recorded as not reached has 0). A sync asks for
    /// each UID in one FETCH, so calling this once per UID per sync keeps `attempts` the
    /// count of syncs that tried it, which decides when it is fetched after the others.
    pub fn record_missing(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        missing: &[(u32, String)],
    ) -> Result<()> {
        let now = timestamp(chrono::Utc::now());
        let tx = self.write_transaction()?;
        for (uid, reason) in missing {
            tx.prepare_cached(
                "INSERT INTO imap_missing (mailbox, uidvalidity, uid, reason, first_seen, last_tried)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT(mailbox, uidvalidity, uid) DO UPDATE SET reason = excluded.reason,
                 last_tried = excluded.last_tried, attempts = attempts + 1",
            )?
            .execute(params![mailbox, uidvalidity, uid, reason, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records UIDs of `mailbox` that a sync listed but did not ask for, because it ended
    /// first, with `reason`. Not an attempt: a new row starts at 0 attempts, and a UID
    /// already recorded with a real failure keeps that reason and its count, so the next
    /// sync gives it the place the failure earned (in UID order, or after the others).
    pub fn record_not_reached(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        uids: &[u32],
        reason: &str,
    ) -> Result<()> {
        let now = timestamp(chrono::Utc::now());
        let tx = self.write_transaction()?;
        for uid in uids {
            tx.prepare_cached(
                "INSERT INTO imap_missing
                 (mailbox, uidvalidity, uid, reason, first_seen, last_tried, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)
                 ON CONFLICT(mailbox, uidvalidity, uid) DO UPDATE SET reason = excluded.reason
                 WHERE imap_missing.attempts = 0",
            )?
            .execute(params![mailbox, uidvalidity, uid, reason, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets the rows of `uids` of `mailbox`: the server no longer has them (expunged).
    pub fn forget_missing(&mut self, mailbox: &str, uidvalidity: u32, uids: &[u32]) -> Result<()> {
        let tx = self.write_transaction()?;
        for uid in uids {
            tx.prepare_cached(
                "DELETE FROM imap_missing WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3",
            )?
            .execute(params![mailbox, uidvalidity, uid])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets the rows of `mailbox` that are settled: of another UIDVALIDITY, stored since,
    /// or at or below `cursor` (expunged on the server).
    pub fn settle_missing(&mut self, mailbox: &str, uidvalidity: u32, cursor: u32) -> Result<()> {
        self.conn().execute(
            "DELETE FROM imap_missing WHERE mailbox = ?1 AND (uidvalidity != ?2
                OR (uid > 0 AND uid <= ?3)
                OR uid IN (SELECT uid FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2))",
            params![mailbox, uidvalidity, cursor],
        )?;
        Ok(())
    }

    /// Records (with `Some(reason)`) or clears the gap of `mailbox` that its counts show but
    /// no UID names (kept as UID 0).
    pub fn record_count_gap(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        reason: Option<&str>,
    ) -> Result<()> {
        match reason {
            Some(reason) => self.record_missing(mailbox, uidvalidity, &[(0, reason.to_string())]),
            None => {
                self.conn().execute(
                    "DELETE FROM imap_missing WHERE mailbox = ?1 AND uid = 0",
                    [mailbox],
                )?;
                Ok(())
            }
        }
    }

    /// Whether `mailbox` still has UIDs (or a gap in its counts) recorded missing under
    /// `uidvalidity`.
    pub fn has_missing(&self, mailbox: &str, uidvalidity: u32) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM imap_missing WHERE mailbox = ?1 AND uidvalidity = ?2)",
            params![mailbox, uidvalidity],
            |r| r.get(0),
        )?)
    }

    /// The UIDs of `mailbox` recorded missing under `uidvalidity` (not the count gap) that
    /// a FETCH asked for, each with how many syncs have tried it and when one last did: not
    /// those never tried (recorded as not reached), nor those whose reason starts with
    /// `except_reason` (how older versions recorded them, with a count of their own).
    pub fn missing_uid_attempts(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        except_reason: &str,
    ) -> Result<std::collections::BTreeMap<u32, Tried>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT uid, attempts, last_tried, reason FROM imap_missing WHERE mailbox = ?1
             AND uidvalidity = ?2 AND uid > 0 AND attempts > 0
             AND substr(reason, 1, length(?3)) != ?3",
        )?;
        let rows = stmt.query_map(params![mailbox, uidvalidity, except_reason], |r| {
            let last_tried: String = r.get(2)?;
            Ok((
                r.get(0)?,
                Tried {
                    attempts: r.get(1)?,
                    reason: r.get(3)?,
                    last_tried: parse_timestamp(&last_tried),
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every UID still missing, in every mailbox, by mailbox and UID.
    pub fn missing_uids(&self) -> Result<Vec<MissingUid>> {
        Ok(missing_on(self.conn(), usize::MAX)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows an earlier version recorded "not reached" with an attempt counted are asked for
    /// least-tried first once the store is upgraded: their count is 0 again, and the
    /// others' stay.
    #[test]
    fn the_upgrade_takes_back_the_attempts_counted_for_uids_not_reached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        let not_reached = "not reached, an earlier FETCH failed: not fetched: timeout";
        let rows = [
            (4, "not fetched: timeout".to_string()),
            (5, not_reached.into()),
        ];
        for _ in 0..3 {
            store.record_missing("INBOX", 7, &rows).unwrap();
        }
        // Back to just before the migration that takes the attempts back.
        let version = crate::core::store::MIGRATIONS
            .iter()
            .rposition(|m| m.contains("UPDATE imap_missing SET attempts = 0"))
            .expect("the migration is in the list") as i64;
        crate::core::store::rewind_to(store.conn(), version);
        drop(store);
        let store = Store::open(&path).unwrap();
        let attempts: Vec<(u32, u32)> = store
            .missing_uids()
            .unwrap()
            .iter()
            .map(|m| (m.uid, m.attempts))
            .collect();
        assert_eq!(attempts, vec![(4, 3), (5, 0)]);
    }

    #[test]
    fn missing_uids_are_recorded_retried_and_settled_by_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .record_missing("INBOX", 7, &[(4, "no body".into()), (5, "no body".into())])
            .unwrap();
        store
            .record_missing("INBOX", 7, &[(5, "still no body".into())])
            .unwrap();
        let rows = store.missing_uids().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].uid, rows[1].attempts), (5, 2));
        assert_eq!(rows[1].reason, "still no body");
        store.settle_missing("INBOX", 7, 4).unwrap();
        let uids: Vec<u32> = store
            .missing_uids()
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, vec![5]);
        store
            .record_count_gap("INBOX", 7, Some("22 announced, 0 listed"))
            .unwrap();
        store.settle_missing("INBOX", 7, 4).unwrap();
        let uids: Vec<u32> = store
            .missing_uids()
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, vec![0, 5], "a count gap outlives the cursor");
        store.record_count_gap("INBOX", 7, None).unwrap();
        let tried = store.missing_uid_attempts("INBOX", 7, "legacy").unwrap();
        assert_eq!(
            tried
                .into_iter()
                .map(|(uid, t)| (uid, t.attempts))
                .collect::<Vec<_>>(),
            vec![(5, 2)]
        );
        store.settle_missing("INBOX", 8, 0).unwrap();
        assert!(store.missing_uids().unwrap().is_empty(), "new UIDVALIDITY");
    }

    /// A sync that ended before asking for a UID does not count an attempt at it, nor
    /// replace the reason an earlier sync's real failure gave it.
    #[test]
    fn a_uid_not_reached_keeps_its_real_failure_and_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .record_missing("INBOX", 7, &[(10, "not fetched: broke".into())])
            .unwrap();
        for _ in 0..3 {
            store
                .record_not_reached("INBOX", 7, &[10, 11], "not reached: cut")
                .unwrap();
        }
        let rows = store.missing_uids().unwrap();
        let seen: Vec<(u32, &str, u32)> = rows
            .iter()
            .map(|m| (m.uid, m.reason.as_str(), m.attempts))
            .collect();
        assert_eq!(
            seen,
            vec![(10, "not fetched: broke", 1), (11, "not reached: cut", 0)]
        );
        let tried = store.missing_uid_attempts("INBOX", 7, "legacy").unwrap();
        assert_eq!(
            tried
                .into_iter()
                .map(|(uid, t)| (uid, t.attempts))
                .collect::<Vec<_>>(),
            vec![(10, 1)]
        );
        store
            .record_missing("INBOX", 7, &[(11, "not fetched: broke".into())])
            .unwrap();
        let tried = store.missing_uid_attempts("INBOX", 7, "legacy").unwrap();
        assert_eq!(
            tried
                .into_iter()
                .map(|(uid, t)| (uid, t.attempts))
                .collect::<Vec<_>>(),
            vec![(10, 1), (11, 1)],
            "the first real attempt counts 1"
        );
    }
}
