//! Verdicts of held posts kept between listings. Mailman never changes a held post, and a
//! moderator lists the same queue again and again (the desk refreshes it), so a listing
//! classifies only the posts this classifier has not judged before.
//!
//! A verdict is kept under two SHA-256 digests: the post's raw bytes, and [`verdict_key`]:
//! [`Classifier::cache_key`] (the stored model row by row, the rules' text, the parameters,
//! the version and the caller's build identity) with the authserv-ids the desk trusts
//! (`[sync] authserv_id`, which decides whose `Authentication-Results` are weighed). Any
//! training, rule edit, new build or change of `authserv_id` changes the key, so a kept
//! verdict is always the one classifying again would give; rows under another key are
//! dropped at the next write. Each row keeps the verdict with the sender authentication it
//! weighed ([`Judged`]), which the listing shows. The table is derived data: losing it
//! costs only time, so failing to read or write it never fails a listing.
//!
//! Its rows are also what the last listings on this desk showed: [`was_listed`] tells
//! `secdesk held discard ID` whether the post now under a request id is one a listing showed
//! (Mailman reuses a freed id for the next post). Losing the table makes the command ask for
//! a listing first, never act on an unseen post.

use std::collections::HashSet;

use chrono::Utc;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::gaps::ListingGap;
use super::{classify, settle, ClassifiedPost, HeldPost, ModerationError};
use crate::core::classify::{Classifier, Judged};
use crate::core::store::Store;

/// A listing's posts with their verdicts, and how the cache served it.
#[derive(Debug)]
pub struct Classified {
    pub posts: Vec<ClassifiedPost>,
    /// Verdicts taken from the cache instead of classifying again.
    pub reused: usize,
    /// Why the cache could not be read or written; the verdicts are right all the same.
    pub cache_error: Option<ModerationError>,
    /// What the listing could not show (filled by the caller that fetched the queue).
    pub gaps: Vec<ListingGap>,
}

/// Which posts a listing covers, for dropping the verdicts of posts no longer held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every configured list: a kept verdict of a post not among them is dropped.
    Whole,
    /// Some lists only: verdicts of other lists' posts are kept.
    Part,
}

/// What decides a kept verdict: the classifier ([`Classifier::cache_key`], with `build`
/// naming the running code) and `trusted`, the authserv-ids whose `Authentication-Results`
/// are weighed (`[sync] authserv_id`; none: every verdict unverified). `None` when the
/// classifier has no key.
pub fn verdict_key(classifier: &Classifier, trusted: &[String], build: &[u8]) -> Option<[u8; 32]> {
    let classifier = classifier.cache_key(build)?;
    let mut ids: Vec<String> = trusted
        .iter()
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    ids.sort();
    ids.dedup();
    let mut digest = Sha256::new();
    digest.update(classifier);
    // Length-prefixed, so that no two lists of ids hash alike.
    digest.update((ids.len() as u64).to_be_bytes());
    for id in &ids {
        digest.update((id.len() as u64).to_be_bytes());
        digest.update(id.as_bytes());
    }
    Some(digest.finalize().into())
}

/// Classifies `posts` as [`classify`] does (`trusted` is `[sync] authserv_id`), reusing the
/// verdicts kept under the same [`verdict_key`] and keeping the new ones. `build` names the
/// running code (see `Classifier::cache_key`).
pub fn classify_cached(
    store: &mut Store,
    classifier: &Classifier,
    trusted: &[String],
    build: &[u8],
    posts: Vec<HeldPost>,
    coverage: Coverage,
) -> Classified {
    let Some(key) = verdict_key(classifier, trusted, build) else {
        return Classified {
            posts: classify(classifier, trusted, posts),
            reused: 0,
            cache_error: None,
            gaps: Vec::new(),
        };
    };
    let digests: Vec<[u8; 32]> = posts
        .iter()
        .map(|p| Sha256::digest(&p.raw).into())
        .collect();
    let mut cache_error = None;
    let mut verdicts = lookup(store, &key, &digests).unwrap_or_else(|e| {
        cache_error = Some(e);
        vec![None; digests.len()]
    });
    let missing: Vec<usize> = (0..posts.len())
        .filter(|&i| verdicts[i].is_none())
        .collect();
    let raws: Vec<&[u8]> = missing.iter().map(|&i| posts[i].raw.as_slice()).collect();
    let fresh = classifier.judge_received_many(&raws, trusted);
    let reused = posts.len() - missing.len();
    for (&i, v) in missing.iter().zip(&fresh) {
        verdicts[i] = Some(v.clone());
    }
    if cache_error.is_none() {
        let new: Vec<(&[u8; 32], &Judged)> =
            missing.iter().map(|&i| &digests[i]).zip(&fresh).collect();
        let held: Option<HashSet<&[u8; 32]>> =
            (coverage == Coverage::Whole).then(|| digests.iter().collect());
        cache_error = keep(store, &key, &new, held.as_ref()).err();
    }
    let doubts = super::doubt::doubts(&posts);
    let posts = posts
        .into_iter()
        .zip(verdicts)
        .zip(doubts)
        .map(|((post, judged), doubt)| {
            // Every index is filled above: from the cache or freshly classified.
            let judged = judged.unwrap_or_else(|| unreachable!("each post has a verdict"));
            settle(post, judged, doubt)
        })
        .collect();
    Classified {
        posts,
        reused,
        cache_error,
        gaps: Vec::new(),
    }
}

/// Whether a listing on this desk showed a post with exactly these bytes (and has not dropped
/// it since as no longer held), under any classifier key.
pub fn was_listed(store: &Store, raw: &[u8]) -> Result<bool, ModerationError> {
    let digest: [u8; 32] = Sha256::digest(raw).into();
    Ok(store.conn().query_row(
        "SELECT EXISTS (SELECT 1 FROM held_verdicts WHERE message = ?1)",
        [&digest[..]],
        |r| r.get(0),
    )?)
}

/// The kept verdict of each digest under `key`, if any. A row that no longer reads as a
/// verdict with its sender authentication counts as missing.
fn lookup(
    store: &Store,
    key: &[u8; 32],
    digests: &[[u8; 32]],
) -> Result<Vec<Option<Judged>>, ModerationError> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT verdict FROM held_verdicts WHERE message = ?1 AND classifier = ?2",
    )?;
    let mut found = Vec::with_capacity(digests.len());
    for d in digests {
        let text: Option<String> = stmt
            .query_row(params![&d[..], &key[..]], |r| r.get(0))
            .optional()?;
        found.push(text.and_then(|t| serde_json::from_str(&t).ok()));
    }
    Ok(found)
}

/// Keeps `new` under `key`, in one transaction that also drops the rows of other keys and,
/// when `held` is the whole queue, the rows of posts no longer held. Writes nothing when
/// there is nothing to change.
fn keep(
    store: &mut Store,
    key: &[u8; 32],
    new: &[(&[u8; 32], &Judged)],
    held: Option<&HashSet<&[u8; 32]>>,
) -> Result<(), ModerationError> {
    let stale: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut stmt = store
            .conn()
            .prepare_cached("SELECT message, classifier FROM held_verdicts")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut stale = Vec::new();
        for row in rows {
            let (message, classifier) = row?;
            let gone = held.is_some_and(|h| {
                <&[u8; 32]>::try_from(message.as_slice()).map_or(true, |m| !h.contains(m))
            });
            if classifier != key[..] || gone {
                stale.push((message, classifier));
            }
        }
        stale
    };
    if new.is_empty() && stale.is_empty() {
        return Ok(());
    }
    let now = Utc::now().timestamp();
    let tx = store.write_transaction()?;
    {
        let mut drop =
            tx.prepare_cached("DELETE FROM held_verdicts WHERE message = ?1 AND classifier = ?2")?;
        for (message, classifier) in &stale {
            drop.execute(params![message, classifier])?;
        }
        let mut put = tx.prepare_cached(
            "INSERT OR REPLACE INTO held_verdicts (message, classifier, verdict, stored_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (digest, verdict) in new {
            let text = serde_json::to_string(verdict)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            put.execute(params![&digest[..], &key[..], text, now])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::classify::rules::BUILTIN_RULES;
    use crate::core::classify::storage::load_model_fingerprinted;
    use crate::core::classify::{load_classifier, RuleSet};
    use crate::core::moderation::{record, Action, Decision};

    const BUILD: &[u8] = b"test build";
    /// No `[sync] authserv_id`.
    const UNSET: &[String] = &[];

    fn post(id: u64, subject: &str, body: &str) -> HeldPost {
        HeldPost {
            list: "security@example.org".into(),
            request_id: id,
            message_id: Some(format!("held{id}@example.net")),
            sender: "a@example.net".into(),
            subject: subject.into(),
            reason: "The message is not from a list member".into(),
            hold_date: None,
            raw: format!(
                "From: a@example.net\nSubject: {subject}\nMessage-ID: <held{id}@example.net>\n\n{body}\n"
            )
            .into_bytes(),
        }
    }

    fn queue() -> Vec<HeldPost> {
        vec![
            post(1, "WIN money now", "claim your prize, send bitcoin to our wallet"),
            post(
                2,
                "Heap overflow in tarfile on Python 3.12.1",
                "Steps to reproduce:\n  python3 -c 'import tarfile; tarfile.open(\"x.tar\")'\nTraceback (most recent call last):",
            ),
            post(3, "Bounty?", "I found a bug in your website, how much will you pay me?"),
        ]
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        (dir, store)
    }

    fn kept(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut stmt = store
            .conn()
            .prepare("SELECT message, classifier FROM held_verdicts ORDER BY message")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_second_listing_reuses_every_verdict_and_they_are_the_ones_classifying_gives() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        let fresh = classify(&c, UNSET, queue());
        let first = classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        assert_eq!((first.reused, first.cache_error.is_none()), (0, true));
        assert_eq!(first.posts, fresh);
        assert_eq!(kept(&store).len(), 3);

        let again = classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        assert_eq!(again.reused, 3);
        assert!(again.cache_error.is_none());
        assert_eq!(again.posts, fresh);
    }

    #[test]
    fn after_training_no_verdict_of_the_old_model_is_reused() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        let old_key = c.cache_key(BUILD).unwrap();

        // A moderator discards post 3 as spam: the model learns from it.
        let q = queue();
        let discard = Decision {
            post: &q[2],
            action: Action::Discard,
            moderator: "ada@example.org",
            at: Utc::now(),
            comment: None,
            verdict: None,
            auth: None,
            train: true,
        };
        record(&mut store, &discard).unwrap();
        let trained = load_classifier(&mut store, None).unwrap();
        assert_ne!(trained.cache_key(BUILD).unwrap(), old_key);
        let new_key = verdict_key(&trained, UNSET, BUILD).unwrap();

        let listed = classify_cached(&mut store, &trained, UNSET, BUILD, queue(), Coverage::Whole);
        assert_eq!(listed.reused, 0);
        assert_eq!(listed.posts, classify(&trained, UNSET, queue()));
        assert!(kept(&store).iter().all(|(_, k)| k[..] == new_key[..]));
        assert_eq!(kept(&store).len(), 3);
    }

    /// `[sync] authserv_id` decides whose pass is weighed: naming a server (or another one)
    /// judges every post again; the same ids in another order or case do not.
    #[test]
    fn a_changed_authserv_id_reuses_no_verdict() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let named = ids(&["mx1.example.org", "mx2.example.org"]);
        let keys = [
            verdict_key(&c, UNSET, BUILD),
            verdict_key(&c, &named, BUILD),
            verdict_key(&c, &ids(&["mx1.example.org"]), BUILD),
        ];
        assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        assert_eq!(
            verdict_key(&c, &ids(&["MX2.example.org", "mx1.example.org"]), BUILD),
            keys[1]
        );
        classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        let again = classify_cached(&mut store, &c, &named, BUILD, queue(), Coverage::Whole);
        assert_eq!(again.reused, 0);
        assert_eq!(again.posts, classify(&c, &named, queue()));
    }

    #[test]
    fn a_whole_listing_forgets_posts_no_longer_held_and_a_partial_one_keeps_them() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        let fewer: Vec<HeldPost> = queue().into_iter().take(1).collect();

        let part = classify_cached(&mut store, &c, UNSET, BUILD, fewer.clone(), Coverage::Part);
        assert_eq!(part.reused, 1);
        assert_eq!(kept(&store).len(), 3);

        let whole = classify_cached(&mut store, &c, UNSET, BUILD, fewer, Coverage::Whole);
        assert_eq!(whole.reused, 1);
        let left = kept(&store);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].0, Sha256::digest(&queue()[0].raw).to_vec());
    }

    #[test]
    fn a_damaged_row_is_classified_again_and_an_unusable_cache_fails_nothing() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        let fresh = classify(&c, UNSET, queue());
        classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        store
            .conn()
            .execute(
                "UPDATE held_verdicts SET verdict = '{not a verdict' WHERE message = ?1",
                [Sha256::digest(&queue()[1].raw).to_vec()],
            )
            .unwrap();
        let listed = classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        assert_eq!(listed.reused, 2);
        assert_eq!(listed.posts, fresh);

        store
            .conn()
            .execute("DROP TABLE held_verdicts", [])
            .unwrap();
        let listed = classify_cached(&mut store, &c, UNSET, BUILD, queue(), Coverage::Whole);
        let error = listed.cache_error.expect("the missing table is reported");
        assert!(error.to_string().contains("held_verdicts"), "{error}");
        assert_eq!(listed.posts, fresh);
    }

    #[test]
    fn only_a_classifier_as_stored_has_a_key_and_it_names_rules_and_build() {
        let (_dir, mut store) = store();
        let c = load_classifier(&mut store, None).unwrap();
        let key = c.cache_key(BUILD).unwrap();
        assert_eq!(
            load_classifier(&mut store, None).unwrap().cache_key(BUILD),
            Some(key)
        );
        assert_ne!(c.cache_key(b"another build"), Some(key));

        // The same stored model with edited rules: another key.
        let (model, fingerprint) = load_model_fingerprinted(&mut store).unwrap();
        let builtin = RuleSet::parse(BUILTIN_RULES, "rules.toml").unwrap();
        let same = Classifier::new(model.clone(), builtin).with_model_fingerprint(fingerprint);
        assert_eq!(same.cache_key(BUILD), Some(key));
        let edited = format!("{BUILTIN_RULES}\n# a moderator's comment\n");
        let edited = RuleSet::parse(&edited, "rules.toml").unwrap();
        let other = Classifier::new(model.clone(), edited).with_model_fingerprint(fingerprint);
        assert_ne!(other.cache_key(BUILD), Some(key));
        assert_eq!(
            Classifier::new(model, RuleSet::builtin().unwrap()).cache_key(BUILD),
            None
        );

        let mut changed = c.clone();
        changed.model_mut().messages[0] += 1;
        assert_eq!(changed.cache_key(BUILD), None);
        let unused = classify_cached(&mut store, &changed, UNSET, BUILD, queue(), Coverage::Whole);
        assert_eq!(unused.reused, 0);
        assert!(kept(&store).is_empty());
    }
}
