//! The merge on simulated desks: a property test over random interleavings, duplicates and
//! delays, and the conflict cases spelled out.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use serde_json::json;

use super::event::{conflict_text, Event, ReportRef, Stamp};
use super::merge::{apply, make, Applied, Draft, Replica};

/// A desk's whole team state, in memory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Desk {
    clock: u64,
    log: BTreeMap<String, (Event, Option<String>)>,
    winners: BTreeMap<(ReportRef, String), Event>,
    /// (report, register) -> sorted audit texts.
    conflicts: BTreeMap<(ReportRef, String), Vec<String>>,
    notes: BTreeSet<(String, ReportRef, String)>,
    links: BTreeSet<(String, ReportRef, String)>,
}

impl Replica for Desk {
    type Error = Infallible;
    fn known(&self, id: &str) -> Result<bool, Infallible> {
        Ok(self.log.contains_key(id))
    }
    fn clock(&self) -> Result<u64, Infallible> {
        Ok(self.clock)
    }
    fn set_clock(&mut self, lamport: u64) -> Result<(), Infallible> {
        self.clock = lamport;
        Ok(())
    }
    fn log(&mut self, ev: &Event, register: Option<&str>) -> Result<(), Infallible> {
        self.log
            .insert(ev.id.clone(), (ev.clone(), register.map(str::to_string)));
        Ok(())
    }
    fn winner(&self, report: &ReportRef, register: &str) -> Result<Option<Stamp>, Infallible> {
        Ok(self
            .winners
            .get(&(report.clone(), register.to_string()))
            .map(Event::stamp))
    }
    fn set_winner(&mut self, ev: &Event, register: &str) -> Result<(), Infallible> {
        self.winners
            .insert((ev.report.clone(), register.to_string()), ev.clone());
        Ok(())
    }
    fn history(&self, report: &ReportRef, register: &str) -> Result<Vec<Event>, Infallible> {
        Ok(self
            .log
            .values()
            .filter(|(e, r)| &e.report == report && r.as_deref() == Some(register))
            .map(|(e, _)| e.clone())
            .collect())
    }
    fn set_conflicts(
        &mut self,
        report: &ReportRef,
        register: &str,
        conflicts: &[(Event, Event)],
    ) -> Result<(), Infallible> {
        let texts = conflicts.iter().map(|(w, l)| conflict_text(w, l)).collect();
        self.conflicts
            .insert((report.clone(), register.to_string()), texts);
        Ok(())
    }
    fn add_note(&mut self, ev: &Event) -> Result<(), Infallible> {
        let text = ev.value["text"].as_str().unwrap_or_default().to_string();
        self.notes.insert((ev.id.clone(), ev.report.clone(), text));
        Ok(())
    }
    fn add_link(&mut self, ev: &Event) -> Result<(), Infallible> {
        self.links
            .insert((ev.id.clone(), ev.report.clone(), ev.value.to_string()));
        Ok(())
    }
}

impl Desk {
    /// What a user sees: values and conflicts, without the empty conflict lists a desk that
    /// never saw a race does not have.
    pub(super) fn visible(&self) -> (BTreeMap<(ReportRef, String), String>, Vec<String>, usize) {
        let values = self
            .winners
            .iter()
            .map(|(k, e)| (k.clone(), format!("{} {}", e.id, e.value)))
            .collect();
        let conflicts = self.conflicts.values().flatten().cloned().collect();
        (values, conflicts, self.notes.len() + self.links.len())
    }
}

fn change(
    desk: &mut Desk,
    actor: &str,
    report: &str,
    kind: &str,
    value: serde_json::Value,
) -> Event {
    make(
        desk,
        Draft {
            actor: actor.into(),
            at: "2026-12-01T10:00:00Z".into(),
            report: ReportRef::MessageId(report.into()),
            kind: kind.into(),
            value,
        },
    )
    .unwrap()
}

/// Actor `who` sets report r1's state.
fn state(desk: &mut Desk, who: usize, to: &str) -> Event {
    change(desk, ACTORS[who], "r1@x", "state", json!({ "state": to }))
}

pub(super) fn fold(desk: &mut Desk, events: &[Event]) {
    for e in events {
        apply(desk, e).unwrap();
    }
}

/// xorshift64*: a small, seeded generator so a failing seed can be replayed.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

pub(super) const ACTORS: [&str; 3] = ["ada@example.org", "bo@example.org", "cy@example.org"];
const REPORTS: [&str; 3] = ["r1@x", "r2@x", "r3@x"];
const STATES: [&str; 5] = ["acknowledged", "triaged", "fixing", "resolved", "spam"];

fn random_change(rng: &mut Rng, desk: &mut Desk, actor: &str) -> Event {
    let report = REPORTS[rng.below(REPORTS.len())];
    let (kind, value) = match rng.below(8) {
        0 | 1 => ("state", json!({"state": STATES[rng.below(STATES.len())]})),
        2 => {
            let class = ["spam", "valid"][rng.below(2)];
            ("class", json!({"class": class, "confirmed": true}))
        }
        3 => ("coordinator", json!({"coordinator": ACTORS[rng.below(3)]})),
        4 => (
            "note",
            json!({"text": format!("note {}", rng.next() % 100)}),
        ),
        5 => (
            "duplicate",
            json!({"original": {"message_id": REPORTS[rng.below(3)]}}),
        ),
        6 => (
            ["reply-started", "reply-sent", "reply-abandoned"][rng.below(3)],
            json!({}),
        ),
        _ => (
            "advisory",
            json!({"field": "cve", "value": format!("CVE-{}", rng.below(9))}),
        ),
    };
    change(desk, actor, report, kind, value)
}

/// One run: desks change reports while seeing only a random, delayed, duplicated part of the
/// others' events; at the end every desk gets everything, in its own shuffled order.
/// Desks change reports while seeing only a random, delayed, duplicated part of the others'
/// events. Returns every event made, in the order the desks made them.
pub(super) fn make_events(rng: &mut Rng, desks: &mut [Desk]) -> Vec<Event> {
    let mut server: Vec<Event> = Vec::new();
    for _ in 0..40 {
        let d = rng.below(desks.len());
        if rng.below(3) < 2 {
            let ev = random_change(rng, &mut desks[d], ACTORS[d]);
            server.push(ev);
        } else if !server.is_empty() {
            // A partial sync: a random subset, some twice, in random order.
            let mut got: Vec<Event> = (0..rng.below(server.len() + 1))
                .map(|_| server[rng.below(server.len())].clone())
                .collect();
            rng.shuffle(&mut got);
            fold(&mut desks[d], &got);
        }
    }
    server
}

/// Every event, a random quarter of them twice, in a random order.
pub(super) fn arrival(rng: &mut Rng, server: &[Event]) -> Vec<Event> {
    let mut all = server.to_vec();
    all.extend(server.iter().filter(|_| rng.below(4) == 0).cloned());
    rng.shuffle(&mut all);
    all
}

/// One run: at the end every desk gets everything, in its own order; all must agree.
fn run(seed: u64) -> usize {
    let mut rng = Rng::seeded(seed);
    let mut desks = vec![Desk::default(), Desk::default(), Desk::default()];
    let server = make_events(&mut rng, &mut desks);
    for desk in &mut desks {
        let all = arrival(&mut rng, &server);
        fold(desk, &all);
    }
    let first = desks[0].visible();
    for (i, desk) in desks.iter().enumerate().skip(1) {
        assert_eq!(
            desk.visible(),
            first,
            "seed {seed}: desk {i} differs from desk 0"
        );
        assert_eq!(desk.clock, desks[0].clock, "seed {seed}");
    }
    // Applying everything again changes nothing.
    let before = desks[1].clone();
    fold(&mut desks[1], &server);
    assert_eq!(
        desks[1], before,
        "seed {seed}: re-applying changed the desk"
    );
    first.1.len()
}

#[test]
fn three_desks_converge_whatever_the_order() {
    let runs: u64 = std::env::var("SECDESK_MERGE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let conflicts: usize = (1..=runs).map(run).sum();
    // The runs must actually race: otherwise convergence proves little.
    assert!(
        conflicts > runs as usize,
        "only {conflicts} conflicts in {runs} runs"
    );
}

#[test]
fn concurrent_changes_leave_the_same_conflict_on_both_desks() {
    let (mut ada, mut bo) = (Desk::default(), Desk::default());
    let a = state(&mut ada, 0, "triaged");
    let b = state(&mut bo, 1, "fixing");
    assert_eq!(apply(&mut ada, &b), Ok(Applied::Changed));
    assert_eq!(apply(&mut bo, &a), Ok(Applied::Lost));
    assert_eq!(ada.visible(), bo.visible());
    let expected = vec!["bo set fixing; ada's triaged, made at the same time, lost".to_string()];
    assert_eq!(ada.visible().1, expected);
    // The same event again is a no-op.
    assert_eq!(apply(&mut bo, &a), Ok(Applied::Duplicate));
}

#[test]
fn an_overwrite_made_after_seeing_the_change_is_no_conflict() {
    let (mut ada, mut bo) = (Desk::default(), Desk::default());
    let a = state(&mut ada, 0, "triaged");
    fold(&mut bo, std::slice::from_ref(&a));
    let b = state(&mut bo, 1, "fixing");
    assert_eq!(b.base.as_deref(), Some(a.id.as_str()));
    fold(&mut ada, &[b]);
    assert_eq!(ada.visible(), bo.visible());
    assert!(ada.visible().1.is_empty(), "{:?}", ada.visible().1);
}

#[test]
fn a_later_change_by_the_loser_wins_and_the_race_is_reported_against_it() {
    // Ada and Bo race; Ada, not yet seeing Bo, changes again. Ada's second change wins and
    // Bo's is the lost one, on both desks, whichever arrives first.
    let (mut ada, mut bo) = (Desk::default(), Desk::default());
    let a1 = state(&mut ada, 0, "triaged");
    let b = state(&mut bo, 1, "fixing");
    let a2 = state(&mut ada, 0, "fixed");
    fold(&mut bo, &[a2, a1]);
    fold(&mut ada, &[b]);
    assert_eq!(ada.visible(), bo.visible());
    assert_eq!(
        ada.visible().1,
        vec!["ada set fixed; bo's fixing, made at the same time, lost".to_string()]
    );
}
