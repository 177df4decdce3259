//! Team fold benchmark (bench/team.sh runs it): a store of REPORTS reports, then EVENTS team
//! events from DESKS desks folded in the way `secdesk sync` does (windows of 1,000, each one
//! transaction with its cursor). The desks work in rounds: each desk makes one change per
//! round with a Lamport clock one above the last round, having seen every earlier round
//! (so two desks touching the same field in one round make a conflict), and each desk's
//! events reach the folder late by its own random delay, so arrival is out of order.
//! Desks learn each other's changes every 5 rounds (their syncs), and 30 % of changes go to
//! the 200 newest reports (the ones being worked on), so concurrent writes, conflicts and
//! their recomputation are part of the load.
//!
//! `cargo run --release --example team_bench -- OUT.db [REPORTS] [EVENTS] [DESKS]`
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use secdesk::core::ingest::{Ingestor, Origin, RawIncoming};
use secdesk::core::store::{MailboxState, Store};
use secdesk::core::team::event::FORMAT;
use secdesk::core::team::{local, Event, Fetched, ReportRef};
use serde_json::json;

/// A small seeded generator (xorshift64*), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kb() -> i64 {
    // SAFETY: getrusage only writes the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}

fn main() {
    let db = std::env::args()
        .nth(1)
        .expect("usage: team_bench OUT.db [REPORTS] [EVENTS] [DESKS]");
    let (reports, events, desks) = (arg(2, 10_000), arg(3, 10_000), arg(4, 10));
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(Path::new(&db)).expect("store");

    let t = Instant::now();
    let raws: Vec<RawIncoming> = (0..reports)
        .map(|i| RawIncoming {
            raw: format!(
                "Message-ID: <r{i}@reporter.example>\nFrom: r{i}@reporter.example\n\
                 Subject: report {i}\nDate: Mon, 2 Mar 2026 10:00:00 +0000\n\nbody {i}\n"
            )
            .into_bytes(),
            received_at: None,
            origin: Origin::File,
        })
        .collect();
    let ingestor = Ingestor::without_classifier();
    for chunk in raws.chunks(1000) {
        ingestor
            .ingest_batch(&mut store, chunk.to_vec(), None)
            .expect("ingest");
    }
    println!(
        "store: {reports} reports in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut rng = Rng(0x5EC_DE5C);
    let states = ["acknowledged", "triaged", "fixing", "disclosed", "resolved"];
    let delay: Vec<u64> = (0..desks).map(|_| rng.below(50)).collect();
    let mut winners: HashMap<(u64, &str), String> = HashMap::new();
    let mut seen = winners.clone();
    let mut made: Vec<(u64, Event)> = Vec::new();
    let rounds = events.div_ceil(desks);
    for round in 0..rounds {
        let mut this_round = Vec::new();
        for d in 0..desks {
            if made.len() as u64 >= events {
                break;
            }
            let report = if rng.below(10) < 3 {
                reports - 1 - rng.below(200.min(reports))
            } else {
                rng.below(reports)
            };
            let actor = format!("desk{d}@example.org");
            let (kind, value) = match rng.below(4) {
                0 => ("state", json!({"state": states[rng.below(5) as usize]})),
                1 => ("coordinator", json!({ "coordinator": actor })),
                2 => ("class", json!({"class": "valid", "confirmed": true})),
                _ => ("note", json!({"text": format!("note {round}/{d}")})),
            };
            let ev = Event {
                secdesk: FORMAT,
                id: format!("{round:08x}{d:08x}{:016x}", rng.below(u64::MAX)),
                actor,
                at: "2026-12-01T10:00:00Z".into(),
                lamport: round + 1,
                report: ReportRef::MessageId(format!("r{report}@reporter.example")),
                kind: kind.into(),
                value,
                base: seen.get(&(report, kind)).cloned(),
            };
            this_round.push((report, kind, ev.clone()));
            made.push((round + delay[d as usize], ev));
        }
        // The greatest (clock, actor) of a round wins, as the merge decides.
        for (report, kind, ev) in this_round {
            if kind != "note" {
                winners.insert((report, kind), ev.id);
            }
        }
        if round % 5 == 4 {
            seen = winners.clone();
        }
    }
    made.sort_by_key(|(arrives, _)| *arrives);
    let fetched: Vec<Fetched> = made
        .into_iter()
        .enumerate()
        .map(|(i, (_, ev))| Fetched {
            uid: i as u32 + 1,
            event: Ok(ev),
            by_mail: false,
        })
        .collect();
    let members: Vec<String> = (0..desks).map(|d| format!("desk{d}@example.org")).collect();
    let rss_before = peak_rss_kb();

    let t = Instant::now();
    let (mut applied, mut lost) = (0, 0);
    for window in fetched.chunks(1000) {
        let cursor = MailboxState {
            uidvalidity: 1,
            last_uid: window.last().map_or(0, |f| f.uid),
        };
        let s = local::fold(&mut store, "secdesk", window, cursor, &members).expect("fold");
        applied += s.applied;
        lost += s.lost;
    }
    let elapsed = t.elapsed().as_secs_f64();
    let conflicts: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM team_conflicts", [], |r| r.get(0))
        .expect("count");
    println!(
        "fold: {} events from {desks} desks into {reports} reports in {elapsed:.2} s \
         ({:.0} events/s): {applied} applied, {lost} lost to a later write, {conflicts} conflicts",
        fetched.len(),
        fetched.len() as f64 / elapsed
    );
    println!(
        "peak RSS: {} MB after building the store, {} MB after the fold",
        rss_before / 1024,
        peak_rss_kb() / 1024
    );

    // Folding the same events again (a UIDVALIDITY reset re-reads the folder).
    let t = Instant::now();
    let cursor = MailboxState {
        uidvalidity: 2,
        last_uid: fetched.len() as u32,
    };
    let again = local::fold(&mut store, "secdesk", &fetched, cursor, &members).expect("fold");
    println!(
        "refold: {} events already known in {:.2} s",
        again.already_known,
        t.elapsed().as_secs_f64()
    );
}
