//! The team event: one triage change as it travels between desks (docs/team.md).
//!
//! An event names its report by the report's root Message-ID, or by the content hash of its
//! first message when that has none, because local report ids differ between desks. It
//! carries a unique id (so applying it twice changes nothing), the actor, a wall-clock time
//! and a Lamport clock; `(lamport, actor, id)` orders events totally.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version written in every event (`"secdesk": 1`).
pub const FORMAT: u32 = 1;

/// The greatest Lamport clock an event may carry: 2^53, the largest integer every JSON
/// reader holds exactly (RFC 8259 §6). Clocks count changes, so no team reaches it; a
/// greater one is a broken or hostile writer, and folding it would leave every later local
/// change's clock past what SQLite stores (an i64), so no desk could triage any more.
pub const MAX_LAMPORT: u64 = 1 << 53;

/// How an event names its report on every desk.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportRef {
    /// The root message's Message-ID, without angle brackets.
    MessageId(String),
    /// `messages.content_hash` of the report's first message in lowercase hex, when it has
    /// no Message-ID.
    ContentHash(String),
}

impl ReportRef {
    /// The key the store indexes registers by: `mid:…` or `hash:…`.
    pub fn key(&self) -> String {
        match self {
            ReportRef::MessageId(m) => format!("mid:{m}"),
            ReportRef::ContentHash(h) => format!("hash:{h}"),
        }
    }

    /// Reads a key written by [`ReportRef::key`].
    pub fn from_key(key: &str) -> Option<ReportRef> {
        if let Some(m) = key.strip_prefix("mid:") {
            Some(ReportRef::MessageId(m.to_string()))
        } else {
            key.strip_prefix("hash:")
                .map(|h| ReportRef::ContentHash(h.to_string()))
        }
    }
}

/// One team event, exactly as its JSON part carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The format version, [`FORMAT`].
    pub secdesk: u32,
    /// Unique across all desks: 32 hex digits.
    pub id: String,
    /// The team member who made the change: a `[team] members` email.
    pub actor: String,
    /// Wall-clock time, RFC 3339 UTC. Shown to people; never used to order.
    pub at: String,
    /// Lamport clock: greater than every event the author's desk had seen.
    pub lamport: u64,
    pub report: ReportRef,
    /// `state`, `class`, `coordinator`, `advisory`, `note`, `duplicate`, `reply-started`,
    /// `reply-sent`, `reply-abandoned`. Unknown kinds are kept and ignored.
    pub kind: String,
    /// What the kind sets or adds (docs/team.md lists the shapes).
    #[serde(default)]
    pub value: Value,
    /// For a last-writer-wins field: the id of the event whose value the author saw there
    /// when making this change (`null` when none). Tells an overwrite from a conflict.
    #[serde(default)]
    pub base: Option<String>,
}

/// The total order of last-writer-wins: Lamport clock, then actor, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub lamport: u64,
    pub actor: String,
    pub id: String,
}

/// What applying an event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Sets a last-writer-wins register: `state`, `class`, `coordinator`, `advisory:NAME`,
    /// or `reply:ACTOR` (who is answering).
    Register(String),
    /// Adds to an add-only set: a note, or a response to the reporter (or its undo).
    Note,
    /// Adds a duplicate link to the add-only set of links.
    Link,
    /// A kind this secdesk does not know: logged, not applied.
    Unknown,
}

/// Registers whose losing concurrent writes are reported as conflicts.
pub fn audited_register(register: &str) -> bool {
    !register.starts_with("reply:")
}

impl Event {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            lamport: self.lamport,
            actor: self.actor.clone(),
            id: self.id.clone(),
        }
    }

    pub fn effect(&self) -> Effect {
        match self.kind.as_str() {
            "state" | "class" | "coordinator" => Effect::Register(self.kind.clone()),
            "advisory" => match self.value.get("field").and_then(Value::as_str) {
                Some(f) if !f.is_empty() => Effect::Register(format!("advisory:{f}")),
                _ => Effect::Unknown,
            },
            "reply-started" | "reply-sent" | "reply-abandoned" => {
                Effect::Register(format!("reply:{}", self.actor))
            }
            // Add-only, as notes are: every response counts, and an undo is one more.
            "note" | "responded" => Effect::Note,
            "duplicate" => Effect::Link,
            _ => Effect::Unknown,
        }
    }

    /// The register this event sets, if it sets one.
    pub fn register(&self) -> Option<String> {
        match self.effect() {
            Effect::Register(r) => Some(r),
            _ => None,
        }
    }

    /// Checks what every desk relies on; a failing event is ignored and counted.
    pub fn validate(&self) -> Result<(), String> {
        if self.secdesk != FORMAT {
            return Err(format!(
                "format {} (this secdesk reads {FORMAT})",
                self.secdesk
            ));
        }
        if self.id.is_empty() || self.id.len() > 128 {
            return Err("an empty or overlong id".into());
        }
        if self.lamport > MAX_LAMPORT {
            return Err(format!(
                "Lamport clock {} is beyond {MAX_LAMPORT}",
                self.lamport
            ));
        }
        if self.actor.is_empty() || !self.actor.contains('@') {
            return Err(format!("actor {:?} is not an email address", self.actor));
        }
        // Written into the audit log and `updated_at`, and read by the clocks: a time.
        if crate::core::store::parse_timestamp(&self.at).is_none() {
            return Err(format!("time {:?} is not an RFC 3339 time", self.at));
        }
        let (ReportRef::MessageId(reference) | ReportRef::ContentHash(reference)) = &self.report;
        if reference.is_empty() {
            return Err("an empty report reference".into());
        }
        self.validate_value()
    }

    /// A value every desk of this version can hold: otherwise desks that met the event at
    /// different moments would show different values, so it is refused at the door.
    fn validate_value(&self) -> Result<(), String> {
        use crate::core::model::{Class, InvalidReason, ReportState};
        let field = |k: &str| match self.value.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!("{} {k} {other} is not a string", self.kind)),
        };
        let known = |ok: bool, k: &str, v: &str| match ok {
            true => Ok(()),
            false => Err(format!("unknown {k} {v:?}")),
        };
        match self.kind.as_str() {
            "state" => {
                let state = field("state")?.ok_or("a state event without a state")?;
                known(state.parse::<ReportState>().is_ok(), "state", state)?;
                if let Some(r) = field("invalid_reason")? {
                    known(r.parse::<InvalidReason>().is_ok(), "invalid reason", r)?;
                }
                Ok(())
            }
            "class" => match field("class")? {
                Some(c) => known(c.parse::<Class>().is_ok(), "class", c),
                None => Ok(()),
            },
            "coordinator" => field("coordinator").map(|_| ()),
            "note" => field("text")?
                .map(|_| ())
                .ok_or("a note without text".into()),
            "responded" => match (field("via")?, field("undo_by")?, field("undo_at")?) {
                (Some(via), None, None) => {
                    known(matches!(via, "reply" | "phone" | "other"), "response", via)
                }
                (None, Some(_), Some(at)) => known(
                    crate::core::store::parse_timestamp(at).is_some(),
                    "response time",
                    at,
                ),
                _ => Err("a response event without via, or undo_by and undo_at".into()),
            },
            _ => Ok(()),
        }
    }

    /// A short, human rendering of the value the event sets, for conflict entries and the
    /// text part: `fixing`, `invalid (out-of-scope)`, `class spam`, `coordinator ada@…`.
    pub fn value_text(&self) -> String {
        let s = |k: &str| {
            self.value
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match self.kind.as_str() {
            "state" => match s("invalid_reason") {
                Some(r) => format!("{} ({r})", s("state").unwrap_or_default()),
                None => s("state").unwrap_or_default(),
            },
            "class" => match s("class") {
                Some(c) => format!("class {c}"),
                None => "no class".into(),
            },
            "coordinator" => match s("coordinator") {
                Some(c) => format!("coordinator {c}"),
                None => "no coordinator".into(),
            },
            "advisory" => format!(
                "{} {}",
                s("field").unwrap_or_default(),
                self.value.get("value").cloned().unwrap_or(Value::Null)
            ),
            "note" => format!("note {:?}", s("text").unwrap_or_default()),
            other => other.to_string(),
        }
    }
}

/// Who an actor is in conflict entries: the local part of the email, the same on every desk.
pub fn short_actor(actor: &str) -> &str {
    actor.split('@').next().unwrap_or(actor)
}

/// The audit text of a lost concurrent write, identical on every desk:
/// `bo set fixing; ada's triaged, made at the same time, lost`.
pub fn conflict_text(winner: &Event, loser: &Event) -> String {
    format!(
        "{} set {}; {}'s {}, made at the same time, lost",
        short_actor(&winner.actor),
        winner.value_text(),
        short_actor(&loser.actor),
        loser.value_text()
    )
}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        self.stamp().cmp(&other.stamp())
    }
}

/// A fresh event id: 32 hex digits from the process's random hasher keys, the time and a
/// counter. Unique in practice without a random-number dependency.
pub fn new_id(actor: &str, lamport: u64) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
    let mut halves = [0u64; 2];
    for (i, half) in halves.iter_mut().enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write(actor.as_bytes());
        h.write_u64(lamport);
        h.write_u128(nanos);
        h.write_u64(count);
        h.write_u32(std::process::id());
        h.write_usize(i);
        *half = h.finish();
    }
    format!("{:016x}{:016x}", halves[0], halves[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, value: Value) -> Event {
        Event {
            secdesk: FORMAT,
            id: "e1".into(),
            actor: "ada@example.org".into(),
            at: "2026-01-01T00:00:00Z".into(),
            lamport: 3,
            report: ReportRef::MessageId("root@example.org".into()),
            kind: kind.into(),
            value,
            base: None,
        }
    }

    #[test]
    fn json_round_trips_and_names_the_report() {
        let e = ev("state", serde_json::json!({"state": "fixing"}));
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.contains(r#""report":{"message_id":"root@example.org"}"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
        assert_eq!(ReportRef::from_key(&e.report.key()), Some(e.report.clone()));
    }

    #[test]
    fn reply_events_share_one_register_per_actor() {
        let a = ev("reply-started", Value::Null);
        let b = ev("reply-sent", Value::Null);
        assert_eq!(a.register(), b.register());
        assert_eq!(a.register().unwrap(), "reply:ada@example.org");
        assert!(!audited_register(&a.register().unwrap()));
        assert_eq!(ev("frobnicate", Value::Null).effect(), Effect::Unknown);
    }

    #[test]
    fn conflict_text_reads_like_the_issue() {
        let mut bo = ev("state", serde_json::json!({"state": "fixing"}));
        bo.actor = "bo@example.org".into();
        let ada = ev("state", serde_json::json!({"state": "triaged"}));
        assert_eq!(
            conflict_text(&bo, &ada),
            "bo set fixing; ada's triaged, made at the same time, lost"
        );
    }

    #[test]
    fn values_no_desk_can_hold_are_refused() {
        let mut e = ev("state", serde_json::json!({"state": "fixing"}));
        assert_eq!(e.validate(), Ok(()));
        e.value = serde_json::json!({"state": "frozen"});
        assert_eq!(e.validate(), Err("unknown state \"frozen\"".to_string()));
        e.value = serde_json::json!({"state": "fixing"});
        e.lamport = MAX_LAMPORT + 1;
        assert!(e.validate().is_err());
        e.lamport = MAX_LAMPORT;
        assert_eq!(e.validate(), Ok(()));
        let c = ev("class", serde_json::json!({"class": 3}));
        assert!(c.validate().is_err());
        assert!(ev("note", serde_json::json!({})).validate().is_err());
        // Its time goes into the audit log, `updated_at` and the clocks.
        let mut t = ev("note", serde_json::json!({"text": "x"}));
        assert_eq!(t.validate(), Ok(()));
        t.at = "zzz not a time".into();
        assert!(t.validate().is_err());
        // A response names a way it was given, or the response it takes back.
        for (value, ok) in [
            (serde_json::json!({"via": "phone"}), true),
            (
                serde_json::json!({"via": "reply", "message_id": "m@x"}),
                true,
            ),
            (serde_json::json!({"via": "carrier pigeon"}), false),
            (
                serde_json::json!({"undo_by": "ada@example.org", "undo_at": "2026-03-03T09:00:00Z"}),
                true,
            ),
            (
                serde_json::json!({"undo_by": "ada@example.org", "undo_at": "soon"}),
                false,
            ),
            (serde_json::json!({}), false),
        ] {
            assert_eq!(
                ev("responded", value.clone()).validate().is_ok(),
                ok,
                "{value}"
            );
        }
    }

    #[test]
    fn ids_differ() {
        assert_ne!(new_id("a@x", 1), new_id("a@x", 1));
        assert_eq!(new_id("a@x", 1).len(), 32);
    }
}
