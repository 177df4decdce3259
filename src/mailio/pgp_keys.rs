//! A reporter's public key attached to a report, imported into the team keyring with
//! confirmation (issue 16), so replies to them can be encrypted.
//!
//! The keys are found in the report's incoming messages (`core::pgp::keys::find`, also
//! inside a PGP/MIME encrypted part, which is decrypted again for it), shown with
//! `gpg --show-keys` (nothing is imported by that), and only then, after the user said yes,
//! imported with `gpg --import --import-options import-minimal` (no third-party signatures,
//! against certificate flooding) and only the user ids naming the address the key came from
//! (`--import-filter keep-uid`, against key substitution: a follow-up in the reporter's thread
//! cannot bring a key for the reporter's address). The import must report exactly the fingerprints that were
//! shown and no secret key; a secret key is refused before anything is run. gpg runs
//! through [`Gpg::run`]: argv, `--batch`, `--status-fd`, the `[pgp]` GNUPGHOME and limits.

use rusqlite::Connection;

use crate::core::config::Config;
use crate::core::parse::attachments_with_bodies;
use crate::core::pgp::keys::{self, Found, KeyInfo};
use crate::core::pgp::{mime, PgpEngine};
use crate::core::store::raw::RawMessage;
use crate::mailio::gpg::Gpg;

/// One attachment's key block, as it would be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The sender of the message it came with (an address), for the question.
    pub from: String,
    /// The attachment's name, made safe for a terminal.
    pub source: String,
    /// What gpg says the block holds; empty when `problem` says why.
    pub keys: Vec<KeyInfo>,
    /// The block, exactly as shown to gpg; the same bytes are imported.
    pub data: Vec<u8>,
    /// Why it cannot be imported (a secret key, too large, gpg found no key, another
    /// sender's mail), in words.
    pub problem: Option<String>,
    /// Other keys the team keyring already holds for `from` (fingerprints): importing
    /// this one adds a second key, and replies are encrypted to every key of the address.
    pub already: Vec<String>,
}

impl Offer {
    /// The lines that show the key(s) before the question: fingerprint, user ids, state.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "attachment {} from {}:",
            self.source,
            crate::core::sanitize::terminal_line(&self.from)
        )];
        if let Some(p) = &self.problem {
            out.push(format!("  not importable: {p}"));
            return out;
        }
        let from = crate::core::sanitize::terminal_line(&self.from);
        if let Some(line) = self.second_key() {
            out.push(format!("  {line}"));
        }
        for k in &self.keys {
            let state = k.unusable().map(|u| format!(" ({u})")).unwrap_or_default();
            // gpg's keep-uid filter leaves such a key without a user id, so it drops it.
            let dropped = if k.names(&self.from) {
                String::new()
            } else {
                format!("  (not imported: none of its user ids names {from})")
            };
            out.push(format!(
                "  key {}{state}{dropped}",
                keys::grouped(&k.fingerprint)
            ));
            for u in &k.uids {
                if keys::uid_names(u, &self.from) {
                    out.push(format!("    uid {u}"));
                } else {
                    out.push(format!(
                        "    uid {u}  (not imported: it names another address than the sender's, {from})"
                    ));
                }
            }
        }
        out
    }

    /// What importing it over the keys the address already has does, when it has any.
    pub fn second_key(&self) -> Option<String> {
        if self.already.is_empty() {
            return None;
        }
        let old: Vec<String> = self.already.iter().map(|f| keys::grouped(f)).collect();
        Some(format!(
            "WARNING: {} already has key {} in the team keyring; importing adds a second key, and replies would be encrypted to both",
            crate::core::sanitize::terminal_line(&self.from),
            old.join(", ")
        ))
    }

    /// The fingerprints it holds.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.fingerprint.clone()).collect()
    }
}

/// The key blocks attached to report `id`'s incoming messages, each checked by gpg.
pub fn offers(config: &Config, conn: &Connection, id: i64) -> Result<Vec<Offer>, String> {
    let Some(pgp) = config.pgp.as_ref() else {
        return Err(format!(
            "config {} has no [pgp] section: name the team keyring (gnupg_home) to import keys into (see config.example.toml)",
            config.source.display()
        ));
    };
    let gpg = Gpg::from_config(pgp);
    let store_err = |e: rusqlite::Error| format!("the store could not be read: {e}");
    let mut stmt = conn
        .prepare(
            "SELECT raw, coalesce(from_addr, ''), another_sender, notes FROM messages
             WHERE report_id = ?1 AND direction = 'in' ORDER BY id",
        )
        .map_err(store_err)?;
    let rows: Vec<Incoming> = stmt
        .query_map([id], |r| {
            Ok(Incoming {
                raw: r.get::<_, RawMessage>(0)?.0,
                from: r.get(1)?,
                another_sender: r.get(2)?,
                notes: r.get(3)?,
            })
        })
        .map_err(store_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(store_err)?;
    let team = pgp.team_fingerprint();
    let mut out = Vec::new();
    for m in rows {
        let mut attachments = attachments_with_bodies(&m.raw);
        attachments.extend(encrypted_attachments(&gpg, &m.raw));
        for found in keys::find(&attachments) {
            out.push(offer(&gpg, team.clone(), &m, found));
        }
    }
    Ok(out)
}

/// One incoming message of the report, as far as its keys go.
struct Incoming {
    raw: Vec<u8>,
    from: String,
    /// `core::ingest` marked it another sender's: not the reporter's address, or the
    /// reporter's From with a failed DMARC check.
    another_sender: bool,
    /// Its notes (a JSON list), which say why it is another sender's.
    notes: Option<String>,
}

/// What `found` in message `m` would import, or why it cannot.
fn offer(gpg: &Gpg, team: Option<String>, m: &Incoming, found: Found) -> Offer {
    let (source, data, checked) = match found {
        Found::Skipped { source, why } => (source, Vec::new(), Err(why)),
        Found::Block { source, data } => {
            // Another sender's mail brings no key at all: its From is not the reporter's,
            // or it is and the receiving server's DMARC check says it is forged; keep-uid
            // would import such a key for exactly the address it claims.
            let checked = if m.another_sender {
                Err(another_sender(m))
            } else {
                show(gpg, &data, team).and_then(|k| for_sender(k, &m.from))
            };
            (source, data, checked)
        }
    };
    let (keys, problem) = match checked {
        Ok(k) => (k, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    let already = if keys.is_empty() {
        Vec::new()
    } else {
        other_keys(gpg, &m.from, &keys)
    };
    Offer {
        from: m.from.clone(),
        source,
        keys,
        data,
        problem,
        already,
    }
}

/// Why a key from another sender's message is refused, with the desk's own note on it.
fn another_sender(m: &Incoming) -> String {
    let note = m
        .notes
        .as_deref()
        .and_then(|n| serde_json::from_str::<Vec<String>>(n).ok())
        .and_then(|notes| notes.into_iter().find(|n| n.starts_with("another sender:")))
        .map(|n| crate::core::sanitize::terminal_line(&n))
        .unwrap_or_else(|| "another sender: it is not from the reporter".into());
    format!(
        "it came with a message the desk marked as from ANOTHER SENDER ({note}); a key is imported only from the reporter's own mail: ask the reporter for their key, or check this one's fingerprint with its owner and import it with gpg yourself"
    )
}

/// The fingerprints of the usable keys the keyring already holds for `from`, other than
/// `offered` (an expired key being replaced is no second key: replies skip it). A listing
/// gpg cannot give counts as none (the import itself then says what is wrong).
fn other_keys(gpg: &Gpg, from: &str, offered: &[KeyInfo]) -> Vec<String> {
    gpg.encryption_keys(from)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| {
            !offered
                .iter()
                .any(|o| o.fingerprint.eq_ignore_ascii_case(f))
        })
        .collect()
}

/// The attachments inside a PGP/MIME encrypted message, decrypted again with the team key.
fn encrypted_attachments(gpg: &Gpg, raw: &[u8]) -> Vec<(crate::core::parse::Attachment, Vec<u8>)> {
    match mime::find(raw, "") {
        Some(mime::Found {
            kind: mime::Kind::MimeEncrypted { ciphertext },
            ..
        }) => {
            let run = gpg.decrypt(&ciphertext);
            let st = crate::core::pgp::read_status(&run.status);
            if run.stopped.is_none() && st.decrypted {
                attachments_with_bodies(&run.output)
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// `gpg --show-keys`: what `data` holds, refusing secret keys, the team's own key and
/// blocks with no key.
fn show(gpg: &Gpg, data: &[u8], team: Option<String>) -> Result<Vec<KeyInfo>, String> {
    let run = gpg.run(&["--with-colons".into(), "--show-keys".into()], data);
    if let Some(why) = run.stopped {
        return Err(format!("gpg was stopped: {why}"));
    }
    let found = keys::read_colons(&String::from_utf8_lossy(&run.output));
    if found.iter().any(|k| k.secret) {
        return Err(
            "it holds a SECRET key, which is never imported (the sender should revoke it)".into(),
        );
    }
    // A truncated or malformed block gives gpg a bare key packet: `pub:i:` and no user id.
    if found.is_empty()
        || found.iter().any(|k| k.fingerprint.is_empty())
        || found.iter().all(|k| k.validity == 'i' || k.uids.is_empty())
    {
        return Err("gpg found no readable public key in it (malformed or truncated block)".into());
    }
    if let Some(team) = team {
        if found
            .iter()
            .any(|k| k.fingerprint.eq_ignore_ascii_case(&team))
        {
            return Err("it is the team's own key, which is not replaced from mail".into());
        }
    }
    Ok(found)
}

/// Key substitution: a key is imported only with the user ids naming the address of the
/// mail it came with, so nobody can slip in a key for someone else's address (the
/// reporter's, in a follow-up of their thread). A key with no such user id is refused.
fn for_sender(keys: Vec<KeyInfo>, from: &str) -> Result<Vec<KeyInfo>, String> {
    if keep_uid_filter(from).is_some() && keys.iter().any(|k| k.names(from)) {
        Ok(keys)
    } else {
        Err(not_for_sender(from))
    }
}

fn not_for_sender(from: &str) -> String {
    format!(
        "none of its user ids names the address it came from, {}: a key is imported only for its sender's address",
        crate::core::sanitize::terminal_line(from)
    )
}

/// gpg's `--import-filter` keeping the user ids whose address is `from` (doc: "keep-uid"),
/// when `from` is an address that cannot change the filter's expression.
fn keep_uid_filter(from: &str) -> Option<String> {
    let plain = from.contains('@')
        && from
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+'));
    plain.then(|| format!("keep-uid=mbox = {}", from.to_ascii_lowercase()))
}

/// Imports `offer`'s block into the team keyring: the fingerprints imported, which are
/// exactly those shown. Refused when the offer has a problem.
pub fn import(config: &Config, offer: &Offer) -> Result<Vec<String>, String> {
    let (Some(pgp), None) = (config.pgp.as_ref(), &offer.problem) else {
        return Err(offer
            .problem
            .clone()
            .unwrap_or_else(|| "no [pgp] section in the config".into()));
    };
    let gpg = Gpg::from_config(pgp);
    // Shown again now, so the bytes imported are the ones whose keys were confirmed.
    let shown = show(&gpg, &offer.data, pgp.team_fingerprint())?;
    if shown != offer.keys {
        return Err("the attachment's keys changed since they were shown: nothing imported".into());
    }
    let Some(filter) = keep_uid_filter(&offer.from) else {
        return Err(not_for_sender(&offer.from));
    };
    let run = gpg.run(
        &[
            "--import-options".into(),
            "import-minimal".into(),
            "--import-filter".into(),
            filter.into(),
            "--import".into(),
        ],
        &offer.data,
    );
    if let Some(why) = run.stopped {
        return Err(format!("gpg was stopped: {why}; nothing imported"));
    }
    let mut imported = Vec::new();
    for line in run.status.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if let ["[GNUPG:]", "IMPORT_OK", reason, fpr] = f[..] {
            // Bit 16: the key held secret parts (doc/DETAILS, IMPORT_OK).
            if reason.parse::<u32>().unwrap_or(0) & 16 != 0 {
                return Err("gpg reported a secret key in the import".into());
            }
            imported.push(fpr.to_ascii_uppercase());
        }
    }
    let expected = offer.fingerprints();
    if imported.is_empty() || imported.iter().any(|f| !expected.contains(f)) {
        return Err(format!(
            "gpg did not import the key(s) shown ({})",
            expected.join(", ")
        ));
    }
    imported.dedup();
    Ok(imported)
}
