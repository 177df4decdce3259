use std::time::Instant;
use secdesk::core::classify::*;
use secdesk::core::parse::parse_message;
fn main() {
    let files: Vec<_> = std::env::args().skip(1).collect();
    let raws: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let t = Instant::now();
    let parsed: Vec<_> = raws.iter().map(|r| parse_message(r)).collect();
    println!("parse {:?}", t.elapsed());
    let t = Instant::now();
    let toks: Vec<_> = parsed.iter().map(tokenize::tokenize).collect();
    println!("tokenize {:?}", t.elapsed());
    let rules = RuleSet::builtin().unwrap();
    let t = Instant::now();
    for p in &parsed { rules.evaluate(p); }

    println!("rules {:?}", t.elapsed());
    let mut store = secdesk::core::store::Store::open(std::path::Path::new("/tmp/sdbench/secdesk.db")).unwrap();
    let t = Instant::now();
    let model = storage::load_model(&mut store).unwrap();
    println!("load {:?} {} tokens", t.elapsed(), model.tokens.len());
    let c = Classifier::new(model, RuleSet::parse("", "x").unwrap());
    let t = Instant::now();
    for (p, tk) in parsed.iter().zip(&toks) { c.classify_tokens(p, tk); }
    println!("bayes {:?}", t.elapsed());
}
