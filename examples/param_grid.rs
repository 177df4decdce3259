//! How Robinson's s and the minimum deviation were chosen, on the older half of the date
//! split only (a development aid): `cargo run --release --example param_grid -- DIR...`
//!
//! For each pair of the grid, the older half of every folder (by `Date`, as `secdesk eval
//! --split date` cuts it) is scored out of fold, the spam combiner is fitted on those
//! scores, and its out-of-fold spam recall at zero ham loss and ROC AUC are printed with the
//! spam cut-off `train` would choose. The newer half is never read beyond its dates.
use secdesk::core::classify::bayes::BayesParams;
use secdesk::core::classify::evaluate::{recall_at_zero_ham_loss, roc_auc};
use secdesk::core::classify::fitting::{fit_stack, out_of_fold_rows, train_model, Example};
use secdesk::core::classify::split::{read_folder, test_part, SplitKind};
use secdesk::core::classify::stack::{balance, fit, sigmoid, Stack};
use secdesk::core::classify::{Label, RuleSet};
use secdesk::core::parse::parse_message;

fn main() {
    let rules = RuleSet::builtin().expect("the shipped rules compile");
    let mut examples = Vec::new();
    for dir in std::env::args().skip(1) {
        let items = read_folder(std::path::Path::new(&dir)).expect("a labelled folder");
        let newer = test_part(&items, SplitKind::Date);
        for (item, _) in items.iter().zip(newer).filter(|(_, newer)| !newer) {
            examples.push(Example::new(&parse_message(&item.raw), item.label, &rules));
        }
    }
    let model = train_model(&examples);
    println!("s\tmin_deviation\toof_recall_at_zero_ham_loss\toof_auc\tspam_cutoff");
    for strength in [0.0178, 0.1, 0.45, 1.0] {
        for min_deviation in [0.0, 0.1, 0.2, 0.3] {
            let params = BayesParams {
                strength,
                min_deviation,
                ..BayesParams::default()
            };
            let (rows, _) = out_of_fold_rows(&model, &examples, &params);
            let xs: Vec<Vec<f64>> = rows.iter().map(|r| r.1.clone()).collect();
            let ys: Vec<bool> = rows.iter().map(|r| r.0 == Label::Spam).collect();
            let w = fit(&xs, &ys, &balance(&ys));
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for (x, y) in xs.iter().zip(&ys) {
                let p = sigmoid(Stack::score(&w, x));
                if *y {
                    pos.push(p)
                } else {
                    neg.push(p)
                }
            }
            let cutoff = fit_stack(&model, &examples, &params).spam_cutoff;
            println!(
                "{strength}\t{min_deviation}\t{:.3}\t{:.4}\t{cutoff:.4}",
                recall_at_zero_ham_loss(&pos, &neg),
                roc_auc(&pos, &neg)
            );
        }
    }
}
