//! The classifier on the shared corpora: trained on part, scored on the held-back part.
//! Those tests are `#[ignore]`d, so a plain `cargo test` lists them as ignored instead of
//! passing them unrun; `scripts/test` runs them with `--ignored` when the corpora are there
//! and prints a plain skip line when they are not. Run by hand, without the corpora, they fail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use secdesk::core::classify::corpus::labelled_files;
use secdesk::core::classify::evaluate::{evaluate, Sample};
use secdesk::core::classify::tokenize::tokenize;
use secdesk::core::classify::{Classifier, Label, Model, RuleSet};
use secdesk::core::model::Class;
use secdesk::core::parse::parse_message;

/// Floors the held-back SpamAssassin half must reach (`bench/classify.sh` measures more).
const MIN_AUC: f64 = 0.99;
const MIN_RECALL_AT_ZERO_HAM_LOSS: f64 = 0.5;

/// `$SECDESK_CORPORA`, or `../shared/corpora` beside the repository. A test that asked for
/// them and finds them absent fails: it is only run when they are there.
fn corpora() -> PathBuf {
    let dir = std::env::var_os("SECDESK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    assert!(
        dir.join("spamassassin").is_dir() && dir.join("triage").is_dir(),
        "the shared corpora are not at {}: set SECDESK_CORPORA to the folder holding \
         spamassassin/ and triage/",
        dir.display()
    );
    dir
}

/// A stable split by file name.
fn bucket(path: &Path, n: u64) -> u64 {
    let name = path.file_name().unwrap().to_string_lossy();
    name.bytes().fold(7u64, |h, b| {
        (h.wrapping_mul(131) + b as u64) % 1_000_000_007
    }) % n
}

fn load(dir: &Path) -> Vec<(Label, PathBuf, Vec<String>, Vec<u8>)> {
    labelled_files(dir)
        .unwrap()
        .into_iter()
        .map(|(label, path)| {
            let raw = std::fs::read(&path).unwrap();
            let tokens = tokenize(&parse_message(&raw));
            (label, path, tokens, raw)
        })
        .collect()
}

#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn held_back_half_of_spamassassin_scores_above_the_floor() {
    let corpora = corpora();
    let all = load(&corpora.join("spamassassin"));
    let mut model = Model::default();
    for (label, path, tokens, _) in &all {
        if bucket(path, 2) == 0 {
            model.apply(*label, tokens, false);
        }
    }
    let c = Classifier::new(model, RuleSet::builtin().unwrap());
    let samples: Vec<Sample> = all
        .iter()
        .filter(|(_, path, _, _)| bucket(path, 2) == 1)
        .map(|(label, _, tokens, raw)| {
            Sample::new(*label, &c.classify_tokens(&parse_message(raw), tokens))
        })
        .collect();
    let r = evaluate(&samples).spam;
    println!("held-back half: {r:?}");
    assert!(
        r.spam > 100 && r.not_spam > 500,
        "the split is lopsided: {r:?}"
    );
    assert!(r.auc >= MIN_AUC, "AUC {} below {MIN_AUC}", r.auc);
    assert_eq!(r.false_positive_rate, 0.0, "ham classified as spam");
    assert!(
        r.spam_recall_at_zero_ham_loss >= MIN_RECALL_AT_ZERO_HAM_LOSS,
        "{r:?}"
    );
}

#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn triage_cross_validated_never_calls_a_valid_report_spam() {
    let corpora = corpora();
    let background = load(&corpora.join("spamassassin"));
    let triage = load(&corpora.join("triage"));
    let mut base = Model::default();
    for (label, _, tokens, _) in &background {
        base.apply(*label, tokens, false);
    }
    let mut samples = Vec::new();
    for fold in 0..5 {
        let mut model = base.clone();
        for (label, path, tokens, _) in &triage {
            if bucket(path, 5) != fold {
                model.apply(*label, tokens, false);
            }
        }
        let c = Classifier::new(model, RuleSet::builtin().unwrap());
        for (label, path, tokens, raw) in &triage {
            if bucket(path, 5) == fold {
                let v = c.classify_tokens(&parse_message(raw), tokens);
                samples.push((*label, path.clone(), v));
            }
        }
    }
    assert_eq!(samples.len(), 45);
    let valid_as_spam: Vec<_> = samples
        .iter()
        .filter(|(l, _, v)| *l == Label::Valid && v.class == Class::Spam)
        .map(|(_, p, _)| p.display().to_string())
        .collect();
    assert!(
        valid_as_spam.is_empty(),
        "valid reports called spam: {valid_as_spam:?}"
    );
    let r = evaluate(
        &samples
            .iter()
            .map(|(l, _, v)| Sample::new(*l, v))
            .collect::<Vec<_>>(),
    );
    println!("triage 5-fold: {:?}", r.per_class);
    let valid = &r.per_class[2];
    assert!(valid.recall >= 0.8, "valid recall {}", valid.recall);
    // Spam suggestions outside spam: at most the security vendor's sales pitch, which the
    // corpus labels invalid and issue 12 counts as spam; never anything else.
    let wrongly_spam: Vec<_> = samples
        .iter()
        .filter(|(l, _, v)| *l != Label::Spam && v.class == Class::Spam)
        .map(|(_, p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        wrongly_spam.len() <= 1 && wrongly_spam.iter().all(|p| p.contains("vendor-marketing")),
        "not spam called spam: {wrongly_spam:?}"
    );
}

/// Duplicate finder on the hand-written fixtures (`tests/fixtures/duplicates/README.md`):
/// each later report `b` is ranked against every earlier `a` and near miss `c`.
#[test]
fn duplicates_are_found_first_and_near_misses_stay_below_their_bug() {
    use secdesk::core::classify::similar::{scores, signature, THRESHOLD};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/duplicates");
    let read = |name: &str| {
        let raw = std::fs::read(dir.join(name)).unwrap();
        let m = parse_message(&raw);
        signature(&m.subject, &m.body_text)
    };
    let groups: Vec<String> = (1..=10).map(|i| format!("{i:02}")).collect();
    // Pool ids: 2k = a of group k, 2k+1 = c of group k.
    let pool: Vec<(i64, _)> = groups
        .iter()
        .enumerate()
        .flat_map(|(k, g)| {
            [
                (2 * k as i64, read(&format!("{g}-a.eml"))),
                (2 * k as i64 + 1, read(&format!("{g}-c.eml"))),
            ]
        })
        .collect();
    let mut top1 = 0;
    let mut suggested = 0;
    let mut near_miss_above = 0;
    for (k, g) in groups.iter().enumerate() {
        let r = scores(&read(&format!("{g}-b.eml")), &pool);
        if r[0].id == 2 * k as i64 {
            top1 += 1;
        } else {
            println!("{g}: best {:?}", &r[..3]);
        }
        if r[0].id == 2 * k as i64 && r[0].score >= THRESHOLD {
            suggested += 1;
        }
        // The near miss of the same module, asked as a new report: its own `a` (same
        // module, different bug) should not be suggested.
        let others: Vec<_> = pool
            .iter()
            .filter(|(id, _)| *id != 2 * k as i64 + 1)
            .cloned()
            .collect();
        let c = scores(&read(&format!("{g}-c.eml")), &others);
        let c = c.iter().find(|s| s.id == 2 * k as i64).unwrap();
        if c.score >= THRESHOLD {
            near_miss_above += 1;
        }
        println!(
            "{g}: duplicate {:.3}, near miss vs its a {:.3}",
            r.iter().find(|s| s.id == 2 * k as i64).unwrap().score,
            c.score
        );
    }
    println!(
        "top-1 {top1}/10, suggested above threshold {suggested}/10, near misses above threshold {near_miss_above}/10"
    );
    assert!(top1 >= 9, "top-1 accuracy {top1}/10");
    assert!(suggested >= 9, "duplicates suggested {suggested}/10");
    assert!(
        near_miss_above <= 3,
        "near misses suggested {near_miss_above}/10"
    );
}

/// The time-ordered split: trained on the older half of each corpus, scored on the newer
/// half, with weights and cut-offs chosen on the older half only.
#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn newer_half_by_date_scores_above_the_floor_and_no_report_is_called_spam() {
    use secdesk::core::classify::split::{read_folder, run_split, SplitKind};
    let corpora = corpora();
    let folders: Vec<(String, _)> = ["spamassassin", "triage"]
        .iter()
        .map(|n| (n.to_string(), read_folder(&corpora.join(n)).unwrap()))
        .collect();
    let r = run_split(&folders, SplitKind::Date, &RuleSet::builtin().unwrap());
    let (sa, triage) = (&r[0].report, &r[1].report);
    println!(
        "date split: spamassassin {:?}; triage {:?}",
        sa.spam, triage.confusion
    );
    assert!(sa.spam.auc >= MIN_AUC, "AUC {}", sa.spam.auc);
    assert_eq!(
        sa.spam.false_positives, 0,
        "newer ham called spam: {:?}",
        sa.spam
    );
    assert!(sa.spam.spam_recall_at_zero_ham_loss >= 0.7, "{:?}", sa.spam);
    let valid = triage
        .confusion
        .iter()
        .find(|c| c.label == "valid")
        .unwrap();
    assert_eq!(valid.spam, 0, "valid reports called spam: {valid:?}");
    assert!(triage.macro_f1 >= 0.8, "macro-F1 {}", triage.macro_f1);
}

/// Learning from moderators: SpamAssassin then triage in date order, classify then learn.
#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn replay_never_calls_a_valid_report_spam_and_learns() {
    use secdesk::core::classify::replay::replay;
    use secdesk::core::classify::split::read_folder;
    let corpora = corpora();
    let folders: Vec<(String, _)> = ["spamassassin", "triage"]
        .iter()
        .map(|n| (n.to_string(), read_folder(&corpora.join(n)).unwrap()))
        .collect();
    let r = replay(&folders, &RuleSet::builtin().unwrap());
    println!(
        "replay: {:?}; curve {:?}",
        r.sources,
        r.curve.iter().map(|p| p.errors).collect::<Vec<_>>()
    );
    assert_eq!(r.steps.len(), 3170);
    for s in &r.sources {
        assert_eq!(s.valid_as_spam, 0, "{s:?}");
    }
    // It learns: the last 1,000 SpamAssassin messages have far fewer errors than its first
    // 1,000. (The stream's last 1,000 end with the 45 triage messages, a kind of mail the
    // model has not seen yet, so they are compared within one source.)
    let sa: Vec<bool> = r
        .steps
        .iter()
        .filter(|s| s.source == 0)
        .map(|s| s.error)
        .collect();
    let errors = |s: &[bool]| s.iter().filter(|&&e| e).count();
    let (first, last) = (errors(&sa[..1000]), errors(&sa[sa.len() - 1000..]));
    assert!(
        last * 3 < first,
        "SpamAssassin errors: first 1,000 {first}, last 1,000 {last}"
    );
    assert!(
        r.sources[0].spam_recall_last_half >= 0.8,
        "{:?}",
        r.sources[0]
    );
}

/// The hand-written 2023–2025 mail of `tests/fixtures/modern/` (none of it in the corpora):
/// 21 spam of seven kinds (cold pitches, crypto scams, SEO and guest-post offers, bug-bounty
/// platform ads, predatory journals and conferences, scan reports for sale, attendee and
/// contact-list sales), and 6 valid reports that share their words ("bug bounty",
/// "conference talk", a crypto exchange's withdrawals, an SEO crawler, an attendee list, a
/// "scan" followed up).
fn fixture_set(set: &str) -> Vec<(Label, String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(set);
    labelled_files(&dir)
        .unwrap()
        .into_iter()
        .map(|(label, path)| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (label, name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Classifies a fixture set: per label, the messages called spam, invalid and valid, and the
/// valid reports not called valid (by name). Prints each verdict.
fn fixture_confusion(
    c: &Classifier,
    set: &str,
    model: &str,
) -> (HashMap<Label, [usize; 3]>, Vec<String>) {
    let mut counts: HashMap<Label, [usize; 3]> = HashMap::new();
    let mut valid_missed = Vec::new();
    for (label, name, raw) in fixture_set(set) {
        let v = c.classify(&parse_message(&raw));
        println!(
            "{model}: {set}/{name}: {:?} {:?} {:.3}",
            v.class, v.outcome, v.spam_score
        );
        let i = match v.class {
            Class::Spam => 0,
            Class::Invalid => 1,
            Class::Valid => 2,
        };
        counts.entry(label).or_default()[i] += 1;
        if label == Label::Valid && v.class != Class::Valid {
            valid_missed.push(format!("{name} ({:?}): {:?}", v.class, v.reasons));
        }
    }
    (counts, valid_missed)
}

/// Classifies the modern fixtures; returns (spam caught, spam total), after checking that no
/// valid report is called spam and at most one is called invalid.
fn modern_checked(c: &Classifier, model: &str) -> (usize, usize) {
    let (counts, valid_missed) = fixture_confusion(c, "modern", model);
    let [caught, unsure_spam_invalid, unsure_spam_valid] = counts[&Label::Spam];
    let spam = caught + unsure_spam_invalid + unsure_spam_valid;
    println!("{model}: modern spam caught {caught}/{spam}");
    assert_eq!(counts[&Label::Valid][0], 0, "{model}: {valid_missed:?}");
    assert!(
        valid_missed.len() <= 1,
        "{model}: valid reports called invalid: {valid_missed:?}"
    );
    assert_eq!(spam, 21, "the fixtures are incomplete");
    (caught, spam)
}

/// Day one: the shipped starter model and rules on mail of a newer kind.
#[test]
fn modern_solicitation_is_spam_and_reports_sharing_its_words_are_not_starter_model() {
    use secdesk::core::classify::storage::starter_model;
    let c = Classifier::new(starter_model().unwrap(), RuleSet::builtin().unwrap());
    let (caught, spam) = modern_checked(&c, "starter");
    // 7/21 before the solicitation rules, 13/21 with them, 21/21 once an unsure message
    // that is likelier spam than not and has nothing of a report is suggested as spam
    // (docs/benchmarks.md): a floor against going back.
    assert!(caught >= 20, "modern spam caught {caught}/{spam}");
}

/// Trained only on the older half of each corpus (as `eval --split date`), then the modern
/// fixtures: what generalises from older mail.
#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn modern_solicitation_is_spam_after_training_on_older_mail_only() {
    use secdesk::core::classify::fitting::{fit_stack, train_model, Example};
    use secdesk::core::classify::split::{read_folder, test_part, SplitKind};
    let corpora = corpora();
    let rules = RuleSet::builtin().unwrap();
    let mut examples = Vec::new();
    for name in ["spamassassin", "triage"] {
        let items = read_folder(&corpora.join(name)).unwrap();
        for (item, test) in items.iter().zip(test_part(&items, SplitKind::Date)) {
            if !test {
                examples.push(Example::new(&parse_message(&item.raw), item.label, &rules));
            }
        }
    }
    let mut model = train_model(&examples);
    model.stack = Some(fit_stack(&model, &examples, &Default::default()));
    let c = Classifier::new(model, rules);
    let (caught, spam) = modern_checked(&c, "older-half");
    // 13/21 measured (docs/benchmarks.md); every miss is left unsure, none is closed.
    assert!(caught >= 13, "modern spam caught {caught}/{spam}");
}

/// The second modern set (`tests/fixtures/modern2/`), written before any tuning and never
/// trained on, with the shipped starter model and rules: what a user sees on day one with
/// mail in a voice the rules were not written from. The guard rails hold (no valid
/// report called spam, at most one called invalid); the spam and invalid floors are the
/// figures measured in docs/benchmarks.md (far below the 92 % for spam).
#[test]
fn modern2_held_out_reports_stay_valid_and_invalid_reports_are_recognised() {
    use secdesk::core::classify::storage::starter_model;
    let c = Classifier::new(starter_model().unwrap(), RuleSet::builtin().unwrap());
    let (counts, valid_missed) = fixture_confusion(&c, "modern2", "starter");
    let total = |l: Label| counts[&l].iter().sum::<usize>();
    assert_eq!(
        (
            total(Label::Spam),
            total(Label::Invalid),
            total(Label::Valid)
        ),
        (14, 12, 12),
        "the fixtures are incomplete"
    );
    println!("starter: modern2 spam/invalid/valid rows: {counts:?}");
    assert_eq!(
        counts[&Label::Valid][0],
        0,
        "valid called spam: {valid_missed:?}"
    );
    assert!(
        valid_missed.len() <= 1,
        "valid reports not valid: {valid_missed:?}"
    );
    // One beg-bounty note (a rate-limit "finding" on PyPI) reads as spam as much as invalid.
    assert!(
        counts[&Label::Invalid][0] <= 1,
        "invalid reports called spam: {:?}",
        counts[&Label::Invalid]
    );
    let invalid = counts[&Label::Invalid][1];
    assert!(invalid >= 10, "invalid recognised {invalid}/12");
    let caught = counts[&Label::Spam][0];
    assert!(
        caught >= SPAM_FLOOR_MODERN2,
        "modern2 spam caught {caught}/14"
    );
}

/// Modern2 spam caught by the starter model (docs/benchmarks.md): a floor against going back.
const SPAM_FLOOR_MODERN2: usize = 12;

/// Mail of kinds the corpora lack, found by an audit on unseen mail: a prize mail whose
/// report words (a traceback, `Lib/` paths, versions) are hidden from its reader, and valid
/// reports that invalid rules fired on: a Windows `.cmd` argument injection that says the
/// program never uses `shell=True`, a "serious security issue" with a `python3 poc.py`
/// reproducer, a consultant's "Book a 30-minute call" signature, a list's unsubscribe
/// footer. With the starter model and shipped rules.
#[test]
fn hidden_report_words_do_not_save_spam_and_valid_reports_escape_the_invalid_rules() {
    use secdesk::core::classify::storage::starter_model;
    let c = Classifier::new(starter_model().unwrap(), RuleSet::builtin().unwrap());
    let demoting = ["shell-true-by-design", "vague-claim", "vendor-marketing"];
    let mut seen = 0;
    for (label, name, raw) in fixture_set("unseen") {
        seen += 1;
        let v = c.classify(&parse_message(&raw));
        let reasons = v.reasons.join("\n");
        match label {
            Label::Spam => {
                assert_eq!(v.class, Class::Spam, "{name}: {v:?}");
                assert!(!reasons.contains("kept out of spam"), "{name}: {reasons}");
            }
            _ => {
                assert_eq!(v.class, Class::Valid, "{name}: {reasons}");
                assert_ne!(v.outcome, secdesk::core::model::Outcome::Spam, "{name}");
                for rule in demoting {
                    assert!(
                        !reasons.contains(&format!("rule {rule} ")),
                        "{name}: {reasons}"
                    );
                }
            }
        }
    }
    assert_eq!(seen, 5, "the fixtures are incomplete");
}
