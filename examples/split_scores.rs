//! Dumps the spam score of every held-out message of the date split, and of an inner date
//! split of the older half (its older half trains, its newer half is scored), for studying
//! how cut-offs chosen on older mail hold on newer mail (a development aid):
//! `cargo run --release --example split_scores -- DIR... > scores.tsv`
//!
//! Lines: `cutoff<TAB>outer|inner<TAB>ham<TAB>spam`, then per held-out message
//! `outer|inner<TAB>folder<TAB>label<TAB>score<TAB>file<TAB>outcome<TAB>reasons`. The spam
//! combiner's weights go to stderr. `OUTER_ONLY=1` skips the inner split.
use secdesk::core::classify::split::{read_folder, test_part, train_part, Item, SplitKind};
use secdesk::core::classify::*;
use secdesk::core::parse::parse_message;
use secdesk::core::sanitize::terminal_line;

fn run(tag: &str, folders: &[(String, Vec<Item>)], rules: &RuleSet) {
    let parts: Vec<Vec<bool>> = folders
        .iter()
        .map(|(_, items)| test_part(items, SplitKind::Date))
        .collect();
    let model = train_part(folders, &parts, rules);
    if let Some(st) = &model.stack {
        for (n, w) in secdesk::core::classify::stack::input_names()
            .iter()
            .zip(&st.spam)
        {
            eprintln!("{tag} spam weight {n} {w:.3}");
        }
    }
    let c = Classifier::new(model, rules.clone());
    println!("cutoff\t{tag}\t{}\t{}", c.cutoffs.ham, c.cutoffs.spam);
    for ((dir, items), test) in folders.iter().zip(&parts) {
        for (item, _) in items.iter().zip(test).filter(|(_, t)| **t) {
            let v = c.classify(&parse_message(&item.raw));
            println!(
                "{tag}\t{dir}\t{}\t{}\t{}\t{:?}\t{}",
                item.label.as_str(),
                v.spam_score,
                item.path.display(),
                v.outcome,
                // Reasons quote mail text: never raw to a terminal.
                terminal_line(&v.reasons.join(" | "))
            );
        }
    }
}

fn main() {
    let rules = RuleSet::builtin().expect("rules");
    let folders: Vec<(String, Vec<Item>)> = std::env::args()
        .skip(1)
        .map(|d| {
            (
                d.clone(),
                read_folder(std::path::Path::new(&d)).expect("folder"),
            )
        })
        .collect();
    run("outer", &folders, &rules);
    if std::env::var_os("OUTER_ONLY").is_some() {
        return;
    }
    let older: Vec<(String, Vec<Item>)> = folders
        .iter()
        .map(|(d, items)| {
            let test = test_part(items, SplitKind::Date);
            let keep = items
                .iter()
                .zip(&test)
                .filter(|(_, t)| !**t)
                .map(|(i, _)| i.clone())
                .collect();
            (d.clone(), keep)
        })
        .collect();
    run("inner", &older, &rules);
}
