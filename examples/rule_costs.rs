//! Times each shipped rule alone on message files (a development aid):
//! `cargo run --release --example rule_costs -- FILE...`
use std::time::Instant;

use secdesk::core::classify::rules::{RuleSet, BUILTIN_RULES};
use secdesk::core::parse::parse_message;

fn main() {
    let parsed: Vec<_> = std::env::args()
        .skip(1)
        .map(|f| parse_message(&std::fs::read(f).expect("readable file")))
        .collect();
    let mut costs = Vec::new();
    for chunk in BUILTIN_RULES.split("\n[[rule]]").skip(1) {
        let rules = RuleSet::parse(&format!("[[rule]]{chunk}"), "one").expect("rule parses");
        let name = chunk
            .lines()
            .find(|l| l.starts_with("name"))
            .unwrap_or("?")
            .to_string();
        let t = Instant::now();
        let mut fired = 0;
        for p in &parsed {
            fired += rules.evaluate(p).len();
        }
        costs.push((t.elapsed(), name, fired));
    }
    costs.sort();
    for (d, n, f) in costs.iter().rev() {
        println!("{:>10.2?} {f:>5} {n}", d);
    }
    let all = RuleSet::builtin().expect("rules");
    let t = Instant::now();
    for p in &parsed {
        all.evaluate(p);
    }
    println!("all together: {:?}", t.elapsed());
}
