//! Campaigns count once: a message that is a near-copy of one already learned under the same
//! label teaches the model nothing more.
//!
//! Without this, a flood of near-copies swept in one go (a screen of spam marked with `X`
//! then `s`) is learned copy by copy, so every word they share gains N times the weight of
//! one message. A poisoner who stuffs a spam run with the words of real reports ("heap
//! overflow", "reproducer", "traceback", module names) then pushes the next real report
//! toward spam, and a run learned as valid does the same the other way.
//!
//! Near-copy: the two messages' token sets (each token once, as [`super::tokenize`] gives
//! them) have a Jaccard similarity of at least [`NEAR`]. Candidates are found by MinHash
//! with banding (locality-sensitive hashing): [`SIGNATURE`] hashes in [`BANDS`] bands, so
//! each trained message is kept under [`BANDS`] integers, whatever its length; a candidate
//! is then checked with the exact Jaccard of the stored tokens. A copy that varies a few
//! words (a random name, a number, a tracking token) stays a near-copy: two messages of 100
//! tokens that differ in 5 each are at 0.90.
//!
//! The store keeps a near-copy as trained (its label and exact tokens, in
//! `classify_trained`) without counting its tokens, and names the counted message it copies
//! (`classify_copies`); see [`super::storage::train_batch`]. The replay uses [`CopyIndex`],
//! the same rule in memory.

use std::collections::{HashMap, HashSet};

use super::model::Label;

/// Jaccard similarity of two token sets from which the later message is a near-copy.
pub const NEAR: f64 = 0.7;
/// MinHash values per message.
pub const SIGNATURE: usize = 32;
/// Bands of the signature; a message is a candidate when one band matches exactly. With 4
/// rows a band, a pair at Jaccard 0.7 meets in at least one band with probability 0.89, at
/// 0.8 with 0.985; a pair at 0.1 only once in about 1,250 pairs.
pub const BANDS: usize = 8;
const ROWS: usize = SIGNATURE / BANDS;
/// How many messages sharing a band one new message is compared with, at most (the store
/// and the replay alike): any copy of a campaign names its counted message.
pub const MAX_CANDIDATES: usize = 64;

/// FNV-1a, then the splitmix64 finaliser: stable across builds and platforms (the band keys
/// are stored), unlike the standard library's hasher.
fn token_hash(token: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The band keys of a message's tokens: [`BANDS`] integers, each the hash of `ROWS`
/// MinHash values. A message with no tokens has none (it is nobody's near-copy).
pub fn bands(tokens: &[String]) -> Vec<i64> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut mins = [u64::MAX; SIGNATURE];
    for t in tokens {
        let h = token_hash(t);
        for (i, m) in mins.iter_mut().enumerate() {
            let v = mix(h ^ (i as u64 + 1).wrapping_mul(0xd6e8_feb8_6659_fd93));
            if v < *m {
                *m = v;
            }
        }
    }
    mins.chunks(ROWS)
        .enumerate()
        .map(|(b, rows)| {
            let key = rows.iter().fold(mix(b as u64), |k, &v| mix(k ^ v));
            key as i64
        })
        .collect()
}

/// The Jaccard similarity of two messages' token sets (0 when both are empty).
pub fn jaccard<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> f64 {
    jaccard_with(&token_set(a), b)
}

/// A message's tokens as a set, built once to compare it with many ([`jaccard_with`]).
pub fn token_set<A: AsRef<str>>(tokens: &[A]) -> HashSet<&str> {
    tokens.iter().map(AsRef::as_ref).collect()
}

/// [`jaccard`] of a set built once (the new message, compared with up to
/// [`MAX_CANDIDATES`] learned ones) and another message's tokens.
pub fn jaccard_with<B: AsRef<str>>(a: &HashSet<&str>, b: &[B]) -> f64 {
    let b = token_set(b);
    let shared = b.iter().filter(|t| a.contains(*t)).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        return 0.0;
    }
    shared as f64 / union as f64
}

/// The near-copy rule in memory, for the replay: which learned messages a new one copies.
#[derive(Default)]
pub struct CopyIndex {
    by_band: HashMap<i64, Vec<usize>>,
    learned: Vec<(Label, Vec<String>)>,
}

impl CopyIndex {
    /// Records a message learned under `label`. Returns false when it is a near-copy of one
    /// recorded before under the same label: the caller then does not count it.
    pub fn learn(&mut self, label: Label, tokens: &[String]) -> bool {
        let keys = bands(tokens);
        let mine = token_set(tokens);
        let mut seen = HashSet::new();
        let copy = keys
            .iter()
            .filter_map(|k| self.by_band.get(k))
            .flatten()
            .filter(|&&i| seen.insert(i))
            // As in the store: a bounded number of candidates (a flood of copies must not
            // make learning quadratic).
            .take(MAX_CANDIDATES)
            .any(|&i| {
                self.learned[i].0 == label && jaccard_with(&mine, &self.learned[i].1) >= NEAR
            });
        let index = self.learned.len();
        self.learned.push((label, tokens.to_vec()));
        for k in keys {
            self.by_band.entry(k).or_default().push(index);
        }
        !copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn message(n: usize, varied: &[&str]) -> Vec<String> {
        let mut t: Vec<String> = (0..n).map(|i| format!("word{i}")).collect();
        t.extend(varied.iter().map(|v| v.to_string()));
        t
    }

    #[test]
    fn bands_are_stable_and_near_copies_share_one() {
        // Stored keys must not change between builds: one is pinned (computed apart from
        // this code, from the same definition).
        assert_eq!(bands(&words("a b c"))[0], 8_472_587_501_911_234_335);
        assert_eq!(bands(&words("a b c")), bands(&words("c b a")));
        assert_eq!(bands(&[]).len(), 0);
        assert_eq!(bands(&words("x")).len(), BANDS);
        let a = message(100, &["name-anna", "n-1234", "tok-aaaa"]);
        let b = message(100, &["name-boris", "n-9876", "tok-bbbb"]);
        assert!(jaccard(&a, &b) > 0.9);
        let (ka, kb) = (bands(&a), bands(&b));
        assert!(ka.iter().any(|k| kb.contains(k)), "{ka:?} {kb:?}");
        // Unrelated messages share no band.
        let c: Vec<String> = (0..100).map(|i| format!("other{i}")).collect();
        assert!(!bands(&c).iter().any(|k| ka.contains(k)));
    }

    #[test]
    fn the_index_counts_a_campaign_once_per_label() {
        let mut index = CopyIndex::default();
        let counted = (0..50)
            .filter(|i| {
                let name = format!("name{i}");
                let token = format!("track{i}");
                index.learn(Label::Spam, &message(60, &[&name, &token]))
            })
            .count();
        assert_eq!(counted, 1);
        // The same words under another label are learned, and so is a different message.
        assert!(index.learn(Label::Valid, &message(60, &["x"])));
        assert!(index.learn(Label::Spam, &words("entirely different words here")));
    }
}
