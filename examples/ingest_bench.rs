//! Times the two halves of ingest without a server (a development aid): every message file
//! given, repeated COPIES times (each copy made distinct by an `X-Bench-Copy` header, as
//! `bench/sync.sh` does), prepared (hash, parse, classify) and then stored in batches of 500
//! into a fresh database:
//! `COPIES=6 cargo run --release --example ingest_bench -- OUT.db FILE...`
use std::path::Path;
use std::time::Instant;

use secdesk::core::ingest::{Ingestor, Origin, RawIncoming};
use secdesk::core::store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: ingest_bench OUT.db FILE...");
    let copies: usize = std::env::var("COPIES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(6);
    let bodies: Vec<Vec<u8>> = args
        .map(|f| std::fs::read(f).expect("readable file"))
        .collect();
    let _ = std::fs::remove_file(&db);
    let mut store = Store::open(Path::new(&db)).expect("store");
    let ingestor = Ingestor::from_store(&mut store, None).expect("classifier");
    let mut uid = 0;
    let mut raws = Vec::new();
    for copy in 1..=copies {
        for body in &bodies {
            uid += 1;
            let mut raw = format!("X-Bench-Copy: {copy}\n").into_bytes();
            raw.extend_from_slice(body);
            raws.push(RawIncoming {
                raw,
                received_at: None,
                origin: Origin::Imap {
                    mailbox: "INBOX".into(),
                    uidvalidity: 1,
                    uid,
                },
            });
        }
    }
    let n = raws.len();
    let t = Instant::now();
    let prepared: Vec<_> = raws.into_iter().map(|r| ingestor.prepare(r)).collect();
    let prep = t.elapsed();
    let t = Instant::now();
    let mut it = prepared.into_iter().peekable();
    while it.peek().is_some() {
        let batch: Vec<_> = it.by_ref().take(500).collect();
        ingestor
            .store_prepared(&mut store, batch, None)
            .expect("stored");
    }
    let stored = t.elapsed();
    println!("{n} messages: prepare {prep:?}, store {stored:?}");
}
