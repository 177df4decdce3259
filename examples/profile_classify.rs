//! Times each stage of classification on message files (a development aid):
//! `cargo run --release --example profile_classify -- STORE.db FILE...`
use std::time::Instant;

use secdesk::core::classify::*;
use secdesk::core::parse::parse_message;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .expect("usage: profile_classify STORE.db FILE...");
    let stage = std::env::var("STAGE").unwrap_or_default();
    let raws: Vec<Vec<u8>> = args
        .map(|f| std::fs::read(f).expect("readable file"))
        .collect();
    let t = Instant::now();
    let parsed: Vec<_> = raws.iter().map(|r| parse_message(r)).collect();
    println!("parse    {:?}", t.elapsed());
    let t = Instant::now();
    let reps = if stage == "evidence" { 10 } else { 1 };
    for _ in 0..reps {
        for p in &parsed {
            secdesk::core::classify::detect::evidence(p);
        }
    }
    println!("evidence {:?} (also inside tokenize)", t.elapsed() / reps);
    let t = Instant::now();
    let reps = if stage == "tokenize" { 10 } else { 1 };
    let mut toks = Vec::new();
    for _ in 0..reps {
        toks = parsed.iter().map(tokenize::tokenize).collect();
    }
    println!("tokenize {:?}", t.elapsed() / reps);
    let t = Instant::now();
    let rules = RuleSet::builtin().expect("shipped rules load");
    println!("compile  {:?}", t.elapsed());
    let reps = if stage == "rules" { 10 } else { 1 };
    let t = Instant::now();
    for _ in 0..reps {
        for p in &parsed {
            rules.evaluate(p);
        }
    }
    println!("rules    {:?}", t.elapsed() / reps);
    let mut store = secdesk::core::store::Store::open(std::path::Path::new(&db)).expect("store");
    let t = Instant::now();
    let model = storage::load_model(&mut store).expect("model");
    println!("load     {:?} ({} tokens)", t.elapsed(), model.tokens.len());
    let c = Classifier::new(model, RuleSet::parse("", "none").expect("empty rules"));
    let reps = if stage == "bayes" { 10 } else { 1 };
    let t = Instant::now();
    for _ in 0..reps {
        for (p, tk) in parsed.iter().zip(&toks) {
            c.classify_tokens(p, tk);
        }
    }
    println!("bayes    {:?}", t.elapsed() / reps);
}
