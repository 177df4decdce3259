//! OpenPGP in reports: PGP/MIME (RFC 3156) and inline PGP (RFC 4880).
//!
//! This module is pure: it finds the OpenPGP part ([`mime`]), reads what gpg reported
//! ([`status`]) and decides what is stored, classified and shown. Running gpg is IO and
//! lives in `mailio::gpg`, which implements [`PgpEngine`] and is handed to
//! `core::ingest::Ingestor::with_pgp`.

mod config;
pub mod keys;
pub mod mime;
pub mod status;

use serde::{Deserialize, Serialize};

use crate::core::parse::{parse_message, ParsedMessage};
pub use config::{EncryptReplies, PgpConfig};
pub use status::{read_status, Signature, StatusReport};

/// What one gpg run gave back.
#[derive(Debug, Clone, Default)]
pub struct EngineRun {
    /// The `--status-fd` output.
    pub status: String,
    /// What gpg wrote on stdout: the plaintext, or the signed text of a clear-signed block.
    pub output: Vec<u8>,
    /// Why the run was stopped or could not start (time or size limit, no gpg), in words.
    pub stopped: Option<String>,
}

/// Runs gpg for [`open`]. Implemented in `mailio::gpg`; tests may use any implementation.
pub trait PgpEngine: Send + Sync {
    /// `gpg --decrypt`: decrypts a message (verifying signatures inside it), or verifies a
    /// clear-signed text and outputs the text.
    fn decrypt(&self, data: &[u8]) -> EngineRun;
    /// `gpg --verify SIG -`: checks a detached signature over `signed`.
    fn verify_detached(&self, signed: &[u8], signature: &[u8]) -> EngineRun;
    /// The user ids of the key with primary fingerprint `fingerprint` in the keyring, made
    /// safe for a terminal; empty when there is no such key.
    fn user_ids(&self, fingerprint: &str) -> Vec<String>;
}

/// A message's OpenPGP state, as `show --json` carries it in `pgp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgpInfo {
    pub encrypted: bool,
    pub signature: Signature,
    /// The signing key's fingerprint (good signature, or an unknown key that named it).
    pub signer: Option<String>,
    /// A good signature by a key none of whose user ids names the message's sender: it
    /// does not show that the sender wrote the message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signer_not_sender: bool,
}

impl PgpInfo {
    /// One plain line for a person: what was encrypted and who signed.
    pub fn line(&self) -> String {
        let enc = if self.encrypted {
            "encrypted"
        } else {
            "not encrypted"
        };
        let sig = match self.signature {
            Signature::Good if self.signer_not_sender => format!(
                "signed by {}, which is NOT the sender's key (none of its user ids names the sender): the signature verifies, but does not show that the sender wrote this",
                self.signer.as_deref().unwrap_or("?")
            ),
            Signature::Good => format!(
                "good signature by {}",
                self.signer.as_deref().unwrap_or("?")
            ),
            Signature::Bad => "BAD SIGNATURE: it does not verify (the text was changed, or see the note below); do not trust the signed text".into(),
            Signature::UnknownKey => format!(
                "signed by a key not in the keyring ({}): not verified",
                self.signer.as_deref().unwrap_or("fingerprint not given")
            ),
            Signature::None => "not signed".into(),
        };
        format!("pgp: {enc}, {sig}")
    }
}

/// What marks text that no signature or encryption covers: a heading, then every line of
/// it prefixed, so text inside cannot fake the end of the marking.
const OUTSIDE_SIGNED: &str =
    "[unsigned: the lines marked \"unsigned |\" are outside the signed part]";
const OUTSIDE_ENCRYPTED: &str =
    "[not encrypted: the lines marked \"unsigned |\" are outside the encrypted part]";
const OUTSIDE_PREFIX: &str = "unsigned | ";

/// What [`open`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub info: PgpInfo,
    /// gpg opened the part and its text replaced `parsed.body_text`; when false the text
    /// is still the one parsed from `raw`, as received.
    pub text_replaced: bool,
}

/// Finds the OpenPGP part of `raw` (parsed as `parsed`) and opens it with `engine`: the
/// decrypted or verified text replaces `parsed.body_text` (text outside the part is kept,
/// marked), attachments inside an encrypted part join `parsed.attachments`, and what went
/// wrong becomes a note. `None` for a message with no OpenPGP part.
///
/// Without an engine (no `[pgp]` configured), encrypted mail is still marked and noted.
pub fn open(
    raw: &[u8],
    parsed: &mut ParsedMessage,
    engine: Option<&dyn PgpEngine>,
) -> Option<Opened> {
    let as_received = |info| {
        Some(Opened {
            info,
            text_replaced: false,
        })
    };
    let found = mime::find(raw, &parsed.body_text)?;
    let encrypted = matches!(
        found.kind,
        mime::Kind::MimeEncrypted { .. } | mime::Kind::InlineEncrypted { .. }
    );
    let mut info = PgpInfo {
        encrypted,
        ..PgpInfo::default()
    };
    let Some(engine) = engine else {
        parsed.notes.push(
            if encrypted {
                "encrypted, not decrypted: no [pgp] section in the config; the message is kept as received"
            } else {
                "signed, signature not checked: no [pgp] section in the config"
            }
            .into(),
        );
        return as_received(info);
    };
    let (run, inner) = match &found.kind {
        mime::Kind::MimeEncrypted { ciphertext } => (engine.decrypt(ciphertext), Inner::Mime),
        mime::Kind::MimeSigned { signed, signature } => (
            engine.verify_detached(signed, signature),
            Inner::Signed(signed),
        ),
        mime::Kind::InlineEncrypted { block } | mime::Kind::InlineSigned { block } => {
            (engine.decrypt(block.as_bytes()), Inner::Text)
        }
    };
    let st = read_status(&run.status);
    if let Some(note) = not_opened(&run, &st, encrypted) {
        parsed.notes.push(note);
        return as_received(info);
    }
    (info.signature, info.signer) = (st.signature, st.signer);
    if let Some(p) = st.key_problem {
        parsed.notes.push(format!("signature: {p}"));
    }
    let text = match inner {
        Inner::Mime => mime_entity_text(&run.output, parsed, &mut info, engine),
        Inner::Signed(signed) => parse_message(signed).body_text,
        Inner::Text => inline_text(&run.output, encrypted, &mut info, engine),
    };
    let marker = if info.signature != Signature::None {
        OUTSIDE_SIGNED
    } else {
        OUTSIDE_ENCRYPTED
    };
    parsed.body_text = with_outside(&text, &found.outside, marker);
    check_signer_is_sender(parsed, &mut info, engine);
    Some(Opened {
        info,
        text_replaced: true,
    })
}

/// A good signature counts as the sender's only when the signing key has a user id naming
/// the sender's address (as `From` says): else the key is someone else's (an attacker's
/// imported earlier, another reporter's), which is marked and noted.
fn check_signer_is_sender(parsed: &mut ParsedMessage, info: &mut PgpInfo, engine: &dyn PgpEngine) {
    let (Signature::Good, Some(fpr), Some(from)) = (info.signature, &info.signer, &parsed.from)
    else {
        return;
    };
    let uids = engine.user_ids(fpr);
    if uids.iter().any(|u| keys::uid_names(u, &from.addr)) {
        return;
    }
    info.signer_not_sender = true;
    parsed.notes.push(format!(
        "signature: good, but by key {fpr}, whose user ids ({}) do not name the sender {}: it does not show that the sender wrote this",
        uids.join("; "),
        from.addr
    ));
}

/// The note saying why gpg's run opened nothing (it was stopped, or did not decrypt an
/// encrypted part), or `None` when it did its job.
fn not_opened(run: &EngineRun, st: &StatusReport, encrypted: bool) -> Option<String> {
    if let Some(why) = &run.stopped {
        return Some(format!(
            "{}: gpg was stopped: {why}; the message is kept as received",
            if encrypted {
                "not decrypted"
            } else {
                "signature not checked"
            }
        ));
    }
    if encrypted && !st.decrypted {
        let why = st
            .decrypt_failure
            .clone()
            .unwrap_or_else(|| "gpg did not decrypt it".into());
        return Some(format!(
            "encrypted, not decrypted: {why}; the message is kept as received"
        ));
    }
    None
}

/// The text of a decrypted PGP/MIME entity, whose attachments and notes join `parsed`'s.
/// The entity may be signed inside (RFC 3156 §6.1): that signature counts when the
/// encryption carried none.
fn mime_entity_text(
    plaintext: &[u8],
    parsed: &mut ParsedMessage,
    info: &mut PgpInfo,
    engine: &dyn PgpEngine,
) -> String {
    let mut entity = parse_message(plaintext);
    if let Some(sub) = open_signed_inside(plaintext, &mut entity, engine) {
        if info.signature == Signature::None {
            (info.signature, info.signer) = (sub.signature, sub.signer);
        }
    }
    parsed.attachments.append(&mut entity.attachments);
    parsed.notes.append(&mut entity.notes);
    entity.body_text
}

/// The text out of an inline block. An encrypted block may hold a clear-signed text: its
/// signature is verified too, and counts when the encryption carried none.
fn inline_text(
    output: &[u8],
    encrypted: bool,
    info: &mut PgpInfo,
    engine: &dyn PgpEngine,
) -> String {
    let mut t = String::from_utf8_lossy(output).into_owned();
    if let Some(mime::Found {
        kind: mime::Kind::InlineSigned { block },
        outside,
    }) = encrypted.then(|| mime::find(&[], &t)).flatten()
    {
        let inner_run = engine.decrypt(block.as_bytes());
        let inner_st = read_status(&inner_run.status);
        if info.signature == Signature::None && inner_run.stopped.is_none() {
            (info.signature, info.signer) = (inner_st.signature, inner_st.signer);
            t = with_outside(
                &String::from_utf8_lossy(&inner_run.output),
                &outside,
                OUTSIDE_SIGNED,
            );
        }
    }
    t
}

enum Inner<'a> {
    /// A decrypted PGP/MIME entity.
    Mime,
    /// The signed first part of a multipart/signed.
    Signed(&'a [u8]),
    /// Plain text out of an inline block.
    Text,
}

/// A multipart/signed inside a decrypted entity, verified.
fn open_signed_inside(
    entity_raw: &[u8],
    entity: &mut ParsedMessage,
    engine: &dyn PgpEngine,
) -> Option<PgpInfo> {
    let found = mime::find(entity_raw, "")?;
    if !matches!(found.kind, mime::Kind::MimeSigned { .. }) {
        return None;
    }
    open(entity_raw, entity, Some(engine)).map(|o| o.info)
}

/// `text`, then each outside chunk under a heading, every line of it prefixed.
fn with_outside(text: &str, outside: &[String], marker: &str) -> String {
    let mut out = text.trim_end().to_string();
    for chunk in outside {
        out.push_str(&format!("\n\n{marker}"));
        for line in chunk.lines() {
            out.push('\n');
            out.push_str(OUTSIDE_PREFIX);
            out.push_str(line);
        }
    }
    out.push('\n');
    out
}
