//! Scores a labelled folder under several filter parameters (a development aid):
//! `cargo run --release --example tune_classify -- STORE.db DIR`
use secdesk::core::classify::bayes::BayesParams;
use secdesk::core::classify::corpus::labelled_files;
use secdesk::core::classify::evaluate::{evaluate, Sample};
use secdesk::core::classify::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: tune_classify STORE.db DIR");
    let dir = args.next().expect("usage: tune_classify STORE.db DIR");
    let mut store = secdesk::core::store::Store::open(std::path::Path::new(&db)).expect("store");
    let model = storage::load_model(&mut store).expect("model");
    let files = labelled_files(std::path::Path::new(&dir)).expect("labelled folder");
    let raws: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, p)| std::fs::read(p).expect("file"))
        .collect();
    for rules in [true, false] {
        for strength in [0.1, 0.45, 1.0] {
            for min_deviation in [0.0, 0.1, 0.2, 0.3] {
                for max_tokens in [50, 150, 400] {
                    let r = if rules {
                        RuleSet::builtin().expect("rules")
                    } else {
                        RuleSet::parse("", "none").expect("empty")
                    };
                    let mut c = Classifier::new(model.clone(), r);
                    c.params = BayesParams {
                        strength,
                        unknown: 0.5,
                        min_deviation,
                        max_tokens,
                    };
                    let samples: Vec<Sample> = files
                        .iter()
                        .zip(c.classify_raw_many(&raws))
                        .map(|((l, _), v)| Sample::new(*l, &v))
                        .collect();
                    let s = evaluate(&samples).spam;
                    println!("rules={rules} s={strength} dev={min_deviation} max={max_tokens}: auc {:.4} r0 {:.3} fp {:.4} fn {:.3}", s.auc, s.spam_recall_at_zero_ham_loss, s.false_positive_rate, s.false_negative_rate);
                }
            }
        }
    }
}
