//! Reading gpg's machine interface: the `[GNUPG:]` lines it writes to `--status-fd`
//! (GnuPG's doc/DETAILS, "Format of the --status-fd output"). Only these lines are trusted;
//! gpg's human messages are never parsed.

use serde::{Deserialize, Serialize};

/// What a signature check found, as `show --json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Signature {
    Good,
    Bad,
    UnknownKey,
    #[default]
    None,
}

impl Signature {
    pub fn as_str(self) -> &'static str {
        match self {
            Signature::Good => "good",
            Signature::Bad => "bad",
            Signature::UnknownKey => "unknown-key",
            Signature::None => "none",
        }
    }
}

/// What one gpg run reported about signatures and decryption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusReport {
    pub signature: Signature,
    /// The primary key fingerprint of a good signature (VALIDSIG), or the issuer
    /// fingerprint of a signature whose key is missing (ERRSIG), upper-case hex.
    pub signer: Option<String>,
    /// DECRYPTION_OKAY was seen.
    pub decrypted: bool,
    /// Why decryption failed, in words, when it did.
    pub decrypt_failure: Option<String>,
    /// Why a signature is `bad` though gpg did not say BADSIG: an expired or revoked key, or
    /// a signature gpg could not check.
    pub key_problem: Option<String>,
}

/// Reads the `[GNUPG:]` lines of `status`. When a run reports several signatures, a bad one
/// wins over an unknown key, which wins over a good one: one bad signature is enough to warn.
pub fn read_status(status: &str) -> StatusReport {
    let mut r = StatusReport::default();
    let (mut good, mut bad, mut unknown) = (false, false, false);
    let mut good_fpr = None;
    let mut unknown_fpr = None;
    let mut no_seckey = false;
    let mut decrypt_failed = false;
    let mut missing_passphrase = false;
    for line in status.lines() {
        let Some(rest) = line.strip_prefix("[GNUPG:] ") else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        match f[0] {
            "GOODSIG" => good = true,
            "BADSIG" => bad = true,
            "EXPSIG" | "EXPKEYSIG" => {
                bad = true;
                r.key_problem = Some("the signature or its key has expired".into());
            }
            "REVKEYSIG" => {
                bad = true;
                r.key_problem = Some("the signing key is revoked".into());
            }
            "VALIDSIG" => {
                // VALIDSIG <fpr> <date> <ts> <expire> <ver> <res> <pk> <hash> <class> <primary-fpr>
                good_fpr = f.get(10).or(f.get(1)).and_then(|s| fingerprint(s));
            }
            "ERRSIG" => {
                // ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> <fpr>; rc 9 = no key.
                if f.get(6) == Some(&"9") {
                    unknown = true;
                    unknown_fpr = f.get(7).and_then(|s| fingerprint(s));
                } else {
                    // Not provably forged, but not verifiable either: it is not trusted.
                    bad = true;
                    r.key_problem = Some(format!(
                        "gpg could not check the signature (error code {}, e.g. an old or conflicting digest algorithm), so it is treated as bad",
                        f.get(6).unwrap_or(&"?")
                    ));
                }
            }
            "NO_PUBKEY" => unknown = true,
            "DECRYPTION_OKAY" => r.decrypted = true,
            "DECRYPTION_FAILED" => decrypt_failed = true,
            "NO_SECKEY" => no_seckey = true,
            "MISSING_PASSPHRASE" | "INV_PASSPHRASE" => missing_passphrase = true,
            _ => {}
        }
    }
    (r.signature, r.signer) = if bad {
        (Signature::Bad, None)
    } else if unknown {
        (Signature::UnknownKey, unknown_fpr)
    } else if good && good_fpr.is_some() {
        (Signature::Good, good_fpr)
    } else {
        (Signature::None, None)
    };
    if !r.decrypted && (decrypt_failed || no_seckey || missing_passphrase) {
        r.decrypt_failure = Some(
            if missing_passphrase {
                "the team key needs a passphrase and no gpg-agent has it"
            } else if no_seckey {
                "it is not encrypted to a secret key in the keyring"
            } else {
                "gpg could not decrypt it (damaged or tampered ciphertext)"
            }
            .into(),
        );
    }
    r
}

/// A fingerprint as gpg prints one: 40 (v4) or 64 (v5) hex digits.
fn fingerprint(s: &str) -> Option<String> {
    (matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FPR: &str = "0123456789ABCDEF0123456789ABCDEF01234567";

    #[test]
    fn good_signature_names_the_primary_key() {
        let s = format!(
            "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 89ABCDEF01234567 Rep <r@x>\n\
             [GNUPG:] VALIDSIG AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2026-12-01 1 0 4 0 22 10 01 {FPR}\n"
        );
        let r = read_status(&s);
        assert_eq!(r.signature, Signature::Good);
        assert_eq!(r.signer.as_deref(), Some(FPR));
    }

    #[test]
    fn bad_wins_and_unknown_key_is_told_apart() {
        let r = read_status("[GNUPG:] GOODSIG 1 a\n[GNUPG:] BADSIG 2 b\n");
        assert_eq!((r.signature, r.signer), (Signature::Bad, None));
        let r = read_status(&format!(
            "[GNUPG:] ERRSIG 89ABCDEF01234567 22 10 01 1764547200 9 {FPR}\n[GNUPG:] NO_PUBKEY 89ABCDEF01234567\n"
        ));
        assert_eq!(r.signature, Signature::UnknownKey);
        assert_eq!(r.signer.as_deref(), Some(FPR));
    }

    #[test]
    fn human_text_is_ignored_and_failures_are_named() {
        let r = read_status(
            "gpg: [GNUPG:] GOODSIG forged\n[GNUPG:] NO_SECKEY 1234\n[GNUPG:] DECRYPTION_FAILED\n",
        );
        assert_eq!(r.signature, Signature::None);
        assert!(r.decrypt_failure.unwrap().contains("secret key"));
        let r = read_status("[GNUPG:] ERRSIG A1DB5F2CD9B006F7 1 1 01 1030635673 1 -\n");
        assert_eq!(r.signature, Signature::Bad);
        assert!(r.key_problem.unwrap().contains("error code 1"));
        let r = read_status("[GNUPG:] EXPKEYSIG 1 a\n");
        assert_eq!(r.signature, Signature::Bad);
        assert!(r.key_problem.is_some());
    }
}
