//! Times the two halves of ingest without a server (a development aid): every message file
//! given, repeated COPIES times (each copy made distinct by an `X-Bench-Copy` header, as
//! `bench/sync.sh --unique` does), prepared (hash, parse, classify) and then stored in
//! batches of 500 into a fresh database, one copy of the files after another. After each
//! copy it prints the CPU time per message of that copy (this thread's, from
//! /proc/thread-self/stat, so other processes' load does not count), so a cost that grows
//! with the store shows as a rising line:
//! `COPIES=30 [CACHE_MB=N (default: as sync, 64)] [FTS_AUTOMERGE=N] [BATCH=N] cargo run --release --example ingest_bench -- OUT.db FILE...`
use std::path::Path;
use std::time::Instant;

use secdesk::core::ingest::{Ingestor, Origin, RawIncoming};
use secdesk::core::store::{Store, BULK_PAGE_CACHE_BYTES};

/// This thread's user + system CPU time in seconds (clock ticks of 1/100 s).
fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn main() {
    const USAGE: &str = "usage: [COPIES=N] ingest_bench OUT.db FILE... (OUT.db must not exist)";
    let mut args = std::env::args().skip(1).peekable();
    let db = match args.next() {
        // `--help` or any option would otherwise become the store's file name.
        Some(db) if !db.starts_with('-') && args.peek().is_some() => db,
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    // It starts from an empty store and never removes one: a mistyped path must not cost
    // a real store.
    if Path::new(&db).exists() {
        eprintln!("ingest_bench: {db} exists: remove it first ({USAGE})");
        std::process::exit(2);
    }
    let copies: usize = std::env::var("COPIES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(6);
    let bodies: Vec<Vec<u8>> = args
        .map(|f| std::fs::read(f).expect("readable file"))
        .collect();
    let mut store = Store::open(Path::new(&db)).expect("store");
    // CACHE_MB=N: SQLite's page cache for this run; without it, the one `secdesk sync`
    // uses (BULK_PAGE_CACHE_BYTES).
    let cache = std::env::var("CACHE_MB")
        .ok()
        .and_then(|m| m.parse::<i64>().ok())
        .map_or(BULK_PAGE_CACHE_BYTES, |mb| mb << 20);
    store.set_page_cache(cache).expect("cache_size");
    // FTS_AUTOMERGE=N: the full-text index's `automerge` setting for this run (FTS5's
    // default is 4; the store's own setting otherwise).
    if let Some(n) = std::env::var("FTS_AUTOMERGE")
        .ok()
        .and_then(|m| m.parse::<i64>().ok())
    {
        store
            .conn()
            .execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', ?1)",
                [n],
            )
            .expect("automerge");
    }
    // BATCH=N: messages per transaction (a sync's UID FETCH batch; 500 by default).
    let batch_size: usize = std::env::var("BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(500);
    let ingestor = Ingestor::from_store(&mut store, None).expect("classifier");
    let mut uid = 0;
    let started = Instant::now();
    let (mut prep_all, mut store_all) = (0.0, 0.0);
    println!("copy  messages  prepare µs/msg  store µs/msg  (CPU of this thread)");
    for copy in 1..=copies {
        let (mut prep, mut stored) = (0.0, 0.0);
        for chunk in bodies.chunks(batch_size) {
            let t = thread_cpu();
            let batch: Vec<_> = chunk
                .iter()
                .map(|body| {
                    uid += 1;
                    let mut raw = format!("X-Bench-Copy: {copy}\n").into_bytes();
                    raw.extend_from_slice(body);
                    ingestor.prepare(RawIncoming {
                        raw,
                        received_at: None,
                        origin: Origin::Imap {
                            mailbox: "INBOX".into(),
                            uidvalidity: 1,
                            uid,
                        },
                    })
                })
                .collect();
            let t2 = thread_cpu();
            ingestor
                .store_prepared(&mut store, batch, None)
                .expect("stored");
            prep += t2 - t;
            stored += thread_cpu() - t2;
        }
        let n = bodies.len() as f64;
        println!(
            "{copy:>4}  {:>8}  {:>14.0}  {:>12.0}",
            uid,
            prep / n * 1e6,
            stored / n * 1e6
        );
        prep_all += prep;
        store_all += stored;
    }
    println!(
        "{uid} messages: prepare {prep_all:.2} s CPU, store {store_all:.2} s CPU, {:.1} s wall",
        started.elapsed().as_secs_f64()
    );
}
