//! The merge: how a desk folds an event into its state, written once over [`Replica`] so the
//! SQLite store and the simulated desks of the property test run the same rules.
//!
//! - Last-writer-wins registers (state, class, coordinator, advisory fields, who is replying)
//!   keep the event with the greatest [`Stamp`] `(lamport, actor, id)`.
//! - Notes and duplicate links are add-only sets keyed by event id.
//! - An event already known (by id) changes nothing.
//! - Conflicts are derived, not accumulated: a write to a register is *lost* when it is not
//!   the winner and not in the winner's chain of `base` links (the winner's author never saw
//!   it). It is paired with the deepest event of that chain that beats it, the change it
//!   raced. The set of conflicts is thus a function of the set of events, so every desk
//!   ends with the same entries whatever the order of arrival.

use std::collections::HashMap;

use serde_json::Value;

use super::event::{audited_register, new_id, Effect, Event, ReportRef, Stamp, FORMAT};

/// What the merge needs from a desk's state.
pub trait Replica {
    type Error;
    /// Whether an event with this id was already applied.
    fn known(&self, id: &str) -> Result<bool, Self::Error>;
    /// The desk's Lamport clock: the greatest clock seen or made.
    fn clock(&self) -> Result<u64, Self::Error>;
    fn set_clock(&mut self, lamport: u64) -> Result<(), Self::Error>;
    /// Keeps the event in the desk's log (with the register it sets, if any).
    fn log(&mut self, ev: &Event, register: Option<&str>) -> Result<(), Self::Error>;
    /// The current winner of a register.
    fn winner(&self, report: &ReportRef, register: &str) -> Result<Option<Stamp>, Self::Error>;
    /// Makes `ev` the winner of its register and applies its value.
    fn set_winner(&mut self, ev: &Event, register: &str) -> Result<(), Self::Error>;
    /// Every logged event that set this register.
    fn history(&self, report: &ReportRef, register: &str) -> Result<Vec<Event>, Self::Error>;
    /// Replaces the register's conflicts with `conflicts` (winner, loser).
    fn set_conflicts(
        &mut self,
        report: &ReportRef,
        register: &str,
        conflicts: &[(Event, Event)],
    ) -> Result<(), Self::Error>;
    fn add_note(&mut self, ev: &Event) -> Result<(), Self::Error>;
    fn add_link(&mut self, ev: &Event) -> Result<(), Self::Error>;
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Already known: nothing changed.
    Duplicate,
    /// It won its register, or joined a set.
    Changed,
    /// It lost to a later write (a conflict when concurrent).
    Lost,
    /// An unknown kind: logged only.
    Ignored,
}

/// Folds one event into the replica.
pub fn apply<R: Replica>(r: &mut R, ev: &Event) -> Result<Applied, R::Error> {
    if r.known(&ev.id)? {
        return Ok(Applied::Duplicate);
    }
    let clock = r.clock()?;
    if ev.lamport > clock {
        r.set_clock(ev.lamport)?;
    }
    let effect = ev.effect();
    let register = match &effect {
        Effect::Register(name) => Some(name.as_str()),
        _ => None,
    };
    r.log(ev, register)?;
    match effect {
        Effect::Register(name) => {
            let current = r.winner(&ev.report, &name)?;
            let wins = current.as_ref().is_none_or(|c| ev.stamp() > *c);
            if wins {
                r.set_winner(ev, &name)?;
            }
            // A winner that overwrote the previous winner knowingly changes no pairing.
            let sequential = wins && current.as_ref().map(|c| &c.id) == ev.base.as_ref();
            let first = current.is_none() && ev.base.is_none();
            if audited_register(&name) && !sequential && !first {
                let history = r.history(&ev.report, &name)?;
                r.set_conflicts(&ev.report, &name, &conflicts(&history))?;
            }
            Ok(if wins {
                Applied::Changed
            } else {
                Applied::Lost
            })
        }
        Effect::Note => r.add_note(ev).map(|_| Applied::Changed),
        Effect::Link => r.add_link(ev).map(|_| Applied::Changed),
        Effect::Unknown => Ok(Applied::Ignored),
    }
}

/// The lost writes among one register's events, each with the write it lost to:
/// `(winner, loser)` pairs, ordered by the loser's stamp.
pub fn conflicts(history: &[Event]) -> Vec<(Event, Event)> {
    let Some(winner) = history.iter().max() else {
        return Vec::new();
    };
    let by_id: HashMap<&str, &Event> = history.iter().map(|e| (e.id.as_str(), e)).collect();
    // The winner's chain of bases, newest first; stamps fall along it.
    let mut chain = vec![winner];
    let mut at = winner;
    while let Some(base) = at.base.as_deref().and_then(|b| by_id.get(b)) {
        if chain.iter().any(|c| c.id == base.id) || base.stamp() >= at.stamp() {
            break; // A malformed chain: never loop.
        }
        chain.push(base);
        at = base;
    }
    let mut lost: Vec<(Event, Event)> = history
        .iter()
        .filter(|e| !chain.iter().any(|c| c.id == e.id))
        .filter_map(|loser| {
            chain
                .iter()
                .rev()
                .find(|c| c.stamp() > loser.stamp())
                .map(|w| ((*w).clone(), loser.clone()))
        })
        .collect();
    lost.sort_by(|a, b| a.1.cmp(&b.1));
    lost
}

/// A change made on this desk, before it becomes an event.
#[derive(Debug, Clone)]
pub struct Draft {
    pub actor: String,
    pub at: String,
    pub report: ReportRef,
    pub kind: String,
    pub value: Value,
}

/// Makes the event for a local change (clock ticked, `base` = the register's winner here)
/// and applies it. The caller has already changed its own state; the event wins locally
/// because its clock is above everything seen.
pub fn make<R: Replica>(r: &mut R, draft: Draft) -> Result<Event, R::Error> {
    // A store that folded an out-of-range clock before events were checked for one still
    // makes events other desks accept (see `event::MAX_LAMPORT`).
    let lamport = r.clock()?.min(super::event::MAX_LAMPORT - 1) + 1;
    let mut ev = Event {
        secdesk: FORMAT,
        id: new_id(&draft.actor, lamport),
        actor: draft.actor,
        at: draft.at,
        lamport,
        report: draft.report,
        kind: draft.kind,
        value: draft.value,
        base: None,
    };
    if let Some(register) = ev.register() {
        ev.base = r.winner(&ev.report, &register)?.map(|s| s.id);
    }
    apply(r, &ev)?;
    Ok(ev)
}
